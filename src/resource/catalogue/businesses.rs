//! Businesses: a clinic's locations (reference data), each in its own time zone.

use super::super::spec::Kind::{Flag, Text};
use super::super::spec::{ARCHIVED, Column, Route, Rule, Spec};
use super::Resource;

const ROUTES: &[Route] =
    &[Route::list(Resource::Businesses, "/businesses", "businesses").hidden(ARCHIVED)];

pub(super) const SPEC: Spec = Spec {
    resource: Resource::Businesses,
    name: "businesses",
    reference: true,
    default: true,
    routes: ROUTES,
    columns: &[
        Column::field("business_name", Text),
        Column::rule("display_name", Text, Rule::BusinessDisplayName),
        Column::field("city", Text),
        Column::field("state", Text),
        Column::field("country_code", Text),
        Column::field("time_zone", Text),
        Column::field("time_zone_identifier", Text),
        Column::field("show_in_online_bookings", Flag),
    ],
    api_fields: &[
        "additional_information",
        "additional_invoice_information",
        "address_1",
        "address_2",
        "appointment_reminders_enabled",
        "appointment_type_ids",
        "appointments.links.self",
        "archived_at",
        "business_name",
        "business_registration_name",
        "business_registration_value",
        "city",
        "contact_information",
        "country",
        "country_code",
        "created_at",
        "deleted_at",
        "display_name",
        "email_reply_to",
        "id",
        "label",
        "links.self",
        "post_code",
        "practitioners.links.self",
        "show_in_online_bookings",
        "state",
        "time_zone",
        "time_zone_identifier",
        "updated_at",
        "website_address",
    ],
};
