//! Patient cases: a patient's course of treatment, often funded by a third party
//! (opt-in); their names and notes can be clinical.

use super::super::spec::Kind::{Decimal, Flag, Integer, Text};
use super::super::spec::{ARCHIVED, Column, Route, Spec};
use super::Resource;

const ROUTES: &[Route] =
    &[Route::list(Resource::PatientCases, "/patient_cases", "patient_cases").hidden(ARCHIVED)];

pub(super) const SPEC: Spec = Spec {
    resource: Resource::PatientCases,
    name: "patient_cases",
    reference: false,
    default: false,
    routes: ROUTES,
    columns: &[
        Column::link("patient_id", "patient", Some(Resource::Patients)),
        Column::link("contact_id", "contact", Some(Resource::Contacts)),
        Column::field("name", Text),
        Column::field("issue_date", Text),
        Column::field("expiry_date", Text),
        Column::field("closed", Flag),
        Column::field("max_sessions", Integer),
        Column::field("max_invoiceable_amount", Decimal),
        Column::field("referral_type", Text),
    ],
    api_fields: &[
        "archived_at",
        "attendee_ids",
        "attendees.links.self",
        "bookings.links.self",
        "closed",
        "contact.links.self",
        "created_at",
        "expiry_date",
        "id",
        "include_cancelled_attendees",
        "include_dna_attendees",
        "invoices.links.self",
        "issue_date",
        "links.self",
        "max_invoiceable_amount",
        "max_sessions",
        "name",
        "notes",
        "patient.links.self",
        "patient_attachments.links.self",
        "referral",
        "referral_type",
        "updated_at",
    ],
};
