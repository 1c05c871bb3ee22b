//! A command's output on stdout. A reader that stops early (`status | head -1`) is not a
//! failure: the rest of the output is dropped quietly and the command ends as it would
//! have, with its own exit status. Any other write error is one.
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe returns `BrokenPipe`; `println!`
//! would turn that into a panic (exit 101), so commands print through here instead.
//! SIGPIPE is left ignored rather than reset to its default: a signal that kills the
//! process at any write would also cut a sync short between two commits, and would
//! hang on to a PostgreSQL lease until it expires.

use std::io::{ErrorKind, Write};

use super::CommandError;

/// Writes `text` to stdout, locked for the whole text, then flushed.
pub fn print(text: &str) -> Result<(), CommandError> {
    write(text.as_bytes())
}

/// Writes `bytes` to stdout, as [`print`] does.
pub fn write(bytes: &[u8]) -> Result<(), CommandError> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        // The reader has what it wanted (`| head -1`, a pager quit early).
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CommandError::Other(anyhow::anyhow!(
            "cannot write to standard output: {e}; check where the output goes (a full disk?)"
        ))),
        Ok(()) => Ok(()),
    }
}

/// `println!` through [`print`]: `outln!("{n} rows")?`.
macro_rules! outln {
    () => {
        $crate::commands::output::print("\n")
    };
    ($($arg:tt)*) => {
        $crate::commands::output::print(&format!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use outln;
