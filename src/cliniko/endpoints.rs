//! Where each resource lives in the Cliniko API and which filters its list route needs.

use crate::resource::Resource;

/// A list route of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub resource: Resource,
    /// Path below the base URL, e.g. `/individual_appointments`.
    pub path: &'static str,
    /// The key of the record array in the response envelope.
    pub list_key: &'static str,
    /// Filters that opt records hidden by default (archived, cancelled) back in. Only
    /// fields the route can filter on: anything else is a 400 from Cliniko.
    pub include_hidden: &'static [&'static str],
    /// The DateTime field an appointment window filters on, if the route has one.
    pub window_field: Option<&'static str>,
}

/// The list route of `resource`.
pub fn endpoint(resource: Resource) -> Endpoint {
    match resource {
        Resource::Patients => Endpoint {
            resource,
            path: "/patients",
            list_key: "patients",
            include_hidden: &["archived_at"],
            window_field: None,
        },
        Resource::Appointments => Endpoint {
            resource,
            path: "/individual_appointments",
            list_key: "individual_appointments",
            include_hidden: &["archived_at", "cancelled_at"],
            window_field: Some("starts_at"),
        },
    }
}
