//! The SQLite backend of the store: the embedded default, one file, no
//! server.
//!
//! The database runs in WAL mode with `synchronous = FULL`, so a write whose
//! transaction committed survives a crash or power loss. Every write
//! transaction starts with `BEGIN IMMEDIATE`, taking SQLite's single write
//! lock at once: writers queue (with a busy timeout) instead of failing
//! half-way, and a decision checks the state it changes under that lock.
//!
//! Every write goes through one dedicated connection. SQLite throws a
//! connection's page cache away whenever another connection has written to
//! the file, so writes spread over a pool would each start from a cold
//! cache and read back the indexes they insert into; the one writer keeps
//! them warm. Reads use a separate pool of connections.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, SqliteConnection, Transaction};
use vigil_store::archive_tables::{ArchivedTable, ArchivedValue};
use vigil_store::decode::{EmbeddedMigrations, database_error};
use vigil_store::sql::EventRow;
use vigil_store::vigil_monitor::Event;
use vigil_store::{Store, StoreError};

/// The text of a stored event id, as SQL (see [`SqliteStore::EVENT_ID_TEXT`]).
macro_rules! event_id_text {
    () => {
        "CASE WHEN typeof(event_id) = 'blob' THEN 'psn:' || lower(hex(event_id)) ELSE event_id END"
    };
}

/// A Vigil store in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Connections for reading.
    pool: SqlitePool,
    /// The one connection that writes.
    writer: SqlitePool,
}

impl SqliteStore {
    /// The backend's name in messages and archives.
    pub const BACKEND_NAME: &'static str = "sqlite";

    /// The schema migrations, compiled into the binary.
    pub const MIGRATIONS: EmbeddedMigrations = EmbeddedMigrations(&[
        (
            1,
            "registry",
            include_str!("../migrations/0001_registry.sql"),
        ),
        (
            2,
            "access and evaluations",
            include_str!("../migrations/0002_access_and_evaluations.sql"),
        ),
        (
            3,
            "monitoring",
            include_str!("../migrations/0003_monitoring.sql"),
        ),
        (
            4,
            "outcomes",
            include_str!("../migrations/0004_outcomes.sql"),
        ),
        (
            5,
            "rules and alerts",
            include_str!("../migrations/0005_rules_and_alerts.sql"),
        ),
        (
            6,
            "dicom instances",
            include_str!("../migrations/0006_dicom_instances.sql"),
        ),
        (
            7,
            "report times",
            include_str!("../migrations/0007_report_times.sql"),
        ),
        (
            8,
            "dicom originals and the study index",
            include_str!("../migrations/0008_dicom_originals.sql"),
        ),
        (
            9,
            "success criteria",
            include_str!("../migrations/0009_success_criteria.sql"),
        ),
        (
            10,
            "hazard log",
            include_str!("../migrations/0010_hazard_log.sql"),
        ),
        (
            11,
            "safety case signatures",
            include_str!("../migrations/0011_safety_case_signatures.sql"),
        ),
        (
            12,
            "procurement assessments and attachments",
            include_str!("../migrations/0012_procurement.sql"),
        ),
        (
            13,
            "the reader of each report time",
            include_str!("../migrations/0013_report_readers.sql"),
        ),
        (
            14,
            "events found by a prefix of their case",
            include_str!("../migrations/0014_case_prefix_index.sql"),
        ),
        (
            15,
            "event ids kept as bytes",
            include_str!("../migrations/0015_event_ids_as_bytes.sql"),
        ),
        (
            16,
            "events found through key tables in two levels",
            include_str!("../migrations/0016_event_key_levels.sql"),
        ),
    ]);

    /// Writes the day aggregates of deployment `$1` given as a JSON array
    /// (`$2`) of `[day, model version, aggregate as JSON text]`, replacing
    /// those stored, in one statement (a batch touches a day for each day
    /// its events fall on); each item is handed over as binary JSON.
    pub const UPSERT_DAYS: &'static str = "INSERT INTO daily_aggregates (deployment_id, day, model_version, aggregate) \
         SELECT $1, value ->> 0, value ->> 1, value ->> 2 FROM jsonb_each($2) WHERE true \
         ON CONFLICT (deployment_id, day, model_version) DO UPDATE SET aggregate = excluded.aggregate";

    /// The id of a new event batch: one past the largest (batches are
    /// numbered under the write lock).
    pub const NEXT_EVENT_BATCH: &'static str = "SELECT COALESCE(MAX(id), 0) + 1 FROM event_batches";

    /// A stored event id as text: a pseudonym kept as its 16 bytes
    /// (migration 0015) is written out again as `psn:` and 32 lowercase
    /// hexadecimal characters.
    pub const EVENT_ID_TEXT: &'static str = event_id_text!();

    /// An event id as an archive writes it: as text.
    pub const ARCHIVED_EVENT_ID: &'static str = event_id_text!();

    /// A parameter of an import's multi-row insert: anonymous (`?`), not
    /// numbered. sqlx looks up the name of each parameter of a statement,
    /// and SQLite finds a name by searching every named parameter: with
    /// thousands numbered, binding them took 91% of an import's time.
    pub fn archive_parameter(_number: usize) -> String {
        "?".to_owned()
    }

    /// An archived event id as it is stored: a pseudonym as its 16 bytes,
    /// as the ingest stores it, any other id as its text.
    pub fn stored_event_id(text: &str) -> ArchivedValue {
        match text.strip_prefix("psn:") {
            Some(hexadecimal) if vigil_domain::is_pseudonym(text) => hex::decode(hexadecimal)
                .map(ArchivedValue::Bytes)
                .unwrap_or_else(|_| ArchivedValue::Text(text.to_owned())),
            _ => ArchivedValue::Text(text.to_owned()),
        }
    }

    /// How many events one [`SqliteStore::INSERT_EVENTS`] carries at most:
    /// a batch of 10,000 in one statement. Each chunk also costs a statement
    /// that counts the recent keys and two that add its keys, and each
    /// statement is a round trip to the connection's thread under the write
    /// lock.
    pub const EVENT_ROWS_PER_INSERT: usize = 10_000;

