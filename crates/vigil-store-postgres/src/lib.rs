//! The PostgreSQL backend of the store, for regional and national hubs.
//!
//! Every write transaction first takes one transaction-scoped advisory lock,
//! so that writes — and with them the audit chain — are serialised: each
//! append sees the head left by the previous one, and a decision checks the
//! state it changes under that lock. One step comes before the lock: a batch
//! of events stores its rows (most of its work) first, so that several
//! batches use several cores; it then takes the lock to count them into the
//! day aggregates, with the outcomes committed by then, and to audit the
//! batch.

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, Transaction};
use vigil_store::archive_tables::{ArchivedTable, ArchivedValue};
use vigil_store::decode::{EmbeddedMigrations, database_error};
use vigil_store::sql::EventRow;
use vigil_store::vigil_monitor::Event;
use vigil_store::{Store, StoreError};

/// The advisory lock key that serialises Vigil's writes ("VIGIL" in ASCII).
const WRITE_LOCK: i64 = 0x0056_4947_494C;

/// A Vigil store in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// The backend's name in messages and archives.
    pub const BACKEND_NAME: &'static str = "postgresql";

    /// An event id as an archive writes it: as stored, text.
    pub const ARCHIVED_EVENT_ID: &'static str = "event_id";

    /// A parameter of an import's multi-row insert: `$number`.
    pub fn archive_parameter(number: usize) -> String {
        format!("${number}")
    }

    /// An archived event id as it is stored: its text.
    pub fn stored_event_id(text: &str) -> ArchivedValue {
        ArchivedValue::Text(text.to_owned())
    }

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
            "event batch ids from their identity sequence",
            include_str!("../migrations/0014_event_batch_sequence.sql"),
        ),
    ]);

    /// Writes the day aggregates of deployment `$1` given as a JSON array
    /// (`$2`) of `[day, model version, aggregate as JSON text]`, replacing
    /// those stored, in one statement (a batch touches a day for each day
    /// its events fall on).
    pub const UPSERT_DAYS: &'static str = "INSERT INTO daily_aggregates (deployment_id, day, model_version, aggregate) \
         SELECT $1, e ->> 0, e ->> 1, e ->> 2 FROM jsonb_array_elements(($2::text)::jsonb) AS e \
         ON CONFLICT (deployment_id, day, model_version) DO UPDATE SET aggregate = excluded.aggregate";

    /// The id of a new event batch, from the column's identity sequence:
    /// batches' rows are stored before the write lock is taken, so two
    /// transactions may number a batch at once (an id is not reused if its
    /// transaction rolls back).
    pub const NEXT_EVENT_BATCH: &'static str =
        "SELECT nextval(pg_get_serial_sequence('event_batches', 'id'))";

    /// How many events one [`PostgresStore::INSERT_EVENTS`] carries at
    /// most.
    pub const EVENT_ROWS_PER_INSERT: usize = vigil_store::sql::EVENT_ROWS_PER_STATEMENT;

    /// Stores a chunk of events for deployment `$1` and batch `$2` from one
    /// array a column (`$3` to `$18`), skipping those stored
    /// before. sqlx sends arrays in PostgreSQL's binary form, which the
    /// server reads without parsing text: the insert took 6–9% less time
    /// than with the chunk sent as one JSON parameter
    /// (`bench/results-monitor.md`).
    pub const INSERT_EVENTS: &'static str = "INSERT INTO inference_events (deployment_id, event_id, batch_id, case_pseudonym, \
         occurred_at, day, model_version, score, decision, scanner_manufacturer, scanner_model, protocol, slice_thickness_mm, \
         kvp, age_band, sex, site, content_sha256) \
         SELECT $1, event_id, $2, case_pseudonym, occurred_at, day, model_version, score, decision, scanner_manufacturer, \
         scanner_model, protocol, slice_thickness_mm, kvp, age_band, sex, site, content_sha256 \
         FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::double precision[], $9::bigint[], \
         $10::text[], $11::text[], $12::text[], $13::double precision[], $14::double precision[], $15::text[], $16::text[], \
         $17::text[], $18::text[]) \
         AS e(event_id, case_pseudonym, occurred_at, day, model_version, score, decision, scanner_manufacturer, \
         scanner_model, protocol, slice_thickness_mm, kvp, age_band, sex, site, content_sha256) \
         ON CONFLICT (deployment_id, event_id) DO NOTHING";

    /// Stores outcomes for deployment `$1` and batch `$2` from a JSON array
    /// (`$3`) of `[case, source, label, recorded_at, reader_agrees,
    /// content_sha256]` (see `vigil_store::sql::outcome_insert_rows`).
    pub const INSERT_OUTCOMES: &'static str = "INSERT INTO outcomes (deployment_id, case_pseudonym, source, label, recorded_at, \
         reader_agrees, batch_id, content_sha256) \
         SELECT $1, e ->> 0, e ->> 1, (e ->> 2)::bigint, e ->> 3, (e ->> 4)::bigint, $2, e ->> 5 \
         FROM jsonb_array_elements(($3::text)::jsonb) AS e";

    /// The events of the cases named in a JSON array (`$2`) of deployment
    /// `$1`, as one JSON array of `[case, day, model_version, score,
    /// decision]` (one row, rather than a row an event). The score is
    /// PostgreSQL's shortest exact text of the number.
    pub const CASE_EVENTS_JSON: &'static str = "SELECT COALESCE(json_agg(json_build_array(case_pseudonym, day, model_version, \
         score::text, decision))::text, '[]') FROM inference_events \
         WHERE deployment_id = $1 AND case_pseudonym IN (SELECT jsonb_array_elements_text(($2::text)::jsonb))";

    /// The stored content hashes and batches of the events named in a JSON
    /// array (`$2`) of a deployment (`$1`).
    pub const STORED_EVENT_HASHES: &'static str = "SELECT event_id, content_sha256, batch_id FROM inference_events \
         WHERE deployment_id = $1 AND event_id IN (SELECT jsonb_array_elements_text(($2::text)::jsonb))";

    /// The texts of a JSON array parameter (`$2`), as a subquery.
    pub const JSON_TEXTS: &'static str = "SELECT jsonb_array_elements_text(($2::text)::jsonb)";

    /// Connects to a `postgres://` URL and applies pending migrations.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        // The URL may hold a password: neither it nor the parser's message
        // (which may quote it) goes into the error.
        let options: PgConnectOptions = url.parse().map_err(|_| {
            StoreError::InvalidReference(
                "the PostgreSQL URL could not be read; expected postgres://USER@HOST:PORT/DATABASE"
                    .to_owned(),
            )
        })?;
        Self::connect(options).await
    }

    /// Connects with explicit options (for example a `search_path`) and
    /// applies pending migrations.
    pub async fn connect(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(database_error)?;
        let store = PostgresStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// The underlying pool, for tests that tamper with the tables.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The pool writes use: the same as reads' (PostgreSQL keeps one
    /// shared buffer cache, whichever connection writes).
    fn writer(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Runs `work` in a write transaction that holds the store's advisory
    /// write lock from its first statement.
    async fn write<T>(
        &self,
        work: impl for<'c> AsyncFnOnce(&'c mut PgConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut transaction = self.pool.begin().await.map_err(database_error)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITE_LOCK)
            .execute(&mut *transaction)
            .await
            .map_err(database_error)?;
        let value = work(&mut transaction).await?;
        transaction.commit().await.map_err(database_error)?;
        Ok(value)
    }

    /// Runs `start`, then takes the store's advisory write lock and runs
    /// `rest` with what `start` answered, in one read-committed write
    /// transaction: the `start` of several transactions runs at once (each
    /// statement after the lock sees what was committed before it was
    /// taken).
    async fn write_with_unlocked_start<S, T>(
        &self,
        start: impl for<'c> AsyncFnOnce(&'c mut PgConnection) -> Result<S, StoreError>,
        rest: impl for<'c> AsyncFnOnce(&'c mut PgConnection, S) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut transaction = self.pool.begin().await.map_err(database_error)?;
        let started = start(&mut transaction).await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITE_LOCK)
            .execute(&mut *transaction)
            .await
            .map_err(database_error)?;
        let value = rest(&mut transaction, started).await?;
        transaction.commit().await.map_err(database_error)?;
        Ok(value)
    }

    /// A repeatable-read transaction, so that every table is read from one
    /// consistent snapshot.
    async fn snapshot(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        let mut transaction = self.pool.begin().await.map_err(database_error)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut *transaction)
            .await
            .map_err(database_error)?;
        Ok(transaction)
    }

    /// The statement that reads a table's rows for an export: the plain
    /// one, every table being read through its own index.
    pub fn archive_rows_query(table: &ArchivedTable, columns: &str) -> String {
        vigil_store::archive_tables::rows_query(table, columns)
    }

    /// PostgreSQL finds events through its own indexes, which it keeps
    /// itself: there are no key tables of the store's to check
    /// (`vigil_store::consistency::EventKeyLedger`).
    async fn event_key_ledger(
        _connection: &mut PgConnection,
    ) -> Result<Option<vigil_store::consistency::EventKeyLedger>, StoreError> {
        Ok(None)
    }

    /// Imported rows came with their ids: move each identity past them.
    async fn after_import(connection: &mut PgConnection) -> Result<(), StoreError> {
        for (table, column) in [
            ("users", "id"),
            ("products", "id"),
            ("product_versions", "id"),
            ("deployments", "id"),
            ("decisions", "id"),
            ("evaluations", "id"),
            ("event_batches", "id"),
            ("outcome_batches", "id"),
            ("alerts", "id"),
            ("webhooks", "id"),
            ("webhook_deliveries", "id"),
            ("dicom_instances", "id"),
            ("report_times", "id"),
            ("hazards", "id"),
            ("safety_case_signatures", "id"),
            ("procurement_assessments", "id"),
            ("audit_log", "position"),
        ] {
            sqlx::query(::sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                 COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
            )))
            .execute(&mut *connection)
            .await
            .map_err(database_error)?;
        }
        Ok(())
    }

    /// Stores a chunk of a batch's events with
    /// [`PostgresStore::INSERT_EVENTS`], given as its columns (made by
    /// [`PostgresStore::event_insert_parameters`]), in the rows' order, and
    /// answers how many it stored (those stored before are skipped).
    async fn insert_event_chunk(
        connection: &mut PgConnection,
        deployment: i64,
        batch: i64,
        columns: EventColumns<'_>,
    ) -> Result<u64, StoreError> {
        let inserted = sqlx::query(Self::INSERT_EVENTS)
            .bind(deployment)
            .bind(batch)
            .bind(columns.event_ids)
            .bind(columns.cases)
            .bind(columns.occurred_at)
            .bind(columns.days)
            .bind(columns.model_versions)
            .bind(columns.scores)
            .bind(columns.decisions)
            .bind(columns.scanner_manufacturers)
            .bind(columns.scanner_models)
            .bind(columns.protocols)
            .bind(columns.slice_thicknesses_mm)
            .bind(columns.kvps)
            .bind(columns.age_bands)
            .bind(columns.sexes)
            .bind(columns.sites)
            .bind(columns.content_sha256)
            .execute(&mut *connection)
            .await
            .map_err(database_error)?;
        Ok(inserted.rows_affected())
    }
}

