//! Times the SQLite statements that store batches of events as the SQLite
//! store does (migration 0016's tables, a write transaction a batch of
//! 10,000 events, the recent keys merged every 100,000), on one connection,
//! without the server, HTTP or sqlx, so that one statement's form can be
//! compared with another's on the same SQLite.
//!
//! ```text
//! cargo run --release -- [--rows 1000000] [--insert jsonb-each|json|rows]
//!     [--probe left-join|not-exists|none] [--chunk-rows 10000]
//!     [--checkpoint-pages 10000] [--foreign-keys on|off] [--merge-at 100000]
//! ```
//!
//! `--insert jsonb-each` sends a chunk's rows as one JSON parameter whose
//! items `jsonb_each` hands over as binary JSON, as the store does; `json`
//! reads them with `json_each`, as text each parsed again by `jsonb`;
//! `rows` steps a prepared single-row insert once a row, each value bound
//! on its own. `--probe` is how an event whose id either level of keys
//! holds is skipped (`none` skips nothing). `--merge-at` is how many recent
//! keys gather before they are merged into the large levels. It prints the
//! rows stored a second and the seconds spent in the inserts and in all.

use std::time::Instant;

use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

/// The events table's columns, as the store names them.
const COLUMNS: &str = "deployment_id, event_id, batch_id, case_pseudonym, occurred_at, day, model_version, score, \
    decision, scanner_manufacturer, scanner_model, protocol, slice_thickness_mm, kvp, age_band, sex, site, content_sha256";

/// The schema the store's migrations leave for events (a deployment, the
/// events, and both levels of event and case keys).
const SCHEMA: &str = "CREATE TABLE deployments (id INTEGER PRIMARY KEY, name TEXT);
    INSERT INTO deployments VALUES (1, 'bench');
    CREATE TABLE inference_events (event_row INTEGER PRIMARY KEY,
        deployment_id INTEGER NOT NULL REFERENCES deployments (id), event_id TEXT NOT NULL,
        batch_id INTEGER NOT NULL, case_pseudonym TEXT NOT NULL, occurred_at TEXT NOT NULL, day TEXT NOT NULL,
        model_version TEXT NOT NULL, score REAL, decision INTEGER CHECK (decision IN (0, 1)),
        scanner_manufacturer TEXT, scanner_model TEXT, protocol TEXT, slice_thickness_mm REAL, kvp REAL,
        age_band TEXT, sex TEXT, site TEXT, content_sha256 TEXT NOT NULL);
    CREATE INDEX inference_events_by_batch ON inference_events (deployment_id, batch_id);
    CREATE TABLE event_keys (deployment_id INTEGER NOT NULL, event_id TEXT NOT NULL, event_row INTEGER NOT NULL,
        PRIMARY KEY (deployment_id, event_id)) WITHOUT ROWID;
    CREATE TABLE recent_event_keys (deployment_id INTEGER NOT NULL, event_id TEXT NOT NULL,
        event_row INTEGER NOT NULL, PRIMARY KEY (deployment_id, event_id)) WITHOUT ROWID;
    CREATE TABLE case_keys (deployment_id INTEGER NOT NULL, case_prefix TEXT NOT NULL, event_row INTEGER NOT NULL,
        PRIMARY KEY (deployment_id, case_prefix, event_row)) WITHOUT ROWID;
    CREATE TABLE recent_case_keys (deployment_id INTEGER NOT NULL, case_prefix TEXT NOT NULL,
        event_row INTEGER NOT NULL, PRIMARY KEY (deployment_id, case_prefix, event_row)) WITHOUT ROWID;";

/// One event as the store receives it, with its values and its JSON item.
struct EventRow {
    event_id: String,
    case: String,
    occurred_at: String,
    day: String,
    score: f64,
    decision: i64,
    sex: &'static str,
    content_sha256: String,
    item: String,
}

/// The options, with the store's choices as defaults.
struct Options {
    rows: usize,
    insert: String,
    probe: String,
    chunk_rows: usize,
    checkpoint_pages: u32,
    foreign_keys: String,
    merge_at: i64,
}