    /// Stores a chunk of events sent as one JSON parameter (see
    /// `vigil_store::sql::event_rows`); `->>` gives each value its SQL type.
    /// `jsonb_each` hands each row over as binary JSON (`jsonb`), which
    /// `->>` reads without parsing it again. (`json_each` hands each row
    /// back as JSON text, which had to be materialised once each as binary
    /// JSON before the values were read; `jsonb_each`, new in SQLite 3.51,
    /// took the inserts of 1,000,000 events on SQLite 3.54.1 from 3.41–3.50 s to 2.78–2.80 s
    /// in `bench/sqlite-insert-harness`.) After the row's content hash comes
    /// a seventeenth value: the event id's 32 hexadecimal characters when
    /// the id is a pseudonym (null otherwise), whose 16 bytes are stored in
    /// place of its text (migration 0015). An event whose id either level
    /// of event keys holds is skipped (migration 0016), found by joining
    /// each level on its key (an outer join that keeps the rows that found
    /// nothing; written as two `NOT EXISTS` subqueries it took 4% longer to
    /// insert 1,000,000 rows, see `bench/results-monitor.md`); the chunk's
    /// keys are added by [`SqliteStore::ADD_RECENT_EVENT_KEYS`] and
    /// [`SqliteStore::ADD_RECENT_CASE_KEYS`].
    pub const INSERT_EVENTS: &'static str = "WITH keyed(event_id, item) AS MATERIALIZED \
         (SELECT coalesce(unhex(value ->> 16), value ->> 0), value FROM jsonb_each($3)) \
         INSERT INTO inference_events (deployment_id, event_id, batch_id, case_pseudonym, \
         occurred_at, day, model_version, score, decision, scanner_manufacturer, scanner_model, protocol, slice_thickness_mm, \
         kvp, age_band, sex, site, content_sha256) \
         SELECT $1, keyed.event_id, $2, item ->> 1, item ->> 2, item ->> 3, item ->> 4, item ->> 5, item ->> 6, item ->> 7, \
         item ->> 8, item ->> 9, item ->> 10, item ->> 11, item ->> 12, item ->> 13, item ->> 14, item ->> 15 \
         FROM keyed LEFT JOIN recent_event_keys recent ON recent.deployment_id = $1 AND recent.event_id = keyed.event_id \
         LEFT JOIN event_keys large ON large.deployment_id = $1 AND large.event_id = keyed.event_id \
         WHERE recent.event_id IS NULL AND large.event_id IS NULL";

    /// Adds the event ids of the rows stored after row `$1` to the recent
    /// level of event keys.
    pub const ADD_RECENT_EVENT_KEYS: &'static str = "INSERT INTO recent_event_keys (deployment_id, event_id, event_row) \
         SELECT deployment_id, event_id, event_row FROM inference_events WHERE event_row > $1";

    /// Adds the case prefixes of the rows stored after row `$1` to the
    /// recent level of case keys.
    pub const ADD_RECENT_CASE_KEYS: &'static str = "INSERT INTO recent_case_keys (deployment_id, case_prefix, event_row) \
         SELECT deployment_id, substr(case_pseudonym, 5, 8), event_row FROM inference_events WHERE event_row > $1";

    /// How many keys the recent levels may gather before they are merged
    /// into the large ones. Merging every 50,000, 100,000, 200,000 and
    /// 400,000 rows measured 99,379, 100,122, 96,710 and 92,397 rows/s over
    /// 1,000,000 rows in `bench/sqlite_events_model.py --index
    /// levels-explicit`.
    pub const RECENT_KEYS_BEFORE_MERGE: i64 = 100_000;

    /// The number of recent event keys and the last event row stored.
    pub const RECENT_KEYS_AND_LAST_ROW: &'static str = "SELECT (SELECT count(*) FROM recent_event_keys), \
         (SELECT coalesce(max(event_row), 0) FROM inference_events)";

    /// Merges the recent levels of keys into the large ones, in key order
    /// (a `WITHOUT ROWID` table is read in its key's order), and empties
    /// them.
    pub const MERGE_RECENT_KEYS: [&'static str; 4] = [
        "INSERT INTO event_keys (deployment_id, event_id, event_row) \
         SELECT deployment_id, event_id, event_row FROM recent_event_keys",
        "DELETE FROM recent_event_keys",
        "INSERT INTO case_keys (deployment_id, case_prefix, event_row) \
         SELECT deployment_id, case_prefix, event_row FROM recent_case_keys",
        "DELETE FROM recent_case_keys",
    ];

    /// The counts of [`SqliteStore::event_key_ledger`]: the events; the
    /// event keys of both levels, those naming their event's row,
    /// deployment and id, and those held by both levels; the same for the
    /// case keys and their events' case prefixes.
    pub const EVENT_KEY_LEDGER: &'static str = "SELECT (SELECT count(*) FROM inference_events), \
         (SELECT count(*) FROM event_keys) + (SELECT count(*) FROM recent_event_keys), \
         (SELECT count(*) FROM event_keys k CROSS JOIN inference_events e ON e.event_row = k.event_row \
          WHERE e.deployment_id = k.deployment_id AND e.event_id = k.event_id) \
         + (SELECT count(*) FROM recent_event_keys k CROSS JOIN inference_events e ON e.event_row = k.event_row \
          WHERE e.deployment_id = k.deployment_id AND e.event_id = k.event_id), \
         (SELECT count(*) FROM recent_event_keys r CROSS JOIN event_keys l \
          ON l.deployment_id = r.deployment_id AND l.event_id = r.event_id), \
         (SELECT count(*) FROM case_keys) + (SELECT count(*) FROM recent_case_keys), \
         (SELECT count(*) FROM case_keys k CROSS JOIN inference_events e ON e.event_row = k.event_row \
          WHERE e.deployment_id = k.deployment_id AND substr(e.case_pseudonym, 5, 8) = k.case_prefix) \
         + (SELECT count(*) FROM recent_case_keys k CROSS JOIN inference_events e ON e.event_row = k.event_row \
          WHERE e.deployment_id = k.deployment_id AND substr(e.case_pseudonym, 5, 8) = k.case_prefix), \
         (SELECT count(*) FROM recent_case_keys r CROSS JOIN case_keys l \
          ON l.deployment_id = r.deployment_id AND l.case_prefix = r.case_prefix AND l.event_row = r.event_row)";

