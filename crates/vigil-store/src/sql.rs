//! The SQL implementation of [`Store`](crate::Store) shared by the backends.
//!
//! The SQLite and PostgreSQL backends run the same statements (both accept
//! `$1`-style parameters), so the implementation is written once here, as a
//! macro expanded in each backend crate for its own sqlx database type. A
//! backend provides only what differs: how it connects, how a write
//! transaction takes the write lock (`write`, and `write_with_unlocked_start`
//! for a transaction whose first step may run before the lock), how a
//! consistent read snapshot starts (`snapshot`), what follows an import
//! (`after_import`), its name, its migrations and the few statements whose
//! SQL differs.

use crate::StoreError;

/// Organisations with parents before children (nation, region, Trust, site),
/// so that they can be listed as a tree and re-inserted in order.
pub const ORGANISATIONS_PARENTS_FIRST: &str = "SELECT * FROM organisations ORDER BY CASE kind WHEN 'nation' THEN 0 WHEN 'region' THEN 1 WHEN 'trust' THEN 2 ELSE 3 END, code";

/// The audit log's columns, each cast to the type the chain expects (a
/// value of the wrong type written outside Vigil then shows as a broken
/// entry rather than a read failure).
pub const AUDIT_LOG_COLUMNS: &str = "SELECT CAST(sequence AS BIGINT) AS sequence, CAST(recorded_at AS TEXT) AS recorded_at, \
     CAST(actor AS TEXT) AS actor, CAST(role AS TEXT) AS role, CAST(organisation AS TEXT) AS organisation, \
     CAST(action AS TEXT) AS action, CAST(subject AS TEXT) AS subject, CAST(payload AS TEXT) AS payload, \
     CAST(previous_hash AS TEXT) AS previous_hash, CAST(hash AS TEXT) AS hash FROM audit_log";

/// How many cases, days or outcomes one statement names or carries (how
/// many events one `INSERT` carries is each backend's
/// `EVENT_ROWS_PER_INSERT`).
pub const EVENT_ROWS_PER_STATEMENT: usize = 5_000;

/// What storing a batch of events needs that no database does: computed
/// before the write lock is taken, so that other work can go on meanwhile.
#[derive(Debug)]
pub struct PreparedEvents {
    /// Each event's row (see [`event_rows`]), in event-id order.
    pub rows: Vec<EventRow>,
    /// The batch's day aggregates, should every event be new and none of
    /// their cases have an outcome yet (the usual case).
    pub aggregates_without_outcomes:
        std::collections::BTreeMap<vigil_monitor::DayKey, vigil_monitor::DayAggregate>,
}

impl PreparedEvents {
    /// Encodes the events; the same event id twice in one batch is refused
    /// (it would be stored once and counted twice in the aggregates).
    pub fn of(events: &[vigil_monitor::Event]) -> Result<Self, StoreError> {
        let mut first_seen: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::with_capacity(events.len());
        for (index, event) in events.iter().enumerate() {
            if let Some(first) = first_seen.insert(event.event_id.as_str(), index) {
                return Err(StoreError::InvalidReference(format!(
                    "events {} and {} (in the order sent) have the same event_id",
                    first + 1,
                    index + 1
                )));
            }
        }
        Ok(PreparedEvents {
            rows: event_rows(events),
            aggregates_without_outcomes: vigil_monitor::aggregate_with_outcomes(events, |_| None),
        })
    }
}

/// How a backend hands a chunk of a batch's events to its insert statement:
/// the statement's parameters, made from the events before the write lock
/// is taken (SQLite has one writer, whose lock should cover only the
/// database's own work).
pub trait EventInsertParameters {
    /// The parameters of one chunk, borrowing from its events and rows.
    type Parameters<'a>;

    /// The parameters of the chunk of `events` whose [`event_rows`] are
    /// `rows`.
    fn event_insert_parameters<'a>(
        events: &'a [vigil_monitor::Event],
        rows: &'a [EventRow],
    ) -> Self::Parameters<'a>;
}

/// One event of a batch as the backends store it, with what is computed
/// from it once: its content (as text and hashed) and its stored time and
/// day.
#[derive(Debug)]
pub struct EventRow {
    /// The event's place in its batch, in the order sent (from 0).
    pub position: usize,
    /// When the event occurred, as stored (`rows::stored_timestamp`).
    pub occurred_at: String,
    /// The UTC day the event occurred on (`YYYY-MM-DD`).
    pub day: String,
    /// The event's content: the JSON array of its event id, case
    /// pseudonym, occurred at, day, model version, score, decision (0/1),
    /// scanner manufacturer, scanner model, protocol, slice thickness, kVp,
    /// age band, sex and site, without its closing bracket (SQLite's insert
    /// reads it with the hash appended as the sixteenth value).
    pub content: String,
    /// The SHA-256 of [`EventRow::content`].
    pub content_sha256: String,
}

/// Each event's row, ordered by event id (byte by byte): batches whose
/// events overlap then store them in the same order, so that where a
/// database stores several batches at once, each waits for the other's
/// rows in one direction only.
pub fn event_rows(events: &[vigil_monitor::Event]) -> Vec<EventRow> {
    let mut rows: Vec<EventRow> = events
        .iter()
        .enumerate()
        .map(|(position, event)| {
            let metadata = &event.metadata;
            let occurred_at = crate::rows::stored_timestamp(event.occurred_at);
            let day = vigil_monitor::utc_day(event.occurred_at).to_string();
            let first = (
                event.event_id.as_str(),
                event.case.as_str(),
                occurred_at.as_str(),
                day.as_str(),
                event.model_version.as_str(),
                event.score,
                event.decision.map(i64::from),
                metadata.scanner_manufacturer.as_deref(),
            );
            let second = (
                metadata.scanner_model.as_deref(),
                metadata.protocol.as_deref(),
                metadata.slice_thickness_mm,
                metadata.kvp,
                metadata.age_band.as_deref(),
                metadata.sex.map(|sex| sex.as_str()),
                metadata.site.as_ref().map(|site| site.as_str()),
            );
            // Two tuples keep within serde's tuple sizes; they are hashed as
            // one flat array without its closing bracket (the form stored
            // events' hashes have always had, so that a resent event still
            // matches).
            let first = serde_json::to_string(&first).unwrap_or_default();
            let second = serde_json::to_string(&second).unwrap_or_default();
            let content = format!(
                "{},{}",
                &first[..first.len() - 1],
                &second[1..second.len() - 1]
            );
            let content_sha256 = crate::rows::sha256_hex(&content);
            EventRow {
                position,
                occurred_at,
                day,
                content,
                content_sha256,
            }
        })
        .collect();
    rows.sort_unstable_by(|left, right| {
        events[left.position]
            .event_id
            .as_str()
            .cmp(events[right.position].event_id.as_str())
    });
    rows
}

/// An image's acquisition metadata as stored (a JSON object).
pub fn acquisition_json(metadata: &vigil_monitor::Metadata) -> String {
    serde_json::json!({
        "scanner_manufacturer": metadata.scanner_manufacturer,
        "scanner_model": metadata.scanner_model,
        "protocol": metadata.protocol,
        "slice_thickness_mm": metadata.slice_thickness_mm,
        "kvp": metadata.kvp,
        "age_band": metadata.age_band,
        "sex": metadata.sex.map(|sex| sex.as_str()),
    })
    .to_string()
}

/// Reads stored acquisition metadata back.
pub fn acquisition_from_json(text: &str) -> Result<vigil_monitor::Metadata, StoreError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| StoreError::corrupt("acquisition metadata", error))?;
    let text_of = |field: &str| value[field].as_str().map(str::to_owned);
    Ok(vigil_monitor::Metadata {
        scanner_manufacturer: text_of("scanner_manufacturer"),
        scanner_model: text_of("scanner_model"),
        protocol: text_of("protocol"),
        slice_thickness_mm: value["slice_thickness_mm"].as_f64(),
        kvp: value["kvp"].as_f64(),
        age_band: text_of("age_band"),
        sex: value["sex"].as_str().and_then(vigil_monitor::Sex::parse),
        site: None,
    })
}

/// A row of `dicom_instances` as a record.
pub fn dicom_instance_row<R: crate::decode::DecodeRow>(
    row: &R,
) -> Result<crate::DicomInstanceRecord, StoreError> {
    use crate::decode::database_error;
    let pseudonym = |field: &'static str| -> Result<vigil_domain::Pseudonym, StoreError> {
        let text = row.text(field).map_err(database_error)?;
        vigil_domain::Pseudonym::parse(&text)
            .map_err(|error| StoreError::corrupt("dicom instance pseudonym", error))
    };
    let optional_pseudonym =
        |field: &'static str| -> Result<Option<vigil_domain::Pseudonym>, StoreError> {
            match row.optional_text(field).map_err(database_error)? {
                None => Ok(None),
                Some(text) => vigil_domain::Pseudonym::parse(&text)
                    .map(Some)
                    .map_err(|error| StoreError::corrupt("dicom instance pseudonym", error)),
            }
        };
    let disposition = match row.text("disposition").map_err(database_error)?.as_str() {
        "event" => crate::DicomDisposition::Event {
            deployment: crate::DeploymentId(
                row.optional_integer("deployment_id")
                    .map_err(database_error)?
                    .ok_or_else(|| {
                        StoreError::corrupt("dicom instance", "an event without its deployment")
                    })?,
            ),
        },
        "acquisition" => crate::DicomDisposition::Acquisition {
            metadata: acquisition_from_json(
                &row.optional_text("acquisition")
                    .map_err(database_error)?
                    .unwrap_or_else(|| "{}".to_owned()),
            )?,
        },
        "quarantined" => crate::DicomDisposition::Quarantined {
            reason: row
                .optional_text("reason")
                .map_err(database_error)?
                .unwrap_or_default(),
        },
        other => return Err(StoreError::corrupt("dicom instance disposition", other)),
    };
    Ok(crate::DicomInstanceRecord {
        id: row.integer("id").map_err(database_error)?,
        trust: vigil_domain::Code::parse(&row.text("trust").map_err(database_error)?)
            .map_err(|error| StoreError::corrupt("dicom instance trust", error))?,
        sop_instance: pseudonym("sop_instance")?,
        sop_class_uid: row.text("sop_class_uid").map_err(database_error)?,
        kind: row.text("kind").map_err(database_error)?,
        study: pseudonym("study")?,
        series: optional_pseudonym("series")?,
        accession: optional_pseudonym("accession")?,
        modality: row.optional_text("modality").map_err(database_error)?,
        calling_ae: row.text("calling_ae").map_err(database_error)?,
        received_at: crate::rows::timestamp(
            "dicom instance received_at",
            &row.text("received_at").map_err(database_error)?,
        )?,
        disposition,
        original_sha256: row
            .optional_text("original_sha256")
            .map_err(database_error)?,
    })
}

/// A row of `report_times` (all its columns).
pub fn report_time_row<R: crate::decode::DecodeRow>(
    row: &R,
) -> Result<crate::ReportTimeRecord, StoreError> {
    use crate::decode::database_error;
    let corrupt = |error: vigil_domain::DomainError| StoreError::corrupt("report time", error);
    let case = vigil_domain::Pseudonym::parse(&row.text("case_pseudonym").map_err(database_error)?)
        .map_err(corrupt)?;
    let status = vigil_domain::ReportStatus::parse(&row.text("status").map_err(database_error)?)
        .map_err(corrupt)?;
    let examined_at = match row.optional_text("examined_at").map_err(database_error)? {
        Some(text) => Some(crate::rows::timestamp("report examined_at", &text)?),
        None => None,
    };
    let issued_at = crate::rows::timestamp(
        "report issued_at",
        &row.text("issued_at").map_err(database_error)?,
    )?;
    Ok(crate::ReportTimeRecord {
        id: row.integer("id").map_err(database_error)?,
        trust: vigil_domain::Code::parse(&row.text("trust").map_err(database_error)?)
            .map_err(corrupt)?,
        timing: match row.optional_text("reader").map_err(database_error)? {
            Some(reader) => vigil_domain::ReportTiming::new(case, status, examined_at, issued_at)
                .map_err(corrupt)?
                .with_reader(vigil_domain::Pseudonym::parse(&reader).map_err(corrupt)?),
            None => vigil_domain::ReportTiming::new(case, status, examined_at, issued_at)
                .map_err(corrupt)?,
        },
        channel: vigil_domain::ReportChannel::parse(&row.text("channel").map_err(database_error)?)
            .map_err(corrupt)?,
        received_at: crate::rows::timestamp(
            "report received_at",
            &row.text("received_at").map_err(database_error)?,
        )?,
    })
}

/// An outcome as stored, as the aggregates and the duplicate check need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOutcome {
    pub source: vigil_monitor::OutcomeSource,
    pub label: bool,
    pub reader_agrees: Option<bool>,
    pub content_sha256: String,
}

/// What the stored outcomes of one case say.
pub fn case_truth(outcomes: &[StoredOutcome]) -> vigil_monitor::CaseTruth {
    vigil_monitor::CaseTruth::from_outcomes(
        outcomes
            .iter()
            .map(|outcome| (outcome.source, outcome.label, outcome.reader_agrees)),
    )
}

/// Each outcome's content as canonical JSON — case pseudonym, source,
/// label (0/1), recorded at, reader agrees (0/1 or null) — with its
/// SHA-256, which tells a resent outcome from a changed one.
pub fn outcome_rows(outcomes: &[vigil_monitor::Outcome]) -> Vec<(String, String)> {
    outcomes
        .iter()
        .map(|outcome| {
            let content = serde_json::to_string(&(
                outcome.case.as_str(),
                outcome.source.as_str(),
                i64::from(outcome.label),
                crate::rows::stored_timestamp(outcome.recorded_at),
                outcome.reader_agrees.map(i64::from),
            ))
            .unwrap_or_default();
            let hash = crate::rows::sha256_hex(&content);
            (content, hash)
        })
        .collect()
}

/// Each new outcome, with its content hash, as the JSON array the
/// backends' `INSERT_OUTCOMES` reads: case pseudonym, source, label (0/1),
/// recorded at, reader agreement (0/1 or null) and the hash.
pub fn outcome_insert_rows(outcomes: &[(&vigil_monitor::Outcome, &str)]) -> Vec<String> {
    outcomes
        .iter()
        .map(|(outcome, hash)| {
            serde_json::to_string(&(
                outcome.case.as_str(),
                outcome.source.as_str(),
                i64::from(outcome.label),
                crate::rows::stored_timestamp(outcome.recorded_at),
                outcome.reader_agrees.map(i64::from),
                hash,
            ))
            .unwrap_or_default()
        })
        .collect()
}

/// A JSON array of the given rows or texts.
pub fn json_array<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut text = String::from("[");
    for (index, item) in items.into_iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        text.push_str(item);
    }
    text.push(']');
    text
}

