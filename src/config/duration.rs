//! Human-friendly durations (`90s`, `30m`, `1h30m`, `2d`, `500ms`) for config and CLI flags.
//!
//! Hand-written rather than `humantime` on purpose: humantime 2.4 reads `30M` as 30
//! *months*, and also takes `1.5h`, `5 m`, `1m1m` and `30m1h`, all of which this grammar
//! rejects with a hint; and it formats `1m 30s`, `1day` and `34years 10months …`, which
//! this parser does not read back. A config typo must not silently mean months.

use std::time::Duration;

use super::problems::Problems;

/// Units accepted by [`parse_duration`], largest first, with their length in milliseconds.
const UNITS: [(&str, u64); 5] = [
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

const HINT: &str = "write whole numbers with units d, h, m, s or ms, largest first, \
                    e.g. `90s`, `30m`, `1h30m`, `2d`, `500ms`";

/// Parses a duration such as `30m`, `24h`, `90s`, `1h30m`, `2d` or `500ms`.
///
/// Each part is a whole number followed by a unit (`d`, `h`, `m`, `s`, `ms`); units go from
/// largest to smallest and appear at most once; spaces between parts are allowed. A bare
/// number is rejected because its unit would be a guess. The error text says what to write.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let text = s.trim();
    if text.is_empty() {
        return Err(format!("empty duration; {HINT}"));
    }
    let bad = |why: &str| format!("`{text}` is not a duration: {why}; {HINT}");
    let mut rest = text;
    let mut total: u64 = 0;
    // Index into UNITS of the previous part's unit; the next must be strictly smaller.
    let mut last_unit: Option<usize> = None;
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits_end == 0 {
            return Err(bad("expected a number"));
        }
        let number: u64 = rest[..digits_end]
            .parse()
            .map_err(|_| bad("number too large"))?;
        rest = &rest[digits_end..];
        let unit_end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        if unit.is_empty() {
            return Err(bad("missing unit after the number"));
        }
        let Some(index) = UNITS.iter().position(|(name, _)| *name == unit) else {
            return Err(bad(&format!("unknown unit `{unit}`")));
        };
        if last_unit.is_some_and(|last| index <= last) {
            return Err(bad("units must go from largest to smallest, each once"));
        }
        last_unit = Some(index);
        total = number
            .checked_mul(UNITS[index].1)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(|| bad("too large"))?;
        rest = rest[unit_end..].trim_start();
    }
    Ok(Duration::from_millis(total))
}

/// Formats a duration the way [`parse_duration`] reads it, with the largest units first:
/// 1800 s → `30m`, 90 s → `1m30s`, 1.5 s → `1s500ms`, zero → `0s`.
///
/// Precision below a millisecond is dropped.
pub fn format_duration(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (name, size) in UNITS {
        let size = u128::from(size);
        let count = ms / size;
        if count > 0 {
            out.push_str(&count.to_string());
            out.push_str(name);
            ms %= size;
        }
    }
    out
}

/// A top-level duration setting: `default` when it is not written; one that does not
/// parse is a problem under `key`, and `default` stands in so later checks still run.
pub(super) fn setting(
    key: &str,
    value: Option<&str>,
    default: Duration,
    problems: &mut Problems,
) -> Duration {
    match value {
        None => default,
        Some(text) => parse_duration(text).unwrap_or_else(|message| {
            problems.top(key, message);
            default
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_examples() {
        let cases = [
            ("30m", 1_800_000),
            ("24h", 86_400_000),
            ("90s", 90_000),
            ("1h30m", 5_400_000),
            ("2d", 172_800_000),
            ("500ms", 500),
            ("0s", 0),
            (" 1h 30m ", 5_400_000),
            ("1d2h3m4s5ms", 93_784_005),
        ];
        for (text, ms) in cases {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_bad_input() {
        for text in [
            "",
            "30",
            "m",
            "1.5h",
            "30x",
            "-5m",
            "30m1h",
            "1m1m",
            "5 m",
            "1h-",
            "30M",
            "99999999999999999999s",
            "999999999999999d",
        ] {
            let err = parse_duration(text).expect_err(text);
            assert!(err.contains("e.g."), "{text}: {err}");
        }
    }

    #[test]
    fn formats() {
        let cases = [
            (0, "0s"),
            (1_800_000, "30m"),
            (90_000, "1m30s"),
            (86_400_000, "1d"),
            (1_500, "1s500ms"),
            (93_784_005, "1d2h3m4s5ms"),
        ];
        for (ms, text) in cases {
            assert_eq!(format_duration(Duration::from_millis(ms)), text);
        }
        assert_eq!(format_duration(Duration::from_nanos(1_999_999)), "1ms");
    }

    #[test]
    fn round_trips() {
        for ms in [
            0,
            1,
            999,
            1_000,
            59_999,
            60_000,
            3_599_999,
            86_400_001,
            1 << 40,
        ] {
            let d = Duration::from_millis(ms);
            assert_eq!(parse_duration(&format_duration(d)), Ok(d), "{ms}");
        }
        for text in ["30m", "24h", "90s", "1h30m", "2d", "500ms"] {
            let d = parse_duration(text).unwrap();
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
    }
}