    /// The keys of every stored event, made from the events after an
    /// import (which stores the events alone, into an empty database), in
    /// key order: an archive holding an event id twice for a deployment is
    /// refused here.
    pub const KEYS_OF_IMPORTED_EVENTS: [&'static str; 2] = [
        "INSERT INTO event_keys (deployment_id, event_id, event_row) \
         SELECT deployment_id, event_id, event_row FROM inference_events ORDER BY deployment_id, event_id",
        "INSERT INTO case_keys (deployment_id, case_prefix, event_row) \
         SELECT deployment_id, substr(case_pseudonym, 5, 8), event_row FROM inference_events ORDER BY 1, 2, 3",
    ];

    /// Stores outcomes for deployment `$1` and batch `$2` from a JSON array
    /// (`$3`) of `[case, source, label, recorded_at, reader_agrees,
    /// content_sha256]` (see `vigil_store::sql::outcome_insert_rows`), each
    /// row handed over as binary JSON as in [`SqliteStore::INSERT_EVENTS`].
    pub const INSERT_OUTCOMES: &'static str = "INSERT INTO outcomes (deployment_id, case_pseudonym, source, label, recorded_at, \
         reader_agrees, batch_id, content_sha256) \
         SELECT $1, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, $2, value ->> 5 FROM jsonb_each($3)";

    /// A stored score as text that reads back as the same number: 17
    /// significant digits (the `!` flag lifts SQLite's default limit of 16,
    /// which would print 0.30000000000000004 as 0.3).
    pub const EXACT_SCORE_TEXT: &'static str =
        "CASE WHEN score IS NULL THEN NULL ELSE printf('%!.17g', score) END";

    /// The events of the cases named in a JSON array (`$2`) of deployment
    /// `$1`, as one JSON array of `[case, day, model_version, score,
    /// decision]` (one row, rather than a row an event crossing from the
    /// database's thread), the score as [`SqliteStore::EXACT_SCORE_TEXT`].
    /// The cases are looked up by their pseudonyms' prefix in both levels of
    /// case keys (migration 0016), then matched whole.
    pub const CASE_EVENTS_JSON: &'static str = "WITH prefixes(case_prefix) AS MATERIALIZED \
         (SELECT DISTINCT substr(value, 5, 8) FROM json_each($2)) \
         SELECT json_group_array(json_array(case_pseudonym, day, model_version, \
         CASE WHEN score IS NULL THEN NULL ELSE printf('%!.17g', score) END, decision)) FROM inference_events \
         WHERE event_row IN (SELECT event_row FROM case_keys WHERE deployment_id = $1 AND case_prefix IN prefixes \
         UNION ALL SELECT event_row FROM recent_case_keys WHERE deployment_id = $1 AND case_prefix IN prefixes) \
         AND case_pseudonym IN (SELECT value FROM json_each($2))";

