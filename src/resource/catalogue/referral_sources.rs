//! Referral sources: how each patient found the clinic (opt-in). The route has no
//! `archived_at` filter and the records no such field.

use super::super::spec::Kind::Text;
use super::super::spec::{Column, Route, Spec};
use super::Resource;

const ROUTES: &[Route] = &[Route::list(
    Resource::ReferralSources,
    "/referral_sources",
    "referral_sources",
)];

pub(super) const SPEC: Spec = Spec {
    resource: Resource::ReferralSources,
    name: "referral_sources",
    reference: false,
    default: false,
    routes: ROUTES,
    columns: &[
        Column::link("patient_id", "patient", Some(Resource::Patients)),
        Column::link("referral_source_type_id", "referral_source_type", None),
        Column::field("referrer_type", Text),
        Column::link("referrer_id", "referrer", None),
        Column::field("subcategory", Text),
    ],
    api_fields: &[
        "created_at",
        "id",
        "links.self",
        "notes",
        "patient.links.self",
        "referral_source_type.links.self",
        "referrer.links.self",
        "referrer_type",
        "subcategory",
        "updated_at",
    ],
};
