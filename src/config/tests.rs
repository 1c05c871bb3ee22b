//! Whole-file tests: bad configs must fail with useful, key-free messages; good ones load.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

/// An inline key that must never show up in any message.
const KEY: &str = "SuperSecretInlineKeyValue123-uk2";
/// A recognisable chunk of it, in case a message quotes it partly.
const KEY_PART: &str = "SuperSecretInline";
const UA: &str = "user_agent = \"Routiq Sync (ops@example.com)\"\n";
const GOOD_ORG: &str = "[[org]]\nid = \"a\"\napi_key_env = \"CLINIKO_KEY_A\"\n";

fn cfg_path() -> PathBuf {
    PathBuf::from("/srv/routiq/config.toml")
}

fn fake_env(name: &str) -> Option<String> {
    match name {
        "CLINIKO_KEY_A" => Some("envkeyvalue-au3".to_string()),
        "CLINIKO_KEY_B" => Some("envkeyvalueb-au3".to_string()),
        "CLINIKO_KEY_C" => Some("envkeyvaluec-au3".to_string()),
        "CLINIKO_KEY_NOSUFFIX" => Some("envkeynosuffix".to_string()),
        "CLINIKO_KEY_NOSUFFIX_2" => Some("envkeynosuffix2".to_string()),
        "EMPTY_VAR" => Some("   ".to_string()),
        "HOME" => Some("/home/u".to_string()),
        _ => None,
    }
}

fn inline_org() -> String {
    format!("[[org]]\nid = \"inl\"\napi_key = \"{KEY}\"\n")
}

fn parse_text(text: &str) -> Result<Config, ConfigError> {
    parse(text, &cfg_path(), &fake_env)
}

fn parse_ok(text: &str) -> Config {
    match parse_text(text) {
        Ok(config) => config,
        Err(err) => panic!("expected a valid config, got: {err}\n--- text:\n{text}"),
    }
}

