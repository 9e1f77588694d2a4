//! The schema, per backend.
//!
//! Tenant tables (`properties`, `leases`, `audit_events`) carry a
//! `tenant_id` column and are keyed by `(tenant_id, id)`; a lease names its
//! property through the composite foreign key `(tenant_id, property_id)`, so
//! the database itself refuses a lease pointing at another tenant's property.
//! Global tables (`tenants`, `redeem_codes`) are platform metadata.
//! `seq` orders rows newest first for pagination.

/// Tables that belong to a tenant.
pub const TENANT_TABLES: [&str; 3] = ["properties", "leases", "audit_events"];

/// Tables of platform metadata.
pub const GLOBAL_TABLES: [&str; 2] = ["tenants", "redeem_codes"];

/// The PostgreSQL setting that carries the transaction's tenant.
pub const TENANT_SETTING: &str = "tenancy.tenant_id";

/// SQLite: created on first start.
pub const SQLITE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS tenants (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        slug TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        plan TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS redeem_codes (
        code TEXT PRIMARY KEY,
        plan TEXT NOT NULL,
        created_at TEXT NOT NULL,
        redeemed_at TEXT
    )",
    "CREATE TABLE IF NOT EXISTS properties (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        address TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (tenant_id, id)
    )",
    "CREATE TABLE IF NOT EXISTS leases (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        property_id TEXT NOT NULL,
        lessee TEXT NOT NULL,
        start_date TEXT NOT NULL,
        end_date TEXT NOT NULL,
        rent_cents INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (tenant_id, id),
        FOREIGN KEY (tenant_id, property_id) REFERENCES properties (tenant_id, id)
    )",
    "CREATE INDEX IF NOT EXISTS leases_by_property ON leases (tenant_id, property_id)",
    "CREATE TABLE IF NOT EXISTS audit_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant_id TEXT NOT NULL,
        at TEXT NOT NULL,
        subject TEXT,
        action TEXT NOT NULL,
        resource_type TEXT,
        resource_id TEXT,
        outcome TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS audit_by_tenant ON audit_events (tenant_id, seq)",
    "CREATE INDEX IF NOT EXISTS properties_by_tenant ON properties (tenant_id, seq)",
    "CREATE INDEX IF NOT EXISTS leases_by_tenant ON leases (tenant_id, seq)",
];

/// PostgreSQL: the same tables, with Row-Level Security enabled and forced
/// on every tenant table.
pub fn postgres() -> Vec<String> {
    let mut statements: Vec<String> = [
        "CREATE TABLE IF NOT EXISTS tenants (
            seq BIGINT GENERATED ALWAYS AS IDENTITY,
            id TEXT PRIMARY KEY,
            slug TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            plan TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL
        )",
        "CREATE TABLE IF NOT EXISTS redeem_codes (
            code TEXT PRIMARY KEY,
            plan TEXT NOT NULL,
            created_at TEXT NOT NULL,
            redeemed_at TEXT
        )",
        "CREATE TABLE IF NOT EXISTS properties (
            seq BIGINT GENERATED ALWAYS AS IDENTITY,
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            name TEXT NOT NULL,
            address TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (tenant_id, id)
        )",
        "CREATE TABLE IF NOT EXISTS leases (
            seq BIGINT GENERATED ALWAYS AS IDENTITY,
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            property_id TEXT NOT NULL,
            lessee TEXT NOT NULL,
            start_date TEXT NOT NULL,
            end_date TEXT NOT NULL,
            rent_cents BIGINT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, property_id) REFERENCES properties (tenant_id, id)
        )",
        "CREATE INDEX IF NOT EXISTS leases_by_property ON leases (tenant_id, property_id)",
        "CREATE TABLE IF NOT EXISTS audit_events (
            seq BIGINT GENERATED ALWAYS AS IDENTITY,
            tenant_id TEXT NOT NULL,
            at TEXT NOT NULL,
            subject TEXT,
            action TEXT NOT NULL,
            resource_type TEXT,
            resource_id TEXT,
            outcome TEXT NOT NULL,
            PRIMARY KEY (tenant_id, seq)
        )",
        "CREATE INDEX IF NOT EXISTS properties_by_tenant ON properties (tenant_id, seq)",
        "CREATE INDEX IF NOT EXISTS leases_by_tenant ON leases (tenant_id, seq)",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for table in TENANT_TABLES {
        let check = format!("tenant_id = current_setting('{TENANT_SETTING}', true)");
        statements.extend([
            format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"),
            format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"),
            format!("DROP POLICY IF EXISTS tenant_isolation ON {table}"),
            format!(
                "CREATE POLICY tenant_isolation ON {table} USING ({check}) WITH CHECK ({check})"
            ),
        ]);
    }
    statements
}
