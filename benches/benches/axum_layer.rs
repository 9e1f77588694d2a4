//! tenancy-axum: the full layer next to bare axum and a plain
//! decode-per-request middleware, in the same run, on the same JSON handler.
//!
//! `cargo bench -p tenancy-benches --bench axum_layer [-- FILTER]`:
//! - `axum_layer/in_process` (criterion group): requests through
//!   `tower::ServiceExt::oneshot` on a current-thread runtime: the layer's
//!   own cost, undiluted;
//! - `axum_layer/in_process_interleaved`: every contender in turn for 7
//!   rounds (so a change in the machine's load hits all alike), printed as
//!   ratios to `bare` and overhead in ns;
//! - `axum_layer/loopback`: each contender served over HTTP/1.1 on
//!   127.0.0.1 from its own thread with a one-worker tokio runtime, driven by
//!   the load generator in [`load`] (32 keep-alive connections, one request
//!   in flight on each, time-bounded rounds, contenders interleaved), printed
//!   as requests/s, ratios to `bare` in the same run, and the overhead per
//!   request in ns. Any answer other than 200 stops the bench.
//!
//! `TENANCY_BENCH_LAYER_RUNS=<bare|decode_middleware|tenancy_layer>:<n>`
//! makes the bench send that contender `n + 1` requests through `oneshot`
//! and exit, for counting instructions (see the README).
//!
//! A FILTER runs the parts whose name contains it (criterion's own filter
//! applies to the criterion group). Without `--bench` (`cargo test
//! --benches`) the loopback part runs one short round per contender, as a
//! check that every contender answers 200.
//!
//! Contenders: `bare` (no auth), `decode_middleware` (`jsonwebtoken::decode`
//! of the HS256 token on every request, claims into the extensions) and
//! `tenancy_layer` (token cache, tenant directory cache, role-based context,
//! `Require<LeasesRead>`, per-tenant GCRA and concurrency limits, audit sink).

#![allow(clippy::panic, clippy::expect_used, reason = "bench harness")]

#[path = "support/cli.rs"]
mod cli;
#[path = "support/service.rs"]
mod service;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cli::{benchmarking, median, selected};
use criterion::{Criterion, criterion_group};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use service::{AUD, ISS, SECRET, bare_handler, request};
use tenancy_auth::CachedValidator;
use tenancy_axum::{MemoryDirectory, TenancyLayer};
use tenancy_core::MemoryAuditSink;
use tower::ServiceExt;

#[derive(Clone)]
struct Decoded(#[expect(dead_code, reason = "held like a real middleware would")] Value);

async fn decode_middleware(mut request: Request, next: Next) -> Response {
    thread_local! {
        static KEY: DecodingKey = DecodingKey::from_secret(SECRET);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    let token = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let Some(token) = token else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let decoded = KEY.with(|key| jsonwebtoken::decode::<Value>(&token, key, &validation));
    match decoded {
        Ok(data) => {
            request.extensions_mut().insert(Decoded(data.claims));
            next.run(request).await
        }
        Err(_) => StatusCode::UNAUTHORIZED.into_response(),
    }
}

struct Apps {
    token: String,
    bare: Router,
    decode: Router,
    layer: Router,
}

/// One tenant (on a plan the bench never exhausts) and its member's token.
fn apps() -> Apps {
    let token = service::member_token(&service::issuer(), 0);
    let directory = Arc::new(MemoryDirectory::new());
    directory.insert(service::record(0));
    let layer = TenancyLayer::builder()
        .validator(Arc::new(CachedValidator::new(service::validator(), 10_000)))
        .directory(directory)
        .audit(Arc::new(MemoryAuditSink::default()))
        .build()
        .expect("the tenancy layer");
    let bare = Router::new().route("/leases", get(bare_handler));
    let decode = Router::new()
        .route("/leases", get(bare_handler))
        .layer(middleware::from_fn(decode_middleware));
    Apps {
        token,
        bare,
        decode,
        layer: service::tenant_routes().layer(layer),
    }
}

fn in_process(c: &mut Criterion) {
    let apps = apps();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok();
    let Some(rt) = rt else { return };
    // Every contender must answer 200, or the numbers mean nothing.
    for app in [&apps.bare, &apps.decode, &apps.layer] {
        let status = rt
            .block_on(app.clone().oneshot(request(&apps.token)))
            .map(|r| r.status());
        assert_eq!(status.ok(), Some(StatusCode::OK));
    }
    let mut group = c.benchmark_group("axum_layer/in_process");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    for (name, app) in [
        ("bare", &apps.bare),
        ("decode_middleware", &apps.decode),
        ("tenancy_layer", &apps.layer),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let response = app.clone().oneshot(request(&apps.token)).await;
                        std::hint::black_box(response.map(|r| r.status()).ok());
                    }
                    start.elapsed()
                })
            });
        });
    }
    group.finish();
}

