//! The run: seed, act, compare, for your code and for the fuzzer.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use tenancy_core::{AuditKind, MemoryAuditSink, TenantId};

use super::LeakCheck;
use super::cell;
use super::fuzz::{FuzzCase, Gen, Stmt};
use super::marker::{Markers, SeedId};
use super::probe::{Case, Probe};
use super::report::{Attempt, Leak, LeakKind, LeakReport};
use super::scratch::Scratch;
use super::seed::{GLOBAL_KEY, SYSTEM_KEY, Seed, Snapshot};
use crate::error::Result;
use crate::{TenantPool, TenantTx};

/// The tenants of every check: fixed, so a report can be compared across
/// runs, and unlike any id a service would mint.
const TENANT_BASE: u128 = 0x6c6b_7465_6e61_4000_8000_0000_0000_0000;

struct Run<'a> {
    check: &'a LeakCheck,
    scratch: &'a Scratch,
    pool: TenantPool,
    seed: Seed,
    markers: Markers,
    sink: Arc<MemoryAuditSink>,
    report: LeakReport,
}

pub(crate) async fn run<F, T>(check: &LeakCheck, code: F) -> Result<LeakReport>
where
    F: AsyncFnMut(&Probe<'_>, &mut TenantTx) -> T,
    T: fmt::Debug,
{
    let scratch = Scratch::create(check.url.as_deref(), &check.schema, &|b| {
        check.migration_for(b)
    })
    .await?;
    let result = run_in(check, &scratch, code).await;
    scratch.drop_all().await;
    result
}

async fn run_in<F, T>(check: &LeakCheck, scratch: &Scratch, mut code: F) -> Result<LeakReport>
where
    F: AsyncFnMut(&Probe<'_>, &mut TenantTx) -> T,
    T: fmt::Debug,
{
    let tenants: Vec<TenantId> = (0..check.tenants)
        .map(|i| TenantId::from_u128(TENANT_BASE + i as u128 + 1))
        .collect();
    let sink = Arc::new(MemoryAuditSink::default());
    let seed = Seed::plan(&check.schema, scratch, tenants.clone(), check.rows + 1).await?;
    let mut run = Run {
        check,
        scratch,
        pool: scratch.pool.clone().with_audit_sink(sink.clone()),
        seed,
        markers: Markers::new(tenants),
        sink,
        report: LeakReport {
            backend: scratch.backend,
            tenants: check.tenants,
            fuzz_seed: check.fuzz_seed,
            attempts: Vec::new(),
            leaks: Vec::new(),
        },
    };
    for actor in 0..check.tenants {
        run.your_code(actor, &mut code).await?;
    }
    run.fuzz().await?;
    Ok(run.report)
}

/// `text` with every id handed to the code replaced by its table's name,
/// so the answers for a foreign and a missing id can be compared.
fn mask(text: &str, handed: &[(String, SeedId)]) -> String {
    let mut out = text.to_owned();
    for (table, id) in handed {
        let id = id.to_string();
        out = out
            .replace(&id, &format!("<{table} id>"))
            .replace(&id.to_ascii_uppercase(), &format!("<{table} id>"));
    }
    out
}

/// `text` without what differs between two runs of correct code: digit
/// runs (timestamps, sequence numbers) and UUIDs (fresh ids) become
/// placeholders, so only what the code chose to write is compared.
fn steady(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let uuid_here = text
            .get(at..at + 36)
            .is_some_and(|s| s.len() == 36 && looks_like_uuid(s));
        if uuid_here {
            out.push_str("<uuid>");
            for _ in 0..35 {
                chars.next();
            }
        } else if c.is_ascii_digit() {
            while chars.peek().is_some_and(|(_, d)| d.is_ascii_digit()) {
                chars.next();
            }
            out.push('#');
        } else {
            out.push(c);
        }
    }
    out
}

fn looks_like_uuid(s: &str) -> bool {
    s.char_indices().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => c == '-',
        _ => c.is_ascii_hexdigit(),
    })
}

fn excerpt(rows: &[String]) -> String {
    let mut shown: Vec<&str> = rows.iter().take(3).map(String::as_str).collect();
    if rows.len() > 3 {
        shown.push("…");
    }
    shown.join("; ")
}

