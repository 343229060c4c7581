//! Reading a batch of rows (NDJSON or CSV) whole, with every problem named
//! by row and field: the machinery that inference events and outcomes share.
//!
//! NDJSON is one JSON object a line (blank lines are skipped); CSV has a
//! header row naming the columns. An unknown field or column is an error,
//! so that a misspelt one is not silently ignored; an empty CSV cell or a
//! JSON `null` is absent. Rows are numbered from 1 in the order they appear.
//! The first [`LISTED_ERRORS`] problems are listed and the rest counted. No
//! value a row sent as text is ever repeated in a message — a misaligned
//! column may put an identifier anywhere — only numbers that were read as
//! numbers, and names of fields or columns that look like field names.

use jiff::Timestamp;
use vigil_domain::{IdentifierKind, Pseudonym, PseudonymKey, is_pseudonym, pseudonymise};

/// The most rows a batch may have.
pub const MAXIMUM_ROWS: usize = 100_000;
/// The most row errors listed in an answer; the rest are counted.
pub const LISTED_ERRORS: usize = 20;
/// The longest text field.
pub const MAXIMUM_TEXT: usize = 256;
/// How far after its arrival a row may say something happened (clock skew).
pub const FUTURE_TOLERANCE_SECONDS: i64 = 300;
/// The earliest year a row may say something happened in.
pub const EARLIEST_YEAR: i16 = 2000;

/// A field or column name as it may appear in a message: only if it looks
/// like a field name (lower-case letters, digits and `_`, at most 32), since
/// a headerless CSV's first row or a misplaced value could be an identifier.
pub(crate) fn shown_name(name: &str) -> String {
    let looks_like_a_name = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
    if looks_like_a_name {
        format!("{name:?}")
    } else {
        "(a name that is not a field name, not shown)".to_owned()
    }
}

/// How a batch is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFormat {
    /// One JSON object a line (`application/x-ndjson`).
    Ndjson,
    /// A header row and one row a record (`text/csv`).
    Csv,
}

impl EventFormat {
    /// The format of a `Content-Type`, if it is one of the two.
    pub fn from_content_type(content_type: &str) -> Option<EventFormat> {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "application/x-ndjson" | "application/ndjson" | "application/jsonl" => {
                Some(EventFormat::Ndjson)
            }
            "text/csv" => Some(EventFormat::Csv),
            _ => None,
        }
    }
}

/// One problem with one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1 for the first row.
    pub row: usize,
    /// The field concerned, if one is.
    pub field: Option<String>,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(formatter, "row {}: \"{field}\" {}", self.row, self.message),
            None => write!(formatter, "row {}: {}", self.row, self.message),
        }
    }
}

/// Why a batch was refused; nothing of it is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("the batch holds no row")]
    Empty,
    #[error("the batch has more than {MAXIMUM_ROWS} rows; send at most {MAXIMUM_ROWS} at a time")]
    TooManyRows,
    #[error("the CSV header {0}")]
    Header(String),
    #[error("{total} problem{} in the batch; nothing was stored. {}", if *.total == 1 { "" } else { "s" }, list(.errors, *.total))]
    Rows {
        /// The first [`LISTED_ERRORS`] problems.
        errors: Vec<RowError>,
        /// How many there are in all.
        total: usize,
    },
}

fn list(errors: &[RowError], total: usize) -> String {
    let mut text = errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if total > errors.len() {
        text.push_str(&format!("; and {} more", total - errors.len()));
    }
    text
}

/// A value as it arrived, before its field's rule is applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Raw<'a> {
    Text(&'a str),
    Number(f64),
    Bool(bool),
    /// A JSON array or object: never valid for a field.
    Nested,
}

/// The value of a field in the row being read, if it has one.
pub(crate) type Values<'a, 'b> = &'b dyn Fn(&str) -> Option<Raw<'a>>;

/// Collects the problems of a batch, listing the first few.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    listed: Vec<RowError>,
    pub(crate) total: usize,
}

