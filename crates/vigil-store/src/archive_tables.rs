//! The tables an archive carries after its registry: events, outcomes, rules,
//! alerts, webhooks, DICOM and report records, success criteria, hazards,
//! safety case signatures, procurement assessments and attachments, one
//! line a row, so that an archive of millions of events is written and read
//! without holding it in memory.
//!
//! After the registry's line (see [`crate::Archive`]) each table in
//! [`ARCHIVED_TABLES`] order is written as a line naming it and its columns,
//! one JSON array a row, and a line giving its row count; a last line closes
//! the archive. Bytes are written as lowercase hexadecimal. Reading checks
//! every line against that shape (known tables in order, their columns, each
//! value's type, the counts, the closing line) and names the line of any
//! fault; the database's own constraints check the rest.

use std::io::BufRead;

use serde_json::Value;

use crate::StoreError;

/// How a column's values are stored and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// A 64-bit integer.
    Integer,
    /// A double.
    Real,
    /// Text.
    Text,
    /// Bytes, written as hexadecimal.
    Bytes,
    /// An event's idempotency key: text in the archive, stored as each
    /// backend stores it (SQLite keeps a pseudonym as its 16 bytes).
    EventId,
}

/// A table an archive carries row by row.
#[derive(Debug)]
pub struct ArchivedTable {
    /// The table's name in both backends.
    pub name: &'static str,
    /// Its columns, in the order each row lists them.
    pub columns: &'static [(&'static str, ColumnKind)],
    /// The order its rows are written in (each backend's key order).
    pub order_by: &'static str,
}