    /// The stored content hashes and batches of the events named in a JSON
    /// array (`$2`) of a deployment (`$1`), their ids as text
    /// ([`SqliteStore::EVENT_ID_TEXT`]), found through both levels of event
    /// keys; a named id that is a pseudonym is looked up as its bytes.
    pub const STORED_EVENT_HASHES: &'static str = concat!(
        "WITH named(event_id) AS MATERIALIZED (SELECT CASE WHEN length(value) = 36 AND substr(value, 1, 4) = 'psn:' \
         AND substr(value, 5) = lower(substr(value, 5)) THEN coalesce(unhex(substr(value, 5)), value) ELSE value END \
         FROM json_each($2)) SELECT ",
        event_id_text!(),
        " AS event_id, content_sha256, batch_id FROM inference_events \
         WHERE event_row IN (SELECT event_row FROM event_keys WHERE deployment_id = $1 AND event_id IN named \
         UNION ALL SELECT event_row FROM recent_event_keys WHERE deployment_id = $1 AND event_id IN named)"
    );

    /// The texts of a JSON array parameter (`$2`), as a subquery.
    pub const JSON_TEXTS: &'static str = "SELECT value FROM json_each($2)";

    /// Opens (creating if needed) the database file and applies pending
    /// migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        // 64 MiB of page cache per connection (the default is 2 MiB): the
        // event index takes inserts at random places (event ids are keyed
        // hashes), so it should stay in memory.
        let options = Self::file_options(path, 64)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        Self::connect(options).await
    }

    /// Creates a new database file for a bulk load that may be thrown away
    /// if it fails, such as seeding the demonstration: the rollback journal
    /// is kept in memory and nothing waits for the disk (`journal_mode =
    /// MEMORY`, `synchronous = OFF`), so a crash can corrupt the file. Close it
    /// and reopen it with [`SqliteStore::open`] before serving from it. The
    /// page cache may grow to 256 MiB (1 GiB measured no faster for the
    /// demonstration and held 1.3 GB). A file already at `path` is refused.
    pub async fn create_for_bulk_load(path: &Path) -> Result<Self, StoreError> {
        if path.exists() {
            return Err(StoreError::Conflict(format!(
                "{} already exists; a bulk load starts from a new file",
                path.display()
            )));
        }
        let options = Self::file_options(path, 256)
            .journal_mode(SqliteJournalMode::Memory)
            .synchronous(SqliteSynchronous::Off);
        Self::connect(options).await
    }

    /// The options every database file is opened with: created if missing,
    /// foreign keys on, a 30-second wait for the write lock, and a page
    /// cache of `cache_mebibytes` per connection.
    ///
    /// A new file is made of 16 KiB pages (SQLite's default is 4 KiB; a
    /// file's page size is fixed when its first table is created, so one
    /// made before keeps its own). Each batch of events inserts at random
    /// places in the event and case indexes and so changes nearly every
    /// leaf of them: with pages four times larger there are a quarter as
    /// many to find, change, checksum and log for the same bytes. Measured
    /// side by side: ingest over HTTP of 300,000 events from about 46,500
    /// to 55,000 events/s, and the demonstration's seeding from 74 s to
    /// 63 s (bench/results-monitor.md).
    ///
    /// The WAL is copied back into the database every 10,000 pages (160
    /// MiB of 16 KiB pages; SQLite's default is 1,000): a batch of events
    /// changes thousands of index pages, so the default checkpointed after
    /// almost every batch, writing and syncing pages the next batch would
    /// change again. After a checkpoint the WAL file is cut back to 64 MiB.
    /// With the writer's statement journals in memory
    /// ([`SqliteStore::connect`]): ingest over HTTP from 46,000 to 55,000
    /// events/s in one measurement (bench/results-monitor.md).
    fn file_options(path: &Path, cache_mebibytes: u32) -> SqliteConnectOptions {
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            .page_size(16384)
            .pragma("cache_size", format!("-{}", cache_mebibytes * 1024))
            .pragma("wal_autocheckpoint", "10000")
            .pragma("journal_size_limit", (64 << 20).to_string())
    }

    /// Opens an existing database file; a missing file is an error rather
    /// than a new, empty database (a mistyped path must not look like an
    /// empty, intact audit trail).
    pub async fn open_existing(path: &Path) -> Result<Self, StoreError> {
        if !path.is_file() {
            return Err(StoreError::NotFound {
                what: "Vigil database",
                id: format!(
                    "{} (create one with `vigil init`, or pass --db)",
                    path.display()
                ),
            });
        }
        Self::open(path).await
    }

    /// Opens (creating if needed) a database from a `sqlite://` URL or a
    /// plain path.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        Self::open(Self::path_of(url)).await
    }

    /// The file path of a `sqlite://` URL or a plain path.
    pub fn path_of(url: &str) -> &Path {
        Path::new(
            url.strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url),
        )
    }

    /// Opens the writing connection and the pool of reading ones.
    ///
    /// The writer keeps its temporary files in memory (`temp_store =
    /// MEMORY`): a statement of a multi-statement write transaction that may
    /// fail half-way (an insert of thousands of events, under CHECK and NOT
    /// NULL constraints) copies each page it changes a second time into its
    /// statement journal, which otherwise spills to a temporary file past
    /// 64 KiB; such a journal holds at most what one statement changed. The
    /// readers keep the default, so that a large sort (grouping a
    /// deployment's events by case) spills to disk rather than to memory.
    async fn connect(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone().pragma("temp_store", "memory"))
            .await
            .map_err(database_error)?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(database_error)?;
        let store = SqliteStore { pool, writer };
        store.migrate().await?;
        Ok(store)
    }

    /// The underlying pool of reading connections, for tests that tamper
    /// with the file.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The pool of the one writing connection.
    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// Runs `work` in a write transaction that holds SQLite's write lock
    /// from its first statement.
    async fn write<T>(
        &self,
        work: impl for<'c> AsyncFnOnce(&'c mut SqliteConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut transaction = begin_in_task(&self.writer, Some("BEGIN IMMEDIATE")).await?;
        let value = work(&mut transaction).await?;
        transaction.commit().await.map_err(database_error)?;
        Ok(value)
    }

    /// Runs `start`, then `rest` with what `start` answered, in one write
    /// transaction. SQLite has one writer, so both hold the write lock.
    async fn write_with_unlocked_start<S, T>(
        &self,
        start: impl for<'c> AsyncFnOnce(&'c mut SqliteConnection) -> Result<S, StoreError>,
        rest: impl for<'c> AsyncFnOnce(&'c mut SqliteConnection, S) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.write(async |connection| {
            let started = start(connection).await?;
            rest(connection, started).await
        })
        .await
    }

    /// A read transaction: SQLite transactions see one consistent snapshot.
    async fn snapshot(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        begin_in_task(&self.pool, None).await
    }

    /// The statement that reads a table's rows for an export: the plain
    /// one, except for the events, which have no index by event id (migration
    /// 0016). They are read through the two levels of event keys, each in
    /// its key's order, merged (`MERGE (UNION ALL)` in the query plan, no
    /// sorting), so that they come in the table's `order_by` (deployment,
    /// event id) as before; the key columns close each row.
    pub fn archive_rows_query(table: &ArchivedTable, columns: &str) -> String {
        if table.name != "inference_events" {
            return vigil_store::archive_tables::rows_query(table, columns);
        }
        let level = |keys: &str| {
            format!(
                "SELECT {columns}, key_deployment, key_event FROM (SELECT deployment_id AS key_deployment, \
                 event_id AS key_event, event_row AS key_row FROM {keys}) CROSS JOIN inference_events ON event_row = key_row"
            )
        };
        format!(
            "{} UNION ALL {} ORDER BY key_deployment, key_event",
            level("event_keys"),
            level("recent_event_keys")
        )
    }

    /// How the key tables match the events, in the caller's snapshot (see
    /// `vigil_store::consistency::EventKeyLedger`): each kind of key is
    /// counted, joined on its event's row (the table's rowid) and counted
    /// again where it names the event's deployment and id or case prefix,
    /// and the keys held by both levels are counted through the large
    /// level's primary key: one pass over each table of keys, each key
    /// looking up its event by row. It took `vigil audit verify` of the
    /// demonstration's 2,060,028 events from 0.53 s to 2.9–3.2 s; driven
    /// from the events instead (each looking up its keys) it took twice as
    /// long in SQLite's shell.
    async fn event_key_ledger(
        connection: &mut SqliteConnection,
    ) -> Result<Option<vigil_store::consistency::EventKeyLedger>, StoreError> {
        let counts: (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(Self::EVENT_KEY_LEDGER)
            .fetch_one(&mut *connection)
            .await
            .map_err(database_error)?;
        let count = |value: i64| {
            u64::try_from(value).map_err(|error| StoreError::corrupt("event key count", error))
        };
        Ok(Some(vigil_store::consistency::EventKeyLedger {
            events: count(counts.0)?,
            event_keys: count(counts.1)?,
            event_keys_matching: count(counts.2)?,
            event_keys_in_both_levels: count(counts.3)?,
            case_keys: count(counts.4)?,
            case_keys_matching: count(counts.5)?,
            case_keys_in_both_levels: count(counts.6)?,
        }))
    }

    /// The imported events' keys are made (see
    /// [`SqliteStore::KEYS_OF_IMPORTED_EVENTS`]); an event id held twice
    /// refuses the import, as PostgreSQL's primary key refuses its row.
    /// SQLite's rowids continue from the largest id present.
    async fn after_import(connection: &mut SqliteConnection) -> Result<(), StoreError> {
        for statement in Self::KEYS_OF_IMPORTED_EVENTS {
            sqlx::query(statement)
                .execute(&mut *connection)
                .await
                .map_err(|error| {
                    StoreError::ImportRefused(format!(
                        "the rows of table \"inference_events\" were refused: \
                         they hold an event id twice for one deployment ({error})"
                    ))
                })?;
        }
        Ok(())
    }

    /// Stores a chunk of a batch's events with [`SqliteStore::INSERT_EVENTS`],
    /// given as its one JSON parameter (`items`, made by
    /// [`SqliteStore::event_insert_parameters`] before the write lock), adds
    /// their keys to the recent levels, and answers how many it stored
    /// (those stored before are skipped). Recent keys that have reached
    /// [`SqliteStore::RECENT_KEYS_BEFORE_MERGE`] are first merged into the
    /// large levels, inside the batch's transaction. Each value bound as a
    /// parameter of a multi-row `VALUES` instead was measured no faster
    /// (`bench/results-monitor.md`).
    async fn insert_event_chunk(
        connection: &mut SqliteConnection,
        deployment: i64,
        batch: i64,
        items: String,
    ) -> Result<u64, StoreError> {
        Self::insert_event_chunk_merging_at(
            connection,
            deployment,
            batch,
            items,
            Self::RECENT_KEYS_BEFORE_MERGE,
        )
        .await
    }

    /// [`SqliteStore::insert_event_chunk`], merging the recent keys once
    /// `merge_at` have gathered.
    async fn insert_event_chunk_merging_at(
        connection: &mut SqliteConnection,
        deployment: i64,
        batch: i64,
        items: String,
        merge_at: i64,
    ) -> Result<u64, StoreError> {
        let (recent_keys, last_row): (i64, i64) = sqlx::query_as(Self::RECENT_KEYS_AND_LAST_ROW)
            .fetch_one(&mut *connection)
            .await
            .map_err(database_error)?;
        if recent_keys >= merge_at {
            for statement in Self::MERGE_RECENT_KEYS {
                sqlx::query(statement)
                    .execute(&mut *connection)
                    .await
                    .map_err(database_error)?;
            }
        }
        let inserted = sqlx::query(Self::INSERT_EVENTS)
            .bind(deployment)
            .bind(batch)
            .bind(items)
            .execute(&mut *connection)
            .await
            .map_err(database_error)?
            .rows_affected();
        if inserted > 0 {
            for statement in [Self::ADD_RECENT_EVENT_KEYS, Self::ADD_RECENT_CASE_KEYS] {
                sqlx::query(statement)
                    .bind(last_row)
                    .execute(&mut *connection)
                    .await
                    .map_err(database_error)?;
            }
        }
        Ok(inserted)
    }
}

