//! The docs' lists of resources are the resource catalogue's: the "What is synced" and
//! "Tables" tables of docs/dashboard.md, the README's `resources` key and the resources
//! docs/privacy.md names. A resource added to the catalogue fails here until its docs
//! rows say what it is.

use routiq_sync::resource::Resource;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The rows of the Markdown table that follows `heading`, as cells.
fn table_after(page: &str, heading: &str) -> Vec<Vec<String>> {
    let start = page
        .find(heading)
        .unwrap_or_else(|| panic!("no `{heading}`"));
    page[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// The `code` spans of `text` outside parentheses (what a cell lists, not its notes).
fn listed(text: &str) -> Vec<String> {
    let mut depth = 0;
    let mut plain = String::new();
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    plain
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn code(name: &str) -> String {
    format!("`{name}`")
}

#[test]
fn what_is_synced_lists_every_resource_with_its_routes_default_filters_and_requests() {
    let rows = table_after(&read("docs/dashboard.md"), "## What is synced");
    let names: Vec<&str> = rows.iter().map(|r| r[0].trim_matches('`')).collect();
    assert_eq!(
        names,
        Resource::ALL.map(Resource::name),
        "one row per resource, in order"
    );
    for (row, resource) in rows.iter().zip(Resource::ALL) {
        let spec = resource.spec();
        let paths: Vec<&str> = spec.routes.iter().map(|r| r.path).collect();
        assert_eq!(listed(&row[1]), paths, "{resource}: routes");
        assert_eq!(
            row[2],
            if spec.default { "on" } else { "off" },
            "{resource}: default"
        );
        let filters: Vec<String> = spec.routes[0]
            .include_hidden
            .iter()
            .map(|f| format!("{f}:*"))
            .collect();
        assert_eq!(listed(&row[3]), filters, "{resource}: hidden rows opted in");
        assert_eq!(
            row[4],
            spec.routes.len().to_string(),
            "{resource}: requests"
        );
    }
}

#[test]
fn tables_lists_every_resources_columns_in_order() {
    let rows = table_after(&read("docs/dashboard.md"), "## Tables");
    let names: Vec<&str> = rows.iter().map(|r| r[0].trim_matches('`')).collect();
    assert_eq!(
        names,
        Resource::ALL.map(Resource::name),
        "one row per table, in order"
    );
    for (row, resource) in rows.iter().zip(Resource::ALL) {
        let columns: Vec<&str> = resource.spec().columns.iter().map(|c| c.name).collect();
        assert_eq!(listed(&row[1]), columns, "{resource}: columns");
    }
}

#[test]
fn the_readme_and_the_privacy_page_name_every_resource() {
    let quoted = |default: bool| -> Vec<String> {
        Resource::ALL
            .into_iter()
            .filter(|r| r.spec().default == default)
            .map(|r| format!("\"{}\"", r.name()))
            .collect()
    };
    let readme = read("README.md");
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `resources` |"))
        .expect("the README's `resources` row");
    assert!(
        row.contains(&format!("`[{}]`", quoted(true).join(", "))),
        "the README's default resources: {row}"
    );
    let optional: Vec<String> = quoted(false).iter().map(|q| format!("`{q}`")).collect();
    assert!(
        row.contains(&format!("Also {}.", optional.join(", "))),
        "the README's optional resources: {row}"
    );
    let privacy = read("docs/privacy.md");
    let names: Vec<String> = Resource::ALL.iter().map(|r| code(r.name())).collect();
    assert!(
        privacy
            .replace('\n', " ")
            .contains(&format!("Per resource ({}):", names.join(", "))),
        "docs/privacy.md's list of resources"
    );
}

#[test]
fn the_dashboard_page_names_the_reference_data() {
    let page = read("docs/dashboard.md").replace('\n', " ");
    let reference: Vec<String> = Resource::ALL
        .into_iter()
        .filter(|r| r.is_reference())
        .map(|r| code(r.name()))
        .collect();
    let stated = format!("Reference data: {}.", reference.join(", "));
    assert!(page.contains(&stated), "docs/dashboard.md: `{stated}`");
}
