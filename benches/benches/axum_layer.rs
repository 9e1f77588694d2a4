//! tenancy-axum: the full layer next to bare axum and a plain
//! decode-per-request middleware, in the same run, on the same JSON handler.
//!
//! `cargo bench -p tenancy-benches --bench axum_layer`. Two groups:
//! - `axum_layer/in_process`: requests through `tower::ServiceExt::oneshot`
//!   on a current-thread runtime: the layer's own cost, undiluted;
//! - `axum_layer/loopback`: HTTP/1.1 on 127.0.0.1, the server on its own
//!   thread with one tokio worker, a client keeping 16 keep-alive
//!   connections busy for a bounded number of requests; the time is per
//!   request (the inverse of throughput).
//!
//! After the groups, `interleaved` runs every contender in turn for 7 rounds
//! (so a change in the machine's load hits all alike) and prints the median
//! time per request, the throughput as a ratio to `bare`, and the overhead
//! in ns. The loopback client is reqwest on one thread, which is slower than
//! wrk: on loopback it, not the server, sets the pace, so the in-process
//! figures are the ones that show the layer's cost.
//!
//! Contenders: `bare` (no auth), `decode_middleware` (`jsonwebtoken::decode`
//! of the HS256 token on every request, claims into the extensions) and
//! `tenancy_layer` (token cache, tenant directory cache, role-based context,
//! `Require<LeasesRead>`, per-tenant GCRA and concurrency limits, audit sink).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use criterion::{Criterion, criterion_group};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use tenancy_auth::{CachedValidator, Issuer, Validator};
use tenancy_axum::{MemoryDirectory, Require, TenancyLayer, Tenant, TenantRecord, permission};
use tenancy_core::{
    MemoryAuditSink, PermissionSet, Plan, PlanOverrides, RateQuota, RoleName, SubjectId,
    TenantContext, TenantId, TenantStatus,
};
use tower::ServiceExt;

const ISS: &str = "https://id.example.com";
const AUD: &str = "leases-api";
const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

permission!(LeasesRead = "leases:read");

async fn bare_handler() -> axum::Json<Value> {
    axum::Json(json!({ "leases": [], "page": 1 }))
}

async fn tenant_handler(t: Tenant, _: Require<LeasesRead>) -> axum::Json<Value> {
    std::hint::black_box(t.subject());
    axum::Json(json!({ "leases": [], "page": 1 }))
}

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

fn apps() -> Apps {
    tenancy_auth::install_default_crypto_provider();
    let tenant = TenantId::from_u128(0x0b6d_2f4e_8c1a_4b7e_9f3d_2a5c_6e7f_8a9b);
    let ctx = TenantContext::tenant(
        tenant,
        SubjectId::from_u128(42),
        RoleName::member(),
        PermissionSet::empty(),
    );
    let token = Issuer::hs256(SECRET, ISS, AUD)
        .and_then(|i| i.issue(&ctx, Duration::from_secs(3600)))
        .unwrap_or_default();
    let validator = Validator::builder()
        .issuer(ISS)
        .audience(AUD)
        .hs256_secret(SECRET)
        .build()
        .map(Arc::new);
    let directory = Arc::new(MemoryDirectory::new());
    // A plan the bench never exhausts: the limiter runs but always admits.
    let plan = Plan::new(
        "bench",
        RateQuota::per_second(1_000_000_000, 1_000_000_000),
        1 << 20,
    );
    if let Ok(slug) = "acme".parse() {
        directory.insert(TenantRecord::new(
            tenant,
            slug,
            TenantStatus::Active,
            plan.entitlements(&PlanOverrides::default()),
        ));
    }
    let layer = validator.ok().and_then(|v| {
        TenancyLayer::builder()
            .validator(Arc::new(CachedValidator::new(v, 10_000)))
            .directory(directory)
            .audit(Arc::new(MemoryAuditSink::default()))
            .build()
            .ok()
    });
    let bare = Router::new().route("/leases", get(bare_handler));
    let decode = Router::new()
        .route("/leases", get(bare_handler))
        .layer(middleware::from_fn(decode_middleware));
    let tenancy = Router::new().route("/leases", get(tenant_handler));
    let layer = match layer {
        Some(l) => tenancy.layer(l),
        None => tenancy,
    };
    Apps {
        token,
        bare,
        decode,
        layer,
    }
}

fn request(token: &str) -> Request {
    Request::get("/leases")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap_or_default()
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

/// Connections the loopback client keeps busy at once (wrk's `-c`).
const CONNECTIONS: u64 = 16;

/// Serves `app` on 127.0.0.1 from its own thread and single-threaded runtime
/// (one tokio worker, as a service measured with wrk would run), until the
/// returned sender is dropped.
fn serve(app: Router) -> Option<(std::net::SocketAddr, tokio::sync::oneshot::Sender<()>)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").ok()?;
    listener.set_nonblocking(true).ok()?;
    let addr = listener.local_addr().ok()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        if let Ok(rt) = rt {
            rt.block_on(async move {
                if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                    let server = axum::serve(listener, app).with_graceful_shutdown(async {
                        stopped.await.ok();
                    });
                    server.await.ok();
                }
            });
        }
    });
    Some((addr, stop))
}