/// The contenders, in the order they are reported; the first is the baseline.
fn contenders(apps: &Apps) -> [(&'static str, Router); 3] {
    [
        ("bare", apps.bare.clone()),
        ("decode_middleware", apps.decode.clone()),
        ("tenancy_layer", apps.layer.clone()),
    ]
}

/// Median per-request time of each contender through `oneshot`, over rounds
/// that take turns; the time spent is bounded by the fixed request counts.
fn in_process_interleaved() {
    const ROUNDS: usize = 7;
    const REQUESTS: u32 = 20_000;
    if !selected("axum_layer/in_process_interleaved") || !benchmarking() {
        return;
    }
    let apps = apps();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    let contenders = contenders(&apps);
    let mut ns = vec![Vec::new(); contenders.len()];
    for _ in 0..ROUNDS {
        for (i, (_, app)) in contenders.iter().enumerate() {
            let elapsed = rt.block_on(async {
                let start = Instant::now();
                for _ in 0..REQUESTS {
                    let r = app.clone().oneshot(request(&apps.token)).await;
                    std::hint::black_box(r.map(|r| r.status()).ok());
                }
                start.elapsed()
            });
            ns[i].push(elapsed.as_secs_f64() * 1e9 / f64::from(REQUESTS));
        }
    }
    let medians: Vec<f64> = ns.iter().map(|v| median(v)).collect();
    let bare = medians[0];
    println!("axum_layer/in_process_interleaved ({ROUNDS} rounds, median ns per request):");
    for ((name, _), ns) in contenders.iter().zip(&medians) {
        println!(
            "  {name:<18} {ns:>9.0} ns  throughput {:.2}x bare  overhead {:>6.0} ns",
            bare / ns,
            ns - bare
        );
    }
}

/// Serves `app` on 127.0.0.1 from its own thread and single-threaded runtime
/// (one tokio worker), until the returned sender is dropped.
fn serve(app: Router) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener
        .set_nonblocking(true)
        .expect("a non-blocking listener");
    let addr = listener.local_addr().expect("the listener's address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the server's runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    stopped.await.ok();
                })
                .await
                .expect("the server runs");
        });
    });
    (addr, stop)
}

/// Requests/s of each contender over loopback, in time-bounded rounds that
/// take turns, driven by [`load`] from this thread's own runtime while each
/// server runs on its own thread.
fn loopback() {
    const CONNECTIONS: usize = 32;
    const ROUNDS: usize = 5;
    const ROUND: Duration = Duration::from_secs(3);
    const WARM_UP: Duration = Duration::from_secs(1);
    if !selected("axum_layer/loopback") {
        return;
    }
    let (rounds, round, warm_up) = if benchmarking() {
        (ROUNDS, ROUND, WARM_UP)
    } else {
        (1, Duration::from_millis(200), Duration::ZERO)
    };
    let apps = apps();
    let contenders = contenders(&apps);
    let servers: Vec<_> = contenders
        .iter()
        .map(|(_, app)| serve(app.clone()))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the load generator's runtime");
    let drive = |addr: SocketAddr, duration: Duration| {
        let request = load::get_request(addr, "/leases", &apps.token);
        match rt.block_on(load::run(addr, request, CONNECTIONS, duration)) {
            Ok(round) => round.per_second(),
            Err(e) => panic!("loopback load on {addr}: {e}"),
        }
    };
    if !warm_up.is_zero() {
        for (addr, _) in &servers {
            drive(*addr, warm_up);
        }
    }
    let mut rps = vec![Vec::new(); servers.len()];
    for _ in 0..rounds {
        for (i, (addr, _)) in servers.iter().enumerate() {
            rps[i].push(drive(*addr, round));
        }
    }
    drop(servers);
    if benchmarking() {
        report_loopback(&contenders, &rps, round, CONNECTIONS);
    } else {
        println!("axum_layer/loopback: every contender answered 200 (a check, not a measurement)");
    }
}

