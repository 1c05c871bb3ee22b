//! Scrub marks, as both backends keep them: the tables whose deleted or replaced rows are
//! still to be scrubbed from the database's files. A delete or rewrite marks its tables
//! in its own transaction; the scrub runs once at the end of the run for every mark, so
//! that many orgs' changes to one table cost one rewrite of it, and a scrub deferred or
//! cut short stays marked for the next run.

use super::known_tables;

/// Every mark, taken (unmarked) at once: a mark added after it waits for the next scrub.
pub(crate) const TAKE_SCRUB_DUE: &str =
    "DELETE FROM scrub_due RETURNING org_id, table_name, vacuum";

/// One mark: an org's rows deleted or replaced in a table, and whether the file must be
/// rebuilt (SQLite) for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mark {
    pub org_id: String,
    pub table: String,
    pub vacuum: bool,
}

/// The marked tables among routiq-sync's own (a name it does not know is ignored), each
/// once, in their usual order, and whether any mark asked for a rebuild.
pub(crate) fn marked(marks: &[Mark]) -> (Vec<&'static str>, bool) {
    let tables = known_tables(marks.iter().map(|m| m.table.as_str()));
    (tables, marks.iter().any(|m| m.vacuum))
}
