//! Which table each resource lands in, and its resource-specific columns (both from the
//! resource catalogue).

use std::sync::OnceLock;

use crate::resource::Resource;

/// The columns every record table has, on both backends, before its own
/// ([`TableSpec::columns`]).
pub const COMMON_COLUMNS: &[&str] = &[
    "org_id",
    "id",
    "created_at",
    "updated_at",
    "archived_at",
    "deleted_upstream_at",
    "raw_json",
    "synced_at",
];

/// Columns of SQLite's record tables that PostgreSQL never had: `seen_full_run` marked a
/// full walk's rows until `full_seen` replaced it, and is no longer written (a column is
/// never dropped from the public tables).
pub const SQLITE_LEGACY_COLUMNS: &[&str] = &["seen_full_run"];

/// The table of one resource: its name and the columns beyond [`COMMON_COLUMNS`].
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    pub name: &'static str,
    /// In the order of [`crate::record::Record::columns`].
    pub columns: &'static [&'static str],
}

/// Every table holding an org's data: the resource tables, then state, run history and
/// the privacy policy's state.
pub fn org_tables() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Resource::ALL.iter().map(|r| table(*r).name).collect();
    names.extend([
        "sync_state",
        "full_seen",
        "runs",
        "org_facts",
        "privacy_state",
        "derived_columns",
        "local_offsets",
    ]);
    names
}

/// The tables of [`org_tables`] that `names` names (a name it does not know is
/// ignored), each once, in their usual order.
pub(crate) fn known_tables<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'static str> {
    let names: Vec<&str> = names.into_iter().collect();
    org_tables()
        .into_iter()
        .filter(|t| names.contains(t))
        .collect()
}

/// The table that holds `resource`: its catalogue entry's name and columns.
pub fn table(resource: Resource) -> TableSpec {
    static COLUMNS: OnceLock<Vec<Vec<&'static str>>> = OnceLock::new();
    let columns = COLUMNS.get_or_init(|| {
        Resource::ALL
            .iter()
            .map(|r| r.spec().columns.iter().map(|c| c.name).collect())
            .collect()
    });
    TableSpec {
        name: resource.name(),
        columns: &columns[resource as usize],
    }
}
