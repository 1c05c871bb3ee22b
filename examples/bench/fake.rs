//! The fake Cliniko server as a separate process (so the client is measured alone), with
//! its out-of-band routes: request counts and data changes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// What the fake serves.
#[derive(Debug, Clone)]
pub struct FakeSpec {
    pub orgs: usize,
    pub patients: usize,
    pub appointments_per_patient: usize,
    pub latency_ms: u64,
    /// Requests per minute per key enforced by the fake (`None`: unlimited).
    pub rate_limit: Option<u32>,
    pub seed: u64,
}

impl FakeSpec {
    /// One org of about `records` records: a quarter patients, three appointments each.
    pub fn records(records: usize) -> FakeSpec {
        FakeSpec {
            orgs: 1,
            patients: (records / 4).max(1),
            appointments_per_patient: 3,
            latency_ms: 0,
            rate_limit: None,
            seed: 42,
        }
    }

    /// Records per org (patients and appointments).
    pub fn per_org(&self) -> usize {
        self.patients * (1 + self.appointments_per_patient)
    }
}

/// Request counts read from the fake.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub requests: u64,
    pub rate_limited: u64,
}

impl std::ops::Sub for Counts {
    type Output = Counts;
    fn sub(self, o: Counts) -> Counts {
        Counts {
            requests: self.requests.saturating_sub(o.requests),
            rate_limited: self.rate_limited.saturating_sub(o.rate_limited),
        }
    }
}

/// A running `fake-cliniko` process; it exits when this handle drops (its stdin closes).
pub struct FakeServer {
    child: Child,
    stdin: Option<ChildStdin>,
    /// `http://127.0.0.1:PORT/v1`.
    pub base_url: String,
    /// `(org_id, api_key)` of every org.
    pub orgs: Vec<(String, String)>,
}

impl FakeServer {
    /// Starts `bin` with `spec` and waits until it listens.
    pub fn start(bin: &Path, spec: &FakeSpec) -> Result<FakeServer, String> {
        let mut cmd = Command::new(bin);
        cmd.args(["--orgs", &spec.orgs.to_string()])
            .args(["--patients", &spec.patients.to_string()])
            .args([
                "--appointments-per-patient",
                &spec.appointments_per_patient.to_string(),
            ])
            .args(["--latency-ms", &spec.latency_ms.to_string()])
            .args(["--seed", &spec.seed.to_string()])
            // Enough workers for every concurrent client connection to be served at once.
            .args(["--workers", "32"])
            .arg("--exit-on-stdin-eof")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(n) = spec.rate_limit {
            cmd.args(["--rate-limit", &n.to_string()]);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("fake-cliniko has no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut server = FakeServer {
            child,
            stdin,
            base_url: String::new(),
            orgs: Vec::new(),
        };
        while server.orgs.len() < spec.orgs {
            let line = lines
                .next()
                .ok_or("fake-cliniko exited before listing its orgs")?
                .map_err(|e| format!("reading fake-cliniko's output: {e}"))?;
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["listening", url] => server.base_url = (*url).to_string(),
                ["org", id, key] => server.orgs.push(((*id).to_string(), (*key).to_string())),
                _ => return Err(format!("unexpected line from fake-cliniko: {line}")),
            }
        }
        if server.base_url.is_empty() {
            return Err("fake-cliniko did not say where it listens".into());
        }
        Ok(server)
    }

    fn admin_url(&self, route: &str) -> String {
        let root = self.base_url.strip_suffix("/v1").unwrap_or(&self.base_url);
        format!("{root}{route}")
    }

    /// Requests answered so far (all orgs), and how many of them were 429s.
    pub fn counts(&self) -> Result<Counts, String> {
        let text = ureq::get(&self.admin_url("/__stats"))
            .call()
            .and_then(|mut r| r.body_mut().read_to_string())
            .map_err(|e| format!("GET /__stats: {e}"))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("/__stats is not JSON: {e}"))?;
        Ok(Counts {
            requests: v["requests"].as_u64().unwrap_or(0),
            rate_limited: v["rate_limited"].as_u64().unwrap_or(0),
        })
    }

    /// Changes `patients` patients and `appointments` appointments of `org` (their
    /// `updated_at` becomes now).
    pub fn change(&self, org: &str, patients: usize, appointments: usize) -> Result<(), String> {
        let url = self.admin_url(&format!(
            "/__change?org={org}&patients={patients}&appointments={appointments}"
        ));
        ureq::post(&url)
            .send_empty()
            .map(drop)
            .map_err(|e| format!("POST /__change: {e}"))
    }

    /// Hard-deletes `n` patients of `org`: `how` is `spread` (evenly over its ids),
    /// `random` (anywhere) or `clustered` (neighbours); `seed` picks the random places.
    pub fn hard_delete(&self, org: &str, n: usize, how: &str, seed: u64) -> Result<(), String> {
        let url = self.admin_url(&format!(
            "/__change?org={org}&delete_patients={n}&delete_at={how}&seed={seed}"
        ));
        ureq::post(&url)
            .send_empty()
            .map(drop)
            .map_err(|e| format!("POST /__change: {e}"))
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