impl ArchivedTable {
    /// The column names, comma-separated.
    pub fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

use ColumnKind::{Bytes, EventId, Integer, Real, Text};

/// The columns of `event_batches` and `outcome_batches`.
const BATCH_COLUMNS: &[(&str, ColumnKind)] = &[
    ("id", Integer),
    ("deployment_id", Integer),
    ("received_at", Text),
    ("received_by", Text),
    ("body_sha256", Text),
    ("rows_received", Integer),
    ("rows_stored", Integer),
    ("audit_sequence", Integer),
];

/// Every table an archive carries after the registry, parents before the
/// rows that refer to them. Only sessions are left out: they end with the
/// database they were opened on.
pub const ARCHIVED_TABLES: &[ArchivedTable] = &[
    ArchivedTable {
        name: "event_batches",
        columns: BATCH_COLUMNS,
        order_by: "id",
    },
    ArchivedTable {
        name: "inference_events",
        columns: &[
            ("deployment_id", Integer),
            ("event_id", EventId),
            ("batch_id", Integer),
            ("case_pseudonym", Text),
            ("occurred_at", Text),
            ("day", Text),
            ("model_version", Text),
            ("score", Real),
            ("decision", Integer),
            ("scanner_manufacturer", Text),
            ("scanner_model", Text),
            ("protocol", Text),
            ("slice_thickness_mm", Real),
            ("kvp", Real),
            ("age_band", Text),
            ("sex", Text),
            ("site", Text),
            ("content_sha256", Text),
        ],
        order_by: "deployment_id, event_id",
    },
    ArchivedTable {
        name: "daily_aggregates",
        columns: &[
            ("deployment_id", Integer),
            ("day", Text),
            ("model_version", Text),
            ("aggregate", Text),
        ],
        order_by: "deployment_id, day, model_version",
    },
    ArchivedTable {
        name: "outcome_batches",
        columns: BATCH_COLUMNS,
        order_by: "id",
    },
    ArchivedTable {
        name: "outcomes",
        columns: &[
            ("deployment_id", Integer),
            ("case_pseudonym", Text),
            ("source", Text),
            ("label", Integer),
            ("recorded_at", Text),
            ("reader_agrees", Integer),
            ("batch_id", Integer),
            ("content_sha256", Text),
        ],
        order_by: "deployment_id, case_pseudonym, source",
    },
    ArchivedTable {
        name: "monitoring_rules",
        columns: &[
            ("deployment_id", Integer),
            ("version", Integer),
            ("rules", Text),
            ("reason", Text),
            ("created_by", Text),
            ("created_at", Text),
            ("audit_sequence", Integer),
        ],
        order_by: "deployment_id, version",
    },
    ArchivedTable {
        name: "alerts",
        columns: &[
            ("id", Integer),
            ("deployment_id", Integer),
            ("rule_id", Text),
            ("rules_version", Integer),
            ("state", Text),
            ("evidence", Text),
            ("proposes_suspension", Integer),
            ("raised_at", Text),
            ("raised_by", Text),
            ("acknowledged_at", Text),
            ("acknowledged_by", Text),
            ("acknowledgement", Text),
            ("resolved_at", Text),
            ("resolved_by", Text),
            ("resolution", Text),
        ],
        order_by: "id",
    },
    ArchivedTable {
        name: "webhooks",
        columns: &[
            ("id", Integer),
            ("organisation", Text),
            ("url", Text),
            ("secret", Text),
            ("created_by", Text),
            ("created_at", Text),
            ("disabled", Integer),
        ],
        order_by: "id",
    },
    ArchivedTable {
        name: "webhook_deliveries",
        columns: &[
            ("id", Integer),
            ("webhook_id", Integer),
            ("alert_id", Integer),
            ("event", Text),
            ("body", Text),
            ("attempts", Integer),
            ("next_attempt_at", Text),
            ("delivered_at", Text),
            ("last_error", Text),
        ],
        order_by: "id",
    },
    ArchivedTable {
        name: "dicom_instances",
        columns: &[
            ("id", Integer),
            ("trust", Text),
            ("sop_instance", Text),
            ("sop_class_uid", Text),
            ("kind", Text),
            ("study", Text),
            ("series", Text),
            ("accession", Text),
            ("modality", Text),
            ("calling_ae", Text),
            ("received_at", Text),
            ("disposition", Text),
            ("deployment_id", Integer),
            ("reason", Text),
            ("acquisition", Text),
            ("original_sha256", Text),
        ],
        order_by: "id",
    },
    ArchivedTable {
        name: "report_times",
        columns: &[
            ("id", Integer),
            ("trust", Text),
            ("case_pseudonym", Text),
            ("status", Text),
            ("examined_at", Text),
            ("issued_at", Text),
            ("channel", Text),
            ("received_at", Text),
            ("reader", Text),
        ],
        order_by: "id",
    },
    ArchivedTable {
        name: "success_criteria",
        columns: &[
            ("deployment_id", Integer),
            ("version", Integer),
            ("criteria", Text),
            ("rationale", Text),
            ("registered_by", Text),
            ("registered_at", Text),
            ("audit_sequence", Integer),
        ],
        order_by: "deployment_id, version",
    },
    ArchivedTable {
        name: "hazards",
        columns: &[
            ("id", Integer),
            ("deployment_id", Integer),
            ("revision", Integer),
            ("hazard", Text),
            ("status", Text),
            ("status_before_review", Text),
            ("updated_by", Text),
            ("updated_at", Text),
            ("audit_sequence", Integer),
        ],
        order_by: "id",
    },
    ArchivedTable {
        name: "hazard_history",
        columns: &[
            ("hazard_id", Integer),
            ("revision", Integer),
            ("hazard", Text),
            ("reason", Text),
            ("alert_id", Integer),
            ("recorded_by", Text),
            ("recorded_at", Text),
            ("audit_sequence", Integer),
        ],
        order_by: "hazard_id, revision",
    },
    ArchivedTable {
        name: "hazard_alerts",
        columns: &[
            ("hazard_id", Integer),
            ("alert_id", Integer),
            ("linked_by", Text),
            ("linked_at", Text),
        ],
        order_by: "hazard_id, alert_id",
    },
    ArchivedTable {
        name: "safety_case_signatures",
        columns: &[
            ("id", Integer),
            ("deployment_id", Integer),
            ("log_sha256", Text),
            ("report_sha256", Text),
            ("statement", Text),
            ("signed_by", Text),
            ("role", Text),
            ("signed_at", Text),
            ("audit_sequence", Integer),
        ],
        order_by: "id",
    },
    ArchivedTable {
        name: "procurement_assessments",
        columns: &[
            ("id", Integer),
            ("version_id", Integer),
            ("organisation", Text),
            ("template", Text),
            ("answers", Text),
            ("state", Text),
            ("outcome", Text),
            ("total_percent", Real),
            ("revision", Integer),
            ("created_by", Text),
            ("created_at", Text),
            ("updated_by", Text),
            ("updated_at", Text),
            ("audit_sequence", Integer),
        ],
        order_by: "id",
    },
    ArchivedTable {
        name: "attachments",
        columns: &[
            ("organisation", Text),
            ("sha256", Text),
            ("media_type", Text),
            ("size_bytes", Integer),
            ("content", Bytes),
            ("uploaded_by", Text),
            ("uploaded_at", Text),
        ],
        order_by: "organisation, sha256",
    },
];

/// One value of an archived row.
#[derive(Debug, Clone, PartialEq)]
pub enum ArchivedValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl ArchivedValue {
    fn to_json(&self) -> Value {
        match self {
            ArchivedValue::Null => Value::Null,
            ArchivedValue::Integer(value) => Value::from(*value),
            // A non-finite double has no JSON form; none is ever stored
            // (scores and measurements are checked on arrival).
            ArchivedValue::Real(value) => Value::from(*value),
            ArchivedValue::Text(value) => Value::from(value.as_str()),
            ArchivedValue::Bytes(value) => Value::from(hex::encode(value)),
        }
    }