fn options() -> Options {
    let mut options = Options {
        rows: 1_000_000,
        insert: "jsonb-each".into(),
        probe: "left-join".into(),
        chunk_rows: 10_000,
        checkpoint_pages: 10_000,
        foreign_keys: "on".into(),
        merge_at: 100_000,
    };
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    for pair in arguments.chunks(2) {
        let value = pair
            .get(1)
            .unwrap_or_else(|| panic!("{} needs a value", pair[0]));
        match pair[0].as_str() {
            "--rows" => options.rows = value.parse().expect("--rows is a number"),
            "--insert" => options.insert = value.clone(),
            "--probe" => options.probe = value.clone(),
            "--chunk-rows" => options.chunk_rows = value.parse().expect("--chunk-rows is a number"),
            "--checkpoint-pages" => {
                options.checkpoint_pages = value.parse().expect("--checkpoint-pages is a number")
            }
            "--foreign-keys" => options.foreign_keys = value.clone(),
            "--merge-at" => options.merge_at = value.parse().expect("--merge-at is a number"),
            other => panic!("unknown option {other}"),
        }
    }
    options
}

/// The events of batch `batch`, as `bench/ingest.py` makes them (the case
/// identifier hashed in place of the store's keyed hash), in event-id order.
fn batch_rows(batch: usize) -> Vec<EventRow> {
    let mut rows: Vec<EventRow> = (batch * 10_000..(batch + 1) * 10_000)
        .map(|index| {
            let case = format!(
                "psn:{}",
                &hex::encode(Sha256::digest(format!("ACC{index:08}")))[..32]
            );
            let day = format!("2026-{:02}-{:02}", 1 + index % 11, 1 + index % 28);
            let occurred_at = format!("{day}T10:00:00Z");
            let score = (index * 7919 % 10_000) as f64 / 10_000.0;
            let decision = i64::from(index % 3 == 0);
            let sex = if index % 2 == 1 { "F" } else { "M" };
            let content = serde_json::json!([
                format!("e{index}"),
                case,
                occurred_at,
                day,
                "2.3.0",
                score,
                decision,
                null,
                "Ysio Max",
                null,
                null,
                125.0,
                "40-59",
                sex,
                null
            ])
            .to_string();
            let content = &content[..content.len() - 1];
            let content_sha256 = hex::encode(Sha256::digest(content.as_bytes()));
            let item = format!("{content},\"{content_sha256}\",null]");
            EventRow {
                event_id: format!("e{index}"),
                case,
                occurred_at,
                day,
                score,
                decision,
                sex,
                content_sha256,
                item,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.event_id.cmp(&b.event_id));
    rows
}

fn main() {
    let options = options();
    let folder = std::env::temp_dir().join(format!("sqlite-insert-harness-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("a scratch folder");
    let database = Connection::open(folder.join("events.db")).expect("a database");
    database
        .execute_batch(&format!(
            "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
             PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = {};
             PRAGMA journal_size_limit = 67108864; PRAGMA foreign_keys = {};",
            options.checkpoint_pages, options.foreign_keys
        ))
        .expect("the store's settings");
    database.execute_batch(SCHEMA).expect("the schema");
    let skip = match options.probe.as_str() {
        "left-join" => {
            "LEFT JOIN recent_event_keys recent ON recent.deployment_id = ?1 AND recent.event_id = keyed.event_id \
            LEFT JOIN event_keys large ON large.deployment_id = ?1 AND large.event_id = keyed.event_id \
            WHERE recent.event_id IS NULL AND large.event_id IS NULL"
        }
        "not-exists" => {
            "WHERE NOT EXISTS (SELECT 1 FROM recent_event_keys k WHERE k.deployment_id = ?1 AND k.event_id = keyed.event_id) \
            AND NOT EXISTS (SELECT 1 FROM event_keys k WHERE k.deployment_id = ?1 AND k.event_id = keyed.event_id)"
        }
        "none" => "",
        other => panic!("unknown --probe {other}"),
    };
    // The rows as binary JSON, each with its stored event id.
    let keyed = match options.insert.as_str() {
        "jsonb-each" => {
            "keyed(event_id, item) AS MATERIALIZED (SELECT coalesce(unhex(value ->> 16), value ->> 0), value \
            FROM jsonb_each(?3))"
        }
        "json" | "rows" => {
            "chunk(item) AS MATERIALIZED (SELECT jsonb(value) FROM json_each(?3)), \
            keyed(event_id, item) AS MATERIALIZED (SELECT coalesce(unhex(item ->> 16), item ->> 0), item FROM chunk)"
        }
        other => panic!("unknown --insert {other}"),
    };
    let insert_json = format!(
        "WITH {keyed} INSERT INTO inference_events ({COLUMNS}) SELECT ?1, keyed.event_id, ?2, item ->> 1, item ->> 2, \
         item ->> 3, item ->> 4, item ->> 5, item ->> 6, item ->> 7, item ->> 8, item ->> 9, item ->> 10, item ->> 11, \
         item ->> 12, item ->> 13, item ->> 14, item ->> 15 FROM keyed {skip}"
    );
    let insert_row = format!(
        "INSERT INTO inference_events ({COLUMNS}) SELECT keyed.* FROM (SELECT ?1, ?2 AS event_id, ?3, ?4, ?5, ?6, ?7, ?8, ?9, \
         ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) AS keyed {skip}"
    );
    let mut insert_seconds = 0.0;
    let mut all_seconds = 0.0;
    for batch in 0..options.rows / 10_000 {
        let rows = batch_rows(batch);
        let started = Instant::now();
        let transaction = database.unchecked_transaction().expect("a transaction");
        for chunk in rows.chunks(options.chunk_rows) {
            let (recent, last_row): (i64, i64) = transaction
                .query_row(
                    "SELECT (SELECT count(*) FROM recent_event_keys), \
                     (SELECT coalesce(max(event_row), 0) FROM inference_events)",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .expect("the recent keys");
            if recent >= options.merge_at {
                transaction
                    .execute_batch(
                        "INSERT INTO event_keys SELECT * FROM recent_event_keys; DELETE FROM recent_event_keys;
                         INSERT INTO case_keys SELECT * FROM recent_case_keys; DELETE FROM recent_case_keys;",
                    )
                    .expect("a merge");
            }
            let insert_started = Instant::now();
            let stored = if options.insert != "rows" {
                let mut items = String::from("[");
                for (index, row) in chunk.iter().enumerate() {
                    if index > 0 {
                        items.push(',');
                    }
                    items.push_str(&row.item);
                }
                items.push(']');
                let mut statement = transaction
                    .prepare_cached(&insert_json)
                    .expect("the insert");
                statement
                    .execute(params![1, batch as i64 + 1, items])
                    .expect("an insert")
            } else {
                let mut statement = transaction.prepare_cached(&insert_row).expect("the insert");
                chunk
                    .iter()
                    .map(|row| {
                        statement
                            .execute(params![
                                1,
                                row.event_id,
                                batch as i64 + 1,
                                row.case,
                                row.occurred_at,
                                row.day,
                                "2.3.0",
                                row.score,
                                row.decision,
                                None::<&str>,
                                "Ysio Max",
                                None::<&str>,
                                None::<f64>,
                                125.0,
                                "40-59",
                                row.sex,
                                None::<&str>,
                                row.content_sha256
                            ])
                            .expect("an insert")
                    })
                    .sum()
            };
            assert_eq!(stored, chunk.len(), "every event is new");
            insert_seconds += insert_started.elapsed().as_secs_f64();
            transaction
                .execute(
                    "INSERT INTO recent_event_keys (deployment_id, event_id, event_row) \
                     SELECT deployment_id, event_id, event_row FROM inference_events WHERE event_row > ?1",
                    [last_row],
                )
                .expect("the event keys");
            transaction
                .execute(
                    "INSERT INTO recent_case_keys (deployment_id, case_prefix, event_row) \
                     SELECT deployment_id, substr(case_pseudonym, 5, 8), event_row FROM inference_events WHERE event_row > ?1",
                    [last_row],
                )
                .expect("the case keys");
        }
        transaction.commit().expect("a commit");
        all_seconds += started.elapsed().as_secs_f64();
    }
    drop(database);
    std::fs::remove_dir_all(&folder).expect("the scratch folder removed");
    println!(
        "--insert {} --probe {} --chunk-rows {} --checkpoint-pages {} --foreign-keys {} --merge-at {}: {} rows, \
         {:.0} rows/s, \
         inserts {insert_seconds:.2} s of {all_seconds:.2} s",
        options.insert,
        options.probe,
        options.chunk_rows,
        options.checkpoint_pages,
        options.foreign_keys,
        options.merge_at,
        options.rows,
        options.rows as f64 / all_seconds
    );
}