/// Begins a transaction on a connection of `pool` (with `statement`, or a
/// plain `BEGIN`) in a task of its own, which finishes even if the caller
/// is cancelled meanwhile (its request dropped).
///
/// sqlx's SQLite driver counts a transaction as begun once the worker
/// thread has run `BEGIN`, but makes the `Transaction` that would roll it
/// back only when the caller next runs: a caller cancelled in between
/// returned its connection to the pool inside a transaction nobody owned.
/// A writing connection left so refused every later write (sqlx will not
/// `BEGIN` on a connection it counts as in a transaction) until the pool
/// retired it, after at most 30 minutes, and a reading one kept its old
/// snapshot and held back checkpoints meanwhile.
/// Begun in a task, the `Transaction` is always made; if nobody awaits it,
/// dropping it rolls the transaction back before the connection's next use.
async fn begin_in_task(
    pool: &SqlitePool,
    statement: Option<&'static str>,
) -> Result<Transaction<'static, Sqlite>, StoreError> {
    let pool = pool.clone();
    tokio::spawn(async move {
        match statement {
            Some(statement) => pool.begin_with(statement).await,
            None => pool.begin().await,
        }
    })
    .await
    .map_err(|error| StoreError::Database(Box::new(error)))?
    .map_err(database_error)
}

impl vigil_store::sql::EventInsertParameters for SqliteStore {
    /// The JSON array that [`SqliteStore::INSERT_EVENTS`] reads, an item a
    /// row: its content, its content's hash, and its event id's hexadecimal
    /// characters when the id is a pseudonym (null otherwise).
    type Parameters<'a> = String;

    fn event_insert_parameters<'a>(events: &'a [Event], rows: &'a [EventRow]) -> String {
        let mut items = String::with_capacity(rows.iter().map(|row| row.content.len() + 108).sum());
        items.push('[');
        for (index, row) in rows.iter().enumerate() {
            if index > 0 {
                items.push(',');
            }
            items.push_str(&row.content);
            items.push_str(",\"");
            items.push_str(&row.content_sha256);
            let event_id = events[row.position].event_id.as_str();
            match event_id.strip_prefix("psn:") {
                Some(hex) if vigil_domain::is_pseudonym(event_id) => {
                    items.push_str("\",\"");
                    items.push_str(hex);
                    items.push_str("\"]");
                }
                _ => items.push_str("\",null]"),
            }
        }
        items.push(']');
        items
    }
}

