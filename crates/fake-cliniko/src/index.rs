//! A sorted vector of `(key, tiebreak)` entries: O(log n) ranges and ranks for list queries.

/// One index entry: the record's sort key, a unique tiebreak, its id and flag bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Primary key (e.g. `updated_at` as UNIX seconds, or the order-preserving `id_key`).
    pub key: i64,
    /// Unique secondary key (the id, or the insertion sequence number).
    pub tie: u64,
    /// The record id.
    pub id: u64,
    /// The record's flag bits (`record::FLAG_*`), so hidden rows are skipped without a lookup.
    pub flags: u8,
}

impl Entry {
    fn order(&self) -> (i64, u64) {
        (self.key, self.tie)
    }
}

/// Entries kept sorted by `(key, tie)`. Appends in order are O(1); out-of-order inserts
/// during a bulk load just mark the index unsorted and it is sorted once, when next read.
#[derive(Debug, Default, Clone)]
pub struct SortedIndex {
    entries: Vec<Entry>,
    sorted: bool,
    bulk: bool,
}

impl SortedIndex {
    /// An empty index.
    pub fn new() -> Self {
        SortedIndex {
            entries: Vec::new(),
            sorted: true,
            bulk: false,
        }
    }

    /// Starts a bulk load: inserts append without keeping order until [`Self::ensure_sorted`].
    pub fn begin_bulk(&mut self) {
        self.bulk = true;
    }

    /// Sorts the entries if a bulk load left them out of order.
    pub fn ensure_sorted(&mut self) {
        self.bulk = false;
        if !self.sorted {
            self.entries.sort_unstable_by_key(Entry::order);
            self.sorted = true;
        }
    }

    /// Adds an entry (its `(key, tie)` must not already be present).
    pub fn insert(&mut self, e: Entry) {
        let in_order = self.entries.last().is_none_or(|l| l.order() < e.order());
        if in_order {
            self.entries.push(e);
        } else if self.bulk || !self.sorted {
            self.entries.push(e);
            self.sorted = false;
        } else {
            let at = self.entries.partition_point(|x| x.order() < e.order());
            self.entries.insert(at, e);
        }
    }

    /// Removes the entry with this `(key, tie)`, returning whether it was there.
    pub fn remove(&mut self, key: i64, tie: u64) -> bool {
        self.ensure_sorted();
        match self.position(key, tie) {
            Some(at) => {
                self.entries.remove(at);
                true
            }
            None => false,
        }
    }

    /// Replaces `old` by `new`, updating in place when only the flags changed.
    pub fn replace(&mut self, old: Entry, new: Entry) {
        if old.order() == new.order() {
            self.ensure_sorted();
            if let Some(at) = self.position(old.key, old.tie) {
                self.entries[at] = new;
                return;
            }
        } else {
            self.remove(old.key, old.tie);
        }
        self.insert(new);
    }

    fn position(&self, key: i64, tie: u64) -> Option<usize> {
        self.entries
            .binary_search_by(|x| x.order().cmp(&(key, tie)))
            .ok()
    }

    /// The entries whose `key` lies in `lo..hi` (either bound optional), in order. Call
    /// [`Self::ensure_sorted`] first after a bulk load.
    pub fn range(&self, lo: Option<i64>, hi: Option<i64>) -> &[Entry] {
        debug_assert!(self.sorted, "range() on an unsorted index");
        let start = lo.map_or(0, |lo| self.entries.partition_point(|x| x.key < lo));
        let end = hi.map_or(self.entries.len(), |hi| {
            self.entries.partition_point(|x| x.key < hi)
        });
        self.entries.get(start..end.max(start)).unwrap_or(&[])
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(key: i64, tie: u64) -> Entry {
        Entry {
            key,
            tie,
            id: tie,
            flags: 0,
        }
    }

    #[test]
    fn insert_remove_range() {
        let mut ix = SortedIndex::new();
        ix.begin_bulk();
        for (k, t) in [(5, 1), (3, 2), (5, 0), (9, 3)] {
            ix.insert(e(k, t));
        }
        ix.ensure_sorted();
        let keys: Vec<_> = ix
            .range(None, None)
            .iter()
            .map(|x| (x.key, x.tie))
            .collect();
        assert_eq!(keys, vec![(3, 2), (5, 0), (5, 1), (9, 3)]);
        assert_eq!(ix.range(Some(5), Some(9)).len(), 2);
        assert_eq!(ix.range(Some(10), None).len(), 0);
        assert_eq!(ix.range(Some(9), Some(2)).len(), 0);
        ix.insert(e(4, 7));
        assert!(ix.remove(5, 0));
        assert!(!ix.remove(5, 0));
        let keys: Vec<_> = ix.range(None, None).iter().map(|x| x.key).collect();
        assert_eq!(keys, vec![3, 4, 5, 9]);
        ix.replace(
            e(9, 3),
            Entry {
                flags: 1,
                ..e(9, 3)
            },
        );
        assert_eq!(ix.range(Some(9), None)[0].flags, 1);
        ix.replace(e(9, 3), e(1, 3));
        assert_eq!(ix.range(None, None)[0].key, 1);
        assert_eq!(ix.len(), 4);
    }
}
