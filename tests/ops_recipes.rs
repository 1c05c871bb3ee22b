//! The scheduling recipes are valid: every line of `crontab.example` (a small 5-field
//! cron validator below), the Railway cron service, and the systemd units; and every
//! routiq-sync command in them parses with the real CLI definition.

#[path = "common/skip.rs"]
mod skip;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use clap::Parser;
use routiq_sync::cli::Cli;

fn read(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A minimal validator for the five time fields of a crontab line (Vixie cron / cronie
/// syntax): `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, and
/// three-letter month and weekday names.
mod cron {
    use std::collections::BTreeSet;

    /// One field's bounds and names.
    struct Field {
        name: &'static str,
        min: u32,
        max: u32,
        names: &'static [&'static str],
        /// The value of the first name (`jan` = 1, `sun` = 0).
        names_from: u32,
    }

    const FIELDS: [Field; 5] = [
        Field {
            name: "minute",
            min: 0,
            max: 59,
            names: &[],
            names_from: 0,
        },
        Field {
            name: "hour",
            min: 0,
            max: 23,
            names: &[],
            names_from: 0,
        },
        Field {
            name: "day of month",
            min: 1,
            max: 31,
            names: &[],
            names_from: 0,
        },
        Field {
            name: "month",
            min: 1,
            max: 12,
            names: &[
                "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
            ],
            names_from: 1,
        },
        Field {
            name: "day of week",
            min: 0,
            max: 7,
            names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
            names_from: 0,
        },
    ];

    /// The values each of the five fields matches (day of week 7 folded into 0).
    pub type Schedule = [BTreeSet<u32>; 5];

    /// Parses the five time fields.
    pub fn parse(fields: &[&str]) -> Result<Schedule, String> {
        if fields.len() != 5 {
            return Err(format!("expected 5 time fields, found {}", fields.len()));
        }
        let mut out: Schedule = Default::default();
        for (i, (text, spec)) in fields.iter().zip(&FIELDS).enumerate() {
            out[i] = field(text, spec).map_err(|e| format!("{} `{text}`: {e}", spec.name))?;
        }
        if out[4].remove(&7) {
            out[4].insert(0);
        }
        Ok(out)
    }

    fn field(text: &str, spec: &Field) -> Result<BTreeSet<u32>, String> {
        let mut values = BTreeSet::new();
        for item in text.split(',') {
            if item.is_empty() {
                return Err("empty list item".into());
            }
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => {
                    let step: u32 = s.parse().map_err(|_| format!("bad step `{s}`"))?;
                    if step == 0 {
                        return Err("step 0".into());
                    }
                    (r, step)
                }
                None => (item, 1),
            };
            let (low, high) = if range == "*" {
                (spec.min, spec.max)
            } else if let Some((a, b)) = range.split_once('-') {
                (value(a, spec)?, value(b, spec)?)
            } else {
                if step != 1 {
                    return Err(format!(
                        "`{item}`: a step needs `*` or a range before it (`*/{step}`, `a-b/{step}`)"
                    ));
                }
                let v = value(range, spec)?;
                (v, v)
            };
            if low > high {
                return Err(format!("range `{range}` runs backwards"));
            }
            values.extend((low..=high).step_by(step as usize));
        }
        Ok(values)
    }

    fn value(text: &str, spec: &Field) -> Result<u32, String> {
        let lower = text.to_ascii_lowercase();
        if let Some(i) = spec.names.iter().position(|n| *n == lower) {
            return Ok(spec.names_from + i as u32);
        }
        let v: u32 = text
            .parse()
            .map_err(|_| format!("`{text}` is not a number or a name"))?;
        if v < spec.min || v > spec.max {
            return Err(format!("{v} is outside {}-{}", spec.min, spec.max));
        }
        Ok(v)
    }

    #[test]
    fn validator_accepts_and_rejects_what_cron_does() {
        let ok = |s: &str| parse(&s.split_whitespace().collect::<Vec<_>>());
        let s = ok("0 7-19/4 * * 1-6").unwrap();
        assert_eq!(s[1], [7, 11, 15, 19].into());
        assert_eq!(s[4], [1, 2, 3, 4, 5, 6].into());
        assert_eq!(ok("*/15 * * jan,JUL sun").unwrap()[3], [1, 7].into());
        assert_eq!(ok("0 0 * * 7").unwrap()[4], [0].into());
        assert_eq!(ok("0 0 * * mon-fri").unwrap()[4], [1, 2, 3, 4, 5].into());
        for bad in [
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 8",
            "*/0 * * * *",
            "5/10 * * * *",
            "10-5 * * * *",
            "* * * * * *",
            "* * * *",
            "a * * * *",
            "1,,2 * * * *",
            "* * * * funday",
        ] {
            assert!(
                parse(&bad.split_whitespace().collect::<Vec<_>>()).is_err(),
                "{bad}"
            );
        }
    }
}

