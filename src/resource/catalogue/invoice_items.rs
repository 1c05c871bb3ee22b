//! Invoice items: the lines of invoices (opt-in); amounts are exact decimals.

use super::super::spec::Kind::{Decimal, Integer, Text};
use super::super::spec::{ARCHIVED, Column, Route, Spec};
use super::Resource;

const ROUTES: &[Route] =
    &[Route::list(Resource::InvoiceItems, "/invoice_items", "invoice_items").hidden(ARCHIVED)];

pub(super) const SPEC: Spec = Spec {
    resource: Resource::InvoiceItems,
    name: "invoice_items",
    reference: false,
    default: false,
    routes: ROUTES,
    columns: &[
        Column::link("invoice_id", "invoice", Some(Resource::Invoices)),
        Column::link("product_id", "product", Some(Resource::Products)),
        Column::link(
            "billable_item_id",
            "billable_item",
            Some(Resource::BillableItems),
        ),
        Column::field("name", Text),
        Column::field("code", Text),
        Column::field("quantity", Integer),
        Column::field("unit_price", Decimal),
        Column::field("discounted_amount", Decimal),
        Column::field("net_price", Decimal),
        Column::field("total_including_tax", Decimal),
    ],
    api_fields: &[
        "archived_at",
        "billable_item.links.self",
        "code",
        "concession_type_name",
        "created_at",
        "deleted_at",
        "discount_percentage",
        "discounted_amount",
        "id",
        "invoice.links.self",
        "is_monetary_discount",
        "links.self",
        "name",
        "net_price",
        "product.links.self",
        "quantity",
        "tax_amount",
        "tax_name",
        "tax_rate",
        "total_including_tax",
        "unit_price",
        "updated_at",
    ],
};