fn report_loopback(
    contenders: &[(&'static str, Router)],
    rps: &[Vec<f64>],
    round: Duration,
    connections: usize,
) {
    let medians: Vec<f64> = rps.iter().map(|v| median(v)).collect();
    let bare = medians[0];
    println!(
        "axum_layer/loopback ({} rounds of {:.1} s, {connections} connections, 1 server worker; \
         median req/s, ratio of medians, range of per-round ratios):",
        rps[0].len(),
        round.as_secs_f64()
    );
    for (((name, _), rounds), rate) in contenders.iter().zip(rps).zip(&medians) {
        // Each round's ratio against the baseline's turn in the same round.
        let ratios: Vec<f64> = rounds.iter().zip(&rps[0]).map(|(r, b)| r / b).collect();
        let (lo, hi) = cli::range(&ratios);
        println!(
            "  {name:<18} {rate:>9.0} req/s  {:.2}x bare ({lo:.2}..{hi:.2})  overhead {:>6.0} ns",
            rate / bare,
            1e9 / rate - 1e9 / bare
        );
    }
}

/// A minimal HTTP/1.1 load generator, without pipelining: keep-alive
/// connections each send one fixed, pre-rendered
/// request and read its response (by `Content-Length`) before the next,
/// until the round's time is up.
mod load {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// Why a round stopped early.
    #[derive(Debug)]
    pub(crate) enum LoadError {
        Io(std::io::Error),
        /// A response other than 200 (its status line).
        Status(String),
        /// A response without `Content-Length`.
        NoLength,
        /// The server closed a connection.
        Closed,
    }

    impl std::fmt::Display for LoadError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                LoadError::Io(e) => write!(f, "i/o error: {e}"),
                LoadError::Status(line) => write!(f, "answered `{line}`, not 200"),
                LoadError::NoLength => f.write_str("a response without Content-Length"),
                LoadError::Closed => f.write_str("the server closed a connection"),
            }
        }
    }

    impl From<std::io::Error> for LoadError {
        fn from(e: std::io::Error) -> Self {
            LoadError::Io(e)
        }
    }

    /// The requests one round completed, and in how long.
    pub(crate) struct Round {
        pub(crate) requests: u64,
        pub(crate) elapsed: Duration,
    }

    impl Round {
        pub(crate) fn per_second(&self) -> f64 {
            self.requests as f64 / self.elapsed.as_secs_f64()
        }
    }

    /// The bytes of `GET path` with the bearer token, rendered once.
    pub(crate) fn get_request(addr: SocketAddr, path: &str, token: &str) -> Arc<[u8]> {
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n")
            .into_bytes()
            .into()
    }

    /// Keeps `connections` connections to `addr` busy with `request` for
    /// `duration` (plus the requests in flight when it ends).
    pub(crate) async fn run(
        addr: SocketAddr,
        request: Arc<[u8]>,
        connections: usize,
        duration: Duration,
    ) -> Result<Round, LoadError> {
        let mut streams = Vec::with_capacity(connections);
        for _ in 0..connections {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            streams.push(stream);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|stream| tokio::spawn(connection(stream, Arc::clone(&request), Arc::clone(&stop))))
            .collect();
        tokio::time::sleep(duration).await;
        stop.store(true, Ordering::Relaxed);
        let mut requests = 0;
        for task in tasks {
            requests += task.await.map_err(std::io::Error::other)??;
        }
        Ok(Round {
            requests,
            elapsed: start.elapsed(),
        })
    }

    async fn connection(
        mut stream: TcpStream,
        request: Arc<[u8]>,
        stop: Arc<AtomicBool>,
    ) -> Result<u64, LoadError> {
        let mut buffer = Vec::with_capacity(16 * 1024);
        let mut done = 0;
        while !stop.load(Ordering::Relaxed) {
            stream.write_all(&request).await?;
            loop {
                if let Some(length) = complete_response(&buffer)? {
                    buffer.drain(..length);
                    break;
                }
                buffer.reserve(4096);
                if stream.read_buf(&mut buffer).await? == 0 {
                    return Err(LoadError::Closed);
                }
            }
            done += 1;
        }
        Ok(done)
    }

    /// The length of the response at the start of `buffer` once all of it
    /// is there; an error for anything but a 200 with a `Content-Length`.
    fn complete_response(buffer: &[u8]) -> Result<Option<usize>, LoadError> {
        let Some(head) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
            return Ok(None);
        };
        let head = &buffer[..head + 4];
        if !head.starts_with(b"HTTP/1.1 200 ") {
            let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
            return Err(LoadError::Status(
                String::from_utf8_lossy(line).into_owned(),
            ));
        }
        let length = content_length(head).ok_or(LoadError::NoLength)?;
        let total = head.len() + length;
        Ok((buffer.len() >= total).then_some(total))
    }

    fn content_length(head: &[u8]) -> Option<usize> {
        const NAME: &[u8] = b"content-length:";
        head.split(|&b| b == b'\n').find_map(|line| {
            let (name, value) = line.split_at_checked(NAME.len())?;
            if !name.eq_ignore_ascii_case(NAME) {
                return None;
            }
            std::str::from_utf8(value).ok()?.trim().parse().ok()
        })
    }
}

criterion_group!(benches, in_process);

/// `TENANCY_BENCH_LAYER_RUNS=<contender>:<n>`: one request of the contender
/// to warm its caches, then `n` more through `oneshot`, and nothing else,
/// for counting instructions (see the README).
fn counted(contender: &str, n: u64) {
    let apps = apps();
    let app = contenders(&apps)
        .into_iter()
        .find_map(|(name, app)| (name == contender).then_some(app))
        .unwrap_or_else(|| panic!("no contender `{contender}`"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    rt.block_on(async {
        for _ in 0..=n {
            let status = app
                .clone()
                .oneshot(request(&apps.token))
                .await
                .map(|r| r.status());
            assert_eq!(status.ok(), Some(StatusCode::OK));
        }
    });
}

fn main() {
    if let Some((contender, n)) = cli::counted_run("TENANCY_BENCH_LAYER_RUNS") {
        counted(&contender, n);
        return;
    }
    if selected("axum_layer/in_process") {
        benches();
    }
    in_process_interleaved();
    loopback();
    Criterion::default().configure_from_args().final_summary();
}
