//! The calls, in the order they are made: set-up, `b`'s snapshot, foreign
//! and missing ids, narrowed tokens, token attacks, `a`'s own ids, `b`'s
//! re-read.

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use tenancy_core::{Permission, PermissionSet, SubjectId, TenantContext, TenantId};

use super::check;
use super::client::{Client, Reply};
use super::id::ResourceId;
use super::report::{Attempt, Case, Expected, Failure, Finding, Report};
use super::route::{Place, Route};
use super::{Config, Created, Ids};

/// How many times `b`'s resources are created when one of their ids equals
/// `a`'s (ids counted per tenant), so that `b`'s id is not also `a`'s own.
const DISTINCT_ID_TRIES: usize = 3;

/// One tenant of the run.
struct Party {
    name: &'static str,
    tenant: TenantId,
    /// Its slug, which the content it creates carries.
    marker: String,
    ctx: TenantContext,
    client: Client,
    ids: Ids,
}

impl Party {
    fn new(
        config: &Config<'_>,
        name: &'static str,
        (tenant, marker): Created,
        subject: u128,
    ) -> Party {
        let ctx = TenantContext::tenant(
            tenant,
            SubjectId::from_u128(subject),
            config.role.clone(),
            config.permissions.clone(),
        );
        Party {
            name,
            tenant,
            client: config.client(&ctx, &marker),
            marker,
            ctx,
            ids: Vec::new(),
        }
    }

    fn id(&self, resource: &str) -> Option<ResourceId> {
        self.ids
            .iter()
            .find(|(name, _)| name == resource)
            .map(|(_, id)| id.clone())
    }
}

/// Which of `b`'s two reads: the snapshot, or the re-read given the
/// snapshot's reply (none when the snapshot got no response).
enum Phase {
    Snapshot,
    Reread(Option<Reply>),
}

/// One call as sent.
struct Sent {
    request: String,
    reply: Result<Reply, String>,
}

struct Run<'c, 'a> {
    config: &'c Config<'a>,
    a: Party,
    b: Party,
    /// Every id `a` ever had: never a missing id, never searched for in
    /// `a`'s bodies.
    a_ids_ever: HashSet<ResourceId>,
    report: Report,
}

/// Runs every case and reports them.
pub(crate) async fn run(config: &Config<'_>, (a, b): (Created, Created)) -> Report {
    let mut run = Run {
        config,
        a: Party::new(config, "a", a, 0xa),
        b: Party::new(config, "b", b, 0xb),
        a_ids_ever: HashSet::new(),
        report: Report::default(),
    };
    let mut problems = run.set_up().await;
    let (reads, unread) = read_backs(&config.routes, &run.b.ids);
    problems.extend(run.unread(&unread));
    if !problems.is_empty() {
        run.report.failures = problems
            .into_iter()
            .map(|problem| Failure {
                route: String::new(),
                request: String::new(),
                case: Case::Setup,
                finding: Finding::Setup { problem },
            })
            .collect();
        return run.report;
    }
    let mut snapshots = Vec::new();
    for (route, resource) in &reads {
        snapshots.push(run.read_back(route, resource, Phase::Snapshot).await);
    }
    let marked: HashSet<&str> = (reads.iter().zip(&snapshots))
        .filter(|(_, reply)| (reply.as_ref()).is_some_and(|r| check::shows(r, &run.b.marker)))
        .map(|((_, resource), _)| resource.as_str())
        .collect();
    run.note_unmarked(&marked);
    for route in &config.routes {
        for (resource, place) in route.placeholders() {
            run.foreign_and_missing(route, &resource, place).await;
        }
    }
    for route in &config.routes {
        run.narrowed(route).await;
        run.attacks(route).await;
    }
    for route in &config.routes {
        run.own(route).await;
    }
    for ((route, resource), before) in reads.iter().zip(snapshots) {
        run.read_back(route, resource, Phase::Reread(before)).await;
    }
    run.report
}

