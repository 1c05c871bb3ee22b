//! Practitioners: who sees patients (reference data), active and inactive.

use super::super::spec::Kind::{Flag, Text};
use super::super::spec::{Column, Route, Rule, Spec};
use super::Resource;

// `/practitioners` lists only active practitioners and `/practitioners/inactive` the
// rest (there is no archived_at filter): both feed one table, each with its own cursor.
const ROUTES: &[Route] = &[
    Route::list(Resource::Practitioners, "/practitioners", "practitioners").all_active(true),
    Route::list(
        Resource::Practitioners,
        "/practitioners/inactive",
        "practitioners",
    )
    .cursor("practitioners_inactive")
    .all_active(false),
];

pub(super) const SPEC: Spec = Spec {
    resource: Resource::Practitioners,
    name: "practitioners",
    reference: true,
    default: true,
    routes: ROUTES,
    columns: &[
        Column::field("first_name", Text),
        Column::field("last_name", Text),
        Column::field("title", Text),
        Column::rule("display_name", Text, Rule::PractitionerDisplayName),
        Column::field("designation", Text),
        Column::rule("active", Flag, Rule::ActiveOrRoute),
        Column::field("show_in_online_bookings", Flag),
        Column::link("user_id", "user", None),
    ],
    api_fields: &[
        "active",
        "appointment_types.links.self",
        "appointments.links.self",
        "created_at",
        "default_appointment_type.links.self",
        "description",
        "designation",
        "display_name",
        "first_name",
        "id",
        "invoices.links.self",
        "label",
        "last_name",
        "links.self",
        "practitioner_reference_numbers.links.self",
        "show_in_online_bookings",
        "title",
        "updated_at",
        "user.links.self",
    ],
};
