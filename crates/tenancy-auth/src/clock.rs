//! Wall-clock time for `exp`, `nbf` and `iat`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tenancy_core::Clock;

/// The system's wall clock as a [`Clock`] whose epoch is the Unix epoch.
///
/// Token times are unix seconds, so every clock handed to this crate reads
/// unix time; in tests a [`ManualClock`](tenancy_core::ManualClock) set to a
/// unix time stands in for it.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnixClock;

impl Clock for UnixClock {
    fn now(&self) -> Duration {
        // A clock before 1970 reads as the epoch: every token then looks
        // issued in the future and is refused.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
    }
}
