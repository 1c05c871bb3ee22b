//! Appointment types: what an appointment is (reference data).

use super::super::spec::Kind::{Flag, Integer, Text};
use super::super::spec::{ARCHIVED, Column, Route, Spec};
use super::Resource;

const ROUTES: &[Route] = &[Route::list(
    Resource::AppointmentTypes,
    "/appointment_types",
    "appointment_types",
)
.hidden(ARCHIVED)];

pub(super) const SPEC: Spec = Spec {
    resource: Resource::AppointmentTypes,
    name: "appointment_types",
    reference: true,
    default: true,
    routes: ROUTES,
    columns: &[
        Column::field("name", Text),
        Column::field("category", Text),
        Column::field("color", Text),
        Column::field("duration_in_minutes", Integer),
        Column::field("max_attendees", Integer),
        Column::field("show_in_online_bookings", Flag),
    ],
    api_fields: &[
        "add_deposit_to_account_credit",
        "appointment_confirmation_template_ids",
        "appointment_reminder_template_ids",
        "archived_at",
        "billable_item.links.self",
        "category",
        "color",
        "created_at",
        "deposit_price",
        "description",
        "duration_in_minutes",
        "id",
        "links.self",
        "max_attendees",
        "name",
        "online_bookings_lead_time_hours",
        "online_payments_enabled",
        "online_payments_mode",
        "practitioners.links.self",
        "product.links.self",
        "show_in_online_bookings",
        "telehealth_enabled",
        "treatment_note_template.links.self",
        "updated_at",
    ],
};
