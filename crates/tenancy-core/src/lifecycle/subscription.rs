//! The subscription lifecycle: signing → signed → suspended → unsigned.

use crate::error::InvalidTransition;

/// Where a tenant's subscription is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum SubscriptionState {
    /// The contract is being signed.
    Signing,
    /// In force.
    Signed,
    /// Paused (for example, unpaid).
    Suspended,
    /// Ended.
    Unsigned,
}

/// What can happen to a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionEvent {
    /// The contract was signed.
    Sign,
    /// Pause a signed subscription.
    Suspend,
    /// Put a suspended subscription back in force.
    Reinstate,
    /// End a suspended subscription.
    Terminate,
}

impl SubscriptionEvent {
    /// A stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionEvent::Sign => "sign",
            SubscriptionEvent::Suspend => "suspend",
            SubscriptionEvent::Reinstate => "reinstate",
            SubscriptionEvent::Terminate => "terminate",
        }
    }
}

impl SubscriptionState {
    /// The state after `event`, or the refused transition.
    pub fn apply(self, event: SubscriptionEvent) -> Result<SubscriptionState, InvalidTransition> {
        use SubscriptionEvent as E;
        use SubscriptionState as S;
        match (self, event) {
            (S::Signing, E::Sign) => Ok(S::Signed),
            (S::Signed, E::Suspend) => Ok(S::Suspended),
            (S::Suspended, E::Reinstate) => Ok(S::Signed),
            (S::Suspended, E::Terminate) => Ok(S::Unsigned),
            _ => Err(InvalidTransition::new(self.as_str(), event.as_str())),
        }
    }

    /// A stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionState::Signing => "signing",
            SubscriptionState::Signed => "signed",
            SubscriptionState::Suspended => "suspended",
            SubscriptionState::Unsigned => "unsigned",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubscriptionState as S;
    use proptest::prelude::*;

    const EDGES: &[(SubscriptionState, SubscriptionState)] = &[
        (S::Signing, S::Signed),
        (S::Signed, S::Suspended),
        (S::Suspended, S::Signed),
        (S::Suspended, S::Unsigned),
    ];

    proptest! {
        #[test]
        fn random_events_only_follow_the_diagram(events in prop::collection::vec(0u8..4, 0..40)) {
            let mut state = S::Signing;
            for e in events {
                let e = [SubscriptionEvent::Sign, SubscriptionEvent::Suspend, SubscriptionEvent::Reinstate, SubscriptionEvent::Terminate][e as usize];
                if let Ok(next) = state.apply(e) {
                    prop_assert!(EDGES.contains(&(state, next)));
                    state = next;
                }
            }
        }
    }
}
