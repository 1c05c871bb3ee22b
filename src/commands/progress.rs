//! Progress bars per org on a terminal; nothing at all otherwise.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{Mode, OrgReport, Progress};
use crate::resource::Resource;

/// One bar per org while it syncs, shown only when stderr is a terminal, progress is
/// not turned off and logs are text.
pub struct Bars {
    multi: Option<MultiProgress>,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    /// Bars if `wanted` and stderr is a terminal; otherwise a silent stand-in.
    pub fn new(wanted: bool) -> Bars {
        // JSON log lines are for machines: a bar would break the one-object-per-line rule.
        let text_logs = crate::logging::format() == crate::logging::LogFormat::Text;
        let multi = (wanted && text_logs && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        if let Some(m) = &multi {
            crate::logging::attach_progress(Some(m.clone()));
        }
        Bars {
            multi,
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn with_bar(&self, org: &str, f: impl FnOnce(&ProgressBar)) {
        let Some(multi) = &self.multi else { return };
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        let bar = bars.entry(org.to_string()).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new(0));
            let style = ProgressStyle::with_template(
                "{spinner} {prefix:<12} {msg:<28} [{bar:30}] {pos}/{len} {elapsed}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(org.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        f(bar);
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        if self.multi.is_some() {
            crate::logging::attach_progress(None);
        }
    }
}

impl Progress for Bars {
    fn resource_started(&self, org: &str, resource: Resource, mode: Mode) {
        self.with_bar(org, |b| {
            b.set_message(format!("{resource} ({})", mode.name()));
            b.set_position(0);
            b.set_length(0);
        });
    }

    fn page_written(&self, org: &str, _resource: Resource, fetched: u64, remaining: Option<u64>) {
        self.with_bar(org, |b| {
            // total_entries counts the rest of the range, this page included.
            if let Some(rest) = remaining {
                let pos = b.position();
                b.set_length((pos + rest).max(fetched));
            }
            b.set_position(fetched);
        });
    }

    fn org_finished(&self, report: &OrgReport) {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bar) = bars.remove(&report.org_id) {
            bar.finish_and_clear();
        }
    }
}
