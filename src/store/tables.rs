//! Which table each resource lands in, and its resource-specific columns.

use crate::resource::Resource;

/// The table of one resource: its name and the columns beyond the common ones
/// (`org_id`, `id`, `created_at`, `updated_at`, `archived_at`, `deleted_upstream_at`,
/// `raw_json`, `synced_at`, `seen_full_run`).
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    pub name: &'static str,
    /// In the order of [`crate::record::Record::columns`].
    pub columns: &'static [&'static str],
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

impl TableSpec {
    /// The upsert statement: inserts a new row, or replaces a stored one when the incoming
    /// copy is newer or differs at the same `updated_at`. A row seen again upstream loses
    /// its `deleted_upstream_at` mark.
    pub fn upsert_sql(&self) -> String {
        let mut cols = vec!["org_id", "id", "created_at", "updated_at", "archived_at"];
        cols.extend_from_slice(self.columns);
        cols.extend_from_slice(&["raw_json", "synced_at", "seen_full_run"]);
        let placeholders = (1..=cols.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let updates = cols[2..]
            .iter()
            .map(|c| match *c {
                "seen_full_run" => {
                    "seen_full_run = COALESCE(excluded.seen_full_run, seen_full_run)".to_string()
                }
                c => format!("{c} = excluded.{c}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let t = self.name;
        format!(
            "INSERT INTO {t} ({cols}) VALUES ({placeholders})
             ON CONFLICT (org_id, id) DO UPDATE SET {updates}, deleted_upstream_at = NULL
             WHERE excluded.updated_at > {t}.updated_at
                OR (excluded.updated_at = {t}.updated_at AND excluded.raw_json IS NOT {t}.raw_json)
                OR {t}.deleted_upstream_at IS NOT NULL",
            cols = cols.join(", "),
        )
    }
}
