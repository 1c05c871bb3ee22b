//! The few places where SQLite and PostgreSQL spell one statement differently, and a
//! statement written once whose text for each backend is rendered once per process.
//!
//! A shared statement is written with SQLite's `?N` placeholders; PostgreSQL's `$N` take
//! the same numbers. Where the two really differ, a statement asks its [`Dialect`]:
//! batches (SQLite runs a statement once per value, PostgreSQL once for an array of them)
//! and the casts PostgreSQL's typed columns need. What both understand (`IS DISTINCT
//! FROM`, `string_agg`, `RETURNING`, `CAST(x AS TEXT)`) is written as it is.

use std::sync::OnceLock;

/// The SQL a backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `sql`, written with `?N` placeholders, as this dialect numbers them: `$N` on
    /// PostgreSQL. (No shared statement has a `?` of its own: no JSON path operator.)
    pub fn render(self, sql: &str) -> String {
        match self {
            Dialect::Sqlite => sql.to_string(),
            Dialect::Postgres => {
                let mut out = String::with_capacity(sql.len());
                let mut chars = sql.chars().peekable();
                while let Some(c) = chars.next() {
                    let numbered = c == '?' && chars.peek().is_some_and(char::is_ascii_digit);
                    out.push(if numbered { '$' } else { c });
                }
                out
            }
        }
    }

    /// The parameter `?n` where a batch of values goes: SQLite runs the statement once
    /// for each value; PostgreSQL once, for an array of them (`= ANY(...)`).
    pub fn each(self, n: u8) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("ANY(?{n})"),
        }
    }

    /// The rows an `INSERT` into `sync_state` takes from the parameters `?1` to `?n`,
    /// `?2` being the route: one row per execution on SQLite, which runs it once per
    /// route; one row per route of the array `?2` on PostgreSQL (see [`Dialect::each`]).
    pub fn rows_per_route(self, n: u8) -> String {
        let params = |route: &str| -> Vec<String> {
            (1..=n)
                .map(|i| match i {
                    2 => route.to_string(),
                    i => format!("?{i}"),
                })
                .collect()
        };
        match self {
            Dialect::Sqlite => format!("VALUES ({})", params("?2").join(", ")),
            Dialect::Postgres => format!(
                "SELECT {} FROM unnest(CAST(?2 AS text[])) AS route",
                params("route").join(", ")
            ),
        }
    }

    /// The parameter `?n`, sent as text, as a value of a column of SQL type `ty` (as
    /// PostgreSQL's catalog names it): SQLite stores the text as it is; PostgreSQL casts
    /// it (a client's text parameter cannot be bound to a `jsonb` or `date` column).
    pub fn from_text(self, n: usize, ty: &str) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("?{n}::text::{ty}"),
        }
    }
}

/// A statement both backends run, written once: its text for each dialect is rendered
/// on first use and kept for the life of the process.
pub struct Statement {
    source: Source,
    rendered: [OnceLock<String>; 2],
}

/// How a [`Statement`] is written.
enum Source {
    /// The same text for both but for the placeholders.
    Text(&'static str),
    /// Built for each dialect (then its placeholders rendered).
    Built(fn(Dialect) -> String),
}

impl Statement {
    /// A statement the two dialects spell alike but for the placeholders.
    pub const fn text(sql: &'static str) -> Statement {
        Statement::new(Source::Text(sql))
    }

    /// A statement that asks the dialect for the parts they spell differently.
    pub const fn built(build: fn(Dialect) -> String) -> Statement {
        Statement::new(Source::Built(build))
    }

    const fn new(source: Source) -> Statement {
        Statement {
            source,
            rendered: [OnceLock::new(), OnceLock::new()],
        }
    }

    /// The statement's text in `dialect`.
    pub fn get(&self, dialect: Dialect) -> &str {
        self.rendered[dialect as usize].get_or_init(|| match self.source {
            Source::Text(sql) => dialect.render(sql),
            Source::Built(build) => dialect.render(&build(dialect)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_numbers_the_same_placeholders_with_a_dollar() {
        let sql = "SELECT 1 WHERE a = ?1 AND b = ?12 AND c = '?'";
        assert_eq!(Dialect::Sqlite.render(sql), sql);
        assert_eq!(
            Dialect::Postgres.render(sql),
            "SELECT 1 WHERE a = $1 AND b = $12 AND c = '?'"
        );
    }

    #[test]
    fn a_batch_is_one_value_per_run_on_sqlite_and_an_array_on_postgres() {
        assert_eq!(Dialect::Sqlite.each(2), "?2");
        assert_eq!(Dialect::Postgres.each(2), "ANY(?2)");
        assert_eq!(Dialect::Sqlite.rows_per_route(3), "VALUES (?1, ?2, ?3)");
        assert_eq!(
            Dialect::Postgres.rows_per_route(3),
            "SELECT ?1, route, ?3 FROM unnest(CAST(?2 AS text[])) AS route"
        );
    }

    #[test]
    fn a_statement_is_rendered_once_per_dialect() {
        static S: Statement = Statement::built(|d| format!("SELECT {}", d.each(1)));
        assert_eq!(S.get(Dialect::Sqlite), "SELECT ?1");
        assert_eq!(S.get(Dialect::Postgres), "SELECT ANY($1)");
        assert!(std::ptr::eq(
            S.get(Dialect::Postgres),
            S.get(Dialect::Postgres)
        ));
    }
}
