//! The tenant lifecycle: provisioning → active ⇄ suspended → decommissioning → deleted.

use std::fmt;
use std::str::FromStr;

use crate::error::InvalidTransition;

/// Where a tenant is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum TenantStatus {
    /// Being set up; not yet serving.
    Provisioning,
    /// Serving requests.
    Active,
    /// Temporarily refused (unpaid, abuse, on request).
    Suspended,
    /// Its data is being removed; never serves again.
    Decommissioning,
    /// Gone.
    Deleted,
}

/// What can happen to a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TenantEvent {
    /// Provisioning finished, or a suspension was lifted.
    Activate,
    /// Stop serving for now.
    Suspend,
    /// Start removing a suspended tenant's data.
    Decommission,
    /// The data is gone.
    Purge,
}

impl TenantEvent {
    /// A stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            TenantEvent::Activate => "activate",
            TenantEvent::Suspend => "suspend",
            TenantEvent::Decommission => "decommission",
            TenantEvent::Purge => "purge",
        }
    }
}

impl TenantStatus {
    /// The state after `event`, or the refused transition.
    ///
    /// ```
    /// use tenancy_core::{TenantEvent, TenantStatus};
    ///
    /// let s = TenantStatus::Provisioning.apply(TenantEvent::Activate)?;
    /// assert_eq!(s, TenantStatus::Active);
    /// assert!(s.apply(TenantEvent::Purge).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply(self, event: TenantEvent) -> Result<TenantStatus, InvalidTransition> {
        use TenantEvent as E;
        use TenantStatus as S;
        match (self, event) {
            (S::Provisioning | S::Suspended, E::Activate) => Ok(S::Active),
            (S::Active, E::Suspend) => Ok(S::Suspended),
            (S::Suspended, E::Decommission) => Ok(S::Decommissioning),
            (S::Decommissioning, E::Purge) => Ok(S::Deleted),
            _ => Err(InvalidTransition::new(self.as_str(), event.as_str())),
        }
    }

    /// True only for [`TenantStatus::Active`]: the one state that serves.
    pub fn serves_requests(self) -> bool {
        self == TenantStatus::Active
    }

    /// A stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Provisioning => "provisioning",
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
            TenantStatus::Decommissioning => "decommissioning",
            TenantStatus::Deleted => "deleted",
        }
    }

    /// Every state.
    pub const ALL: [TenantStatus; 5] = [
        TenantStatus::Provisioning,
        TenantStatus::Active,
        TenantStatus::Suspended,
        TenantStatus::Decommissioning,
        TenantStatus::Deleted,
    ];
}

impl fmt::Display for TenantStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TenantStatus {
    type Err = crate::ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        TenantStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or(crate::ParseError::new(
                crate::ParseKind::TenantStatus,
                crate::ParseReason::InvalidFormat,
            ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TenantStatus as S;
    use proptest::prelude::*;

    /// The diagram, as data: the only edges a tenant may take.
    const EDGES: &[(TenantStatus, TenantStatus)] = &[
        (S::Provisioning, S::Active),
        (S::Active, S::Suspended),
        (S::Suspended, S::Active),
        (S::Suspended, S::Decommissioning),
        (S::Decommissioning, S::Deleted),
    ];

    fn arb_event() -> impl Strategy<Value = TenantEvent> {
        prop_oneof![
            Just(TenantEvent::Activate),
            Just(TenantEvent::Suspend),
            Just(TenantEvent::Decommission),
            Just(TenantEvent::Purge),
        ]
    }

    proptest! {
        #[test]
        fn random_events_only_follow_the_diagram(events in prop::collection::vec(arb_event(), 0..40)) {
            let mut state = S::Provisioning;
            for e in events {
                match state.apply(e) {
                    Ok(next) => {
                        prop_assert!(EDGES.contains(&(state, next)), "{state:?} -{e:?}-> {next:?}");
                        state = next;
                    }
                    Err(err) => prop_assert_eq!(err.from_state(), state.as_str()),
                }
            }
        }
    }

    #[test]
    fn deleted_is_final_and_only_active_serves() {
        for e in [
            TenantEvent::Activate,
            TenantEvent::Suspend,
            TenantEvent::Decommission,
            TenantEvent::Purge,
        ] {
            assert!(S::Deleted.apply(e).is_err());
        }
        assert_eq!(S::ALL.iter().filter(|s| s.serves_requests()).count(), 1);
        assert_eq!("suspended".parse::<TenantStatus>(), Ok(S::Suspended));
    }
}
