//! Rewriting an org's `local_offsets` rows on PostgreSQL: the delete, then one insert of
//! every row (as arrays), in one transaction.

use super::{PgStore, Step, statements};
use crate::store::StoreError;
use crate::store::local_offsets::{LocalOffsets, offset_spans};
use crate::store::sql::{self, Dialect::Postgres};

impl LocalOffsets for PgStore {
    fn refresh_local_offsets(&mut self, org_id: &str) -> Result<Vec<String>, StoreError> {
        let businesses = self.query(
            Step::statement("reading the businesses' time zones"),
            sql::BUSINESS_ZONES.get(Postgres),
            &[&org_id],
            |r| (r.get::<_, String>(0), r.get::<_, Option<String>>(1)),
        )?;
        let (spans, unknown) = offset_spans(&businesses);
        let ids: Vec<&str> = spans.iter().map(|s| s.business_id.as_str()).collect();
        let starts: Vec<_> = spans.iter().map(|s| s.starts_utc.datetime()).collect();
        let ends: Vec<_> = spans.iter().map(|s| s.ends_utc.datetime()).collect();
        let offsets: Vec<i64> = spans.iter().map(|s| s.utc_offset_seconds).collect();
        let delete = sql::delete_org_rows(Postgres, "local_offsets");
        let step = Step::statement("rewriting the businesses' local time offsets");
        self.in_tx(org_id, step, |tx| {
            tx.execute(&delete, &[&org_id])?;
            tx.execute(
                statements::INSERT_LOCAL_OFFSET,
                &[&org_id, &ids, &starts, &ends, &offsets],
            )?;
            Ok(())
        })?;
        Ok(unknown)
    }
}
