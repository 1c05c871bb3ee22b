//! Runs one child process and measures it alone: wall time, user and system CPU time,
//! peak RSS and bytes written, read from the kernel's per-child accounting (`wait4`,
//! `/proc/<pid>/io`).

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What one run of a child process cost.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// From spawn to exit.
    pub wall: Duration,
    pub user: Duration,
    pub sys: Duration,
    /// Peak resident set size of the child itself, in KiB (`ru_maxrss`).
    pub max_rss_kib: u64,
    /// Bytes the child passed to write(2) and friends (`wchar` of `/proc/<pid>/io`),
    /// when the kernel shows it.
    pub wchar: Option<u64>,
    pub stdout: String,
    pub stderr: String,
}

impl Measured {
    /// User plus system CPU time.
    pub fn cpu(&self) -> Duration {
        self.user + self.sys
    }

    /// An error naming the command when the exit code is not 0.
    pub fn ok(self, what: &str) -> Result<Measured, String> {
        if self.code == 0 {
            Ok(self)
        } else {
            Err(format!(
                "{what} exited with code {}\n--- stdout\n{}\n--- stderr\n{}",
                self.code, self.stdout, self.stderr
            ))
        }
    }
}

fn tv(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

/// Spawns `cmd` (stdin closed, stdout and stderr captured) and waits for it with `wait4`,
/// which reports the CPU time of that one child (unlike `getrusage(RUSAGE_CHILDREN)`, not
/// mixed with other children).
///
/// Peak RSS is the child's own `VmHWM` from `/proc/<pid>/status`, sampled every 2 ms
/// (it only grows, so the last sample is the peak up to 2 ms before exit). `wait4`'s
/// `ru_maxrss` is not used: on Linux a spawned child starts with its parent's high-water
/// mark, so after the benchmark built a large database every child looked that big.
pub fn run_measured(mut cmd: Command) -> Result<Measured, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    // Drain both pipes while the child runs, so a chatty child never blocks on a full pipe.
    let drain = |r: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut r) = r {
                let mut bytes = Vec::new();
                let _ = r.read_to_end(&mut bytes);
                s = String::from_utf8_lossy(&bytes).into_owned();
            }
            s
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|o| Box::new(o) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|e| Box::new(e) as Box<dyn Read + Send>),
    );
    let pid = child.id() as libc::pid_t;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        thread::spawn(move || {
            let path = format!("/proc/{pid}/status");
            let mut peak_kib = 0u64;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(kib) = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|s| vm_hwm_kib(&s))
                {
                    peak_kib = peak_kib.max(kib);
                }
                thread::sleep(Duration::from_millis(2));
            }
            peak_kib
        })
    };
    // Wait for the exit without reaping: the zombie's /proc/<pid>/io still holds the
    // totals of every thread, final checkpoint included.
    loop {
        // SAFETY: siginfo_t is plain old data; all-zero is a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: pid is our own unreaped child; info is valid for the call.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if rc == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            break;
        }
    }
    let wchar = std::fs::read_to_string(format!("/proc/{pid}/io"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("wchar:"))
                .and_then(|v| v.trim().parse().ok())
        });
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pid is our own unreaped child; both pointers are valid for the call.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4 failed: {e}"));
        }
    }
    let wall = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let sampled_peak_kib = sampler.join().unwrap_or(0);
    // The child is reaped; `child` must not be waited on again (dropping it does not wait).
    drop(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok(Measured {
        code,
        wall,
        user: tv(usage.ru_utime),
        sys: tv(usage.ru_stime),
        max_rss_kib: if sampled_peak_kib > 0 {
            sampled_peak_kib
        } else {
            usage.ru_maxrss.max(0) as u64
        },
        wchar,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// The `VmHWM:` line of a `/proc/<pid>/status` text, in KiB.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
