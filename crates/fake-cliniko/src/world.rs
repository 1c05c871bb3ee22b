//! The fake's data: accounts (one per API key) holding record collections, a clock, mutations.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::collection::Collection;
use super::record::{self, Record};
use super::rng::Rng;
use crate::timestamp::Timestamp;

/// A mutation or lookup that could not be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorldError {
    /// No account has this API key (the key itself is never printed).
    #[error("no account for this API key")]
    UnknownKey,
    /// The collection has no record with this id.
    #[error("no {resource} record with id {id}")]
    NoSuchRecord {
        /// Collection name.
        resource: String,
        /// The id asked for.
        id: String,
    },
    /// The record cannot be stored (e.g. its `id` is not an integer).
    #[error("bad record: {0}")]
    BadRecord(String),
}

/// One clinic's data, reached with one API key.
#[derive(Debug, Clone, Default)]
pub struct Account {
    /// Our id for the org (e.g. `org_1`); not sent by the API.
    pub org_id: String,
    /// The user owning the key, served by `GET /user`.
    pub user: Record,
    /// The Cliniko account the key belongs to, served by `GET /settings` as
    /// `{"account": {...}}`: `id` (a string int64), `name`, `subdomain`, `country_code`.
    pub settings_account: Record,
    collections: HashMap<String, Collection>,
}

impl Account {
    /// An empty account with a minimal `/user` record.
    pub fn new(org_id: impl Into<String>) -> Self {
        let org_id = org_id.into();
        let user = json!({
            "id": "1000000000000000001",
            "first_name": "Api",
            "last_name": "User",
            "email": format!("api@{org_id}.example.com"),
            "role": "administrator",
            "user_active": true,
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2020-01-01T00:00:00Z",
        });
        // A stable account id per org: the same org gets the same account in every run.
        let account_id = org_id.bytes().fold(1_469_598_103_934_665_603_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(1_099_511_628_211)
        }) % 900_000_000_000_000_000
            + 100_000_000_000_000_000;
        let account = json!({
            "id": account_id.to_string(),
            "name": format!("Clinic {org_id}"),
            "subdomain": org_id.replace('_', "-"),
            "country_code": "AU",
        });
        Account {
            user: user.as_object().cloned().unwrap_or_default(),
            settings_account: account.as_object().cloned().unwrap_or_default(),
            org_id,
            collections: HashMap::new(),
        }
    }

    /// A collection by name, if it exists.
    pub fn collection(&self, resource: &str) -> Option<&Collection> {
        self.collections.get(resource)
    }

    /// A collection by name, created empty when missing.
    pub fn collection_mut(&mut self, resource: &str) -> &mut Collection {
        self.collections
            .entry(resource.to_string())
            .or_insert_with(|| Collection::new(resource))
    }

    /// Names of the collections that exist.
    pub fn resources(&self) -> Vec<String> {
        let mut names: Vec<String> = self.collections.keys().cloned().collect();
        names.sort();
        names
    }
}

/// Every account the fake knows, keyed by API key, plus the fake's clock.
#[derive(Debug, Clone)]
pub struct World {
    accounts: HashMap<String, Account>,
    pinned: Option<Timestamp>,
    offset_secs: i64,
    last_id: u64,
    id_rng: Rng,
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

/// The smallest 19-digit number; fresh ids are at least this.
pub const ID_BASE: u64 = 1_000_000_000_000_000_000;

/// A Cliniko-like 19-digit id for a record created at `ts` (roughly time-ordered).
pub fn id_for_time(ts: Timestamp, rng: &mut Rng) -> u64 {
    let secs = u64::try_from(ts.unix()).unwrap_or(0);
    ID_BASE + secs.saturating_mul(1_000_000) + rng.below(1_000_000)
}

pub(crate) fn reason_text(code: i64) -> &'static str {
    match code {
        10 => "Feeling Better",
        20 => "Condition Worse",
        30 => "Sick",
        31 => "COVID-19 related",
        40 => "Away",
        60 => "Work",
        _ => "Other",
    }
}

