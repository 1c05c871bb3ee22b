//! Where each resource lives in the Cliniko API and which filters its list routes need.
//!
//! Most resources have one list route. Practitioners have two (`/practitioners` lists
//! only active ones, `/practitioners/inactive` the rest): both feed one table, each with
//! its own cursor, and a full sync reconciles the table only after every route's walk
//! completed.

use crate::resource::{Resource, Route};

/// One list route of the API, as the resource catalogue describes it.
pub type Endpoint = Route;

/// Every list route of `resource`, in the order a sync walks them.
pub fn routes(resource: Resource) -> &'static [Endpoint] {
    resource.spec().routes
}

/// The main list route of `resource` (its first route).
pub fn endpoint(resource: Resource) -> Endpoint {
    routes(resource)[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_resources_and_cursor_keys() {
        for r in Resource::ALL {
            let keys: Vec<&str> = routes(r).iter().map(|e| e.cursor_key).collect();
            assert_eq!(keys, r.cursor_keys(), "{r}");
            assert!(routes(r).iter().all(|e| e.resource == r));
        }
    }

    #[test]
    fn hidden_filters_follow_the_api_field_lists() {
        // What docs/cliniko-api.md ("Filtering") lists for these routes: only appointments
        // and attendees filter on cancelled_at, every one but the practitioners' on
        // archived_at. Every route of the catalogue is also checked against the fake
        // Cliniko's own table of filters (tests/catalogue_routes.rs).
        let documented = [
            (Resource::Patients, false, true),
            (Resource::Appointments, true, true),
            (Resource::AppointmentTypes, false, true),
            (Resource::Practitioners, false, false),
            (Resource::Businesses, false, true),
            (Resource::GroupAppointments, false, true),
            (Resource::Attendees, true, true),
            (Resource::Invoices, false, true),
        ];
        for (r, cancelled, archived) in documented {
            for e in routes(r) {
                assert_eq!(
                    e.include_hidden.contains(&"cancelled_at"),
                    cancelled,
                    "{}",
                    e.path
                );
                assert_eq!(
                    e.include_hidden.contains(&"archived_at"),
                    archived,
                    "{}",
                    e.path
                );
            }
        }
    }
}
