//! Finds the config file: `--config`, `$ROUTIQ_SYNC_CONFIG`, the XDG config dir, `/etc`.

use std::path::{Path, PathBuf};

use super::error::ConfigError;
use super::{LoadOptions, env_var};

/// Environment variable naming the config file when `--config` is not given.
pub const CONFIG_ENV: &str = "ROUTIQ_SYNC_CONFIG";

/// The system-wide config file, the last place searched.
pub const SYSTEM_CONFIG: &str = "/etc/routiq-sync/config.toml";

/// The config file's path below `$XDG_CONFIG_HOME` (or `~/.config`).
const USER_CONFIG: &str = "routiq-sync/config.toml";

/// Finds the config file, in this order:
///
/// 1. `opts.explicit_path` (`--config`);
/// 2. `$ROUTIQ_SYNC_CONFIG`, when set and not empty;
/// 3. `$XDG_CONFIG_HOME/routiq-sync/config.toml`, or `$HOME/.config/routiq-sync/config.toml`
///    when `XDG_CONFIG_HOME` is unset, empty or relative (the XDG spec says to ignore
///    relative values);
/// 4. `/etc/routiq-sync/config.toml`.
///
/// A path from 1 or 2 must exist (a typo there should not silently pick up another
/// file). For 3 and 4 the first that exists wins; if neither does, the error lists every
/// place tried.
pub fn locate(opts: &LoadOptions<'_>) -> Result<PathBuf, ConfigError> {
    locate_with_system(opts, Path::new(SYSTEM_CONFIG))
}

/// [`locate`] with the system-wide path as a parameter, so tests need not touch `/etc`.
pub(super) fn locate_with_system(
    opts: &LoadOptions<'_>,
    system: &Path,
) -> Result<PathBuf, ConfigError> {
    if let Some(path) = opts.explicit_path {
        return must_exist(path.to_path_buf(), "--config");
    }
    if let Some(path) = env_var(opts.env, CONFIG_ENV) {
        return must_exist(PathBuf::from(path), &format!("${CONFIG_ENV}"));
    }
    let mut tried = vec![
        "--config: not given".to_string(),
        format!("${CONFIG_ENV}: not set"),
    ];
    match user_config(opts.env) {
        Some((path, via)) => {
            if exists(&path) {
                return Ok(path);
            }
            tried.push(format!("{} (from {via}): not found", path.display()));
        }
        None => tried.push(
            "$XDG_CONFIG_HOME/routiq-sync/config.toml: neither $XDG_CONFIG_HOME nor $HOME is set"
                .to_string(),
        ),
    }
    if exists(system) {
        return Ok(system.to_path_buf());
    }
    tried.push(format!("{}: not found", system.display()));
    Err(ConfigError::NotFound { tried })
}

/// The per-user config path and the variable it came from.
fn user_config(env: &dyn Fn(&str) -> Option<String>) -> Option<(PathBuf, &'static str)> {
    if let Some(dir) = env_var(env, "XDG_CONFIG_HOME").filter(|d| Path::new(d).is_absolute()) {
        return Some((Path::new(&dir).join(USER_CONFIG), "$XDG_CONFIG_HOME"));
    }
    let home = env_var(env, "HOME")?;
    Some((Path::new(&home).join(".config").join(USER_CONFIG), "$HOME"))
}

fn must_exist(path: PathBuf, via: &str) -> Result<PathBuf, ConfigError> {
    if exists(&path) {
        Ok(path)
    } else {
        Err(ConfigError::Missing {
            path,
            via: via.to_string(),
        })
    }
}

