//! `--demo`: two tenants with data, and tokens and curl lines to try them.

use std::fmt::Write as _;

use tenancy_axum::Problem;
use tenancy_core::{PermissionSet, RoleName, SubjectId, TenantContext, TenantSlug};
use tenancy_sql::{Order, Select, col};

use super::plans::PlanName;
use super::tenants::{self, TenantRow};
use crate::domain::audit::{self, Entry};
use crate::domain::leases::{self, Lease};
use crate::domain::properties::{self, Property};
use crate::error::ServiceError;
use crate::http::{ApiError, AppState};
use crate::infra::clock::{new_id, now, random_bytes};

struct Seed {
    slug: &'static str,
    name: &'static str,
    plan: PlanName,
    properties: &'static [(&'static str, &'static str, &'static str)],
}

const SEEDS: [Seed; 2] = [
    Seed {
        slug: "acme",
        name: "Acme Properties",
        plan: PlanName::Pro,
        properties: &[
            ("Harbour View", "1 Quay Street", "Wile E. Coyote"),
            ("Mill Lofts", "22 Mill Lane", "Road Runner Ltd"),
        ],
    },
    Seed {
        slug: "globex",
        name: "Globex Estates",
        plan: PlanName::Free,
        properties: &[(
            "Cypress Creek Tower",
            "500 Cypress Creek Road",
            "Hank Scorpio",
        )],
    },
];

fn subject() -> Result<SubjectId, ServiceError> {
    Ok(SubjectId::from_random_bytes(random_bytes()?))
}

fn api(error: ApiError) -> ServiceError {
    let status = Problem::from(error).status();
    ServiceError::DemoRefused { status }
}

/// Finds or creates the tenant, and gives it data if it has none.
async fn seed_tenant(
    state: &AppState,
    operator: &TenantContext,
    seed: &Seed,
) -> Result<(TenantRow, Option<String>), ServiceError> {
    let existing = tenants::by_slug(&state.db, seed.slug).await?;
    let record = match existing {
        Some(row) if row.status == tenancy_core::TenantStatus::Active => row,
        Some(_) => {
            return Err(ServiceError::DemoTenantInactive { slug: seed.slug });
        }
        None => {
            let slug = TenantSlug::parse(seed.slug).map_err(tenancy_core::Error::from)?;
            tenants::create_tenant(state, operator, &slug, seed.name, seed.plan)
                .await
                .map_err(api)?
        }
    };
    let seeder = TenantContext::tenant(
        record.id,
        subject()?,
        RoleName::admin(),
        PermissionSet::empty(),
    );
    let mut tx = state.db.tenant(&seeder).await.map_err(api)?;
    let mut first_property = tx
        .fetch_optional(
            Select::from("properties")
                .column("id")
                .order_by(col("properties", "seq"), Order::Asc)
                .limit(1),
        )
        .await?
        .map(|row| row.try_get::<String, _>("id"))
        .transpose()?;
    if first_property.is_none() {
        for (i, (name, address, lessee)) in seed.properties.iter().enumerate() {
            let (property, lease, at) = (new_id()?, new_id()?, now());
            tx.execute(properties::insert(&Property {
                id: property.clone(),
                name: (*name).to_owned(),
                address: (*address).to_owned(),
                created_at: at.clone(),
                updated_at: at.clone(),
            }))
            .await?;
            tx.execute(leases::insert(&Lease {
                id: lease.clone(),
                property_id: property.clone(),
                lessee: (*lessee).to_owned(),
                start_date: "2026-01-01".to_owned(),
                end_date: "2026-12-31".to_owned(),
                rent_cents: 120_000 + 10_000 * i as i64,
                created_at: at.clone(),
                updated_at: at,
            }))
            .await?;
            audit::record(
                &mut tx,
                Entry::by(&seeder, "property.create", "property", &property),
            )
            .await
            .map_err(api)?;
            audit::record(&mut tx, Entry::by(&seeder, "lease.create", "lease", &lease))
                .await
                .map_err(api)?;
            first_property.get_or_insert(property);
        }
    }
    tx.commit().await?;
    Ok((record, first_property))
}

