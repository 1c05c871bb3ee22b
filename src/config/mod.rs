//! TEMPORARY stub of the config types; replaced by the real module.
use std::path::PathBuf;
use std::time::Duration;

use crate::resource::Resource;
use crate::secret::ApiKey;

pub struct Config {
    pub path: PathBuf,
    pub database: PathBuf,
    pub lock_dir: PathBuf,
    pub user_agent: String,
    pub min_interval: Duration,
    pub full_sync_every: Duration,
    pub jobs: usize,
    pub requests_per_minute: f64,
    pub request_timeout: Duration,
    pub retry_attempts: u32,
    pub max_wait: Duration,
    pub appointment_window: Option<AppointmentWindow>,
    pub orgs: Vec<OrgConfig>,
    pub warnings: Vec<String>,
}
#[derive(Debug, Clone, Copy)]
pub struct AppointmentWindow {
    pub past_days: u32,
    pub future_days: u32,
}
#[derive(Debug, Clone)]
pub enum KeySource {
    Inline,
    Env(String),
}
#[derive(Debug, Clone)]
pub struct OrgConfig {
    pub id: String,
    pub name: Option<String>,
    pub api_key: ApiKey,
    pub key_source: KeySource,
    pub base_url: String,
    pub resources: Vec<Resource>,
}
#[derive(Debug, thiserror::Error)]
#[error("config")]
pub struct ConfigError;
pub struct LoadOptions<'a> {
    pub explicit_path: Option<&'a std::path::Path>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}
pub fn load(_o: &LoadOptions) -> Result<Config, ConfigError> {
    Err(ConfigError)
}
pub fn parse_duration(_s: &str) -> Result<Duration, String> {
    Err(String::new())
}
pub fn format_duration(d: Duration) -> String {
    format!("{}s", d.as_secs())
}
impl Config {
    pub fn select_orgs(&self, _ids: &[String]) -> Result<Vec<&OrgConfig>, ConfigError> {
        Ok(self.orgs.iter().collect())
    }
}
