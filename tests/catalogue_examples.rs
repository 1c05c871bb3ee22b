//! Each resource's list example from Cliniko's API reference (`tests/fixtures/cliniko/`,
//! `openapi-generated-*-list.json`) parses, and its typed columns are what the catalogue
//! says (derived independently, `common::catalogue`); every decimal column keeps the
//! digits sent. A resource added to the catalogue fails here until its example is there.

mod common;

use common::catalogue::expected_columns;
use routiq_sync::cliniko::parse_page;
use routiq_sync::privacy::OrgPolicy;
use routiq_sync::resource::{Kind, Resource, Source};

/// Resources whose examples are the legacy documentation's (tested in the parser's own
/// tests): the reference data the first release synced, which has no generated example.
const LEGACY_EXAMPLES_ONLY: &[&str] = &["appointment_types", "practitioners", "businesses"];

/// The example of a route's list, e.g. `/invoice_items` -> `openapi-generated-invoice-items-list.json`.
fn example(path: &str) -> Option<Vec<u8>> {
    let name = path.trim_start_matches('/').replace(['_', '/'], "-");
    let file = format!(
        "{}/tests/fixtures/cliniko/openapi-generated-{name}-list.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(file).ok()
}

#[test]
fn every_resources_example_gives_its_typed_columns() {
    for resource in Resource::ALL {
        let route = resource.spec().routes[0];
        let Some(body) = example(route.path) else {
            assert!(
                LEGACY_EXAMPLES_ONLY.contains(&resource.name()),
                "{resource}: no example of {} in tests/fixtures/cliniko/",
                route.path
            );
            continue;
        };
        let page = parse_page(&route, &body, &OrgPolicy::default())
            .unwrap_or_else(|e| panic!("{resource}: {e}"));
        assert!(!page.records.is_empty(), "{resource}");
        let envelope: serde_json::Value = serde_json::from_slice(&body).unwrap();
        for (record, sent) in page
            .records
            .iter()
            .zip(envelope[route.list_key].as_array().unwrap())
        {
            assert_eq!(record.id, sent["id"].as_str().unwrap(), "{resource}");
            let expected = expected_columns(resource, &sent.to_string());
            for ((column, want), got) in resource
                .spec()
                .columns
                .iter()
                .zip(expected)
                .zip(&record.columns)
            {
                if let Some(want) = want {
                    assert_eq!(got, &want, "{resource}.{}", column.name);
                }
                // The generated examples link every record they can.
                if matches!(column.source, Source::Link(..)) {
                    assert!(got.is_some(), "{resource}.{}", column.name);
                }
            }
        }
    }
}

#[test]
fn every_decimal_column_keeps_the_digits_sent() {
    for resource in Resource::ALL {
        let route = resource.spec().routes[0];
        for (i, column) in resource.spec().columns.iter().enumerate() {
            let (Kind::Decimal, Source::Field(field)) = (column.kind, column.source) else {
                continue;
            };
            for (sent, stored) in [
                ("93.6100000000000000001", Some("93.6100000000000000001")),
                ("\"123456789012345678.90\"", Some("123456789012345678.90")),
                ("\"85.10\"", Some("85.10")),
                ("-0.5", Some("-0.5")),
                ("\"string\"", None),
                ("\"\"", None),
                ("null", None),
            ] {
                let body = format!(
                    r#"{{"{}": [{{"id": "7", "updated_at": "2024-01-01T00:00:00Z", "{field}": {sent}}}]}}"#,
                    route.list_key
                );
                let page = parse_page(&route, body.as_bytes(), &OrgPolicy::default()).unwrap();
                assert_eq!(
                    page.records[0].columns[i].as_deref(),
                    stored,
                    "{resource}.{} from {sent}",
                    column.name
                );
            }
        }
    }
}
