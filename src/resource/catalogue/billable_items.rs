//! Billable items: the services, products and fees invoices are made of (opt-in
//! reference data).

use super::super::spec::Kind::{Decimal, Text};
use super::super::spec::{ARCHIVED, Column, Route, Spec};
use super::Resource;

const ROUTES: &[Route] =
    &[Route::list(Resource::BillableItems, "/billable_items", "billable_items").hidden(ARCHIVED)];

pub(super) const SPEC: Spec = Spec {
    resource: Resource::BillableItems,
    name: "billable_items",
    reference: true,
    default: false,
    routes: ROUTES,
    columns: &[
        Column::field("name", Text),
        Column::field("item_code", Text),
        Column::field("item_type", Text),
        Column::field("price", Decimal),
    ],
    api_fields: &[
        "archived_at",
        "created_at",
        "id",
        "item_code",
        "item_type",
        "links.self",
        "name",
        "price",
        "tax.links.self",
        "updated_at",
    ],
};