#[test]
fn bad_configs_name_file_key_and_org_but_never_the_key() {
    let inl = inline_org();
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "malformed toml",
            format!("{UA}{inl}jobs = [1,\n"),
            vec!["TOML error", "line 5"],
        ),
        (
            "syntax error on the api_key line",
            format!("{UA}[[org]]\nid = \"inl\"\napi_key = \"{KEY}\" trailing\n"),
            vec!["line 4", "syntax"],
        ),
        (
            "wrong type top level",
            format!("{UA}jobs = \"four\"\n{inl}"),
            vec!["`jobs`", "line 2, column 8", "whole number"],
        ),
        (
            "duration given as a number",
            format!("{UA}min_interval = 1800\n{inl}"),
            vec!["`min_interval`", "line 2", "\"30m\""],
        ),
        (
            "unknown top-level key",
            format!("{UA}colour = \"blue\"\n{inl}"),
            vec!["`colour`", "unknown field", "line 2"],
        ),
        (
            "unknown org key",
            format!("{UA}{inl}{GOOD_ORG}bogus = 1\n"),
            vec!["`org[1].bogus`", "org `a`", "unknown field"],
        ),
        (
            "wrong type in org",
            format!("{UA}{inl}{GOOD_ORG}resources = \"patients\"\n"),
            vec!["`org[1].resources`", "org `a`", "list of resource names"],
        ),
        (
            "api_key of the wrong type",
            format!("{UA}{GOOD_ORG}[[org]]\nid = \"inl\"\napi_key = [\"{KEY}\"]\n"),
            vec!["`org[1].api_key`", "org `inl`", "string"],
        ),
        (
            "unknown window key",
            format!(
                "{UA}appointment_window = {{ past_days = 1, future_days = 2, extra = 3 }}\n{inl}"
            ),
            vec!["`appointment_window.extra`", "unknown field"],
        ),
        (
            "single [org] table",
            format!("{UA}[org]\nid = \"inl\"\napi_key = \"{KEY}\"\n"),
            vec!["`org`", "[[org]]"],
        ),
        (
            "bad duration",
            format!("{UA}min_interval = \"30 minutes\"\n{inl}"),
            vec!["`min_interval`", "30 minutes", "1h30m"],
        ),
        (
            "zero request timeout",
            format!("{UA}request_timeout = \"0s\"\n{inl}"),
            vec!["`request_timeout`", "more than zero"],
        ),
        (
            "zero jobs",
            format!("{UA}jobs = 0\n{inl}"),
            vec!["`jobs`", "at least 1"],
        ),
        (
            "zero retry attempts",
            format!("{UA}retry_attempts = 0\n{inl}"),
            vec!["`retry_attempts`", "from 1"],
        ),
        (
            "negative rpm",
            format!("{UA}requests_per_minute = -5\n{inl}"),
            vec!["`requests_per_minute`", "positive"],
        ),
        (
            "nan rpm",
            format!("{UA}requests_per_minute = nan\n{inl}"),
            vec!["`requests_per_minute`", "positive"],
        ),
        (
            "negative window days",
            format!("{UA}appointment_window = {{ past_days = -1, future_days = 2 }}\n{inl}"),
            vec!["`appointment_window.past_days`", "0 or more"],
        ),
        (
            "window missing a side",
            format!("{UA}appointment_window = {{ past_days = 1 }}\n{inl}"),
            vec!["`appointment_window.future_days`", "missing"],
        ),
        (
            "missing user_agent",
            inl.clone(),
            vec!["`user_agent`", "missing", "Cliniko"],
        ),
        (
            "bad user_agent",
            format!("user_agent = \"Routiq Sync\"\n{inl}"),
            vec!["`user_agent`", "Cliniko requires", "(contact@email)"],
        ),
        (
            "empty org list",
            format!("{UA}org = []\n"),
            vec!["`org`", "no orgs", "[[org]]"],
        ),
        ("no org at all", UA.to_string(), vec!["`org`", "no orgs"]),
        (
            "duplicate org id",
            format!("{UA}{GOOD_ORG}{inl}{GOOD_ORG}"),
            vec!["`org[2].id`", "org[0]", "org[2]", "org `a`", "duplicate"],
        ),
        (
            "bad org id chars",
            format!("{UA}[[org]]\nid = \"bad id!\"\napi_key = \"{KEY}\"\n"),
            vec!["`org[0].id`", "letters"],
        ),
        (
            "missing org id",
            format!("{UA}[[org]]\napi_key = \"{KEY}\"\n"),
            vec!["`org[0].id`", "missing"],
        ),
        (
            "both api_key and api_key_env",
            format!(
                "{UA}[[org]]\nid = \"inl\"\napi_key = \"{KEY}\"\napi_key_env = \"CLINIKO_KEY_A\"\n"
            ),
            vec!["`org[0].api_key`", "org `inl`", "exactly one"],
        ),
        (
            "neither api_key nor api_key_env",
            format!("{UA}{inl}[[org]]\nid = \"b-2\"\n"),
            vec!["`org[1].api_key_env`", "org `b-2`", "CLINIKO_KEY_B_2"],
        ),
        (
            "missing env var",
            format!("{UA}{inl}[[org]]\nid = \"b\"\napi_key_env = \"CLINIKO_KEY_MISSING\"\n"),
            vec![
                "`org[1].api_key_env`",
                "org `b`",
                "`CLINIKO_KEY_MISSING` is not set",
            ],
        ),
        (
            "empty env var",
            format!("{UA}{inl}[[org]]\nid = \"b\"\napi_key_env = \"EMPTY_VAR\"\n"),
            vec!["`org[1].api_key_env`", "org `b`", "`EMPTY_VAR` is empty"],
        ),
        (
            "key pasted into api_key_env",
            format!("{UA}[[org]]\nid = \"inl\"\napi_key_env = \"{KEY}\"\n"),
            vec!["`org[0].api_key_env`", "org `inl`", "not be the key itself"],
        ),
        (
            "empty inline key",
            format!("{UA}[[org]]\nid = \"e\"\napi_key = \"\"\n{inl}"),
            vec!["`org[0].api_key`", "org `e`", "empty"],
        ),
        (
            "bad base_url",
            format!("{UA}{inl}base_url = \"ftp://example.com\"\n"),
            vec!["`org[0].base_url`", "org `inl`", "http://"],
        ),
        (
            "unknown resource",
            format!("{UA}{inl}resources = [\"patients\", \"visits\"]\n"),
            vec!["`org[0].resources`", "org `inl`", "visits", "appointments"],
        ),
        (
            "duplicate resource",
            format!("{UA}{inl}resources = [\"patients\", \"patients\"]\n"),
            vec!["`org[0].resources`", "org `inl`", "twice"],
        ),
        (
            "empty resources",
            format!("{UA}{inl}resources = []\n"),
            vec!["`org[0].resources`", "empty"],
        ),
        (
            "bad shard",
            format!("{UA}{GOOD_ORG}shard = \"zzz\"\n{inl}"),
            vec!["`org[0].shard`", "org `a`", "shard name"],
        ),
        (
            "shard contradicting the key suffix",
            format!("{UA}{inl}shard = \"au1\"\n"),
            vec!["`org[0].shard`", "org `inl`", "`uk2`"],
        ),
        (
            "shard and base_url together",
            format!(
                "{UA}[[org]]\nid = \"b\"\napi_key_env = \"CLINIKO_KEY_NOSUFFIX\"\nshard = \"uk1\"\nbase_url = \"http://127.0.0.1:1/v1\"\n"
            ),
            vec!["`org[0].base_url`", "org `b`", "both"],
        ),
    ];
    assert!(cases.len() >= 15);
    let path = cfg_path();
    let path = path.to_str().unwrap();
    for (name, text, needles) in &cases {
        let err = match parse_text(text) {
            Ok(_) => panic!("{name}: expected an error\n{text}"),
            Err(err) => err.to_string(),
        };
        assert!(err.contains(path), "{name}: no path in: {err}");
        for needle in needles {
            assert!(
                err.contains(needle),
                "{name}: `{needle}` missing from: {err}"
            );
        }
        assert!(
            !err.contains(KEY) && !err.contains(KEY_PART),
            "{name}: key leaked in: {err}"
        );
        assert!(
            !err.contains("envkeyvalue"),
            "{name}: env key leaked in: {err}"
        );
    }
}

