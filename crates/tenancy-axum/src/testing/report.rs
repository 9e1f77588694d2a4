//! What the check tried, what it found, and the table it prints.

use std::fmt;

use axum::http::StatusCode;
use tenancy_core::TenantId;

use super::id::ResourceId;

/// What one call tried. Tenant `a` makes every call but the read-backs,
/// which tenant `b` makes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Case {
    /// `a` with its own ids: the route must answer with success, else the
    /// other cases prove nothing.
    Own,
    /// `a` with `b`'s id of one resource, `a`'s own ids for the rest.
    Foreign {
        /// The resource's name.
        resource: String,
        /// `b`'s id.
        id: ResourceId,
    },
    /// `a` with an id no tenant has, of the same shape as `b`'s.
    Missing {
        /// The resource's name.
        resource: String,
        /// The never-existing id.
        id: ResourceId,
    },
    /// `a`'s token narrowed to no permission.
    NoPermission,
    /// `a`'s token narrowed to every declared permission but this one.
    Without {
        /// The permission left out.
        permission: String,
    },
    /// An attack on `a`'s token (an expired one, a forged signature, …).
    Attack {
        /// The attack's name.
        name: &'static str,
    },
    /// `b` reads its resource before any other call.
    Snapshot {
        /// The resource's name.
        resource: String,
        /// `b`'s id.
        id: ResourceId,
    },
    /// `b` reads its resource again after every other call.
    Reread {
        /// The resource's name.
        resource: String,
        /// `b`'s id.
        id: ResourceId,
    },
    /// The check's own set-up: tenants, resources, routes.
    Setup,
}

/// What a call was expected to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// Exactly this status.
    Status(StatusCode),
    /// A 2xx or 3xx status.
    Success,
    /// The status and body the same call got with a missing id (here its
    /// status).
    LikeMissing(StatusCode),
    /// The status and body of the snapshot (here its status).
    Unchanged(StatusCode),
    /// Anything; only the body is searched.
    Anything,
}

/// Why an attempt is a leak (or why the check could not run).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// The status is not the expected one.
    Status {
        /// What was due.
        expected: Expected,
        /// What came.
        got: StatusCode,
    },
    /// The foreign id was answered unlike the missing one: another status,
    /// or another body once each id is replaced by its placeholder.
    UnlikeMissing {
        /// The status and body answered to the foreign id.
        foreign: (StatusCode, String),
        /// The status and body answered to the missing id.
        missing: (StatusCode, String),
    },
    /// The foreign id was answered like the missing one (status and body)
    /// but with another value of this header (ids replaced by their
    /// placeholder; `date`, `content-length` and the headers of
    /// [`ignore_headers`](super::HttpLeakCheck::ignore_headers) aside).
    UnlikeMissingHeader {
        /// The header's name, in lower case.
        header: String,
        /// Its value answered to the foreign id; `None` when absent.
        foreign: Option<String>,
        /// Its value answered to the missing id; `None` when absent.
        missing: Option<String>,
    },
    /// A body or header `a` received names one of `b`'s resource ids.
    NamesId {
        /// The resource's name.
        resource: String,
        /// The id, of tenant `b`.
        id: ResourceId,
        /// Where it stands.
        part: Part,
    },
    /// A body or header `a` received names tenant `b`'s id (`a`'s own is
    /// `a`'s to see).
    NamesTenant {
        /// `b`'s tenant id.
        id: TenantId,
        /// Where it stands.
        part: Part,
    },
    /// A body or header `a` received holds `b`'s
    /// [`marker`](super::Client::marker): content `b` created, or `b`'s
    /// slug.
    NamesMarker {
        /// `b`'s marker.
        marker: String,
        /// Where it stands.
        part: Part,
    },
    /// `b`'s resource reads differently after the calls.
    Changed {
        /// The status and body before.
        before: (StatusCode, String),
        /// The status and body after.
        after: (StatusCode, String),
    },
    /// The service gave no response.
    CallFailed {
        /// Why.
        error: String,
    },
    /// The check is set up so that it cannot prove anything.
    Setup {
        /// What is wrong.
        problem: String,
    },
}

/// Where in a response a finding stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    /// The body.
    Body,
    /// The header of this name, in lower case.
    Header(String),
}

/// One call the check made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The route, `GET /notes/{note}`.
    pub route: String,
    /// What was tried.
    pub case: Case,
    /// The request sent, `GET /notes/12`.
    pub request: String,
    /// What was due.
    pub expected: Expected,
    /// What came; `None` when the service gave no response.
    pub got: Option<StatusCode>,
    /// True when the attempt has a finding.
    pub leak: bool,
}

/// One finding, with the call that found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The route, `GET /notes/{note}` (empty for set-up problems).
    pub route: String,
    /// The request sent, `GET /notes/12`.
    pub request: String,
    /// What was tried.
    pub case: Case,
    /// What went wrong.
    pub finding: Finding,
}

/// Every attempt of one run, and every failure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub(crate) attempts: Vec<Attempt>,
    pub(crate) failures: Vec<Failure>,
    pub(crate) notes: Vec<String>,
}

/// A run that found leaks (or could not be set up): the whole report, whose
/// `Display` lists every failure and then the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakFailures {
    report: Report,
}

impl Report {
    /// Every call, in the order made.
    pub fn attempts(&self) -> &[Attempt] {
        &self.attempts
    }