/// Implements [`Store`](crate::Store) for `$store`, a backend over the sqlx
/// database `$database`. The backend must provide, as inherent items:
/// `const BACKEND_NAME: &str`, `const MIGRATIONS: EmbeddedMigrations`, a pool
/// field `pool` for reads, `fn writer(&self) -> &Pool` for the writes made
/// outside a transaction (migrations, touching a session), `async fn write<T>(&self, work: impl AsyncFnOnce(&mut
/// Connection) -> Result<T, StoreError>) -> Result<T, StoreError>`, `async fn write_with_unlocked_start<S, T>(&self,
/// start: impl AsyncFnOnce(&mut Connection) -> Result<S, StoreError>, rest: impl AsyncFnOnce(&mut Connection, S) ->
/// Result<T, StoreError>) -> Result<T, StoreError>` (one write transaction of which only `rest` must hold the write
/// lock; `start` writes only rows that no other holder of the lock writes),
/// `const UPSERT_DAYS: &str`, which writes the day aggregates of deployment
/// `$1` given as a JSON array (`$2`) of `[day, model version, aggregate as
/// JSON text]`, replacing those stored, `const NEXT_EVENT_BATCH: &str`, which
/// answers the id of a new event batch (unique even among transactions that
/// have not yet taken the write lock),
/// `async fn snapshot(&self) -> Result<sqlx::Transaction<'static, $database>, StoreError>`,
/// `async fn after_import(connection: &mut Connection) -> Result<(), StoreError>`
/// `async fn insert_event_chunk(connection: &mut Connection, deployment: i64, batch: i64, parameters:
/// <Self as EventInsertParameters>::Parameters<'_>) -> Result<u64, StoreError>`, which stores the events of a
/// chunk of [`event_rows`] (in that order; their parameters made by its
/// [`EventInsertParameters`], before the write lock) for the deployment
/// and batch, skipping those stored before, and answers how many it
/// stored, `const EVENT_ROWS_PER_INSERT: usize`, how many rows a chunk
/// holds at most, and
/// `const STORED_EVENT_HASHES: &str`, which answers the
/// `event_id`, `content_sha256` and `batch_id` of the stored events of
/// deployment `$1` named in the JSON array `$2`, `const JSON_TEXTS: &str`, a subquery
/// giving the texts of the JSON array `$2`, `const INSERT_OUTCOMES: &str`,
/// which stores the outcomes of [`outcome_insert_rows`] (a JSON array, `$3`)
/// for deployment `$1` and batch `$2`, `const CASE_EVENTS_JSON: &str`, which
/// answers the events of deployment `$1` whose cases the JSON array `$2`
/// names as one JSON array text of `[case, day, model_version, score as
/// exact text, decision]`, `const ARCHIVED_EVENT_ID: &str`, the SQL giving
/// a stored event id as text, `fn stored_event_id(text: &str) ->
/// ArchivedValue`, the value that stores an archived event id, and `fn
/// archive_parameter(number: usize) -> String`, the placeholder of the
/// statement's `number`th parameter (from 1) in the import's multi-row
/// inserts, and `fn archive_rows_query(table: &ArchivedTable, columns: &str)
/// -> String`, the statement that reads a table's rows for an export, in
/// the table's `order_by` (its result's first columns are `columns`;
/// further columns are not read).
#[macro_export]
macro_rules! impl_sql_store {
    ($store:ty, $database:ty) => {
        const _: () = {
        use $crate::archive::ARCHIVE_FORMAT;
        use $crate::decode::{
            already_exists, audit_head_row, audit_row as audit_log_row, database_error, decision_row, deployment_row, migrator,
            organisation_row, policy_row, product_row, user_row, version_row,
            api_token_row, evaluation_row, pending_sign_off_row,
        };
        use $crate::governance::{audit_row, check_transition, decision_payload};
        use $crate::rows::{
            AuditRow, DecisionRow, DeploymentRow, OrganisationRow, ProductRow, UserRow, VersionRow, stored_timestamp,
            ApiTokenRow, sha256_hex,
        };
        use $crate::sql::{AUDIT_LOG_COLUMNS, ORGANISATIONS_PARENTS_FIRST};
        use $crate::{
            Archive, ChangeContext, DecisionRecord, DeploymentId, DeploymentRecord, NewUser, ProductId, ProductRecord,
            StoreError, UserRecord, VersionId, ApiTokenRecord, EvaluationRecord, LoginRecord, NewApiToken, NewEvaluation,
            PendingSignOff, SessionRecord, UserChange,
        };
        use ::vigil_audit::{RecordedHead, StoredEntry};
        use ::vigil_domain::{
            Deployment, LifecycleState, Modality, Organisation, Product, ProductVersion, SignOffPolicy, TransitionRequest,
        };

        type Connection = <$database as ::sqlx::Database>::Connection;
        type DatabaseRow = <$database as ::sqlx::Database>::Row;

        /// The rows of `select` (a `SELECT … FROM table` of a table with
        /// `deployment_id` and `case_pseudonym`) for the named cases of a
        /// deployment, asked in chunks of one JSON parameter each.
        async fn rows_of_cases(
            connection: &mut Connection,
            select: &str,
            deployment: DeploymentId,
            cases: &[&str],
        ) -> Result<Vec<DatabaseRow>, StoreError> {
            let statement = format!(
                "{select} WHERE deployment_id = $1 AND case_pseudonym IN ({})",
                <$store>::JSON_TEXTS
            );
            let mut rows = Vec::new();
            for chunk in cases.chunks($crate::sql::EVENT_ROWS_PER_STATEMENT) {
                let names: Vec<String> = chunk.iter().map(|case| ::serde_json::Value::from(*case).to_string()).collect();
                rows.extend(
                    ::sqlx::query(::sqlx::AssertSqlSafe(statement.as_str()))
                        .bind(deployment.0)
                        .bind($crate::sql::json_array(names.iter().map(String::as_str)))
                        .fetch_all(&mut *connection)
                        .await
                        .map_err(database_error)?,
                );
            }
            Ok(rows)
        }

        /// Stores a new version of a deployment's rules and its audit entry.
        async fn insert_rules(
            connection: &mut Connection,
            context: &ChangeContext,
            deployment: DeploymentId,
            rules: &$crate::vigil_monitor::RuleSet,
            reason: &str,
            expected_version: Option<i64>,
        ) -> Result<$crate::RulesRecord, StoreError> {
            let current: i64 = ::sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM monitoring_rules WHERE deployment_id = $1")
                .bind(deployment.0)
                .fetch_one(&mut *connection)
                .await
                .map_err(database_error)?;
            if let Some(expected) = expected_version {
                if expected != current {
                    return Err(StoreError::Conflict(format!(
                        "the rules of deployment {deployment} are at version {current} now, not {expected}; reload them and edit again"
                    )));
                }
            }
            let version = current + 1;
            let text = rules.to_json();
            let payload = ::serde_json::json!({
                "deployment": deployment.0, "version": version, "reason": reason,
                "rules_sha256": sha256_hex(&text), "rules": rules.rules.len(),
            });
            let sequence = append_audit(connection, context, "rules.set", &format!("deployment:{deployment}"), &payload).await?;
            ::sqlx::query(
                "INSERT INTO monitoring_rules (deployment_id, version, rules, reason, created_by, created_at, audit_sequence) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(deployment.0)
            .bind(version)
            .bind(&text)
            .bind(reason)
            .bind(context.actor.name.as_str())
            .bind(stored_timestamp(context.at))
            .bind(sequence as i64)
            .execute(&mut *connection)
            .await
            .map_err(database_error)?;
            Ok($crate::RulesRecord {
                deployment,
                version,
                rules: rules.clone(),
                reason: reason.to_owned(),
                created_by: context.actor.name.as_str().to_owned(),
                created_at: context.at,
                audit_sequence: sequence,
            })
        }

        /// Gives a deployment going live its default rules, unless it has
        /// rules already (a resumed deployment keeps its own), judged
        /// against its latest validation and its shadow running.
        async fn default_rules_at_go_live(
            connection: &mut Connection,
            context: &ChangeContext,
            deployment: DeploymentId,
        ) -> Result<(), StoreError> {
            use $crate::decode::DecodeRow as _;
            let existing: i64 = ::sqlx::query_scalar("SELECT COUNT(*) FROM monitoring_rules WHERE deployment_id = $1")
                .bind(deployment.0)
                .fetch_one(&mut *connection)
                .await
                .map_err(database_error)?;
            if existing > 0 {
                return Ok(());
            }
            let latest = ::sqlx::query("SELECT id, result FROM evaluations WHERE deployment_id = $1 ORDER BY id DESC LIMIT 1")
                .bind(deployment.0)
                .fetch_optional(&mut *connection)
                .await
                .map_err(database_error)?;
            let evaluation = match &latest {
                Some(row) => {
                    let result: String = row.text("result").map_err(database_error)?;
                    Some((
                        row.integer("id").map_err(database_error)?,
                        ::serde_json::from_str::<::serde_json::Value>(&result)
                            .map_err(|error| StoreError::corrupt("evaluation result", error))?,
                    ))
                }
                None => None,
            };
            let stored = ::sqlx::query("SELECT day, model_version, aggregate FROM daily_aggregates WHERE deployment_id = $1")
                .bind(deployment.0)
                .fetch_all(&mut *connection)
                .await
                .map_err(database_error)?;
            let mut aggregates = Vec::with_capacity(stored.len());
            for row in &stored {
                let day: String = row.text("day").map_err(database_error)?;
                let aggregate: String = row.text("aggregate").map_err(database_error)?;
                aggregates.push((
                    $crate::vigil_monitor::DayKey {
                        day: day.parse().map_err(|error| StoreError::corrupt("aggregate day", error))?,
                        model_version: row.text("model_version").map_err(database_error)?,
                    },
                    ::serde_json::from_str::<$crate::vigil_monitor::DayAggregate>(&aggregate)
                        .map_err(|error| StoreError::corrupt("day aggregate", error))?,
                ));
            }
            let days = $crate::vigil_monitor::Days::new(aggregates.iter().map(|(key, aggregate)| (key, aggregate)));
            let baseline = $crate::vigil_monitor::Baseline::at_go_live(
                evaluation.as_ref().map(|(id, result)| (*id, result)),
                &days,
                $crate::vigil_monitor::utc_day(context.at),
            );
            let rules = $crate::vigil_monitor::RuleSet::defaults(baseline);
            insert_rules(connection, context, deployment, &rules, "defaults at go-live", Some(0)).await?;
            Ok(())
        }

        /// The latest completed, passing procurement assessment of the
        /// deployment's version by its site or an organisation above it (the
        /// evidence procurement → validation requires), or why there is none.
        async fn passing_assessment_for(connection: &mut Connection, deployment: &DeploymentRow) -> Result<i64, StoreError> {
            let chain = organisation_chain(connection, &deployment.site).await?;
            let rows: Vec<(i64, String, Option<String>, String)> = ::sqlx::query_as(
                "SELECT id, organisation, outcome, state FROM procurement_assessments WHERE version_id = $1 ORDER BY id DESC",
            )
            .bind(deployment.version_id)
            .fetch_all(&mut *connection)
            .await
            .map_err(database_error)?;
            let relevant: Vec<&(i64, String, Option<String>, String)> =
                rows.iter().filter(|(_, organisation, _, _)| chain.contains(organisation)).collect();
            if let Some((id, ..)) = relevant
                .iter()
                .find(|(_, _, outcome, state)| state == "completed" && outcome.as_deref() == Some("pass"))
            {
                return Ok(*id);
            }
            let version = deployment.version_id;
            let holders = chain.join(", ");
            let needed = match relevant.first() {
                None => format!(
                    "a completed procurement assessment of version {version} that passes, by {holders}; none has been started \
                     (POST /api/v1/assessments)"
                ),
                Some((id, _, Some(outcome), _)) if outcome == "fail" => format!(
                    "a completed procurement assessment of version {version} that passes, by {holders}; assessment {id} failed \
                     (a gate question scored below 2 or the total is under the pass mark)"
                ),
                Some((id, ..)) => format!(
                    "a completed procurement assessment of version {version} that passes, by {holders}; assessment {id} is still a draft \
                     (answer every question, then POST /api/v1/assessments/{id}/complete)"
                ),
            };
            Err(StoreError::Transition(::vigil_domain::TransitionError::MissingEvidence {
                from: LifecycleState::Procurement,
                to: LifecycleState::Validation,
                needed,
            }))
        }

        /// The organisation codes from a site up to its nation.
        async fn organisation_chain(connection: &mut Connection, site: &str) -> Result<Vec<String>, StoreError> {
            let mut chain = Vec::new();
            let mut next = Some(site.to_owned());
            while let Some(code) = next {
                if chain.contains(&code) || chain.len() > 8 {
                    break;
                }
                next = ::sqlx::query_scalar::<_, Option<String>>("SELECT parent FROM organisations WHERE code = $1")
                    .bind(&code)
                    .fetch_optional(&mut *connection)
                    .await
                    .map_err(database_error)?
                    .flatten();
                chain.push(code);
            }
            Ok(chain)
        }

        /// Queues a message about an alert for every enabled webhook of the
        /// deployment's site and the organisations above it.
        async fn queue_alert_message(
            connection: &mut Connection,
            alert: &$crate::AlertRecord,
            site: &str,
            event: &str,
            at: ::jiff::Timestamp,
        ) -> Result<(), StoreError> {
            let chain = organisation_chain(connection, site).await?;
            let body = $crate::monitoring::alert_message(event, alert, site);
            for organisation in chain {
                let hooks: Vec<i64> = ::sqlx::query_scalar("SELECT id FROM webhooks WHERE organisation = $1 AND disabled = 0 ORDER BY id")
                    .bind(&organisation)
                    .fetch_all(&mut *connection)
                    .await
                    .map_err(database_error)?;
                for hook in hooks {
                    ::sqlx::query(
                        "INSERT INTO webhook_deliveries (webhook_id, alert_id, event, body, attempts, next_attempt_at) VALUES ($1, $2, $3, $4, 0, $5)",
                    )
                    .bind(hook)
                    .bind(alert.id)
                    .bind(event)
                    .bind(&body)
                    .bind(stored_timestamp(at))
                    .execute(&mut *connection)
                    .await
                    .map_err(database_error)?;
                }
            }
            Ok(())
        }

        /// A procurement assessment.
        async fn assessment_in(connection: &mut Connection, id: i64) -> Result<$crate::AssessmentRecord, StoreError> {
            let row = ::sqlx::query("SELECT * FROM procurement_assessments WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *connection)
                .await
                .map_err(database_error)?
                .ok_or(StoreError::NotFound { what: "assessment", id: id.to_string() })?;
            $crate::decode::assessment_record(&row)
        }

        /// Opens a draft assessment, inside the caller's transaction (see
        /// [`Store::create_assessment`]).
        async fn create_assessment_in(
            connection: &mut Connection,
            context: &ChangeContext,
            version: VersionId,
            organisation: &::vigil_domain::Code,
            template_toml: &str,
            template: &::vigil_domain::procurement::Template,
        ) -> Result<$crate::AssessmentRecord, StoreError> {
            let known: Option<i64> = ::sqlx::query_scalar("SELECT id FROM product_versions WHERE id = $1")
                .bind(version.0)
                .fetch_optional(&mut *connection)
                .await
                .map_err(database_error)?;
            if known.is_none() {
                return Err(StoreError::NotFound { what: "product version", id: version.0.to_string() });
            }
            let organisation_known: Option<String> = ::sqlx::query_scalar("SELECT code FROM organisations WHERE code = $1")
                .bind(organisation.as_str())
                .fetch_optional(&mut *connection)
                .await
                .map_err(database_error)?;
            if organisation_known.is_none() {
                return Err(StoreError::NotFound { what: "organisation", id: organisation.to_string() });
            }
            let at = stored_timestamp(context.at);
            let id: i64 = ::sqlx::query_scalar(
                "INSERT INTO procurement_assessments (version_id, organisation, template, answers, state, revision, created_by, created_at, \
                 updated_by, updated_at, audit_sequence) VALUES ($1, $2, $3, '[]', 'draft', 1, $4, $5, $4, $5, 0) RETURNING id",
            )
            .bind(version.0)
            .bind(organisation.as_str())
            .bind(template_toml)
            .bind(context.actor.name.as_str())
            .bind(&at)
            .fetch_one(&mut *connection)
            .await
            .map_err(database_error)?;
            let payload = ::serde_json::json!({
                "assessment": id, "version": version.0, "organisation": organisation.as_str(),
                "template": template.name, "template_version": template.version,
                "template_sha256": sha256_hex(template_toml),
            });
            let sequence = append_audit(connection, context, "procurement.create", &format!("version:{}", version.0), &payload).await?;
            ::sqlx::query("UPDATE procurement_assessments SET audit_sequence = $1 WHERE id = $2")
                .bind(sequence as i64)
                .bind(id)
                .execute(&mut *connection)
                .await
                .map_err(database_error)?;
            assessment_in(connection, id).await
        }

        /// Replaces a draft's answers, inside the caller's transaction (see
        /// [`Store::save_answers`]).
        async fn save_answers_in(
            connection: &mut Connection,
            context: &ChangeContext,
            id: i64,
            answers: &[::vigil_domain::procurement::Answer],
            expected_revision: i64,
        ) -> Result<$crate::AssessmentRecord, StoreError> {
            let current = draft_assessment(connection, id, expected_revision).await?;
            ::vigil_domain::procurement::check_answers(&current.template, answers)?;
            let text = ::serde_json::to_string(answers).map_err(|error| StoreError::corrupt("answers", error))?;
            let payload = ::serde_json::json!({
                "assessment": id, "revision": current.revision + 1, "answers": answers.len(),
                "answers_sha256": sha256_hex(&text),
            });
            let sequence = append_audit(connection, context, "procurement.answer", &format!("version:{}", current.version.0), &payload).await?;
            ::sqlx::query(
                "UPDATE procurement_assessments SET answers = $1, revision = revision + 1, updated_by = $2, updated_at = $3, \
                 audit_sequence = $4 WHERE id = $5",
            )
            .bind(&text)
            .bind(context.actor.name.as_str())
            .bind(stored_timestamp(context.at))
            .bind(sequence as i64)
            .bind(id)
            .execute(&mut *connection)
            .await
            .map_err(database_error)?;
            assessment_in(connection, id).await
        }

        /// Completes a draft, inside the caller's transaction (see
        /// [`Store::complete_assessment`]).
        async fn complete_assessment_in(
            connection: &mut Connection,
            context: &ChangeContext,
            id: i64,
            expected_revision: i64,
        ) -> Result<$crate::AssessmentRecord, StoreError> {
            let current = draft_assessment(connection, id, expected_revision).await?;
            let scored = ::vigil_domain::procurement::score(&current.template, &current.answers);
            if !scored.unanswered.is_empty() {
                return Err(StoreError::Conflict(format!(
                    "assessment {id} cannot be completed: {} question(s) unanswered ({})",
                    scored.unanswered.len(),
                    scored.unanswered.join(", ")
                )));
            }
            let outcome = scored.outcome.as_str();
            let payload = ::serde_json::json!({
                "assessment": id, "revision": current.revision + 1, "outcome": outcome,
                "total_percent": scored.total_percent, "failed_gates": scored.failed_gates,
            });
            let sequence = append_audit(connection, context, "procurement.complete", &format!("version:{}", current.version.0), &payload).await?;
            ::sqlx::query(
                "UPDATE procurement_assessments SET state = 'completed', outcome = $1, total_percent = $2, revision = revision + 1, \
                 updated_by = $3, updated_at = $4, audit_sequence = $5 WHERE id = $6",
            )
            .bind(outcome)
            .bind(scored.total_percent)
            .bind(context.actor.name.as_str())
            .bind(stored_timestamp(context.at))
            .bind(sequence as i64)
            .bind(id)
            .execute(&mut *connection)
            .await
            .map_err(database_error)?;
            assessment_in(connection, id).await
        }

        /// A draft assessment at `expected_revision`, else a conflict.
        async fn draft_assessment(connection: &mut Connection, id: i64, expected_revision: i64) -> Result<$crate::AssessmentRecord, StoreError> {
            let current = assessment_in(connection, id).await?;
            if current.state != "draft" {
                return Err(StoreError::Conflict(format!("assessment {id} is completed; open a new one to assess again")));
            }
            if current.revision != expected_revision {
                return Err(StoreError::Conflict(format!(
                    "assessment {id} is at revision {} now, not {expected_revision}; reload it and answer again",
                    current.revision
                )));
            }
            Ok(current)
        }

        /// A hazard at its current revision, with its linked alerts.
        async fn hazard_in(connection: &mut Connection, id: i64) -> Result<$crate::HazardRecord, StoreError> {
            let row = ::sqlx::query("SELECT * FROM hazards WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *connection)
                .await
                .map_err(database_error)?
                .ok_or(StoreError::NotFound { what: "hazard", id: id.to_string() })?;
            let alerts: Vec<i64> = ::sqlx::query_scalar("SELECT alert_id FROM hazard_alerts WHERE hazard_id = $1 ORDER BY alert_id")
                .bind(id)
                .fetch_all(&mut *connection)
                .await
                .map_err(database_error)?;
            $crate::decode::hazard_record(&row, alerts)
        }

        /// The status a hazard had before an alert put it under review.
        async fn status_before_review(connection: &mut Connection, id: i64) -> Result<Option<String>, StoreError> {
            ::sqlx::query_scalar("SELECT status_before_review FROM hazards WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *connection)
                .await
                .map_err(database_error)
        }

        /// Stores revision `revision` of hazard `id` (current row and
        /// history), audited as `action`, and reads it back.
        #[allow(clippy::too_many_arguments)]
        async fn record_hazard_revision(
            connection: &mut Connection,
            context: &ChangeContext,
            id: i64,
            deployment: DeploymentId,
            revision: i64,
            hazard: &::vigil_domain::Hazard,
            status_before_review: Option<&str>,
            reason: &str,
            alert: Option<i64>,
            action: &str,
        ) -> Result<$crate::HazardRecord, StoreError> {
            let text = ::serde_json::to_string(hazard).map_err(|error| StoreError::corrupt("hazard", error))?;
            let payload = ::serde_json::json!({
                "deployment": deployment.0, "hazard": id, "revision": revision, "reason": reason, "alert": alert,
                "title": hazard.fields().title.as_str(), "status": hazard.status().as_str(),
                "initial_rating": hazard.fields().initial.rating().get(),
                "residual_rating": hazard.fields().residual.rating().get(),
                "hazard_sha256": sha256_hex(&text),
            });
            let sequence = append_audit(connection, context, action, &format!("deployment:{deployment}"), &payload).await?;
            ::sqlx::query(
                "UPDATE hazards SET revision = $1, hazard = $2, status = $3, status_before_review = $4, updated_by = $5, \
                 updated_at = $6, audit_sequence = $7 WHERE id = $8",
            )
            .bind(revision)
            .bind(&text)
            .bind(hazard.status().as_str())
            .bind(status_before_review)
            .bind(context.actor.name.as_str())
            .bind(stored_timestamp(context.at))
            .bind(sequence as i64)
            .bind(id)
            .execute(&mut *connection)
            .await
            .map_err(database_error)?;
            ::sqlx::query(
                "INSERT INTO hazard_history (hazard_id, revision, hazard, reason, alert_id, recorded_by, recorded_at, audit_sequence) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(revision)
            .bind(&text)
            .bind(reason)
            .bind(alert)
            .bind(context.actor.name.as_str())
            .bind(stored_timestamp(context.at))
            .bind(sequence as i64)
            .execute(&mut *connection)
            .await
            .map_err(database_error)?;
            hazard_in(connection, id).await
        }

        /// On resolving alert `alert`, records the reassessment of each
        /// hazard linked to it: a hazard under review whose alerts are now
        /// all resolved gets back its status before the review (or `open`,
        /// when its ratings no longer allow that status).
        async fn reassess_hazards(
            connection: &mut Connection,
            context: &ChangeContext,
            alert: i64,
            note: &str,
        ) -> Result<(), StoreError> {
            let linked: Vec<i64> = ::sqlx::query_scalar("SELECT hazard_id FROM hazard_alerts WHERE alert_id = $1 ORDER BY hazard_id")
                .bind(alert)
                .fetch_all(&mut *connection)
                .await
                .map_err(database_error)?;
            for id in linked {
                let current = hazard_in(connection, id).await?;
                let before = status_before_review(connection, id).await?;
                let open_alerts: i64 = ::sqlx::query_scalar(
                    "SELECT COUNT(*) FROM hazard_alerts l JOIN alerts a ON a.id = l.alert_id WHERE l.hazard_id = $1 AND a.state <> 'resolved'",
                )
                .bind(id)
                .fetch_one(&mut *connection)
                .await
                .map_err(database_error)?;
                let settled = current.hazard.status() == ::vigil_domain::HazardStatus::UnderReview && open_alerts == 0;
                let (hazard, kept_before) = if settled {
                    let restored = before
                        .as_deref()
                        .and_then(|status| ::vigil_domain::HazardStatus::parse(status).ok())
                        .unwrap_or(::vigil_domain::HazardStatus::Open);
                    let hazard = current
                        .hazard
                        .with_status(restored)
                        .or_else(|_| current.hazard.with_status(::vigil_domain::HazardStatus::Open))?;
                    (hazard, None)
                } else {
                    (current.hazard.clone(), before)
                };
                record_hazard_revision(
                    connection,
                    context,
                    id,
                    current.deployment,
                    current.revision + 1,
                    &hazard,
                    kept_before.as_deref(),
                    &format!("reassessed on resolving alert {alert}: {note}"),
                    Some(alert),
                    "hazard.reassess",
                )
                .await?;
            }
            Ok(())
        }

        async fn alert_in(connection: &mut Connection, id: i64) -> Result<$crate::AlertRecord, StoreError> {
            let row = ::sqlx::query("SELECT * FROM alerts WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *connection)
                .await
                .map_err(database_error)?
                .ok_or(StoreError::NotFound { what: "alert", id: id.to_string() })?;
            $crate::decode::alert_record(&row)
        }

        /// The outcomes stored for the named cases of a deployment, by case:
        /// (source, label, reader agrees, content hash).
        async fn stored_outcomes(
            connection: &mut Connection,
            deployment: DeploymentId,
            cases: &[&str],
        ) -> Result<::std::collections::HashMap<String, Vec<$crate::sql::StoredOutcome>>, StoreError> {
            use $crate::decode::DecodeRow as _;
            let rows = rows_of_cases(
                connection,
                "SELECT case_pseudonym, source, label, reader_agrees, content_sha256 FROM outcomes",
                deployment,
                cases,
            )
            .await?;
            let mut stored: ::std::collections::HashMap<String, Vec<$crate::sql::StoredOutcome>> = ::std::collections::HashMap::new();
            {
                for row in &rows {
                    let source = row.text("source").map_err(database_error)?;
                    let outcome = $crate::sql::StoredOutcome {
                        source: $crate::vigil_monitor::OutcomeSource::parse(&source)
                            .ok_or_else(|| StoreError::corrupt("outcome source", source))?,
                        label: row.integer("label").map_err(database_error)? == 1,
                        reader_agrees: row.optional_integer("reader_agrees").map_err(database_error)?.map(|agrees| agrees == 1),
                        content_sha256: row.text("content_sha256").map_err(database_error)?,
                    };
                    stored.entry(row.text("case_pseudonym").map_err(database_error)?).or_default().push(outcome);
                }
            }
            Ok(stored)
        }

        /// The stored events of the named cases of a deployment, by case, as
        /// the aggregates count them.
        async fn events_of_cases(
            connection: &mut Connection,
            deployment: DeploymentId,
            cases: &[&str],
        ) -> Result<::std::collections::HashMap<String, Vec<$crate::vigil_monitor::EventSummary>>, StoreError> {
            let mut events: ::std::collections::HashMap<String, Vec<$crate::vigil_monitor::EventSummary>> = ::std::collections::HashMap::new();
            for chunk in cases.chunks($crate::sql::EVENT_ROWS_PER_STATEMENT) {
                let names: Vec<String> = chunk.iter().map(|case| ::serde_json::Value::from(*case).to_string()).collect();
                let text: String = ::sqlx::query_scalar(<$store>::CASE_EVENTS_JSON)
                    .bind(deployment.0)
                    .bind($crate::sql::json_array(names.iter().map(String::as_str)))
                    .fetch_one(&mut *connection)
                    .await
                    .map_err(database_error)?;
                let rows: Vec<(String, String, String, Option<String>, Option<i64>)> =
                    ::serde_json::from_str(&text).map_err(|error| StoreError::corrupt("events of cases", error))?;
                for (case, day, model_version, score, decision) in rows {
                    let summary = $crate::vigil_monitor::EventSummary {
                        key: $crate::vigil_monitor::DayKey {
                            day: day.parse().map_err(|error| StoreError::corrupt("event day", error))?,
                            model_version,
                        },
                        score: score
                            .map(|score| score.parse::<f64>())
                            .transpose()
                            .map_err(|error| StoreError::corrupt("event score", error))?,
                        decision: decision.map(|decision| decision == 1),
                    };
                    events.entry(case).or_default().push(summary);
                }
            }
            Ok(events)
        }

        /// The stored day aggregates of the given days of a deployment (an
        /// empty aggregate for a day not stored yet).
        async fn load_days(
            connection: &mut Connection,
            deployment: DeploymentId,
            keys: Vec<$crate::vigil_monitor::DayKey>,
        ) -> Result<::std::collections::BTreeMap<$crate::vigil_monitor::DayKey, $crate::vigil_monitor::DayAggregate>, StoreError> {
            use $crate::decode::DecodeRow as _;
            let mut days: ::std::collections::BTreeMap<$crate::vigil_monitor::DayKey, $crate::vigil_monitor::DayAggregate> = keys
                .into_iter()
                .map(|key| (key, $crate::vigil_monitor::DayAggregate::empty()))
                .collect();
            let mut dates: Vec<String> = days.keys().map(|key| key.day.to_string()).collect();
            dates.dedup();
            // One query for every day concerned (all its model versions);
            // the versions not asked for are skipped here.
            let statement = format!(
                "SELECT day, model_version, aggregate FROM daily_aggregates WHERE deployment_id = $1 AND day IN ({})",
                <$store>::JSON_TEXTS
            );
            for chunk in dates.chunks($crate::sql::EVENT_ROWS_PER_STATEMENT) {
                let names: Vec<String> = chunk.iter().map(|date| ::serde_json::Value::from(date.as_str()).to_string()).collect();
                let rows = ::sqlx::query(::sqlx::AssertSqlSafe(statement.as_str()))
                    .bind(deployment.0)
                    .bind($crate::sql::json_array(names.iter().map(String::as_str)))
                    .fetch_all(&mut *connection)
                    .await
                    .map_err(database_error)?;
                for row in &rows {
                    let day: String = row.text("day").map_err(database_error)?;
                    let key = $crate::vigil_monitor::DayKey {
                        day: day.parse().map_err(|error| StoreError::corrupt("aggregate day", error))?,
                        model_version: row.text("model_version").map_err(database_error)?,
                    };
                    if let Some(slot) = days.get_mut(&key) {
                        let text: String = row.text("aggregate").map_err(database_error)?;
                        *slot = ::serde_json::from_str::<$crate::vigil_monitor::DayAggregate>(&text)
                            .map_err(|error| StoreError::corrupt("day aggregate", error))?;
                    }
                }
            }
            Ok(days)
        }

        /// Writes day aggregates of a deployment, replacing those stored: one
        /// prepared single-row upsert a day, each aggregate bound as text.
        /// (A batch touches a few days, or a few dozen for late outcomes; a
        /// JSON array of them would make the database parse and unescape
        /// every aggregate's text once more.)
        async fn save_days(
            connection: &mut Connection,
            deployment: DeploymentId,
            days: &::std::collections::BTreeMap<$crate::vigil_monitor::DayKey, $crate::vigil_monitor::DayAggregate>,
        ) -> Result<(), StoreError> {
            if days.is_empty() {
                return Ok(());
            }
            let mut items = Vec::with_capacity(days.len());
            for (key, aggregate) in days {
                let text = ::serde_json::to_string(aggregate).map_err(|error| StoreError::corrupt("day aggregate", error))?;
                items.push(::serde_json::json!([key.day.to_string(), key.model_version.as_str(), text]).to_string());
            }
            ::sqlx::query(<$store>::UPSERT_DAYS)
                .bind(deployment.0)
                .bind($crate::sql::json_array(items.iter().map(String::as_str)))
                .execute(&mut *connection)
                .await
                .map_err(database_error)?;
            Ok(())
        }

        /// Appends ` AND trust IN (…)` for the given Trusts; `false` (and
        /// nothing appended) when there are none, so nothing can match.
        fn push_trusts_within(select: &mut ::sqlx::QueryBuilder<$database>, trusts: &[String]) -> bool {
            if trusts.is_empty() {
                return false;
            }
            select.push(" AND trust IN (");
            let mut separated = select.separated(", ");
            for trust in trusts {
                separated.push_bind(trust.clone());
            }
            separated.push_unseparated(")");
            true
        }

        /// Stores the rows of a batch of events, inside the caller's
        /// transaction, before the write lock is needed: the first of the
        /// two steps of storing a batch (see `write_with_unlocked_start`).
        /// Refuses the batch if an event was stored before with other
        /// content. PostgreSQL runs this step of several batches at once; a
        /// batch whose events another batch is storing waits for that one's
        /// transaction to end, and since every batch stores its rows in
        /// event-id order, two batches never wait for each other.
        async fn store_event_rows_in(
            connection: &mut Connection,
            deployment: DeploymentId,
            events: &[$crate::vigil_monitor::Event],
            chunks: Vec<(&[$crate::sql::EventRow], <$store as $crate::sql::EventInsertParameters>::Parameters<'_>)>,
        ) -> Result<StoredEventRows, StoreError> {
            deployment_in(connection, deployment).await?;
            let batch: i64 = ::sqlx::query_scalar(<$store>::NEXT_EVENT_BATCH)
                .fetch_one(&mut *connection)
                .await
                .map_err(database_error)?;
            // Each chunk is inserted without returning its rows (a
            // returned row crosses from the database's thread one by
            // one); only a chunk that stored fewer rows than it holds
            // (some were sent before) is looked at row by row.
            let mut stored_now = vec![false; events.len()];
            let mut changed = Vec::new();
            for (chunk, parameters) in chunks {
                let inserted = <$store>::insert_event_chunk(&mut *connection, deployment.0, batch, parameters).await?;
                if inserted == chunk.len() as u64 {
                    for row in chunk {
                        stored_now[row.position] = true;
                    }
                    continue;
                }
                let names: Vec<String> = chunk
                    .iter()
                    .map(|row| ::serde_json::Value::from(events[row.position].event_id.as_str()).to_string())
                    .collect();
                let stored: ::std::collections::HashMap<String, (String, i64)> = ::sqlx::query(<$store>::STORED_EVENT_HASHES)
                    .bind(deployment.0)
                    .bind($crate::sql::json_array(names.iter().map(String::as_str)))
                    .fetch_all(&mut *connection)
                    .await
                    .map_err(database_error)?
                    .iter()
                    .map(|row| {
                        use $crate::decode::DecodeRow as _;
                        Ok((
                            row.text("event_id").map_err(database_error)?,
                            (
                                row.text("content_sha256").map_err(database_error)?,
                                row.integer("batch_id").map_err(database_error)?,
                            ),
                        ))
                    })
                    .collect::<Result<_, StoreError>>()?;
                // An event stored before must be the same event: a
                // correction sent under an old event_id is refused,
                // not silently dropped as a duplicate.
                for row in chunk {
                    match stored.get(&events[row.position].event_id) {
                        Some((_, stored_batch)) if *stored_batch == batch => stored_now[row.position] = true,
                        Some((stored_hash, _)) if *stored_hash == row.content_sha256 => {}
                        _ => changed.push(row.position + 1),
                    }
                }
            }
            if !changed.is_empty() {
                changed.sort_unstable();
                let shown: Vec<String> = changed.iter().take(10).map(ToString::to_string).collect();
                return Err(StoreError::Conflict(format!(
                    "{} event{} stored before with other content (event{} {}{} in the order sent); nothing was stored. \
                     An event is never changed: send a correction as a new event",
                    changed.len(),
                    if changed.len() == 1 { " was" } else { "s were" },
                    if changed.len() == 1 { "" } else { "s" },
                    shown.join(", "),
                    if changed.len() > 10 { ", …" } else { "" }
                )));
            }
            Ok(StoredEventRows { batch, stored_now })
        }

        /// What the first step of storing a batch of events leaves for the
        /// second: the batch's id and which of its events (in the order
        /// sent) it stored, the others having been stored before.
        struct StoredEventRows {
            batch: i64,
            stored_now: Vec<bool>,
        }

        /// Counts a batch's newly stored events into the day aggregates and
        /// records the batch and its audit entry, inside the caller's
        /// transaction and under the write lock: the second of the two
        /// steps of storing a batch.
        async fn record_event_batch_in(
            connection: &mut Connection,
            context: &ChangeContext,
            deployment: DeploymentId,
            events: &[$crate::vigil_monitor::Event],
            aggregates_without_outcomes: ::std::collections::BTreeMap<$crate::vigil_monitor::DayKey, $crate::vigil_monitor::DayAggregate>,
            stored_rows: StoredEventRows,
            body_sha256: &str,
        ) -> Result<$crate::IngestSummary, StoreError> {
            let StoredEventRows { batch, stored_now } = stored_rows;
            let received = events.len() as u64;
            // New events are counted against what their cases'
            // outcomes, recorded before them, already say.
            let stored_events: Vec<&$crate::vigil_monitor::Event> = events
                .iter()
                .zip(&stored_now)
                .filter(|(_, stored)| **stored)
                .map(|(event, _)| event)
                .collect();
            let mut cases: Vec<&str> = stored_events.iter().map(|event| event.case.as_str()).collect();
            cases.sort_unstable();
            cases.dedup();
            let truths: ::std::collections::HashMap<String, $crate::vigil_monitor::CaseTruth> =
                stored_outcomes(connection, deployment, &cases)
                    .await?
                    .into_iter()
                    .map(|(case, outcomes)| (case, $crate::sql::case_truth(&outcomes)))
                    .collect();
            // Usually every event is new and none of their cases has an
            // outcome yet: the aggregate made before the lock is the one.
            let added = if truths.is_empty() && stored_events.len() == events.len() {
                aggregates_without_outcomes
            } else {
                $crate::vigil_monitor::aggregate_with_outcomes(stored_events.iter().copied(), |event| {
                    truths.get(event.case.as_str()).copied()
                })
            };
            let mut days = load_days(connection, deployment, added.keys().cloned().collect()).await?;
            for (key, aggregate) in &added {
                if let Some(day) = days.get_mut(key) {
                    day.merge(aggregate);
                }
            }
            save_days(connection, deployment, &days).await?;
            let stored = stored_events.len() as u64;
            let payload = ::serde_json::json!({
                "deployment": deployment.0, "batch": batch, "rows_received": received, "rows_stored": stored,
                "body_sha256": body_sha256,
            });
            let sequence = append_audit(connection, context, "events.ingest", &format!("deployment:{deployment}"), &payload).await?;
            ::sqlx::query(
                "INSERT INTO event_batches (id, deployment_id, received_at, received_by, body_sha256, rows_received, rows_stored, audit_sequence) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(batch)
            .bind(deployment.0)
            .bind(stored_timestamp(context.at))
            .bind(context.actor.name.as_str())
            .bind(body_sha256)
            .bind(received as i64)
            .bind(stored as i64)
            .bind(sequence as i64)
            .execute(&mut *connection)
            .await
            .map_err(database_error)?;
            Ok($crate::IngestSummary { batch, received, stored, duplicates: received - stored })
        }

        /// Stores a batch of events in its two steps (see
        /// `store_event_rows_in` and `record_event_batch_in`), then runs
        /// `then` with the batch's summary in the same transaction, under
        /// the write lock.
        async fn write_event_batch<T>(
            store: &$store,
            context: &ChangeContext,
            deployment: DeploymentId,
            events: &[$crate::vigil_monitor::Event],
            body_sha256: &str,
            then: impl for<'c> AsyncFnOnce(&'c mut Connection, $crate::IngestSummary) -> Result<T, StoreError>,
        ) -> Result<T, StoreError> {
            let $crate::sql::PreparedEvents { rows, aggregates_without_outcomes } = $crate::sql::PreparedEvents::of(events)?;
            let chunks = rows
                .chunks(<$store>::EVENT_ROWS_PER_INSERT)
                .map(|chunk| (chunk, <$store as $crate::sql::EventInsertParameters>::event_insert_parameters(events, chunk)))
                .collect();
            store
                .write_with_unlocked_start(
                    async |connection| store_event_rows_in(connection, deployment, events, chunks).await,
                    async |connection, stored_rows| {
                        let summary = record_event_batch_in(
                            connection, context, deployment, events, aggregates_without_outcomes, stored_rows, body_sha256,
                        )
                        .await?;
                        then(connection, summary).await
                    },
                )
                .await
        }

        /// Records a received DICOM instance, inside the caller's
        /// transaction (see [`Store::record_dicom_instance`]).
        async fn record_dicom_instance_in(
            connection: &mut Connection,
            context: &ChangeContext,
            instance: &$crate::DicomInstanceRecord,
        ) -> Result<$crate::DicomRecorded, StoreError> {
            use $crate::{DicomDisposition, DicomRecorded};
            use $crate::decode::DecodeRow as _;
            let (deployment, reason, acquisition) = match &instance.disposition {
                DicomDisposition::Event { deployment } => (Some(deployment.0), None, None),
                DicomDisposition::Acquisition { metadata } => {
                    (None, None, Some($crate::sql::acquisition_json(metadata)))
                }
                DicomDisposition::Quarantined { reason } => (None, Some(reason.as_str()), None),
            };
            let existing = ::sqlx::query(
                "SELECT id, disposition, deployment_id FROM dicom_instances WHERE trust = $1 AND sop_instance = $2",
            )
            .bind(instance.trust.as_str())
            .bind(instance.sop_instance.as_str())
            .fetch_optional(&mut *connection)
            .await
            .map_err(database_error)?;
            if let Some(row) = existing {
                let id = row.integer("id").map_err(database_error)?;
                let was = row.text("disposition").map_err(database_error)?;
                if was != "quarantined" || matches!(instance.disposition, DicomDisposition::Quarantined { .. }) {
                    return Ok(DicomRecorded::AlreadyStored { id });
                }
                ::sqlx::query(
                    "UPDATE dicom_instances SET disposition = $1, deployment_id = $2, reason = NULL, acquisition = $3, \
                     original_sha256 = COALESCE(original_sha256, $4) WHERE id = $5",
                )
                .bind(instance.disposition.as_str())
                .bind(deployment)
                .bind(acquisition.as_deref())
                .bind(instance.original_sha256.as_deref())
                .bind(id)
                .execute(&mut *connection)
                .await
                .map_err(database_error)?;
                let payload = ::serde_json::json!({
                    "instance": id,
                    "disposition": instance.disposition.as_str(),
                    "deployment": deployment,
                });
                append_audit(connection, context, "dicom.release", &format!("organisation:{}", instance.trust), &payload).await?;
                return Ok(DicomRecorded::Released { id });
            }
            if let Some(deployment) = deployment {
                deployment_in(connection, DeploymentId(deployment)).await?;
            }
            let id: i64 = ::sqlx::query_scalar(
                "INSERT INTO dicom_instances (trust, sop_instance, sop_class_uid, kind, study, series, accession, modality, \
                 calling_ae, received_at, disposition, deployment_id, reason, acquisition, original_sha256) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
            )
            .bind(instance.trust.as_str())
            .bind(instance.sop_instance.as_str())
            .bind(instance.sop_class_uid.as_str())
            .bind(instance.kind.as_str())
            .bind(instance.study.as_str())
            .bind(instance.series.as_ref().map(|series| series.as_str()))
            .bind(instance.accession.as_ref().map(|accession| accession.as_str()))
            .bind(instance.modality.as_deref())
            .bind(instance.calling_ae.as_str())
            .bind(stored_timestamp(instance.received_at))
            .bind(instance.disposition.as_str())
            .bind(deployment)
            .bind(reason)
            .bind(acquisition.as_deref())
            .bind(instance.original_sha256.as_deref())
            .fetch_one(&mut *connection)
            .await
            .map_err(database_error)?;
            if let Some(reason) = reason {
                // The reason is Vigil's own text (route, class,
                // manufacturer, AE title), never a value of the
                // object's identifying attributes.
                let payload = ::serde_json::json!({
                    "instance": id,
                    "sop_class_uid": instance.sop_class_uid,
                    "kind": instance.kind,
                    "calling_ae": instance.calling_ae,
                    "reason": reason,
                });
                append_audit(connection, context, "dicom.quarantine", &format!("organisation:{}", instance.trust), &payload).await?;
            }
            Ok(DicomRecorded::Stored { id })
        }

        /// Appends one audit entry and moves the recorded head, inside the caller's
        /// transaction. Returns the entry's sequence number.
        async fn append_audit(
            connection: &mut Connection,
            context: &ChangeContext,
            action: &str,
            subject: &str,
            payload: &::serde_json::Value,
        ) -> Result<u64, StoreError> {
            let head = ::sqlx::query("SELECT sequence, hash FROM audit_head WHERE singleton = 1")
                .fetch_optional(&mut *connection)
                .await
                .map_err(database_error)?
                .map(|row| audit_head_row(&row))
                .transpose()
                .map_err(database_error)?;
            let (row, new_head) = audit_row(head.as_ref(), context, action, subject, payload)?;
            insert_audit_row(connection, &row).await?;
            ::sqlx::query(
                "INSERT INTO audit_head (singleton, sequence, hash) VALUES (1, $1, $2) \
                 ON CONFLICT (singleton) DO UPDATE SET sequence = excluded.sequence, hash = excluded.hash",
            )
            .bind(new_head.sequence)
            .bind(&new_head.hash)
            .execute(&mut *connection)
            .await
            .map_err(database_error)?;
            Ok(row.sequence as u64)
        }

        async fn insert_audit_row(
            connection: &mut Connection,
            row: &AuditRow,
        ) -> Result<(), StoreError> {
            ::sqlx::query(
                "INSERT INTO audit_log (sequence, recorded_at, actor, role, organisation, action, subject, payload, previous_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(row.sequence)
            .bind(&row.recorded_at)
            .bind(&row.actor)
            .bind(&row.role)
            .bind(&row.organisation)
            .bind(&row.action)
            .bind(&row.subject)
            .bind(&row.payload)
            .bind(&row.previous_hash)
            .bind(&row.hash)
            .execute(&mut *connection)
            .await
            .map_err(database_error)?;
            Ok(())
        }

        /// The registry and audit trail, read in the caller's snapshot.
        async fn read_registry(connection: &mut Connection) -> Result<Archive, StoreError> {
            let archive = Archive {
                format: ARCHIVE_FORMAT.to_owned(),
                exported_at: stored_timestamp(::jiff::Timestamp::now()),
                source_backend: <$store>::BACKEND_NAME.to_owned(),
                organisations: fetch_rows(
                    &mut *connection,
                    ORGANISATIONS_PARENTS_FIRST,
                    organisation_row,
                )
                .await?,
                users: fetch_rows(
                    &mut *connection,
                    "SELECT * FROM users ORDER BY id",
                    user_row,
                )
                .await?,
                products: fetch_rows(
                    &mut *connection,
                    "SELECT * FROM products ORDER BY id",
                    product_row,
                )
                .await?,
                product_versions: fetch_rows(
                    &mut *connection,
                    "SELECT * FROM product_versions ORDER BY id",
                    version_row,
                )
                .await?,
                deployments: fetch_rows(
                    &mut *connection,
                    "SELECT * FROM deployments ORDER BY id",
                    deployment_row,
                )
                .await?,
                decisions: fetch_rows(
                    &mut *connection,
                    "SELECT * FROM decisions ORDER BY id",
                    decision_row,
                )
                .await?,
                sign_off_policies: fetch_rows(&mut *connection, "SELECT * FROM sign_off_policies ORDER BY version", policy_row).await?,
                evaluations: fetch_rows(&mut *connection, "SELECT * FROM evaluations ORDER BY id", evaluation_row).await?,
                api_tokens: fetch_rows(&mut *connection, "SELECT * FROM api_tokens ORDER BY id", api_token_row).await?,
                user_credentials: fetch_rows(
                    &mut *connection,
                    "SELECT * FROM user_credentials ORDER BY user_id",
                    $crate::decode::credential_row,
                )
                .await?,
                pending_sign_offs: fetch_rows(
                    &mut *connection,
                    "SELECT * FROM pending_sign_offs ORDER BY audit_sequence",
                    pending_sign_off_row,
                )
                .await?,
                audit_log: fetch_rows(&mut *connection, &format!("{AUDIT_LOG_COLUMNS} ORDER BY position"), audit_log_row)
                .await?,
                audit_head: ::sqlx::query("SELECT sequence, hash FROM audit_head WHERE singleton = 1")
                    .fetch_optional(&mut *connection)
                    .await
                    .map_err(database_error)?
                    .map(|row| audit_head_row(&row))
                    .transpose()
                    .map_err(database_error)?,
                monitoring: None,
            };
            Ok(archive)
        }

        /// The monitoring tables' batches and how many rows of each they
        /// hold, read in the caller's snapshot to be checked against the
        /// trail (`consistency::check_monitoring`), and how the store's own
        /// key tables match the events where it keeps them. The rows are
        /// counted in the database, not read: one scan of each table.
        async fn read_monitoring_ledger(
            connection: &mut Connection,
        ) -> Result<$crate::consistency::MonitoringLedger, StoreError> {
            use $crate::decode::DecodeRow as _;
            async fn batches(
                connection: &mut Connection,
                table: &str,
            ) -> Result<Vec<$crate::consistency::BatchRecord>, StoreError> {
                ::sqlx::query(::sqlx::AssertSqlSafe(format!(
                    "SELECT id, deployment_id, received_at, received_by, body_sha256, rows_received, rows_stored, audit_sequence \
                     FROM {table} ORDER BY id"
                )))
                .fetch_all(&mut *connection)
                .await
                .map_err(database_error)?
                .iter()
                .map(|row| {
                    Ok($crate::consistency::BatchRecord {
                        id: row.integer("id")?,
                        deployment: row.integer("deployment_id")?,
                        received_at: row.text("received_at")?,
                        received_by: row.text("received_by")?,
                        body_sha256: row.text("body_sha256")?,
                        rows_received: row.integer("rows_received")?,
                        rows_stored: row.integer("rows_stored")?,
                        audit_sequence: row.integer("audit_sequence")?,
                    })
                })
                .collect::<Result<_, ::sqlx::Error>>()
                .map_err(database_error)
            }
            async fn rows_by_batch(
                connection: &mut Connection,
                table: &str,
            ) -> Result<::std::collections::BTreeMap<(i64, i64), u64>, StoreError> {
                ::sqlx::query(::sqlx::AssertSqlSafe(format!(
                    "SELECT batch_id, deployment_id, CAST(COUNT(*) AS BIGINT) AS held FROM {table} GROUP BY batch_id, deployment_id"
                )))
                .fetch_all(&mut *connection)
                .await
                .map_err(database_error)?
                .iter()
                .map(|row| {
                    let held = row.integer("held").map_err(database_error)?;
                    Ok((
                        (
                            row.integer("batch_id").map_err(database_error)?,
                            row.integer("deployment_id").map_err(database_error)?,
                        ),
                        u64::try_from(held).map_err(|error| StoreError::corrupt("row count", error))?,
                    ))
                })
                .collect()
            }
            Ok($crate::consistency::MonitoringLedger {
                event_batches: batches(&mut *connection, "event_batches").await?,
                outcome_batches: batches(&mut *connection, "outcome_batches").await?,
                events_by_batch: rows_by_batch(&mut *connection, "inference_events").await?,
                outcomes_by_batch: rows_by_batch(&mut *connection, "outcomes").await?,
                event_keys: <$store>::event_key_ledger(&mut *connection).await?,
            })
        }

        /// Writes one table of an archive, row by row as they are read, and
        /// answers how many rows it wrote.
        async fn export_table(
            connection: &mut Connection,
            table: &'static $crate::archive_tables::ArchivedTable,
            out: &mut (dyn ::std::io::Write + Send),
        ) -> Result<u64, StoreError> {
            use $crate::archive_tables::{ArchivedValue, ColumnKind};
            use $crate::futures_core::Stream as _;
            let written = |error| StoreError::ArchiveOutput(error);
            let columns: Vec<String> = table
                .columns
                .iter()
                .map(|(name, kind)| match kind {
                    ColumnKind::EventId => format!("{} AS {name}", <$store>::ARCHIVED_EVENT_ID),
                    _ => (*name).to_owned(),
                })
                .collect();
            let sql = <$store>::archive_rows_query(table, &columns.join(", "));
            writeln!(out, "{}", $crate::archive_tables::table_start_line(table)).map_err(written)?;
            let mut rows = ::sqlx::query(::sqlx::AssertSqlSafe(sql.as_str())).fetch(&mut *connection);
            let mut count = 0_u64;
            let mut values = Vec::with_capacity(table.columns.len());
            while let Some(row) = ::std::future::poll_fn(|context| rows.as_mut().poll_next(context)).await {
                let row = row.map_err(database_error)?;
                values.clear();
                for (index, (_, kind)) in table.columns.iter().enumerate() {
                    let value = match kind {
                        ColumnKind::Integer => ::sqlx::Row::try_get::<Option<i64>, _>(&row, index)
                            .map(|value| value.map(ArchivedValue::Integer)),
                        ColumnKind::Real => ::sqlx::Row::try_get::<Option<f64>, _>(&row, index)
                            .map(|value| value.map(ArchivedValue::Real)),
                        ColumnKind::Text | ColumnKind::EventId => ::sqlx::Row::try_get::<Option<String>, _>(&row, index)
                            .map(|value| value.map(ArchivedValue::Text)),
                        ColumnKind::Bytes => ::sqlx::Row::try_get::<Option<Vec<u8>>, _>(&row, index)
                            .map(|value| value.map(ArchivedValue::Bytes)),
                    }
                    .map_err(database_error)?;
                    values.push(value.unwrap_or(ArchivedValue::Null));
                }
                writeln!(out, "{}", $crate::archive_tables::row_line(&values)).map_err(written)?;
                count += 1;
            }
            writeln!(out, "{}", $crate::archive_tables::table_end_line(table, count)).map_err(written)?;
            Ok(count)
        }

        /// Stores the tables of an archive that follow its registry, inside
        /// the import's transaction, and answers how many rows it stored and
        /// the monitoring batches and row counts it read.
        async fn import_tables(
            connection: &mut Connection,
            tables: &mut (dyn ::std::io::BufRead + Send),
        ) -> Result<(u64, $crate::consistency::MonitoringLedger), StoreError> {
            use $crate::archive_tables::{ArchivedValue, ColumnKind};
            // Values a statement: within both databases' limits on
            // parameters. Rows are read in chunks of at most 1,000 rows and
            // 16 MiB of archive (attachments are up to 20 MiB each).
            const VALUES_A_STATEMENT: usize = 8_000;
            const CHUNK_ROWS: usize = 1_000;
            const CHUNK_BYTES: usize = 16 << 20;
            let mut reader = $crate::archive_tables::TableReader::new(tables, 2);
            let mut stored = 0_u64;
            let mut ledger = $crate::consistency::MonitoringLedger::default();
            while let Some(chunk) = reader.next_chunk(CHUNK_ROWS, CHUNK_BYTES)? {
                let $crate::archive_tables::RowChunk { table, rows, first_line, last_line } = chunk;
                let width = table.columns.len();
                stored += rows.len() as u64;
                for row in &rows {
                    ledger.note_archived_row(table, row);
                }
                let mut rows = rows.into_iter().peekable();
                while rows.peek().is_some() {
                    let statement_rows: Vec<Vec<ArchivedValue>> =
                        rows.by_ref().take((VALUES_A_STATEMENT / width).max(1)).collect();
                    let mut sql = format!("INSERT INTO {} ({}) VALUES ", table.name, table.column_list());
                    for row in 0..statement_rows.len() {
                        let marks: Vec<String> =
                            (1..=width).map(|column| <$store>::archive_parameter(row * width + column)).collect();
                        sql.push_str(if row == 0 { "(" } else { ", (" });
                        sql.push_str(&marks.join(", "));
                        sql.push(')');
                    }
                    let mut query = ::sqlx::query(::sqlx::AssertSqlSafe(sql.as_str()));
                    for row in statement_rows {
                        for (value, (_, kind)) in row.into_iter().zip(table.columns) {
                            let value = match (kind, value) {
                                (ColumnKind::EventId, ArchivedValue::Text(text)) => <$store>::stored_event_id(&text),
                                (_, value) => value,
                            };
                            query = match (kind, value) {
                                (ColumnKind::Integer, ArchivedValue::Null) => query.bind(None::<i64>),
                                (ColumnKind::Real, ArchivedValue::Null) => query.bind(None::<f64>),
                                (ColumnKind::Bytes, ArchivedValue::Null) => query.bind(None::<Vec<u8>>),
                                (_, ArchivedValue::Null) => query.bind(None::<String>),
                                (_, ArchivedValue::Integer(value)) => query.bind(value),
                                (_, ArchivedValue::Real(value)) => query.bind(value),
                                (_, ArchivedValue::Text(value)) => query.bind(value),
                                (_, ArchivedValue::Bytes(value)) => query.bind(value),
                            };
                        }
                    }
                    query.execute(&mut *connection).await.map_err(|error| {
                        StoreError::ImportRefused(format!(
                            "the rows of table {:?} on lines {first_line} to {last_line} were refused: {error}",
                            table.name
                        ))
                    })?;
                }
            }
            Ok((stored, ledger))
        }

        async fn fetch_rows<T>(
            connection: impl ::sqlx::Executor<'_, Database = $database>,
            sql: &str,
            convert: fn(&DatabaseRow) -> Result<T, ::sqlx::Error>,
        ) -> Result<Vec<T>, StoreError> {
            ::sqlx::query(::sqlx::AssertSqlSafe(sql))
                .fetch_all(connection)
                .await
                .map_err(database_error)?
                .iter()
                .map(|row| convert(row).map_err(database_error))
                .collect()
        }

        async fn deployment_in(
            connection: &mut Connection,
            id: DeploymentId,
        ) -> Result<DeploymentRow, StoreError> {
            let row = ::sqlx::query("SELECT * FROM deployments WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&mut *connection)
                .await
                .map_err(database_error)?
                .ok_or(StoreError::NotFound {
                    what: "deployment",
                    id: id.to_string(),
                })?;
            deployment_row(&row).map_err(database_error)
        }

        async fn product_modality(
            connection: &mut Connection,
            product: i64,
        ) -> Result<Modality, StoreError> {
            let modality: String = ::sqlx::query_scalar("SELECT modality FROM products WHERE id = $1")
                .bind(product)
                .fetch_one(&mut *connection)
                .await
                .map_err(database_error)?;
            Modality::parse(&modality).map_err(|error| StoreError::corrupt("product modality", error))
        }

        /// The sign-off policy in force, read inside the caller's transaction.
        async fn policy_in(connection: &mut Connection) -> Result<$crate::StoredPolicy, StoreError> {
            let row = ::sqlx::query("SELECT * FROM sign_off_policies ORDER BY version DESC LIMIT 1")
                .fetch_optional(&mut *connection)
                .await
                .map_err(database_error)?;
            match row {
                None => Ok($crate::StoredPolicy { version: 0, entries: Vec::new(), policy: SignOffPolicy::default() }),
                Some(row) => {
                    let row = policy_row(&row).map_err(database_error)?;
                    Ok($crate::StoredPolicy { version: row.version, entries: row.entries()?, policy: row.to_policy()? })
                }
            }
        }

        /// Inserts one organisation and its audit entry in the caller's transaction.
        async fn insert_organisation(
            connection: &mut Connection,
            context: &ChangeContext,
            organisation: &Organisation,
        ) -> Result<(), StoreError> {
            let row = OrganisationRow::new(organisation, context.at);
            ::sqlx::query("INSERT INTO organisations (code, name, kind, parent, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&row.code)
                .bind(&row.name)
                .bind(&row.kind)
                .bind(&row.parent)
                .bind(&row.created_at)
                .execute(&mut *connection)
                .await
                .map_err(already_exists("organisation", || row.code.clone()))?;
            let payload = $crate::governance::organisation_payload(&row);
            append_audit(connection, context, "organisation.add", &format!("organisation:{}", row.code), &payload).await?;
            Ok(())
        }

        /// Inserts one user and its audit entry in the caller's transaction.
        async fn insert_user(
            connection: &mut Connection,
            context: &ChangeContext,
            user: &NewUser,
        ) -> Result<UserRecord, StoreError> {
            let created_at = stored_timestamp(context.at);
            let id: i64 = ::sqlx::query_scalar(
                "INSERT INTO users (user_name, display_name, role, organisation, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(user.user_name.as_str())
            .bind(user.display_name.as_str())
            .bind(user.role.as_str())
            .bind(user.organisation.as_str())
            .bind(&created_at)
            .fetch_one(&mut *connection)
            .await
            .map_err(already_exists("user", || user.user_name.to_string()))?;
            let row = UserRow {
                id,
                user_name: user.user_name.to_string(),
                display_name: user.display_name.to_string(),
                role: user.role.as_str().to_owned(),
                organisation: user.organisation.to_string(),
                created_at,
                disabled: 0,
            };
            let payload = $crate::governance::user_payload(&row);
            append_audit(connection, context, "user.add", &format!("user:{id}"), &payload).await?;
            row.to_domain()
        }

        /// Stores a user's password hash and ends their sessions, with the
        /// audit entry `user.password` (without the hash), in the caller's
        /// transaction.
        async fn store_password_hash(
            connection: &mut Connection,
            context: &ChangeContext,
            user: i64,
            password_hash: &str,
        ) -> Result<(), StoreError> {
            let at = stored_timestamp(context.at);
            ::sqlx::query(
                "INSERT INTO user_credentials (user_id, password_hash, set_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash, set_at = excluded.set_at",
            )
            .bind(user)
            .bind(password_hash)
            .bind(&at)
            .execute(&mut *connection)
            .await
            .map_err(database_error)?;
            ::sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user)
                .execute(&mut *connection)
                .await
                .map_err(database_error)?;
            let payload = ::serde_json::json!({"id": user});
            append_audit(connection, context, "user.password", &format!("user:{user}"), &payload).await?;
            Ok(())
        }

        /// Inserts one evaluation row (new or imported) in the caller's transaction.
        async fn insert_evaluation_row(
            connection: &mut Connection,
            row: &$crate::rows::EvaluationRow,
        ) -> Result<(), ::sqlx::Error> {
            ::sqlx::query(
                "INSERT INTO evaluations (id, deployment_id, version_id, verdict, protocol, options, cases_sha256, cases_bytes, \
                 result, report, created_by, created_at, audit_sequence) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(row.id)
            .bind(row.deployment_id)
            .bind(row.version_id)
            .bind(&row.verdict)
            .bind(&row.protocol)
            .bind(&row.options)
            .bind(&row.cases_sha256)
            .bind(row.cases_bytes)
            .bind(&row.result)
            .bind(&row.report)
            .bind(&row.created_by)
            .bind(&row.created_at)
            .bind(row.audit_sequence)
            .execute(&mut *connection)
            .await
            .map(|_| ())
        }

        /// Inserts one pending sign-off row (new or imported) in the caller's
        /// transaction.
        async fn insert_pending_sign_off_row(
            connection: &mut Connection,
            row: &$crate::rows::PendingSignOffRow,
        ) -> Result<(), ::sqlx::Error> {
            ::sqlx::query(
                "INSERT INTO pending_sign_offs (deployment_id, revision, to_state, user_name, role, signed_at, audit_sequence) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(row.deployment_id)
            .bind(row.revision)
            .bind(&row.to_state)
            .bind(&row.user_name)
            .bind(&row.role)
            .bind(&row.signed_at)
            .bind(row.audit_sequence)
            .execute(&mut *connection)
            .await
            .map(|_| ())
        }

        /// One user by id, inside the caller's transaction.
        async fn user_in(connection: &mut Connection, id: i64) -> Result<UserRow, StoreError> {
            let row = ::sqlx::query("SELECT * FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *connection)
                .await
                .map_err(database_error)?
                .ok_or(StoreError::NotFound { what: "user", id: id.to_string() })?;
            user_row(&row).map_err(database_error)
        }

        /// One API token by id, inside the caller's transaction.
        async fn api_token_in(connection: &mut Connection, id: i64) -> Result<ApiTokenRow, StoreError> {
            let row = ::sqlx::query("SELECT * FROM api_tokens WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *connection)
                .await
                .map_err(database_error)?
                .ok_or(StoreError::NotFound { what: "API token", id: id.to_string() })?;
            api_token_row(&row).map_err(database_error)
        }

        /// Evaluations without their result and report (for listings).
        const EVALUATION_SUMMARY_COLUMNS: &str = "id, deployment_id, version_id, verdict, protocol, options, cases_sha256, \
             cases_bytes, '' AS result, '' AS report, created_by, created_at, audit_sequence";

        impl $crate::Store for $store {
            async fn update_user(
                &self,
                context: &ChangeContext,
                user: i64,
                change: UserChange,
            ) -> Result<UserRecord, StoreError> {
                self.write(async |connection| {
                    let current = user_in(connection, user).await?;
                    let role = change.role.map_or(current.role.clone(), |role| role.as_str().to_owned());
                    let disabled = change.disabled.map_or(current.disabled, i64::from);
                    ::sqlx::query("UPDATE users SET role = $1, disabled = $2 WHERE id = $3")
                        .bind(&role)
                        .bind(disabled)
                        .bind(user)
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    ::sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                        .bind(user)
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    // Tokens the user made lose their authority with them: a
                    // token must not outlive its maker's role or account.
                    let loses_authority = disabled == 1 || role != current.role;
                    let revoked_tokens: Vec<i64> = if loses_authority {
                        ::sqlx::query_scalar(
                            "UPDATE api_tokens SET revoked_at = $1 WHERE created_by = $2 AND revoked_at IS NULL RETURNING id",
                        )
                        .bind(stored_timestamp(context.at))
                        .bind(&current.user_name)
                        .fetch_all(&mut *connection)
                        .await
                        .map_err(database_error)?
                    } else {
                        Vec::new()
                    };
                    let mut revoked_tokens = revoked_tokens;
                    revoked_tokens.sort_unstable();
                    let payload = ::serde_json::json!({
                        "id": user, "role": role, "disabled": disabled == 1, "revoked_tokens": revoked_tokens,
                    });
                    append_audit(connection, context, "user.update", &format!("user:{user}"), &payload).await?;
                    user_in(connection, user).await?.to_domain()
                })
                .await
            }

            async fn set_password_hash(
                &self,
                context: &ChangeContext,
                user: i64,
                password_hash: &str,
            ) -> Result<(), StoreError> {
                self.write(async |connection| {
                    user_in(connection, user).await?;
                    store_password_hash(connection, context, user, password_hash).await
                })
                .await
            }

            async fn add_user_with_password(
                &self,
                context: &ChangeContext,
                user: &NewUser,
                password_hash: &str,
            ) -> Result<UserRecord, StoreError> {
                self.write(async |connection| {
                    let record = insert_user(connection, context, user).await?;
                    store_password_hash(connection, context, record.id, password_hash).await?;
                    Ok(record)
                })
                .await
            }

            async fn login_record(&self, user_name: &str) -> Result<Option<LoginRecord>, StoreError> {
                let mut connection = self.pool.acquire().await.map_err(database_error)?;
                let Some(row) = ::sqlx::query("SELECT * FROM users WHERE user_name = $1")
                    .bind(user_name)
                    .fetch_optional(&mut *connection)
                    .await
                    .map_err(database_error)?
                else {
                    return Ok(None);
                };
                let user = user_row(&row).map_err(database_error)?.to_domain()?;
                let password_hash: Option<String> =
                    ::sqlx::query_scalar("SELECT password_hash FROM user_credentials WHERE user_id = $1")
                        .bind(user.id)
                        .fetch_optional(&mut *connection)
                        .await
                        .map_err(database_error)?;
                Ok(Some(LoginRecord { user, password_hash }))
            }

            async fn create_session(
                &self,
                context: &ChangeContext,
                user: i64,
                token_hash: &str,
            ) -> Result<(), StoreError> {
                self.write(async |connection| {
                    let at = stored_timestamp(context.at);
                    ::sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)")
                        .bind(token_hash)
                        .bind(user)
                        .bind(&at)
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    let payload = ::serde_json::json!({"user": user});
                    append_audit(connection, context, "session.login", &format!("user:{user}"), &payload).await?;
                    Ok(())
                })
                .await
            }

            async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
                let mut connection = self.pool.acquire().await.map_err(database_error)?;
                let Some(row) = ::sqlx::query(
                    "SELECT users.*, sessions.created_at AS session_created_at, sessions.last_seen_at AS session_last_seen_at \
                     FROM sessions JOIN users ON users.id = sessions.user_id WHERE sessions.token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&mut *connection)
                .await
                .map_err(database_error)?
                else {
                    return Ok(None);
                };
                use $crate::decode::DecodeRow as _;
                let user = user_row(&row).map_err(database_error)?.to_domain()?;
                let created_at: String = row.text("session_created_at").map_err(database_error)?;
                let last_seen_at: String = row.text("session_last_seen_at").map_err(database_error)?;
                Ok(Some(SessionRecord {
                    user,
                    created_at: ::vigil_audit::parse_timestamp(&created_at)
                        .map_err(|error| StoreError::corrupt("session start", error))?,
                    last_seen_at: ::vigil_audit::parse_timestamp(&last_seen_at)
                        .map_err(|error| StoreError::corrupt("session last use", error))?,
                }))
            }

            async fn touch_session(&self, token_hash: &str, at: ::jiff::Timestamp) -> Result<(), StoreError> {
                ::sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                    .bind(stored_timestamp(at))
                    .bind(token_hash)
                    .execute(self.writer())
                    .await
                    .map_err(database_error)?;
                Ok(())
            }

            async fn end_session(
                &self,
                context: Option<(&ChangeContext, &str)>,
                token_hash: &str,
            ) -> Result<bool, StoreError> {
                self.write(async |connection| {
                    let user: Option<i64> = ::sqlx::query_scalar("DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id")
                        .bind(token_hash)
                        .fetch_optional(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    if let (Some(user), Some((context, action))) = (user, context) {
                        let payload = ::serde_json::json!({"user": user});
                        append_audit(connection, context, action, &format!("user:{user}"), &payload).await?;
                    }
                    Ok(user.is_some())
                })
                .await
            }

            async fn record_event(
                &self,
                context: &ChangeContext,
                action: &str,
                subject: &str,
                payload: &::serde_json::Value,
            ) -> Result<u64, StoreError> {
                self.write(async |connection| append_audit(connection, context, action, subject, payload).await).await
            }

            async fn add_api_token(
                &self,
                context: &ChangeContext,
                token: &NewApiToken,
            ) -> Result<ApiTokenRecord, StoreError> {
                self.write(async |connection| {
                    let at = stored_timestamp(context.at);
                    let id: i64 = ::sqlx::query_scalar(
                        "INSERT INTO api_tokens (name, token_hash, organisation, role, created_by, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    )
                    .bind(token.name.as_str())
                    .bind(&token.token_hash)
                    .bind(token.organisation.as_str())
                    .bind(token.role.as_str())
                    .bind(context.actor.name.as_str())
                    .bind(&at)
                    .fetch_one(&mut *connection)
                    .await
                    .map_err(database_error)?;
                    let payload = ::serde_json::json!({
                        "id": id, "name": token.name.as_str(), "organisation": token.organisation.as_str(), "role": token.role.as_str(),
                    });
                    append_audit(connection, context, "token.add", &format!("token:{id}"), &payload).await?;
                    api_token_in(connection, id).await?.to_domain()
                })
                .await
            }

            async fn api_tokens(&self) -> Result<Vec<ApiTokenRecord>, StoreError> {
                let rows = fetch_rows(&self.pool, "SELECT * FROM api_tokens ORDER BY id", api_token_row).await?;
                rows.iter().map(ApiTokenRow::to_domain).collect()
            }

            async fn api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiTokenRecord>, StoreError> {
                ::sqlx::query("SELECT * FROM api_tokens WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(database_error)?
                    .map(|row| api_token_row(&row).map_err(database_error)?.to_domain())
                    .transpose()
            }

            async fn touch_api_token(&self, id: i64, at: ::jiff::Timestamp) -> Result<(), StoreError> {
                ::sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                    .bind(stored_timestamp(at))
                    .bind(id)
                    .execute(self.writer())
                    .await
                    .map_err(database_error)?;
                Ok(())
            }

            async fn revoke_api_token(&self, context: &ChangeContext, id: i64) -> Result<ApiTokenRecord, StoreError> {
                self.write(async |connection| {
                    let current = api_token_in(connection, id).await?;
                    if current.revoked_at.is_some() {
                        return Err(StoreError::Conflict(format!("API token {id} is already revoked")));
                    }
                    ::sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
                        .bind(stored_timestamp(context.at))
                        .bind(id)
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    let payload = ::serde_json::json!({"id": id});
                    append_audit(connection, context, "token.revoke", &format!("token:{id}"), &payload).await?;
                    api_token_in(connection, id).await?.to_domain()
                })
                .await
            }

            async fn add_sign_off(
                &self,
                context: &ChangeContext,
                deployment: DeploymentId,
                revision: i64,
                to: LifecycleState,
            ) -> Result<PendingSignOff, StoreError> {
                self.write(async |connection| {
                    let current = deployment_in(connection, deployment).await?;
                    if current.revision != revision {
                        return Err(StoreError::Conflict(format!(
                            "deployment {deployment} is at revision {} now, not {revision}; reload it and sign again",
                            current.revision
                        )));
                    }
                    let from = current.state()?;
                    if !from.can_move_to(to) {
                        return Err(StoreError::Transition(::vigil_domain::TransitionError::NotAllowed {
                            from,
                            to,
                            allowed: from.allowed_targets(),
                        }));
                    }
                    let payload = ::serde_json::json!({
                        "deployment": deployment.0, "revision": revision, "from": from.as_str(), "to": to.as_str(),
                        "user_name": context.actor.name.as_str(), "role": context.actor.role.as_str(),
                    });
                    let sequence = append_audit(connection, context, "deployment.sign_off", &format!("deployment:{deployment}"), &payload).await?;
                    let row = $crate::rows::PendingSignOffRow {
                        deployment_id: deployment.0,
                        revision,
                        to_state: to.as_str().to_owned(),
                        user_name: context.actor.name.as_str().to_owned(),
                        role: context.actor.role.as_str().to_owned(),
                        signed_at: stored_timestamp(context.at),
                        audit_sequence: sequence as i64,
                    };
                    insert_pending_sign_off_row(connection, &row)
                        .await
                    .map_err(already_exists("sign-off", || format!(
                        "by {} as {} for deployment {deployment} → {to}", row.user_name, row.role
                    )))?;
                    row.to_domain()
                })
                .await
            }

            async fn pending_sign_offs(&self, deployment: DeploymentId) -> Result<Vec<PendingSignOff>, StoreError> {
                let mut connection = self.pool.acquire().await.map_err(database_error)?;
                let current = deployment_in(&mut connection, deployment).await?;
                ::sqlx::query("SELECT * FROM pending_sign_offs WHERE deployment_id = $1 AND revision = $2 ORDER BY audit_sequence")
                    .bind(deployment.0)
                    .bind(current.revision)
                    .fetch_all(&mut *connection)
                    .await
                    .map_err(database_error)?
                    .iter()
                    .map(|row| pending_sign_off_row(row).map_err(database_error)?.to_domain())
                    .collect()
            }

            async fn add_evaluation(
                &self,
                context: &ChangeContext,
                evaluation: &NewEvaluation,
            ) -> Result<EvaluationRecord, StoreError> {
                self.write(async |connection| {
                    let current = deployment_in(connection, evaluation.deployment).await?;
                    let next_id: i64 = ::sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM evaluations")
                        .fetch_one(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    let payload = ::serde_json::json!({
                        "id": next_id,
                        "deployment": evaluation.deployment.0,
                        "version": current.version_id,
                        "verdict": evaluation.verdict,
                        "protocol_sha256": sha256_hex(&evaluation.protocol),
                        "options_sha256": sha256_hex(&evaluation.options),
                        "cases_sha256": evaluation.cases_sha256,
                        "cases_bytes": evaluation.cases_bytes,
                        "result_sha256": sha256_hex(&evaluation.result),
                        "report_sha256": sha256_hex(&evaluation.report),
                    });
                    let sequence = append_audit(
                        connection,
                        context,
                        "evaluation.add",
                        &format!("deployment:{}", evaluation.deployment),
                        &payload,
                    )
                    .await?;
                    let stored = $crate::rows::EvaluationRow {
                        id: next_id,
                        deployment_id: evaluation.deployment.0,
                        version_id: current.version_id,
                        verdict: evaluation.verdict.clone(),
                        protocol: evaluation.protocol.clone(),
                        options: evaluation.options.clone(),
                        cases_sha256: evaluation.cases_sha256.clone(),
                        cases_bytes: evaluation.cases_bytes,
                        result: evaluation.result.clone(),
                        report: evaluation.report.clone(),
                        created_by: context.actor.name.as_str().to_owned(),
                        created_at: stored_timestamp(context.at),
                        audit_sequence: sequence as i64,
                    };
                    insert_evaluation_row(connection, &stored).await.map_err(database_error)?;
                    let row = ::sqlx::query(::sqlx::AssertSqlSafe(format!("SELECT {EVALUATION_SUMMARY_COLUMNS} FROM evaluations WHERE id = $1")))
                        .bind(next_id)
                        .fetch_one(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    evaluation_row(&row).map_err(database_error)?.to_domain()
                })
                .await
            }

            async fn evaluations(&self, deployment: Option<DeploymentId>) -> Result<Vec<EvaluationRecord>, StoreError> {
                let rows = match deployment {
                    Some(deployment) => ::sqlx::query(::sqlx::AssertSqlSafe(format!(
                        "SELECT {EVALUATION_SUMMARY_COLUMNS} FROM evaluations WHERE deployment_id = $1 ORDER BY id"
                    )))
                    .bind(deployment.0)
                    .fetch_all(&self.pool)
                    .await,
                    None => ::sqlx::query(::sqlx::AssertSqlSafe(format!("SELECT {EVALUATION_SUMMARY_COLUMNS} FROM evaluations ORDER BY id")))
                        .fetch_all(&self.pool)
                        .await,
                }
                .map_err(database_error)?;
                rows.iter()
                    .map(|row| evaluation_row(row).map_err(database_error)?.to_domain())
                    .collect()
            }

            async fn evaluation(&self, id: i64) -> Result<EvaluationRecord, StoreError> {
                let row = ::sqlx::query("SELECT * FROM evaluations WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(database_error)?
                    .ok_or(StoreError::NotFound { what: "evaluation", id: id.to_string() })?;
                evaluation_row(&row).map_err(database_error)?.to_domain()
            }

            async fn ping(&self) -> Result<(), StoreError> {
                ::sqlx::query("SELECT 1").execute(&self.pool).await.map_err(database_error)?;
                Ok(())
            }

            async fn set_sign_off_policy(
                &self,
                context: &ChangeContext,
                entries: &[(String, Vec<String>)],
            ) -> Result<i64, StoreError> {
                // A policy that does not parse is refused before anything is written.
                SignOffPolicy::parse_toml_like(entries)?;
                let text = ::serde_json::to_string(entries).map_err(|error| StoreError::corrupt("sign-off policy", error))?;
                self.write(async |connection| {
                    let version = policy_in(connection).await?.version + 1;
                    let payload = ::serde_json::json!({"version": version, "entries": entries});
                    let sequence = append_audit(connection, context, "policy.set", &format!("policy:{version}"), &payload).await?;
                    ::sqlx::query("INSERT INTO sign_off_policies (version, entries, set_by, set_at, audit_sequence) VALUES ($1, $2, $3, $4, $5)")
                        .bind(version)
                        .bind(&text)
                        .bind(context.actor.name.as_str())
                        .bind(stored_timestamp(context.at))
                        .bind(sequence as i64)
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    Ok(version)
                })
                .await
            }

            async fn sign_off_policy(&self) -> Result<$crate::StoredPolicy, StoreError> {
                let mut connection = self.pool.acquire().await.map_err(database_error)?;
                policy_in(&mut connection).await
            }

            fn backend_name(&self) -> &'static str {
                <$store>::BACKEND_NAME
            }

            // Migrations run on a reading connection, not the writing one:
            // SQLite's writer keeps its temporary storage in memory, and a
            // migration that rewrites every event (0015) would hold a copy
            // of each page it changes there, hundreds of megabytes a million
            // events; a reader's spills to a temporary file.
            async fn migrate(&self) -> Result<(), StoreError> {
                migrator(<$store>::MIGRATIONS)
                    .await?
                    .run(&self.pool)
                    .await
                    .map_err(|error| StoreError::Database(Box::new(error)))
            }

            async fn add_organisation(
                &self,
                context: &ChangeContext,
                organisation: &Organisation,
            ) -> Result<(), StoreError> {
                self.write(async |connection| insert_organisation(connection, context, organisation).await).await
            }

            async fn initialise(
                &self,
                context: &ChangeContext,
                organisations: &[Organisation],
                administrator: &NewUser,
            ) -> Result<UserRecord, StoreError> {
                self.write(async |connection| {
                    let existing: i64 = ::sqlx::query_scalar("SELECT COUNT(*) FROM organisations")
                        .fetch_one(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    if existing > 0 {
                        return Err(StoreError::AlreadyExists {
                            what: "organisation tree",
                            key: "(this database is already initialised)".to_owned(),
                        });
                    }
                    for organisation in organisations {
                        insert_organisation(connection, context, organisation).await?;
                    }
                    insert_user(connection, context, administrator).await
                })
                .await
            }

            async fn organisations(&self) -> Result<Vec<Organisation>, StoreError> {
                let rows = fetch_rows(
                    &self.pool,
                    ORGANISATIONS_PARENTS_FIRST,
                    organisation_row,
                )
                .await?;
                rows.iter().map(OrganisationRow::to_domain).collect()
            }

            async fn add_user(
                &self,
                context: &ChangeContext,
                user: &NewUser,
            ) -> Result<UserRecord, StoreError> {
                self.write(async |connection| insert_user(connection, context, user).await).await
            }

            async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
                let rows = fetch_rows(&self.pool, "SELECT * FROM users ORDER BY id", user_row).await?;
                rows.iter().map(UserRow::to_domain).collect()
            }

            async fn add_product(
                &self,
                context: &ChangeContext,
                product: &Product,
            ) -> Result<ProductId, StoreError> {
                let mut row = ProductRow::new(product, context.at);
                self.write(async |connection| {
                    row.id = ::sqlx::query_scalar(
                        "INSERT INTO products (vendor, name, intended_purpose, modality, body_part, task_type, regulatory_class, marking, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    )
                    .bind(&row.vendor)
                    .bind(&row.name)
                    .bind(&row.intended_purpose)
                    .bind(&row.modality)
                    .bind(&row.body_part)
                    .bind(&row.task_type)
                    .bind(&row.regulatory_class)
                    .bind(&row.marking)
                    .bind(&row.created_at)
                    .fetch_one(&mut *connection)
                    .await
                    .map_err(already_exists("product", || format!("{} {}", row.vendor, row.name)))?;
                    let payload = $crate::governance::product_payload(&row);
                    append_audit(connection, context, "product.add", &format!("product:{}", row.id), &payload).await?;
                    Ok(ProductId(row.id))
                })
                .await
            }

            async fn products(&self) -> Result<Vec<ProductRecord>, StoreError> {
                let products = fetch_rows(
                    &self.pool,
                    "SELECT * FROM products ORDER BY id",
                    product_row,
                )
                .await?;
                let versions = fetch_rows(
                    &self.pool,
                    "SELECT * FROM product_versions ORDER BY id",
                    version_row,
                )
                .await?;
                $crate::governance::assemble_products(&products, &versions)
            }

            async fn product(&self, id: ProductId) -> Result<ProductRecord, StoreError> {
                let row = ::sqlx::query("SELECT * FROM products WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(database_error)?
                    .ok_or(StoreError::NotFound {
                        what: "product",
                        id: id.to_string(),
                    })?;
                let product = product_row(&row).map_err(database_error)?;
                let versions: Vec<VersionRow> =
                    ::sqlx::query("SELECT * FROM product_versions WHERE product_id = $1 ORDER BY id")
                        .bind(id.0)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(database_error)?
                        .iter()
                        .map(|row| version_row(row).map_err(database_error))
                        .collect::<Result<_, _>>()?;
                $crate::governance::assemble_products(&[product], &versions)?
                    .pop()
                    .ok_or(StoreError::NotFound {
                        what: "product",
                        id: id.to_string(),
                    })
            }

            async fn add_version(
                &self,
                context: &ChangeContext,
                product: ProductId,
                version: &ProductVersion,
            ) -> Result<VersionId, StoreError> {
                let mut row = VersionRow::new(product, version, context.at);
                self.write(async |connection| {
                    row.id = ::sqlx::query_scalar(
                        "INSERT INTO product_versions (product_id, version, release_date, change_notes, change_kind, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    )
                    .bind(row.product_id)
                    .bind(&row.version)
                    .bind(&row.release_date)
                    .bind(&row.change_notes)
                    .bind(&row.change_kind)
                    .bind(&row.created_at)
                    .fetch_one(&mut *connection)
                    .await
                    .map_err(already_exists("version", || format!("{} of product {}", row.version, row.product_id)))
                    .map_err(|error| match error {
                        StoreError::InvalidReference(_) => StoreError::NotFound {
                            what: "product",
                            id: product.to_string(),
                        },
                        other => other,
                    })?;
                    let payload = $crate::governance::version_payload(&row);
                    append_audit(connection, context, "version.add", &format!("version:{}", row.id), &payload).await?;
                    Ok(VersionId(row.id))
                })
                .await
            }

            async fn add_deployment(
                &self,
                context: &ChangeContext,
                version: VersionId,
                deployment: &Deployment,
            ) -> Result<DeploymentId, StoreError> {
                self.write(async |connection| {
                    let product: i64 = ::sqlx::query_scalar("SELECT product_id FROM product_versions WHERE id = $1")
                        .bind(version.0)
                        .fetch_optional(&mut *connection)
                        .await
                        .map_err(database_error)?
                        .ok_or(StoreError::NotFound {
                            what: "version",
                            id: version.to_string(),
                        })?;
                    $crate::governance::require_site(
                        ::sqlx::query_scalar::<_, String>("SELECT kind FROM organisations WHERE code = $1")
                            .bind(deployment.site.as_str())
                            .fetch_optional(&mut *connection)
                            .await
                            .map_err(database_error)?,
                        &deployment.site,
                    )?;
                    let mut row = DeploymentRow::new(ProductId(product), version, deployment, context.at);
                    row.id = ::sqlx::query_scalar(
                        "INSERT INTO deployments (product_id, version_id, site, owning_team, thresholds, change_control, state, revision, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    )
                    .bind(row.product_id)
                    .bind(row.version_id)
                    .bind(&row.site)
                    .bind(&row.owning_team)
                    .bind(&row.thresholds)
                    .bind(&row.change_control)
                    .bind(&row.state)
                    .bind(row.revision)
                    .bind(&row.created_at)
                    .fetch_one(&mut *connection)
                    .await
                    .map_err(already_exists("deployment", || format!("of product {} at site {}", row.product_id, row.site)))?;
                    let payload = $crate::governance::deployment_payload(&row);
                    append_audit(connection, context, "deployment.add", &format!("deployment:{}", row.id), &payload).await?;
                    Ok(DeploymentId(row.id))
                })
                .await
            }

            async fn deployments(&self) -> Result<Vec<DeploymentRecord>, StoreError> {
                let rows = fetch_rows(
                    &self.pool,
                    "SELECT * FROM deployments ORDER BY id",
                    deployment_row,
                )
                .await?;
                rows.iter().map(|row| row.to_domain(Vec::new())).collect()
            }

            async fn deployment(&self, id: DeploymentId) -> Result<DeploymentRecord, StoreError> {
                let mut connection = self.pool.acquire().await.map_err(database_error)?;
                let row = deployment_in(&mut connection, id).await?;
                let decisions: Vec<DecisionRecord> =
                    ::sqlx::query("SELECT * FROM decisions WHERE deployment_id = $1 ORDER BY id")
                        .bind(id.0)
                        .fetch_all(&mut *connection)
                        .await
                        .map_err(database_error)?
                        .iter()
                        .map(|row| decision_row(row).map_err(database_error)?.to_domain())
                        .collect::<Result<_, _>>()?;
                row.to_domain(decisions)
            }

            async fn transition(
                &self,
                context: &ChangeContext,
                id: DeploymentId,
                request: TransitionRequest,
                expected_revision: Option<i64>,
            ) -> Result<DecisionRecord, StoreError> {
                self.write(async |connection| {
                    let current = deployment_in(connection, id).await?;
                    if let Some(expected) = expected_revision {
                        if expected != current.revision {
                            return Err(StoreError::Conflict(format!(
                                "deployment {id} is at revision {} now, not {expected}; reload it and decide again",
                                current.revision
                            )));
                        }
                    }
                    let radiotherapy = product_modality(connection, current.product_id).await? == Modality::Radiotherapy;
                    // The policy in force is read under the write lock, so a
                    // decision and a policy change cannot interleave.
                    let policy = policy_in(connection).await?;
                    let procurement_assessment = if (request.from, request.to)
                        == (LifecycleState::Procurement, LifecycleState::Validation)
                        && current.state()? == LifecycleState::Procurement
                    {
                        Some(passing_assessment_for(connection, &current).await?)
                    } else {
                        None
                    };
                    let (decision, required_roles) =
                        check_transition(&current, radiotherapy, request, &policy.policy, context)?;
                    let updated = ::sqlx::query("UPDATE deployments SET state = $1, revision = revision + 1 WHERE id = $2 AND revision = $3")
                        .bind(decision.to.as_str())
                        .bind(id.0)
                        .bind(current.revision)
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    if updated.rows_affected() != 1 {
                        return Err(StoreError::Conflict(format!(
                            "deployment {id} changed while this decision was being recorded; reload it and decide again"
                        )));
                    }
                    let next_revision = current
                        .revision
                        .checked_add(1)
                        .ok_or_else(|| StoreError::corrupt("deployment revision", "it is at its largest value"))?;
                    let mut payload = decision_payload(id, current.version_id, next_revision, &decision, &required_roles);
                    payload["policy_version"] = ::serde_json::Value::from(policy.version);
                    if let Some(assessment) = procurement_assessment {
                        payload["procurement_assessment"] = ::serde_json::Value::from(assessment);
                    }
                    let sequence =
                        append_audit(connection, context, "deployment.transition", &format!("deployment:{id}"), &payload).await?;
                    let mut row = DecisionRow::new(
                        id,
                        VersionId(current.version_id),
                        &decision,
                        context.actor.name.as_str(),
                        sequence,
                    );
                    row.id = ::sqlx::query_scalar(
                        "INSERT INTO decisions (deployment_id, from_state, to_state, version_id, sign_offs, rationale, evidence, decided_by, decided_at, audit_sequence) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                    )
                    .bind(row.deployment_id)
                    .bind(&row.from_state)
                    .bind(&row.to_state)
                    .bind(row.version_id)
                    .bind(&row.sign_offs)
                    .bind(&row.rationale)
                    .bind(&row.evidence)
                    .bind(&row.decided_by)
                    .bind(&row.decided_at)
                    .bind(row.audit_sequence)
                    .fetch_one(&mut *connection)
                    .await
                    .map_err(database_error)?;
                    if decision.to == LifecycleState::Live {
                        default_rules_at_go_live(connection, context, id).await?;
                    }
                    row.to_domain()
                })
                .await
            }

            async fn upgrade_deployment(
                &self,
                context: &ChangeContext,
                id: DeploymentId,
                version: VersionId,
            ) -> Result<DeploymentRecord, StoreError> {
                self.write(async |connection| {
                    let current = deployment_in(connection, id).await?;
                    let versions: Vec<VersionRow> = ::sqlx::query("SELECT * FROM product_versions WHERE product_id = $1 ORDER BY id")
                        .bind(current.product_id)
                        .fetch_all(&mut *connection)
                        .await
                        .map_err(database_error)?
                        .iter()
                        .map(|row| version_row(row).map_err(database_error))
                        .collect::<Result<_, _>>()?;
                    let target_belongs = versions.iter().any(|row| row.id == version.0);
                    if !target_belongs {
                        let exists: Option<i64> = ::sqlx::query_scalar("SELECT product_id FROM product_versions WHERE id = $1")
                            .bind(version.0)
                            .fetch_optional(&mut *connection)
                            .await
                            .map_err(database_error)?;
                        return Err(match exists {
                            Some(product) => StoreError::InvalidReference(format!(
                                "version {version} belongs to product {product}, but deployment {id} deploys product {}",
                                current.product_id
                            )),
                            None => StoreError::NotFound { what: "version", id: version.to_string() },
                        });
                    }
                    let plan = $crate::governance::plan_upgrade(&current, &versions, version)?;
                    let updated = ::sqlx::query("UPDATE deployments SET version_id = $1, state = $2, revision = revision + 1 WHERE id = $3 AND revision = $4")
                        .bind(version.0)
                        .bind(plan.state_after.as_str())
                        .bind(id.0)
                        .bind(current.revision)
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    append_audit(connection, context, "deployment.upgrade", &format!("deployment:{id}"), &plan.payload).await?;
                    let row = deployment_in(connection, id).await?;
                    row.to_domain(Vec::new())
                })
                .await
            }

            async fn ingest_events(
                &self,
                context: &ChangeContext,
                deployment: DeploymentId,
                events: &[$crate::vigil_monitor::Event],
                body_sha256: &str,
            ) -> Result<$crate::IngestSummary, StoreError> {
                write_event_batch(self, context, deployment, events, body_sha256, async |_, summary| Ok(summary)).await
            }

            async fn ingest_outcomes(
                &self,
                context: &ChangeContext,
                deployment: DeploymentId,
                outcomes: &[$crate::vigil_monitor::Outcome],
                body_sha256: &str,
            ) -> Result<$crate::OutcomeIngestSummary, StoreError> {
                self.write(async |connection| {
                    deployment_in(connection, deployment).await?;
                    let batch: i64 = ::sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM outcome_batches")
                        .fetch_one(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    let received = outcomes.len() as u64;
                    let mut first_seen: ::std::collections::HashMap<(&str, $crate::vigil_monitor::OutcomeSource), usize> =
                        ::std::collections::HashMap::new();
                    for (index, outcome) in outcomes.iter().enumerate() {
                        if let Some(first) = first_seen.insert((outcome.case.as_str(), outcome.source), index) {
                            return Err(StoreError::InvalidReference(format!(
                                "outcomes {} and {} (in the order sent) have the same case and source",
                                first + 1,
                                index + 1
                            )));
                        }
                    }
                    let mut cases: Vec<&str> = outcomes.iter().map(|outcome| outcome.case.as_str()).collect();
                    cases.sort_unstable();
                    cases.dedup();
                    let before = stored_outcomes(connection, deployment, &cases).await?;
                    let rows = $crate::sql::outcome_rows(outcomes);
                    let mut changed = Vec::new();
                    let mut new_rows = Vec::new();
                    let mut after = before.clone();
                    for (index, (outcome, (row, hash))) in outcomes.iter().zip(&rows).enumerate() {
                        let earlier = before
                            .get(outcome.case.as_str())
                            .and_then(|stored| stored.iter().find(|stored| stored.source == outcome.source));
                        match earlier {
                            Some(earlier) if earlier.content_sha256 == *hash => {}
                            Some(_) => changed.push(index + 1),
                            None => {
                                new_rows.push(row.as_str());
                                after.entry(outcome.case.as_str().to_owned()).or_default().push($crate::sql::StoredOutcome {
                                    source: outcome.source,
                                    label: outcome.label,
                                    reader_agrees: outcome.reader_agrees,
                                    content_sha256: hash.clone(),
                                });
                            }
                        }
                    }
                    if !changed.is_empty() {
                        let shown: Vec<String> = changed.iter().take(10).map(ToString::to_string).collect();
                        return Err(StoreError::Conflict(format!(
                            "{} outcome{} stored before with other content for the same case and source (outcome{} {}{} in the order sent); \
                             nothing was stored. An outcome is never changed: a more authoritative source (pathology, then follow_up, \
                             then report, then reader) overrides a less authoritative one",
                            changed.len(),
                            if changed.len() == 1 { " was" } else { "s were" },
                            if changed.len() == 1 { "" } else { "s" },
                            shown.join(", "),
                            if changed.len() > 10 { ", …" } else { "" }
                        )));
                    }
                    // New outcomes go in as JSON arrays, a chunk per statement
                    // (one statement per row would cross to the database's
                    // thread once a row).
                    let new_outcomes: Vec<(&$crate::vigil_monitor::Outcome, &str)> = outcomes
                        .iter()
                        .zip(&rows)
                        .filter(|(outcome, _)| {
                            before
                                .get(outcome.case.as_str())
                                .is_none_or(|stored| stored.iter().all(|stored| stored.source != outcome.source))
                        })
                        .map(|(outcome, (_, hash))| (outcome, hash.as_str()))
                        .collect();
                    for chunk in new_outcomes.chunks($crate::sql::EVENT_ROWS_PER_STATEMENT) {
                        let inserted = $crate::sql::outcome_insert_rows(chunk);
                        ::sqlx::query(<$store>::INSERT_OUTCOMES)
                            .bind(deployment.0)
                            .bind(batch)
                            .bind($crate::sql::json_array(inserted.iter().map(String::as_str)))
                            .execute(&mut *connection)
                            .await
                            .map_err(database_error)?;
                    }
                    // The cases whose truth changed, and the day aggregates of
                    // their events.
                    let truth_changes: Vec<(&str, $crate::vigil_monitor::CaseTruth, $crate::vigil_monitor::CaseTruth)> = cases
                        .iter()
                        .map(|case| {
                            let truth_before = before.get(*case).map(|stored| $crate::sql::case_truth(stored)).unwrap_or_default();
                            let truth_after = after.get(*case).map(|stored| $crate::sql::case_truth(stored)).unwrap_or_default();
                            (*case, truth_before, truth_after)
                        })
                        .filter(|(_, truth_before, truth_after)| truth_before != truth_after)
                        .collect();
                    let changed_cases: Vec<&str> = truth_changes.iter().map(|(case, _, _)| *case).collect();
                    let events = events_of_cases(connection, deployment, &changed_cases).await?;
                    let keys: Vec<$crate::vigil_monitor::DayKey> = events.values().flatten().map(|event| event.key.clone()).collect();
                    let mut days = load_days(connection, deployment, keys).await?;
                    let mut events_updated = 0u64;
                    for (case, truth_before, truth_after) in &truth_changes {
                        if let Some(case_events) = events.get(*case) {
                            $crate::vigil_monitor::apply_outcome_change(&mut days, case_events, truth_before, truth_after)
                                .map_err(|error| StoreError::corrupt("day aggregate", error))?;
                            events_updated += case_events.len() as u64;
                        }
                    }
                    save_days(connection, deployment, &days).await?;
                    let stored = new_rows.len() as u64;
                    let payload = ::serde_json::json!({
                        "deployment": deployment.0, "batch": batch, "rows_received": received, "rows_stored": stored,
                        "events_updated": events_updated, "body_sha256": body_sha256,
                    });
                    let sequence = append_audit(connection, context, "outcomes.ingest", &format!("deployment:{deployment}"), &payload).await?;
                    ::sqlx::query(
                        "INSERT INTO outcome_batches (id, deployment_id, received_at, received_by, body_sha256, rows_received, rows_stored, audit_sequence) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(batch)
                    .bind(deployment.0)
                    .bind(stored_timestamp(context.at))
                    .bind(context.actor.name.as_str())
                    .bind(body_sha256)
                    .bind(received as i64)
                    .bind(stored as i64)
                    .bind(sequence as i64)
                    .execute(&mut *connection)
                    .await
                    .map_err(database_error)?;
                    Ok($crate::OutcomeIngestSummary { batch, received, stored, duplicates: received - stored, events_updated })
                })
                .await
            }

            async fn rules(&self, deployment: DeploymentId) -> Result<Option<$crate::RulesRecord>, StoreError> {
                let row = ::sqlx::query("SELECT * FROM monitoring_rules WHERE deployment_id = $1 ORDER BY version DESC LIMIT 1")
                    .bind(deployment.0)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(database_error)?;
                row.as_ref().map($crate::decode::rules_record).transpose()
            }

            async fn rule_history(&self, deployment: DeploymentId) -> Result<Vec<$crate::RulesRecord>, StoreError> {
                ::sqlx::query("SELECT * FROM monitoring_rules WHERE deployment_id = $1 ORDER BY version")
                    .bind(deployment.0)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(database_error)?
                    .iter()
                    .map($crate::decode::rules_record)
                    .collect()
            }

            async fn set_rules(
                &self,
                context: &ChangeContext,
                deployment: DeploymentId,
                rules: &$crate::vigil_monitor::RuleSet,
                reason: &str,
                expected_version: Option<i64>,
            ) -> Result<$crate::RulesRecord, StoreError> {
                self.write(async |connection| {
                    deployment_in(connection, deployment).await?;
                    insert_rules(connection, context, deployment, rules, reason, expected_version).await
                })
                .await
            }

            async fn success_criteria(&self, deployment: DeploymentId) -> Result<Option<$crate::SuccessCriteriaRecord>, StoreError> {
                let row = ::sqlx::query("SELECT * FROM success_criteria WHERE deployment_id = $1 ORDER BY version DESC LIMIT 1")
                    .bind(deployment.0)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(database_error)?;
                row.as_ref().map($crate::decode::success_criteria_record).transpose()
            }

            async fn register_success_criteria(
                &self,
                context: &ChangeContext,
                deployment: DeploymentId,
                criteria: &[$crate::vigil_monitor::productivity::SuccessCriterion],
                rationale: &str,
            ) -> Result<$crate::SuccessCriteriaRecord, StoreError> {
                self.write(async |connection| {
                    let current = deployment_in(connection, deployment).await?;
                    if current.state == LifecycleState::Live.as_str() || current.state == LifecycleState::Retired.as_str() {
                        return Err(StoreError::Conflict(format!(
                            "deployment {deployment} is {}: success criteria are registered before go-live, so that the results they judge cannot set the bar",
                            current.state
                        )));
                    }
                    let version: i64 = ::sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 FROM success_criteria WHERE deployment_id = $1")
                        .bind(deployment.0)
                        .fetch_one(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    let text = ::serde_json::to_string(criteria).map_err(|error| StoreError::corrupt("success criteria", error))?;
                    let payload = ::serde_json::json!({
                        "deployment": deployment.0, "version": version, "rationale": rationale,
                        "criteria": ::serde_json::from_str::<::serde_json::Value>(&text).unwrap_or_default(),
                        "state": current.state,
                    });
                    let sequence = append_audit(connection, context, "criteria.register", &format!("deployment:{deployment}"), &payload).await?;
                    ::sqlx::query(
                        "INSERT INTO success_criteria (deployment_id, version, criteria, rationale, registered_by, registered_at, audit_sequence) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(deployment.0)
                    .bind(version)
                    .bind(&text)
                    .bind(rationale)
                    .bind(context.actor.name.as_str())
                    .bind(stored_timestamp(context.at))
                    .bind(sequence as i64)
                    .execute(&mut *connection)
                    .await
                    .map_err(database_error)?;
                    Ok($crate::SuccessCriteriaRecord {
                        deployment,
                        version,
                        criteria: criteria.to_vec(),
                        rationale: rationale.to_owned(),
                        registered_by: context.actor.name.as_str().to_owned(),
                        registered_at: context.at,
                        audit_sequence: sequence,
                    })
                })
                .await
            }

            async fn productivity_inputs(
                &self,
                deployment: DeploymentId,
                trust: &::vigil_domain::Code,
            ) -> Result<$crate::ProductivityInputs, StoreError> {
                use $crate::decode::DecodeRow as _;
                // One snapshot for the three reads.
                let mut transaction = self.snapshot().await?;
                deployment_in(&mut *transaction, deployment).await?;
                let mut go_live_at = None;
                for text in ::sqlx::query_scalar::<_, String>("SELECT decided_at FROM decisions WHERE deployment_id = $1 AND to_state = 'live'")
                    .bind(deployment.0)
                    .fetch_all(&mut *transaction)
                    .await
                    .map_err(database_error)?
                {
                    let at = $crate::rows::timestamp("decision time", &text)?;
                    go_live_at = go_live_at.max(Some(at));
                }
                let seen = ::sqlx::query(
                    "SELECT case_pseudonym, MIN(occurred_at) AS first_seen, COALESCE(MAX(decision), 0) AS flagged \
                     FROM inference_events WHERE deployment_id = $1 GROUP BY case_pseudonym ORDER BY case_pseudonym",
                )
                .bind(deployment.0)
                .fetch_all(&mut *transaction)
                .await
                .map_err(database_error)?;
                // The deployment's cases are read once (as the query above
                // reads them), not looked up report by report.
                let reports = ::sqlx::query(
                    "SELECT * FROM report_times r WHERE r.trust = $2 AND r.case_pseudonym IN \
                     (SELECT e.case_pseudonym FROM inference_events e WHERE e.deployment_id = $1) \
                     ORDER BY r.case_pseudonym, r.issued_at",
                )
                .bind(deployment.0)
                .bind(trust.as_str())
                .fetch_all(&mut *transaction)
                .await
                .map_err(database_error)?;
                transaction.commit().await.map_err(database_error)?;
                let mut by_case: ::std::collections::HashMap<String, Vec<::vigil_domain::ReportTiming>> = ::std::collections::HashMap::new();
                for row in &reports {
                    let record = $crate::sql::report_time_row(row)?;
                    by_case.entry(record.timing.case().as_str().to_owned()).or_default().push(record.timing);
                }
                let mut cases = Vec::with_capacity(seen.len());
                for row in &seen {
                    let case: String = row.text("case_pseudonym").map_err(database_error)?;
                    cases.push($crate::vigil_monitor::productivity::AuditedCase {
                        first_seen: $crate::rows::timestamp("event time", &row.text("first_seen").map_err(database_error)?)?,
                        flagged: row.integer("flagged").map_err(database_error)? != 0,
                        reports: by_case.remove(&case).unwrap_or_default(),
                    });
                }
                Ok($crate::ProductivityInputs { go_live_at, cases })
            }

            async fn add_hazard(
                &self,
                context: &ChangeContext,
                deployment: DeploymentId,
                hazard: &::vigil_domain::Hazard,
            ) -> Result<$crate::HazardRecord, StoreError> {
                self.write(async |connection| {
                    deployment_in(connection, deployment).await?;
                    let text = ::serde_json::to_string(hazard).map_err(|error| StoreError::corrupt("hazard", error))?;
                    let id: i64 = ::sqlx::query_scalar(
                        "INSERT INTO hazards (deployment_id, revision, hazard, status, updated_by, updated_at, audit_sequence) \
                         VALUES ($1, 0, $2, $3, $4, $5, 0) RETURNING id",
                    )
                    .bind(deployment.0)
                    .bind(&text)
                    .bind(hazard.status().as_str())
                    .bind(context.actor.name.as_str())
                    .bind(stored_timestamp(context.at))
                    .fetch_one(&mut *connection)
                    .await
                    .map_err(database_error)?;
                    record_hazard_revision(connection, context, id, deployment, 1, hazard, None, "added to the hazard log", None, "hazard.add").await
                })
                .await
            }

            async fn update_hazard(
                &self,
                context: &ChangeContext,
                id: i64,
                hazard: &::vigil_domain::Hazard,
                reason: &str,
                expected_revision: i64,
            ) -> Result<$crate::HazardRecord, StoreError> {
                self.write(async |connection| {
                    let current = hazard_in(connection, id).await?;
                    if current.revision != expected_revision {
                        return Err(StoreError::Conflict(format!(
                            "hazard {id} is at revision {} now, not {expected_revision}; reload it and edit again",
                            current.revision
                        )));
                    }
                    // A hazard left under review keeps the status to restore
                    // when its alerts are resolved; any other status is the
                    // editor's decision.
                    let before = if hazard.status() == ::vigil_domain::HazardStatus::UnderReview {
                        status_before_review(connection, id).await?
                    } else {
                        None
                    };
                    record_hazard_revision(connection, context, id, current.deployment, current.revision + 1, hazard, before.as_deref(), reason, None, "hazard.update").await
                })
                .await
            }

            async fn link_alert_to_hazard(
                &self,
                context: &ChangeContext,
                alert: i64,
                hazard: i64,
                note: &str,
            ) -> Result<$crate::HazardRecord, StoreError> {
                self.write(async |connection| {
                    let linked_alert = alert_in(connection, alert).await?;
                    let current = hazard_in(connection, hazard).await?;
                    if linked_alert.deployment != current.deployment {
                        return Err(StoreError::InvalidReference(format!(
                            "alert {alert} belongs to deployment {}, hazard {hazard} to deployment {}: an alert is linked to its own deployment's hazards",
                            linked_alert.deployment, current.deployment
                        )));
                    }
                    if current.alerts.contains(&alert) {
                        return Ok(current);
                    }
                    if linked_alert.state == $crate::AlertState::Resolved {
                        return Err(StoreError::Conflict(format!(
                            "alert {alert} is resolved; link a hazard while its alert is open"
                        )));
                    }
                    ::sqlx::query("INSERT INTO hazard_alerts (hazard_id, alert_id, linked_by, linked_at) VALUES ($1, $2, $3, $4)")
                        .bind(hazard)
                        .bind(alert)
                        .bind(context.actor.name.as_str())
                        .bind(stored_timestamp(context.at))
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    let before = match current.hazard.status() {
                        ::vigil_domain::HazardStatus::UnderReview => status_before_review(connection, hazard).await?,
                        status => Some(status.as_str().to_owned()),
                    };
                    let reviewed = current.hazard.with_status(::vigil_domain::HazardStatus::UnderReview)?;
                    record_hazard_revision(
                        connection,
                        context,
                        hazard,
                        current.deployment,
                        current.revision + 1,
                        &reviewed,
                        before.as_deref(),
                        &format!("under review after alert {alert} ({}): {note}", linked_alert.rule),
                        Some(alert),
                        "hazard.review",
                    )
                    .await
                })
                .await
            }

            async fn hazards(&self, deployment: DeploymentId) -> Result<Vec<$crate::HazardRecord>, StoreError> {
                let mut connection = self.pool.acquire().await.map_err(database_error)?;
                let ids: Vec<i64> = ::sqlx::query_scalar("SELECT id FROM hazards WHERE deployment_id = $1 ORDER BY id")
                    .bind(deployment.0)
                    .fetch_all(&mut *connection)
                    .await
                    .map_err(database_error)?;
                let mut records = Vec::with_capacity(ids.len());
                for id in ids {
                    records.push(hazard_in(&mut connection, id).await?);
                }
                Ok(records)
            }

            async fn hazard(&self, id: i64) -> Result<$crate::HazardRecord, StoreError> {
                let mut connection = self.pool.acquire().await.map_err(database_error)?;
                hazard_in(&mut connection, id).await
            }

            async fn hazard_history(&self, id: i64) -> Result<Vec<$crate::HazardRevision>, StoreError> {
                let mut connection = self.pool.acquire().await.map_err(database_error)?;
                hazard_in(&mut connection, id).await?;
                ::sqlx::query("SELECT * FROM hazard_history WHERE hazard_id = $1 ORDER BY revision")
                    .bind(id)
                    .fetch_all(&mut *connection)
                    .await
                    .map_err(database_error)?
                    .iter()
                    .map($crate::decode::hazard_revision)
                    .collect()
            }

            async fn sign_safety_case(
                &self,
                context: &ChangeContext,
                deployment: DeploymentId,
                log_sha256: &str,
                report_sha256: &str,
                statement: &str,
            ) -> Result<$crate::SafetyCaseSignature, StoreError> {
                self.write(async |connection| {
                    deployment_in(connection, deployment).await?;
                    let ids: Vec<i64> = ::sqlx::query_scalar("SELECT id FROM hazards WHERE deployment_id = $1 ORDER BY id")
                        .bind(deployment.0)
                        .fetch_all(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    let mut hazards = Vec::with_capacity(ids.len());
                    for id in ids {
                        hazards.push(hazard_in(connection, id).await?);
                    }
                    let current = $crate::hazard_log_sha256(&hazards);
                    if current != log_sha256 {
                        return Err(StoreError::Conflict(format!(
                            "the hazard log of deployment {deployment} has changed since the safety case you read was made; read it again and sign that"
                        )));
                    }
                    let payload = ::serde_json::json!({
                        "deployment": deployment.0, "log_sha256": log_sha256, "report_sha256": report_sha256,
                        "statement": statement, "hazards": hazards.len(),
                    });
                    let sequence = append_audit(connection, context, "safety_case.sign", &format!("deployment:{deployment}"), &payload).await?;
                    let id: i64 = ::sqlx::query_scalar(
                        "INSERT INTO safety_case_signatures (deployment_id, log_sha256, report_sha256, statement, signed_by, role, signed_at, audit_sequence) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    )
                    .bind(deployment.0)
                    .bind(log_sha256)
                    .bind(report_sha256)
                    .bind(statement)
                    .bind(context.actor.name.as_str())
                    .bind(context.actor.role.as_str())
                    .bind(stored_timestamp(context.at))
                    .bind(sequence as i64)
                    .fetch_one(&mut *connection)
                    .await
                    .map_err(database_error)?;
                    Ok($crate::SafetyCaseSignature {
                        id,
                        deployment,
                        log_sha256: log_sha256.to_owned(),
                        report_sha256: report_sha256.to_owned(),
                        statement: statement.to_owned(),
                        signed_by: context.actor.name.as_str().to_owned(),
                        role: context.actor.role.as_str().to_owned(),
                        signed_at: context.at,
                        audit_sequence: sequence,
                    })
                })
                .await
            }

            async fn safety_case_signatures(&self, deployment: DeploymentId) -> Result<Vec<$crate::SafetyCaseSignature>, StoreError> {
                ::sqlx::query("SELECT * FROM safety_case_signatures WHERE deployment_id = $1 ORDER BY id DESC")
                    .bind(deployment.0)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(database_error)?
                    .iter()
                    .map($crate::decode::safety_case_signature)
                    .collect()
            }

            async fn create_assessment(
                &self,
                context: &ChangeContext,
                version: VersionId,
                organisation: &::vigil_domain::Code,
                template_toml: &str,
            ) -> Result<$crate::AssessmentRecord, StoreError> {
                let template = ::vigil_domain::procurement::Template::from_toml(template_toml)?;
                self.write(async |connection| {
                    create_assessment_in(connection, context, version, organisation, template_toml, &template).await
                })
                .await
            }

            async fn save_answers(
                &self,
                context: &ChangeContext,
                id: i64,
                answers: &[::vigil_domain::procurement::Answer],
                expected_revision: i64,
            ) -> Result<$crate::AssessmentRecord, StoreError> {
                self.write(async |connection| save_answers_in(connection, context, id, answers, expected_revision).await)
                    .await
            }

            async fn complete_assessment(
                &self,
                context: &ChangeContext,
                id: i64,
                expected_revision: i64,
            ) -> Result<$crate::AssessmentRecord, StoreError> {
                self.write(async |connection| complete_assessment_in(connection, context, id, expected_revision).await)
                    .await
            }

            async fn record_assessment(
                &self,
                context: &ChangeContext,
                version: VersionId,
                organisation: &::vigil_domain::Code,
                template_toml: &str,
                answers: &[::vigil_domain::procurement::Answer],
            ) -> Result<$crate::AssessmentRecord, StoreError> {
                let template = ::vigil_domain::procurement::Template::from_toml(template_toml)?;
                self.write(async |connection| {
                    let draft = create_assessment_in(connection, context, version, organisation, template_toml, &template).await?;
                    let answered = save_answers_in(connection, context, draft.id, answers, draft.revision).await?;
                    complete_assessment_in(connection, context, draft.id, answered.revision).await
                })
                .await
            }

            async fn assessment(&self, id: i64) -> Result<$crate::AssessmentRecord, StoreError> {
                let mut connection = self.pool.acquire().await.map_err(database_error)?;
                assessment_in(&mut connection, id).await
            }

            async fn assessments(
                &self,
                organisations: Option<&[String]>,
                version: Option<VersionId>,
            ) -> Result<Vec<$crate::AssessmentRecord>, StoreError> {
                let rows = ::sqlx::query("SELECT * FROM procurement_assessments WHERE ($1 = 0 OR version_id = $1) ORDER BY id DESC")
                    .bind(version.map_or(0, |version| version.0))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(database_error)?;
                let mut records = Vec::with_capacity(rows.len());
                for row in &rows {
                    let record = $crate::decode::assessment_record(row)?;
                    if organisations.is_none_or(|allowed| allowed.contains(&record.organisation)) {
                        records.push(record);
                    }
                }
                Ok(records)
            }

            async fn add_attachment(
                &self,
                context: &ChangeContext,
                organisation: &::vigil_domain::Code,
                media_type: &str,
                content: &[u8],
            ) -> Result<($crate::AttachmentRecord, bool), StoreError> {
                let sha256 = $crate::rows::sha256_hex_bytes(content);
                self.write(async |connection| {
                    let existing = ::sqlx::query("SELECT organisation, sha256, media_type, size_bytes, uploaded_by, uploaded_at FROM attachments WHERE organisation = $1 AND sha256 = $2")
                        .bind(organisation.as_str())
                        .bind(&sha256)
                        .fetch_optional(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    if let Some(row) = existing {
                        return Ok(($crate::decode::attachment_record(&row)?, false));
                    }
                    let size = i64::try_from(content.len()).map_err(|error| StoreError::corrupt("attachment size", error))?;
                    ::sqlx::query(
                        "INSERT INTO attachments (organisation, sha256, media_type, size_bytes, content, uploaded_by, uploaded_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(organisation.as_str())
                    .bind(&sha256)
                    .bind(media_type)
                    .bind(size)
                    .bind(content)
                    .bind(context.actor.name.as_str())
                    .bind(stored_timestamp(context.at))
                    .execute(&mut *connection)
                    .await
                    .map_err(database_error)?;
                    let payload = ::serde_json::json!({
                        "organisation": organisation.as_str(), "sha256": sha256, "media_type": media_type, "size_bytes": size,
                    });
                    append_audit(connection, context, "attachment.add", &format!("organisation:{organisation}"), &payload).await?;
                    Ok(($crate::AttachmentRecord {
                        organisation: organisation.as_str().to_owned(),
                        sha256: sha256.clone(),
                        media_type: media_type.to_owned(),
                        size_bytes: size,
                        uploaded_by: context.actor.name.as_str().to_owned(),
                        uploaded_at: $crate::rows::timestamp("attachment time", &stored_timestamp(context.at))?,
                    }, true))
                })
                .await
            }

            async fn attachment(
                &self,
                organisations: &[String],
                sha256: &str,
            ) -> Result<Option<($crate::AttachmentRecord, Vec<u8>)>, StoreError> {
                let rows = ::sqlx::query("SELECT * FROM attachments WHERE sha256 = $1 ORDER BY organisation")
                    .bind(sha256)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(database_error)?;
                for row in &rows {
                    let record = $crate::decode::attachment_record(row)?;
                    if organisations.contains(&record.organisation) {
                        let content: Vec<u8> = ::sqlx::Row::try_get(row, "content").map_err(database_error)?;
                        return Ok(Some((record, content)));
                    }
                }
                Ok(None)
            }

            async fn raise_alerts(
                &self,
                context: &ChangeContext,
                deployment: DeploymentId,
                rules_version: i64,
                assessments: &[$crate::vigil_monitor::Assessment],
            ) -> Result<Vec<$crate::AlertRecord>, StoreError> {
                self.write(async |connection| {
                    let current = deployment_in(connection, deployment).await?;
                    let mut raised = Vec::new();
                    for assessment in assessments.iter().filter(|assessment| assessment.verdict == $crate::vigil_monitor::Verdict::Signal) {
                        let open: Option<i64> = ::sqlx::query_scalar(
                            "SELECT id FROM alerts WHERE deployment_id = $1 AND rule_id = $2 AND state <> 'resolved'",
                        )
                        .bind(deployment.0)
                        .bind(&assessment.rule)
                        .fetch_optional(&mut *connection)
                        .await
                        .map_err(database_error)?;
                        if open.is_some() {
                            continue;
                        }
                        let evidence = ::serde_json::to_string(assessment).map_err(|error| StoreError::corrupt("alert evidence", error))?;
                        let id: i64 = ::sqlx::query_scalar(
                            "INSERT INTO alerts (deployment_id, rule_id, rules_version, state, evidence, proposes_suspension, raised_at, raised_by) \
                             VALUES ($1, $2, $3, 'raised', $4, $5, $6, $7) RETURNING id",
                        )
                        .bind(deployment.0)
                        .bind(&assessment.rule)
                        .bind(rules_version)
                        .bind(&evidence)
                        .bind(i64::from(assessment.propose_suspension))
                        .bind(stored_timestamp(context.at))
                        .bind(context.actor.name.as_str())
                        .fetch_one(&mut *connection)
                        .await
                        .map_err(database_error)?;
                        let payload = ::serde_json::json!({
                            "deployment": deployment.0, "alert": id, "rule": assessment.rule, "rules_version": rules_version,
                            "statistic": assessment.evidence.statistic, "value": assessment.evidence.value,
                            "cases": assessment.evidence.cases, "window_from": assessment.window_from.to_string(),
                            "window_to": assessment.window_to.to_string(), "proposes_suspension": assessment.propose_suspension,
                        });
                        append_audit(connection, context, "alert.raise", &format!("deployment:{deployment}"), &payload).await?;
                        let alert = alert_in(connection, id).await?;
                        queue_alert_message(connection, &alert, &current.site, "alert.raised", context.at).await?;
                        raised.push(alert);
                    }
                    Ok(raised)
                })
                .await
            }

            async fn alerts(&self, deployment: DeploymentId) -> Result<Vec<$crate::AlertRecord>, StoreError> {
                ::sqlx::query("SELECT * FROM alerts WHERE deployment_id = $1 ORDER BY id DESC")
                    .bind(deployment.0)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(database_error)?
                    .iter()
                    .map($crate::decode::alert_record)
                    .collect()
            }

            async fn alert(&self, id: i64) -> Result<$crate::AlertRecord, StoreError> {
                let mut connection = self.pool.acquire().await.map_err(database_error)?;
                alert_in(&mut connection, id).await
            }

            async fn advance_alert(
                &self,
                context: &ChangeContext,
                id: i64,
                to: $crate::AlertState,
                note: &str,
            ) -> Result<$crate::AlertRecord, StoreError> {
                self.write(async |connection| {
                    let alert = alert_in(connection, id).await?;
                    let (statement, action, event) = match (alert.state, to) {
                        ($crate::AlertState::Raised, $crate::AlertState::Acknowledged) => (
                            "UPDATE alerts SET state = 'acknowledged', acknowledged_at = $1, acknowledged_by = $2, acknowledgement = $3 \
                             WHERE id = $4 AND state = 'raised'",
                            "alert.acknowledge",
                            "alert.acknowledged",
                        ),
                        ($crate::AlertState::Acknowledged, $crate::AlertState::Resolved) => (
                            "UPDATE alerts SET state = 'resolved', resolved_at = $1, resolved_by = $2, resolution = $3 \
                             WHERE id = $4 AND state = 'acknowledged'",
                            "alert.resolve",
                            "alert.resolved",
                        ),
                        (from, to) => {
                            return Err(StoreError::Conflict(format!(
                                "alert {id} is {}; it cannot become {} (an alert is acknowledged, then resolved)",
                                from.as_str(),
                                to.as_str()
                            )));
                        }
                    };
                    ::sqlx::query(statement)
                        .bind(stored_timestamp(context.at))
                        .bind(context.actor.name.as_str())
                        .bind(note)
                        .bind(id)
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    let payload = ::serde_json::json!({
                        "deployment": alert.deployment.0, "alert": id, "rule": alert.rule, "note": note,
                    });
                    append_audit(connection, context, action, &format!("deployment:{}", alert.deployment), &payload).await?;
                    if to == $crate::AlertState::Resolved {
                        reassess_hazards(connection, context, id, note).await?;
                    }
                    let updated = alert_in(connection, id).await?;
                    let deployment = deployment_in(connection, alert.deployment).await?;
                    queue_alert_message(connection, &updated, &deployment.site, event, context.at).await?;
                    Ok(updated)
                })
                .await
            }

            async fn add_webhook(
                &self,
                context: &ChangeContext,
                organisation: &::vigil_domain::Code,
                url: &str,
                secret: &str,
            ) -> Result<$crate::WebhookRecord, StoreError> {
                self.write(async |connection| {
                    let known: Option<String> = ::sqlx::query_scalar("SELECT code FROM organisations WHERE code = $1")
                        .bind(organisation.as_str())
                        .fetch_optional(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    if known.is_none() {
                        return Err(StoreError::NotFound { what: "organisation", id: organisation.to_string() });
                    }
                    let id: i64 = ::sqlx::query_scalar(
                        "INSERT INTO webhooks (organisation, url, secret, created_by, created_at, disabled) VALUES ($1, $2, $3, $4, $5, 0) RETURNING id",
                    )
                    .bind(organisation.as_str())
                    .bind(url)
                    .bind(secret)
                    .bind(context.actor.name.as_str())
                    .bind(stored_timestamp(context.at))
                    .fetch_one(&mut *connection)
                    .await
                    .map_err(database_error)?;
                    // The address is audited without its query (which may
                    // carry a token), and the secret never.
                    let shown = url.split(['?', '#']).next().unwrap_or_default();
                    let payload = ::serde_json::json!({"webhook": id, "organisation": organisation.as_str(), "url": shown});
                    append_audit(connection, context, "webhook.add", &format!("organisation:{organisation}"), &payload).await?;
                    Ok($crate::WebhookRecord {
                        id,
                        organisation: organisation.clone(),
                        url: url.to_owned(),
                        created_by: context.actor.name.as_str().to_owned(),
                        created_at: context.at,
                        disabled: false,
                    })
                })
                .await
            }

            async fn record_dicom_instance(
                &self,
                context: &ChangeContext,
                instance: &$crate::DicomInstanceRecord,
            ) -> Result<$crate::DicomRecorded, StoreError> {
                self.write(async |connection| {
                    record_dicom_instance_in(connection, context, instance).await
                })
                .await
            }

            async fn record_dicom_result(
                &self,
                context: &ChangeContext,
                deployment: DeploymentId,
                event: &$crate::vigil_monitor::Event,
                body_sha256: &str,
                instance: &$crate::DicomInstanceRecord,
            ) -> Result<$crate::DicomRecorded, StoreError> {
                write_event_batch(self, context, deployment, ::std::slice::from_ref(event), body_sha256, async |connection, _| {
                    record_dicom_instance_in(connection, context, instance).await
                })
                .await
            }

            async fn dicom_instances(
                &self,
                query: &$crate::DicomInstanceQuery,
            ) -> Result<Vec<$crate::DicomInstanceRecord>, StoreError> {
                use $crate::decode::DecodeRow as _;
                let mut select = ::sqlx::QueryBuilder::<$database>::new(
                    "SELECT id, trust, sop_instance, sop_class_uid, kind, study, series, accession, modality, calling_ae, \
                     received_at, disposition, deployment_id, reason, acquisition, original_sha256 FROM dicom_instances WHERE 1 = 1",
                );
                if let Some(trusts) = &query.trusts {
                    if !push_trusts_within(&mut select, trusts) {
                        return Ok(Vec::new());
                    }
                }
                if let Some(disposition) = &query.disposition {
                    select.push(" AND disposition = ").push_bind(disposition.clone());
                }
                if let Some(study) = &query.study {
                    select.push(" AND study = ").push_bind(study.clone());
                }
                if let Some(before) = query.before_id {
                    select.push(" AND id < ").push_bind(before);
                }
                select.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(query.limit));
                let rows = select.build().fetch_all(&self.pool).await.map_err(database_error)?;
                rows.iter().map($crate::sql::dicom_instance_row).collect()
            }

            async fn record_report_times(
                &self,
                trust: &::vigil_domain::Code,
                channel: ::vigil_domain::ReportChannel,
                received_at: ::jiff::Timestamp,
                timings: &[::vigil_domain::ReportTiming],
            ) -> Result<u64, StoreError> {
                if timings.is_empty() {
                    return Ok(0);
                }
                self.write(async |connection| {
                    let mut new = 0;
                    for timing in timings {
                        new += ::sqlx::query(
                            "INSERT INTO report_times (trust, case_pseudonym, status, examined_at, issued_at, channel, received_at, reader) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                        )
                        .bind(trust.as_str())
                        .bind(timing.case().as_str())
                        .bind(timing.status().as_str())
                        .bind(timing.examined_at().map(stored_timestamp))
                        .bind(stored_timestamp(timing.issued_at()))
                        .bind(channel.as_str())
                        .bind(stored_timestamp(received_at))
                        .bind(timing.reader().map(|reader| reader.as_str().to_owned()))
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)?
                        .rows_affected();
                    }
                    Ok(new)
                })
                .await
            }

            async fn report_times(
                &self,
                query: &$crate::ReportTimeQuery,
            ) -> Result<Vec<$crate::ReportTimeRecord>, StoreError> {
                let mut select = ::sqlx::QueryBuilder::<$database>::new(
                    "SELECT id, trust, case_pseudonym, status, examined_at, issued_at, channel, received_at, reader \
                     FROM report_times WHERE 1 = 1",
                );
                if let Some(trusts) = &query.trusts {
                    if !push_trusts_within(&mut select, trusts) {
                        return Ok(Vec::new());
                    }
                }
                if let Some(case) = &query.case {
                    select.push(" AND case_pseudonym = ").push_bind(case.clone());
                }
                if let Some(from) = query.issued_from {
                    select.push(" AND issued_at >= ").push_bind(stored_timestamp(from));
                }
                if let Some(before) = query.issued_before {
                    select.push(" AND issued_at < ").push_bind(stored_timestamp(before));
                }
                if let Some(before) = query.before_id {
                    select.push(" AND id < ").push_bind(before);
                }
                select.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(query.limit));
                let rows = select.build().fetch_all(&self.pool).await.map_err(database_error)?;
                rows.iter().map($crate::sql::report_time_row).collect()
            }

            async fn webhooks(&self, organisations: Option<&[String]>) -> Result<Vec<$crate::WebhookRecord>, StoreError> {
                use $crate::decode::DecodeRow as _;
                let rows = ::sqlx::query("SELECT id, organisation, url, created_by, created_at, disabled FROM webhooks ORDER BY id")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(database_error)?;
                let mut hooks = Vec::new();
                for row in &rows {
                    let organisation = row.text("organisation").map_err(database_error)?;
                    if organisations.is_some_and(|allowed| !allowed.contains(&organisation)) {
                        continue;
                    }
                    hooks.push($crate::WebhookRecord {
                        id: row.integer("id").map_err(database_error)?,
                        organisation: ::vigil_domain::Code::parse(&organisation)
                            .map_err(|error| StoreError::corrupt("webhook organisation", error))?,
                        url: row.text("url").map_err(database_error)?,
                        created_by: row.text("created_by").map_err(database_error)?,
                        created_at: $crate::rows::timestamp("webhook time", &row.text("created_at").map_err(database_error)?)?,
                        disabled: row.integer("disabled").map_err(database_error)? == 1,
                    });
                }
                Ok(hooks)
            }

            async fn due_deliveries(&self, now: ::jiff::Timestamp, limit: u32) -> Result<Vec<$crate::DueDelivery>, StoreError> {
                use $crate::decode::DecodeRow as _;
                ::sqlx::query(
                    "SELECT d.id, d.webhook_id, w.url, w.secret, d.event, d.body, d.attempts FROM webhook_deliveries d \
                     JOIN webhooks w ON w.id = d.webhook_id \
                     WHERE d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= $1 AND w.disabled = 0 ORDER BY d.id LIMIT $2",
                )
                .bind(stored_timestamp(now))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(database_error)?
                .iter()
                .map(|row| {
                    Ok($crate::DueDelivery {
                        id: row.integer("id").map_err(database_error)?,
                        webhook: row.integer("webhook_id").map_err(database_error)?,
                        url: row.text("url").map_err(database_error)?,
                        secret: row.text("secret").map_err(database_error)?,
                        event: row.text("event").map_err(database_error)?,
                        body: row.text("body").map_err(database_error)?,
                        attempts: u32::try_from(row.integer("attempts").map_err(database_error)?).unwrap_or(u32::MAX),
                    })
                })
                .collect()
            }

            async fn record_delivery(
                &self,
                id: i64,
                at: ::jiff::Timestamp,
                outcome: Result<(), (String, Option<::jiff::Timestamp>)>,
            ) -> Result<(), StoreError> {
                self.write(async |connection| {
                    let (delivered, next, error) = match outcome {
                        Ok(()) => (Some(stored_timestamp(at)), None, None),
                        Err((error, next)) => (None, next.map(stored_timestamp), Some(error)),
                    };
                    ::sqlx::query(
                        "UPDATE webhook_deliveries SET attempts = attempts + 1, delivered_at = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4",
                    )
                    .bind(delivered)
                    .bind(next)
                    .bind(error)
                    .bind(id)
                    .execute(&mut *connection)
                    .await
                    .map_err(database_error)?;
                    Ok(())
                })
                .await
            }

            async fn daily_aggregates(
                &self,
                deployment: DeploymentId,
            ) -> Result<Vec<($crate::vigil_monitor::DayKey, $crate::vigil_monitor::DayAggregate)>, StoreError> {
                let rows = ::sqlx::query(
                    "SELECT day, model_version, aggregate FROM daily_aggregates WHERE deployment_id = $1",
                )
                .bind(deployment.0)
                .fetch_all(&self.pool)
                .await
                .map_err(database_error)?;
                let mut aggregates: Vec<($crate::vigil_monitor::DayKey, $crate::vigil_monitor::DayAggregate)> = rows.iter()
                    .map(|row| {
                        use $crate::decode::DecodeRow as _;
                        let day: String = row.text("day").map_err(database_error)?;
                        let aggregate: String = row.text("aggregate").map_err(database_error)?;
                        Ok((
                            $crate::vigil_monitor::DayKey {
                                day: day.parse().map_err(|error| StoreError::corrupt("aggregate day", error))?,
                                model_version: row.text("model_version").map_err(database_error)?,
                            },
                            ::serde_json::from_str(&aggregate).map_err(|error| StoreError::corrupt("day aggregate", error))?,
                        ))
                    })
                    .collect::<Result<_, StoreError>>()?;
                // Sorted here, not by the database: text collations differ.
                aggregates.sort_by(|left, right| left.0.cmp(&right.0));
                Ok(aggregates)
            }

            async fn event_count(&self, deployment: DeploymentId) -> Result<u64, StoreError> {
                let count: i64 = ::sqlx::query_scalar("SELECT COUNT(*) FROM inference_events WHERE deployment_id = $1")
                    .bind(deployment.0)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(database_error)?;
                Ok(u64::try_from(count).unwrap_or(0))
            }

            async fn audit_page(
                &self,
                before: Option<u64>,
                limit: u32,
                organisations: Option<&[String]>,
            ) -> Result<Vec<StoredEntry>, StoreError> {
                let before = match before {
                    Some(before) => i64::try_from(before).unwrap_or(i64::MAX),
                    None => i64::MAX,
                };
                let mut sql = format!("{AUDIT_LOG_COLUMNS} WHERE audit_log.sequence < $1");
                if let Some(organisations) = organisations {
                    if organisations.is_empty() {
                        return Ok(Vec::new());
                    }
                    let placeholders: Vec<String> =
                        (0..organisations.len()).map(|index| format!("${}", index + 3)).collect();
                    sql.push_str(&format!(" AND audit_log.organisation IN ({})", placeholders.join(", ")));
                }
                sql.push_str(" ORDER BY audit_log.sequence DESC LIMIT $2");
                let mut query = ::sqlx::query(::sqlx::AssertSqlSafe(sql.as_str())).bind(before).bind(i64::from(limit));
                for organisation in organisations.into_iter().flatten() {
                    query = query.bind(organisation);
                }
                let rows = query.fetch_all(&self.pool).await.map_err(database_error)?;
                rows.iter()
                    .map(|row| audit_log_row(row).map(|row| row.to_stored_entry()).map_err(database_error))
                    .collect()
            }

            async fn audit_trail(&self) -> Result<$crate::AuditTrail, StoreError> {
                let mut transaction = self.snapshot().await?;
                let connection = &mut *transaction;
                // Every column is cast to the type the chain expects, so that
                // a value of the wrong type written outside Vigil shows up as
                // a broken entry rather than a read failure.
                let rows = fetch_rows(&mut *connection, &format!("{AUDIT_LOG_COLUMNS} ORDER BY position"), audit_log_row).await?;
                let head = ::sqlx::query("SELECT CAST(sequence AS BIGINT) AS sequence, CAST(hash AS TEXT) AS hash FROM audit_head WHERE singleton = 1")
                    .fetch_optional(&mut *connection)
                    .await
                    .map_err(database_error)?
                    .map(|row| audit_head_row(&row))
                    .transpose()
                    .map_err(database_error)?;
                let registry_rows: i64 = ::sqlx::query_scalar(
                    "SELECT (SELECT COUNT(*) FROM organisations) + (SELECT COUNT(*) FROM users)",
                )
                .fetch_one(&mut *connection)
                .await
                .map_err(database_error)?;
                transaction.commit().await.map_err(database_error)?;
                Ok($crate::AuditTrail {
                    entries: rows.iter().map(AuditRow::to_stored_entry).collect(),
                    head: head
                        .map(|head| -> Result<RecordedHead, StoreError> {
                            Ok(RecordedHead {
                                sequence: u64::try_from(head.sequence)
                                    .map_err(|error| StoreError::corrupt("audit head", error))?,
                                hash: head.hash,
                            })
                        })
                        .transpose()?,
                    registry_is_empty: registry_rows == 0,
                })
            }

            async fn export_archive(&self) -> Result<Archive, StoreError> {
                // One snapshot transaction gives a consistent view of every table.
                let mut transaction = self.snapshot().await?;
                let mut archive = read_registry(&mut *transaction).await?;
                archive.monitoring = Some(read_monitoring_ledger(&mut *transaction).await?);
                transaction.commit().await.map_err(database_error)?;
                Ok(archive)
            }

            async fn export_archive_to(
                &self,
                out: &mut (dyn ::std::io::Write + Send),
            ) -> Result<$crate::archive::ArchiveCounts, StoreError> {
                let mut transaction = self.snapshot().await?;
                let archive = read_registry(&mut *transaction).await?;
                let written = |error| StoreError::ArchiveOutput(error);
                writeln!(out, "{}", archive.to_json_line()).map_err(written)?;
                let mut table_rows = 0;
                for table in $crate::archive_tables::ARCHIVED_TABLES {
                    table_rows += export_table(&mut *transaction, table, out).await?;
                }
                writeln!(out, "{}", $crate::archive_tables::archive_end_line()).map_err(written)?;
                transaction.commit().await.map_err(database_error)?;
                Ok($crate::archive::ArchiveCounts { audit_entries: archive.audit_log.len() as u64, table_rows })
            }

            async fn import_archive(
                &self,
                archive: &Archive,
                tables: Option<&mut (dyn ::std::io::BufRead + Send)>,
            ) -> Result<$crate::archive::ArchiveCounts, StoreError> {
                archive.verify_chain()?;
                if archive.carries_tables() && tables.is_none() {
                    return Err(StoreError::ImportRefused(
                        "the archive's tables are missing: it holds only its registry's line".to_owned(),
                    ));
                }
                self.write(async |connection| {
                    let existing: i64 = ::sqlx::query_scalar(
                        "SELECT (SELECT COUNT(*) FROM organisations) + (SELECT COUNT(*) FROM audit_log) + (SELECT COUNT(*) FROM sign_off_policies)",
                    )
                    .fetch_one(&mut *connection)
                    .await
                    .map_err(database_error)?;
                    if existing > 0 {
                        return Err(StoreError::ImportRefused(
                            "the target database is not empty; import into a new database".to_owned(),
                        ));
                    }
                    for row in &archive.organisations {
                        ::sqlx::query("INSERT INTO organisations (code, name, kind, parent, created_at) VALUES ($1, $2, $3, $4, $5)")
                            .bind(&row.code)
                            .bind(&row.name)
                            .bind(&row.kind)
                            .bind(&row.parent)
                            .bind(&row.created_at)
                            .execute(&mut *connection)
                            .await
                            .map_err(database_error)?;
                    }
                    for row in &archive.users {
                        ::sqlx::query("INSERT INTO users (id, user_name, display_name, role, organisation, created_at, disabled) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                            .bind(row.id)
                            .bind(&row.user_name)
                            .bind(&row.display_name)
                            .bind(&row.role)
                            .bind(&row.organisation)
                            .bind(&row.created_at)
                            .bind(row.disabled)
                            .execute(&mut *connection)
                            .await
                            .map_err(database_error)?;
                    }
                    for row in &archive.products {
                        ::sqlx::query(
                            "INSERT INTO products (id, vendor, name, intended_purpose, modality, body_part, task_type, regulatory_class, marking, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                        )
                        .bind(row.id)
                        .bind(&row.vendor)
                        .bind(&row.name)
                        .bind(&row.intended_purpose)
                        .bind(&row.modality)
                        .bind(&row.body_part)
                        .bind(&row.task_type)
                        .bind(&row.regulatory_class)
                        .bind(&row.marking)
                        .bind(&row.created_at)
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    }
                    for row in &archive.product_versions {
                        ::sqlx::query(
                            "INSERT INTO product_versions (id, product_id, version, release_date, change_notes, change_kind, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        )
                        .bind(row.id)
                        .bind(row.product_id)
                        .bind(&row.version)
                        .bind(&row.release_date)
                        .bind(&row.change_notes)
                        .bind(&row.change_kind)
                        .bind(&row.created_at)
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    }
                    for row in &archive.deployments {
                        ::sqlx::query(
                            "INSERT INTO deployments (id, product_id, version_id, site, owning_team, thresholds, change_control, state, revision, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                        )
                        .bind(row.id)
                        .bind(row.product_id)
                        .bind(row.version_id)
                        .bind(&row.site)
                        .bind(&row.owning_team)
                        .bind(&row.thresholds)
                        .bind(&row.change_control)
                        .bind(&row.state)
                        .bind(row.revision)
                        .bind(&row.created_at)
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    }
                    for row in &archive.decisions {
                        ::sqlx::query(
                            "INSERT INTO decisions (id, deployment_id, from_state, to_state, version_id, sign_offs, rationale, evidence, decided_by, decided_at, audit_sequence) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                        )
                        .bind(row.id)
                        .bind(row.deployment_id)
                        .bind(&row.from_state)
                        .bind(&row.to_state)
                        .bind(row.version_id)
                        .bind(&row.sign_offs)
                        .bind(&row.rationale)
                        .bind(&row.evidence)
                        .bind(&row.decided_by)
                        .bind(&row.decided_at)
                        .bind(row.audit_sequence)
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    }
                    for row in &archive.sign_off_policies {
                        ::sqlx::query("INSERT INTO sign_off_policies (version, entries, set_by, set_at, audit_sequence) VALUES ($1, $2, $3, $4, $5)")
                            .bind(row.version)
                            .bind(&row.entries)
                            .bind(&row.set_by)
                            .bind(&row.set_at)
                            .bind(row.audit_sequence)
                            .execute(&mut *connection)
                            .await
                            .map_err(database_error)?;
                    }
                    for row in &archive.user_credentials {
                        ::sqlx::query("INSERT INTO user_credentials (user_id, password_hash, set_at) VALUES ($1, $2, $3)")
                            .bind(row.user_id)
                            .bind(&row.password_hash)
                            .bind(&row.set_at)
                            .execute(&mut *connection)
                            .await
                            .map_err(database_error)?;
                    }
                    for row in &archive.api_tokens {
                        ::sqlx::query(
                            "INSERT INTO api_tokens (id, name, token_hash, organisation, role, created_by, created_at, last_used_at, revoked_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        )
                        .bind(row.id)
                        .bind(&row.name)
                        .bind(&row.token_hash)
                        .bind(&row.organisation)
                        .bind(&row.role)
                        .bind(&row.created_by)
                        .bind(&row.created_at)
                        .bind(&row.last_used_at)
                        .bind(&row.revoked_at)
                        .execute(&mut *connection)
                        .await
                        .map_err(database_error)?;
                    }
                    for row in &archive.evaluations {
                        insert_evaluation_row(connection, row).await.map_err(database_error)?;
                    }
                    for row in &archive.pending_sign_offs {
                        insert_pending_sign_off_row(connection, row).await.map_err(database_error)?;
                    }
                    for row in &archive.audit_log {
                        insert_audit_row(connection, row).await?;
                    }
                    if let Some(head) = &archive.audit_head {
                        ::sqlx::query("INSERT INTO audit_head (singleton, sequence, hash) VALUES (1, $1, $2)")
                            .bind(head.sequence)
                            .bind(&head.hash)
                            .execute(&mut *connection)
                            .await
                            .map_err(database_error)?;
                    }
                    // An archive that carries the monitoring tables must
                    // hold every batch its trail records, and each batch
                    // the rows it stored. An archive of the registry only
                    // (the old format) carries none of them.
                    let table_rows = match tables {
                        Some(tables) => {
                            let (table_rows, ledger) = import_tables(connection, tables).await?;
                            $crate::consistency::check_monitoring(&archive.audit_log, &ledger)
                                .map_err(|divergence| StoreError::ImportRefused(format!("in the archive, {divergence}")))?;
                            table_rows
                        }
                        None => 0,
                    };
                    <$store>::after_import(connection).await?;
                    Ok($crate::archive::ArchiveCounts { audit_entries: archive.audit_log.len() as u64, table_rows })
                })
                .await
            }
        }
        };
    };
}
