//! Every route of the resource catalogue against the fake Cliniko's own route table:
//! two copies of what Cliniko's spec says each list route filters on, kept apart so
//! that a mistake in one shows here. The walk sends `updated_at` and `id` filters, the
//! hidden-row filters its route opts in (`archived_at:*`) and, for appointments, the
//! window; a route that hides a class of records must opt it in, or the sync would
//! never see those records.

use fake_cliniko::endpoints::{FieldType, Hidden, find};
use routiq_sync::resource::Resource;

#[test]
fn every_route_sends_only_filters_its_endpoint_has_and_opts_in_what_it_hides() {
    for resource in Resource::ALL {
        for route in resource.spec().routes {
            let ep = find(route.path).unwrap_or_else(|| panic!("the fake has no {}", route.path));
            assert_eq!(ep.list_key, route.list_key, "{}", route.path);
            for field in ["updated_at", "id"] {
                assert!(
                    ep.field_type(field).is_some(),
                    "{}: the walk filters on `{field}`",
                    route.path
                );
            }
            for field in route.include_hidden.iter().chain(&route.window_field) {
                assert_eq!(
                    ep.field_type(field),
                    Some(FieldType::DateTime),
                    "{}: `{field}`",
                    route.path
                );
            }
            for hidden in [Hidden::Archived, Hidden::Cancelled] {
                assert_eq!(
                    ep.hides(hidden),
                    route.include_hidden.contains(&hidden.field()),
                    "{}: records with `{}` set",
                    route.path,
                    hidden.field()
                );
            }
        }
    }
}