impl Problems {
    pub(crate) fn add(&mut self, row: usize, field: Option<&str>, message: impl Into<String>) {
        self.total += 1;
        if self.listed.len() < LISTED_ERRORS {
            self.listed.push(RowError {
                row,
                field: field.map(str::to_owned),
                message: message.into(),
            });
        }
    }

    /// The batch's verdict once every row has been read.
    pub(crate) fn finish<T>(self, records: Vec<T>) -> Result<Vec<T>, BatchError> {
        if self.total > 0 {
            return Err(BatchError::Rows {
                errors: self.listed,
                total: self.total,
            });
        }
        if records.is_empty() {
            return Err(BatchError::Empty);
        }
        Ok(records)
    }
}

/// Reads every row of a batch whose fields are `fields`, handing each
/// row's values to `read_row` (with the row number). A structural problem
/// (too many rows, a bad CSV header) ends the reading at once; a row's
/// problems are added to `problems` and reading goes on.
pub(crate) fn read_rows(
    bytes: &[u8],
    format: EventFormat,
    fields: &[&'static str],
    problems: &mut Problems,
    mut read_row: impl FnMut(usize, Values<'_, '_>, &mut Problems),
) -> Result<(), BatchError> {
    match format {
        EventFormat::Ndjson => {
            let mut row = 0;
            for line in bytes.split(|byte| *byte == b'\n') {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                row += 1;
                if row > MAXIMUM_ROWS {
                    return Err(BatchError::TooManyRows);
                }
                if let Some(object) = ndjson_object(line, row, fields, problems) {
                    let value = |field: &str| -> Option<Raw<'_>> {
                        match object.get(field)? {
                            serde_json::Value::Null => None,
                            serde_json::Value::String(text) => Some(Raw::Text(text.as_str())),
                            serde_json::Value::Number(number) => {
                                Some(Raw::Number(number.as_f64().unwrap_or(f64::NAN)))
                            }
                            serde_json::Value::Bool(flag) => Some(Raw::Bool(*flag)),
                            serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
                                Some(Raw::Nested)
                            }
                        }
                    };
                    read_row(row, &value, problems);
                }
            }
        }
        EventFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(true)
                .flexible(false)
                .from_reader(bytes);
            let header = reader
                .headers()
                .map_err(|error| BatchError::Header(format!("cannot be read: {error}")))?
                .clone();
            let mut columns = Vec::with_capacity(header.len());
            for name in header.iter() {
                let name = name.trim();
                match fields.iter().find(|field| **field == name) {
                    Some(field) if columns.contains(field) => {
                        return Err(BatchError::Header(format!(
                            "names the column {} twice",
                            shown_name(name)
                        )));
                    }
                    Some(field) => columns.push(*field),
                    None => {
                        return Err(BatchError::Header(format!(
                            "names the unknown column {}; the columns are: {} (is the header row missing?)",
                            shown_name(name),
                            fields.join(", ")
                        )));
                    }
                }
            }
            let mut record = csv::StringRecord::new();
            let mut row = 0;
            loop {
                match reader.read_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {}
                    Err(error) => {
                        problems.add(row + 1, None, format!("cannot be read as CSV: {error}"));
                        break;
                    }
                }
                row += 1;
                if row > MAXIMUM_ROWS {
                    return Err(BatchError::TooManyRows);
                }
                let value = |field: &str| -> Option<Raw<'_>> {
                    let index = columns.iter().position(|column| *column == field)?;
                    let text = record.get(index)?.trim();
                    (!text.is_empty()).then_some(Raw::Text(text))
                };
                read_row(row, &value, problems);
            }
        }
    }
    Ok(())
}

/// The start of the error a line with a repeated key gives.
const REPEATED_KEY: &str = "a field is given twice";

/// One NDJSON line: an object whose keys are all different (serde_json's
/// own map keeps the last of two equal keys, silently), or anything else.
enum Line {
    Object(serde_json::Map<String, serde_json::Value>),
    Other,
}

impl<'de> serde::Deserialize<'de> for Line {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LineVisitor;

