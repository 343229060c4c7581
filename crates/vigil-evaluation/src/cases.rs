//! Reading a labelled case table (CSV) into scores, labels and subgroups.
//!
//! Nothing is ever silently skipped: a malformed row is an error naming the
//! file, line and column; rows with a missing score or label are an error
//! unless the caller asks to drop them, and then they are counted. A missing
//! comparison score drops the row from the comparison only, never from the
//! primary analysis.
//!
//! A cell is missing when it is empty or reads `NA`, `N/A`, `null`, `NULL` or
//! `None` (after trimming spaces). `NaN`, `inf` and the like are numbers that
//! are not finite, and are an error in a score column.

use std::collections::{HashMap, HashSet};
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
    /// of failing; a missing comparison score then leaves the row out of the
    /// comparison only.
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
    /// Distinct values in order of first appearance; `None` is the category
    /// of missing cells, kept apart from every real value (even one spelled
    /// `(missing)`).
    pub categories: Vec<Option<String>>,
    /// Index into `categories` for each case.
    pub codes: Vec<u32>,
}

/// How a missing subgroup value is shown.
pub const MISSING_CATEGORY: &str = "(missing)";

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
    /// The comparison score of each kept row; `None` where it was missing
    /// (only with `drop_missing`), so the row is left out of the comparison.
    pub compare_scores: Option<Vec<Option<f64>>>,
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
        "{source_name}: column {column:?} has more than two values: {}{}; a label must take exactly two",
        describe_counts(values),
        describe_others(others)
    )]
    TooManyLabels {
        source_name: String,
        column: String,
        /// The first few distinct values with their row counts.
        values: Vec<(String, u64)>,
        /// The values beyond those listed, if any.
        others: Option<OtherValues>,
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

/// Distinct label values beyond those listed in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtherValues {
    /// How many distinct values; a lower bound when `at_least`.
    pub distinct: u64,
    /// True when counting stopped at [`COUNTED_OTHER_LABEL_VALUES`].
    pub at_least: bool,
    /// How many rows hold them.
    pub rows: u64,
}

/// Distinct label values listed by name in a "more than two values" message.
pub const LISTED_LABEL_VALUES: usize = 10;

/// Distinct label values beyond the listed ones that are counted exactly;
/// past this the message says "at least", so memory stays bounded.
pub const COUNTED_OTHER_LABEL_VALUES: usize = 100_000;

