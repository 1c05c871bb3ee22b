//! Statements prepared once per transaction and reused by its batches: a page's upsert is
//! then parsed by the server once per transaction, and each call is one round trip
//! instead of a prepare and an execute.
//!
//! Never across transactions: through a transaction-mode pooler the next transaction may
//! run on another server connection, where the statement does not exist (or another
//! client's of the same name does). [`Prepared::clear`] drops them, which closes them on
//! the server, before the transaction's `COMMIT` or `ROLLBACK` is sent.

use std::cell::RefCell;
use std::collections::HashMap;

use postgres::{GenericClient, Statement};

/// The open transaction's prepared statements, by SQL text. A [`Statement`] belongs to
/// the session it was prepared on: one cache per [`super::PgStore`], never shared.
#[derive(Default)]
pub struct Prepared(RefCell<HashMap<String, Statement>>);

impl Prepared {
    /// `sql` prepared on `client`'s session, from the cache when it was prepared before
    /// in this transaction.
    pub fn get(
        &self,
        client: &mut impl GenericClient,
        sql: &str,
    ) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.0.borrow().get(sql) {
            return Ok(s.clone());
        }
        let statement = client.prepare(sql)?;
        self.0
            .borrow_mut()
            .insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    /// Drops (and so closes on the server) every statement: called before the
    /// transaction ends, so the `Close` messages reach the server connection that
    /// prepared them.
    pub fn clear(&self) {
        self.0.borrow_mut().clear();
    }
}
