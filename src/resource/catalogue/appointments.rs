//! Individual appointments: one patient, one practitioner, one time.

use super::super::spec::Kind::{Flag, Timestamp};
use super::super::spec::{ARCHIVED_CANCELLED, Column, Route, Spec};
use super::Resource;

const ROUTES: &[Route] = &[Route::list(
    Resource::Appointments,
    "/individual_appointments",
    "individual_appointments",
)
.cursor("appointments")
.hidden(ARCHIVED_CANCELLED)
.window("starts_at")];

pub(super) const SPEC: Spec = Spec {
    resource: Resource::Appointments,
    name: "appointments",
    reference: false,
    default: true,
    routes: ROUTES,
    columns: &[
        Column::field("starts_at", Timestamp),
        Column::field("ends_at", Timestamp),
        Column::field("cancelled_at", Timestamp),
        Column::link("patient_id", "patient", Some(Resource::Patients)),
        Column::link(
            "practitioner_id",
            "practitioner",
            Some(Resource::Practitioners),
        ),
        Column::link(
            "appointment_type_id",
            "appointment_type",
            Some(Resource::AppointmentTypes),
        ),
        Column::link("business_id", "business", Some(Resource::Businesses)),
        Column::field("did_not_arrive", Flag),
        Column::field("patient_arrived", Flag),
    ],
    api_fields: &[
        "appointment_type.links.self",
        "archived_at",
        "attendees.links.self",
        "booking_ip_address",
        "business.links.self",
        "cancellation_note",
        "cancellation_reason",
        "cancellation_reason_description",
        "cancelled_at",
        "conflicts.links.self",
        "created_at",
        "deleted_at",
        "did_not_arrive",
        "email_reminder_sent",
        "ends_at",
        "has_patient_appointment_notes",
        "id",
        "invoice_status",
        "links.self",
        "notes",
        "online_booking_policy_accepted",
        "patient.links.self",
        "patient_arrived",
        "patient_case.links.self",
        "patient_name",
        "practitioner.links.self",
        "repeat_rule.number_of_repeats",
        "repeat_rule.repeat_type",
        "repeat_rule.repeating_interval",
        "repeated_from.links.self",
        "repeats.links.self",
        "sms_reminder_sent",
        "starts_at",
        "telehealth_url",
        "treatment_note_status",
        "updated_at",
    ],
};
