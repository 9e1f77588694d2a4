//! Where keys come from, and a cache that refreshes them without stampedes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tenancy_core::{MonotonicClock, SystemClock};

use super::KeySet;
use crate::error::AuthError;
use crate::validator::{Refresh, SharedKeys, read_keys};

/// Provides the current keys of one issuer: a JWKS endpoint, a secrets
/// store, a configuration file.
#[async_trait::async_trait]
pub trait KeySource: Send + Sync {
    /// Fetches the full, current key set.
    async fn fetch(&self) -> Result<KeySet, AuthError>;
}

#[async_trait::async_trait]
impl<S: KeySource + ?Sized> KeySource for Arc<S> {
    async fn fetch(&self) -> Result<KeySet, AuthError> {
        (**self).fetch().await
    }
}

/// A key source that always answers the same keys.
#[derive(Debug, Clone)]
pub struct StaticKeySource(pub KeySet);

#[async_trait::async_trait]
impl KeySource for StaticKeySource {
    async fn fetch(&self) -> Result<KeySet, AuthError> {
        Ok(self.0.clone())
    }
}

#[derive(Default)]
struct RefreshState {
    // The last fetch an unknown `kid` caused.
    last_attempt: Option<Duration>,
}

/// Caches a [`KeySource`]'s keys and refreshes them on demand.
///
/// An unknown `kid` triggers at most one fetch per `min_interval`, however
/// many requests carry it: concurrent callers wait for the one fetch in
/// flight and then use its result. A failed fetch keeps the last good keys.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tenancy_auth::{CachingKeySource, KeySet, StaticKeySource, Validator, VerificationKey};
///
/// # tokio_test_block_on(async {
/// let mut keys = KeySet::new();
/// keys.insert(VerificationKey::hs256(&[5u8; 32])?.with_kid("k1")?)?;
/// let source = Arc::new(CachingKeySource::new(StaticKeySource(keys), Duration::from_secs(60)));
/// source.refresh().await?;
/// let validator = Validator::builder()
///     .issuer("iss")
///     .audience("aud")
///     .key_source(Arc::clone(&source))
///     .build()?;
/// assert!(validator.keys().contains("k1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub struct CachingKeySource<S> {
    source: S,
    keys: SharedKeys,
    min_interval: Duration,
    clock: Arc<dyn MonotonicClock>,
    generation: AtomicU64,
    state: tokio::sync::Mutex<RefreshState>,
}

impl<S> std::fmt::Debug for CachingKeySource<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachingKeySource")
            .field("min_interval", &self.min_interval)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl<S: KeySource> CachingKeySource<S> {
    /// A cache over `source`, empty until the first refresh; on an unknown
    /// `kid` it refreshes at most once per `min_interval`.
    pub fn new(source: S, min_interval: Duration) -> Self {
        CachingKeySource {
            source,
            keys: Arc::new(RwLock::new(Arc::new(KeySet::new()))),
            min_interval,
            clock: Arc::new(SystemClock::new()),
            generation: AtomicU64::new(0),
            state: tokio::sync::Mutex::new(RefreshState::default()),
        }
    }

    /// Measures the refresh interval on `clock` (any monotonic clock).
    pub fn with_clock(mut self, clock: Arc<dyn MonotonicClock>) -> Self {
        self.clock = clock;
        self
    }

    /// The keys held now.
    pub fn current(&self) -> Arc<KeySet> {
        read_keys(&self.keys)
    }

    /// How many times the keys were replaced.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn shared(&self) -> SharedKeys {
        Arc::clone(&self.keys)
    }

    /// Fetches now, whatever the interval: the initial load and a periodic
    /// background refresh. It does not count against the unknown-`kid`
    /// interval. On failure the last good keys stay.
    pub async fn refresh(&self) -> Result<Arc<KeySet>, AuthError> {
        let _serialized = self.state.lock().await;
        self.fetch_and_swap().await
    }

    async fn fetch_and_swap(&self) -> Result<Arc<KeySet>, AuthError> {
        let keys = Arc::new(self.source.fetch().await?);
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::clone(&keys);
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(keys)
    }
}

#[async_trait::async_trait]
impl<S: KeySource> Refresh for CachingKeySource<S> {
    async fn refresh_for_unknown_kid(&self) -> Result<bool, AuthError> {
        let seen = self.generation();
        let mut state = self.state.lock().await;
        if self.generation() != seen {
            // Another caller refreshed while this one waited.
            return Ok(true);
        }
        let now = self.clock.now();
        if let Some(last) = state.last_attempt
            && now.saturating_sub(last) < self.min_interval
        {
            return Ok(false);
        }
        state.last_attempt = Some(now);
        self.fetch_and_swap().await.map(|_| true)
    }
}
