//! `vigil ingest`: a file of inference events (or, with `--outcomes`, of
//! outcomes) stored in batches, with a progress bar: straight into the
//! database, or with `--server URL` over the API (the server pseudonymises
//! with its key; a batch that meets a connection failure or a server error
//! is resent, which stores nothing twice).
//!
//! The file is NDJSON (`.ndjson`, `.jsonl`) or CSV (`.csv`, with a header
//! row), as `POST /api/v1/deployments/{id}/events` (or `…/outcomes`) takes. It is read as a
//! stream (one batch in memory at a time) and cut into
//! batches of `--batch-rows` events; each batch is validated whole and
//! stored all or nothing, and events already stored (same `event_id`) are
//! skipped, so after a refused batch the corrected file can be ingested
//! again from the start without duplicating anything.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use vigil_domain::{PseudonymKey, Role};
use vigil_monitor::{EventFormat, parse_batch, parse_outcomes};
use vigil_store::{DeploymentId, Store};

use crate::registry::ActorArgs;

/// How many times a batch is sent before the command gives up.
const SEND_ATTEMPTS: u32 = 5;

/// Arguments of `vigil ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The registered user sending the file (straight into the database).
    #[arg(long, env = "VIGIL_ACTOR", value_name = "USER")]
    actor: Option<String>,
    /// The role the user acts in (default: the user's registered role).
    #[arg(long, value_name = "ROLE")]
    role: Option<String>,
    /// Send the batches to this Vigil server's API (e.g.
    /// https://vigil.trust.nhs.uk) instead of the database.
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// The API token for --server (environment `VIGIL_TOKEN`).
    #[arg(
        long,
        env = "VIGIL_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// The events: NDJSON (.ndjson, .jsonl) or CSV (.csv).
    file: PathBuf,
    /// The deployment the events belong to.
    #[arg(long, value_name = "ID")]
    deployment: i64,
    /// The Trust's pseudonymisation key file (`vigil keygen`); else
    /// `$VIGIL_PSEUDONYM_KEY`; without either, only pseudonyms are accepted.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Rows per batch (at most 100,000).
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    batch_rows: usize,
    /// The file holds outcomes (case_id, label, source, recorded_at,
    /// reader_agrees) rather than inference events.
    #[arg(long)]
    outcomes: bool,
}

/// What storing one batch did: received, stored, already stored.
type BatchCounts = (u64, u64, u64);

/// The format a file's extension names.
fn format_of(path: &Path) -> Result<EventFormat> {
    match path
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("ndjson" | "jsonl") => Ok(EventFormat::Ndjson),
        Some("csv") => Ok(EventFormat::Csv),
        _ => bail!(
            "{}: name the file .ndjson, .jsonl or .csv so that its format is known",
            path.display()
        ),
    }
}

/// Reads a file batch by batch, never holding more than one batch: each
/// batch is a complete NDJSON or CSV text of at most `rows` events (CSV
/// batches repeat the header).
enum Batches<R: std::io::Read> {
    Ndjson {
        lines: std::io::Lines<std::io::BufReader<R>>,
        rows: usize,
    },
    Csv {
        reader: csv::Reader<R>,
        header: csv::ByteRecord,
        rows: usize,
    },
}

impl<R: std::io::Read> Batches<R> {
    fn new(input: R, format: EventFormat, rows: usize) -> Result<Self> {
        Ok(match format {
            EventFormat::Ndjson => Batches::Ndjson {
                lines: std::io::BufRead::lines(std::io::BufReader::new(input)),
                rows,
            },
            EventFormat::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .flexible(true)
                    .from_reader(input);
                let header = reader
                    .byte_headers()
                    .context("cannot read the CSV header")?
                    .clone();
                Batches::Csv {
                    reader,
                    header,
                    rows,
                }
            }
        })
    }

    /// The next batch, or `None` at the end of the file.
    fn next_batch(&mut self) -> Result<Option<Vec<u8>>> {
        match self {
            Batches::Ndjson { lines, rows } => {
                let mut batch = Vec::new();
                let mut count = 0;
                while count < *rows {
                    match lines.next() {
                        None => break,
                        Some(line) => {
                            let line = line.context("cannot read the file (is it UTF-8 text?)")?;
                            if line.trim().is_empty() {
                                continue;
                            }
                            if count > 0 {
                                batch.push(b'\n');
                            }
                            batch.extend_from_slice(line.as_bytes());
                            count += 1;
                        }
                    }
                }
                Ok((count > 0).then_some(batch))
            }
            Batches::Csv {
                reader,
                header,
                rows,
            } => {
                let mut writer = csv::Writer::from_writer(Vec::new());
                writer.write_byte_record(header)?;
                let mut record = csv::ByteRecord::new();
                let mut count = 0;
                while count < *rows
                    && reader
                        .read_byte_record(&mut record)
                        .context("cannot read the CSV")?
                {
                    writer.write_byte_record(&record)?;
                    count += 1;
                }
                let batch = writer.into_inner().map_err(|error| anyhow!("{error}"))?;
                Ok((count > 0).then_some(batch))
            }
        }
    }
}

