//! Crash safety of event ingestion, through the real `vigil serve` binary.
//!
//! A sender posts a stream of inference events in NDJSON batches to
//! `POST /api/v1/deployments/{id}/events`, one batch after another, while a
//! killer sends SIGKILL to the server at random moments (often while a batch
//! is in flight) and starts it again on the same SQLite database. The sender
//! resends every batch whose reply was not a 2xx, as a hospital's feed
//! would. After every restart the harness reads the database with the
//! `sqlite3` client and checks that every batch acknowledged so far is stored
//! whole (a 2xx reply means durable), that every stored batch is whole (a
//! batch is stored entirely or not at all), and that the day aggregates count
//! exactly the stored events. Now and then the killer also kills a server
//! that is still starting.
//!
//! At the end every event is stored exactly once, which is read through the
//! API's day aggregates and directly in the database, event by event (the
//! expected keyed hashes of the event ids are computed with the Trust's key);
//! `PRAGMA integrity_check` answers `ok`; every stored batch has its entry in
//! the audit trail; and `vigil audit verify` succeeds.
//!
//! Environment variables set the size: `VIGIL_CRASH_EVENTS` (100,000 by
//! default), `VIGIL_CRASH_BATCH_ROWS` (2,000 by default), `VIGIL_CRASH_CYCLES`
//! (kills while ingesting, 20 by default) and `VIGIL_CRASH_SEED` (random by
//! default). The seed is printed; it fixes the schedule of the kills (after
//! how many acknowledged batches, how far into the next request, which
//! restarts are cut short), while the exact moments still depend on timing.
//! The full size of the specification runs with
//!
//! ```text
//! VIGIL_CRASH_EVENTS=1000000 VIGIL_CRASH_BATCH_ROWS=10000 \
//!     cargo nextest run -p vigil --release -E 'binary(crash)' --no-capture
//! ```
//!
//! A failing run leaves its directory (the database and one log per server
//! start) in place and names it in the failure message.

mod support;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use support::{set_up_database, vigil};
use vigil_domain::{IdentifierKind, PseudonymKey, pseudonymise};

/// The deployment that receives the events: the first one made.
const DEPLOYMENT: i64 = 1;

/// The chance that a restart is itself cut short by a kill while the server
/// is still starting.
const START_UP_KILL_CHANCE: f64 = 0.2;

/// The longest a single request may take before the server counts as hung.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// The longest a server may take to start answering.
const START_UP_TIMEOUT: Duration = Duration::from_secs(120);

/// The size of a run and the seed of its kill schedule.
#[derive(Debug)]
struct Settings {
    events: u64,
    batch_rows: u64,
    cycles: usize,
    seed: u64,
}

impl Settings {
    fn from_environment() -> Settings {
        let events = number_from_environment("VIGIL_CRASH_EVENTS", 100_000);
        let batch_rows = number_from_environment("VIGIL_CRASH_BATCH_ROWS", 2_000);
        let cycles = number_from_environment("VIGIL_CRASH_CYCLES", 20);
        assert!(events > 0, "VIGIL_CRASH_EVENTS must be at least 1");
        assert!(
            (1..=100_000).contains(&batch_rows),
            "VIGIL_CRASH_BATCH_ROWS must be between 1 and 100,000 (the largest batch the server takes)"
        );
        assert!(cycles > 0, "VIGIL_CRASH_CYCLES must be at least 1");
        let seed = match std::env::var("VIGIL_CRASH_SEED") {
            Ok(text) => text
                .trim()
                .parse()
                .expect("VIGIL_CRASH_SEED is a whole number"),
            Err(_) => {
                let mut bytes = [0_u8; 8];
                getrandom::fill(&mut bytes).expect("the operating system gives random bytes");
                u64::from_le_bytes(bytes)
            }
        };
        Settings {
            events,
            batch_rows,
            cycles: usize::try_from(cycles).expect("VIGIL_CRASH_CYCLES fits in memory"),
            seed,
        }
    }

    fn batches(&self) -> u64 {
        self.events.div_ceil(self.batch_rows)
    }

    /// The indices of the events of one batch.
    fn batch_events(&self, batch_index: u64) -> std::ops::Range<u64> {
        let first = batch_index * self.batch_rows;
        first..(first + self.batch_rows).min(self.events)
    }
}

