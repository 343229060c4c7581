//! The content tree of a DICOM structured report, flattened.
//!
//! An SR document is a tree of content items (PS3.3 C.17.3): each has a
//! value type, a concept name (a code) and a value, and may hold further
//! items in its ContentSequence. AI tools put their findings, scores and
//! measurements there, most often as a TID 1500 Measurement Report. The
//! tree is walked depth first, root first; every item keeps the concept
//! names of the containers above it, so a mapping can ask for "the
//! numeric value of concept X" or "the code of finding Y".

use dicom_core::Tag;
use dicom_dictionary_std::tags;

use crate::attributes::{first_item, items, number, text};
use crate::read::Object;

/// A coded concept: scheme, value and the human meaning.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Code {
    /// CodingSchemeDesignator (DCM, SCT, LN, UCUM, a vendor's own, …).
    pub scheme: String,
    /// CodeValue (or LongCodeValue, or URNCodeValue).
    pub value: String,
    /// CodeMeaning.
    pub meaning: String,
}

impl Code {
    /// Whether this code is `SCHEME:VALUE` (as written in a mapping).
    pub fn is(&self, reference: &CodeReference) -> bool {
        self.scheme.eq_ignore_ascii_case(&reference.scheme) && self.value == reference.value
    }

    /// Reads the first item of a code sequence.
    fn from_sequence(object: &Object, sequence: Tag) -> Option<Code> {
        let item = first_item(object, sequence)?;
        let value = text(item, tags::CODE_VALUE)
            .or_else(|| text(item, tags::LONG_CODE_VALUE))
            .or_else(|| text(item, tags::URN_CODE_VALUE))?;
        Some(Code {
            scheme: text(item, tags::CODING_SCHEME_DESIGNATOR).unwrap_or_default(),
            value,
            meaning: text(item, tags::CODE_MEANING).unwrap_or_default(),
        })
    }
}

/// A code named in configuration: `SCHEME:VALUE`, such as `DCM:111047`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodeReference {
    pub scheme: String,
    pub value: String,
}

impl CodeReference {
    /// Reads `SCHEME:VALUE`; both parts non-empty.
    pub fn parse(raw: &str) -> Result<CodeReference, String> {
        match raw.split_once(':') {
            Some((scheme, value)) if !scheme.trim().is_empty() && !value.trim().is_empty() => {
                Ok(CodeReference {
                    scheme: scheme.trim().to_owned(),
                    value: value.trim().to_owned(),
                })
            }
            _ => Err(format!(
                "{raw:?} is not a code written SCHEME:VALUE (for example DCM:111047)"
            )),
        }
    }
}

impl std::fmt::Display for CodeReference {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}:{}", self.scheme, self.value)
    }
}

/// The value of a content item.
#[derive(Debug, Clone, PartialEq)]
pub enum ContentValue {
    /// A CONTAINER: its meaning is in its children.
    Container,
    /// A NUM item with its measured value and units (absent when the
    /// measurement was not made).
    Numeric {
        value: Option<f64>,
        units: Option<Code>,
    },
    /// A CODE item.
    Code(Code),
    /// A TEXT item.
    Text(String),
    /// Any other value type (UIDREF, IMAGE, SCOORD, …), by name.
    Other(String),
}

/// One content item of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentItem {
    /// The concept names of the containers above, outermost first.
    pub ancestors: Vec<Code>,
    /// The item's own concept name (absent on some by-reference items).
    pub concept: Option<Code>,
    pub value: ContentValue,
}

/// The content items of an SR document, depth first with the root first.
/// The depth is already bounded by the reader (see `read`).
pub fn content_items(document: &Object) -> Vec<ContentItem> {
    let mut found = Vec::new();
    let mut ancestors = Vec::new();
    walk(document, &mut ancestors, &mut found);
    found
}

fn walk(item: &Object, ancestors: &mut Vec<Code>, found: &mut Vec<ContentItem>) {
    let concept = Code::from_sequence(item, tags::CONCEPT_NAME_CODE_SEQUENCE);
    let value_type = text(item, tags::VALUE_TYPE).unwrap_or_default();
    let value = match value_type.as_str() {
        "CONTAINER" => ContentValue::Container,
        "NUM" => {
            let measured = first_item(item, tags::MEASURED_VALUE_SEQUENCE);
            ContentValue::Numeric {
                value: measured.and_then(|measured| number(measured, tags::NUMERIC_VALUE)),
                units: measured.and_then(|measured| {
                    Code::from_sequence(measured, tags::MEASUREMENT_UNITS_CODE_SEQUENCE)
                }),
            }
        }
        "CODE" => match Code::from_sequence(item, tags::CONCEPT_CODE_SEQUENCE) {
            Some(code) => ContentValue::Code(code),
            None => ContentValue::Other(value_type.clone()),
        },
        "TEXT" => ContentValue::Text(text(item, tags::TEXT_VALUE).unwrap_or_default()),
        _ => ContentValue::Other(value_type.clone()),
    };
    found.push(ContentItem {
        ancestors: ancestors.clone(),
        concept: concept.clone(),
        value,
    });
    let children = items(item, tags::CONTENT_SEQUENCE);
    if children.is_empty() {
        return;
    }
    let pushed = concept.is_some();
    if let Some(concept) = concept {
        ancestors.push(concept);
    }
    for child in children {
        walk(child, ancestors, found);
    }
    if pushed {
        ancestors.pop();
    }
}
