//! The run deadline (`max_run_time`): a watcher thread that, once the time passes, asks
//! the run to stop the way SIGTERM does (between pages), and says it was the deadline;
//! and the hard stop behind it, which ends the process if the run is still going a
//! grace later, whatever it waits on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::config::format_duration;
use crate::engine::Clock;
use crate::watchdog;

/// How often the watcher looks at the clock and the signal flag.
const TICK: Duration = Duration::from_millis(50);

/// The stop flags of one run, and the watcher that sets them.
pub struct RunStop {
    /// Set by a signal or by the deadline; what clients and the engine check.
    pub cancel: Arc<AtomicBool>,
    /// Set (before `cancel`) when the deadline passed.
    pub deadline_passed: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    watcher: Option<std::thread::JoinHandle<()>>,
}

impl RunStop {
    /// Stop flags for a run that started at `clock.monotonic()` now. Without a deadline
    /// the signal flag is used as it is; with one, a watcher copies the signal flag into
    /// the run's own flag and sets it when `limit` has passed.
    pub fn start(
        signal: Arc<AtomicBool>,
        limit: Option<Duration>,
        clock: Arc<dyn Clock + Send>,
    ) -> RunStop {
        let deadline_passed = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        let Some(limit) = limit else {
            return RunStop {
                cancel: signal,
                deadline_passed,
                done,
                watcher: None,
            };
        };
        let cancel = Arc::new(AtomicBool::new(false));
        let until = clock.monotonic() + limit;
        // The stop between pages needs the run to come back to the engine; a wait that
        // never ends (a frozen API, store or name server) does not, so the watchdog ends
        // the process a grace later.
        let grace = watchdog::hard_stop_grace(limit);
        watchdog::end_at(
            std::time::Instant::now() + limit + grace,
            format!(
                "max_run_time ({}) passed {} ago",
                format_duration(limit),
                format_duration(grace)
            ),
        );
        let watcher = {
            let (cancel, passed, done) = (cancel.clone(), deadline_passed.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    if signal.load(Ordering::Relaxed) {
                        cancel.store(true, Ordering::Release);
                        return;
                    }
                    if clock.monotonic() >= until {
                        // Release: whoever sees `cancel` (with Acquire) sees why.
                        passed.store(true, Ordering::Relaxed);
                        cancel.store(true, Ordering::Release);
                        log::warn!(
                            "max_run_time ({}) passed: stopping between pages; orgs not started yet are deferred to the next run",
                            format_duration(limit)
                        );
                        return;
                    }
                    std::thread::sleep(TICK);
                }
            })
        };
        RunStop {
            cancel,
            deadline_passed,
            done,
            watcher: Some(watcher),
        }
    }

    /// Whether the deadline has passed.
    pub fn deadline_passed(&self) -> bool {
        self.deadline_passed.load(Ordering::Relaxed)
    }
}

impl Drop for RunStop {
    fn drop(&mut self) {
        watchdog::cancel_end();
        self.done.store(true, Ordering::Relaxed);
        if let Some(w) = self.watcher.take() {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::Timestamp;
    use std::sync::Mutex;

    /// A clock that only moves when told to.
    struct Manual(Mutex<Duration>);

    impl Clock for Manual {
        fn now(&self) -> Timestamp {
            Timestamp::now()
        }
        fn monotonic(&self) -> Duration {
            *self.0.lock().unwrap()
        }
    }

    #[test]
    fn the_deadline_sets_both_flags_and_a_signal_only_cancel() {
        let clock = Arc::new(Manual(Mutex::new(Duration::ZERO)));
        let stop = RunStop::start(
            Arc::new(AtomicBool::new(false)),
            Some(Duration::from_secs(60)),
            clock.clone(),
        );
        assert!(!stop.cancel.load(Ordering::Relaxed));
        *clock.0.lock().unwrap() = Duration::from_secs(61);
        while !stop.cancel.load(Ordering::Relaxed) {
            std::thread::sleep(TICK);
        }
        assert!(stop.deadline_passed());

        let signal = Arc::new(AtomicBool::new(false));
        let stop = RunStop::start(signal.clone(), Some(Duration::from_secs(60)), clock);
        signal.store(true, Ordering::Relaxed);
        while !stop.cancel.load(Ordering::Relaxed) {
            std::thread::sleep(TICK);
        }
        assert!(!stop.deadline_passed());
    }
}
