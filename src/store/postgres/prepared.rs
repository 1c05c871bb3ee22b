//! Statements prepared once per session and reused for the whole run: a page's upsert is
//! then parsed and planned by the server once, and each call is one round trip instead of
//! a prepare and an execute.

use std::cell::RefCell;
use std::collections::HashMap;

use postgres::{GenericClient, Statement};

/// The session's prepared statements, by SQL text. A [`Statement`] belongs to the
/// session it was prepared on: one cache per [`super::PgStore`], never shared.
#[derive(Default)]
pub struct Prepared(RefCell<HashMap<String, Statement>>);

impl Prepared {
    /// `sql` prepared on `client`'s session, from the cache when it was prepared before.
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
}
