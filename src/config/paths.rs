//! Resolves the `database` and `lock_dir` settings to absolute-or-config-relative paths.

use std::path::{Path, PathBuf};

use super::env_var;

/// The database file's path below the XDG data directory.
const DATA_FILE: &str = "routiq-sync/routiq-sync.db";

/// `$XDG_DATA_HOME/routiq-sync/routiq-sync.db`, or `$HOME/.local/share/…` when
/// `XDG_DATA_HOME` is unset, empty or relative. The error says what to set.
pub(super) fn default_database(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
    if let Some(dir) = env_var(env, "XDG_DATA_HOME").filter(|d| Path::new(d).is_absolute()) {
        return Ok(Path::new(&dir).join(DATA_FILE));
    }
    match env_var(env, "HOME") {
        Some(home) => Ok(Path::new(&home).join(".local/share").join(DATA_FILE)),
        None => Err(
            "not set, and there is no default because neither $XDG_DATA_HOME nor \
                     $HOME is set; set database = \"/path/to/routiq-sync.db\""
                .to_string(),
        ),
    }
}

/// The default lock folder: `locks` beside the database file.
pub(super) fn default_lock_dir(database: &Path) -> PathBuf {
    match database.parent() {
        Some(parent) => parent.join("locks"),
        None => PathBuf::from("locks"),
    }
}

/// Resolves a path written in the config file: `~` and `~/…` expand to `$HOME`; other
/// relative paths are taken relative to the directory holding the config file (so the
/// result does not depend on where cron happens to start the process).
pub(super) fn resolve(
    value: &str,
    config_path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PathBuf, String> {
    if value.trim().is_empty() {
        return Err("is empty; give a file path, or remove the line to use the default".into());
    }
    if value == "~" || value.starts_with("~/") {
        let home = env_var(env, "HOME")
            .ok_or("starts with `~` but $HOME is not set; write the full path")?;
        let rest = value.trim_start_matches('~').trim_start_matches('/');
        return Ok(Path::new(&home).join(rest));
    }
    let path = Path::new(value);
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let base = config_path.parent().unwrap_or(Path::new(""));
    Ok(base.join(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let env = |k: &str| match k {
            "XDG_DATA_HOME" => Some("/xdg/data".to_string()),
            "HOME" => Some("/home/u".to_string()),
            _ => None,
        };
        assert_eq!(
            default_database(&env).unwrap(),
            PathBuf::from("/xdg/data/routiq-sync/routiq-sync.db")
        );
        let env = |k: &str| (k == "HOME").then(|| "/home/u".to_string());
        let db = default_database(&env).unwrap();
        assert_eq!(
            db,
            PathBuf::from("/home/u/.local/share/routiq-sync/routiq-sync.db")
        );
        assert_eq!(
            default_lock_dir(&db),
            PathBuf::from("/home/u/.local/share/routiq-sync/locks")
        );
        let env = |k: &str| (k == "XDG_DATA_HOME").then(|| "rel".to_string());
        assert!(default_database(&env).unwrap_err().contains("HOME"));
    }

    #[test]
    fn resolving() {
        let env = |k: &str| (k == "HOME").then(|| "/home/u".to_string());
        let cfg = Path::new("/etc/routiq-sync/config.toml");
        assert_eq!(
            resolve("/abs/x.db", cfg, &env).unwrap(),
            PathBuf::from("/abs/x.db")
        );
        assert_eq!(
            resolve("data/x.db", cfg, &env).unwrap(),
            PathBuf::from("/etc/routiq-sync/data/x.db")
        );
        assert_eq!(
            resolve("~/x.db", cfg, &env).unwrap(),
            PathBuf::from("/home/u/x.db")
        );
        assert_eq!(
            resolve("x.db", Path::new("c.toml"), &env).unwrap(),
            PathBuf::from("x.db")
        );
        assert!(resolve("", cfg, &env).is_err());
        assert!(resolve("~/x", cfg, &|_| None).is_err());
    }
}