    /// Reads a value of a column of `kind`, or says what is wrong with it.
    fn from_json(kind: ColumnKind, value: Value) -> Result<ArchivedValue, &'static str> {
        match (kind, value) {
            (_, Value::Null) => Ok(ArchivedValue::Null),
            (Integer, Value::Number(number)) => number
                .as_i64()
                .map(ArchivedValue::Integer)
                .ok_or("must be a whole number"),
            (Integer, _) => Err("must be a whole number"),
            (Real, Value::Number(number)) => number
                .as_f64()
                .map(ArchivedValue::Real)
                .ok_or("must be a number"),
            (Real, _) => Err("must be a number"),
            (Text | EventId, Value::String(text)) => Ok(ArchivedValue::Text(text)),
            (Text | EventId, _) => Err("must be text"),
            (Bytes, Value::String(text)) => hex::decode(text)
                .map(ArchivedValue::Bytes)
                .map_err(|_| "must be hexadecimal bytes"),
            (Bytes, _) => Err("must be hexadecimal bytes"),
        }
    }
}

/// The statement that reads a table's rows for an archive: `columns` (a
/// select list naming the table's columns in order) in the table's order.
pub fn rows_query(table: &ArchivedTable, columns: &str) -> String {
    format!(
        "SELECT {columns} FROM {} ORDER BY {}",
        table.name, table.order_by
    )
}

/// The line that opens a table.
pub fn table_start_line(table: &ArchivedTable) -> String {
    table_start(table).to_string()
}

/// The line of one row.
pub fn row_line(values: &[ArchivedValue]) -> String {
    Value::Array(values.iter().map(ArchivedValue::to_json).collect()).to_string()
}

/// The line that closes a table of `rows` rows.
pub fn table_end_line(table: &ArchivedTable, rows: u64) -> String {
    table_end(table, rows).to_string()
}

/// The line that closes the archive.
pub fn archive_end_line() -> String {
    archive_end().to_string()
}

/// The line that opens a table, as the JSON value it must read as.
fn table_start(table: &ArchivedTable) -> Value {
    let columns: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
    serde_json::json!({"table": table.name, "columns": columns})
}

/// The line that closes a table of `rows` rows, as the JSON value it must
/// read as.
fn table_end(table: &ArchivedTable, rows: u64) -> Value {
    serde_json::json!({"end_of_table": table.name, "rows": rows})
}

/// The line that closes the archive, as the JSON value it must read as.
fn archive_end() -> Value {
    serde_json::json!({"end_of_archive": true, "tables": ARCHIVED_TABLES.len()})
}

