//! tenancy-core: authorization decisions, GCRA checks and `Scoped::open`,
//! each next to a baseline measured in the same run.
//!
//! `cargo bench -p tenancy-benches --bench core` runs tenancy's side and the
//! std baselines; add `--features peers` to run cedar-policy, casbin and
//! governor side by side.

use std::collections::HashSet;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tenancy_benches::{Query, decide, queries, workload};
use tenancy_core::{
    MemoryLimitStore, PermissionSet, RateLimiter, RateQuota, RoleName, Scoped, SubjectId,
    SystemClock, TenantContext, TenantId,
};

const QUERIES: usize = 4096;

/// Runs `f` over the query list, one query per iteration.
fn over_queries(
    c: &mut Criterion,
    group: &str,
    name: &str,
    qs: &[Query],
    mut f: impl FnMut(Query) -> bool,
) {
    let mut g = c.benchmark_group(group);
    let mut i = 0;
    g.bench_function(name, |b| {
        b.iter(|| {
            i = (i + 1) % qs.len();
            black_box(f(black_box(qs[i])))
        })
    });
    g.finish();
}

fn decisions(c: &mut Criterion) {
    let Ok(w) = workload() else { return };
    let qs = queries(QUERIES);
    over_queries(c, "decision", "tenancy_compiled", &qs, |q| decide(&w, q));
    over_queries(c, "decision", "tenancy_permission_set", &qs, |q| {
        let user = &w.users[q.user];
        user.ctx.is_for(w.tenants[q.tenant]) && user.ctx.allows(&w.permissions[q.permission])
    });
    // Baseline: the cheapest ad-hoc check people write, a string set lookup.
    let strings: Vec<String> = w.permissions.iter().map(ToString::to_string).collect();
    let sets: Vec<HashSet<&str>> = (0..tenancy_benches::USERS)
        .map(|u| {
            let (_, r) = tenancy_benches::user_assignment(u);
            tenancy_benches::role_grants(r)
                .map(|i| strings[i].as_str())
                .collect()
        })
        .collect();
    over_queries(c, "decision", "baseline_hashset_str", &qs, |q| {
        sets[q.user].contains(strings[q.permission].as_str())
    });
    #[cfg(feature = "peers")]
    peers::decisions(c, &w, &qs);
}

fn rate_limits(c: &mut Criterion) {
    const KEYS: usize = 1000;
    let tenants: Vec<TenantId> = (0..KEYS)
        .map(|i| TenantId::from_u128(0xabc0_0000 + i as u128))
        .collect();
    // Each tenant its own quota; all generous, so every check is admitted.
    let quotas: Vec<RateQuota> = (0..KEYS)
        .map(|i| RateQuota::per_second(1_000_000 + i as u32, 1_000_000))
        .collect();
    let limiter = RateLimiter::new(MemoryLimitStore::default(), SystemClock::new());
    let mut g = c.benchmark_group("gcra_1000_keys");
    let mut i = 0;
    g.bench_function("tenancy_per_key_quota", |b| {
        b.iter(|| {
            i = (i + 7) % KEYS;
            black_box(limiter.check(black_box(tenants[i]), &quotas[i]).is_ok())
        })
    });
    let mut i = 0;
    let now = Duration::from_secs(1);
    g.bench_function("tenancy_per_key_quota_clock_read_by_caller", |b| {
        b.iter(|| {
            i = (i + 7) % KEYS;
            black_box(
                limiter
                    .check_at(black_box(tenants[i]), &quotas[i], now)
                    .is_ok(),
            )
        })
    });
    g.finish();
    #[cfg(feature = "peers")]
    peers::rate_limits(c, &tenants);
}

fn scoped_open(c: &mut Criterion) {
    let tenant = TenantId::from_u128(42);
    let ctx = TenantContext::tenant(
        tenant,
        SubjectId::from_u128(1),
        RoleName::member(),
        PermissionSet::empty(),
    );
    #[expect(clippy::expect_used, reason = "a tenant context always has a tenant")]
    let value = Scoped::new(&ctx, 1234_u64).expect("tenant context");
    let plain = 1234_u64;
    let mut g = c.benchmark_group("scoped");
    g.bench_function("open", |b| {
        b.iter(|| black_box(black_box(&value).open(black_box(&ctx)).is_ok()))
    });
    g.bench_function("baseline_plain_read", |b| {
        b.iter(|| black_box(*black_box(&plain)))
    });
    g.finish();
}

#[cfg(feature = "peers")]
mod peers {
    //! The same questions asked of cedar-policy, casbin and governor.

    use std::hint::black_box;
    use std::str::FromStr;

    use criterion::Criterion;
    use tenancy_benches::{
        Query, ROLES, TENANTS, USERS, Workload, expected, permission_parts, role_grants,
        user_assignment,
    };
    use tenancy_core::TenantId;

    fn action_name(p: usize) -> String {
        let (r, a) = permission_parts(p);
        format!("{r}.{a}")
    }

    pub(super) fn decisions(c: &mut Criterion, _w: &Workload, qs: &[Query]) {
        cedar(c, qs);
        casbin(c, qs);
    }

