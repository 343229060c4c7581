//! Reading a labelled case table (CSV) into scores, labels and subgroups.
//!
//! Nothing is ever silently skipped: a malformed row is an error naming the
//! file, line and column; rows with a missing score or label are an error
//! unless the caller asks to drop them, and then they are counted.

use std::collections::HashMap;
use std::io::Read;

/// Which columns to read and how to interpret them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseTableSpec {
    /// Column holding the reference standard (two distinct values).
    pub label_column: String,
    /// Column holding the tool's score; higher means more likely positive.
    pub score_column: String,
    /// The label value meaning "condition present"; needed unless the
    /// labels are 0/1 or true/false.
    pub positive_label: Option<String>,
    /// A second score on the same cases, for a paired comparison.
    pub compare_column: Option<String>,
    /// Categorical columns to break results down by.
    pub subgroup_columns: Vec<String>,
    /// Drop rows whose score or label is missing (and count them) instead
    /// of failing.
    pub drop_missing: bool,
}

impl Default for CaseTableSpec {
    fn default() -> Self {
        CaseTableSpec {
            label_column: "label".to_owned(),
            score_column: "score".to_owned(),
            positive_label: None,
            compare_column: None,
            subgroup_columns: Vec::new(),
            drop_missing: false,
        }
    }
}

/// A categorical column, stored as one small code per case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoricalColumn {
    pub name: String,
    /// Distinct values in order of first appearance; missing values are
    /// the category `(missing)`.
    pub categories: Vec<String>,
    /// Index into `categories` for each case.
    pub codes: Vec<u32>,
}

/// The parsed case table.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseTable {
    pub source: String,
    pub score_column: String,
    pub label_column: String,
    pub scores: Vec<f64>,
    pub labels: Vec<bool>,
    pub positive_label: String,
    pub negative_label: String,
    pub compare_column: Option<String>,
    pub compare_scores: Option<Vec<f64>>,
    pub subgroups: Vec<CategoricalColumn>,
    /// Rows dropped because a score or label was missing (only with
    /// `drop_missing`).
    pub dropped_missing: u64,
}

/// Why a case table could not be read. Messages are written for the person
/// who supplied the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{source_name}: {message}")]
    Malformed {
        source_name: String,
        message: String,
    },
    #[error("{source_name}: the file has no header row")]
    NoHeader { source_name: String },
    #[error("{source_name}: column {column:?} (the {role}) is not in the file; available columns: {}", available.join(", "))]
    UnknownColumn {
        source_name: String,
        column: String,
        role: &'static str,
        available: Vec<String>,
    },
    #[error("{source_name}: column {column:?} appears {count} times in the header")]
    DuplicateColumn {
        source_name: String,
        column: String,
        count: usize,
    },
    #[error("{source_name}:{line}: column {column:?}: {value:?} is not a number")]
    NotANumber {
        source_name: String,
        line: u64,
        column: String,
        value: String,
    },
    #[error("{source_name}:{line}: column {column:?}: {value:?} is not a finite number")]
    NotFinite {
        source_name: String,
        line: u64,
        column: String,
        value: String,
    },
    #[error(
        "{source_name}:{line}: column {column:?} is missing (pass --drop-missing to drop and count such rows)"
    )]
    Missing {
        source_name: String,
        line: u64,
        column: String,
    },
    #[error(
        "{source_name}: column {column:?} has more than two values: {}; a label must take exactly two",
        describe_counts(values)
    )]
    TooManyLabels {
        source_name: String,
        column: String,
        values: Vec<(String, u64)>,
    },
    #[error(
        "{source_name}: column {column:?} has only one value ({}); both classes are needed",
        describe_counts(values)
    )]
    OneLabel {
        source_name: String,
        column: String,
        values: Vec<(String, u64)>,
    },
    #[error(
        "{source_name}: the positive label {positive:?} does not occur in column {column:?}, whose values are {}",
        describe_counts(values)
    )]
    PositiveLabelAbsent {
        source_name: String,
        column: String,
        positive: String,
        values: Vec<(String, u64)>,
    },
    #[error(
        "{source_name}: column {column:?} has values {}; name the positive one with --positive",
        describe_counts(values)
    )]
    AmbiguousLabels {
        source_name: String,
        column: String,
        values: Vec<(String, u64)>,
    },
    #[error("{source_name}: the file has no data rows")]
    NoRows { source_name: String },
    #[error("{source_name}: every row was dropped for a missing value ({dropped} rows)")]
    AllRowsDropped { source_name: String, dropped: u64 },
}