/// Rows of one table read from an archive, with the lines they came from.
#[derive(Debug)]
pub struct RowChunk {
    pub table: &'static ArchivedTable,
    pub rows: Vec<Vec<ArchivedValue>>,
    pub first_line: u64,
    pub last_line: u64,
}

/// Where the reader is in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// Before the table at this index opens (or the end, past the last).
    BeforeTable(usize),
    /// Inside the table at this index, after this many rows.
    InTable(usize, u64),
}

/// Reads the tables of an archive, after its registry line, in chunks.
#[derive(Debug)]
pub struct TableReader<R> {
    input: R,
    line_number: u64,
    /// Where the next line falls; `None` after the closing line.
    position: Option<Position>,
    line: String,
}

impl<R: BufRead> TableReader<R> {
    /// A reader of `input`, whose first line is line `first_line_number` of
    /// the archive.
    pub fn new(input: R, first_line_number: u64) -> Self {
        TableReader {
            input,
            line_number: first_line_number.saturating_sub(1),
            position: Some(Position::BeforeTable(0)),
            line: String::new(),
        }
    }

    /// The next rows, all of one table: at most `max_rows`, and no more
    /// once their lines reach `max_bytes` (an attachment's row may be tens
    /// of megabytes); `None` once the archive's closing line has been read
    /// (and nothing follows it).
    pub fn next_chunk(
        &mut self,
        max_rows: usize,
        max_bytes: usize,
    ) -> Result<Option<RowChunk>, StoreError> {
        let mut chunk: Option<RowChunk> = None;
        let mut chunk_bytes = 0;
        loop {
            if let Some(full) = &chunk
                && (full.rows.len() >= max_rows || chunk_bytes >= max_bytes)
            {
                return Ok(chunk);
            }
            let Some(position) = self.position else {
                self.expect_nothing_more()?;
                return Ok(chunk);
            };
            if !self.read_line()? {
                return Err(self.refused(match position {
                    Position::InTable(index, _) => format!(
                        "the archive ends inside table {:?}: it was cut short",
                        ARCHIVED_TABLES[index].name
                    ),
                    Position::BeforeTable(_) => {
                        "the archive ends before its closing line: it was cut short".to_owned()
                    }
                }));
            }
            let value: Value = serde_json::from_str(&self.line).map_err(|error| {
                self.refused(if self.line.ends_with('\n') {
                    format!("not JSON: {error}")
                } else {
                    "the archive ends inside this line: it was cut short".to_owned()
                })
            })?;
            match (position, value) {
                (Position::InTable(index, count), Value::Array(values)) => {
                    let table = &ARCHIVED_TABLES[index];
                    let row = self.row(table, values)?;
                    self.position = Some(Position::InTable(index, count + 1));
                    let chunk = chunk.get_or_insert_with(|| RowChunk {
                        table,
                        rows: Vec::new(),
                        first_line: self.line_number,
                        last_line: self.line_number,
                    });
                    chunk.rows.push(row);
                    chunk.last_line = self.line_number;
                    chunk_bytes += self.line.len();
                }
                (Position::InTable(index, count), Value::Object(object)) => {
                    let table = &ARCHIVED_TABLES[index];
                    let expected = table_end(table, count);
                    if Value::Object(object) != expected {
                        return Err(self.refused(format!(
                            "expected a row of table {:?} or {expected}",
                            table.name
                        )));
                    }
                    self.position = Some(Position::BeforeTable(index + 1));
                    // A chunk holds the rows of one table only.
                    if chunk.is_some() {
                        return Ok(chunk);
                    }
                }
                (Position::BeforeTable(index), value) => {
                    let expected = ARCHIVED_TABLES
                        .get(index)
                        .map_or_else(archive_end, table_start);
                    if value != expected {
                        return Err(self.refused(format!("expected {expected}")));
                    }
                    self.position =
                        (index < ARCHIVED_TABLES.len()).then_some(Position::InTable(index, 0));
                }
                (Position::InTable(index, _), _) => {
                    return Err(self.refused(format!(
                        "expected a row of table {:?} (a JSON array) or the line closing it",
                        ARCHIVED_TABLES[index].name
                    )));
                }
            }
        }
    }

