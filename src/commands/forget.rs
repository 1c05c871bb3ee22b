//! `forget --org ID [--yes]`: erases everything stored for one org (every row, cursor and
//! run), for a clinic that left. Without `--yes` it only shows what would go.

use std::fmt::Write as _;

use super::output::{self, outln};
use super::{CommandError, Exit, Globals};
use crate::cli::ForgetArgs;
use crate::store;

/// Runs `forget` from the command line.
pub fn run(globals: &Globals, args: &ForgetArgs) -> Result<Exit, CommandError> {
    let id = args.org.as_str();
    if !crate::config::is_org_id(id) {
        return Err(CommandError::Usage(format!(
            "--org `{id}` is not an org id (letters, digits, `_` and `-`)"
        )));
    }
    let config = super::load_config_without_keys(globals)?;
    if config.org(id).is_some() {
        log::warn!(
            "org {id} is still in the config ({}): the next sync downloads it all again; \
             remove its [[org]] table to stop syncing it",
            config.path.display()
        );
    }
    let location = super::store_location(&config);
    let reader = store::open_read_only(&location)?;
    let (rows, stored) = match &reader {
        Some(s) => (s.org_rows(id)?, s.stored_orgs()?),
        None => (Vec::new(), Vec::new()),
    };
    drop(reader);
    if rows.iter().all(|(_, n)| *n == 0) {
        // A typo or a case slip must not pass for a completed erasure.
        outln!("nothing is stored for org {id} in {location}")?;
        match stored.as_slice() {
            [] => outln!("no org is stored there at all")?,
            ids => outln!("orgs stored there: {}", ids.join(", "))?,
        }
        if let Some(like) = stored.iter().find(|s| s.eq_ignore_ascii_case(id)) {
            outln!("org ids are case-sensitive: did you mean `{like}`?")?;
        }
        return Ok(Exit::Failure);
    }
    if !args.yes {
        output::print(&table(
            &format!("would delete for org {id} from {location}"),
            &rows,
        ))?;
        outln!("nothing deleted: run `routiq-sync forget --org {id} --yes` to delete it")?;
        return Ok(Exit::Failure);
    }
    let mut store = store::open(&location)?;
    // A sync running now would write the org's rows back as we delete them.
    let Some(_guard) = store.try_lock_org(id)? else {
        log::error!("a sync of org {id} is running now; run forget again when it has finished");
        return Ok(Exit::Failure);
    };
    let rows = store.forget_org(id)?;
    output::print(&table(
        &format!("deleted for org {id} from {location}"),
        &rows,
    ))?;
    Ok(Exit::Success)
}

/// `title`, one aligned line per table, and the total.
fn table(title: &str, rows: &[(&str, u64)]) -> String {
    let total: u64 = rows.iter().map(|(_, n)| n).sum();
    let mut out = format!("{title}:\n");
    let width = rows.iter().map(|(t, _)| t.len()).max().unwrap_or(0).max(5);
    for (name, n) in rows {
        let _ = writeln!(out, "  {name:<width$}  {n:>9}");
    }
    let _ = writeln!(out, "  {:<width$}  {total:>9}", "total");
    out
}
