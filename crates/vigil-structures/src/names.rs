//! Structure-name matching through TG-263 names.
//!
//! The same organ is called "Parotid_L", "L Parotid", "parotid left" or
//! "LT_PAROTID" by different tools and clinics. [`canonical_name`] maps a name
//! to its TG-263 name (AAPM Task Group 263, Mayo et al. 2018) with a compact
//! table of common organs and their frequent synonyms, and
//! [`match_structures`] pairs the structures of a reference and a test set by
//! that name. A user mapping ([`NameMap`]) takes precedence over the table.
//! The table uses TG-263's spellings: `Bone_Mandible` (not "Mandible"),
//! `OpticChiasm` (not "Chiasm"), `Cavity_Oral` (not "OralCavity") and
//! `External` for the body outline.
//!
//! # Normalisation
//!
//! 1. The name is split into words at spaces, `_`, `-`, `.`, `/` and at
//!    changes from letters to digits; words are lower-cased.
//! 2. A laterality word at either end (`l`, `lt`, `left` or `r`, `rt`,
//!    `right`) is taken off and remembered.
//! 3. The remaining words, joined without separators, are looked up in the
//!    table. A lateral organ (parotid, lung, kidney, …) needs a laterality and
//!    gets `_L` or `_R`; an organ without one (brainstem, spinal cord, …) must
//!    have none.
//! 4. Target volumes (names starting with PTV, CTV, GTV or ITV) keep their
//!    name: the prefix is upper-cased and separators become `_`, so
//!    "ptv 70" and "PTV_70" match but "PTV70" does not.
//!
//! A name that is neither in the user map nor in the table matches only a
//! name with the same words (so "Spacer gel" matches "spacer_GEL"). Nothing
//! is dropped: every structure is either in a pair or reported unmatched.

use std::collections::BTreeMap;
use std::path::Path;

use crate::{StructureSet, StructuresError};

/// Whether an organ of the table comes as a left and a right one.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Sides {
    /// One organ: the synonym must have no laterality.
    Single,
    /// A left and a right organ: the synonym needs a laterality, and the
    /// TG-263 name is the base with `_L` or `_R`.
    Paired,
}

/// TG-263 names (or bases of paired names) and their synonyms, written as the
/// lower-case words joined without separators.
// One line per organ reads as the table it is.
#[rustfmt::skip]
const TABLE: &[(&str, Sides, &[&str])] = &[
    ("Parotid", Sides::Paired, &["parotid", "parotidgland", "parotis"]),
    ("SpinalCord", Sides::Single, &["spinalcord", "cord", "spinal", "cordspinal", "myelon"]),
    ("Brainstem", Sides::Single, &["brainstem", "brainstm"]),
    ("Eye", Sides::Paired, &["eye", "globe", "eyeball"]),
    ("Lens", Sides::Paired, &["lens"]),
    ("OpticNrv", Sides::Paired, &["opticnrv", "opticnerve", "nerveoptic", "optnerve"]),
    ("OpticChiasm", Sides::Single, &["chiasm", "opticchiasm", "chiasma"]),
    ("Bone_Mandible", Sides::Single, &["mandible", "bonemandible", "jaw"]),
    ("Larynx", Sides::Single, &["larynx"]),
    ("Esophagus", Sides::Single, &["esophagus", "oesophagus", "esoph"]),
    ("Heart", Sides::Single, &["heart"]),
    ("Lung", Sides::Paired, &["lung"]),
    ("Lungs", Sides::Single, &["lungs", "lungtotal", "totallung", "lungstotal", "bothlungs", "lungboth"]),
    ("Liver", Sides::Single, &["liver"]),
    ("Kidney", Sides::Paired, &["kidney"]),
    ("Bladder", Sides::Single, &["bladder", "urinarybladder"]),
    ("Rectum", Sides::Single, &["rectum"]),
    ("Femur_Head", Sides::Paired, &["femurhead", "femoralhead", "headfemur", "femhead"]),
    ("Prostate", Sides::Single, &["prostate"]),
    ("SeminalVes", Sides::Single, &["seminalves", "seminalvesicles", "seminalvesicle", "sv", "svs"]),
    ("Bowel", Sides::Single, &["bowel", "bowelbag", "bowelspace"]),
    ("Bowel_Small", Sides::Single, &["smallbowel", "bowelsmall", "smallintestine"]),
    ("Brain", Sides::Single, &["brain"]),
    ("Cochlea", Sides::Paired, &["cochlea"]),
    ("Glnd_Submand", Sides::Paired, &["glndsubmand", "submandibular", "submandibulargland", "submand", "smg"]),
    ("Cavity_Oral", Sides::Single, &["oralcavity", "cavityoral", "oral", "mouth"]),
    ("Breast", Sides::Paired, &["breast"]),
    ("Spleen", Sides::Single, &["spleen"]),
    ("Stomach", Sides::Single, &["stomach"]),
    ("Duodenum", Sides::Single, &["duodenum"]),
    ("External", Sides::Single, &["external", "body", "outline", "bodyoutline"]),
];

