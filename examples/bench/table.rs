//! The results table: one row per figure, its target, and PASS/MISS where there is one.

use std::fmt::Write;
use std::time::Duration;

/// One measured figure.
#[derive(Debug, Clone)]
pub struct Row {
    pub scenario: String,
    pub measure: String,
    pub value: String,
    /// Empty when the figure is informative only.
    pub target: String,
    /// `None` when there is no target.
    pub pass: Option<bool>,
}

/// Every row of a benchmark run, in order.
#[derive(Debug, Default)]
pub struct Table {
    pub rows: Vec<Row>,
}

impl Table {
    /// Adds a figure without a target.
    pub fn info(&mut self, scenario: &str, measure: &str, value: String) {
        self.rows.push(Row {
            scenario: scenario.into(),
            measure: measure.into(),
            value,
            target: String::new(),
            pass: None,
        });
    }

    /// Adds a figure with its target and whether it was met.
    pub fn check(
        &mut self,
        scenario: &str,
        measure: &str,
        value: String,
        target: &str,
        pass: bool,
    ) {
        self.rows.push(Row {
            scenario: scenario.into(),
            measure: measure.into(),
            value,
            target: target.into(),
            pass: Some(pass),
        });
    }

    /// The first row of a scenario starting with `scenario` whose measure starts with
    /// `measure`.
    #[allow(dead_code)] // used by tests/bench_smoke.rs
    pub fn find(&self, scenario: &str, measure: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.scenario.starts_with(scenario) && r.measure.starts_with(measure))
    }

    /// Whether every row with a target passed.
    pub fn all_pass(&self) -> bool {
        self.rows.iter().all(|r| r.pass != Some(false))
    }

    /// A Markdown table (readable as plain text too).
    pub fn render(&self) -> String {
        let header = ["scenario", "measure", "value", "target", "result"];
        let cells: Vec<[String; 5]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.scenario.clone(),
                    r.measure.clone(),
                    r.value.clone(),
                    r.target.clone(),
                    match r.pass {
                        Some(true) => "PASS".into(),
                        Some(false) => "MISS".into(),
                        None => String::new(),
                    },
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, row: &[String]| {
            let parts: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            let _ = writeln!(out, "| {} |", parts.join(" | "));
        };
        line(&mut out, &header.map(String::from));
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        let _ = writeln!(out, "|-{}-|", rule.join("-|-"));
        for row in &cells {
            line(&mut out, row);
        }
        out
    }
}

/// `1.23 s` or `45 ms`.
pub fn secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// `12,345` (thousands separated).
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// KiB as `12.3 MB` (MiB, as RSS is usually read).
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
