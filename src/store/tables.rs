//! Which table each resource lands in, and its resource-specific columns.

use crate::resource::Resource;

/// The columns every record table has, on both backends, before its own
/// ([`TableSpec::columns`]).
pub const COMMON_COLUMNS: &[&str] = &[
    "org_id",
    "id",
    "created_at",
    "updated_at",
    "archived_at",
    "deleted_upstream_at",
    "raw_json",
    "synced_at",
];

/// Columns of SQLite's record tables that PostgreSQL never had: `seen_full_run` marked a
/// full walk's rows until `full_seen` replaced it, and is no longer written (a column is
/// never dropped from the public tables).
pub const SQLITE_LEGACY_COLUMNS: &[&str] = &["seen_full_run"];

/// The table of one resource: its name and the columns beyond [`COMMON_COLUMNS`].
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    pub name: &'static str,
    /// In the order of [`crate::record::Record::columns`].
    pub columns: &'static [&'static str],
}

/// Every table holding an org's data: the resource tables, then state, run history and
/// the privacy policy's state.
pub fn org_tables() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Resource::ALL.iter().map(|r| table(*r).name).collect();
    names.extend([
        "sync_state",
        "full_seen",
        "runs",
        "org_facts",
        "privacy_state",
    ]);
    names
}

/// The tables of [`org_tables`] that `names` names (a name it does not know is
/// ignored), each once, in their usual order.
pub(crate) fn known_tables<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'static str> {
    let names: Vec<&str> = names.into_iter().collect();
    org_tables()
        .into_iter()
        .filter(|t| names.contains(t))
        .collect()
}

/// The table that holds `resource`.
pub fn table(resource: Resource) -> TableSpec {
    let (name, columns): (&'static str, &'static [&'static str]) = match resource {
        Resource::Patients => (
            "patients",
            &["first_name", "last_name", "email", "date_of_birth", "phone"],
        ),
        Resource::Appointments => (
            "appointments",
            &[
                "starts_at",
                "ends_at",
                "cancelled_at",
                "patient_id",
                "practitioner_id",
                "appointment_type_id",
                "business_id",
            ],
        ),
        Resource::AppointmentTypes => (
            "appointment_types",
            &[
                "name",
                "category",
                "color",
                "duration_in_minutes",
                "max_attendees",
                "show_in_online_bookings",
            ],
        ),
        Resource::Practitioners => (
            "practitioners",
            &[
                "first_name",
                "last_name",
                "title",
                "display_name",
                "designation",
                "active",
                "show_in_online_bookings",
                "user_id",
            ],
        ),
        Resource::Businesses => (
            "businesses",
            &[
                "business_name",
                "display_name",
                "city",
                "state",
                "country_code",
                "time_zone",
                "time_zone_identifier",
                "show_in_online_bookings",
            ],
        ),
        Resource::GroupAppointments => (
            "group_appointments",
            &[
                "starts_at",
                "ends_at",
                "practitioner_id",
                "appointment_type_id",
                "business_id",
                "max_attendees",
            ],
        ),
        Resource::Attendees => (
            "attendees",
            &["booking_id", "patient_id", "arrived", "cancelled_at"],
        ),
        Resource::Invoices => (
            "invoices",
            &[
                "number",
                "issue_date",
                "status",
                "status_description",
                "total_amount",
                "net_amount",
                "tax_amount",
                "closed_at",
                "patient_id",
                "practitioner_id",
                "business_id",
                "appointment_id",
            ],
        ),
    };
    TableSpec { name, columns }
}
