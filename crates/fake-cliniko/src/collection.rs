//! One resource's records for one account: compact storage, sorted indexes, cached JSON.
//!
//! A record is kept as its serialized JSON (what list answers concatenate) plus the few
//! field values its endpoints filter and sort by; the full map is parsed back only for
//! mutations and test getters. That keeps 200,000 records in a few hundred MB.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::endpoints::collection_fields;
use super::index::{Entry, SortedIndex};
use super::record::{self, Fields, Record};

/// A stored record with what list queries need precomputed.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The record serialized, exactly as served.
    pub json: Arc<str>,
    /// Non-null values of the collection's filterable fields (`x_id` read from links).
    fields: Box<[(&'static str, Value)]>,
    /// Insertion sequence number (tiebreak for "insertion order").
    pub seq: u64,
    /// `updated_at` as UNIX seconds (`i64::MIN` when missing or unparseable).
    pub updated: i64,
    /// `created_at` as UNIX seconds (`i64::MIN` when missing or unparseable).
    pub created: i64,
    /// `record::FLAG_*` bits.
    pub flags: u8,
}

impl Fields for Stored {
    fn value(&self, field: &str) -> Option<Cow<'_, Value>> {
        self.fields
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, v)| Cow::Borrowed(v))
    }
}

/// Which sorted index to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    /// `(updated_at, id)`: serves `sort=updated_at,id`.
    Updated,
    /// `(created_at, insertion order)`: serves the default `sort=created_at`.
    Created,
    /// `(id_key(id), id)`: serves `sort=id`.
    Id,
}

/// The records of one resource (e.g. one org's patients).
#[derive(Debug, Clone, Default)]
pub struct Collection {
    schema: Vec<&'static str>,
    records: HashMap<u64, Stored>,
    by_updated: SortedIndex,
    by_created: SortedIndex,
    by_id: SortedIndex,
    next_seq: u64,
}

/// Maps an id onto the `i64` key space keeping its order (`0 → i64::MIN`).
pub fn id_key(id: u64) -> i64 {
    (id ^ (1 << 63)) as i64
}

impl Stored {
    fn new(rec: &Record, schema: &[&'static str], seq: u64) -> Stored {
        // Serializing a map with string keys and JSON values cannot fail.
        let json: Arc<str> = serde_json::to_string(rec)
            .unwrap_or_else(|_| "{}".to_string())
            .into();
        let fields = schema
            .iter()
            .filter_map(|name| rec.value(name).map(|v| (*name, v.into_owned())))
            .collect();
        Stored {
            json,
            fields,
            seq,
            updated: record::unix_of(rec, "updated_at").unwrap_or(i64::MIN),
            created: record::unix_of(rec, "created_at").unwrap_or(i64::MIN),
            flags: record::flags(rec),
        }
    }

    /// The record parsed back from its JSON.
    pub fn record(&self) -> Record {
        serde_json::from_str(&self.json).unwrap_or_default()
    }

    fn entries(&self, id: u64) -> [Entry; 3] {
        let e = |key, tie| Entry {
            key,
            tie,
            id,
            flags: self.flags,
        };
        [
            e(self.updated, id),
            e(self.created, self.seq),
            e(id_key(id), id),
        ]
    }
}

impl Collection {
    /// An empty collection of `resource` (which decides the filterable fields kept).
    pub fn new(resource: &str) -> Self {
        Collection {
            schema: collection_fields(resource),
            records: HashMap::new(),
            by_updated: SortedIndex::new(),
            by_created: SortedIndex::new(),
            by_id: SortedIndex::new(),
            next_seq: 0,
        }
    }

    fn indexes(&mut self) -> [&mut SortedIndex; 3] {
        [&mut self.by_updated, &mut self.by_created, &mut self.by_id]
    }

    /// Inserts or replaces a record by its `id`; returns the id, or `None` when the
    /// record has no integer id.
    pub fn put(&mut self, rec: Record) -> Option<u64> {
        let id = record::id_of(&rec)?;
        if self.records.contains_key(&id) {
            self.modify(id, |r| *r = rec);
            return Some(id);
        }
        let stored = Stored::new(&rec, &self.schema, self.next_seq);
        self.next_seq += 1;
        for (ix, e) in self.indexes().into_iter().zip(stored.entries(id)) {
            ix.insert(e);
        }
        self.records.insert(id, stored);
        Some(id)
    }

