//! The shape of a catalogue entry: what one resource is, as data (its API routes, its
//! table's typed columns and where each comes from, the fields Cliniko documents for it).

use super::Resource;

/// One resource: everything routes, tables, parsing, privacy and the docs know of it.
#[derive(Debug)]
pub struct Spec {
    pub resource: Resource,
    /// The name used in config files, on the command line, in JSON and as its table's name.
    pub name: &'static str,
    /// Reference data (rarely changing, small) is polled on its own cadence
    /// (`reference_every`) instead of on every sync.
    pub reference: bool,
    /// Synced when an org's config does not list its resources.
    pub default: bool,
    /// Its list routes, in the order a sync walks them; each has its own cursor.
    pub routes: &'static [Route],
    /// Its table's columns beyond the ones every record table has, in table order.
    pub columns: &'static [Column],
    /// Every leaf field path of its records, as Cliniko's API documents them (the privacy
    /// policy's syntax: `a.b` is field `b` of object `a`, `a[].b` field `b` of every
    /// element of list `a`). A path naming an object or a list on the way to a leaf names
    /// a field too; links to other records (`patient.links.self`) are listed as sent.
    pub api_fields: &'static [&'static str],
}

/// One list route of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub resource: Resource,
    /// Path below the base URL, e.g. `/individual_appointments`.
    pub path: &'static str,
    /// The key of the record array in the response envelope.
    pub list_key: &'static str,
    /// Filters that opt records hidden by default (archived, cancelled) back in. Only
    /// fields the route can filter on (docs/cliniko-api.md, "Filtering"): anything else is
    /// a 400. A record with one of them set is hidden from the route's default listing.
    pub include_hidden: &'static [&'static str],
    /// The DateTime field an appointment window filters on, if the route has one.
    pub window_field: Option<&'static str>,
    /// This route's key in the sync state (its cursor).
    pub cursor_key: &'static str,
    /// Whether every record of this route is active (`/practitioners`) or inactive
    /// (`/practitioners/inactive`): [`Rule::ActiveOrRoute`] uses it when a record lacks
    /// the field (the legacy examples do).
    pub active: Option<bool>,
}

/// Filters of routes whose records can be archived.
pub const ARCHIVED: &[&str] = &["archived_at"];
/// Filters of routes whose records can be archived or cancelled.
pub const ARCHIVED_CANCELLED: &[&str] = &["archived_at", "cancelled_at"];

impl Route {
    /// A route of `resource` whose cursor key is the resource's name, hiding nothing.
    pub const fn list(resource: Resource, path: &'static str, list_key: &'static str) -> Route {
        Route {
            resource,
            path,
            list_key,
            include_hidden: &[],
            window_field: None,
            cursor_key: list_key,
            active: None,
        }
    }

    /// The same route, opting the records `filters` hide back in.
    pub const fn hidden(self, filters: &'static [&'static str]) -> Route {
        Route {
            include_hidden: filters,
            ..self
        }
    }

    /// The same route, under another cursor key.
    pub const fn cursor(self, cursor_key: &'static str) -> Route {
        Route { cursor_key, ..self }
    }

    /// The same route, filterable by an appointment window on `field`.
    pub const fn window(self, field: &'static str) -> Route {
        Route {
            window_field: Some(field),
            ..self
        }
    }

    /// The same route, listing only active (`true`) or inactive records.
    pub const fn all_active(self, active: bool) -> Route {
        Route {
            active: Some(active),
            ..self
        }
    }
}

/// One typed column of a resource's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub source: Source,
}

/// What a column holds, and so its type on each store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string as sent (`""` is NULL; a number is kept as its digits).
    Text,
    /// A whole number sent as a JSON number or a string of digits.
    Integer,
    /// A boolean, stored as 0/1.
    Flag,
    /// A DateTime, stored in UTC.
    Timestamp,
    /// Money exactly as sent (`"85.0"`), never a float.
    Money,
    /// An exact decimal number (an amount, a rate), sent as a JSON number or a string of
    /// one: kept as the digits sent, never through a float; anything else is NULL.
    /// `numeric` on PostgreSQL (dashboards sum it as it is), text on SQLite.
    Decimal,
}