/// Whether something is at `path`. When that cannot be told (e.g. a directory on the way
/// is unreadable) the answer is yes, so that reading it reports the real cause.
fn exists(path: &Path) -> bool {
    path.try_exists().unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::fs;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn touch(path: &Path) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "").unwrap();
    }

    #[test]
    fn search_order() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let explicit = root.join("explicit.toml");
        let from_env = root.join("env.toml");
        let xdg = root.join("xdg");
        let home = root.join("home");
        let system = root.join("etc/config.toml");
        let xdg_file = xdg.join("routiq-sync/config.toml");
        let home_file = home.join(".config/routiq-sync/config.toml");
        for f in [&explicit, &from_env, &xdg_file, &home_file, &system] {
            touch(f);
        }
        let find = |explicit: Option<&Path>, pairs: &[(&str, &str)]| {
            let env = env_of(pairs);
            let opts = LoadOptions {
                explicit_path: explicit,
                env: &env,
            };
            locate_with_system(&opts, &system).unwrap()
        };
        let (from_env_s, xdg_s, home_s) = (
            from_env.to_str().unwrap(),
            xdg.to_str().unwrap(),
            home.to_str().unwrap(),
        );
        let all = [
            ("ROUTIQ_SYNC_CONFIG", from_env_s),
            ("XDG_CONFIG_HOME", xdg_s),
            ("HOME", home_s),
        ];
        assert_eq!(find(Some(&explicit), &all), explicit);
        assert_eq!(find(None, &all), from_env);
        let empty_env_var = [
            ("ROUTIQ_SYNC_CONFIG", ""),
            ("XDG_CONFIG_HOME", xdg_s),
            ("HOME", home_s),
        ];
        assert_eq!(find(None, &empty_env_var), xdg_file);

        // Empty or relative XDG_CONFIG_HOME falls back to $HOME/.config.
        for xdg_value in ["", "relative/dir"] {
            let pairs = [("XDG_CONFIG_HOME", xdg_value), ("HOME", home_s)];
            assert_eq!(find(None, &pairs), home_file);
        }

        // XDG set but its file missing: /etc is next (not $HOME).
        let nothing = root.join("nothing");
        let pairs = [
            ("XDG_CONFIG_HOME", nothing.to_str().unwrap()),
            ("HOME", home_s),
        ];
        assert_eq!(find(None, &pairs), system);
    }

    #[test]
    fn explicit_or_env_path_must_exist() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("nope.toml");
        let system = tmp.path().join("etc.toml");
        touch(&system);
        let env = env_of(&[]);
        let opts = LoadOptions {
            explicit_path: Some(&missing),
            env: &env,
        };
        let err = locate_with_system(&opts, &system).unwrap_err().to_string();
        assert!(
            err.contains(missing.to_str().unwrap()) && err.contains("--config"),
            "{err}"
        );

        let env = env_of(&[("ROUTIQ_SYNC_CONFIG", missing.to_str().unwrap())]);
        let opts = LoadOptions {
            explicit_path: None,
            env: &env,
        };
        let err = locate_with_system(&opts, &system).unwrap_err().to_string();
        assert!(
            err.contains(missing.to_str().unwrap()) && err.contains("ROUTIQ_SYNC_CONFIG"),
            "{err}"
        );
    }

    #[test]
    fn none_found_names_every_place() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let system = tmp.path().join("etc/config.toml");
        let env = env_of(&[("HOME", home.to_str().unwrap())]);
        let opts = LoadOptions {
            explicit_path: None,
            env: &env,
        };
        let err = locate_with_system(&opts, &system).unwrap_err();
        assert!(matches!(err, ConfigError::NotFound { .. }));
        let text = err.to_string();
        for needle in [
            "--config",
            "ROUTIQ_SYNC_CONFIG",
            home.join(".config/routiq-sync/config.toml")
                .to_str()
                .unwrap(),
            system.to_str().unwrap(),
        ] {
            assert!(text.contains(needle), "{needle} missing from: {text}");
        }

        let env = env_of(&[]);
        let opts = LoadOptions {
            explicit_path: None,
            env: &env,
        };
        let text = locate_with_system(&opts, &system).unwrap_err().to_string();
        assert!(text.contains("$HOME is set") && text.contains(system.to_str().unwrap()));
    }

    #[test]
    fn real_system_path_is_etc() {
        assert_eq!(SYSTEM_CONFIG, "/etc/routiq-sync/config.toml");
    }
}
