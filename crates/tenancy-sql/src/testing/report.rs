//! What a leak check tried and what it found, as a table a person can read.

use std::fmt;

use crate::Backend;

/// How another tenant's data was reached.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum LeakKind {
    /// The output shows a value of another tenant (a marker, an id or its
    /// tenant id).
    Read,
    /// Another tenant's rows (or the global tables) changed.
    Written,
    /// The acting tenant's rows now hold another tenant's values: copied,
    /// moved or referenced across the wall.
    Moved,
    /// Another tenant's id was answered differently from an id no row has,
    /// which tells the caller that the row exists.
    Distinguishable,
    /// The leak tripwire withheld a result: the code reached rows of
    /// another tenant, and only the tripwire stopped them.
    Tripwire,
    /// The code under test asked for something the check cannot give (an
    /// id of an unregistered table): the run proves nothing.
    Unusable,
}

impl fmt::Display for LeakKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LeakKind::Read => "read another tenant's data",
            LeakKind::Written => "changed another tenant's rows",
            LeakKind::Moved => "brought another tenant's values into its own rows",
            LeakKind::Distinguishable => "told a foreign id from a missing one",
            LeakKind::Tripwire => "reached another tenant's rows (the tripwire withheld them)",
            LeakKind::Unusable => "could not be checked",
        })
    }
}

/// One leak found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// What happened.
    pub kind: LeakKind,
    /// Which attempt: `your code as tenant 1, foreign ids` or a fuzz case.
    pub attempt: String,
    /// The evidence: the foreign values seen, the rows changed, the two
    /// answers that differ, or the statement.
    pub detail: String,
}

impl fmt::Display for Leak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}\n    {}", self.attempt, self.kind, self.detail)
    }
}

/// One row of the table of attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Who acted and with which ids, or which fuzz statement shape.
    pub what: String,
    /// `ok`, `refused` (a typed error before or from the server) or `LEAK`.
    pub outcome: String,
}

/// Everything a leak check tried, and every leak it found.
#[derive(Debug, Clone)]
pub struct LeakReport {
    pub(crate) backend: Backend,
    pub(crate) tenants: usize,
    pub(crate) fuzz_seed: u64,
    pub(crate) attempts: Vec<Attempt>,
    pub(crate) leaks: Vec<Leak>,
}

impl LeakReport {
    /// True when nothing leaked.
    pub fn is_clean(&self) -> bool {
        self.leaks.is_empty()
    }

    /// The leaks found.
    pub fn leaks(&self) -> &[Leak] {
        &self.leaks
    }

    /// Every attempt, in order.
    pub fn attempts(&self) -> &[Attempt] {
        &self.attempts
    }

    /// The backend the check ran on.
    pub fn backend(&self) -> Backend {
        self.backend
    }
}

impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "leak check on {}, {} tenants, fuzz seed {}: {} attempts, {} leaks",
            self.backend.as_str(),
            self.tenants,
            self.fuzz_seed,
            self.attempts.len(),
            self.leaks.len()
        )?;
        let width = self
            .attempts
            .iter()
            .map(|a| a.what.len())
            .max()
            .unwrap_or(0)
            .min(72);
        // Fuzz cases are summarised per shape; your code's runs each get a line.
        let mut shapes: Vec<(String, [usize; 3])> = Vec::new();
        for a in &self.attempts {
            let column = match a.outcome.as_str() {
                "ok" => 0,
                "refused" => 1,
                _ => 2,
            };
            if let Some(shape) = a.what.strip_prefix("fuzz: ") {
                match shapes.iter_mut().find(|(s, _)| s == shape) {
                    Some((_, counts)) => counts[column] += 1,
                    None => {
                        let mut counts = [0; 3];
                        counts[column] = 1;
                        shapes.push((shape.to_owned(), counts));
                    }
                }
            } else {
                writeln!(f, "  {:width$}  {}", a.what, a.outcome)?;
            }
        }
        for (shape, [ok, refused, leak]) in shapes {
            writeln!(
                f,
                "  {:width$}  {ok} ok, {refused} refused, {leak} LEAK",
                format!("fuzz: {shape}")
            )?;
        }
        for leak in &self.leaks {
            writeln!(f, "LEAK {leak}")?;
        }
        Ok(())
    }
}