/// Reads the key from a file or the environment, if either is given.
fn optional_key(file: Option<&Path>) -> Result<Option<PseudonymKey>> {
    if file.is_some() || std::env::var_os("VIGIL_PSEUDONYM_KEY").is_some() {
        crate::registry::load_pseudonym_key(file).map(Some)
    } else {
        Ok(None)
    }
}

impl IngestArgs {
    /// Whether the file goes to a server rather than the database.
    pub fn over_api(&self) -> bool {
        self.server.is_some()
    }
}

/// The batches of a file with a progress bar over its bytes.
fn open_batches(
    arguments: &IngestArgs,
) -> Result<(
    Batches<indicatif::ProgressBarIter<std::fs::File>>,
    ProgressBar,
    EventFormat,
)> {
    if !(1..=vigil_monitor::events::MAXIMUM_ROWS).contains(&arguments.batch_rows) {
        bail!(
            "--batch-rows must be between 1 and {}",
            vigil_monitor::events::MAXIMUM_ROWS
        );
    }
    let format = format_of(&arguments.file)?;
    let file = std::fs::File::open(&arguments.file)
        .with_context(|| format!("cannot read {}", arguments.file.display()))?;
    let length = file.metadata().map(|metadata| metadata.len()).unwrap_or(0);
    let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "ingesting {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let batches = Batches::new(bar.wrap_read(file), format, arguments.batch_rows)?;
    Ok((batches, bar, format))
}

/// Sends the file's batches to a server's API, one at a time.
pub fn run_over_api(arguments: IngestArgs, json_output: bool) -> Result<std::process::ExitCode> {
    let server = arguments.server.clone().unwrap_or_default();
    let Some(token) = arguments.token.clone() else {
        bail!("--server needs an API token: --token or VIGIL_TOKEN");
    };
    if arguments.actor.is_some() || arguments.key.is_some() {
        bail!(
            "over the API the token says who sends the file and the server holds the key: drop --actor and --key"
        );
    }
    let kind = if arguments.outcomes {
        "outcomes"
    } else {
        "events"
    };
    let url = format!(
        "{}/api/v1/deployments/{}/{kind}",
        server.trim_end_matches('/'),
        arguments.deployment
    );
    let (mut batches, bar, format) = open_batches(&arguments)?;
    let content_type = match format {
        EventFormat::Ndjson => "application/x-ndjson",
        EventFormat::Csv => "text/csv",
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(300))
        .build()
        .context("cannot make the HTTP client")?;
    let (mut received, mut stored, mut duplicates, mut count) = (0u64, 0u64, 0u64, 0usize);
    while let Some(batch) = batches.next_batch()? {
        let index = count;
        count += 1;
        let place = format!(
            "{}: batch {} (rows {} to {})",
            arguments.file.display(),
            index + 1,
            index * arguments.batch_rows + 1,
            (index + 1) * arguments.batch_rows
        );
        let reply = runtime.block_on(send_batch(
            &client,
            &url,
            &token,
            content_type,
            batch,
            &place,
        ))?;
        let number = |field: &str| {
            reply
                .get(field)
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0)
        };
        received += number("received");
        stored += number("stored");
        duplicates += number("duplicates");
    }
    bar.finish_and_clear();
    crate::registry::print(
        json_output,
        json!({"batches": count, "received": received, "stored": stored, "duplicates": duplicates}),
        || {
            format!(
                "{received} {kind} in {count} batches: {stored} stored, {duplicates} already stored\n"
            )
        },
    );
    Ok(std::process::ExitCode::SUCCESS)
}

/// Sends one batch, resending it after a connection failure or a server
/// error (waiting 1, 2, 4, 8 seconds); a refusal (4xx) stops at once with
/// the server's message.
async fn send_batch(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    content_type: &str,
    batch: Vec<u8>,
    place: &str,
) -> Result<serde_json::Value> {
    let mut failure = String::new();
    for attempt in 0..SEND_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_secs(1 << (attempt - 1))).await;
        }
        let answer = client
            .post(url)
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(batch.clone())
            .send()
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(error) => {
                failure = if error.is_timeout() {
                    "no answer in time".to_owned()
                } else {
                    "the server could not be reached".to_owned()
                };
                continue;
            }
        };
        let status = answer.status();
        let body: serde_json::Value = answer
            .bytes()
            .await
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or(serde_json::Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        let message = body["error"]["message"]
            .as_str()
            .unwrap_or("no message")
            .to_owned();
        if status.is_server_error() {
            failure = format!("HTTP {}: {message}", status.as_u16());
            continue;
        }
        bail!(
            "{place}: the server refused it (HTTP {}): {message}. Earlier batches are stored; fix the file and send it again (stored rows are skipped)",
            status.as_u16()
        );
    }
    bail!(
        "{place}: {failure}, after {SEND_ATTEMPTS} attempts. Earlier batches are stored; send the file again (stored rows are skipped)"
    )
}