/// Parses a shell command line's routiq-sync invocations with the real CLI definition.
/// Splits on `||`, `&&` and `;`, and drops redirections (`>>file`, `> file`, `2>&1`).
fn check_commands(line: &str) -> usize {
    let mut seen = 0;
    for segment in line
        .split("||")
        .flat_map(|s| s.split("&&"))
        .flat_map(|s| s.split(';'))
    {
        let mut words = Vec::new();
        let mut tokens = segment.split_whitespace();
        while let Some(t) = tokens.next() {
            if t.contains('>') || t.contains('<') {
                // `>` or `>>` alone takes the next word as its file.
                if t == ">" || t == ">>" || t == "<" {
                    tokens.next();
                }
                continue;
            }
            words.push(t);
        }
        let Some(first) = words.first() else { continue };
        if first.rsplit('/').next() != Some("routiq-sync") {
            continue;
        }
        if let Err(e) = Cli::try_parse_from(&words) {
            panic!("`{}` does not parse: {e}", words.join(" "));
        }
        seen += 1;
    }
    seen
}

/// `(schedule, command)` of every job line; checks the other lines on the way.
fn crontab_jobs(text: &str) -> Vec<(cron::Schedule, String)> {
    let mut jobs = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let n = n + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // NAME=value: cron expands nothing in these.
        if let Some((name, value)) = line.split_once('=')
            && !name.trim().contains(char::is_whitespace)
        {
            let name = name.trim();
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "line {n}: `{name}` is not a variable name"
            );
            assert!(
                !value.contains('$') && !value.trim_start().starts_with('~'),
                "line {n}: cron does not expand `$` or `~` in `{line}`"
            );
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        assert!(
            !words[0].starts_with('@'),
            "line {n}: use the five fields, not {}",
            words[0]
        );
        assert!(words.len() > 5, "line {n}: no command in `{line}`");
        let schedule = cron::parse(&words[..5]).unwrap_or_else(|e| panic!("line {n}: {e}"));
        let command = words[5..].join(" ");
        // An unescaped % ends the command in crontab syntax.
        assert!(
            !command.replace("\\%", "").contains('%'),
            "line {n}: escape % as \\% in `{command}`"
        );
        assert!(
            check_commands(&command) > 0,
            "line {n}: no routiq-sync command in `{command}`"
        );
        jobs.push((schedule, command));
    }
    jobs
}

#[test]
fn crontab_example_is_valid_and_schedules_what_it_says() {
    let text = read("crontab.example");
    let jobs = crontab_jobs(&text);
    let find = |needle: &str| {
        jobs.iter()
            .find(|(_, c)| c.contains(needle))
            .unwrap_or_else(|| panic!("no job running `{needle}`"))
    };
    let set = |v: &[u32]| v.iter().copied().collect::<BTreeSet<u32>>();

    let (sync, cmd) = find("sync --all");
    assert_eq!(sync[0], set(&[0]));
    assert_eq!(
        sync[1],
        set(&[7, 11, 15, 19]),
        "every 4 hours in clinic hours"
    );
    assert_eq!(sync[4], set(&[1, 2, 3, 4, 5, 6]));
    assert!(
        cmd.contains(">> /var/log/") && cmd.ends_with("2>&1"),
        "{cmd}"
    );

    let (verify, cmd) = find("verify --all");
    assert_eq!((&verify[0], &verify[1]), (&set(&[0]), &set(&[2])), "02:00");
    assert_eq!(verify[2].len(), 31);
    assert_eq!(
        verify[4],
        set(&[1, 2, 3, 4, 5, 6]),
        "every night but Sunday"
    );
    assert!(
        cmd.contains(">> /var/log/") && cmd.ends_with("2>&1"),
        "{cmd}"
    );
    let (full, cmd) = find("full --all");
    assert_eq!((&full[0], &full[1]), (&set(&[0]), &set(&[2])), "02:00");
    assert_eq!(full[2].len(), 31);
    assert_eq!(full[4], set(&[0]), "weekly, on Sunday");
    assert!(
        cmd.contains(">> /var/log/") && cmd.ends_with("2>&1"),
        "{cmd}"
    );

    for var in ["PATH=", "ROUTIQ_SYNC_CONFIG=", "CLINIKO_KEY_"] {
        assert!(
            text.lines().any(|l| l.starts_with(var)),
            "{var} is not set in the crontab"
        );
    }
    for topic in ["min_interval", "lock", "Exit codes", "30m"] {
        assert!(text.contains(topic), "the comments should explain {topic}");
    }
}

