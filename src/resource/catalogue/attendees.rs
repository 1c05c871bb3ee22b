//! Attendees: the patients booked into group appointments (opt-in).

use super::super::spec::Kind::{Flag, Text, Timestamp};
use super::super::spec::{ARCHIVED_CANCELLED, Column, Route, Rule, Spec};
use super::Resource;

const ROUTES: &[Route] =
    &[Route::list(Resource::Attendees, "/attendees", "attendees").hidden(ARCHIVED_CANCELLED)];

pub(super) const SPEC: Spec = Spec {
    resource: Resource::Attendees,
    name: "attendees",
    reference: false,
    default: false,
    routes: ROUTES,
    columns: &[
        Column::rule("booking_id", Text, Rule::AttendeeBooking),
        Column::link("patient_id", "patient", Some(Resource::Patients)),
        Column::field("arrived", Flag),
        Column::field("cancelled_at", Timestamp),
    ],
    api_fields: &[
        "archived_at",
        "arrived",
        "booking.links.self",
        "booking_ip_address",
        "cancellation_note",
        "cancellation_reason",
        "cancellation_reason_description",
        "cancellation_url",
        "cancelled_at",
        "created_at",
        "deleted_at",
        "email_reminder_sent",
        "id",
        "invoice_status",
        "invoices.links.self",
        "links.self",
        "notes",
        "online_booking_policy_accepted",
        "patient.links.self",
        "patient_case.links.self",
        "patient_forms.links.self",
        "sms_reminder_sent",
        "telehealth_url",
        "treatment_note_status",
        "updated_at",
    ],
};