    fn cedar(c: &mut Criterion, qs: &[Query]) {
        use cedar_policy::{
            Authorizer, Context, Decision, Entities, Entity, EntityUid, PolicySet, Request,
        };
        use std::collections::HashSet;

        let uid = |s: String| EntityUid::from_str(&s).ok();
        let mut text = String::new();
        for t in 0..TENANTS {
            for r in 0..ROLES {
                for p in role_grants(r) {
                    text.push_str(&format!(
                        "permit(principal in Role::\"t{t}r{r}\", action == Action::\"{}\", resource in Tenant::\"t{t}\");\n",
                        action_name(p)
                    ));
                }
            }
        }
        let Ok(policies) = PolicySet::from_str(&text) else {
            return;
        };
        let mut entities = Vec::new();
        for u in 0..USERS {
            let (t, r) = user_assignment(u);
            let (Some(user), Some(role)) = (
                uid(format!("User::\"u{u}\"")),
                uid(format!("Role::\"t{t}r{r}\"")),
            ) else {
                return;
            };
            entities.push(Entity::new_no_attrs(user, HashSet::from([role])));
        }
        for t in 0..TENANTS {
            let (Some(doc), Some(tenant)) = (
                uid(format!("Doc::\"t{t}\"")),
                uid(format!("Tenant::\"t{t}\"")),
            ) else {
                return;
            };
            entities.push(Entity::new_no_attrs(doc, HashSet::from([tenant])));
        }
        let Ok(entities) = Entities::from_entities(entities, None) else {
            return;
        };
        let requests: Vec<Request> = qs
            .iter()
            .filter_map(|q| {
                Request::new(
                    uid(format!("User::\"u{}\"", q.user))?,
                    uid(format!("Action::\"{}\"", action_name(q.permission)))?,
                    uid(format!("Doc::\"t{}\"", q.tenant))?,
                    Context::empty(),
                    None,
                )
                .ok()
            })
            .collect();
        let authorizer = Authorizer::new();
        // The peer must answer the same questions the same way.
        for (q, req) in qs.iter().zip(&requests) {
            let allowed = authorizer
                .is_authorized(req, &policies, &entities)
                .decision()
                == Decision::Allow;
            assert_eq!(allowed, expected(*q), "cedar disagrees on {q:?}");
        }
        let mut g = c.benchmark_group("decision");
        g.measurement_time(std::time::Duration::from_secs(3));
        let mut i = 0;
        g.bench_function("cedar_policy_1000_policies", |b| {
            b.iter(|| {
                i = (i + 1) % requests.len();
                black_box(
                    authorizer
                        .is_authorized(&requests[i], &policies, &entities)
                        .decision(),
                )
            })
        });
        g.finish();
    }

    fn casbin(c: &mut Criterion, qs: &[Query]) {
        use casbin::prelude::*;

        const MODEL: &str = "[request_definition]\nr = sub, dom, obj, act\n\n[policy_definition]\np = sub, dom, obj, act\n\n[role_definition]\ng = _, _, _\n\n[policy_effect]\ne = some(where (p.eft == allow))\n\n[matchers]\nm = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act\n";
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
            return;
        };
        let enforcer = rt.block_on(async {
            let model = DefaultModel::from_str(MODEL).await.ok()?;
            let mut e = Enforcer::new(model, MemoryAdapter::default()).await.ok()?;
            let mut policies = Vec::new();
            for t in 0..TENANTS {
                for r in 0..ROLES {
                    for p in role_grants(r) {
                        let (res, act) = permission_parts(p);
                        policies.push(vec![format!("t{t}r{r}"), format!("t{t}"), res, act]);
                    }
                }
            }
            e.add_policies(policies).await.ok()?;
            let groups = (0..USERS)
                .map(|u| {
                    let (t, r) = user_assignment(u);
                    vec![format!("u{u}"), format!("t{t}r{r}"), format!("t{t}")]
                })
                .collect();
            e.add_grouping_policies(groups).await.ok()?;
            Some(e)
        });
        let Some(enforcer) = enforcer else { return };
        let args: Vec<(String, String, String, String)> = qs
            .iter()
            .map(|q| {
                let (res, act) = permission_parts(q.permission);
                (format!("u{}", q.user), format!("t{}", q.tenant), res, act)
            })
            .collect();
        for (q, a) in qs.iter().zip(&args) {
            assert_eq!(
                enforcer.enforce(a.clone()).ok(),
                Some(expected(*q)),
                "casbin disagrees on {q:?}"
            );
        }
        let mut g = c.benchmark_group("decision");
        g.measurement_time(std::time::Duration::from_secs(3));
        let mut i = 0;
        g.bench_function("casbin_rbac_with_domains_1000_policies", |b| {
            b.iter(|| {
                i = (i + 1) % args.len();
                let (s, d, o, a) = &args[i];
                black_box(
                    enforcer
                        .enforce((s.as_str(), d.as_str(), o.as_str(), a.as_str()))
                        .ok(),
                )
            })
        });
        g.finish();
    }

    pub(super) fn rate_limits(c: &mut Criterion, tenants: &[TenantId]) {
        use governor::{Quota, RateLimiter};
        use std::num::NonZeroU32;

        let Some(rate) = NonZeroU32::new(1_000_000) else {
            return;
        };
        // governor gives every key the same quota: it cannot vary it per key.
        let limiter = RateLimiter::keyed(Quota::per_second(rate).allow_burst(rate));
        let mut g = c.benchmark_group("gcra_1000_keys");
        let mut i = 0;
        g.bench_function("governor_check_key_same_quota", |b| {
            b.iter(|| {
                i = (i + 7) % tenants.len();
                black_box(limiter.check_key(black_box(&tenants[i])).is_ok())
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = decisions, rate_limits, scoped_open
}
criterion_main!(benches);