    fn row(
        &self,
        table: &ArchivedTable,
        values: Vec<Value>,
    ) -> Result<Vec<ArchivedValue>, StoreError> {
        if values.len() != table.columns.len() {
            return Err(self.refused(format!(
                "a row of table {:?} has {} values; its {} columns are {}",
                table.name,
                values.len(),
                table.columns.len(),
                table.column_list()
            )));
        }
        values
            .into_iter()
            .zip(table.columns)
            .map(|(value, (column, kind))| {
                ArchivedValue::from_json(*kind, value)
                    .map_err(|problem| self.refused(format!("{}.{column} {problem}", table.name)))
            })
            .collect()
    }

    /// Reads the next non-empty line into `self.line`; false at the end.
    fn read_line(&mut self) -> Result<bool, StoreError> {
        loop {
            self.line.clear();
            let read = self.input.read_line(&mut self.line).map_err(|error| {
                StoreError::ImportRefused(format!(
                    "cannot read the archive after line {}: {error}",
                    self.line_number
                ))
            })?;
            if read == 0 {
                return Ok(false);
            }
            self.line_number += 1;
            if !self.line.trim().is_empty() {
                return Ok(true);
            }
        }
    }

    fn expect_nothing_more(&mut self) -> Result<(), StoreError> {
        if self.read_line()? {
            return Err(self.refused("text after the archive's closing line".to_owned()));
        }
        Ok(())
    }