    /// Applies `f` to the record and refreshes its cached JSON and index entries. The id
    /// cannot be changed this way: it is put back if `f` altered it. Returns false when
    /// there is no such record.
    pub fn modify(&mut self, id: u64, f: impl FnOnce(&mut Record)) -> bool {
        let Some(stored) = self.records.get_mut(&id) else {
            return false;
        };
        let mut rec = stored.record();
        let original_id = rec.get("id").cloned();
        f(&mut rec);
        if record::id_of(&rec) != Some(id) {
            rec.insert("id".into(), original_id.unwrap_or(Value::Null));
        }
        let old = stored.entries(id);
        *stored = Stored::new(&rec, &self.schema, stored.seq);
        let new = stored.entries(id);
        for ((ix, o), n) in self.indexes().into_iter().zip(old).zip(new) {
            ix.replace(o, n);
        }
        true
    }

    /// Removes a record for good.
    pub fn remove(&mut self, id: u64) -> Option<Record> {
        let stored = self.records.remove(&id)?;
        for (ix, e) in self.indexes().into_iter().zip(stored.entries(id)) {
            ix.remove(e.key, e.tie);
        }
        Some(stored.record())
    }

    /// Starts a bulk load: inserts are cheap and the indexes are sorted on first read.
    pub fn begin_bulk(&mut self) {
        for ix in self.indexes() {
            ix.begin_bulk();
        }
    }

    /// Ends a bulk load, sorting the indexes now.
    pub fn end_bulk(&mut self) {
        for ix in self.indexes() {
            ix.ensure_sorted();
        }
    }

    /// A record by id (parsed from its stored JSON).
    pub fn get(&self, id: u64) -> Option<Record> {
        self.records.get(&id).map(Stored::record)
    }

    /// A stored record (with its cached JSON and keys) by id.
    pub fn stored(&self, id: u64) -> Option<&Stored> {
        self.records.get(&id)
    }

    /// Every stored record, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &Stored)> {
        self.records.iter().map(|(id, s)| (*id, s))
    }

    /// Every id, ascending.
    pub fn ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.records.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Number of records (including archived and cancelled ones).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Makes the indexes readable (sorts them after a bulk load). Call before
    /// [`Self::sorted_index`].
    pub fn prepare(&mut self) {
        self.end_bulk();
    }

    /// One of the sorted indexes; [`Self::prepare`] must have run since the last bulk load.
    pub fn sorted_index(&self, kind: IndexKind) -> &SortedIndex {
        match kind {
            IndexKind::Updated => &self.by_updated,
            IndexKind::Created => &self.by_created,
            IndexKind::Id => &self.by_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(id: &str, updated: &str) -> Record {
        json!({"id": id, "created_at": "2024-01-01T00:00:00Z", "updated_at": updated, "archived_at": null,
               "practitioner": {"links": {"self": "https://x/v1/practitioners/77"}}})
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn put_modify_remove_keep_indexes_in_step() {
        let mut c = Collection::new("individual_appointments");
        c.put(rec("20", "2024-02-01T00:00:00Z"));
        c.put(rec("3", "2024-01-01T00:00:00Z"));
        c.prepare();
        let order: Vec<u64> = c
            .sorted_index(IndexKind::Updated)
            .range(None, None)
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(order, vec![3, 20]);
        assert_eq!(
            c.stored(3).unwrap().value("practitioner_id").as_deref(),
            Some(&json!("77"))
        );
        assert!(c.modify(3, |r| {
            r.insert("updated_at".into(), json!("2024-03-01T00:00:00Z"));
            r.insert("archived_at".into(), json!("2024-03-01T00:00:00Z"));
            r.insert("id".into(), json!("999"));
        }));
        c.prepare();
        let ix = c
            .sorted_index(IndexKind::Updated)
            .range(None, None)
            .to_vec();
        assert_eq!(ix.iter().map(|e| e.id).collect::<Vec<_>>(), vec![20, 3]);
        assert_eq!(ix[1].flags, record::FLAG_ARCHIVED);
        assert!(c.stored(3).unwrap().json.contains("\"id\":\"3\""));
        assert!(c.stored(3).unwrap().value("archived_at").is_some());
        assert!(c.remove(20).is_some());
        assert_eq!(c.sorted_index(IndexKind::Created).len(), 1);
        assert_eq!(c.sorted_index(IndexKind::Id).len(), 1);
        assert_eq!(c.ids(), vec![3]);
    }
}
