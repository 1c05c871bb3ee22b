//! The Cliniko resources routiq-sync knows how to copy, shared by config, client and store.

mod catalogue;
mod spec;

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

pub use catalogue::{CATALOGUE, Resource};
pub use spec::{ARCHIVED, ARCHIVED_CANCELLED, Column, Kind, Route, Rule, Source, Spec};

/// How many resources the catalogue has.
const COUNT: usize = CATALOGUE.len();

impl Resource {
    /// Every resource, in the order a sync walks them.
    pub const ALL: [Resource; COUNT] = {
        let mut all = [Resource::Patients; COUNT];
        let mut i = 0;
        while i < COUNT {
            all[i] = CATALOGUE[i].resource;
            i += 1;
        }
        all
    };

    /// This resource's catalogue entry.
    pub fn spec(self) -> &'static Spec {
        // The catalogue lists the resources in the enum's order (tested).
        &CATALOGUE[self as usize]
    }

    /// Resources synced when an org's config does not list any: the records plus the
    /// reference data appointments link to (a handful of requests); the rest are opt-in.
    pub fn defaults() -> Vec<Resource> {
        Resource::ALL
            .into_iter()
            .filter(|r| r.spec().default)
            .collect()
    }

    /// The name used in config files, on the command line, in the database and in JSON.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The keys of this resource's rows in the sync state, one per API route walked for
    /// it (each route has its own cursor). The first is always [`Resource::name`].
    pub fn cursor_keys(self) -> &'static [&'static str] {
        static KEYS: OnceLock<Vec<Vec<&'static str>>> = OnceLock::new();
        let keys = KEYS.get_or_init(|| {
            CATALOGUE
                .iter()
                .map(|spec| spec.routes.iter().map(|r| r.cursor_key).collect())
                .collect()
        });
        &keys[self as usize]
    }

    /// Every leaf field path of this resource's records, as Cliniko's API documents them.
    pub fn api_fields(self) -> &'static [&'static str] {
        self.spec().api_fields
    }

    /// Whether this is reference data (rarely changing, small): polled on its own
    /// cadence (`reference_every`) instead of on every sync.
    pub fn is_reference(self) -> bool {
        self.spec().reference
    }

    /// The fields the sync itself needs (ids, timestamps, links to other records): a
    /// privacy policy may not remove them.
    pub fn required_fields(self) -> Vec<&'static str> {
        let mut fields = vec![
            "id",
            "created_at",
            "updated_at",
            "archived_at",
            "deleted_at",
        ];
        for column in self.spec().columns {
            match column.source {
                Source::Field(f) if column.kind == Kind::Timestamp => fields.push(f),
                Source::Field(_) => {}
                Source::Link(link, _) => {
                    fields.push(link);
                    fields.push(column.name);
                }
                Source::Rule(rule) => fields.extend(rule.required_fields()),
            }
        }
        fields
    }

    /// A digest of how this resource's typed columns are derived (their names, kinds,
    /// sources and [`Rule::VERSION`]): stored rows derived under another are re-derived.
    pub fn columns_fingerprint(self) -> String {
        let text = format!("{}:{:?}", Rule::VERSION, self.spec().columns);
        let digest = Sha256::digest(text.as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
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
    fn defaults_are_the_records_and_their_reference_data_and_cursor_keys_are_unique() {
        let names: Vec<&str> = Resource::defaults()
            .into_iter()
            .map(Resource::name)
            .collect();
        assert_eq!(
            names,
            [
                "patients",
                "appointments",
                "appointment_types",
                "practitioners",
                "businesses"
            ]
        );
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

    #[test]
    fn the_catalogue_is_in_the_enums_order_and_each_entry_holds_together() {
        for (i, spec) in CATALOGUE.iter().enumerate() {
            assert_eq!(spec.resource as usize, i, "{}", spec.name);
            assert!(spec.routes.iter().all(|r| r.resource == spec.resource));
            assert!(!spec.routes.is_empty(), "{}", spec.name);
            let mut columns: Vec<&str> = spec.columns.iter().map(|c| c.name).collect();
            columns.sort_unstable();
            columns.dedup();
            assert_eq!(
                columns.len(),
                spec.columns.len(),
                "{}: a column twice",
                spec.name
            );
            for c in spec.columns {
                // A field a column reads is one Cliniko documents for the resource.
                let read = match c.source {
                    Source::Field(f) | Source::Link(f, _) => f,
                    Source::Rule(_) => continue,
                };
                assert!(
                    spec.api_fields
                        .iter()
                        .any(|p| p.split(['.', '[']).next() == Some(read)),
                    "{}.{}: `{read}` is not a field of the API",
                    spec.name,
                    c.name
                );
            }
        }
    }

    #[test]
    fn the_sync_needs_ids_timestamps_and_links() {
        let sorted = |r: Resource| {
            let mut f = r.required_fields();
            f.sort_unstable();
            f.dedup();
            f
        };
        let common = [
            "archived_at",
            "created_at",
            "deleted_at",
            "id",
            "updated_at",
        ];
        for r in [
            Resource::Patients,
            Resource::AppointmentTypes,
            Resource::Businesses,
        ] {
            assert_eq!(sorted(r), common, "{r}");
        }
        let with = |extra: &[&'static str]| {
            let mut f: Vec<&str> = common.iter().chain(extra).copied().collect();
            f.sort_unstable();
            f
        };
        assert_eq!(
            sorted(Resource::Appointments),
            with(&[
                "cancelled_at",
                "starts_at",
                "ends_at",
                "patient",
                "patient_id",
                "practitioner",
                "practitioner_id",
                "appointment_type",
                "appointment_type_id",
                "business",
                "business_id"
            ])
        );
        assert_eq!(
            sorted(Resource::Practitioners),
            with(&["active", "user", "user_id"])
        );
        assert_eq!(
            sorted(Resource::Attendees),
            with(&[
                "cancelled_at",
                "booking",
                "booking_id",
                "appointment",
                "appointment_id",
                "patient",
                "patient_id"
            ])
        );
        assert_eq!(
            sorted(Resource::Invoices),
            with(&[
                "closed_at",
                "patient",
                "patient_id",
                "practitioner",
                "practitioner_id",
                "business",
                "business_id",
                "appointment",
                "appointment_id"
            ])
        );
        assert_eq!(
            sorted(Resource::GroupAppointments),
            with(&[
                "starts_at",
                "ends_at",
                "practitioner",
                "practitioner_id",
                "appointment_type",
                "appointment_type_id",
                "business",
                "business_id"
            ])
        );
    }
}
