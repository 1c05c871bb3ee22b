//! Availability blocks: extra times a practitioner is available (opt-in). The route
//! has no `archived_at` filter and the records no such field: a block removed in Cliniko
//! leaves the list, and `verify` or the full walk marks it.

use super::super::spec::Kind::Timestamp;
use super::super::spec::{Column, Route, Spec};
use super::Resource;

const ROUTES: &[Route] = &[Route::list(
    Resource::AvailabilityBlocks,
    "/availability_blocks",
    "availability_blocks",
)];

pub(super) const SPEC: Spec = Spec {
    resource: Resource::AvailabilityBlocks,
    name: "availability_blocks",
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
        "business.links.self",
        "created_at",
        "ends_at",
        "id",
        "links.self",
        "practitioner.links.self",
        "repeat_rule.number_of_repeats",
        "repeat_rule.repeat_type",
        "repeat_rule.repeating_interval",
        "starts_at",
        "updated_at",
    ],
};