/// The words that give a laterality when they open or close a name.
const LEFT: &[&str] = &["l", "lt", "left"];
const RIGHT: &[&str] = &["r", "rt", "right"];

/// The prefixes of target volumes, whose names are kept.
const TARGET_PREFIXES: &[&str] = &["ptv", "ctv", "gtv", "itv"];

/// The lower-case words of a name.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut previous_digit = None;
    for c in name.chars() {
        if matches!(c, ' ' | '_' | '-' | '.' | '/' | '\t' | ',' | '(' | ')') {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            previous_digit = None;
            continue;
        }
        let digit = c.is_ascii_digit();
        if previous_digit.is_some_and(|was| was != digit) && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        previous_digit = Some(digit);
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The key of a name that is matched literally: its words joined by `_`.
fn literal_key(name: &str) -> String {
    words(name).join("_")
}

/// The TG-263 name of `name` according to the built-in table and the
/// target-volume rule; `None` when neither knows it.
pub fn canonical_name(name: &str) -> Option<String> {
    let trimmed = name.trim();
    let target = trimmed.get(..3).filter(|start| {
        TARGET_PREFIXES
            .iter()
            .any(|p| start.eq_ignore_ascii_case(p))
    });
    if let Some(prefix) = target {
        let rest: String = trimmed[3..]
            .chars()
            .map(|c| {
                if matches!(c, ' ' | '-' | '.' | '/') {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        return Some(format!("{}{rest}", prefix.to_uppercase()));
    }
    let mut words = words(trimmed);
    let mut side = None;
    for at_start in [false, true] {
        if words.len() < 2 || side.is_some() {
            continue;
        }
        let index = if at_start { 0 } else { words.len() - 1 };
        let word = words[index].as_str();
        if LEFT.contains(&word) {
            side = Some("L");
        } else if RIGHT.contains(&word) {
            side = Some("R");
        }
        if side.is_some() {
            words.remove(index);
        }
    }
    let key = words.concat();
    TABLE
        .iter()
        .filter(|(_, _, synonyms)| synonyms.contains(&key.as_str()))
        .find_map(|(canonical, sides, _)| match (sides, side) {
            (Sides::Single, None) => Some((*canonical).to_owned()),
            (Sides::Paired, Some(side)) => Some(format!("{canonical}_{side}")),
            _ => None,
        })
}

/// A user's mapping from structure names to TG-263 (or any other common)
/// names, which takes precedence over the built-in table.
///
/// Read from TOML:
///
/// ```toml
/// [map]
/// "my name" = "Parotid_L"
/// "Cord PRV" = "SpinalCord_PRV05"
/// ```
///
/// Keys are compared by their words (case and separators do not matter).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NameMap {
    entries: BTreeMap<String, String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NameMapFile {
    #[serde(default)]
    map: BTreeMap<String, String>,
}

impl NameMap {
    /// An empty map: only the built-in table applies.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a TOML mapping; `what` names it in errors. Every key and value
    /// must be non-empty and no two keys may have the same words.
    pub fn from_toml(text: &str, what: &str) -> Result<Self, StructuresError> {
        let invalid = |reason: String| StructuresError::InvalidNameMap {
            what: what.to_owned(),
            reason,
        };
        let file: NameMapFile = toml::from_str(text).map_err(|error| invalid(error.to_string()))?;
        let mut entries = BTreeMap::new();
        for (name, canonical) in file.map {
            let key = literal_key(&name);
            let canonical = canonical.trim().to_owned();
            if key.is_empty() || canonical.is_empty() {
                return Err(invalid(format!(
                    "the entry \"{name}\" = \"{canonical}\" has an empty name"
                )));
            }
            if let Some(previous) = entries.insert(key, canonical) {
                return Err(invalid(format!(
                    "\"{name}\" is mapped twice (once to \"{previous}\"): keys are compared without case and separators"
                )));
            }
        }
        Ok(Self { entries })
    }

    /// Reads a TOML mapping file.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, StructuresError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| StructuresError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// Adds one mapping (replacing any earlier one for the same words).
    pub fn insert(&mut self, name: &str, canonical: &str) {
        self.entries
            .insert(literal_key(name), canonical.trim().to_owned());
    }

    /// The number of mappings.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no mapping.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The common name of `name`: the user's mapping of it; else a target
    /// name of the user's map that has the same words (so a structure
    /// already called by a mapped-to name matches); else the TG-263 name of
    /// the table; else `None`.
    pub fn resolve(&self, name: &str) -> Option<String> {
        let key = literal_key(name);
        self.entries
            .get(&key)
            .or_else(|| {
                self.entries
                    .values()
                    .find(|value| literal_key(value) == key)
            })
            .cloned()
            .or_else(|| canonical_name(name))
    }
}

/// How the structures of a reference and a test set were paired.
#[derive(Debug, Clone, PartialEq)]
pub struct Matching {
    /// `(reference index, test index, common name)`: indices into the
    /// sets' `structures`, in reference order.
    pub pairs: Vec<(usize, usize, String)>,
    /// The names of the reference structures without a partner, in order.
    pub unmatched_reference: Vec<String>,
    /// The names of the test structures without a partner, in order.
    pub unmatched_test: Vec<String>,
}

/// Pairs each reference structure with the first unpaired test structure of
/// the same common name ([`NameMap::resolve`]; a name neither the map nor the
/// table knows is compared by its words). When several structures on one
/// side share a common name they are paired in order and the rest are
/// reported unmatched.
pub fn match_structures(
    reference: &StructureSet,
    test: &StructureSet,
    user_map: &NameMap,
) -> Matching {
    let key = |name: &str| match user_map.resolve(name) {
        Some(common) => (common, true),
        None => (literal_key(name), false),
    };
    let test_keys: Vec<(String, bool)> = test
        .structures
        .iter()
        .map(|structure| key(&structure.name))
        .collect();
    let mut test_used = vec![false; test_keys.len()];
    let mut pairs = Vec::new();
    let mut unmatched_reference = Vec::new();
    for (reference_index, structure) in reference.structures.iter().enumerate() {
        let wanted = key(&structure.name);
        let partner = test_keys.iter().enumerate().position(|(index, candidate)| {
            !test_used[index] && *candidate == wanted && !candidate.0.is_empty()
        });
        match partner {
            Some(test_index) => {
                test_used[test_index] = true;
                let common = if wanted.1 {
                    wanted.0
                } else {
                    structure.name.clone()
                };
                pairs.push((reference_index, test_index, common));
            }
            None => unmatched_reference.push(structure.name.clone()),
        }
    }
    let unmatched_test = test
        .structures
        .iter()
        .zip(&test_used)
        .filter(|(_, used)| !**used)
        .map(|(structure, _)| structure.name.clone())
        .collect();
    Matching {
        pairs,
        unmatched_reference,
        unmatched_test,
    }
}
