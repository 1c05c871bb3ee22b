//! The Cliniko resources routiq-sync knows how to copy, shared by config, client and store.

mod fields;

use std::fmt;
use std::str::FromStr;

/// One kind of record synced from Cliniko into its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    Patients,
    Appointments,
    AppointmentTypes,
    Practitioners,
    Businesses,
    GroupAppointments,
    Attendees,
    Invoices,
}

impl Resource {
    /// Every resource, in the order a sync walks them.
    pub const ALL: [Resource; 8] = [
        Resource::Patients,
        Resource::Appointments,
        Resource::AppointmentTypes,
        Resource::Practitioners,
        Resource::Businesses,
        Resource::GroupAppointments,
        Resource::Attendees,
        Resource::Invoices,
    ];

    /// Resources synced when an org's config does not list any: the records plus the
    /// reference data appointments link to (a handful of requests). Group appointments,
    /// attendees and invoices are opt-in.
    pub const DEFAULT: [Resource; 5] = [
        Resource::Patients,
        Resource::Appointments,
        Resource::AppointmentTypes,
        Resource::Practitioners,
        Resource::Businesses,
    ];

    /// The name used in config files, on the command line, in the database and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Resource::Patients => "patients",
            Resource::Appointments => "appointments",
            Resource::AppointmentTypes => "appointment_types",
            Resource::Practitioners => "practitioners",
            Resource::Businesses => "businesses",
            Resource::GroupAppointments => "group_appointments",
            Resource::Attendees => "attendees",
            Resource::Invoices => "invoices",
        }
    }

    /// The keys of this resource's rows in the sync state, one per API route walked for
    /// it (each route has its own cursor). The first is always [`Resource::name`].
    pub fn cursor_keys(self) -> &'static [&'static str] {
        match self {
            Resource::Practitioners => &["practitioners", "practitioners_inactive"],
            Resource::Patients => &["patients"],
            Resource::Appointments => &["appointments"],
            Resource::AppointmentTypes => &["appointment_types"],
            Resource::Businesses => &["businesses"],
            Resource::GroupAppointments => &["group_appointments"],
            Resource::Attendees => &["attendees"],
            Resource::Invoices => &["invoices"],
        }
    }

    /// Whether this is reference data (rarely changing, small): polled on its own
    /// cadence (`reference_every`) instead of on every sync.
    pub fn is_reference(self) -> bool {
        matches!(
            self,
            Resource::AppointmentTypes | Resource::Practitioners | Resource::Businesses
        )
    }

    /// The reference resource a column of this resource's table points at, if any
    /// (`practitioner_id` -> practitioners).
    pub fn referenced_by_column(column: &str) -> Option<Resource> {
        match column {
            "practitioner_id" => Some(Resource::Practitioners),
            "appointment_type_id" => Some(Resource::AppointmentTypes),
            "business_id" => Some(Resource::Businesses),
            _ => None,
        }
    }

    /// Comma-separated list of valid names, for error messages.
    pub fn valid_names() -> String {
        Resource::ALL.map(Resource::name).join(", ")
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A resource name that routiq-sync does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown resource `{0}` (expected one of: {valid})", valid = Resource::valid_names())]
pub struct UnknownResource(pub String);

impl FromStr for Resource {
    type Err = UnknownResource;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Resource::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| UnknownResource(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Resource::ALL {
            assert_eq!(r.name().parse::<Resource>(), Ok(r));
        }
        assert!("visits".parse::<Resource>().is_err());
    }

    #[test]
    fn defaults_are_a_subset_in_walk_order_and_cursor_keys_are_unique() {
        let mut pos = Resource::DEFAULT
            .iter()
            .map(|d| Resource::ALL.iter().position(|r| r == d));
        assert!(pos.clone().all(|p| p.is_some()));
        assert!(pos.clone().zip(pos.clone().skip(1)).all(|(a, b)| a < b));
        assert!(pos.next().is_some());
        let mut keys: Vec<&str> = Resource::ALL
            .iter()
            .flat_map(|r| r.cursor_keys().iter().copied())
            .collect();
        for r in Resource::ALL {
            assert_eq!(r.cursor_keys()[0], r.name());
        }
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), n);
        // A secondary key must never parse as a resource (state rows would be confused).
        assert!("practitioners_inactive".parse::<Resource>().is_err());
    }
}
