//! `vigil demo`: seed a fresh SQLite database with the synthetic national
//! dataset of `vigil-demo`, then serve the dashboard on it and print where
//! to sign in.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use vigil_demo::{DEMO_PASSWORD, DemoOptions, DemoSummary};
use vigil_store_sqlite::SqliteStore;

use crate::registry::StoreArgs;

/// The database the demo writes when `--db` is not given. Only this file
/// is replaced without asking.
const DEFAULT_DEMO_DATABASE: &str = "vigil-demo.db";

/// Arguments of `vigil demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Drives every random draw: the same seed and end date give the same
    /// data.
    #[arg(long, default_value_t = 2026, value_name = "N")]
    seed: u64,
    /// The last day of the year of history (default: yesterday, UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    end: Option<jiff::civil::Date>,
    /// The share of their usual volume the deployments without a story
    /// produce: 1 for the full demonstration (2 million events), less for
    /// a quicker trial.
    #[arg(long, default_value_t = 1.0, value_name = "SHARE")]
    ordinary_volume: f64,
    /// Replace the file named by --db if it exists (the default demo
    /// database, vigil-demo.db, is always replaced).
    #[arg(long)]
    replace: bool,
    /// Seed the database and stop, without serving it.
    #[arg(long)]
    no_serve: bool,
    /// Address to serve on (default 127.0.0.1:8080).
    #[arg(long, value_name = "ADDRESS:PORT")]
    bind: Option<SocketAddr>,
}

/// Seeds the demo database and, unless told not to, serves it.
pub fn run(store: &StoreArgs, arguments: DemoArgs) -> Result<ExitCode> {
    let named = store.db.as_deref().unwrap_or(DEFAULT_DEMO_DATABASE);
    if named.starts_with("postgres://") || named.starts_with("postgresql://") {
        bail!("the demo writes a SQLite file; pass --db PATH.db, not a PostgreSQL URL");
    }
    let database = SqliteStore::path_of(named).to_path_buf();
    let replaceable = arguments.replace || store.db.is_none();
    if database.exists() && !replaceable {
        bail!(
            "{} exists; the demo writes a new database (pass --replace to overwrite it)",
            database.display()
        );
    }
    let end = match arguments.end {
        Some(end) => end,
        None => jiff::Zoned::now()
            .with_time_zone(jiff::tz::TimeZone::UTC)
            .date()
            .yesterday()
            .context("today has no yesterday")?,
    };
    if !(0.0..=1.0).contains(&arguments.ordinary_volume) {
        bail!("--ordinary-volume must lie between 0 and 1");
    }
    let options = DemoOptions {
        seed: arguments.seed,
        end,
        ordinary_volume: arguments.ordinary_volume,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let started = Instant::now();
    let summary = runtime.block_on(seed_file(&database, &options))?;
    eprintln!(
        "seeded {} in {:.1} s: {} organisations, {} products, {} deployments, {} events, {} outcomes, {} alerts",
        database.display(),
        started.elapsed().as_secs_f64(),
        summary.organisations,
        summary.products,
        summary.deployments,
        summary.events,
        summary.outcomes,
        summary.alerts
    );
    if store.json {
        println!(
            "{}",
            serde_json::json!({
                "database": database.display().to_string(),
                "seconds": started.elapsed().as_secs_f64(),
                "organisations": summary.organisations,
                "products": summary.products,
                "deployments": summary.deployments,
                "events": summary.events,
                "outcomes": summary.outcomes,
                "alerts": summary.alerts,
                "users": summary.users.iter().map(|user| serde_json::json!({
                    "user_name": user.user_name,
                    "role": user.role.as_str(),
                    "organisation": user.organisation,
                })).collect::<Vec<_>>(),
                "password": DEMO_PASSWORD,
            })
        );
    }
    if arguments.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    crate::serve::init_logging();
    let mut config = vigil_server::ServerConfig {
        database: database.display().to_string(),
        ..vigil_server::ServerConfig::default()
    };
    if let Some(bind) = arguments.bind {
        config.bind = bind;
    }
    config.check_bind()?;
    print_logins(&summary, config.bind);
    runtime.block_on(async {
        let store = SqliteStore::open_existing(&database).await?;
        vigil_server::serve(store, config).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Seeds a new file beside `database` and moves it into place only when
/// seeding succeeded, so a failed or interrupted run leaves any previous
/// demo database as it was.
async fn seed_file(database: &Path, options: &DemoOptions) -> Result<DemoSummary> {
    let mut seeding = database.as_os_str().to_owned();
    seeding.push(".seeding");
    let seeding = PathBuf::from(seeding);
    remove_database_files(&seeding)?;
    let store = SqliteStore::create_for_bulk_load(&seeding).await?;
    let password_hash = vigil_server::auth::hash_password(DEMO_PASSWORD)?;
    let bar = ProgressBar::with_draw_target(
        Some(vigil_demo::planned_events(options)),
        ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        ProgressStyle::with_template(
            "seeding the demo {bar:40} {human_pos}/{human_len} events ({per_sec}, {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let seeded = vigil_demo::seed(&store, options, &password_hash, &mut |events| {
        bar.set_position(events);
    })
    .await;
    bar.finish_and_clear();
    store.close().await;
    let summary = seeded.context("seeding the demo failed")?;
    remove_database_files(database)?;
    std::fs::rename(&seeding, database).with_context(|| {
        format!(
            "cannot move {} to {}",
            seeding.display(),
            database.display()
        )
    })?;
    Ok(summary)
}

/// Removes a SQLite database and its WAL and shared-memory files, if
/// present.
fn remove_database_files(database: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("cannot remove {}", Path::new(&name).display()));
            }
        }
    }
    Ok(())
}

/// Prints the dashboard's address and a sign-in for each kind of user.
fn print_logins(summary: &DemoSummary, bind: SocketAddr) {
    println!("Vigil demo: open http://{bind}/ (the API is at http://{bind}/api/v1)");
    println!("Every demo user's password is {DEMO_PASSWORD}. Some of them:");
    let shown = [
        "national.admin",
        "national.ai-lead",
        "north-west.ai-lead",
        "rpn.ai-lead",
        "rpn.clinical-safety-officer",
        "rpn.clinician",
        "rpn.organisation-admin",
        "rsg.clinical-safety-officer",
        "rmv.medical-physics-expert",
        "rmv.viewer",
    ];
    for user in summary
        .users
        .iter()
        .filter(|user| shown.contains(&user.user_name.as_str()))
    {
        println!(
            "  {:<30} {:<26} {}",
            user.user_name,
            user.role.as_str(),
            user.organisation
        );
    }
    println!(
        "Every Trust has the same set ({} users in all): <trust>.ai-lead, .clinical-safety-officer, .clinical-lead, .clinician, .procurement-lead, .organisation-admin, .viewer, and .medical-physics-expert where it has a cancer centre.",
        summary.users.len()
    );
}
