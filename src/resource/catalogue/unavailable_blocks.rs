//! Unavailable blocks: times a practitioner is away (opt-in); their `notes` say why.

use super::super::spec::Kind::Timestamp;
use super::super::spec::{ARCHIVED, Column, Route, Spec};
use super::Resource;

const ROUTES: &[Route] = &[Route::list(
    Resource::UnavailableBlocks,
    "/unavailable_blocks",
    "unavailable_blocks",
)
.hidden(ARCHIVED)];

pub(super) const SPEC: Spec = Spec {
    resource: Resource::UnavailableBlocks,
    name: "unavailable_blocks",
    reference: false,
    default: false,
    routes: ROUTES,
    columns: &[
        Column::link(
            "practitioner_id",
            "practitioner",
            Some(Resource::Practitioners),
        ),
        Column::link("business_id", "business", Some(Resource::Businesses)),
        Column::field("starts_at", Timestamp),
        Column::field("ends_at", Timestamp),
    ],
    api_fields: &[
        "archived_at",
        "business.links.self",
        "conflicts.links.self",
        "created_at",
        "deleted_at",
        "ends_at",
        "id",
        "links.self",
        "notes",
        "practitioner.links.self",
        "repeat_rule.number_of_repeats",
        "repeat_rule.repeat_type",
        "repeat_rule.repeating_interval",
        "repeated_from.links.self",
        "repeats.links.self",
        "starts_at",
        "updated_at",
    ],
};
