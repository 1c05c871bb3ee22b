//! Invoices: what a clinic billed (opt-in); money stays text exactly as sent.

use super::super::spec::Kind::{Integer, Money, Text, Timestamp};
use super::super::spec::{ARCHIVED, Column, Route, Spec};
use super::Resource;

const ROUTES: &[Route] =
    &[Route::list(Resource::Invoices, "/invoices", "invoices").hidden(ARCHIVED)];

pub(super) const SPEC: Spec = Spec {
    resource: Resource::Invoices,
    name: "invoices",
    reference: false,
    default: false,
    routes: ROUTES,
    columns: &[
        Column::field("number", Integer),
        Column::field("issue_date", Text),
        Column::field("status", Integer),
        Column::field("status_description", Text),
        Column::field("total_amount", Money),
        Column::field("net_amount", Money),
        Column::field("tax_amount", Money),
        Column::field("closed_at", Timestamp),
        Column::link("patient_id", "patient", Some(Resource::Patients)),
        Column::link(
            "practitioner_id",
            "practitioner",
            Some(Resource::Practitioners),
        ),
        Column::link("business_id", "business", Some(Resource::Businesses)),
        Column::link(
            "appointment_id",
            "appointment",
            Some(Resource::Appointments),
        ),
    ],
    api_fields: &[
        "appointment.links.self",
        "archived_at",
        "business.links.self",
        "closed_at",
        "created_at",
        "deleted_at",
        "discounted_amount",
        "id",
        "invoice_items.links.self",
        "invoice_to",
        "issue_date",
        "links.self",
        "net_amount",
        "notes",
        "number",
        "online_payment_url",
        "patient.links.self",
        "patient_extra_information",
        "practitioner.links.self",
        "status",
        "status_description",
        "tax_amount",
        "total_amount",
        "updated_at",
    ],
};
