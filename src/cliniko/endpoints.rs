//! Where each resource lives in the Cliniko API and which filters its list routes need.
//!
//! Most resources have one list route. Practitioners have two (`/practitioners` lists
//! only active ones, `/practitioners/inactive` the rest): both feed one table, each with
//! its own cursor, and a full sync reconciles the table only after every route's walk
//! completed.

use crate::resource::Resource;

/// One list route of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub resource: Resource,
    /// Path below the base URL, e.g. `/individual_appointments`.
    pub path: &'static str,
    /// The key of the record array in the response envelope.
    pub list_key: &'static str,
    /// Filters that opt records hidden by default (archived, cancelled) back in. Only
    /// fields the route can filter on (docs/cliniko-api.md, "Filtering"): anything else is
    /// a 400.
    pub include_hidden: &'static [&'static str],
    /// The DateTime field an appointment window filters on, if the route has one.
    pub window_field: Option<&'static str>,
    /// This route's key in the sync state (its cursor); one of
    /// [`Resource::cursor_keys`].
    pub cursor_key: &'static str,
    /// Whether every record of this route is active (`/practitioners`) or inactive
    /// (`/practitioners/inactive`): fills the `active` column when a record lacks the
    /// field (the legacy examples do).
    pub active: Option<bool>,
}

const fn route(
    resource: Resource,
    path: &'static str,
    list_key: &'static str,
    include_hidden: &'static [&'static str],
    cursor_key: &'static str,
) -> Endpoint {
    Endpoint {
        resource,
        path,
        list_key,
        include_hidden,
        window_field: None,
        cursor_key,
        active: None,
    }
}

const ARCHIVED: &[&str] = &["archived_at"];
const ARCHIVED_CANCELLED: &[&str] = &["archived_at", "cancelled_at"];

const PATIENTS: [Endpoint; 1] = [route(
    Resource::Patients,
    "/patients",
    "patients",
    ARCHIVED,
    "patients",
)];
const APPOINTMENTS: [Endpoint; 1] = [Endpoint {
    window_field: Some("starts_at"),
    ..route(
        Resource::Appointments,
        "/individual_appointments",
        "individual_appointments",
        ARCHIVED_CANCELLED,
        "appointments",
    )
}];
const APPOINTMENT_TYPES: [Endpoint; 1] = [route(
    Resource::AppointmentTypes,
    "/appointment_types",
    "appointment_types",
    ARCHIVED,
    "appointment_types",
)];
// Practitioners have no archived_at filter: inactive ones have their own route.
const PRACTITIONERS: [Endpoint; 2] = [
    Endpoint {
        active: Some(true),
        ..route(
            Resource::Practitioners,
            "/practitioners",
            "practitioners",
            &[],
            "practitioners",
        )
    },
    Endpoint {
        active: Some(false),
        ..route(
            Resource::Practitioners,
            "/practitioners/inactive",
            "practitioners",
            &[],
            "practitioners_inactive",
        )
    },
];
const BUSINESSES: [Endpoint; 1] = [route(
    Resource::Businesses,
    "/businesses",
    "businesses",
    ARCHIVED,
    "businesses",
)];
// Group appointments can be archived but not cancelled (no cancelled_at filter);
// their attendees are cancelled one by one.
const GROUP_APPOINTMENTS: [Endpoint; 1] = [route(
    Resource::GroupAppointments,
    "/group_appointments",
    "group_appointments",
    ARCHIVED,
    "group_appointments",
)];
const ATTENDEES: [Endpoint; 1] = [route(
    Resource::Attendees,
    "/attendees",
    "attendees",
    ARCHIVED_CANCELLED,
    "attendees",
)];
const INVOICES: [Endpoint; 1] = [route(
    Resource::Invoices,
    "/invoices",
    "invoices",
    ARCHIVED,
    "invoices",
)];

/// Every list route of `resource`, in the order a sync walks them.
pub fn routes(resource: Resource) -> &'static [Endpoint] {
    match resource {
        Resource::Patients => &PATIENTS,
        Resource::Appointments => &APPOINTMENTS,
        Resource::AppointmentTypes => &APPOINTMENT_TYPES,
        Resource::Practitioners => &PRACTITIONERS,
        Resource::Businesses => &BUSINESSES,
        Resource::GroupAppointments => &GROUP_APPOINTMENTS,
        Resource::Attendees => &ATTENDEES,
        Resource::Invoices => &INVOICES,
    }
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
        // Only these routes can filter on cancelled_at (docs/cliniko-api.md, "Filtering").
        for r in Resource::ALL {
            for e in routes(r) {
                let cancelled = e.include_hidden.contains(&"cancelled_at");
                assert_eq!(
                    cancelled,
                    matches!(r, Resource::Appointments | Resource::Attendees),
                    "{}",
                    e.path
                );
                let archived = e.include_hidden.contains(&"archived_at");
                assert_eq!(archived, r != Resource::Practitioners, "{}", e.path);
            }
        }
    }
}
