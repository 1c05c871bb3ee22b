//! `demo`: placeholder until the fake server lands.
use super::{CommandError, Exit, Globals};
use crate::cli::DemoArgs;

/// Runs the demo.
pub fn run(_globals: &Globals, _args: &DemoArgs) -> Result<Exit, CommandError> {
    Err(CommandError::Usage("demo is not built yet".into()))
}