impl Kind {
    /// The column's type as SQLite declares it.
    pub fn sqlite_type(self) -> &'static str {
        match self {
            Kind::Text | Kind::Timestamp | Kind::Money | Kind::Decimal => "TEXT",
            Kind::Integer | Kind::Flag => "INTEGER",
        }
    }

    /// The column's type as PostgreSQL's `information_schema` names it.
    pub fn postgres_type(self) -> &'static str {
        match self {
            Kind::Text | Kind::Money => "text",
            Kind::Timestamp => "timestamp with time zone",
            Kind::Decimal => "numeric",
            Kind::Integer | Kind::Flag => "bigint",
        }
    }
}

/// Where a column's value comes from in a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A top-level field, read as the column's [`Kind`].
    Field(&'static str),
    /// The id of a linked record (`"patient": {"links": {"self": ".../patients/7"}}`, or a
    /// plain `patient_id`), and the resource it names when that is one we copy.
    Link(&'static str, Option<Resource>),
    /// A rule of its own, for the few columns no single field gives.
    Rule(Rule),
}

/// The named rules of the columns no single field gives. Each is written once, in the
/// parser; [`Rule::VERSION`] changes when one changes, so stored rows are re-derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `patients.phone`: the first `Mobile` entry of `patient_phone_numbers`, else the
    /// first entry; its `number` as typed (trimmed), else its `normalized_number`.
    Phone,
    /// `practitioners.display_name`: `display_name`, else `label`, else first and last name.
    PractitionerDisplayName,
    /// `businesses.display_name`: `display_name`, else `business_name`.
    BusinessDisplayName,
    /// `practitioners.active`: the record's `active`, else what its route lists.
    ActiveOrRoute,
    /// `attendees.booking_id`: the `booking` link, else the `appointment` link.
    AttendeeBooking,
}

impl Rule {
    /// Bumped whenever a rule's meaning changes: part of every table's fingerprint.
    pub const VERSION: u32 = 1;

    /// Whether the rule needs the route a record came by (which is not stored): a row
    /// re-derived from its stored text keeps the value when the record alone says nothing.
    pub fn needs_route(self) -> bool {
        self == Rule::ActiveOrRoute
    }

    /// The record fields the rule reads that the sync cannot do without (privacy may not
    /// remove them).
    pub fn required_fields(self) -> &'static [&'static str] {
        match self {
            Rule::ActiveOrRoute => &["active"],
            Rule::AttendeeBooking => &["booking", "booking_id", "appointment", "appointment_id"],
            Rule::Phone | Rule::PractitionerDisplayName | Rule::BusinessDisplayName => &[],
        }
    }
}

impl Column {
    /// A column read from the field of the same name.
    pub const fn field(name: &'static str, kind: Kind) -> Column {
        Column {
            name,
            kind,
            source: Source::Field(name),
        }
    }

    /// `<link>_id`: the id of the record `link` points at, of resource `to` if we copy it.
    pub const fn link(name: &'static str, link: &'static str, to: Option<Resource>) -> Column {
        Column {
            name,
            kind: Kind::Text,
            source: Source::Link(link, to),
        }
    }

    /// A column given by a named rule.
    pub const fn rule(name: &'static str, kind: Kind, rule: Rule) -> Column {
        Column {
            name,
            kind,
            source: Source::Rule(rule),
        }
    }

    /// The reference resource this column points at (`practitioner_id` -> practitioners),
    /// whose rows a sync makes sure it has.
    pub fn references(&self) -> Option<Resource> {
        match self.source {
            Source::Link(_, Some(to)) if to.is_reference() => Some(to),
            _ => None,
        }
    }
}
