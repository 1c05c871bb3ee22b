//! Products: what a clinic sells over the counter (opt-in reference data); prices are
//! exact decimals.

use super::super::spec::Kind::{Decimal, Integer, Text};
use super::super::spec::{ARCHIVED, Column, Route, Spec};
use super::Resource;

const ROUTES: &[Route] =
    &[Route::list(Resource::Products, "/products", "products").hidden(ARCHIVED)];

pub(super) const SPEC: Spec = Spec {
    resource: Resource::Products,
    name: "products",
    reference: true,
    default: false,
    routes: ROUTES,
    columns: &[
        Column::field("name", Text),
        Column::field("item_code", Text),
        Column::field("price_ex_tax", Decimal),
        Column::field("price_including_tax", Decimal),
        Column::field("cost_price", Decimal),
        Column::field("stock_level", Integer),
    ],
    api_fields: &[
        "archived_at",
        "cost_price",
        "created_at",
        "id",
        "item_code",
        "links.self",
        "name",
        "notes",
        "price_ex_tax",
        "price_including_tax",
        "product_supplier.links.self",
        "product_supplier_name",
        "serial_number",
        "stock_level",
        "tax.links.self",
        "updated_at",
    ],
};