impl World {
    /// An empty world on the real clock.
    pub fn new() -> Self {
        World {
            accounts: HashMap::new(),
            pinned: None,
            offset_secs: 0,
            last_id: 0,
            id_rng: Rng::new(0x5eed),
        }
    }

    // ----- clock -----

    /// The world's current time: real UTC (plus any [`World::advance`]) unless pinned.
    pub fn now(&self) -> Timestamp {
        match self.pinned {
            Some(t) => t,
            None => {
                let real = Timestamp::now();
                Timestamp::from_unix(real.unix() + self.offset_secs).unwrap_or(real)
            }
        }
    }

    /// Pins the clock at `t` (it stays there until advanced or unpinned).
    pub fn set_now(&mut self, t: Timestamp) {
        self.pinned = Some(t);
    }

    /// Moves the clock forward by `d` (pinned or not).
    pub fn advance(&mut self, d: std::time::Duration) {
        match self.pinned {
            Some(t) => self.pinned = Some(t.add(d)),
            None => {
                self.offset_secs += i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2);
            }
        }
    }

    // ----- accounts -----

    /// Adds (or replaces) the account reached with `api_key`.
    pub fn add_account(&mut self, api_key: impl Into<String>, account: Account) {
        for c in account.collections.values() {
            if let Some(max) = c.ids().last() {
                self.last_id = self.last_id.max(*max);
            }
        }
        self.accounts.insert(api_key.into(), account);
    }

    /// The account for `api_key`.
    pub fn account(&self, api_key: &str) -> Option<&Account> {
        self.accounts.get(api_key)
    }

    /// Every API key, sorted.
    pub fn api_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.accounts.keys().cloned().collect();
        keys.sort();
        keys
    }

    /// The stored key that `presented` authenticates as: the exact key, or the key
    /// without its `-shard` suffix (Cliniko accepts both).
    pub fn resolve_key(&self, presented: &str) -> Option<&str> {
        if presented.is_empty() {
            return None;
        }
        if let Some((k, _)) = self.accounts.get_key_value(presented) {
            return Some(k.as_str());
        }
        self.accounts.keys().map(String::as_str).find(|k| {
            k.rsplit_once('-')
                .is_some_and(|(base, shard)| base == presented && is_shard(shard))
        })
    }

    fn coll_mut(&mut self, key: &str, resource: &str) -> Result<&mut Collection, WorldError> {
        self.accounts
            .get_mut(key)
            .map(|a| a.collection_mut(resource))
            .ok_or(WorldError::UnknownKey)
    }

    /// The collection `resource` of `key`'s account (created empty if missing).
    pub fn collection_mut(
        &mut self,
        key: &str,
        resource: &str,
    ) -> Result<&mut Collection, WorldError> {
        self.coll_mut(key, resource)
    }

    /// A fresh 19-digit id, larger than any id issued or stored so far.
    pub fn new_id(&mut self) -> u64 {
        let candidate = id_for_time(self.now(), &mut self.id_rng);
        self.last_id = candidate.max(self.last_id + 1 + self.id_rng.below(1000));
        self.last_id
    }

    // ----- mutations -----

    /// Inserts a record created now: assigns an `id` if missing, sets `created_at` if
    /// missing and `updated_at` to now. Replaces a record with the same id. Returns the id.
    pub fn insert(
        &mut self,
        key: &str,
        resource: &str,
        mut rec: Record,
    ) -> Result<String, WorldError> {
        let now = Value::String(self.now().to_string());
        rec.entry("created_at").or_insert_with(|| now.clone());
        rec.insert("updated_at".into(), now);
        self.insert_as_is(key, resource, rec)
    }

    /// Inserts a record keeping its timestamps (only filling `id`, `created_at` and
    /// `updated_at` when missing). Returns the id.
    pub fn insert_as_is(
        &mut self,
        key: &str,
        resource: &str,
        mut rec: Record,
    ) -> Result<String, WorldError> {
        if !self.accounts.contains_key(key) {
            return Err(WorldError::UnknownKey);
        }
        if record::is_blank(rec.get("id")) {
            let id = self.new_id();
            rec.insert("id".into(), Value::String(id.to_string()));
        }
        let now = Value::String(self.now().to_string());
        rec.entry("created_at").or_insert_with(|| now.clone());
        rec.entry("updated_at").or_insert(now);
        let id = record::id_of(&rec).ok_or_else(|| {
            WorldError::BadRecord(format!("id {:?} is not an integer", rec.get("id")))
        })?;
        self.last_id = self.last_id.max(id);
        self.coll_mut(key, resource)?.put(rec);
        Ok(id.to_string())
    }

    /// Changes a record with `f` and sets `updated_at` to now.
    pub fn update(
        &mut self,
        key: &str,
        resource: &str,
        id: &str,
        f: impl FnOnce(&mut Record),
    ) -> Result<(), WorldError> {
        let now = Value::String(self.now().to_string());
        self.update_as_is(key, resource, id, |r| {
            f(r);
            r.insert("updated_at".into(), now);
        })
    }

    /// Changes a record with `f`, leaving `updated_at` alone (unless `f` sets it).
    pub fn update_as_is(
        &mut self,
        key: &str,
        resource: &str,
        id: &str,
        f: impl FnOnce(&mut Record),
    ) -> Result<(), WorldError> {
        let missing = || WorldError::NoSuchRecord {
            resource: resource.to_string(),
            id: id.to_string(),
        };
        let n: u64 = id.trim().parse().map_err(|_| missing())?;
        if self.coll_mut(key, resource)?.modify(n, f) {
            Ok(())
        } else {
            Err(missing())
        }
    }

    /// Sets `updated_at` to now without other changes.
    pub fn touch(&mut self, key: &str, resource: &str, id: &str) -> Result<(), WorldError> {
        self.update(key, resource, id, |_| {})
    }

    /// Archives a record (`archived_at` = now; it leaves default list answers).
    pub fn archive(&mut self, key: &str, resource: &str, id: &str) -> Result<(), WorldError> {
        let now = Value::String(self.now().to_string());
        self.update(key, resource, id, |r| {
            r.insert("archived_at".into(), now);
        })
    }

    /// Un-archives a record (`archived_at` = null).
    pub fn unarchive(&mut self, key: &str, resource: &str, id: &str) -> Result<(), WorldError> {
        self.update(key, resource, id, |r| {
            r.insert("archived_at".into(), Value::Null);
        })
    }

    /// Cancels an appointment (or attendee): `cancelled_at` = now, reason code and text.
    /// Cliniko reason codes: 10 Feeling Better, 20 Condition Worse, 30 Sick, 31 COVID-19
    /// related, 40 Away, 50 Other, 60 Work.
    pub fn cancel(
        &mut self,
        key: &str,
        resource: &str,
        id: &str,
        reason: i64,
    ) -> Result<(), WorldError> {
        let now = Value::String(self.now().to_string());
        self.update(key, resource, id, |r| {
            r.insert("cancelled_at".into(), now);
            r.insert("cancellation_reason".into(), json!(reason));
            r.insert(
                "cancellation_reason_description".into(),
                json!(reason_text(reason)),
            );
        })
    }

    /// Deletes a record for good (it simply disappears from every answer).
    pub fn hard_delete(
        &mut self,
        key: &str,
        resource: &str,
        id: &str,
    ) -> Result<Record, WorldError> {
        let missing = || WorldError::NoSuchRecord {
            resource: resource.to_string(),
            id: id.to_string(),
        };
        let n: u64 = id.trim().parse().map_err(|_| missing())?;
        self.coll_mut(key, resource)?.remove(n).ok_or_else(missing)
    }

    /// Sets `updated_at` of many records to one instant (for tie tests).
    pub fn set_updated_at_many<S: AsRef<str>>(
        &mut self,
        key: &str,
        resource: &str,
        ids: &[S],
        ts: Timestamp,
    ) -> Result<(), WorldError> {
        let t = Value::String(ts.to_string());
        for id in ids {
            self.update_as_is(key, resource, id.as_ref(), |r| {
                r.insert("updated_at".into(), t.clone());
            })?;
        }
        Ok(())
    }

    // ----- reading -----

    /// Every record of a resource, hidden ones (archived, cancelled) included, by id.
    pub fn records(&self, key: &str, resource: &str) -> Vec<Record> {
        let Some(c) = self.account(key).and_then(|a| a.collection(resource)) else {
            return Vec::new();
        };
        c.ids().into_iter().filter_map(|id| c.get(id)).collect()
    }

    /// One record by id (hidden ones included).
    pub fn record(&self, key: &str, resource: &str, id: &str) -> Option<Record> {
        let n: u64 = id.trim().parse().ok()?;
        self.account(key)?.collection(resource)?.get(n)
    }

    /// Every id of a resource (hidden records included), ascending as integers.
    pub fn ids(&self, key: &str, resource: &str) -> Vec<String> {
        self.account(key)
            .and_then(|a| a.collection(resource))
            .map(|c| c.ids().into_iter().map(|id| id.to_string()).collect())
            .unwrap_or_default()
    }

    /// Number of records of a resource (hidden ones included).
    pub fn count(&self, key: &str, resource: &str) -> usize {
        self.account(key)
            .and_then(|a| a.collection(resource))
            .map_or(0, Collection::len)
    }
}

