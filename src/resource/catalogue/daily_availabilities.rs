//! Daily availabilities: each practitioner's weekly hours at a business (opt-in
//! reference data). The route has no `archived_at` filter and the records no such field:
//! hours removed in Cliniko leave the list, and `verify` or the full walk marks them.

use super::super::spec::Kind::{Integer, Text};
use super::super::spec::{Column, Route, Spec};
use super::Resource;

const ROUTES: &[Route] = &[Route::list(
    Resource::DailyAvailabilities,
    "/daily_availabilities",
    "daily_availabilities",
)];

pub(super) const SPEC: Spec = Spec {
    resource: Resource::DailyAvailabilities,
    name: "daily_availabilities",
    reference: true,
    default: false,
    routes: ROUTES,
    columns: &[
        Column::link(
            "practitioner_id",
            "practitioner",
            Some(Resource::Practitioners),
        ),
        Column::link("business_id", "business", Some(Resource::Businesses)),
        Column::field("day_of_week", Integer),
        Column::field("time_zone_identifier", Text),
    ],
    api_fields: &[
        "availabilities[].ends_at",
        "availabilities[].starts_at",
        "business.links.self",
        "created_at",
        "day_of_week",
        "id",
        "links.self",
        "practitioner.links.self",
        "time_zone",
        "time_zone_identifier",
        "updated_at",
    ],
};