fn describe_counts(values: &[(String, u64)]) -> String {
    values
        .iter()
        .map(|(value, count)| format!("{value:?} ({count} rows)"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Cell texts that mean "no value".
fn is_missing(cell: &[u8]) -> bool {
    matches!(
        cell,
        b"" | b"NA" | b"N/A" | b"na" | b"n/a" | b"NaN" | b"nan" | b"null" | b"NULL" | b"None"
    )
}

enum Cell {
    Value(f64),
    Missing,
}

fn parse_number(cell: &[u8], source: &str, line: u64, column: &str) -> Result<Cell, LoadError> {
    let trimmed = cell.trim_ascii();
    if is_missing(trimmed) {
        return Ok(Cell::Missing);
    }
    let text = std::str::from_utf8(trimmed).ok();
    let value = text
        .and_then(|t| t.parse::<f64>().ok())
        .ok_or_else(|| LoadError::NotANumber {
            source_name: source.to_owned(),
            line,
            column: column.to_owned(),
            value: String::from_utf8_lossy(trimmed).into_owned(),
        })?;
    if value.is_finite() {
        Ok(Cell::Value(value))
    } else {
        Err(LoadError::NotFinite {
            source_name: source.to_owned(),
            line,
            column: column.to_owned(),
            value: String::from_utf8_lossy(trimmed).into_owned(),
        })
    }
}

/// Labels recognised without `--positive`, as (positive, negative) pairs,
/// compared case-insensitively.
const KNOWN_LABEL_PAIRS: [(&str, &str); 3] = [("1", "0"), ("true", "false"), ("yes", "no")];

impl CaseTable {
    /// Reads a CSV with a header row. `source` names the input in messages;
    /// `progress` is called now and then with the number of bytes read.
    pub fn read(
        input: impl Read,
        source: &str,
        spec: &CaseTableSpec,
        progress: &mut dyn FnMut(u64),
    ) -> Result<CaseTable, LoadError> {
        let source_name = source.to_owned();
        let malformed = |error: csv::Error| LoadError::Malformed {
            source_name: source_name.clone(),
            message: error.to_string(),
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .buffer_capacity(1 << 17)
            .from_reader(input);
        let header = reader.byte_headers().map_err(malformed)?.clone();
        if header.is_empty() {
            return Err(LoadError::NoHeader { source_name });
        }
        let available: Vec<String> = header
            .iter()
            .map(|name| String::from_utf8_lossy(name).trim().to_owned())
            .collect();
        let find = |column: &str, role: &'static str| -> Result<usize, LoadError> {
            let matches: Vec<usize> = available
                .iter()
                .enumerate()
                .filter(|(_, name)| name.as_str() == column)
                .map(|(index, _)| index)
                .collect();
            match matches.as_slice() {
                [index] => Ok(*index),
                [] => Err(LoadError::UnknownColumn {
                    source_name: source.to_owned(),
                    column: column.to_owned(),
                    role,
                    available: available.clone(),
                }),
                _ => Err(LoadError::DuplicateColumn {
                    source_name: source.to_owned(),
                    column: column.to_owned(),
                    count: matches.len(),
                }),
            }
        };
        let label_index = find(&spec.label_column, "label column")?;
        let score_index = find(&spec.score_column, "score column")?;
        let compare_index = spec
            .compare_column
            .as_deref()
            .map(|column| find(column, "comparison score column"))
            .transpose()?;
        let subgroup_indices = spec
            .subgroup_columns
            .iter()
            .map(|column| find(column, "subgroup column"))
            .collect::<Result<Vec<_>, _>>()?;

        let mut scores = Vec::new();
        let mut compare_scores = compare_index.map(|_| Vec::new());
        // Label values in order of first appearance, with counts; each case
        // stores the index of its value.
        let mut label_values: Vec<(Vec<u8>, u64)> = Vec::new();
        let mut label_codes: Vec<u8> = Vec::new();
        let mut subgroup_maps: Vec<HashMap<Vec<u8>, u32>> =
            vec![HashMap::new(); subgroup_indices.len()];
        let mut subgroups: Vec<CategoricalColumn> = spec
            .subgroup_columns
            .iter()
            .map(|name| CategoricalColumn {
                name: name.clone(),
                categories: Vec::new(),
                codes: Vec::new(),
            })
            .collect();
        let mut dropped_missing = 0_u64;
        let mut record = csv::ByteRecord::new();
        let mut rows = 0_u64;
        let mut too_many_labels = false;

        while reader.read_byte_record(&mut record).map_err(malformed)? {
            rows += 1;
            let line = record
                .position()
                .map_or(rows + 1, |position| position.line());
            if rows % 65_536 == 0 {
                progress(record.position().map_or(0, |position| position.byte()));
            }
            let score = parse_number(&record[score_index], source, line, &spec.score_column)?;
            let compare = match compare_index {
                Some(index) => Some(parse_number(
                    &record[index],
                    source,
                    line,
                    spec.compare_column.as_deref().unwrap_or_default(),
                )?),
                None => None,
            };
            let label = record[label_index].trim_ascii();
            let missing_column = if matches!(score, Cell::Missing) {
                Some(spec.score_column.as_str())
            } else if matches!(compare, Some(Cell::Missing)) {
                spec.compare_column.as_deref()
            } else if is_missing(label) {
                Some(spec.label_column.as_str())
            } else {
                None
            };
            if let Some(column) = missing_column {
                if spec.drop_missing {
                    dropped_missing += 1;
                    continue;
                }
                return Err(LoadError::Missing {
                    source_name: source.to_owned(),
                    line,
                    column: column.to_owned(),
                });
            }
            if let Cell::Value(value) = score {
                scores.push(value);
            }
            if let (Some(values), Some(Cell::Value(value))) = (compare_scores.as_mut(), compare) {
                values.push(value);
            }
            let code = match label_values.iter().position(|(value, _)| value == label) {
                Some(code) => code,
                None => {
                    label_values.push((label.to_vec(), 0));
                    if label_values.len() > 2 {
                        too_many_labels = true;
                    }
                    label_values.len() - 1
                }
            };
            label_values[code].1 += 1;
            label_codes.push(code.min(u8::MAX as usize) as u8);
            for ((column, map), &index) in subgroups
                .iter_mut()
                .zip(&mut subgroup_maps)
                .zip(&subgroup_indices)
            {
                let cell = record[index].trim_ascii();
                let cell = if is_missing(cell) {
                    b"(missing)".as_slice()
                } else {
                    cell
                };
                let code = match map.get(cell) {
                    Some(&code) => code,
                    None => {
                        let code = column.categories.len() as u32;
                        column
                            .categories
                            .push(String::from_utf8_lossy(cell).into_owned());
                        map.insert(cell.to_vec(), code);
                        code
                    }
                };
                column.codes.push(code);
            }
        }

        let counted: Vec<(String, u64)> = label_values
            .iter()
            .map(|(value, count)| (String::from_utf8_lossy(value).into_owned(), *count))
            .collect();
        if too_many_labels {
            return Err(LoadError::TooManyLabels {
                source_name,
                column: spec.label_column.clone(),
                values: counted,
            });
        }
        if scores.is_empty() {
            return Err(if dropped_missing > 0 {
                LoadError::AllRowsDropped {
                    source_name,
                    dropped: dropped_missing,
                }
            } else {
                LoadError::NoRows { source_name }
            });
        }
        let positive_code = match (&spec.positive_label, counted.as_slice()) {
            (Some(positive), _) => match counted.iter().position(|(value, _)| value == positive) {
                Some(code) if counted.len() == 2 => code,
                Some(_) => {
                    return Err(LoadError::OneLabel {
                        source_name,
                        column: spec.label_column.clone(),
                        values: counted,
                    });
                }
                None => {
                    return Err(LoadError::PositiveLabelAbsent {
                        source_name,
                        column: spec.label_column.clone(),
                        positive: positive.clone(),
                        values: counted,
                    });
                }
            },
            (None, [_]) => {
                return Err(LoadError::OneLabel {
                    source_name,
                    column: spec.label_column.clone(),
                    values: counted,
                });
            }
            (None, [(first, _), (second, _)]) => {
                let pair = KNOWN_LABEL_PAIRS.iter().find_map(|(positive, negative)| {
                    if first.eq_ignore_ascii_case(positive) && second.eq_ignore_ascii_case(negative)
                    {
                        Some(0)
                    } else if first.eq_ignore_ascii_case(negative)
                        && second.eq_ignore_ascii_case(positive)
                    {
                        Some(1)
                    } else {
                        None
                    }
                });
                match pair {
                    Some(code) => code,
                    None => {
                        return Err(LoadError::AmbiguousLabels {
                            source_name,
                            column: spec.label_column.clone(),
                            values: counted,
                        });
                    }
                }
            }
            // More than two values were rejected above, and a table with
            // rows has at least one; kept as an error rather than a panic.
            (None, _) => {
                return Err(LoadError::TooManyLabels {
                    source_name,
                    column: spec.label_column.clone(),
                    values: counted,
                });
            }
        };
        let labels = label_codes
            .iter()
            .map(|&code| usize::from(code) == positive_code)
            .collect();
        progress(u64::MAX);
        Ok(CaseTable {
            source: source_name,
            score_column: spec.score_column.clone(),
            label_column: spec.label_column.clone(),
            scores,
            labels,
            positive_label: counted[positive_code].0.clone(),
            negative_label: counted[1 - positive_code].0.clone(),
            compare_column: spec.compare_column.clone(),
            compare_scores,
            subgroups,
            dropped_missing,
        })
    }

    pub fn len(&self) -> usize {
        self.scores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }
}
