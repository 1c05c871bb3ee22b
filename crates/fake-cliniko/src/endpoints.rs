//! The table of list endpoints the fake serves: path, list key, filterable fields.
//!
//! Adding an endpoint is one entry in [`ENDPOINTS`]. Field lists follow
//! the OpenAPI `q[]` descriptions (see docs/cliniko-api.md, "Filtering"), written out here
//! rather than taken from the client's table, so that a mistake there is caught.

/// How a filterable field is typed, which decides the operators it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// `YYYY-MM-DDTHH:MM:SSZ`; operators `>= > <= < ? !? *`.
    DateTime,
    /// `YYYY-MM-DD` (with `*` wildcards for `=`); operators `= >= > <= < ? !?`.
    Date,
    /// Integers and ids (compared as integers); operators `= (list) != >= > <= < ? !?`.
    Numeric,
    /// Text; operators `= != ~ ~~ ? !?`.
    String,
    /// `true`/`false`; operators `= !=`.
    Boolean,
    /// An array of values; operator `~` (contains).
    Array,
}

/// A class of records a list endpoint leaves out unless the request opts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    /// `archived_at` is set; opt in with `q[]=archived_at:*` (all) or `archived_at:?` (only).
    Archived,
    /// `cancelled_at` is set; opt in with `q[]=cancelled_at:*` or `cancelled_at:?`.
    Cancelled,
}

impl Hidden {
    /// The timestamp field whose presence marks the class.
    pub fn field(self) -> &'static str {
        match self {
            Hidden::Archived => "archived_at",
            Hidden::Cancelled => "cancelled_at",
        }
    }

    /// The record flag bit for this class (see [`crate::record::flags`]).
    pub fn flag(self) -> u8 {
        match self {
            Hidden::Archived => crate::record::FLAG_ARCHIVED,
            Hidden::Cancelled => crate::record::FLAG_CANCELLED,
        }
    }
}

/// Which records of the collection an endpoint shows at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every record (subject to [`Hidden`] classes).
    All,
    /// Only records whose `active` is not `false` (`/practitioners`).
    Active,
    /// Only records whose `active` is `false` (`/practitioners/inactive`).
    Inactive,
}

/// One `GET` list endpoint.
#[derive(Debug)]
pub struct Endpoint {
    /// Path below `/v1`, e.g. `/patients`.
    pub path: &'static str,
    /// The [`crate::World`] collection it reads.
    pub collection: &'static str,
    /// The envelope key holding the records.
    pub list_key: &'static str,
    /// Fields accepted in `q[]` (and as sort columns, except arrays).
    pub fields: &'static [(&'static str, FieldType)],
    /// Record classes left out by default.
    pub hidden: &'static [Hidden],
    /// Which records the endpoint shows at all.
    pub scope: Scope,
}

impl Endpoint {
    /// The type of a filterable field, or `None` when the field is not searchable here.
    pub fn field_type(&self, field: &str) -> Option<FieldType> {
        self.fields
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, t)| *t)
    }

    /// The canonical `&'static str` of a field name (avoids allocating per filter).
    pub fn field_name(&self, field: &str) -> Option<&'static str> {
        self.fields
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(name, _)| *name)
    }

    /// Whether records of class `h` are hidden by default here.
    pub fn hides(&self, h: Hidden) -> bool {
        self.hidden.contains(&h)
    }
}

use FieldType::{Array, Boolean, Date, DateTime, Numeric, String as Str};

const COMMON: [(&str, FieldType); 3] = [
    ("id", Numeric),
    ("created_at", DateTime),
    ("updated_at", DateTime),
];

macro_rules! fields {
    ($($name:literal : $ty:expr),* $(,)?) => {
        &[COMMON[0], COMMON[1], COMMON[2], $(($name, $ty)),*]
    };
}

