//! Per-org, per-route sync state on PostgreSQL: cursors and full walks.

use std::collections::BTreeMap;

use super::PgStore;
use crate::resource::Resource;
use crate::store::{OrgState, ResourceState, StoreError, SyncState};
use crate::timestamp::Timestamp;

impl SyncState for PgStore {
    fn org_state(&self, org_id: &str) -> Result<OrgState, StoreError> {
        let rows = self.query(
            "SELECT resource, cursor, last_full_at, full_run_id, full_started_at, full_position
             FROM sync_state WHERE org_id = $1",
            &[&org_id],
        )?;
        let mut routes = BTreeMap::new();
        for r in &rows {
            let ts = |i: usize| {
                r.get::<_, Option<time::OffsetDateTime>>(i)
                    .map(Timestamp::from_datetime)
            };
            let state = ResourceState::from_columns(ts(1), ts(2), r.get(3), ts(4), ts(5));
            routes.insert(r.get::<_, String>(0), state);
        }
        Ok(OrgState {
            last_success_at: self.last_success_at(org_id)?,
            routes,
        })
    }

    fn begin_full(
        &mut self,
        org_id: &str,
        resource: Resource,
        run_id: i64,
        started_at: Timestamp,
    ) -> Result<(), StoreError> {
        let keys: Vec<&str> = resource.cursor_keys().to_vec();
        // One statement for every route: atomic without a transaction of its own.
        self.execute(
            "INSERT INTO sync_state (org_id, resource, full_run_id, full_started_at)
             SELECT $1, key, $3, $4 FROM unnest($2::text[]) AS key
             ON CONFLICT (org_id, resource) DO UPDATE SET full_run_id = excluded.full_run_id,
               full_started_at = excluded.full_started_at, full_position = NULL",
            &[&org_id, &keys, &run_id, &started_at.datetime()],
        )?;
        Ok(())
    }
}