#[test]
fn several_problems_are_reported_together() {
    let text = format!("jobs = 0\nmin_interval = \"soon\"\n{}", inline_org());
    let err = parse_text(&text).unwrap_err();
    let ConfigError::Invalid { problems, .. } = &err else {
        panic!("expected Invalid, got {err:?}");
    };
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["user_agent", "min_interval", "jobs"]);
    assert!(err.to_string().contains("3 problems"));
}

#[test]
fn defaults() {
    let config = parse_ok(&format!("{UA}{GOOD_ORG}"));
    assert_eq!(config.path, cfg_path());
    assert_eq!(
        config.database.sqlite_path().unwrap(),
        PathBuf::from("/home/u/.local/share/routiq-sync/routiq-sync.db")
    );
    assert_eq!(
        config.lock_dir,
        PathBuf::from("/home/u/.local/share/routiq-sync/locks")
    );
    assert_eq!(config.user_agent, "Routiq Sync (ops@example.com)");
    assert_eq!(config.min_interval, Duration::from_secs(1800));
    assert_eq!(config.full_sync_every, Duration::from_secs(7 * 86_400));
    assert_eq!(config.verify_every, Duration::from_secs(86_400));
    assert_eq!(config.reference_every, Duration::from_secs(86_400));
    assert_eq!(config.jobs, 4);
    assert_eq!(config.requests_per_minute, 180.0);
    assert_eq!(config.request_timeout, Duration::from_secs(30));
    assert_eq!(config.retry_attempts, 5);
    assert_eq!(config.max_wait, Duration::from_secs(300));
    assert_eq!(config.appointment_window, None);
    assert_eq!(config.max_run_time, None);
    assert_eq!(config.log_format, None);
    assert_eq!(config.ping_url, None);
    assert_eq!(config.keep_runs, Some(Duration::from_secs(90 * 86_400)));
    assert_eq!(
        config.purge_deleted_after,
        Some(Duration::from_secs(30 * 86_400))
    );
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    for setting in SETTINGS {
        let expected = if setting == "user_agent" {
            Source::File
        } else {
            Source::Default
        };
        assert_eq!(config.source_of(setting), Some(expected), "{setting}");
    }
    assert_eq!(config.source_of("nonsense"), None);

    let org = config.org("a").unwrap();
    assert_eq!(org.name, None);
    assert_eq!(org.key_source, KeySource::Env("CLINIKO_KEY_A".to_string()));
    assert_eq!(org.api_key.expose(), "envkeyvalue-au3");
    assert_eq!(org.base_url, "https://api.au3.cliniko.com/v1");
    assert_eq!(org.resources, Resource::defaults());
}

