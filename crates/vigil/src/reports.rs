//! `vigil report`: documents made from the stored record.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use vigil_store::{DeploymentId, Store};
use vigil_store_postgres::PostgresStore;
use vigil_store_sqlite::SqliteStore;

use crate::registry::{StoreArgs, print};

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The governance pack of a deployment: procurement, validation, the
    /// safety case, monitoring with charts and alerts, the productivity
    /// audit, decisions and sign-offs, and the audit chain's checkpoint.
    /// Written as PDF (typeset by Typst) or, for a name ending in .html, as
    /// one self-contained page; the same database gives the same bytes.
    Pack {
        /// The deployment.
        #[arg(long)]
        deployment: i64,
        /// The file to write: NAME.pdf or NAME.html.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

pub fn run(store: &StoreArgs, command: ReportCommand) -> Result<std::process::ExitCode> {
    let ReportCommand::Pack { deployment, out } = command;
    let as_html = match out.extension().and_then(|extension| extension.to_str()) {
        Some(extension) if extension.eq_ignore_ascii_case("pdf") => false,
        Some(extension) if extension.eq_ignore_ascii_case("html") => true,
        _ => bail!(
            "--out {}: name a .pdf or a .html file (the extension chooses the format)",
            out.display()
        ),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let pack = runtime.block_on(async {
        let database = store.database();
        if database.starts_with("postgres://") || database.starts_with("postgresql://") {
            let backend = PostgresStore::open_url(database).await?;
            gather(&backend, deployment).await
        } else {
            let backend = SqliteStore::open_existing(SqliteStore::path_of(database)).await?;
            let outcome = gather(&backend, deployment).await;
            backend.close().await;
            outcome
        }
    })?;
    let bytes = if as_html {
        vigil_pack::html(&pack).into_bytes()
    } else {
        vigil_pack::pdf(&pack).context("cannot typeset the governance pack")?
    };
    std::fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    print(
        store.json,
        serde_json::json!({"deployment": deployment, "out": out.display().to_string(), "bytes": bytes.len(), "as_of": pack.as_of}),
        || {
            format!(
                "wrote the governance pack of deployment {deployment} to {} ({} bytes), made from {}\n",
                out.display(),
                bytes.len(),
                pack.as_of
            )
        },
    );
    Ok(std::process::ExitCode::SUCCESS)
}

async fn gather(store: &impl Store, deployment: i64) -> Result<vigil_pack::Pack> {
    vigil_pack::gather(store, DeploymentId(deployment))
        .await
        .with_context(|| format!("deployment {deployment}"))
}