/// Every list endpoint the fake answers.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        path: "/patients",
        collection: "patients",
        list_key: "patients",
        fields: fields!(
            "archived_at": DateTime,
            "date_of_birth": Date,
            "email": Str,
            "first_name": Str,
            "last_name": Str,
            "old_reference_id": Str,
            "preferred_first_name": Str,
        ),
        hidden: &[Hidden::Archived],
        scope: Scope::All,
    },
    Endpoint {
        path: "/individual_appointments",
        collection: "individual_appointments",
        list_key: "individual_appointments",
        fields: fields!(
            "archived_at": DateTime,
            "deleted_at": DateTime,
            "appointment_type_id": Numeric,
            "business_id": Numeric,
            "cancelled_at": DateTime,
            "ends_at": DateTime,
            "patient_id": Numeric,
            "practitioner_id": Numeric,
            "repeated_from_id": Numeric,
            "starts_at": DateTime,
        ),
        hidden: &[Hidden::Archived, Hidden::Cancelled],
        scope: Scope::All,
    },
    Endpoint {
        path: "/group_appointments",
        collection: "group_appointments",
        list_key: "group_appointments",
        fields: fields!(
            "archived_at": DateTime,
            "deleted_at": DateTime,
            "appointment_type_id": Numeric,
            "business_id": Numeric,
            "ends_at": DateTime,
            "patient_ids": Array,
            "practitioner_id": Numeric,
            "repeated_from_id": Numeric,
            "starts_at": DateTime,
        ),
        hidden: &[Hidden::Archived],
        scope: Scope::All,
    },
    Endpoint {
        path: "/attendees",
        collection: "attendees",
        list_key: "attendees",
        fields: fields!(
            "archived_at": DateTime,
            "deleted_at": DateTime,
            "appointment_id": Numeric,
            "booking_id": Numeric,
            "cancelled_at": DateTime,
            "patient_case_id": Numeric,
            "patient_id": Numeric,
        ),
        hidden: &[Hidden::Archived, Hidden::Cancelled],
        scope: Scope::All,
    },
    Endpoint {
        path: "/bookings",
        collection: "bookings",
        list_key: "bookings",
        fields: fields!(
            "archived_at": DateTime,
            "deleted_at": DateTime,
            "appointment_type_id": Numeric,
            "business_id": Numeric,
            "cancelled_at": DateTime,
            "did_not_arrive": Boolean,
            "ends_at": DateTime,
            "patient_ids": Array,
            "practitioner_id": Numeric,
            "repeated_from_id": Numeric,
            "starts_at": DateTime,
        ),
        hidden: &[Hidden::Archived, Hidden::Cancelled],
        scope: Scope::All,
    },
    Endpoint {
        path: "/practitioners",
        collection: "practitioners",
        list_key: "practitioners",
        fields: fields!("user_id": Numeric, "show_in_online_bookings": Boolean),
        hidden: &[],
        scope: Scope::Active,
    },
    Endpoint {
        path: "/practitioners/inactive",
        collection: "practitioners",
        list_key: "practitioners",
        fields: fields!("user_id": Numeric, "show_in_online_bookings": Boolean),
        hidden: &[],
        scope: Scope::Inactive,
    },
    Endpoint {
        path: "/businesses",
        collection: "businesses",
        list_key: "businesses",
        fields: fields!(
            "archived_at": DateTime,
            "deleted_at": DateTime,
            "appointment_type_ids": Array,
            "show_in_online_bookings": Boolean,
        ),
        hidden: &[Hidden::Archived],
        scope: Scope::All,
    },
    Endpoint {
        path: "/appointment_types",
        collection: "appointment_types",
        list_key: "appointment_types",
        fields: fields!(
            "archived_at": DateTime,
            "category": Str,
            "online_payments_mode": Str,
            "show_in_online_bookings": Boolean,
            "appointment_confirmation_template_ids": Array,
            "appointment_reminder_template_ids": Array,
        ),
        hidden: &[Hidden::Archived],
        scope: Scope::All,
    },
    Endpoint {
        path: "/invoices",
        collection: "invoices",
        list_key: "invoices",
        fields: fields!(
            "archived_at": DateTime,
            "deleted_at": DateTime,
            "appointment_id": Numeric,
            "business_id": Numeric,
            "issue_date": Date,
            "number": Numeric,
            "patient_id": Numeric,
            "practitioner_id": Numeric,
            "status": Numeric,
        ),
        hidden: &[Hidden::Archived],
        scope: Scope::All,
    },
    Endpoint {
        path: "/invoice_items",
        collection: "invoice_items",
        list_key: "invoice_items",
        fields: fields!(
            "archived_at": DateTime,
            "deleted_at": DateTime,
            "invoice_id": Numeric,
        ),
        hidden: &[Hidden::Archived],
        scope: Scope::All,
    },
    Endpoint {
        path: "/products",
        collection: "products",
        list_key: "products",
        fields: fields!(
            "archived_at": DateTime,
            "name": Str,
            "tax_id": Numeric,
        ),
        hidden: &[Hidden::Archived],
        scope: Scope::All,
    },
    Endpoint {
        path: "/billable_items",
        collection: "billable_items",
        list_key: "billable_items",
        fields: fields!("archived_at": DateTime, "tax_id": Numeric),
        hidden: &[Hidden::Archived],
        scope: Scope::All,
    },
    // No archived_at: the spec's records have none, so none is hidden.
    Endpoint {
        path: "/daily_availabilities",
        collection: "daily_availabilities",
        list_key: "daily_availabilities",
        fields: fields!("business_id": Numeric, "practitioner_id": Numeric),
        hidden: &[],
        scope: Scope::All,
    },
    Endpoint {
        path: "/availability_blocks",
        collection: "availability_blocks",
        list_key: "availability_blocks",
        fields: fields!(
            "business_id": Numeric,
            "practitioner_id": Numeric,
            "starts_at": DateTime,
        ),
        hidden: &[],
        scope: Scope::All,
    },
    Endpoint {
        path: "/unavailable_blocks",
        collection: "unavailable_blocks",
        list_key: "unavailable_blocks",
        fields: fields!(
            "archived_at": DateTime,
            "deleted_at": DateTime,
            "business_id": Numeric,
            "ends_at": DateTime,
            "practitioner_id": Numeric,
            "repeated_from_id": Numeric,
            "starts_at": DateTime,
        ),
        hidden: &[Hidden::Archived],
        scope: Scope::All,
    },
    Endpoint {
        path: "/patient_cases",
        collection: "patient_cases",
        list_key: "patient_cases",
        fields: fields!(
            "archived_at": DateTime,
            "expiry_date": Date,
            "patient_id": Numeric,
        ),
        hidden: &[Hidden::Archived],
        scope: Scope::All,
    },
    Endpoint {
        path: "/contacts",
        collection: "contacts",
        list_key: "contacts",
        fields: fields!(
            "archived_at": DateTime,
            "deleted_at": DateTime,
            "email": Str,
            "first_name": Str,
            "last_name": Str,
            "type_code": Numeric,
        ),
        hidden: &[Hidden::Archived],
        scope: Scope::All,
    },
    Endpoint {
        path: "/referral_sources",
        collection: "referral_sources",
        list_key: "referral_sources",
        fields: fields!(),
        hidden: &[],
        scope: Scope::All,
    },
    Endpoint {
        path: "/users",
        collection: "users",
        list_key: "users",
        fields: fields!(),
        hidden: &[],
        scope: Scope::All,
    },
];

/// Every field some endpoint can filter or sort a collection by (union over its endpoints).
pub fn collection_fields(collection: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for ep in ENDPOINTS.iter().filter(|e| e.collection == collection) {
        for (name, _) in ep.fields {
            if !out.contains(name) {
                out.push(name);
            }
        }
    }
    out
}

/// The endpoint serving `path` (the part after `/v1`), if any.
pub fn find(path: &str) -> Option<&'static Endpoint> {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    ENDPOINTS.iter().find(|e| e.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        let ep = find("/patients").unwrap();
        assert_eq!(ep.field_type("updated_at"), Some(FieldType::DateTime));
        assert_eq!(ep.field_type("cancelled_at"), None);
        assert!(find("/practitioners/inactive").is_some());
        assert!(find("/nope").is_none());
        for ep in ENDPOINTS {
            for h in ep.hidden {
                assert_eq!(
                    ep.field_type(h.field()),
                    Some(FieldType::DateTime),
                    "{}",
                    ep.path
                );
            }
            assert_eq!(ep.field_type("id"), Some(FieldType::Numeric));
        }
    }
}
