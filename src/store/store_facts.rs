//! The facts a store reports of itself to `check` (schema version, server, pooler,
//! dashboard roles), apart from [`super::probe`], which opens the backends to find them:
//! the backends build these without importing the module that imports them.

/// A store's schema version and this build's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaVersion {
    /// The version the store holds.
    pub found: i64,
    /// The version this routiq-sync writes (and the newest it reads).
    pub current: i64,
}

impl SchemaVersion {
    /// Whether the next sync upgrades the store (an older version).
    pub fn is_older(self) -> bool {
        self.found < self.current
    }

    /// Whether this routiq-sync cannot use the store (a newer version).
    pub fn is_newer(self) -> bool {
        self.found > self.current
    }
}

/// What a database server says of itself to `check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// The server's version, e.g. `15.8 (Debian 15.8-1)`.
    pub version: String,
    /// Whether the session is encrypted.
    pub tls: bool,
    /// The schema version of the tables, `None` when not created yet.
    pub schema: Option<SchemaVersion>,
    /// Whether the role may create the schema or tables in it.
    pub can_create: bool,
    /// What stands between this client and the server, as far as can be told.
    pub pooling: Pooling,
}

/// What `check` can tell about a pooler in front of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pooling {
    /// Successive transactions of one session ran on different server connections: a
    /// pooler in transaction mode (PgBouncer, Supabase's port 6543, Neon's pooled host).
    Transaction,
    /// The server listens on another port than the URL's: a pooler (in session mode, or
    /// in transaction mode with one server connection free) or a forwarded port.
    OtherPort(i32),
    /// No sign of one: a direct connection, or a pooler in session mode on the same port.
    NoneSeen,
}

impl Pooling {
    /// One line for `check`.
    pub fn describe(&self) -> String {
        match self {
            Pooling::Transaction => "transaction mode detected (successive transactions ran on \
                 different server connections): supported, at a round trip or two more per \
                 transaction"
                .to_string(),
            Pooling::OtherPort(port) => format!(
                "likely (the server listens on port {port}, not the URL's): session or \
                 transaction mode, both supported"
            ),
            Pooling::NoneSeen => {
                "none detected (a direct connection, or a session-mode pooler)".to_string()
            }
        }
    }
}

/// What the server says of one of the config's `dashboard_roles`, for `check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderFacts {
    pub role: String,
    /// Whether the server has the role (roles are the administrator's to create).
    pub exists: bool,
    /// A superuser reads past every row security policy.
    pub superuser: bool,
    /// So does a role with `BYPASSRLS`.
    pub bypass_rls: bool,
    /// Tables of the schema it owns (an owner may turn a table's row security off).
    pub owns: Vec<String>,
    /// Whether it may create objects in the schema.
    pub may_create: bool,
    /// Whether it is a member of the role syncing (whose policy lets it read everything).
    pub member_of_sync_role: bool,
}

impl ReaderFacts {
    /// Why this role must not be a dashboard role, each reason one phrase; empty when it
    /// may (or does not exist yet).
    pub fn refusals(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.superuser {
            out.push("is a superuser (superusers read past row security)".to_string());
        }
        if self.bypass_rls {
            out.push("has BYPASSRLS (it reads past row security)".to_string());
        }
        if !self.owns.is_empty() {
            out.push(format!(
                "owns the table(s) {} (an owner may turn row security off)",
                self.owns.join(", ")
            ));
        }
        if self.may_create {
            out.push("may create in the data schema".to_string());
        }
        if self.member_of_sync_role {
            out.push("is a member of the role syncing (which reads every org)".to_string());
        }
        out
    }
}
