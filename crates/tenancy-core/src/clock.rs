//! Time as the SDK reads it, in two kinds that cannot stand in for each
//! other: a [`MonotonicClock`] for durations (rate limits, cache entries,
//! refresh intervals) and a [`WallClock`] for dates (a token's `iat`, `exp`
//! and `nbf`, in unix time).
//!
//! They are two traits so a mistake does not compile: a limiter's clock
//! counts from when it was created, and read as unix time it would make
//! every token look issued in the future.
//!
//! ```compile_fail,E0277
//! use std::sync::Arc;
//! use tenancy_core::{SystemClock, WallClock};
//!
//! // A monotonic clock is not a wall clock.
//! let wall: Arc<dyn WallClock> = Arc::new(SystemClock::new());
//! ```
//!
//! ```compile_fail,E0277
//! use std::sync::Arc;
//! use tenancy_core::{MonotonicClock, UnixClock};
//!
//! // Nor is a wall clock monotonic.
//! let monotonic: Arc<dyn MonotonicClock> = Arc::new(UnixClock);
//! ```
//!
//! ```
//! use std::sync::Arc;
//! use tenancy_core::{MonotonicClock, SystemClock, UnixClock, WallClock};
//!
//! let monotonic: Arc<dyn MonotonicClock> = Arc::new(SystemClock::new());
//! let wall: Arc<dyn WallClock> = Arc::new(UnixClock);
//! assert!(wall.unix_time() > monotonic.now());
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A monotonic source of time: it never goes back, and says nothing of
/// the date. Inject a [`ManualClock`] in tests.
pub trait MonotonicClock: Send + Sync {
    /// The time elapsed since this clock's epoch.
    fn now(&self) -> Duration;
}

impl<C: MonotonicClock + ?Sized> MonotonicClock for Arc<C> {
    fn now(&self) -> Duration {
        (**self).now()
    }
}

/// The date, as unix time. Inject a [`ManualWallClock`] in tests.
pub trait WallClock: Send + Sync {
    /// The time elapsed since the Unix epoch.
    fn unix_time(&self) -> Duration;
}

impl<C: WallClock + ?Sized> WallClock for Arc<C> {
    fn unix_time(&self) -> Duration {
        (**self).unix_time()
    }
}

/// The machine's monotonic clock; its epoch is when it was created.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    epoch: Instant,
}

impl SystemClock {
    /// A clock starting now.
    pub fn new() -> Self {
        SystemClock {
            epoch: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl MonotonicClock for SystemClock {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }
}

/// A monotonic clock that moves only when told to.
#[derive(Debug, Default)]
pub struct ManualClock {
    nanos: AtomicU64,
}

impl ManualClock {
    /// A clock at `start`.
    pub fn at(start: Duration) -> Self {
        ManualClock {
            nanos: AtomicU64::new(duration_to_nanos(start)),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.nanos
            .fetch_add(duration_to_nanos(by), Ordering::SeqCst);
    }

    /// Sets the clock (it may go backwards: limiters must cope).
    pub fn set(&self, to: Duration) {
        self.nanos.store(duration_to_nanos(to), Ordering::SeqCst);
    }
}

impl MonotonicClock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnixClock;

impl WallClock for UnixClock {
    fn unix_time(&self) -> Duration {
        // A clock before 1970 reads as the epoch: every token then looks
        // issued in the future and is refused.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
    }
}

/// A wall clock that moves only when told to, set to a unix time.
#[derive(Debug, Default)]
pub struct ManualWallClock {
    // The same counter as a manual monotonic clock, read as unix time.
    time: ManualClock,
}

impl ManualWallClock {
    /// A clock at `unix` (the time since the Unix epoch).
    pub fn at(unix: Duration) -> Self {
        ManualWallClock {
            time: ManualClock::at(unix),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.time.advance(by);
    }

    /// Sets the clock, backwards too (a wall clock may be corrected).
    pub fn set(&self, unix: Duration) {
        self.time.set(unix);
    }
}

impl WallClock for ManualWallClock {
    fn unix_time(&self) -> Duration {
        self.time.now()
    }
}

pub(crate) fn duration_to_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