fn number_from_environment(variable: &str, default: u64) -> u64 {
    match std::env::var(variable) {
        Ok(text) => text
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|error| panic!("{variable} = {text:?} is not a whole number: {error}")),
        Err(_) => default,
    }
}

/// The sender's event id of the event with this index.
fn event_id(index: u64) -> String {
    format!("crash-{index:07}")
}

/// One event as an NDJSON line; the same index always gives the same bytes,
/// so that a resent batch is the same batch. Events spread over the thirty
/// days of November 2026.
fn event_line(index: u64) -> String {
    let day = index % 30 + 1;
    let hour = (index / 30) % 24;
    let minute = (index / 720) % 60;
    let score = (index * 7_919) % 1_000;
    format!(
        r#"{{"event_id": "{}", "case_id": "ACC{index:07}", "occurred_at": "2026-11-{day:02}T{hour:02}:{minute:02}:00Z", "model_version": "2.3.0", "score": 0.{score:03}}}"#,
        event_id(index)
    )
}

/// The NDJSON body of one batch.
fn batch_body(settings: &Settings, batch_index: u64) -> String {
    let mut body = String::new();
    for index in settings.batch_events(batch_index) {
        body.push_str(&event_line(index));
        body.push('\n');
    }
    body
}

/// A free loopback port below the kernel's usual range of ephemeral ports
/// (32768 and up on Linux), so that while the server is down between a kill
/// and its restart no outgoing connection and no other test's `127.0.0.1:0`
/// takes its port.
fn free_port() -> u16 {
    const FIRST: u16 = 20_000;
    const COUNT: u16 = 12_000;
    let offset = u16::try_from(std::process::id() % u32::from(COUNT))
        .expect("the offset is below the port count");
    (0..COUNT)
        .map(|step| FIRST + (offset + step) % COUNT)
        .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .expect("a loopback port between 20000 and 32000 is free")
}

/// The last lines of a server's log, for failure messages.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// One run of `vigil serve`; killed with SIGKILL if dropped.
struct Server {
    process: tokio::process::Child,
    log: PathBuf,
}

/// Starts `vigil serve` on the same database, port and key every time, each
/// start with its own log.
struct ServerLauncher {
    database: PathBuf,
    key_file: PathBuf,
    directory: PathBuf,
    port: u16,
    starts: usize,
}

impl ServerLauncher {
    fn start(&mut self) -> Server {
        self.starts += 1;
        let log = self
            .directory
            .join(format!("server-{:03}.log", self.starts));
        let log_file = std::fs::File::create(&log).expect("the server log can be created");
        let process = tokio::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["serve", "--bind", &format!("127.0.0.1:{}", self.port)])
            .env("VIGIL_DB", &self.database)
            .env("VIGIL_PSEUDONYM_KEY_FILE", &self.key_file)
            .env_remove("VIGIL_PSEUDONYM_KEY")
            .env("VIGIL_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .expect("vigil serve starts");
        Server { process, log }
    }
}

