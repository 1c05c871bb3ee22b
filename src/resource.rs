//! The Cliniko resources routiq-sync knows how to copy, shared by config, client and store.

use std::fmt;
use std::str::FromStr;

/// One kind of record synced from Cliniko into its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    Patients,
    Appointments,
}

impl Resource {
    /// Every resource, in the order a sync walks them.
    pub const ALL: [Resource; 2] = [Resource::Patients, Resource::Appointments];

    /// Resources synced when an org's config does not list any.
    pub const DEFAULT: [Resource; 2] = [Resource::Patients, Resource::Appointments];

    /// The name used in config files, on the command line, in the database and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Resource::Patients => "patients",
            Resource::Appointments => "appointments",
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
}