#[test]
fn crontab_check_catches_mistakes() {
    for bad in [
        "0 25 * * * routiq-sync sync --all",
        "0 2 * * * routiq-sync fulll --all",
        "0 2 * * * routiq-sync sync",
        "PATH=$PATH:/opt/bin",
        "0 2 * * * routiq-sync sync --all > /tmp/log-$(date +%F)",
    ] {
        let caught = std::panic::catch_unwind(|| crontab_jobs(bad)).is_err();
        assert!(caught, "not caught: {bad}");
    }
}

#[test]
fn railway_cron_service_is_consistent() {
    let json: serde_json::Value =
        serde_json::from_str(&read("examples/railway/railway.json")).unwrap();
    let deploy = &json["deploy"];
    let schedule = deploy["cronSchedule"].as_str().expect("cronSchedule");
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    cron::parse(&fields).unwrap_or_else(|e| panic!("cronSchedule `{schedule}`: {e}"));
    let start = deploy["startCommand"].as_str().expect("startCommand");
    assert_eq!(check_commands(start), 1, "{start}");
    assert_eq!(
        deploy["restartPolicyType"], "NEVER",
        "a cron service must exit"
    );
    let dockerfile = json["build"]["dockerfilePath"].as_str().unwrap();
    let dockerfile = read(dockerfile);
    assert!(dockerfile.contains("COPY examples/railway/config.toml /etc/routiq-sync/config.toml"));
    assert!(dockerfile.contains("ENV ROUTIQ_SYNC_CONFIG=/etc/routiq-sync/config.toml"));

    // The baked-in config is valid once the key variables and DATABASE_URL exist, and
    // puts the data into the PostgreSQL service.
    let env = |name: &str| match name {
        "DATABASE_URL" => {
            // As the README has the variable written: with its sslmode.
            Some(
                "postgresql://postgres:pw@postgres.railway.internal:5432/railway?sslmode=disable"
                    .to_string(),
            )
        }
        _ => name
            .starts_with("CLINIKO_KEY_")
            // One key per clinic: two orgs may not share one.
            .then(|| format!("k{}-au1", name.to_ascii_lowercase())),
    };
    let config = routiq_sync::config::parse(
        &read("examples/railway/config.toml"),
        std::path::Path::new("/etc/routiq-sync/config.toml"),
        &env,
    )
    .unwrap_or_else(|e| panic!("examples/railway/config.toml: {e}"));
    let pg = config
        .database
        .postgres()
        .expect("the data goes to PostgreSQL");
    assert_eq!(pg.url_env.as_deref(), Some("DATABASE_URL"));
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert!(config.orgs.len() >= 2);
    // Railway skips a slot while a run is still going: the deadline ends each run
    // before the next 4-hourly slot.
    assert_eq!(schedule, "0 */4 * * *");
    let deadline = config.max_run_time.expect("max_run_time is set");
    assert!(
        deadline < std::time::Duration::from_secs(4 * 3600),
        "{deadline:?}"
    );
    let readme = read("examples/railway/README.md");
    for topic in [
        "DATABASE_URL",
        "${{Postgres.DATABASE_URL}}",
        "volume",
        "CLINIKO_KEY_",
        "UTC",
        "max_run_time",
    ] {
        assert!(
            readme.contains(topic),
            "the Railway README should explain {topic}"
        );
    }
}