impl Server {
    /// Waits until the server answers `/readyz`, failing the test if it
    /// exits or takes too long.
    async fn wait_until_ready(&mut self, client: &reqwest::Client, port: u16, context: &str) {
        let started = Instant::now();
        loop {
            if let Some(status) = self
                .process
                .try_wait()
                .expect("the server's state can be read")
            {
                panic!(
                    "{context}: vigil serve exited ({status}) before it was ready; its log ends:\n{}",
                    log_tail(&self.log)
                );
            }
            let ready = client
                .get(format!("http://127.0.0.1:{port}/readyz"))
                .send()
                .await
                .is_ok_and(|response| response.status().is_success());
            if ready {
                return;
            }
            assert!(
                started.elapsed() < START_UP_TIMEOUT,
                "{context}: vigil serve was not ready after {START_UP_TIMEOUT:?}; its log ends:\n{}",
                log_tail(&self.log)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Sends SIGKILL and waits for the process to end. A server that has
    /// already ended by itself fails the test.
    async fn kill(mut self, context: &str) {
        if let Some(status) = self
            .process
            .try_wait()
            .expect("the server's state can be read")
        {
            panic!(
                "{context}: vigil serve had exited by itself ({status}); its log ends:\n{}",
                log_tail(&self.log)
            );
        }
        self.process
            .kill()
            .await
            .expect("SIGKILL reaches vigil serve");
    }
}

/// The server's reply to a batch, as the sender received it.
#[derive(Debug, Clone)]
struct Acknowledgement {
    batch_index: u64,
    server_batch: i64,
    received: u64,
    stored: u64,
    duplicates: u64,
    /// Requests that reached the server but had no 2xx reply.
    unanswered_sends: u64,
}

/// What the sender and the killer share.
#[derive(Debug, Default)]
struct Progress {
    acknowledged_batches: AtomicU64,
    request_in_flight: AtomicBool,
    acknowledged_request_micros: AtomicU64,
    sending_finished: AtomicBool,
    acknowledgements: Mutex<Vec<Acknowledgement>>,
}

impl Progress {
    /// The mean duration of the requests that were acknowledged so far.
    fn mean_acknowledged_request(&self) -> Option<Duration> {
        let count = self.acknowledged_batches.load(Ordering::SeqCst);
        let micros = self.acknowledged_request_micros.load(Ordering::SeqCst);
        (count > 0).then(|| Duration::from_micros(micros / count))
    }

    fn acknowledgements(&self) -> Vec<Acknowledgement> {
        self.acknowledgements
            .lock()
            .expect("no thread panicked holding the acknowledgements")
            .clone()
    }
}

/// What the sender saw.
#[derive(Debug, Default)]
struct SenderFigures {
    attempts: u64,
    interrupted_requests: u64,
    refused_connections: u64,
    server_errors: u64,
    resent_batches: u64,
    acknowledged_as_already_stored: u64,
    duration: Duration,
}

/// Sends every batch in order, resending each until it is acknowledged with
/// a 2xx. A refused batch (4xx) or a hung request fails the test.
async fn send_all_batches(
    settings: &Settings,
    client: &reqwest::Client,
    port: u16,
    token: &str,
    progress: &Progress,
) -> SenderFigures {
    let started = Instant::now();
    let url = format!("http://127.0.0.1:{port}/api/v1/deployments/{DEPLOYMENT}/events");
    let mut figures = SenderFigures::default();
    for batch_index in 0..settings.batches() {
        let body = batch_body(settings, batch_index);
        let mut attempts = 0;
        let mut unanswered_sends = 0;
        let reply = loop {
            attempts += 1;
            figures.attempts += 1;
            progress.request_in_flight.store(true, Ordering::SeqCst);
            let request_started = Instant::now();
            let sent = client
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
                .bearer_auth(token)
                .body(body.clone())
                .send()
                .await;
            // A reply counts only when it has arrived whole.
            let answered = match sent {
                Ok(response) => {
                    let status = response.status();
                    response.bytes().await.map(|bytes| (status, bytes))
                }
                Err(error) => Err(error),
            };
            progress.request_in_flight.store(false, Ordering::SeqCst);
            match answered {
                Ok((status, bytes)) if status.is_success() => {
                    let reply: serde_json::Value =
                        serde_json::from_slice(&bytes).expect("a 2xx reply to a batch is JSON");
                    progress.acknowledged_request_micros.fetch_add(
                        u64::try_from(request_started.elapsed().as_micros())
                            .expect("a request lasts less than 500,000 years"),
                        Ordering::SeqCst,
                    );
                    break reply;
                }
                Ok((status, bytes)) if status.is_server_error() => {
                    eprintln!(
                        "batch {batch_index}: the server answered {status}: {}",
                        String::from_utf8_lossy(&bytes)
                    );
                    figures.server_errors += 1;
                    unanswered_sends += 1;
                }
                Ok((status, bytes)) => panic!(
                    "seed {}: batch {batch_index} was refused with {status}: {}",
                    settings.seed,
                    String::from_utf8_lossy(&bytes)
                ),
                Err(error) if error.is_timeout() => panic!(
                    "seed {}: batch {batch_index} had no reply within {REQUEST_TIMEOUT:?}: the server hangs",
                    settings.seed
                ),
                Err(error) if error.is_connect() => figures.refused_connections += 1,
                Err(_) => {
                    figures.interrupted_requests += 1;
                    unanswered_sends += 1;
                }
            }
            // The server is down or was killed: try again shortly.
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let field = |name: &str| {
            reply[name]
                .as_u64()
                .unwrap_or_else(|| panic!("the reply {reply} has a count {name:?}"))
        };
        let acknowledgement = Acknowledgement {
            batch_index,
            server_batch: reply["batch"]
                .as_i64()
                .unwrap_or_else(|| panic!("the reply {reply} names its batch")),
            received: field("received"),
            stored: field("stored"),
            duplicates: field("duplicates"),
            unanswered_sends,
        };
        if attempts > 1 {
            figures.resent_batches += 1;
        }
        if acknowledgement.duplicates > 0 {
            figures.acknowledged_as_already_stored += 1;
        }
        progress
            .acknowledgements
            .lock()
            .expect("no thread panicked holding the acknowledgements")
            .push(acknowledgement);
        progress.acknowledged_batches.fetch_add(1, Ordering::SeqCst);
    }
    progress.sending_finished.store(true, Ordering::SeqCst);
    figures.duration = started.elapsed();
    figures
}

/// What the killer did.
#[derive(Debug, Default)]
struct KillerFigures {
    kills_while_ingesting: usize,
    kills_with_request_in_flight: usize,
    kills_after_last_batch: usize,
    kills_during_start_up: usize,
    longest_restart: Duration,
    checks: Duration,
}

/// Kills the server `settings.cycles` times at random moments, restarts it
/// on the same database, and checks the database after every restart.
/// Returns the running server after the last cycle.
async fn kill_and_restart(
    settings: &Settings,
    launcher: &mut ServerLauncher,
    mut server: Server,
    client: &reqwest::Client,
    progress: &Progress,
) -> (Server, KillerFigures) {
    let mut random = ChaCha8Rng::seed_from_u64(settings.seed);
    let mut figures = KillerFigures::default();
    // Each kill comes after a random number of acknowledged batches, then a
    // random share of up to one and a half mean requests into what follows.
    let mut thresholds: Vec<u64> = (0..settings.cycles)
        .map(|_| random.random_range(0..settings.batches()))
        .collect();
    thresholds.sort_unstable();
    let mut last_start_up = Duration::from_millis(200);
    for (cycle, threshold) in (1..).zip(thresholds) {
        let context = format!("seed {}, cycle {cycle}", settings.seed);
        while progress.acknowledged_batches.load(Ordering::SeqCst) < threshold
            && !progress.sending_finished.load(Ordering::SeqCst)
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let mean = progress
            .mean_acknowledged_request()
            .unwrap_or(Duration::from_millis(100));
        let delay = mean.mul_f64(random.random_range(0.0..1.5));
        tokio::time::sleep(delay).await;
        let acknowledged = progress.acknowledged_batches.load(Ordering::SeqCst);
        let in_flight = progress.request_in_flight.load(Ordering::SeqCst);
        let finished = progress.sending_finished.load(Ordering::SeqCst);
        server.kill(&context).await;
        if finished {
            figures.kills_after_last_batch += 1;
        } else {
            figures.kills_while_ingesting += 1;
        }
        if in_flight {
            figures.kills_with_request_in_flight += 1;
        }
        let restart_started = Instant::now();
        let mut start_up_kills = 0;
        server = loop {
            let mut starting = launcher.start();
            if random.random_bool(START_UP_KILL_CHANCE) {
                let cut = last_start_up.mul_f64(random.random_range(0.0..1.0));
                tokio::time::sleep(cut).await;
                starting.kill(&context).await;
                start_up_kills += 1;
                continue;
            }
            let start_up = Instant::now();
            starting
                .wait_until_ready(client, launcher.port, &context)
                .await;
            last_start_up = start_up.elapsed();
            break starting;
        };
        figures.kills_during_start_up += start_up_kills;
        let restart = restart_started.elapsed();
        figures.longest_restart = figures.longest_restart.max(restart);
        let check_started = Instant::now();
        let state =
            check_database(&launcher.database, &progress.acknowledgements(), &context).await;
        figures.checks += check_started.elapsed();
        eprintln!(
            "cycle {cycle}: killed {delay:.0?} after the planned point, with {acknowledged} of {} batches acknowledged \
             ({}); kills while restarting: {start_up_kills}; ready again in {restart:.0?}; \
             the database holds {} events in {} batch records",
            settings.batches(),
            if in_flight {
                "a request in flight"
            } else if finished {
                "all batches sent"
            } else {
                "between requests"
            },
            state.events,
            state.batches.len()
        );
    }
    (server, figures)
}

/// What the database holds, as one consistent snapshot.
#[derive(Debug)]
struct DatabaseState {
    events: u64,
    /// The number of events each batch record says it stored, by batch id.
    batches: BTreeMap<i64, u64>,
}

/// Runs SQL with the `sqlite3` client (which reads a database in WAL mode
/// while the server writes) and returns its output lines.
async fn sqlite(database: &Path, sql: &str, context: &str) -> Vec<String> {
    let output = tokio::process::Command::new("sqlite3")
        .args(["-batch", "-bail", "-cmd", ".timeout 30000"])
        .arg(database)
        .arg(sql)
        .output()
        .await
        .expect("the sqlite3 client runs (installed by .ci/run)");
    assert!(
        output.status.success(),
        "{context}: sqlite3 failed on {sql:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("sqlite3 answers UTF-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn parse_number<T: std::str::FromStr>(text: &str, context: &str) -> T {
    text.parse()
        .unwrap_or_else(|_| panic!("{context}: sqlite3 answered {text:?} where a number belongs"))
}

/// Checks the database in one read transaction: every batch record counts
/// exactly the events that name it (a batch is stored whole or not at all),
/// no event names a missing batch, the day aggregates count exactly the
/// stored events, and every acknowledged batch is stored as its reply said.
async fn check_database(
    database: &Path,
    acknowledgements: &[Acknowledgement],
    context: &str,
) -> DatabaseState {
    let lines = sqlite(
        database,
        "BEGIN; \
         SELECT 'batch', id, rows_stored FROM event_batches; \
         SELECT 'events', batch_id, COUNT(*) FROM inference_events GROUP BY batch_id; \
         SELECT 'aggregated', COALESCE(SUM(json_extract(aggregate, '$.events')), 0) FROM daily_aggregates; \
         COMMIT;",
        context,
    )
    .await;
    let mut batches = BTreeMap::new();
    let mut events_by_batch = BTreeMap::new();
    let mut aggregated = None;
    for line in &lines {
        let fields: Vec<&str> = line.split('|').collect();
        match fields.as_slice() {
            ["batch", id, rows] => {
                batches.insert(parse_number(id, context), parse_number(rows, context));
            }
            ["events", id, count] => {
                events_by_batch.insert(parse_number(id, context), parse_number(count, context));
            }
            ["aggregated", count] => aggregated = Some(parse_number::<u64>(count, context)),
            _ => panic!("{context}: sqlite3 answered the unexpected line {line:?}"),
        }
    }
    let events: u64 = events_by_batch.values().sum();
    for (id, rows_stored) in &batches {
        let found = events_by_batch.get(id).copied().unwrap_or(0);
        assert_eq!(
            found, *rows_stored,
            "{context}: batch record {id} says {rows_stored} events were stored, but {found} events name it: the batch is not stored whole"
        );
    }
    for id in events_by_batch.keys() {
        assert!(
            batches.contains_key(id),
            "{context}: events name batch {id}, which has no batch record"
        );
    }
    assert_eq!(
        aggregated,
        Some(events),
        "{context}: the day aggregates count other events than the {events} stored"
    );
    let mut acknowledged_events = 0;
    for acknowledgement in acknowledgements {
        acknowledged_events += acknowledgement.received;
        assert_eq!(
            batches.get(&acknowledgement.server_batch),
            Some(&acknowledgement.stored),
            "{context}: acknowledged batch {} (server batch {}, {} events stored) is not on disk as acknowledged: \
             an acknowledged batch was lost",
            acknowledgement.batch_index,
            acknowledgement.server_batch,
            acknowledgement.stored
        );
    }
    // Acknowledged batches hold distinct events, all of which are stored
    // (by their own request or by an earlier one whose reply was lost).
    assert!(
        events >= acknowledged_events,
        "{context}: {acknowledged_events} events were acknowledged but only {events} are stored"
    );
    DatabaseState { events, batches }
}

/// The day aggregates' event count, read through the API.
async fn aggregated_events_through_api(client: &reqwest::Client, port: u16, token: &str) -> u64 {
    let response = client
        .get(format!(
            "http://127.0.0.1:{port}/api/v1/deployments/{DEPLOYMENT}/aggregates"
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("the server answers the aggregates request");
    assert!(
        response.status().is_success(),
        "the aggregates request failed with {}",
        response.status()
    );
    let bytes = response.bytes().await.expect("the aggregates arrive whole");
    let days: serde_json::Value = serde_json::from_slice(&bytes).expect("the aggregates are JSON");
    days.as_array()
        .expect("the aggregates are a list of days")
        .iter()
        .map(|day| day["events"].as_u64().expect("each day counts its events"))
        .sum()
}

/// Checks the finished run on the database of a killed server: every event
/// stored exactly once, as its keyed hash, the file intact, and every batch
/// record in the audit trail.
async fn check_final_database(
    settings: &Settings,
    database: &Path,
    key_file: &Path,
    acknowledgements: &[Acknowledgement],
    context: &str,
) -> DatabaseState {
    let state = check_database(database, acknowledgements, context).await;
    let counts = sqlite(
        database,
        "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM inference_events",
        context,
    )
    .await;
    assert_eq!(
        counts,
        vec![format!("{}|{}", settings.events, settings.events)],
        "{context}: the events stored, and the distinct event ids among them, are not exactly the {} sent",
        settings.events
    );
    // With the Trust's key the server keeps event ids as keyed hashes; the
    // same key gives the hashes every sent event must be stored under.
    let key = PseudonymKey::from_hex(
        &std::fs::read_to_string(key_file).expect("the key file can be read"),
    )
    .expect("the key file holds a key");
    let expected: HashSet<String> = (0..settings.events)
        .map(|index| {
            pseudonymise(&key, IdentifierKind::EventId, &event_id(index))
                .expect("an event id has a pseudonym")
                .into()
        })
        .collect();
    let stored: HashSet<String> = sqlite(
        database,
        &format!(
            "SELECT {} FROM inference_events",
            vigil_store_sqlite::SqliteStore::EVENT_ID_TEXT
        ),
        context,
    )
    .await
    .into_iter()
    .collect();
    let missing = expected.difference(&stored).count();
    let unexpected = stored.difference(&expected).count();
    assert!(
        missing == 0 && unexpected == 0,
        "{context}: {missing} sent events are not stored and {unexpected} stored events were never sent"
    );
    let integrity = sqlite(database, "PRAGMA integrity_check", context).await;
    assert_eq!(
        integrity,
        vec!["ok".to_owned()],
        "{context}: the integrity check failed"
    );
    let foreign_keys = sqlite(database, "PRAGMA foreign_key_check", context).await;
    assert!(
        foreign_keys.is_empty(),
        "{context}: rows refer to missing rows: {foreign_keys:?}"
    );
    let audited = sqlite(
        database,
        "SELECT (SELECT COUNT(*) FROM event_batches), \
                (SELECT COUNT(*) FROM audit_log WHERE action = 'events.ingest'), \
                (SELECT COUNT(*) FROM event_batches AS batch WHERE NOT EXISTS \
                    (SELECT 1 FROM audit_log AS entry \
                     WHERE entry.sequence = batch.audit_sequence AND entry.action = 'events.ingest'))",
        context,
    )
    .await;
    let records = state.batches.len();
    assert_eq!(
        audited,
        vec![format!("{records}|{records}|0")],
        "{context}: the batch records and their audit entries (records, entries, records without an entry) do not match"
    );
    state
}

#[test]
fn acknowledged_events_survive_sigkill_and_resent_batches_store_each_event_once() {
    let settings = Settings::from_environment();
    let directory = tempfile::Builder::new()
        .prefix("vigil-crash-")
        .tempdir()
        .expect("a temporary directory")
        .keep();
    let context = format!("seed {} (files in {})", settings.seed, directory.display());
    eprintln!(
        "crash harness: seed {} (VIGIL_CRASH_SEED), {} events in {} batches of at most {} rows, {} kills while ingesting; files in {}",
        settings.seed,
        settings.events,
        settings.batches(),
        settings.batch_rows,
        settings.cycles,
        directory.display()
    );
    let started = Instant::now();
    let database = directory.join("vigil.db");
    let key_file = directory.join("pseudonym.key");
    let token = set_up_database(&database, &key_file);
    let mut launcher = ServerLauncher {
        database: database.clone(),
        key_file: key_file.clone(),
        directory: directory.clone(),
        port: free_port(),
        starts: 0,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("an async runtime");
    let client = runtime.block_on(async {
        reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("an HTTP client")
    });
    let progress = Progress::default();
    let (sender, (server, killer), api_events) = runtime.block_on(async {
        let mut server = launcher.start();
        server
            .wait_until_ready(&client, launcher.port, &context)
            .await;
        let port = launcher.port;
        let (sender, (server, killer)) = tokio::join!(
            send_all_batches(&settings, &client, port, &token, &progress),
            kill_and_restart(&settings, &mut launcher, server, &client, &progress),
        );
        let api_events = aggregated_events_through_api(&client, port, &token).await;
        (sender, (server, killer), api_events)
    });
    assert_eq!(
        api_events, settings.events,
        "{context}: the day aggregates read through the API count {api_events} events, not the {} sent",
        settings.events
    );

    // The sender's view: every batch acknowledged once, each whole, and a
    // batch already stored only if an earlier send of it reached the server
    // and had no 2xx reply.
    let acknowledgements = progress.acknowledgements();
    assert_eq!(
        acknowledgements.len() as u64,
        settings.batches(),
        "{context}: not every batch was acknowledged"
    );
    let received: u64 = acknowledgements.iter().map(|reply| reply.received).sum();
    assert_eq!(
        received, settings.events,
        "{context}: the replies received other events than were sent"
    );
    for reply in &acknowledgements {
        assert_eq!(
            reply.stored + reply.duplicates,
            reply.received,
            "{context}: the reply to batch {} does not add up: {reply:?}",
            reply.batch_index
        );
        assert!(
            reply.duplicates == 0
                || (reply.duplicates == reply.received && reply.unanswered_sends > 0),
            "{context}: batch {} was found partly or unexpectedly stored before: {reply:?}",
            reply.batch_index
        );
    }

    // A last kill after everything was acknowledged, then the database as
    // the crash left it.
    let final_context = format!("{context}, after the final kill");
    runtime.block_on(server.kill(&final_context));
    let final_checks = Instant::now();
    let state = runtime.block_on(check_final_database(
        &settings,
        &database,
        &key_file,
        &acknowledgements,
        &final_context,
    ));
    let verified = vigil(&database, &["audit", "verify"]);
    assert!(
        verified.starts_with("ok:"),
        "{final_context}: vigil audit verify answered {verified:?}"
    );
    let final_checks = final_checks.elapsed();

    let stored_by_acknowledged: u64 = acknowledgements.iter().map(|reply| reply.stored).sum();
    eprintln!(
        "crash harness passed in {:.1?} (seed {}): {} events in {} batches of at most {} rows; \
         {} kills while ingesting ({} with a request in flight), {} after the last batch, {} more while starting, \
         and a final kill; {} server starts, the longest restart {:.0?}",
        started.elapsed(),
        settings.seed,
        settings.events,
        settings.batches(),
        settings.batch_rows,
        killer.kills_while_ingesting,
        killer.kills_with_request_in_flight,
        killer.kills_after_last_batch,
        killer.kills_during_start_up,
        launcher.starts,
        killer.longest_restart
    );
    eprintln!(
        "sender: {} requests for {} batches ({} resends): {} interrupted by a kill, {} refused while the server was down, \
         {} server errors; {} batches resent, {} of them found already stored (their first reply was lost); \
         {} events stored by their acknowledged request and {} by an earlier, unacknowledged one; \
         {} batch records in the database; sending took {:.1?}, checks after restarts {:.1?}, final checks {:.1?}",
        sender.attempts,
        settings.batches(),
        sender.attempts - settings.batches(),
        sender.interrupted_requests,
        sender.refused_connections,
        sender.server_errors,
        sender.resent_batches,
        sender.acknowledged_as_already_stored,
        stored_by_acknowledged,
        settings.events - stored_by_acknowledged,
        state.batches.len(),
        sender.duration,
        killer.checks,
        final_checks
    );
    std::fs::remove_dir_all(&directory).expect("the run's directory can be removed");
}