        impl<'de> serde::de::Visitor<'de> for LineVisitor {
            type Value = Line;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a JSON value")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<Line, A::Error> {
                let mut object = serde_json::Map::new();
                while let Some(key) = access.next_key::<String>()? {
                    let value: serde_json::Value = access.next_value()?;
                    if object.insert(key, value).is_some() {
                        return Err(serde::de::Error::custom(REPEATED_KEY));
                    }
                }
                Ok(Line::Object(object))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<Line, A::Error> {
                while access.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Line::Other)
            }

            fn visit_bool<E>(self, _: bool) -> Result<Line, E> {
                Ok(Line::Other)
            }

            fn visit_i64<E>(self, _: i64) -> Result<Line, E> {
                Ok(Line::Other)
            }

            fn visit_u64<E>(self, _: u64) -> Result<Line, E> {
                Ok(Line::Other)
            }

            fn visit_f64<E>(self, _: f64) -> Result<Line, E> {
                Ok(Line::Other)
            }

            fn visit_str<E>(self, _: &str) -> Result<Line, E> {
                Ok(Line::Other)
            }

            fn visit_unit<E>(self) -> Result<Line, E> {
                Ok(Line::Other)
            }
        }

        deserializer.deserialize_any(LineVisitor)
    }
}

/// Reads one NDJSON line into an object of known fields, or records why not.
fn ndjson_object(
    line: &[u8],
    row: usize,
    fields: &[&'static str],
    problems: &mut Problems,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    let object = match serde_json::from_slice(line) {
        Ok(Line::Object(object)) => object,
        Ok(Line::Other) => {
            problems.add(row, None, "is not a JSON object");
            return None;
        }
        Err(error) if error.to_string().starts_with(REPEATED_KEY) => {
            problems.add(row, None, "names a field twice; each field is given once");
            return None;
        }
        Err(error) => {
            problems.add(row, None, format!("is not valid JSON: {error}"));
            return None;
        }
    };
    let mut unknown = false;
    for name in object.keys() {
        if !fields.contains(&name.as_str()) {
            unknown = true;
            problems.add(
                row,
                None,
                format!(
                    "names the unknown field {}; the fields are: {}",
                    shown_name(name),
                    fields.join(", ")
                ),
            );
        }
    }
    (!unknown).then_some(object)
}

/// A text field: trimmed, at most `maximum` characters, no control
/// characters; empty is absent (an error when `required`).
pub(crate) fn text(
    row: usize,
    value: Values<'_, '_>,
    field: &str,
    required: bool,
    maximum: usize,
    problems: &mut Problems,
) -> Option<String> {
    match value(field) {
        None if required => {
            problems.add(row, Some(field), "is missing");
            None
        }
        None => None,
        Some(Raw::Text(text)) => {
            let text = text.trim();
            if text.is_empty() && required {
                problems.add(row, Some(field), "is empty");
                None
            } else if text.chars().count() > maximum {
                problems.add(
                    row,
                    Some(field),
                    format!("is longer than {maximum} characters"),
                );
                None
            } else if text.chars().any(char::is_control) {
                problems.add(row, Some(field), "holds a control character");
                None
            } else {
                (!text.is_empty()).then(|| text.to_owned())
            }
        }
        Some(Raw::Number(number)) => {
            problems.add(
                row,
                Some(field),
                format!("is the number {number}; text is expected"),
            );
            None
        }
        Some(Raw::Bool(_) | Raw::Nested) => {
            problems.add(row, Some(field), "is not text");
            None
        }
    }
}

/// The required `case_id`: an accession number pseudonymised with `key`, or
/// a pseudonym made with the same key. The identifier is never repeated in
/// a message.
pub(crate) fn case(
    row: usize,
    value: Values<'_, '_>,
    key: Option<&PseudonymKey>,
    problems: &mut Problems,
) -> Option<Pseudonym> {
    match value("case_id") {
        None => {
            problems.add(row, Some("case_id"), "is missing");
            None
        }
        Some(Raw::Text(raw)) if is_pseudonym(raw.trim()) => Pseudonym::parse(raw).ok(),
        Some(Raw::Text(raw)) => match key {
            None => {
                problems.add(
                    row,
                    Some("case_id"),
                    "is not a pseudonym, and this server holds no key to make one: send pseudonyms (psn:…), or configure the Trust's key",
                );
                None
            }
            Some(key) => match pseudonymise(key, IdentifierKind::Accession, raw) {
                Ok(pseudonym) => Some(pseudonym),
                Err(_) => {
                    problems.add(row, Some("case_id"), "is empty");
                    None
                }
            },
        },
        Some(_) => {
            problems.add(row, Some("case_id"), "is not text");
            None
        }
    }
}

/// A required RFC 3339 time, from [`EARLIEST_YEAR`] on and not more than
/// [`FUTURE_TOLERANCE_SECONDS`] after `received_at`.
pub(crate) fn time(
    row: usize,
    value: Values<'_, '_>,
    field: &str,
    received_at: Timestamp,
    problems: &mut Problems,
) -> Option<Timestamp> {
    match value(field) {
        None => {
            problems.add(row, Some(field), "is missing");
            None
        }
        Some(Raw::Text(raw)) => match raw.trim().parse::<Timestamp>() {
            Ok(at) if crate::aggregate::utc_day(at).year() < EARLIEST_YEAR => {
                problems.add(row, Some(field), format!("is before {EARLIEST_YEAR}"));
                None
            }
            Ok(at) if at.as_second() > received_at.as_second() + FUTURE_TOLERANCE_SECONDS => {
                problems.add(
                    row,
                    Some(field),
                    format!("{at} is after the batch arrived ({received_at})"),
                );
                None
            }
            Ok(at) => Some(at),
            Err(_) => {
                problems.add(
                    row,
                    Some(field),
                    "is not an RFC 3339 time such as 2026-11-30T09:15:00Z",
                );
                None
            }
        },
        Some(_) => {
            problems.add(row, Some(field), "is not text");
            None
        }
    }
}

/// An optional finite number, as a JSON number or as text.
pub(crate) fn number(
    row: usize,
    value: Values<'_, '_>,
    field: &str,
    problems: &mut Problems,
) -> Option<f64> {
    let parsed = match value(field)? {
        Raw::Number(number) => number,
        Raw::Text(raw) => match raw.trim().parse::<f64>() {
            Ok(number) => number,
            Err(_) => {
                problems.add(row, Some(field), "is not a number");
                return None;
            }
        },
        Raw::Bool(_) | Raw::Nested => {
            problems.add(row, Some(field), "is not a number");
            return None;
        }
    };
    if parsed.is_finite() {
        Some(parsed)
    } else {
        problems.add(row, Some(field), "is not a finite number");
        None
    }
}

/// An optional yes/no value: `true`/`false`, 1/0, or the words in
/// `words` (the positive first), `true`/`false`, `yes`/`no`, in any case.
pub(crate) fn flag(
    row: usize,
    value: Values<'_, '_>,
    field: &str,
    words: (&str, &str),
    problems: &mut Problems,
) -> Option<bool> {
    let refuse = |problems: &mut Problems| {
        problems.add(
            row,
            Some(field),
            format!(
                "is not {} or {} (or true/false, 1/0, yes/no)",
                words.0, words.1
            ),
        );
        None
    };
    match value(field)? {
        Raw::Bool(flag) => Some(flag),
        Raw::Number(1.0) => Some(true),
        Raw::Number(0.0) => Some(false),
        Raw::Text(raw) => {
            let raw = raw.trim().to_ascii_lowercase();
            match raw.as_str() {
                "1" | "true" | "yes" => Some(true),
                "0" | "false" | "no" => Some(false),
                _ if raw == words.0 => Some(true),
                _ if raw == words.1 => Some(false),
                _ => refuse(problems),
            }
        }
        Raw::Number(_) | Raw::Nested => refuse(problems),
    }
}