/// Stores the file's events, batch by batch.
pub async fn run(store: &impl Store, arguments: IngestArgs, json_output: bool) -> Result<()> {
    let Some(actor) = arguments.actor.clone() else {
        bail!(
            "--actor (or VIGIL_ACTOR) names the user sending the file; or send it over the API with --server and --token"
        );
    };
    let actor = ActorArgs::named(actor, arguments.role.clone());
    let context = crate::registry::actor_context(store, &actor).await?;
    if !matches!(
        context.actor.role,
        Role::AiLead | Role::MedicalPhysicsExpert
    ) {
        bail!(
            "{} ({}) may not send events or outcomes; that needs one of: ai_lead, medical_physics_expert",
            context.actor.name,
            context.actor.role
        );
    }
    let deployment = DeploymentId(arguments.deployment);
    let record = store.deployment(deployment).await?;
    crate::registry::require_within_tree(store, &context, &record.deployment.site).await?;
    let key = optional_key(arguments.key.as_deref())?;
    let (mut batches, bar, format) = open_batches(&arguments)?;
    let (mut received, mut stored, mut duplicates, mut count) = (0u64, 0u64, 0u64, 0usize);
    while let Some(batch) = batches.next_batch()? {
        let index = count;
        count += 1;
        let rows = |error: &dyn std::fmt::Display| {
            format!(
                "{}: batch {} (rows {} to {}): {error}",
                arguments.file.display(),
                index + 1,
                index * arguments.batch_rows + 1,
                (index + 1) * arguments.batch_rows
            )
        };
        let refused = |error: vigil_monitor::BatchError| {
            anyhow!(
                "{}. Earlier batches are stored; fix the file and ingest it again (stored rows are skipped)",
                rows(&error)
            )
        };
        let body_sha256 = vigil_store::rows::sha256_hex_bytes(&batch);
        let change = vigil_store::ChangeContext::now(context.actor.clone());
        let now = jiff::Timestamp::now();
        let summary: BatchCounts = if arguments.outcomes {
            let parsed = parse_outcomes(&batch, format, key.as_ref(), now).map_err(refused)?;
            let summary = store
                .ingest_outcomes(&change, deployment, &parsed.outcomes, &body_sha256)
                .await
                .map_err(|error| anyhow!(rows(&error)))?;
            (summary.received, summary.stored, summary.duplicates)
        } else {
            let parsed = parse_batch(&batch, format, key.as_ref(), now).map_err(refused)?;
            let summary = store
                .ingest_events(&change, deployment, &parsed.events, &body_sha256)
                .await
                .map_err(|error| anyhow!(rows(&error)))?;
            (summary.received, summary.stored, summary.duplicates)
        };
        received += summary.0;
        stored += summary.1;
        duplicates += summary.2;
    }
    bar.finish_and_clear();
    crate::registry::print(
        json_output,
        json!({"batches": count, "received": received, "stored": stored, "duplicates": duplicates}),
        || {
            format!(
                "{received} {} in {count} batches: {stored} stored, {duplicates} already stored\n",
                if arguments.outcomes {
                    "outcomes"
                } else {
                    "events"
                }
            )
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], format: EventFormat, rows: usize) -> Vec<Vec<u8>> {
        let mut batches = Batches::new(input, format, rows).expect("batches");
        let mut all = Vec::new();
        while let Some(batch) = batches.next_batch().expect("a batch") {
            all.push(batch);
        }
        all
    }

    #[test]
    fn csv_batches_repeat_the_header_and_ndjson_skips_blank_lines() {
        let csv = b"event_id,score\ne1,0.1\ne2,0.2\ne3,0.3\n";
        let cut = all(csv, EventFormat::Csv, 2);
        assert_eq!(cut.len(), 2);
        assert_eq!(cut[0], b"event_id,score\ne1,0.1\ne2,0.2\n");
        assert_eq!(cut[1], b"event_id,score\ne3,0.3\n");
        let ndjson = b"{\"a\": 1}\n\n{\"a\": 2}\n{\"a\": 3}\n";
        let cut = all(ndjson, EventFormat::Ndjson, 2);
        assert_eq!(
            cut,
            vec![b"{\"a\": 1}\n{\"a\": 2}".to_vec(), b"{\"a\": 3}".to_vec()]
        );
        assert!(all(b"", EventFormat::Ndjson, 2).is_empty());
        assert!(format_of(Path::new("events.txt")).is_err());
        assert_eq!(
            format_of(Path::new("x.JSONL")).expect("format"),
            EventFormat::Ndjson
        );
    }
}
