//! Group appointments: classes; who comes is in attendees (opt-in).

use super::super::spec::Kind::{Integer, Timestamp};
use super::super::spec::{ARCHIVED, Column, Route, Spec};
use super::Resource;

const ROUTES: &[Route] = &[Route::list(
    Resource::GroupAppointments,
    "/group_appointments",
    "group_appointments",
)
.hidden(ARCHIVED)];

pub(super) const SPEC: Spec = Spec {
    resource: Resource::GroupAppointments,
    name: "group_appointments",
    reference: false,
    default: false,
    routes: ROUTES,
    columns: &[
        Column::field("starts_at", Timestamp),
        Column::field("ends_at", Timestamp),
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
        Column::field("max_attendees", Integer),
    ],
    api_fields: &[
        "appointment_type.links.self",
        "archived_at",
        "attendees.links.self",
        "business.links.self",
        "conflicts.links.self",
        "created_at",
        "deleted_at",
        "ends_at",
        "id",
        "links.self",
        "max_attendees",
        "notes",
        "patient_ids",
        "practitioner.links.self",
        "repeat_rule.number_of_repeats",
        "repeat_rule.repeat_type",
        "repeat_rule.repeating_interval",
        "repeated_from.links.self",
        "repeats.links.self",
        "starts_at",
        "telehealth_url",
        "updated_at",
    ],
};