vigil_store::impl_sql_store!(SqliteStore, Sqlite);

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use vigil_store::sql::EventInsertParameters as _;

    use super::*;

    /// Event ids stored as text before migration 0015 are kept as the 16
    /// bytes of their pseudonyms after it (any other id stays text), are
    /// found again by their text, and an event sent again is still taken
    /// for one stored before; events still cannot be edited.
    #[tokio::test]
    async fn event_ids_stored_as_text_are_kept_as_bytes_after_the_migration() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = directory.path().join("before-0015.db");
        let pseudonym = "psn:0123456789abcdef0123456789abcdef";
        let uppercase = "psn:0123456789ABCDEF0123456789ABCDEF";
        let raw = "ACC-77";
        // Without foreign keys: the deployment needs no product or site.
        let options = SqliteStore::file_options(&path, 2).foreign_keys(false);
        let before = SqlitePool::connect_with(options.clone())
            .await
            .expect("a new database");
        let up_to_14 = EmbeddedMigrations(&SqliteStore::MIGRATIONS.0[..14]);
        vigil_store::decode::migrator(up_to_14)
            .await
            .expect("the migrations up to 14")
            .run(&before)
            .await
            .expect("the schema as version 14 left it");
        // The deployment alone (its own references unchecked): migration
        // 0016 copies the events into a table that checks theirs.
        sqlx::query(
            "INSERT INTO deployments (id, product_id, version_id, site, owning_team, thresholds, change_control, state, \
             revision, created_at) VALUES (1, 1, 1, 'RX1', 'imaging', '{}', '{}', 'shadow', 1, '2026-11-30T09:00:00Z')",
        )
        .execute(&before)
        .await
        .expect("a deployment stored as version 14 stored it");
        for (event_id, hash) in [(pseudonym, "h1"), (uppercase, "h2"), (raw, "h3")] {
            sqlx::query(
                "INSERT INTO inference_events (deployment_id, event_id, batch_id, case_pseudonym, occurred_at, day, \
                 model_version, content_sha256) VALUES (1, $1, 1, $2, '2026-11-30T10:00:00.000000Z', '2026-11-30', '2', $3)",
            )
            .bind(event_id)
            .bind(pseudonym)
            .bind(hash)
            .execute(&before)
            .await
            .expect("an event stored as version 14 stored it");
        }
        before.close().await;

        SqliteStore::open(&path)
            .await
            .expect("the store opens and migrates")
            .close()
            .await;
        let after = SqlitePool::connect_with(options)
            .await
            .expect("the migrated database");
        let stored: Vec<(String, String)> = sqlx::query_as(
            "SELECT typeof(event_id), content_sha256 FROM inference_events ORDER BY content_sha256",
        )
        .fetch_all(&after)
        .await
        .expect("the events are read");
        assert_eq!(
            stored,
            [("blob", "h1"), ("text", "h2"), ("text", "h3")]
                .map(|(kind, hash)| (kind.to_owned(), hash.to_owned()))
        );
        let found: Vec<(String, String, i64)> = sqlx::query_as(SqliteStore::STORED_EVENT_HASHES)
            .bind(1_i64)
            .bind(
                serde_json::json!([
                    pseudonym,
                    uppercase,
                    raw,
                    "psn:ffffffffffffffffffffffffffffffff"
                ])
                .to_string(),
            )
            .fetch_all(&after)
            .await
            .expect("the events are looked up by their ids");
        let mut found: Vec<(String, String)> = found
            .into_iter()
            .map(|(event_id, hash, _)| (event_id, hash))
            .collect();
        found.sort();
        assert_eq!(
            found,
            [(raw, "h3"), (uppercase, "h2"), (pseudonym, "h1")]
                .map(|(event_id, hash)| (event_id.to_owned(), hash.to_owned()))
        );
        let resent = serde_json::json!([[
            pseudonym,
            pseudonym,
            "2026-11-30T10:00:00.000000Z",
            "2026-11-30",
            "2",
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            "h1",
            &pseudonym[4..]
        ]]);
        let inserted = sqlx::query(SqliteStore::INSERT_EVENTS)
            .bind(1_i64)
            .bind(2_i64)
            .bind(resent.to_string())
            .execute(&after)
            .await
            .expect("the resent event is stored or skipped")
            .rows_affected();
        assert_eq!(inserted, 0, "the event sent again is the one stored before");
        let edited = sqlx::query("UPDATE inference_events SET content_sha256 = 'x'")
            .execute(&after)
            .await
            .expect_err("events are never edited");
        assert!(edited.to_string().contains("never edited"), "{edited}");
    }

    /// The events of a test of key levels: pseudonym ids `psn:` and 32 times
    /// the digit named, each a case of its own (the same digit).
    fn events_numbered(digits: &[char]) -> Vec<Event> {
        digits
            .iter()
            .map(|digit| {
                let pseudonym = format!("psn:{}", digit.to_string().repeat(32));
                Event {
                    event_id: pseudonym.clone(),
                    case: vigil_domain::Pseudonym::parse(&pseudonym).expect("a pseudonym"),
                    occurred_at: "2026-11-30T09:15:00Z".parse().expect("a time"),
                    model_version: "2.3.0".to_owned(),
                    score: Some(0.25),
                    decision: Some(false),
                    metadata: vigil_store::vigil_monitor::Metadata::default(),
                }
            })
            .collect()
    }

    /// A database holding five events of deployment 1 ("c", "d" and "e"
    /// keyed in the large levels, "a" and "b" in the recent ones), stored in
    /// three chunks that merge the recent keys once two have gathered (the
    /// second chunk finds three and merges them); without foreign keys, so
    /// that the events need no deployment. Answers
    /// the folder (kept while the pool is used), the pool and how many
    /// events each chunk stored.
    async fn events_in_both_levels() -> (tempfile::TempDir, SqlitePool, Vec<u64>) {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = directory.path().join("levels.db");
        SqliteStore::open(&path)
            .await
            .expect("a new store")
            .close()
            .await;
        let pool =
            SqlitePool::connect_with(SqliteStore::file_options(&path, 2).foreign_keys(false))
                .await
                .expect("the database");
        let mut connection = pool.acquire().await.expect("a connection");
        let mut stored_by_batch = Vec::new();
        for (batch, digits) in [
            (1, &['c', 'd', 'e'][..]),
            (2, &['c', 'a']),
            (3, &['a', 'b']),
        ] {
            let events = events_numbered(digits);
            let rows = vigil_store::sql::event_rows(&events);
            let stored = SqliteStore::insert_event_chunk_merging_at(
                &mut connection,
                1,
                batch,
                SqliteStore::event_insert_parameters(&events, &rows),
                2,
            )
            .await
            .expect("the chunk is stored");
            stored_by_batch.push(stored);
        }
        drop(connection);
        (directory, pool, stored_by_batch)
    }

    /// Keys gather in the recent levels and are merged into the large ones
    /// when a chunk finds enough of them; an event is found, and skipped
    /// when sent again, in either level; a merge refuses an id the large
    /// level holds; keys are never edited or deleted from the large levels.
    #[tokio::test]
    async fn events_are_found_through_either_level_of_keys() {
        let (_directory, pool, stored_by_batch) = events_in_both_levels().await;
        // Batch 2 found three recent keys and merged them first, so its
        // "c" was skipped through the large level; batch 3 found one and
        // did not, so its "a" was skipped through the recent level.
        assert_eq!(stored_by_batch, [3, 1, 1]);
        let count = async |table: &str| -> i64 {
            sqlx::query_scalar(::sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM {table}"
            )))
            .fetch_one(&pool)
            .await
            .expect("a count")
        };
        let levels = [
            count("event_keys").await,
            count("recent_event_keys").await,
            count("case_keys").await,
            count("recent_case_keys").await,
            count("inference_events").await,
        ];
        assert_eq!(levels, [3, 2, 3, 2, 5]);

        let named = |digits: &[char]| {
            serde_json::Value::from(
                digits
                    .iter()
                    .map(|digit| format!("psn:{}", digit.to_string().repeat(32)))
                    .collect::<Vec<_>>(),
            )
            .to_string()
        };
        let mut found: Vec<(String, String, i64)> =
            sqlx::query_as(SqliteStore::STORED_EVENT_HASHES)
                .bind(1_i64)
                .bind(named(&['c', 'a', 'b', 'f']))
                .fetch_all(&pool)
                .await
                .expect("the events are looked up by their ids");
        found.sort();
        let found: Vec<(String, i64)> = found
            .into_iter()
            .map(|(event_id, _, batch)| (event_id[4..5].to_owned(), batch))
            .collect();
        assert_eq!(
            found,
            [
                ("a".to_owned(), 2),
                ("b".to_owned(), 3),
                ("c".to_owned(), 1)
            ]
        );
        let cases: String = sqlx::query_scalar(SqliteStore::CASE_EVENTS_JSON)
            .bind(1_i64)
            .bind(named(&['d', 'b', 'f']))
            .fetch_one(&pool)
            .await
            .expect("the events of cases");
        let cases: Vec<(String, String)> = serde_json::from_str::<Vec<serde_json::Value>>(&cases)
            .expect("a JSON array")
            .iter()
            .map(|event| {
                (
                    event[0].as_str().expect("a case")[4..5].to_owned(),
                    event[3].as_str().expect("a score").to_owned(),
                )
            })
            .collect();
        assert_eq!(
            cases,
            [
                ("d".to_owned(), "0.25".to_owned()),
                ("b".to_owned(), "0.25".to_owned())
            ]
        );

        // An export reads the events through both levels, merged in key
        // order (not the order stored), without sorting them.
        let table = vigil_store::archive_tables::ARCHIVED_TABLES
            .iter()
            .find(|table| table.name == "inference_events")
            .expect("the events are archived");
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|(name, kind)| match kind {
                vigil_store::archive_tables::ColumnKind::EventId => {
                    format!("{} AS {name}", SqliteStore::ARCHIVED_EVENT_ID)
                }
                _ => (*name).to_owned(),
            })
            .collect();
        let export = SqliteStore::archive_rows_query(table, &columns.join(", "));
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(::sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {export}"
        )))
        .fetch_all(&pool)
        .await
        .expect("the export's plan");
        let plan: Vec<&str> = plan
            .iter()
            .map(|(_, _, _, detail)| detail.as_str())
            .collect();
        assert!(plan.contains(&"MERGE (UNION ALL)"), "{plan:?}");
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE")),
            "{plan:?}"
        );
        let exported: Vec<String> = sqlx::query(::sqlx::AssertSqlSafe(export.as_str()))
            .fetch_all(&pool)
            .await
            .expect("the exported events")
            .iter()
            .map(|row| sqlx::Row::get::<String, _>(row, 1)[4..5].to_owned())
            .collect();
        assert_eq!(exported, ["a", "b", "c", "d", "e"]);

        sqlx::query("INSERT INTO recent_event_keys (deployment_id, event_id, event_row) VALUES (1, unhex(?1), 99)")
            .bind("c".repeat(32))
            .execute(&pool)
            .await
            .expect("a planted key");
        let merge = sqlx::query(SqliteStore::MERGE_RECENT_KEYS[0])
            .execute(&pool)
            .await
            .expect_err("an id the large level holds is refused");
        assert!(
            merge
                .to_string()
                .contains("UNIQUE constraint failed: event_keys"),
            "{merge}"
        );
        for (statement, refusal) in [
            ("DELETE FROM event_keys", "event keys are never deleted"),
            (
                "UPDATE case_keys SET event_row = 0",
                "case keys are never edited",
            ),
        ] {
            let error = sqlx::query(statement)
                .execute(&pool)
                .await
                .expect_err(statement);
            assert!(error.to_string().contains(refusal), "{statement}: {error}");
        }
    }

    /// Writes and reads cancelled at every moment (their requests dropped)
    /// leave no transaction open behind them: the next write commits and
    /// the next read sees it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancelled_writes_and_reads_leave_no_transaction_open() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(&directory.path().join("cancel.db"))
            .await
            .expect("the store opens");
        sqlx::query("CREATE TABLE cancel_probe (n INTEGER NOT NULL)")
            .execute(store.writer())
            .await
            .expect("the probe table is created");
        for attempt in 0..400u64 {
            let cancelled = Duration::from_micros(attempt % 200);
            let _ = tokio::time::timeout(
                cancelled,
                store.write(async |connection| {
                    sqlx::query("INSERT INTO cancel_probe (n) VALUES (-1)")
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)
                }),
            )
            .await;
            let _ = tokio::time::timeout(cancelled, store.snapshot()).await;
            let stored = store
                .write(async |connection| {
                    sqlx::query("INSERT INTO cancel_probe (n) VALUES ($1)")
                        .bind(attempt as i64)
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)
                })
                .await;
            assert!(stored.is_ok(), "attempt {attempt}: {stored:?}");
            let mut snapshot = store.snapshot().await.expect("a snapshot begins");
            let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cancel_probe WHERE n = $1")
                .bind(attempt as i64)
                .fetch_one(&mut *snapshot)
                .await
                .expect("the probe is read");
            assert_eq!(
                seen, 1,
                "attempt {attempt}: the write just committed is seen"
            );
        }
    }

    /// Verification counts the key tables against the events: intact keys
    /// agree; a key deleted, planted in both levels or pointed at another
    /// event, an event's case key lost, or an event stored without keys is a
    /// divergence that gives the counts. Each change is rolled back before
    /// the next.
    #[tokio::test]
    async fn verification_finds_event_keys_that_do_not_match_the_events() {
        use vigil_store::consistency::{EventKeyLedger, MonitoringLedger, check_monitoring};
        let (_directory, pool, _) = events_in_both_levels().await;
        let intact = EventKeyLedger {
            events: 5,
            event_keys: 5,
            event_keys_matching: 5,
            event_keys_in_both_levels: 0,
            case_keys: 5,
            case_keys_matching: 5,
            case_keys_in_both_levels: 0,
        };
        let check = async |tamper: &[&str], expected: EventKeyLedger, divergence: Option<&str>| {
            let mut transaction = pool.begin().await.expect("a transaction");
            for statement in tamper {
                sqlx::query(::sqlx::AssertSqlSafe(*statement))
                    .execute(&mut *transaction)
                    .await
                    .expect("the keys are changed");
            }
            let ledger = SqliteStore::event_key_ledger(&mut transaction)
                .await
                .expect("the keys are counted")
                .expect("SQLite keeps key tables");
            transaction.rollback().await.expect("the change is undone");
            assert_eq!(ledger, expected, "{tamper:?}");
            let verdict = check_monitoring(
                &[],
                &MonitoringLedger {
                    event_keys: Some(ledger),
                    ..MonitoringLedger::default()
                },
            )
            .map_err(|divergence| divergence.to_string());
            match divergence {
                None => assert_eq!(verdict, Ok(()), "{tamper:?}"),
                Some(counts) => assert_eq!(
                    verdict,
                    Err(format!("the event keys diverge from the events: {counts}")),
                    "{tamper:?}"
                ),
            }
        };
        let cases: [(&[&str], EventKeyLedger, Option<&str>); 6] = [
            (&[], intact, None),
            (
                &[
                    "DELETE FROM recent_event_keys WHERE event_id = unhex('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')",
                ],
                EventKeyLedger {
                    event_keys: 4,
                    event_keys_matching: 4,
                    ..intact
                },
                Some(
                    "5 events, 4 event keys, 4 of them naming their event's row, deployment and id, 0 held by both levels",
                ),
            ),
            (
                &[
                    "INSERT INTO recent_event_keys SELECT * FROM event_keys WHERE event_id = unhex('cccccccccccccccccccccccccccccccc')",
                ],
                EventKeyLedger {
                    event_keys: 6,
                    event_keys_matching: 6,
                    event_keys_in_both_levels: 1,
                    ..intact
                },
                Some(
                    "5 events, 6 event keys, 6 of them naming their event's row, deployment and id, 1 held by both levels",
                ),
            ),
            (
                &[
                    "DROP TRIGGER event_keys_no_update",
                    "UPDATE event_keys SET event_row = (SELECT event_row FROM recent_event_keys LIMIT 1) \
                 WHERE event_id = unhex('dddddddddddddddddddddddddddddddd')",
                ],
                EventKeyLedger {
                    event_keys_matching: 4,
                    ..intact
                },
                Some(
                    "5 events, 5 event keys, 4 of them naming their event's row, deployment and id, 0 held by both levels",
                ),
            ),
            (
                &["DELETE FROM recent_case_keys WHERE case_prefix = 'bbbbbbbb'"],
                EventKeyLedger {
                    case_keys: 4,
                    case_keys_matching: 4,
                    ..intact
                },
                Some(
                    "5 events, 4 case keys, 4 of them naming their event's row, deployment and case, 0 held by both levels",
                ),
            ),
            (
                &[
                    "INSERT INTO inference_events (deployment_id, event_id, batch_id, case_pseudonym, occurred_at, day, \
               model_version, content_sha256) VALUES (1, 'unkeyed', 4, 'psn:ffffffff', '2026-01-01T00:00:00Z', \
               '2026-01-01', '1', '')",
                ],
                EventKeyLedger {
                    events: 6,
                    ..intact
                },
                Some(
                    "6 events, 5 event keys, 5 of them naming their event's row, deployment and id, 0 held by both levels",
                ),
            ),
        ];
        for (tamper, expected, divergence) in cases {
            check(tamper, expected, divergence).await;
        }
    }
}
