//! What one run covers: `appointment_window` (which appointments an incremental sync
//! fetches) and `max_run_time` (when `sync` and `full` stop between pages). Both are
//! unset by default.

use std::time::Duration;

use super::problems::Problems;
use super::raw::{RawConfig, RawWindow};
use super::{AppointmentWindow, parse_duration};

/// The two limits; `None` where not written (or invalid).
pub(super) struct RunLimits {
    pub appointment_window: Option<AppointmentWindow>,
    pub max_run_time: Option<Duration>,
}

/// Checks the window's two day counts and the run time (more than zero).
pub(super) fn validate(raw: &RawConfig, problems: &mut Problems) -> RunLimits {
    let appointment_window = raw
        .appointment_window
        .as_ref()
        .and_then(|window| check_window(window, problems));

    let max_run_time = raw
        .max_run_time
        .as_deref()
        .and_then(|text| match parse_duration(text) {
            Ok(d) if d.is_zero() => {
                problems.top(
                    "max_run_time",
                    "must be more than zero, e.g. max_run_time = \"50m\" (or remove it)",
                );
                None
            }
            Ok(d) => Some(d),
            Err(message) => {
                problems.top("max_run_time", message);
                None
            }
        });

    RunLimits {
        appointment_window,
        max_run_time,
    }
}

fn check_window(window: &RawWindow, problems: &mut Problems) -> Option<AppointmentWindow> {
    let before = problems.count();
    let mut days = |name: &str, value: Option<i64>| -> u32 {
        let key = format!("appointment_window.{name}");
        match value {
            None => {
                problems.top(
                    &key,
                    "missing; give both past_days and future_days, e.g. appointment_window = \
                     { past_days = 7, future_days = 30 }, or remove appointment_window",
                );
                0
            }
            Some(n) => u32::try_from(n).unwrap_or_else(|_| {
                problems.top(
                    &key,
                    format!("is {n}; it must be a whole number of days, 0 or more"),
                );
                0
            }),
        }
    };
    let past_days = days("past_days", window.past_days);
    let future_days = days("future_days", window.future_days);
    (problems.count() == before).then_some(AppointmentWindow {
        past_days,
        future_days,
    })
}