/// The routes that read each of `b`'s resources back: those that say so
/// with [`Route::reads`], else each `GET` route whose only placeholder is
/// the resource, in its path; and the resources none reads back.
fn read_backs<'r>(routes: &'r [Route], ids: &Ids) -> (Vec<(&'r Route, String)>, Vec<String>) {
    let (mut reads, mut unread) = (Vec::new(), Vec::new());
    for (resource, _) in ids {
        let declared: Vec<&Route> = (routes.iter())
            .filter(|r| r.declared_reads().contains(resource))
            .collect();
        let found = if declared.is_empty() {
            let only = [(resource.clone(), Place::Path)];
            (routes.iter())
                .filter(|r| r.method() == Method::GET && r.placeholders() == only)
                .collect()
        } else {
            declared
        };
        if found.is_empty() {
            unread.push(resource.clone());
        }
        reads.extend(found.into_iter().map(|r| (r, resource.clone())));
    }
    (reads, unread)
}

impl Run<'_, '_> {
    /// Creates both tenants' resources; what makes the run meaningless.
    async fn set_up(&mut self) -> Vec<String> {
        let (a, b) = (&mut self.a, &mut self.b);
        let mut problems = Vec::new();
        if a.tenant == b.tenant {
            problems.push(format!(
                "the tenants closure returned the same tenant `{}` twice",
                a.tenant
            ));
        }
        a.ids = (self.config.resources)(a.client.clone()).await;
        for _ in 0..DISTINCT_ID_TRIES {
            b.ids = (self.config.resources)(b.client.clone()).await;
            if !b
                .ids
                .iter()
                .any(|(name, id)| a.id(name).as_ref() == Some(id))
            {
                break;
            }
        }
        for (name, id) in &b.ids {
            if a.id(name).as_ref() == Some(id) {
                problems.push(format!(
                    "a's and b's {name} have the same id `{id}` after {DISTINCT_ID_TRIES} tries, so b's is not foreign to a"
                ));
            }
        }
        for party in [&*a, &*b] {
            for (name, id) in party.ids.iter().filter(|(_, id)| !id.is_id()) {
                problems.push(format!(
                    "the resources closure gave {}'s {name} the id `{id}`, which is no id (did creating it fail?)",
                    party.name
                ));
            }
        }
        let names = |p: &Party| p.ids.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        if names(a) != names(b) {
            problems.push(format!(
                "the resources closure named {:?} for a but {:?} for b",
                names(a),
                names(b)
            ));
        }
        for route in &self.config.routes {
            for (name, _) in route.placeholders() {
                if a.id(&name).is_none() {
                    problems.push(format!(
                        "`{route}` names `{{{name}}}`, which the resources closure does not return"
                    ));
                }
            }
            for name in route.declared_reads() {
                if a.id(name).is_none() {
                    problems.push(format!(
                        "`{route}` reads `{name}`, which the resources closure does not return"
                    ));
                }
            }
            for permission in route.required() {
                if let Err(e) = Permission::parse(permission) {
                    problems.push(format!(
                        "`{route}` requires `{permission}`, which is not a permission: {e}"
                    ));
                }
            }
        }
        for (name, _) in &self.config.unchecked {
            if a.id(name).is_none() {
                problems.push(format!(
                    "unchecked_writes names `{name}`, which the resources closure does not return"
                ));
            }
        }
        self.a_ids_ever = a.ids.iter().map(|(_, id)| id.clone()).collect();
        problems
    }

    /// The resources no route reads back: a set-up problem each when a
    /// route may write, unless the user left it unchecked (then a note).
    fn unread(&mut self, unread: &[String]) -> Vec<String> {
        let writers: Vec<String> = (self.config.routes.iter())
            .filter(|r| r.writes())
            .map(Route::to_string)
            .collect();
        let mut problems = Vec::new();
        for resource in unread {
            let unchecked = self
                .config
                .unchecked
                .iter()
                .find(|(name, _)| name == resource);
            match (writers.first(), unchecked) {
                (None, _) => {}
                (Some(_), Some((_, reason))) => self.report.notes.push(format!(
                    "no route reads b's {resource} back, so a write to it goes unseen (unchecked_writes: {reason})"
                )),
                (Some(writer), None) => problems.push(format!(
                    "no route reads b's {resource} back, so a write to it by `{writer}` or any other writing route would go unseen: \
                     mark a route that shows it (a list route will do) with `.reads(\"{resource}\")`, \
                     or leave it out knowingly with `.unchecked_writes(\"{resource}\", reason)`"
                )),
            }
        }
        problems
    }

    /// What the marker does not cover: when no read-back of `b`'s shows
    /// it, it was left out of the content `b` created; and an id too short
    /// to search for, of a resource whose read-backs do not show the
    /// marker, is covered by the foreign/missing comparison only.
    fn note_unmarked(&mut self, marked: &HashSet<&str>) {
        if marked.is_empty() {
            self.report.notes.push(format!(
                "b's marker `{}` shows in none of b's read-backs: put `c.marker()` into the content the resources closure creates, \
                 so a body that hands b's content to a is caught whatever its ids",
                self.b.marker
            ));
        }
        let short = (self.b.ids.iter())
            .filter(|(name, id)| !id.is_searched() && !marked.contains(name.as_str()));
        for (name, id) in short {
            self.report.notes.push(format!(
                "b's {name} `{id}` is too short to search bodies for, and its read-backs do not show b's marker; \
                 only its foreign/missing comparison covers it"
            ));
        }
    }

    /// `b` reads its resource: first a snapshot (which must succeed), then,
    /// after every other call, again (which must equal the snapshot).
    async fn read_back(&mut self, route: &Route, resource: &str, phase: Phase) -> Option<Reply> {
        let id = self.b.id(resource)?;
        let sent = self.send(route, &self.b.client, &|n| self.b.id(n)).await;
        let resource = resource.to_owned();
        let (case, expected, finding) = match (phase, &sent.reply) {
            (Phase::Snapshot, Ok(now)) => (
                Case::Snapshot { resource, id },
                Expected::Success,
                check::status(Expected::Success, now.status),
            ),
            (Phase::Reread(Some(before)), Ok(now)) => (
                Case::Reread { resource, id },
                Expected::Unchanged(before.status),
                check::unchanged(&before, now, &self.config.mask),
            ),
            (Phase::Snapshot, Err(_)) => (Case::Snapshot { resource, id }, Expected::Success, None),
            (Phase::Reread(_), _) => (Case::Reread { resource, id }, Expected::Anything, None),
        };
        self.record(route, case, &sent, expected, finding.into_iter().collect());
        sent.reply.ok()
    }

    /// `a` with a missing id for `resource`, then with `b`'s; `a`'s own
    /// ids for every other placeholder.
    async fn foreign_and_missing(&mut self, route: &Route, resource: &str, place: Place) {
        let Some(foreign) = self.b.id(resource) else {
            return;
        };
        let taken: HashSet<&str> = self
            .a_ids_ever
            .iter()
            .chain(self.b.ids.iter().map(|(_, id)| id))
            .map(ResourceId::as_str)
            .collect();
        let missing = foreign.missing_like(&taken);
        let a = &self.a;
        let with = |id: &ResourceId| {
            let id = id.clone();
            move |n: &str| {
                if n == resource {
                    Some(id.clone())
                } else {
                    a.id(n)
                }
            }
        };
        let sent_missing = self.send(route, &self.a.client, &with(&missing)).await;
        let sent_foreign = self.send(route, &self.a.client, &with(&foreign)).await;

        // A missing id in the path is a 404 unless the route says
        // otherwise; elsewhere anything, as long as the foreign id gets the
        // same.
        let due = route.status_for_missing(place);
        let expected = due.map_or(Expected::Anything, Expected::Status);
        let case = Case::Missing {
            resource: resource.to_owned(),
            id: missing.clone(),
        };
        self.expect(route, case, &sent_missing, expected, None);

        // Unlike a missing id, say so; like it, it still must be what a
        // missing id is due.
        let (expected, findings) = match (&sent_foreign.reply, &sent_missing.reply) {
            (Ok(f), Ok(m)) => {
                let unlike =
                    check::like_missing((f, &foreign), (m, &missing), resource, &self.config.mask);
                match due {
                    Some(status) if unlike.is_empty() => {
                        let expected = Expected::Status(status);
                        (
                            expected,
                            check::status(expected, f.status).into_iter().collect(),
                        )
                    }
                    _ => (Expected::LikeMissing(m.status), unlike),
                }
            }
            _ => (Expected::Anything, Vec::new()),
        };
        let case = Case::Foreign {
            resource: resource.to_owned(),
            id: foreign.clone(),
        };
        let findings = findings
            .into_iter()
            .chain(self.scan(&sent_foreign, Some(&foreign)))
            .collect();
        self.record(route, case, &sent_foreign, expected, findings);
    }

    /// `a`'s token narrowed to no permission, then to every declared
    /// permission but each one the route requires.
    async fn narrowed(&mut self, route: &Route) {
        let forbidden = Expected::Status(StatusCode::FORBIDDEN);
        let required: Vec<Permission> = route
            .required()
            .iter()
            .filter_map(|p| Permission::parse(p).ok())
            .collect();
        let expected = if required.is_empty() {
            Expected::Anything
        } else {
            forbidden
        };
        let client = self.narrowed_client(PermissionSet::empty());
        let sent = self.send(route, &client, &|n| self.a.id(n)).await;
        self.expect(route, Case::NoPermission, &sent, expected, None);
        self.renew_if_written(route, &sent).await;

        let declared: Vec<Permission> = self
            .config
            .routes
            .iter()
            .flat_map(Route::required)
            .filter_map(|p| Permission::parse(p).ok())
            .collect();
        for permission in required {
            let rest = declared.iter().filter(|q| !q.covers(&permission)).cloned();
            let client = self.narrowed_client(PermissionSet::from_grants(rest));
            let sent = self.send(route, &client, &|n| self.a.id(n)).await;
            let case = Case::Without {
                permission: permission.to_string(),
            };
            self.expect(route, case, &sent, forbidden, None);
            self.renew_if_written(route, &sent).await;
        }
    }

    /// Every token attack on `a`'s context, each answered 401.
    async fn attacks(&mut self, route: &Route) {
        for attack in self.config.kit.attacks(&self.a.ctx) {
            let client = Client::new(
                self.config.service.clone(),
                attack.authorization,
                &self.a.marker,
            );
            let sent = self.send(route, &client, &|n| self.a.id(n)).await;
            let case = Case::Attack { name: attack.name };
            let unauthorized = Expected::Status(StatusCode::UNAUTHORIZED);
            self.expect(route, case, &sent, unauthorized, None);
            self.renew_if_written(route, &sent).await;
        }
    }

    /// `a` with its own ids: the route works, so its refusals mean
    /// something.
    async fn own(&mut self, route: &Route) {
        let sent = self.send(route, &self.a.client, &|n| self.a.id(n)).await;
        self.expect(route, Case::Own, &sent, Expected::Success, None);
        self.renew_if_written(route, &sent).await;
    }

    /// After a call that may have changed or deleted `a`'s resources (a
    /// writing route that succeeded on them), `a` gets new ones, so a
    /// later case fails for its own reason only.
    async fn renew_if_written(&mut self, route: &Route, sent: &Sent) {
        let succeeded = sent
            .reply
            .as_ref()
            .is_ok_and(|r| r.status.is_success() || r.status.is_redirection());
        if succeeded && route.writes() && !route.placeholders().is_empty() {
            self.a.ids = (self.config.resources)(self.a.client.clone()).await;
            let ids = self.a.ids.iter().map(|(_, id)| id.clone());
            self.a_ids_ever.extend(ids);
        }
    }

    fn narrowed_client(&self, permissions: PermissionSet) -> Client {
        let ctx = TenantContext::tenant(
            self.a.tenant,
            self.a.ctx.subject(),
            self.a.ctx.role().clone(),
            permissions,
        );
        self.config.client(&ctx, &self.a.marker)
    }

    async fn send(
        &self,
        route: &Route,
        client: &Client,
        id_of: &dyn Fn(&str) -> Option<ResourceId>,
    ) -> Sent {
        let (uri, body) = route.render(id_of);
        let reply = client
            .call(route.method().clone(), &uri, body.as_ref())
            .await;
        Sent {
            request: format!("{} {uri}", route.method()),
            reply,
        }
    }

    /// Records a call of `a`'s: its status against `expected`, its body
    /// and headers searched for `b`'s ids (but `sent`), tenant id and
    /// marker.
    fn expect(
        &mut self,
        route: &Route,
        case: Case,
        sent: &Sent,
        expected: Expected,
        sent_id: Option<&ResourceId>,
    ) {
        let status = match &sent.reply {
            Ok(reply) => check::status(expected, reply.status),
            Err(_) => None,
        };
        let findings = status.into_iter().chain(self.scan(sent, sent_id)).collect();
        self.record(route, case, sent, expected, findings);
    }

    fn scan(&self, sent: &Sent, sent_id: Option<&ResourceId>) -> Vec<Finding> {
        let Ok(reply) = &sent.reply else {
            return Vec::new();
        };
        // An id `a` also has is `a`'s to see.
        let foreign: Ids = (self.b.ids.iter())
            .filter(|(_, id)| !self.a_ids_ever.contains(id))
            .cloned()
            .collect();
        let secrets = check::Secrets {
            ids: &foreign,
            tenant: self.b.tenant,
            marker: &self.b.marker,
        };
        check::names_nothing(reply, &secrets, sent_id)
    }

    fn record(
        &mut self,
        route: &Route,
        case: Case,
        sent: &Sent,
        expected: Expected,
        mut findings: Vec<Finding>,
    ) {
        if let Err(error) = &sent.reply {
            findings.insert(
                0,
                Finding::CallFailed {
                    error: error.clone(),
                },
            );
        }
        self.report.attempts.push(Attempt {
            route: route.to_string(),
            case: case.clone(),
            request: sent.request.clone(),
            expected,
            got: sent.reply.as_ref().ok().map(|r| r.status),
            leak: !findings.is_empty(),
        });
        let failures = findings.into_iter().map(|finding| Failure {
            route: route.to_string(),
            request: sent.request.clone(),
            case: case.clone(),
            finding,
        });
        self.report.failures.extend(failures);
    }
}