/// Whether `s` is a shard suffix in Cliniko's documented pattern `^\w{2}\d{1,2}$`.
/// The client reads keys by the same rule, but the fake states it again: a fake that took
/// the client's reading of a key could not catch the client reading it wrong.
fn is_shard(s: &str) -> bool {
    let (word, digits) = s.split_at_checked(2).unwrap_or((s, ""));
    word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && (1..=2).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn mutations_set_updated_at_from_the_world_clock() {
        let mut w = World::new();
        w.add_account("k-au1", Account::new("org_1"));
        let t0 = Timestamp::parse("2025-01-01T00:00:00Z").unwrap();
        w.set_now(t0);
        let rec = json!({"first_name": "Ann"}).as_object().cloned().unwrap();
        let id = w.insert("k-au1", "patients", rec).unwrap();
        assert_eq!(id.len(), 19);
        let r = w.record("k-au1", "patients", &id).unwrap();
        assert_eq!(r["updated_at"], "2025-01-01T00:00:00Z");
        w.advance(Duration::from_secs(60));
        w.archive("k-au1", "patients", &id).unwrap();
        let r = w.record("k-au1", "patients", &id).unwrap();
        assert_eq!(r["archived_at"], "2025-01-01T00:01:00Z");
        assert_eq!(r["updated_at"], "2025-01-01T00:01:00Z");
        w.unarchive("k-au1", "patients", &id).unwrap();
        assert!(w.record("k-au1", "patients", &id).unwrap()["archived_at"].is_null());
        let id2 = w.insert("k-au1", "patients", Record::new()).unwrap();
        assert!(id2.parse::<u64>().unwrap() > id.parse::<u64>().unwrap());
        w.set_updated_at_many("k-au1", "patients", &[&id, &id2], t0)
            .unwrap();
        assert!(
            w.records("k-au1", "patients")
                .iter()
                .all(|r| r["updated_at"] == "2025-01-01T00:00:00Z")
        );
        w.hard_delete("k-au1", "patients", &id).unwrap();
        assert_eq!(w.ids("k-au1", "patients"), vec![id2.clone()]);
        assert!(w.touch("k-au1", "patients", &id).is_err());
        assert_eq!(
            w.insert("nope", "patients", Record::new()),
            Err(WorldError::UnknownKey)
        );
        assert_eq!(w.resolve_key("k"), Some("k-au1"));
        assert_eq!(w.resolve_key("x"), None);
    }
}