impl Run<'_> {
    fn leak(&mut self, kind: LeakKind, attempt: &str, detail: String) {
        self.report.leaks.push(Leak {
            kind,
            attempt: attempt.to_owned(),
            detail,
        });
    }

    /// Records an attempt: a leak if any was found since `leaks_before`.
    fn attempt(&mut self, what: String, leaks_before: usize, refused: bool) {
        let outcome = if self.report.leaks.len() > leaks_before {
            "LEAK"
        } else if refused {
            "refused"
        } else {
            "ok"
        };
        self.report.attempts.push(Attempt {
            what,
            outcome: outcome.to_owned(),
        });
    }

    /// What changed outside `actor`, and what of other tenants `actor`'s
    /// own rows now hold.
    fn compare(&mut self, attempt: &str, actor: usize, before: &Snapshot, after: &Snapshot) {
        let own = self.seed.tenants[actor].to_string();
        let keys: std::collections::BTreeSet<&String> = before
            .by_tenant
            .keys()
            .chain(after.by_tenant.keys())
            .collect();
        for key in keys {
            if *key == own {
                continue;
            }
            let (was, is) = (before.rows(key), after.rows(key));
            if was != is {
                let whose = match key.as_str() {
                    GLOBAL_KEY => "the global tables".to_owned(),
                    SYSTEM_KEY => "the system tables".to_owned(),
                    _ => format!("tenant {key}"),
                };
                let gone: Vec<String> = was.iter().filter(|r| !is.contains(r)).cloned().collect();
                let new: Vec<String> = is.iter().filter(|r| !was.contains(r)).cloned().collect();
                let detail = format!(
                    "{whose}: {} rows gone ({}), {} rows new ({})",
                    gone.len(),
                    excerpt(&gone),
                    new.len(),
                    excerpt(&new)
                );
                self.leak(LeakKind::Written, attempt, detail);
            }
        }
        let mine = after.rows(&own).join("\n");
        let found = self.markers.foreign_in(&mine, actor);
        if !found.is_empty() {
            let detail = format!("its rows now hold {}", found.join(", "));
            self.leak(LeakKind::Moved, attempt, detail);
        }
    }

    fn tripwire_since(&mut self, attempt: &str, seen: usize) {
        let tripped = self.sink.events()[seen..]
            .iter()
            .any(|e| e.kind == AuditKind::LeakPrevented);
        if tripped {
            let detail = "a result held another tenant's tenant column".to_owned();
            self.leak(LeakKind::Tripwire, attempt, detail);
        }
    }

    /// Your code as `actor`, once per case.
    async fn your_code<F, T>(&mut self, actor: usize, code: &mut F) -> Result<()>
    where
        F: AsyncFnMut(&Probe<'_>, &mut TenantTx) -> T,
        T: fmt::Debug,
    {
        let victim = (actor + 1) % self.check.tenants;
        let mut answers: Vec<(Case, String)> = Vec::new();
        let mut own_rows: Vec<(Case, String)> = Vec::new();
        for case in [Case::Own, Case::Shared, Case::Foreign, Case::Missing] {
            self.seed.reset(self.scratch).await?;
            let before = self.seed.snapshot(self.scratch).await?;
            let ctx = self.check.context(self.seed.tenants[actor], actor);
            let probe = Probe {
                ctx: ctx.clone(),
                case,
                actor,
                victim,
                seed: &self.seed,
                url: &self.scratch.url,
                handed: RefCell::new(Vec::new()),
            };
            let seen = self.sink.events().len();
            let mut tx = self.pool.begin(&ctx).await?;
            let output = code(&probe, &mut tx).await;
            // A failed statement makes this report `TransactionAborted`:
            // nothing was committed, which the snapshot shows anyway.
            let _ = tx.commit().await;
            let handed = probe.handed.into_inner();
            let attempt = format!("your code as tenant {actor}, {case} ids");
            let leaks_before = self.report.leaks.len();
            let answer = mask(&format!("{output:?}"), &handed);
            let found = self.markers.foreign_in(&answer, actor);
            if !found.is_empty() {
                let detail = format!("its output holds {}: {answer}", found.join(", "));
                self.leak(LeakKind::Read, &attempt, detail);
            }
            let unusable: Vec<&str> = handed
                .iter()
                .filter(|(_, id)| id.as_str().is_some_and(|s| s.starts_with("(no id")))
                .map(|(t, _)| t.as_str())
                .collect();
            if !unusable.is_empty() {
                let detail = format!("it asked for ids of {unusable:?}, which have none seeded");
                self.leak(LeakKind::Unusable, &attempt, detail);
            }
            let after = self.seed.snapshot(self.scratch).await?;
            self.compare(&attempt, actor, &before, &after);
            self.tripwire_since(&attempt, seen);
            let mine = after.rows(&self.seed.tenants[actor].to_string()).join("\n");
            own_rows.push((case, steady(&mask(&mine, &handed))));
            self.attempt(attempt, leaks_before, false);
            answers.push((case, answer));
        }
        let of = |list: &[(Case, String)], c: Case| {
            list.iter()
                .find(|(k, _)| *k == c)
                .map(|(_, a)| a.clone())
                .unwrap_or_default()
        };
        let attempt = format!("your code as tenant {actor}, foreign vs missing ids");
        let leaks_before = self.report.leaks.len();
        let (foreign, missing) = (of(&answers, Case::Foreign), of(&answers, Case::Missing));
        if foreign != missing {
            let detail = format!("it answered\n    foreign: {foreign}\n    missing: {missing}");
            self.leak(LeakKind::Distinguishable, &attempt, detail);
        }
        let (foreign, missing) = (of(&own_rows, Case::Foreign), of(&own_rows, Case::Missing));
        if foreign != missing {
            let only = |a: &str, b: &str| -> Vec<String> {
                let b: Vec<&str> = b.lines().collect();
                a.lines()
                    .filter(|l| !b.contains(l))
                    .map(str::to_owned)
                    .collect()
            };
            let detail = format!(
                "it left its own rows differently: only after the foreign run ({}), only after the missing run ({})",
                excerpt(&only(&foreign, &missing)),
                excerpt(&only(&missing, &foreign))
            );
            self.leak(LeakKind::Distinguishable, &attempt, detail);
        }
        self.attempt(attempt, leaks_before, false);
        Ok(())
    }

    /// Random statements over the schema, as each tenant in turn.
    async fn fuzz(&mut self) -> Result<()> {
        if self.check.fuzz_cases == 0 {
            return Ok(());
        }
        self.seed.reset(self.scratch).await?;
        let mut before = self.seed.snapshot(self.scratch).await?;
        let seed = self.check.fuzz_seed;
        let tenants = self.check.tenants;
        for i in 0..self.check.fuzz_cases as usize {
            let actor = i % tenants;
            let case = {
                let mut generator = Gen::new(&self.seed, seed.wrapping_add(i as u64));
                generator.actor = actor;
                generator.victim = (actor + 1 + i / tenants % (tenants - 1)) % tenants;
                generator.case()
            };
            let Some(case) = case else { break };
            let attempt = format!(
                "fuzz case {i} (seed {seed}) as tenant {actor}: {}",
                case.shape
            );
            let leaks_before = self.report.leaks.len();
            let seen = self.sink.events().len();
            let refused = self.fuzz_one(&case, actor, &attempt).await?;
            self.tripwire_since(&attempt, seen);
            // A read cannot change rows: only writes are followed by a snapshot.
            if !matches!(case.stmt, Stmt::Select(_)) {
                let after = self.seed.snapshot(self.scratch).await?;
                self.compare(&attempt, actor, &before, &after);
                if after != before {
                    self.seed.reset(self.scratch).await?;
                    before = self.seed.snapshot(self.scratch).await?;
                }
            }
            self.attempt(format!("fuzz: {}", case.shape), leaks_before, refused);
        }
        Ok(())
    }

    /// Runs one case and checks what it read; true when it was refused.
    async fn fuzz_one(&mut self, case: &FuzzCase, actor: usize, attempt: &str) -> Result<bool> {
        let ctx = self.check.context(self.seed.tenants[actor], actor);
        let mut tx = self.pool.begin(&ctx).await?;
        let sql = match &case.stmt {
            Stmt::Select(s) => tx.prepare(s.clone()),
            Stmt::Insert(s) => tx.prepare(s.clone()),
            Stmt::Update(s) => tx.prepare(s.clone()),
            Stmt::Delete(s) => tx.prepare(s.clone()),
        }
        .map(|p| p.sql().to_owned())
        .unwrap_or_default();
        let outcome = match case.stmt.clone() {
            Stmt::Select(s) => tx.fetch_all(s).await.map(Some),
            Stmt::Insert(s) => tx.execute(s).await.map(|_| None),
            Stmt::Update(s) => tx.execute(s).await.map(|_| None),
            Stmt::Delete(s) => tx.execute(s).await.map(|_| None),
        };
        let refused = outcome.is_err();
        if tx.commit().await.is_err() {
            return Ok(true);
        }
        let Ok(Some(rows)) = outcome else {
            return Ok(refused);
        };
        let text = cell::rows(&rows);
        let found = self.markers.foreign_in(&text, actor);
        if !found.is_empty() {
            let detail = format!("rows held {} — {sql}", found.join(", "));
            self.leak(LeakKind::Read, attempt, detail);
        }
        if let Some(expected) = case.expect_count {
            let counted: Option<i64> = rows.first().and_then(|r| r.try_get(0).ok());
            if counted != Some(expected) {
                let detail =
                    format!("counted {counted:?} rows where the tenant has {expected} — {sql}");
                self.leak(LeakKind::Read, attempt, detail);
            }
        }
        Ok(false)
    }
}
