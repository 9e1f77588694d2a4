//! `cargo run -p leases-service [-- --demo]`: the reference multi-tenant
//! leases API on `LEASES_ADDR` (default `127.0.0.1:8080`).

use std::process::ExitCode;

use leases_service::{Config, ConfigProblem, ServiceError, start};
use tenancy_core::Report;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("leases-service: {}", Report::new(&e));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> leases_service::Result<()> {
    let mut demo = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--demo" => demo = true,
            "-h" | "--help" => {
                println!("{}", include_str!("../USAGE.txt"));
                return Ok(());
            }
            other => {
                return Err(ServiceError::Config {
                    var: "argv",
                    problem: ConfigProblem::UnknownArgument {
                        argument: other.to_owned(),
                    },
                });
            }
        }
    }
    let config = Config::from_env()?;
    let running = start(config.clone()).await?;
    if let Some(secret) = running.generated_secret() {
        println!("dev mode: no TENANCY_JWT_SECRET set, so this run signs tokens with");
        println!("  TENANCY_JWT_SECRET={secret}");
        println!("(tokens stop working on restart unless you export it)\n");
    }
    if demo {
        println!("{}", running.seed_demo().await?);
    }
    let database = match running.backend() {
        tenancy_sql::Backend::Postgres => "PostgreSQL (row-level security verified)",
        _ => "SQLite",
    };
    println!(
        "leases-service listening on {} with {database}; Ctrl-C stops it",
        running.base_url()
    );
    tokio::signal::ctrl_c().await?;
    running.shutdown().await
}