fn describe_counts(values: &[(String, u64)]) -> String {
    values
        .iter()
        .map(|(value, count)| format!("{value:?} ({count} rows)"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_others(others: &Option<OtherValues>) -> String {
    match others {
        None => String::new(),
        Some(others) => format!(
            ", … and {}{} other values ({} rows)",
            if others.at_least { "at least " } else { "" },
            others.distinct,
            others.rows
        ),
    }
}

/// Cell texts that mean "no value".
fn is_missing(cell: &[u8]) -> bool {
    matches!(cell, b"" | b"NA" | b"N/A" | b"null" | b"NULL" | b"None")
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
        let mut compare_scores: Option<Vec<Option<f64>>> = compare_index.map(|_| Vec::new());
        // The first LISTED_LABEL_VALUES label values in order of first
        // appearance, with counts; each case stores the index of its value.
        // Further values are only counted, so that a continuous column given
        // as the label costs O(n), not O(n²), and the message stays short.
        let mut label_values: Vec<(Vec<u8>, u64)> = Vec::new();
        let mut other_label_values: HashSet<Vec<u8>> = HashSet::new();
        let mut other_label_values_at_least = false;
        let mut other_label_rows = 0_u64;
        let mut label_codes: Vec<u8> = Vec::new();
        let mut subgroup_maps: Vec<HashMap<Vec<u8>, u32>> =
            vec![HashMap::new(); subgroup_indices.len()];
        let mut missing_codes: Vec<Option<u32>> = vec![None; subgroup_indices.len()];
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
            if rows.is_multiple_of(65_536) {
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
            let score = match score {
                Cell::Value(value) => Some(value),
                Cell::Missing => None,
            };
            let missing_column = if score.is_none() {
                Some(spec.score_column.as_str())
            } else if matches!(compare, Some(Cell::Missing)) {
                spec.compare_column.as_deref()
            } else if is_missing(label) {
                Some(spec.label_column.as_str())
            } else {
                None
            };
            if let (Some(column), false) = (missing_column, spec.drop_missing) {
                return Err(LoadError::Missing {
                    source_name: source.to_owned(),
                    line,
                    column: column.to_owned(),
                });
            }
            // With drop_missing, a missing score or label drops the row and
            // counts it; a missing comparison score leaves the row in the
            // primary analysis and out of the comparison only.
            let Some(score) = score.filter(|_| !is_missing(label)) else {
                dropped_missing += 1;
                continue;
            };
            scores.push(score);
            if let Some(values) = compare_scores.as_mut() {
                values.push(match compare {
                    Some(Cell::Value(value)) => Some(value),
                    _ => None,
                });
            }
            let code = match label_values.iter().position(|(value, _)| value == label) {
                Some(code) => {
                    label_values[code].1 += 1;
                    code
                }
                None if label_values.len() < LISTED_LABEL_VALUES => {
                    label_values.push((label.to_vec(), 1));
                    if label_values.len() > 2 {
                        too_many_labels = true;
                    }
                    label_values.len() - 1
                }
                None => {
                    other_label_rows += 1;
                    if !other_label_values.contains(label) {
                        if other_label_values.len() < COUNTED_OTHER_LABEL_VALUES {
                            other_label_values.insert(label.to_vec());
                        } else {
                            other_label_values_at_least = true;
                        }
                    }
                    // The table is rejected for too many labels; the code
                    // is never read.
                    LISTED_LABEL_VALUES
                }
            };
            label_codes.push(code.min(u8::MAX as usize) as u8);
            for (((column, map), missing_code), &index) in subgroups
                .iter_mut()
                .zip(&mut subgroup_maps)
                .zip(&mut missing_codes)
                .zip(&subgroup_indices)
            {
                let cell = record[index].trim_ascii();
                let code = if is_missing(cell) {
                    *missing_code.get_or_insert_with(|| {
                        column.categories.push(None);
                        (column.categories.len() - 1) as u32
                    })
                } else {
                    match map.get(cell) {
                        Some(&code) => code,
                        None => {
                            let code = column.categories.len() as u32;
                            column
                                .categories
                                .push(Some(String::from_utf8_lossy(cell).into_owned()));
                            map.insert(cell.to_vec(), code);
                            code
                        }
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
                others: (other_label_rows > 0).then_some(OtherValues {
                    distinct: other_label_values.len() as u64,
                    at_least: other_label_values_at_least,
                    rows: other_label_rows,
                }),
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
                    others: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, spec: &CaseTableSpec) -> Result<CaseTable, LoadError> {
        CaseTable::read(text.as_bytes(), "cases.csv", spec, &mut |_| {})
    }

    #[test]
    fn a_literal_nan_score_is_not_finite_rather_than_missing() {
        for spelling in ["NaN", "nan", "NAN"] {
            for drop_missing in [false, true] {
                let spec = CaseTableSpec {
                    drop_missing,
                    ..CaseTableSpec::default()
                };
                let text = format!("label,score\n1,0.9\n0,{spelling}\n1,0.4\n0,0.1\n");
                let error = read(&text, &spec).expect_err("NaN is not a score");
                assert!(
                    matches!(error, LoadError::NotFinite { line: 3, .. }),
                    "{spelling}: {error}"
                );
                assert!(
                    error.to_string().contains("is not a finite number"),
                    "{error}"
                );
            }
        }
    }

    #[test]
    fn only_the_listed_spellings_are_missing() {
        let spec = CaseTableSpec {
            drop_missing: true,
            ..CaseTableSpec::default()
        };
        let text = "label,score\n1,0.9\n0,\n1,NA\n0,N/A\n1,null\n0,NULL\n1,None\n0,0.1\n";
        let table = read(text, &spec).expect("valid table");
        assert_eq!(table.dropped_missing, 6);
        assert_eq!(table.len(), 2);
        for spelling in ["na", "n/a"] {
            let text = format!("label,score\n1,0.9\n0,{spelling}\n");
            assert!(matches!(
                read(&text, &spec),
                Err(LoadError::NotANumber { line: 3, .. })
            ));
        }
    }

    #[test]
    fn a_continuous_label_column_is_rejected_with_a_short_message() {
        // A column of 100,000 distinct values given as the label: the scan
        // stays linear, and the message lists ten values and counts the rest.
        let mut text = String::from("label,score\n");
        for row in 0..100_000 {
            text.push_str(&format!("{}.5,0.5\n", row));
        }
        let error = read(&text, &CaseTableSpec::default()).expect_err("too many labels");
        let message = error.to_string();
        assert!(
            message.len() < 400,
            "{} characters: {message}",
            message.len()
        );
        assert!(
            message
                .contains("\"0.5\" (1 rows), \"1.5\" (1 rows), \"2.5\" (1 rows), \"3.5\" (1 rows)"),
            "{message}"
        );
        assert!(
            message.contains("… and 99990 other values (99990 rows)"),
            "{message}"
        );
    }

    #[test]
    fn a_third_label_value_is_listed_in_full_when_there_are_few() {
        let text = "label,score\n1,0.9\n0,0.2\n2,0.5\n2,0.6\n";
        let message = read(text, &CaseTableSpec::default())
            .expect_err("three labels")
            .to_string();
        assert!(
            message.contains(
                "more than two values: \"1\" (1 rows), \"0\" (1 rows), \"2\" (2 rows); a label"
            ),
            "{message}"
        );
    }

    fn compare_spec(drop_missing: bool) -> CaseTableSpec {
        CaseTableSpec {
            compare_column: Some("old".to_owned()),
            drop_missing,
            ..CaseTableSpec::default()
        }
    }

    #[test]
    fn a_missing_comparison_score_keeps_the_row_in_the_primary_analysis() {
        let text = "label,score,old\n1,0.9,0.8\n0,0.2,NA\n1,0.7,\n0,0.4,0.3\n1,,0.5\n";
        let table = read(text, &compare_spec(true)).expect("valid table");
        // Only the row without a primary score is dropped.
        assert_eq!(table.dropped_missing, 1);
        assert_eq!(table.scores, vec![0.9, 0.2, 0.7, 0.4]);
        assert_eq!(
            table.compare_scores,
            Some(vec![Some(0.8), None, None, Some(0.3)])
        );
    }

    #[test]
    fn a_missing_comparison_score_without_drop_missing_names_the_cell() {
        let text = "label,score,old\n1,0.9,0.8\n0,0.2,NA\n";
        let error = read(text, &compare_spec(false)).expect_err("missing comparison score");
        assert_eq!(
            error.to_string(),
            "cases.csv:3: column \"old\" is missing (pass --drop-missing to drop and count such rows)"
        );
    }

    #[test]
    fn a_missing_subgroup_value_is_kept_apart_from_a_value_spelled_missing() {
        let spec = CaseTableSpec {
            subgroup_columns: vec!["site".to_owned()],
            ..CaseTableSpec::default()
        };
        let text = "label,score,site\n1,0.9,(missing)\n0,0.2,\n1,0.7,NA\n0,0.4,(missing)\n";
        let table = read(text, &spec).expect("valid table");
        let column = &table.subgroups[0];
        assert_eq!(column.categories, vec![Some("(missing)".to_owned()), None]);
        assert_eq!(column.codes, vec![0, 1, 1, 0]);
    }
}