#[test]
fn xdg_data_home_sets_default_database() {
    let env = |k: &str| match k {
        "XDG_DATA_HOME" => Some("/data".to_string()),
        "CLINIKO_KEY_A" => Some("k".to_string()),
        _ => None,
    };
    let config = parse(&format!("{UA}{GOOD_ORG}"), &cfg_path(), &env).unwrap();
    assert_eq!(
        config.database.sqlite_path().unwrap(),
        PathBuf::from("/data/routiq-sync/routiq-sync.db")
    );
    let err = parse(&format!("{UA}{GOOD_ORG}"), &cfg_path(), &|k: &str| {
        (k == "CLINIKO_KEY_A").then(|| "k".to_string())
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("`database`") && err.contains("$HOME"), "{err}");
}

#[test]
fn every_setting_from_the_file() {
    let text = format!(
        "database = \"/var/lib/routiq-sync/routiq.db\"\n\
         lock_dir = \"/run/routiq-locks\"\n\
         {UA}\
         min_interval = \"1h30m\"\n\
         full_sync_every = \"2d\"\n\
         verify_every = \"12h\"\n\
         reference_every = \"3d\"\n\
         jobs = 8\n\
         requests_per_minute = 90.5\n\
         request_timeout = \"500ms\"\n\
         retry_attempts = 3\n\
         max_wait = \"10m\"\n\
         retry_delay = \"250ms\"\n\
         appointment_window = {{ past_days = 7, future_days = 30 }}\n\
         max_run_time = \"50m\"\n\
         log_format = \"json\"\n\
         ping_url = \"https://hc-ping.example.com/abc/\"\n\
         keep_runs = \"never\"\n\
         purge_deleted_after = \"7d\"\n\
         [[org]]\nid = \"Org_1\"\nname = \"Bondi Physio\"\napi_key_env = \"CLINIKO_KEY_A\"\n\
         resources = [\"appointments\"]\nping_url = \"http://127.0.0.1:9/p\"\n\
         [[org]]\nid = \"org_1\"\napi_key = \"{KEY}\"\n"
    );
    let config = parse_ok(&text);
    assert_eq!(
        config.database.sqlite_path().unwrap(),
        PathBuf::from("/var/lib/routiq-sync/routiq.db")
    );
    assert_eq!(config.lock_dir, PathBuf::from("/run/routiq-locks"));
    assert_eq!(config.min_interval, Duration::from_secs(5400));
    assert_eq!(config.full_sync_every, Duration::from_secs(172_800));
    assert_eq!(config.verify_every, Duration::from_secs(43_200));
    assert_eq!(config.reference_every, Duration::from_secs(3 * 86_400));
    assert_eq!(config.jobs, 8);
    assert_eq!(config.requests_per_minute, 90.5);
    assert_eq!(config.request_timeout, Duration::from_millis(500));
    assert_eq!(config.retry_attempts, 3);
    assert_eq!(config.max_wait, Duration::from_secs(600));
    assert_eq!(config.retry_delay, Duration::from_millis(250));
    assert_eq!(
        config.appointment_window,
        Some(AppointmentWindow {
            past_days: 7,
            future_days: 30
        })
    );
    assert_eq!(config.max_run_time, Some(Duration::from_secs(3000)));
    assert_eq!(config.log_format, Some(crate::logging::LogFormat::Json));
    assert_eq!(
        config.ping_url.as_deref(),
        Some("https://hc-ping.example.com/abc")
    );
    assert_eq!(config.keep_runs, None);
    assert_eq!(
        config.purge_deleted_after,
        Some(Duration::from_secs(7 * 86_400))
    );
    for setting in SETTINGS {
        assert_eq!(config.source_of(setting), Some(Source::File), "{setting}");
    }
    // Ids are case-sensitive: `Org_1` and `org_1` are different orgs.
    let first = config.org("Org_1").unwrap();
    assert_eq!(first.name.as_deref(), Some("Bondi Physio"));
    assert_eq!(first.resources, vec![Resource::Appointments]);
    assert_eq!(first.ping_url.as_deref(), Some("http://127.0.0.1:9/p"));
    let second = config.org("org_1").unwrap();
    assert_eq!(second.ping_url, None);
    assert_eq!(second.key_source, KeySource::Inline);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert!(!format!("{config:?}").contains(KEY_PART));
}

#[test]
fn shard_from_key_suffix_and_overrides() {
    let text = format!(
        "{UA}{inl}\
         [[org]]\nid = \"nosuffix\"\napi_key_env = \"CLINIKO_KEY_NOSUFFIX\"\n\
         [[org]]\nid = \"shard\"\napi_key_env = \"CLINIKO_KEY_NOSUFFIX_2\"\nshard = \"UK1\"\n\
         [[org]]\nid = \"same\"\napi_key = \"OtherInlineKeyValue-uk2\"\nshard = \"uk2\"\n\
         [[org]]\nid = \"url\"\napi_key_env = \"CLINIKO_KEY_A\"\nbase_url = \"http://127.0.0.1:8080/v1//\"\n",
        inl = inline_org()
    );
    let config = parse_ok(&text);
    let url = |id: &str| config.org(id).unwrap().base_url.clone();
    assert_eq!(url("inl"), "https://api.uk2.cliniko.com/v1");
    assert_eq!(url("nosuffix"), "https://api.au1.cliniko.com/v1");
    assert_eq!(url("shard"), "https://api.uk1.cliniko.com/v1");
    assert_eq!(url("same"), "https://api.uk2.cliniko.com/v1");
    assert_eq!(url("url"), "http://127.0.0.1:8080/v1");
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn plain_http_to_a_remote_host_warns() {
    let text = format!("{UA}{GOOD_ORG}base_url = \"http://proxy.example.com/v1/\"\n");
    let config = parse_ok(&text);
    assert_eq!(config.orgs[0].base_url, "http://proxy.example.com/v1");
    assert_eq!(config.warnings.len(), 1);
    assert!(config.warnings[0].contains("org `a`") && config.warnings[0].contains("http://"));
}

#[test]
fn relative_paths_are_relative_to_the_config_file() {
    let text = format!("database = \"data/routiq.db\"\n{UA}{GOOD_ORG}");
    let config = parse_ok(&text);
    assert_eq!(
        config.database.sqlite_path().unwrap(),
        PathBuf::from("/srv/routiq/data/routiq.db")
    );
    assert_eq!(config.lock_dir, PathBuf::from("/srv/routiq/data/locks"));
    assert_eq!(config.source_of("lock_dir"), Some(Source::Default));

    let text = format!("database = \"~/r.db\"\nlock_dir = \"../locks\"\n{UA}{GOOD_ORG}");
    let config = parse_ok(&text);
    assert_eq!(
        config.database.sqlite_path().unwrap(),
        PathBuf::from("/home/u/r.db")
    );
    assert_eq!(config.lock_dir, Path::new("/srv/routiq").join("../locks"));
}

#[test]
fn requests_per_minute_above_cliniko_limit_warns() {
    let config = parse_ok(&format!("requests_per_minute = 250\n{UA}{}", inline_org()));
    assert_eq!(config.requests_per_minute, 250.0);
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(config.warnings[0].contains("requests_per_minute"));
    assert!(config.warnings[0].contains("200"));
    assert!(
        parse_ok(&format!("requests_per_minute = 200\n{UA}{GOOD_ORG}"))
            .warnings
            .is_empty()
    );
    let tiny = parse_ok(&format!("requests_per_minute = 0.5\n{UA}{GOOD_ORG}"));
    assert_eq!(tiny.requests_per_minute, 0.5);
}

#[test]
fn short_max_wait_warns() {
    let config = parse_ok(&format!("max_wait = \"20s\"\n{UA}{GOOD_ORG}"));
    assert_eq!(config.max_wait, Duration::from_secs(20));
    assert!(config.warnings.iter().any(|w| w.contains("max_wait = 20s")));
}

#[test]
fn inline_key_in_readable_file_warns() {
    let text = format!("{UA}{GOOD_ORG}{}", inline_org());
    let path = cfg_path();
    let warned = parse_with_mode(&text, &path, &fake_env, Some(0o100644)).unwrap();
    assert_eq!(warned.warnings.len(), 1, "{:?}", warned.warnings);
    let warning = &warned.warnings[0];
    assert!(
        warning.contains("org `inl`") && warning.contains("644") && warning.contains("chmod 600")
    );
    assert!(warning.contains(path.to_str().unwrap()));
    assert!(!warning.contains(KEY_PART));
    assert!(!warning.contains("org `a`"));

    let private = parse_with_mode(&text, &path, &fake_env, Some(0o100600)).unwrap();
    assert!(private.warnings.is_empty());
    let env_only = format!("{UA}{GOOD_ORG}");
    let env_only = parse_with_mode(&env_only, &path, &fake_env, Some(0o100644)).unwrap();
    assert!(env_only.warnings.is_empty());
}

#[cfg(unix)]
#[test]
fn load_reads_the_file_and_its_mode() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, format!("database = \"x.db\"\n{UA}{}", inline_org())).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let opts = LoadOptions {
        explicit_path: Some(&file),
        env: &fake_env,
    };
    let config = load(&opts).unwrap();
    assert_eq!(config.path, file);
    assert_eq!(
        config.database.sqlite_path().unwrap(),
        dir.path().join("x.db")
    );
    assert_eq!(config.warnings.len(), 1);
    assert!(config.warnings[0].contains("group or others"));

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(load(&opts).unwrap().warnings.is_empty());

    let env = |k: &str| (k == "ROUTIQ_SYNC_CONFIG").then(|| file.to_string_lossy().into_owned());
    let via_env = LoadOptions {
        explicit_path: None,
        env: &env,
    };
    assert_eq!(load(&via_env).unwrap().path, file);

    let not_a_file = LoadOptions {
        explicit_path: Some(dir.path()),
        env: &fake_env,
    };
    let err = load(&not_a_file).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains(dir.path().to_str().unwrap()));
}