fn loopback(c: &mut Criterion) {
    let apps = apps();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok();
    let Some(rt) = rt else { return };
    let mut group = c.benchmark_group("axum_layer/loopback");
    group.measurement_time(Duration::from_secs(4));
    group.warm_up_time(Duration::from_secs(1));
    group.sample_size(20);
    for (name, app) in [
        ("bare", apps.bare.clone()),
        ("decode_middleware", apps.decode.clone()),
        ("tenancy_layer", apps.layer.clone()),
    ] {
        let Some((addr, stop)) = serve(app) else {
            continue;
        };
        let client = reqwest::Client::builder().no_proxy().build().ok();
        let Some(client) = client else { continue };
        let url = format!("http://{addr}/leases");
        let ok = rt.block_on(client.get(&url).bearer_auth(&apps.token).send());
        assert_eq!(ok.map(|r| r.status()).ok(), Some(StatusCode::OK));
        // Time per request with CONNECTIONS requests in flight: the inverse
        // of throughput, so ratios compare like wrk's requests per second.
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let per_connection = iters.div_ceil(CONNECTIONS);
                    let start = Instant::now();
                    let tasks: Vec<_> = (0..CONNECTIONS)
                        .map(|_| {
                            let (client, url, token) =
                                (client.clone(), url.clone(), apps.token.clone());
                            tokio::spawn(async move {
                                for _ in 0..per_connection {
                                    let r = client.get(&url).bearer_auth(&token).send().await;
                                    if let Ok(r) = r {
                                        std::hint::black_box(r.bytes().await.ok());
                                    }
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.ok();
                    }
                    start.elapsed()
                })
            });
        });
        drop(stop);
    }
    group.finish();
}

/// Median per-request time of each contender over rounds that take turns,
/// so a change in the machine's load hits every contender alike. Printed as
/// ratios to `bare` after the criterion groups; the time spent is bounded by
/// the fixed request counts.
fn interleaved_summary() {
    const ROUNDS: usize = 7;
    let apps = apps();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok();
    let Some(rt) = rt else { return };
    let contenders = [
        ("bare", apps.bare.clone()),
        ("decode_middleware", apps.decode.clone()),
        ("tenancy_layer", apps.layer.clone()),
    ];
    let mut in_process = vec![Vec::new(); contenders.len()];
    for _ in 0..ROUNDS {
        for (i, (_, app)) in contenders.iter().enumerate() {
            let n = 20_000;
            let elapsed = rt.block_on(async {
                let start = Instant::now();
                for _ in 0..n {
                    let r = app.clone().oneshot(request(&apps.token)).await;
                    std::hint::black_box(r.map(|r| r.status()).ok());
                }
                start.elapsed()
            });
            in_process[i].push(elapsed.as_secs_f64() * 1e9 / f64::from(n));
        }
    }
    let servers: Vec<_> = contenders
        .iter()
        .filter_map(|(_, app)| serve(app.clone()))
        .collect();
    let client = reqwest::Client::builder().no_proxy().build().ok();
    let Some(client) = client else { return };
    let mut loopback = vec![Vec::new(); servers.len()];
    for _ in 0..ROUNDS {
        for (i, (addr, _)) in servers.iter().enumerate() {
            let url = format!("http://{addr}/leases");
            let per_connection = 250_u32;
            let elapsed = rt.block_on(async {
                let start = Instant::now();
                let tasks: Vec<_> = (0..CONNECTIONS)
                    .map(|_| {
                        let (client, url, token) =
                            (client.clone(), url.clone(), apps.token.clone());
                        tokio::spawn(async move {
                            for _ in 0..per_connection {
                                let r = client.get(&url).bearer_auth(&token).send().await;
                                if let Ok(r) = r {
                                    std::hint::black_box(r.bytes().await.ok());
                                }
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.ok();
                }
                start.elapsed()
            });
            let requests = f64::from(per_connection) * CONNECTIONS as f64;
            loopback[i].push(elapsed.as_secs_f64() * 1e9 / requests);
        }
    }
    drop(servers);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for (label, results) in [("in_process", &mut in_process), ("loopback", &mut loopback)] {
        let medians: Vec<f64> = results.iter_mut().map(median).collect();
        let Some(&bare) = medians.first() else {
            continue;
        };
        println!("axum_layer interleaved {label} ({ROUNDS} rounds, median ns per request):");
        for ((name, _), ns) in contenders.iter().zip(&medians) {
            println!(
                "  {name:<18} {ns:>9.0} ns  throughput {:.2}x bare  overhead {:>6.0} ns",
                bare / ns,
                ns - bare
            );
        }
    }
}

criterion_group!(benches, in_process, loopback);

fn main() {
    benches();
    interleaved_summary();
    Criterion::default().configure_from_args().final_summary();
}
