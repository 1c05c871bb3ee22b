//! Contacts: the doctors, third-party payers and others a clinic deals with (opt-in
//! reference data); they carry names, phones, addresses and notes.

use super::super::spec::Kind::Text;
use super::super::spec::{ARCHIVED, Column, Route, Spec};
use super::Resource;

const ROUTES: &[Route] =
    &[Route::list(Resource::Contacts, "/contacts", "contacts").hidden(ARCHIVED)];

pub(super) const SPEC: Spec = Spec {
    resource: Resource::Contacts,
    name: "contacts",
    reference: true,
    default: false,
    routes: ROUTES,
    columns: &[
        Column::field("first_name", Text),
        Column::field("last_name", Text),
        Column::field("company_name", Text),
        Column::field("type", Text),
        Column::field("doctor_type", Text),
    ],
    api_fields: &[
        "address_1",
        "address_2",
        "address_3",
        "archived_at",
        "city",
        "company_name",
        "country",
        "country_code",
        "created_at",
        "deleted_at",
        "doctor_type",
        "email",
        "first_name",
        "id",
        "last_name",
        "links.self",
        "notes",
        "occupation",
        "phone_numbers[].normalized_number",
        "phone_numbers[].number",
        "phone_numbers[].phone_type",
        "post_code",
        "preferred_name",
        "provider_number",
        "state",
        "title",
        "type",
        "type_code",
        "updated_at",
    ],
};