    fn refused(&self, problem: String) -> StoreError {
        StoreError::ImportRefused(format!("line {}: {problem}", self.line_number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An archive's table lines with every table empty except those given.
    fn archive_lines(rows: &[(&str, Vec<&str>)]) -> Vec<String> {
        let mut lines = Vec::new();
        for table in ARCHIVED_TABLES {
            lines.push(table_start_line(table));
            let table_rows = rows
                .iter()
                .find(|(name, _)| *name == table.name)
                .map(|(_, rows)| rows.clone())
                .unwrap_or_default();
            for row in &table_rows {
                lines.push((*row).to_owned());
            }
            lines.push(table_end_line(table, table_rows.len() as u64));
        }
        lines.push(archive_end_line());
        lines
    }

    /// Reads `lines` (numbered from 2, after the registry's) in chunks of
    /// `max_rows`, answering each chunk as `table:first-last:rows` or the
    /// error.
    fn read_all(lines: &[String], max_rows: usize) -> Result<Vec<String>, String> {
        read_all_within(lines, max_rows, usize::MAX)
    }

    fn read_all_within(
        lines: &[String],
        max_rows: usize,
        max_bytes: usize,
    ) -> Result<Vec<String>, String> {
        let text = lines.join("\n");
        let mut reader = TableReader::new(text.as_bytes(), 2);
        let mut chunks = Vec::new();
        loop {
            match reader.next_chunk(max_rows, max_bytes) {
                Ok(Some(chunk)) => chunks.push(format!(
                    "{}:{}-{}:{}",
                    chunk.table.name,
                    chunk.first_line,
                    chunk.last_line,
                    chunk.rows.len()
                )),
                Ok(None) => return Ok(chunks),
                Err(error) => return Err(error.to_string()),
            }
        }
    }

    const EVENT: &str = r#"[1,"psn:00112233445566778899aabbccddeeff",1,"psn:ffeeddccbbaa99887766554433221100","2026-11-30T09:15:00Z","2026-11-30","2.3.0",0.25,1,"Siemens",null,null,1.5,120,"40-59","F","rw3","ab"]"#;

    #[test]
    fn a_whole_archive_reads_in_chunks_of_one_table() {
        let lines = archive_lines(&[
            ("inference_events", vec![EVENT, EVENT, EVENT]),
            (
                "attachments",
                vec![r#"["RW3","ab","text/plain",2,"6869","ana","2026-11-30T09:15:00Z"]"#],
            ),
        ]);
        // Table i opens on line 2 + 2i (+ rows before it).
        assert_eq!(
            read_all(&lines, 2).unwrap(),
            [
                "inference_events:5-6:2",
                "inference_events:7-7:1",
                "attachments:40-40:1"
            ]
        );
        assert_eq!(
            read_all(&lines, 500).unwrap(),
            ["inference_events:5-7:3", "attachments:40-40:1"]
        );
        // A chunk ends once its lines reach the byte limit.
        assert_eq!(
            read_all_within(&lines, 500, EVENT.len() + 2).unwrap(),
            [
                "inference_events:5-6:2",
                "inference_events:7-7:1",
                "attachments:40-40:1"
            ]
        );
    }

    #[test]
    fn values_are_read_as_their_columns_say() {
        let lines = archive_lines(&[("inference_events", vec![EVENT])]);
        let text = lines.join("\n");
        let mut reader = TableReader::new(text.as_bytes(), 2);
        let chunk = reader.next_chunk(10, usize::MAX).unwrap().unwrap();
        let row = &chunk.rows[0];
        assert_eq!(row[0], ArchivedValue::Integer(1));
        assert_eq!(
            row[1],
            ArchivedValue::Text("psn:00112233445566778899aabbccddeeff".to_owned())
        );
        assert_eq!(row[7], ArchivedValue::Real(0.25));
        assert_eq!(row[10], ArchivedValue::Null);
        // A whole number in a column of doubles is a double.
        assert_eq!(row[13], ArchivedValue::Real(120.0));
        assert_eq!(row_line(row), EVENT.replace(",120,", ",120.0,"));
    }

    /// An edit of an archive's lines, and what the refusal must say.
    type Fault = (fn(&mut Vec<String>), &'static str);

    #[test]
    fn faults_are_refused_with_their_line() {
        // Line numbers: event_batches 2-3, inference_events opens on 4, its
        // rows are 5 and 6, it closes on 7.
        let faults: [Fault; 11] = [
            (|lines| lines[3] = "[1".to_owned(), "line 5: not JSON"),
            (
                |lines| lines[3] = lines[3].replace("0.25", "\"0.25\""),
                "line 5: inference_events.score must be a number",
            ),
            (
                |lines| lines[3] = lines[3].replace("[1,", "[1.5,"),
                "line 5: inference_events.deployment_id must be a whole number",
            ),
            (
                |lines| lines[4] = lines[4].replace(",\"ab\"]", "]"),
                "line 6: a row of table \"inference_events\" has 17 values",
            ),
            (
                |lines| lines[5] = lines[5].replace("\"rows\":2", "\"rows\":3"),
                "line 7: expected a row of table \"inference_events\" or",
            ),
            (
                |lines| lines.swap(0, 2),
                "line 2: expected {\"columns\":[\"id\",",
            ),
            (
                |lines| drop(lines.pop()),
                "the archive ends before its closing line",
            ),
            (
                |lines| lines.truncate(4),
                "line 5: the archive ends inside table \"inference_events\"",
            ),
            (
                |lines| {
                    lines.truncate(4);
                    lines[3].truncate(40);
                },
                "line 5: the archive ends inside this line: it was cut short",
            ),
            (
                |lines| lines.push("{}".to_owned()),
                "text after the archive's closing line",
            ),
            (
                |lines| {
                    let end = lines.len() - 2;
                    lines[end] =
                        "[\"RW3\",\"ab\",\"text/plain\",2,\"zz\",\"ana\",\"t\"]".to_owned();
                },
                "attachments.content must be hexadecimal bytes",
            ),
        ];
        for (edit, expected) in faults {
            let mut lines = archive_lines(&[("inference_events", vec![EVENT, EVENT])]);
            edit(&mut lines);
            let error = read_all(&lines, 500).expect_err("refused");
            assert!(error.contains(expected), "{error:?} lacks {expected:?}");
        }
    }

    #[test]
    fn every_table_is_named_once() {
        let mut names: Vec<&str> = ARCHIVED_TABLES.iter().map(|table| table.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ARCHIVED_TABLES.len());
    }
}