/// A chunk of events as [`PostgresStore::INSERT_EVENTS`] takes them: one
/// array a column, in the rows' order.
#[derive(Debug)]
pub struct EventColumns<'a> {
    event_ids: Vec<&'a str>,
    cases: Vec<&'a str>,
    occurred_at: Vec<&'a str>,
    days: Vec<&'a str>,
    model_versions: Vec<&'a str>,
    scores: Vec<Option<f64>>,
    decisions: Vec<Option<i64>>,
    scanner_manufacturers: Vec<Option<&'a str>>,
    scanner_models: Vec<Option<&'a str>>,
    protocols: Vec<Option<&'a str>>,
    slice_thicknesses_mm: Vec<Option<f64>>,
    kvps: Vec<Option<f64>>,
    age_bands: Vec<Option<&'a str>>,
    sexes: Vec<Option<&'a str>>,
    sites: Vec<Option<&'a str>>,
    content_sha256: Vec<&'a str>,
}

impl vigil_store::sql::EventInsertParameters for PostgresStore {
    type Parameters<'a> = EventColumns<'a>;

    fn event_insert_parameters<'a>(events: &'a [Event], rows: &'a [EventRow]) -> EventColumns<'a> {
        let chunk: Vec<&Event> = rows.iter().map(|row| &events[row.position]).collect();
        let column =
            |value: fn(&'a Event) -> &'a str| chunk.iter().map(|event| value(event)).collect();
        let optional_text = |value: fn(&'a Event) -> Option<&'a str>| {
            chunk.iter().map(|event| value(event)).collect()
        };
        let number =
            |value: fn(&'a Event) -> Option<f64>| chunk.iter().map(|event| value(event)).collect();
        EventColumns {
            event_ids: column(|event| event.event_id.as_str()),
            cases: column(|event| event.case.as_str()),
            occurred_at: rows.iter().map(|row| row.occurred_at.as_str()).collect(),
            days: rows.iter().map(|row| row.day.as_str()).collect(),
            model_versions: column(|event| event.model_version.as_str()),
            scores: number(|event| event.score),
            decisions: chunk
                .iter()
                .map(|event| event.decision.map(i64::from))
                .collect(),
            scanner_manufacturers: optional_text(|event| {
                event.metadata.scanner_manufacturer.as_deref()
            }),
            scanner_models: optional_text(|event| event.metadata.scanner_model.as_deref()),
            protocols: optional_text(|event| event.metadata.protocol.as_deref()),
            slice_thicknesses_mm: number(|event| event.metadata.slice_thickness_mm),
            kvps: number(|event| event.metadata.kvp),
            age_bands: optional_text(|event| event.metadata.age_band.as_deref()),
            sexes: optional_text(|event| event.metadata.sex.map(|sex| sex.as_str())),
            sites: optional_text(|event| event.metadata.site.as_ref().map(|site| site.as_str())),
            content_sha256: rows.iter().map(|row| row.content_sha256.as_str()).collect(),
        }
    }
}

vigil_store::impl_sql_store!(PostgresStore, Postgres);