/// The Railway README's clinic-hours schedules are right in both Sydney seasons: the
/// AEST line syncs at 07:00, 11:00, 15:00 and 19:00 at UTC+10, the AEDT line at UTC+11,
/// and the all-year hourly line covers 07:00-19:00 in both.
#[test]
fn railway_clinic_hours_schedules_follow_sydney_daylight_saving() {
    let readme = read("examples/railway/README.md");
    let schedule_in = |row: &str| -> String {
        let line = readme
            .lines()
            .find(|l| l.contains(row) && l.contains('`'))
            .unwrap_or_else(|| panic!("no `{row}` row in the Railway README"));
        line.rsplit('`')
            .nth(1)
            .expect("a quoted schedule")
            .to_string()
    };
    let hours = |schedule: &str| -> BTreeSet<u32> {
        let fields: Vec<&str> = schedule.split_whitespace().collect();
        let parsed = cron::parse(&fields).unwrap_or_else(|e| panic!("`{schedule}`: {e}"));
        assert_eq!(parsed[0], BTreeSet::from([0]), "on the hour: {schedule}");
        parsed[1].clone()
    };
    let local = |utc: &BTreeSet<u32>, offset: u32| -> BTreeSet<u32> {
        utc.iter().map(|h| (h + offset) % 24).collect()
    };
    let slots = BTreeSet::from([7, 11, 15, 19]);
    assert_eq!(local(&hours(&schedule_in("AEST, April")), 10), slots);
    assert_eq!(local(&hours(&schedule_in("AEDT, October")), 11), slots);
    let all_year = "0 20-23,0-9 * * *";
    assert!(readme.contains(&format!("`{all_year}`")));
    assert!(readme.contains("min_interval = \"3h50m\""));
    for offset in [10, 11] {
        let covered = local(&hours(all_year), offset);
        assert!(
            (7..=19).all(|h| covered.contains(&h)),
            "UTC+{offset}: {covered:?}"
        );
    }
}

/// `(section, key, value)` of every setting in a unit file.
fn unit(text: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("not key=value: {line}"));
        out.push((section.clone(), k.trim().to_string(), v.trim().to_string()));
    }
    out
}

fn get<'a>(unit: &'a [(String, String, String)], section: &str, key: &str) -> Option<&'a str> {
    unit.iter()
        .find(|(s, k, _)| s == section && k == key)
        .map(|(_, _, v)| v.as_str())
}

#[test]
fn systemd_units_are_valid_and_paired() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/systemd");
    for (name, command, calendar) in [
        (
            "routiq-sync",
            "sync --all",
            "Mon..Sat *-*-* 07,11,15,19:00:00",
        ),
        (
            "routiq-sync-verify",
            "verify --all",
            "Mon..Sat *-*-* 02:00:00",
        ),
        ("routiq-sync-full", "full --all", "Sun *-*-* 02:00:00"),
    ] {
        let service = unit(&read(&format!("examples/systemd/{name}.service")));
        let timer = unit(&read(&format!("examples/systemd/{name}.timer")));
        assert_eq!(get(&service, "Service", "Type"), Some("oneshot"));
        let exec = get(&service, "Service", "ExecStart").unwrap();
        assert!(exec.ends_with(command), "{exec}");
        assert_eq!(check_commands(exec), 1);
        assert!(get(&service, "Service", "EnvironmentFile").is_some());
        assert!(
            get(&service, "Service", "Environment")
                .is_some_and(|v| v.starts_with("ROUTIQ_SYNC_CONFIG="))
        );
        assert_eq!(get(&timer, "Timer", "OnCalendar"), Some(calendar));
        assert_eq!(get(&timer, "Install", "WantedBy"), Some("timers.target"));
    }

    // Where systemd's own tools exist, they must accept the units too.
    match Command::new("systemd-analyze")
        .args([
            "calendar",
            "Mon..Sat *-*-* 07,11,15,19:00:00",
            "Mon..Sat *-*-* 02:00:00",
            "Sun *-*-* 02:00:00",
        ])
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => {
            skip::skip("`systemd-analyze` is not installed: the systemd units are unchecked");
            return;
        }
    }
    // `verify` insists that ExecStart exists: point it at the binary under test.
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".service") || name.ends_with(".timer") {
            let text = std::fs::read_to_string(entry.path()).unwrap().replace(
                "/usr/local/bin/routiq-sync",
                env!("CARGO_BIN_EXE_routiq-sync"),
            );
            std::fs::write(tmp.path().join(&name), text).unwrap();
            files.push(tmp.path().join(&name));
        }
    }
    assert_eq!(files.len(), 6);
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(&files)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "{stderr}");
}