/// Seeds `acme` (pro) and `globex` (free), and returns the text to print:
/// tokens for a system operator and for each tenant's admin, member and
/// viewer, and curl lines that show the two tenants cannot see each other.
pub(crate) async fn seed(state: &AppState, base_url: &str) -> Result<String, ServiceError> {
    let lifetime = state.config.token_lifetime;
    let operator =
        TenantContext::system(subject()?, RoleName::platform_admin(), PermissionSet::all());
    let mut out = String::new();
    let mut exports = String::new();
    let _ = writeln!(
        exports,
        "export OPERATOR_TOKEN={}",
        state.tokens.issue(&operator, lifetime)?
    );
    let mut first_properties = Vec::new();
    for seed in &SEEDS {
        let (record, property) = seed_tenant(state, &operator, seed).await?;
        first_properties.push(property);
        for role in [RoleName::admin(), RoleName::member(), RoleName::viewer()] {
            let permissions = state
                .roles
                .permissions(&role)
                .map_err(tenancy_core::Error::from)?
                .clone();
            let ctx = TenantContext::tenant(record.id, subject()?, role.clone(), permissions);
            let _ = writeln!(
                exports,
                "export {}_{}_TOKEN={}",
                seed.slug.to_uppercase(),
                role.as_str().to_uppercase(),
                state.tokens.issue(&ctx, lifetime)?
            );
        }
    }
    let hours = lifetime.as_secs() / 3600;
    let _ = writeln!(out, "Demo tenants: acme (plan pro) and globex (plan free).");
    let _ = writeln!(
        out,
        "Paste these lines into a shell (tokens are valid for {hours} h):\n"
    );
    out.push_str(&exports);
    let auth = |who: &str| format!("-H \"Authorization: Bearer ${who}_TOKEN\"");
    let _ = writeln!(out, "\n# acme's properties and leases, as acme's member");
    let _ = writeln!(
        out,
        "curl -s -w '\\n' {base_url}/properties {}",
        auth("ACME_MEMBER")
    );
    let _ = writeln!(
        out,
        "curl -s -w '\\n' {base_url}/leases {}",
        auth("ACME_MEMBER")
    );
    let _ = writeln!(out, "\n# globex sees only its own");
    let _ = writeln!(
        out,
        "curl -s -w '\\n' {base_url}/properties {}",
        auth("GLOBEX_ADMIN")
    );
    if let Some(Some(acme_property)) = first_properties.first() {
        let _ = writeln!(
            out,
            "\n# acme's property, asked for with globex's token: 404"
        );
        let _ = writeln!(
            out,
            "curl -s -w '\\n' -i {base_url}/properties/{acme_property} {}",
            auth("GLOBEX_ADMIN")
        );
    }
    let _ = writeln!(out, "\n# a viewer cannot write: 403");
    let _ = writeln!(
        out,
        "curl -s -w '\\n' -i -X POST {base_url}/properties {} -H 'content-type: application/json' -d '{{\"name\": \"Annex\", \"address\": \"3 Side Street\"}}'",
        auth("ACME_VIEWER")
    );
    let _ = writeln!(
        out,
        "\n# a member adds a property; the admin reads the audit log"
    );
    let _ = writeln!(
        out,
        "curl -s -w '\\n' -X POST {base_url}/properties {} -H 'content-type: application/json' -d '{{\"name\": \"Annex\", \"address\": \"3 Side Street\"}}'",
        auth("ACME_MEMBER")
    );
    let _ = writeln!(
        out,
        "curl -s -w '\\n' {base_url}/audit {}",
        auth("ACME_ADMIN")
    );
    let _ = writeln!(
        out,
        "\n# the platform operator lists tenants and makes a redeem code"
    );
    let _ = writeln!(
        out,
        "curl -s -w '\\n' {base_url}/system/tenants {}",
        auth("OPERATOR")
    );
    let _ = writeln!(
        out,
        "curl -s -w '\\n' -X POST {base_url}/system/redeem-codes {} -H 'content-type: application/json' -d '{{\"plan\": \"free\"}}'",
        auth("OPERATOR")
    );
    Ok(out)
}