    /// Every finding; empty when the service passed.
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// What the check could not try (a resource whose writes it was told
    /// to leave unchecked, ids too short to search for when `b`'s marker
    /// shows in none of its read-backs).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    pub(crate) fn into_result(self) -> Result<Report, LeakFailures> {
        if self.failures.is_empty() {
            Ok(self)
        } else {
            Err(LeakFailures { report: self })
        }
    }
}

impl LeakFailures {
    /// The report of the run.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// Every finding.
    pub fn failures(&self) -> &[Failure] {
        &self.report.failures
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Case::Own => f.write_str("a's own ids"),
            Case::Foreign { resource, id } => write!(f, "b's {resource} `{id}`"),
            Case::Missing { resource, id } => write!(f, "missing {resource} `{id}`"),
            Case::NoPermission => f.write_str("a token with no permission"),
            Case::Without { permission } => write!(f, "a token without `{permission}`"),
            Case::Attack { name } => write!(f, "token attack `{name}`"),
            Case::Snapshot { resource, id } => write!(f, "b reading its {resource} `{id}` first"),
            Case::Reread { resource, id } => write!(f, "b reading its {resource} `{id}` again"),
            Case::Setup => f.write_str("set-up"),
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Status(s) => write!(f, "{}", s.as_u16()),
            Expected::Success => f.write_str("2xx"),
            Expected::LikeMissing(s) => write!(f, "{} like missing", s.as_u16()),
            Expected::Unchanged(s) => write!(f, "{} unchanged", s.as_u16()),
            Expected::Anything => f.write_str("any"),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Status { expected, got } => {
                write!(f, "expected {expected}, got {}", got.as_u16())
            }
            Finding::UnlikeMissing { foreign, missing } => {
                let (f_status, m_status) = (foreign.0.as_u16(), missing.0.as_u16());
                if f_status == m_status {
                    write!(f, "answered {f_status} like a missing id, but another body")?;
                } else {
                    write!(f, "answered {f_status} where a missing id gets {m_status}")?;
                }
                write!(
                    f,
                    " (`{}` against `{}`)",
                    clip(&foreign.1),
                    clip(&missing.1)
                )
            }
            Finding::UnlikeMissingHeader {
                header,
                foreign,
                missing,
            } => {
                let value = |v: &Option<String>| {
                    v.as_deref()
                        .map_or_else(|| "none".to_owned(), |v| format!("`{}`", clip(v)))
                };
                write!(
                    f,
                    "answered like a missing id, but with another `{header}` header ({} against {})",
                    value(foreign),
                    value(missing)
                )
            }
            Finding::NamesId { resource, id, part } => {
                write!(f, "{part} names b's {resource} `{id}`")
            }
            Finding::NamesTenant { id, part } => {
                write!(f, "{part} names tenant b's id `{id}`")
            }
            Finding::NamesMarker { marker, part } => {
                write!(f, "{part} holds b's marker `{marker}` (content b created)")
            }
            Finding::Changed { before, after } => write!(
                f,
                "changed: before {} `{}`, after {} `{}`",
                before.0.as_u16(),
                clip(&before.1),
                after.0.as_u16(),
                clip(&after.1)
            ),
            Finding::CallFailed { error } => write!(f, "no response: {error}"),
            Finding::Setup { problem } => f.write_str(problem),
        }
    }
}

/// `the body`, `the `link` header`.
impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Body => f.write_str("the body"),
            Part::Header(name) => write!(f, "the `{name}` header"),
        }
    }
}

/// `LEAK GET /notes/{note}: GET /notes/12 with b's note `12`: answered 200 where a missing id gets 404 (…)`.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.case == Case::Setup {
            return write!(f, "SET-UP {}", self.finding);
        }
        write!(
            f,
            "LEAK {}: {} with {}: {}",
            self.route, self.request, self.case, self.finding
        )
    }
}

/// The table of every attempt, then the notes.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = ["route", "case", "request", "expected", "got", "result"];
        let rows: Vec<[String; 6]> = self
            .attempts
            .iter()
            .map(|a| {
                [
                    a.route.clone(),
                    a.case.to_string(),
                    a.request.clone(),
                    a.expected.to_string(),
                    a.got
                        .map_or_else(|| "none".to_owned(), |s| s.as_u16().to_string()),
                    if a.leak { "LEAK" } else { "ok" }.to_owned(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: [&str; 6]| {
            let text: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            writeln!(f, "{}", text.join("  ").trim_end())
        };
        line(f, header)?;
        for row in &rows {
            line(f, row.each_ref().map(String::as_str))?;
        }
        let leaks = self.attempts.iter().filter(|a| a.leak).count();
        writeln!(f, "{} attempts, {leaks} leaks", self.attempts.len())?;
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}

impl fmt::Display for LeakFailures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the HTTP leak check failed {} times:",
            self.report.failures.len()
        )?;
        for failure in &self.report.failures {
            writeln!(f, "  {failure}")?;
        }
        writeln!(f)?;
        write!(f, "{}", self.report)
    }
}

impl std::error::Error for LeakFailures {}

/// A body cut to a readable length for one line of a message.
fn clip(body: &str) -> String {
    const MAX: usize = 160;
    let one_line = body.replace('\n', " ");
    match one_line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}
