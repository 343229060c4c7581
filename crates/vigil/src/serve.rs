//! `vigil serve`: configuration from a file, the environment and flags,
//! logging, and the store, handed to `vigil-server`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use vigil_server::{ServerConfig, serve};
use vigil_store_postgres::PostgresStore;
use vigil_store_sqlite::SqliteStore;

use crate::registry::StoreArgs;

/// Arguments of `vigil serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); `VIGIL_*` environment variables override it.
    #[arg(long, value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, value_name = "ADDRESS:PORT")]
    bind: Option<SocketAddr>,
    /// Serve plain HTTP on a non-loopback address, behind a TLS-terminating
    /// proxy on a trusted network. Logged loudly.
    #[arg(long)]
    insecure_http_behind_proxy: bool,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-private-key.
    #[arg(long, value_name = "CERT.pem", requires = "tls_private_key")]
    tls_certificate: Option<PathBuf>,
    /// The private key (PEM) of --tls-certificate.
    #[arg(long, value_name = "KEY.pem", requires = "tls_certificate")]
    tls_private_key: Option<PathBuf>,
}

/// Logs to standard error, filtered by `VIGIL_LOG` (default: info, and
/// only warnings from the database driver).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
}

/// Loads the configuration and serves until interrupted.
pub fn run(store: &StoreArgs, arguments: ServeArgs) -> Result<ExitCode> {
    init_logging();
    let mut config =
        ServerConfig::load(arguments.config.as_deref(), |name| std::env::var(name).ok())?;
    if let Some(bind) = arguments.bind {
        config.bind = bind;
    }
    // --db (or VIGIL_DB) overrides the configuration file's database.
    if let Some(database) = &store.db {
        config.database = database.clone();
    }
    config.insecure_http_behind_proxy = arguments.insecure_http_behind_proxy;
    if let (Some(certificate), Some(private_key)) =
        (arguments.tls_certificate, arguments.tls_private_key)
    {
        config.tls = Some(vigil_server::config::TlsFiles {
            certificate,
            private_key,
        });
    }
    config.check_bind()?;
    tracing::info!(?config, "starting");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        if config.database.starts_with("postgres://")
            || config.database.starts_with("postgresql://")
        {
            let backend = PostgresStore::open_url(&config.database).await?;
            serve(backend, config).await?;
        } else {
            let backend =
                SqliteStore::open_existing(SqliteStore::path_of(&config.database)).await?;
            serve(backend, config).await?;
        }
        Ok(ExitCode::SUCCESS)
    })
}
