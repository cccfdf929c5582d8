//! The `learnweek` command line.

use std::process::ExitCode;

use actix_web::{HttpServer, web};
use chrono::{Duration, Utc};
use clap::{Parser, Subcommand};
use uuid::Uuid;

use crate::api::tokens::{self, TokenKind, TokenSpec};
use crate::auth::Role;
use crate::auth::policy::Authorized;
use crate::config::Config;
use crate::db::Lanes;
use crate::embedded::EmbeddedCluster;
use crate::router::{AppData, build_app};
use crate::state::AppState;
use crate::validate::Checks;

#[derive(Parser)]
#[command(
    name = "learnweek",
    version,
    about = "The Lifelong Learning Activity Week API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve the API.
    Serve {
        /// Load the Gaozhou 2014 demo week first and print an admin token.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Manage tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Load data sets.
    Seed {
        #[command(subcommand)]
        data: SeedCommand,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Mint a token and print only the token (e.g. to bootstrap the first admin).
    Issue {
        #[arg(long)]
        role: Role,
        #[arg(long)]
        name: String,
        /// Required for every role but admin.
        #[arg(long)]
        unit: Option<Uuid>,
        #[arg(long, default_value_t = 90)]
        ttl_days: i64,
    },
}

#[derive(Subcommand)]
enum SeedCommand {
    /// The 2014 Gaozhou activity week (idempotent).
    #[command(name = "gaozhou-2014")]
    Gaozhou2014,
    /// A large deterministic data set for benchmarks, generated inside PostgreSQL
    /// (refused if this seed's campaigns are already there).
    Synthetic {
        /// Events, spread over the campaigns.
        #[arg(long, default_value_t = 100_000)]
        events: u64,
        /// Tallies (85% on events, 15% on trainings).
        #[arg(long, default_value_t = 1_000_000)]
        tallies: u64,
        #[arg(long, default_value_t = 1)]
        campaigns: u32,
        /// Every campaign in this year, all under Guangdong (44xxxx), as a national-scale
        /// regional summary would see them; without it, one campaign a year from 2014.
        #[arg(long)]
        year: Option<i32>,
        /// Same seed, same rows (ids included).
        #[arg(long, default_value_t = 42)]
        seed: u32,
    },
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    if let Command::Openapi = cli.command {
        print!("{}", crate::openapi::json());
        return ExitCode::SUCCESS;
    }
    match run_with_database(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("learnweek: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run_with_database(command: Command) -> Result<(), String> {
    let config = Config::from_env()?;
    if !matches!(command, Command::Migrate) {
        // Refuse a bad configuration before touching any database.
        config.resolve_jwt_secret()?;
    }
    // The embedded cluster is started here, on the main thread, which outlives the server;
    // it is stopped when `_cluster` drops, after the runtime has finished.
    let (database_url, _cluster) = match &config.database_url {
        Some(url) => (url.clone(), None),
        None => {
            let cluster = EmbeddedCluster::start(&config.data_dir)?;
            (cluster.url("learnweek"), Some(cluster))
        }
    };
    let admin_url = _cluster.as_ref().map(|c| c.url("postgres"));
    actix_web::rt::System::new().block_on(async move {
        if let Some(admin_url) = admin_url {
            crate::db::ensure_database(&admin_url, "learnweek").await?;
        }
        let applied = crate::db::migrate(&database_url).await?;
        if !applied.is_empty() {
            log::info!("applied migrations: {}", applied.join(", "));
        }
        match command {
            Command::Migrate => Ok(()),
            Command::Serve { demo } => serve(config, &database_url, demo).await,
            Command::Token {
                command:
                    TokenCommand::Issue {
                        role,
                        name,
                        unit,
                        ttl_days,
                    },
            } => {
                let state = app_data(config, &database_url, 0)?.state;
                let token = issue_token(&state, role, name, unit, ttl_days).await?;
                println!("{token}");
                Ok(())
            }
            Command::Seed {
                data: SeedCommand::Gaozhou2014,
            } => {
                let state = app_data(config, &database_url, 0)?.state;
                let summary = crate::seed::gaozhou::load(&state)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("{summary}");
                Ok(())
            }
            Command::Seed {
                data:
                    SeedCommand::Synthetic {
                        events,
                        tallies,
                        campaigns,
                        year,
                        seed,
                    },
            } => {
                let state = app_data(config, &database_url, 0)?.state;
                let params = crate::seed::synthetic::Params {
                    events,
                    tallies,
                    campaigns,
                    year,
                    seed,
                };
                println!("{}", crate::seed::synthetic::load(&state, params).await?);
                Ok(())
            }
            Command::Openapi => Ok(()),
        }
    })
}

/// The state for a command; `serve` gives each of its `workers` a lane of connections too.
fn app_data(config: Config, database_url: &str, workers: usize) -> Result<AppData, String> {
    let secret = config.resolve_jwt_secret()?;
    let pool = crate::db::build_pool(database_url, config.pool_size)?;
    let state = AppState::new(pool, &secret, config)?.with_worker_lanes(database_url, workers)?;
    Ok(AppData::new(state))
}

async fn issue_token(
    state: &AppState,
    role: Role,
    name: String,
    unit: Option<Uuid>,
    ttl_days: i64,
) -> Result<String, String> {
    let mut conn = state.conn().await.map_err(|e| e.to_string())?;
    let mut checks = Checks::new();
    checks.text("name", &name, 100);
    checks.check(
        (1..=3660).contains(&ttl_days),
        "ttl_days",
        "must be between 1 and 3660",
    );
    crate::auth::policy::check_role_unit(&mut conn, role, unit, &mut checks)
        .await
        .map_err(|e| e.to_string())?;
    if !checks.is_empty() {
        let errors: Vec<String> = checks
            .into_errors()
            .into_iter()
            .map(|e| {
                format!(
                    "--{}: {}",
                    e.field.replace("unit_id", "unit").replace('_', "-"),
                    e.message
                )
            })
            .collect();
        return Err(errors.join("; "));
    }
    let spec = TokenSpec {
        name,
        kind: TokenKind::Api,
        role,
        unit_id: unit,
        account_id: None,
        created_by: "cli".into(),
        expires_at: Utc::now() + Duration::days(ttl_days),
    };
    let (_, token) = tokens::mint(&mut conn, &state.jwt, &Authorized::system("cli"), &spec)
        .await
        .map_err(|e| e.to_string())?;
    Ok(token)
}

async fn serve(config: Config, database_url: &str, demo: bool) -> Result<(), String> {
    let bind = config.bind.clone();
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let data = app_data(config, database_url, workers)?;
    let state = data.state.clone();
    if demo {
        let summary = crate::seed::gaozhou::load(&state)
            .await
            .map_err(|e| e.to_string())?;
        log::info!("{summary}");
        let token = issue_token(&state, Role::Admin, "demo-admin".into(), None, 30).await?;
        println!("Demo admin token (valid 30 days):\n{token}\n");
        println!("Try: curl -s http://{bind}/api/v1/campaigns/gaozhou-2014/summary");
    }
    actix_web::rt::spawn(housekeeping(data.clone()));
    let app_data = data.clone();
    let server = HttpServer::new(move || {
        // Runs on each worker's thread, before it serves anything.
        Lanes::claim_for_this_thread();
        build_app(app_data.clone())
    })
    .workers(workers)
    .bind(&bind)
    .map_err(|e| format!("cannot listen on {bind}: {e}"))?
    .shutdown_timeout(10)
    .run();
    log::info!("listening on http://{bind} (docs at http://{bind}/swagger-ui/)");
    let metrics_server = match state.config.metrics_bind.clone() {
        Some(metrics_bind) => Some(metrics_listener(state.clone(), &metrics_bind)?),
        None => None,
    };
    // Migrations (above), the change listener and the webhook worker use the primary only;
    // the probe decides, in the background, whether anonymous reads may use the replica.
    let read_probe = crate::replica::spawn_probe(
        state.reads.clone(),
        state.change_signal.clone(),
        database_url.to_string(),
    );
    let worker = crate::api::webhooks::Worker::start(state.clone());
    let (stop_listening, stopped) = tokio::sync::watch::channel(false);
    let listener = actix_web::rt::spawn(crate::change_signal::listen(
        state.change_signal.clone(),
        database_url.to_string(),
        stopped,
    ));
    let served = server.await.map_err(|e| e.to_string());
    if let Some(metrics_server) = metrics_server {
        metrics_server.stop(true).await;
    }
    // The server has drained; let the current webhook delivery finish before exiting.
    worker.stop().await;
    let _ = stop_listening.send(true);
    read_probe.stop();
    let _ = listener.await;
    served
}

/// `GET /metrics` without a token, on an address of its own (for Prometheus on an internal
/// network); the API's own `/metrics` wants a token.
fn metrics_listener(
    state: web::Data<AppState>,
    bind: &str,
) -> Result<actix_web::dev::ServerHandle, String> {
    let server = HttpServer::new(move || {
        actix_web::App::new().app_data(state.clone()).route(
            "/metrics",
            web::get().to(|state: web::Data<AppState>| async move {
                crate::api::health::exposition(&state).await
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind(bind)
    .map_err(|e| format!("cannot listen on {bind} (LEARNWEEK_METRICS_BIND): {e}"))?
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    log::info!("metrics on http://{bind}/metrics");
    Ok(handle)
}

/// Periodic clean-up: idle rate-limit buckets, expired idempotency keys, refresh tokens and
/// login failures.
async fn housekeeping(data: AppData) {
    let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(15 * 60));
    loop {
        tick.tick().await;
        data.rate_limits.forget_idle();
        let purged = match data.state.conn().await {
            Ok(mut conn) => {
                let keys = crate::idempotency::purge_expired(&mut conn).await;
                let sessions = crate::api::sessions::purge_expired(&mut conn).await;
                let failures = crate::api::auth::purge_login_failures(&mut conn).await;
                keys.and_then(|k| sessions.and_then(|s| failures.map(|f| (k, s, f))))
            }
            Err(e) => Err(e),
        };
        match purged {
            Ok((0, 0, 0)) => {}
            Ok((k, s, f)) => log::info!(
                "purged {k} expired idempotency keys, {s} expired refresh tokens, {f} old login failures"
            ),
            Err(e) => log::warn!("housekeeping failed: {e}"),
        }
    }
}