#[test]
fn select_orgs_by_id() {
    let text = format!(
        "{UA}{GOOD_ORG}[[org]]\nid = \"b\"\napi_key_env = \"CLINIKO_KEY_B\"\n\
         [[org]]\nid = \"c\"\napi_key_env = \"CLINIKO_KEY_C\"\n"
    );
    let config = parse_ok(&text);
    let ids = |orgs: Vec<&OrgConfig>| orgs.iter().map(|o| o.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(config.select_orgs(&[]).unwrap()), ["a", "b", "c"]);
    let wanted = ["c".to_string(), "a".to_string(), "c".to_string()];
    assert_eq!(ids(config.select_orgs(&wanted).unwrap()), ["c", "a"]);
    let err = config
        .select_orgs(&["a".to_string(), "A".to_string(), "zz".to_string()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("`A`") && err.contains("`zz`"), "{err}");
    assert!(err.contains("`a`, `b`, `c`"), "{err}");
    assert!(config.org("A").is_none());
}

#[test]
fn two_orgs_sharing_a_key_are_refused_without_showing_it() {
    let text = format!(
        "{UA}{GOOD_ORG}[[org]]\nid = \"b\"\napi_key_env = \"CLINIKO_KEY_B\"\n\
         [[org]]\nid = \"manly\"\napi_key = \"envkeyvalue-au3\"\n"
    );
    let err = parse_text(&text).unwrap_err().to_string();
    assert!(
        err.contains(
            "`org[2].api_key` (org `manly`) at line 10: has the same API key (its inline api_key) as org \
             `a` ($CLINIKO_KEY_A): a key belongs to one Cliniko account, so one clinic's data \
             would be stored under both ids; give each org its own clinic's key"
        ),
        "{err}"
    );
    assert!(!err.contains("envkeyvalue"), "{err}");
    // `status` reads no key: there it is a warning.
    let config = super::parse_inner(&text, &cfg_path(), &fake_env, None, KeyPolicy::Optional)
        .expect("loads for status");
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(config.warnings[0].starts_with("org manly: has the same API key"));
}

#[test]
fn a_shared_key_after_an_invalid_org_names_its_own_table() {
    // org[1] has no key at all, so it is left out of the valid orgs; the shared-key
    // problem must still name org[2], the table it is in.
    let text = format!(
        "{UA}{GOOD_ORG}[[org]]\nid = \"b\"\n\
         [[org]]\nid = \"manly\"\napi_key = \"envkeyvalue-au3\"\n"
    );
    let err = parse_text(&text).unwrap_err().to_string();
    assert!(
        err.contains("`org[2].api_key` (org `manly`) at line 9: has the same API key"),
        "{err}"
    );
}

/// A database password that must never show up in any message.
const DB_PASSWORD: &str = "DbPasswordNeverShown";

fn pg_env(name: &str) -> Option<String> {
    match name {
        "DATABASE_URL" => Some(format!(
            "postgresql://railway:{DB_PASSWORD}@db.railway.internal:5432/railway?sslmode=disable"
        )),
        "NOT_A_URL" => Some("/var/lib/x.db".to_string()),
        other => fake_env(other),
    }
}

#[test]
fn a_postgres_url_selects_postgres_and_is_shown_masked() {
    let text = format!(
        "database = \"postgres://routiq:{DB_PASSWORD}@db.example.com/clinics?sslmode=require\"\n\
         pg_schema = \"routiq\"\n{UA}{GOOD_ORG}"
    );
    let config = parse_ok(&text);
    let pg = config.database.postgres().expect("postgres");
    assert_eq!(pg.schema, "routiq");
    assert_eq!(
        pg.url.describe(),
        "host db.example.com, port 5432, database clinics"
    );
    assert_eq!(
        config.database.to_string(),
        "postgres://routiq:****@db.example.com/clinics?sslmode=require"
    );
    assert!(!format!("{config:?}").contains(DB_PASSWORD));
    assert!(
        config.lock_dir.as_os_str().is_empty(),
        "no lock_dir with PostgreSQL"
    );
}

#[test]
fn database_url_env_reads_the_url_from_the_environment() {
    let text = format!("database_url_env = \"DATABASE_URL\"\n{UA}{GOOD_ORG}");
    let config = parse(&text, &cfg_path(), &pg_env).unwrap();
    let pg = config.database.postgres().expect("postgres");
    assert_eq!(pg.url_env.as_deref(), Some("DATABASE_URL"));
    assert_eq!(pg.schema, DEFAULT_PG_SCHEMA);
    assert_eq!(config.source_of("database"), Some(Source::File));
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn bad_database_settings_name_the_key_but_never_the_password() {
    let cases = [
        (
            format!("database = \"postgres://u:{DB_PASSWORD}@h:port/d\"\n"),
            "`database`",
        ),
        (
            format!("database = \"postgres://u:{DB_PASSWORD}@h/d?sslmode=maybe\"\n"),
            "`database`",
        ),
        (
            "database_url_env = \"UNSET_VAR\"\n".to_string(),
            "`database_url_env`",
        ),
        (
            "database_url_env = \"NOT_A_URL\"\n".to_string(),
            "`database_url_env`",
        ),
        (
            "database = \"x.db\"\ndatabase_url_env = \"DATABASE_URL\"\n".to_string(),
            "`database_url_env`",
        ),
        (
            "database_url_env = \"DATABASE_URL\"\npg_schema = \"no spaces\"\n".to_string(),
            "`pg_schema`",
        ),
        (
            format!("database = \"postgres://u:{DB_PASSWORD}@h/d\" trailing\n"),
            "line 1",
        ),
    ];
    for (settings, wanted) in cases {
        let text = format!("{settings}{UA}{GOOD_ORG}");
        let err = parse(&text, &cfg_path(), &pg_env).unwrap_err().to_string();
        assert!(err.contains(wanted), "{settings}: {err}");
        assert!(!err.contains(DB_PASSWORD), "{settings}: {err}");
    }
}

#[test]
fn a_readable_file_with_a_database_password_warns() {
    let text =
        format!("database = \"postgres://u:{DB_PASSWORD}@h/d?sslmode=disable\"\n{UA}{GOOD_ORG}");
    let warned = parse_with_mode(&text, &cfg_path(), &fake_env, Some(0o644)).unwrap();
    assert_eq!(warned.warnings.len(), 1, "{:?}", warned.warnings);
    assert!(warned.warnings[0].contains("password") && warned.warnings[0].contains("chmod 600"));
    assert!(!warned.warnings[0].contains(DB_PASSWORD));
    let private = parse_with_mode(&text, &cfg_path(), &fake_env, Some(0o600)).unwrap();
    assert!(private.warnings.is_empty());
    let no_password =
        "database = \"postgres://u@h/d?sslmode=disable\"\n".to_string() + UA + GOOD_ORG;
    let open = parse_with_mode(&no_password, &cfg_path(), &fake_env, Some(0o644)).unwrap();
    assert!(open.warnings.is_empty());
}

#[test]
fn bad_monitoring_settings_name_their_key() {
    for (line, key) in [
        ("log_format = \"xml\"", "log_format"),
        ("max_run_time = \"0s\"", "max_run_time"),
        ("max_run_time = \"an hour\"", "max_run_time"),
        ("keep_runs = \"forever\"", "keep_runs"),
        ("purge_deleted_after = \"30\"", "purge_deleted_after"),
        ("ping_url = \"hc-ping.com/x\"", "ping_url"),
    ] {
        let err = parse_text(&format!("{UA}{line}\n{GOOD_ORG}"))
            .expect_err(line)
            .to_string();
        assert!(err.contains(&format!("`{key}`")), "{line}: {err}");
    }
    let err = parse_text(&format!("{UA}{GOOD_ORG}ping_url = \"nope\"\n"))
        .expect_err("org ping_url")
        .to_string();
    assert!(err.contains("org[0].ping_url"), "{err}");
}

#[test]
fn dashboard_roles_are_listed_once_and_must_be_plain_role_names() {
    let config = parse_ok(&format!(
        "{UA}{GOOD_ORG}dashboard_roles = [\"bondi_dash\", \"all_clinics\", \"bondi_dash\"]\n"
    ));
    assert_eq!(
        config.orgs[0].dashboard_roles,
        ["bondi_dash", "all_clinics"]
    );
    assert!(
        parse_ok(&format!("{UA}{GOOD_ORG}")).orgs[0]
            .dashboard_roles
            .is_empty()
    );
    for bad in ["Bondi", "1dash", "pg_read_all_data", "a-b", ""] {
        let err = parse_text(&format!("{UA}{GOOD_ORG}dashboard_roles = [\"{bad}\"]\n"))
            .expect_err(bad)
            .to_string();
        assert!(err.contains("org[0].dashboard_roles"), "{bad}: {err}");
        assert!(err.contains("e.g. \"bondi_dash\""), "{bad}: {err}");
    }
    let warned = |text: &str| {
        parse_ok(text)
            .warnings
            .iter()
            .any(|w| w.contains("dashboard_roles does nothing on SQLite"))
    };
    let roles = "dashboard_roles = [\"bondi_dash\"]\n";
    assert!(warned(&format!("{UA}{GOOD_ORG}{roles}")));
    assert!(!warned(&format!(
        "database = \"postgres://routiq@db.example.com/clinics\"\n{UA}{GOOD_ORG}{roles}"
    )));
}
