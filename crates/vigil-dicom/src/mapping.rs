//! Routes: which deployment a received AI result belongs to, and how its
//! content becomes an inference event.
//!
//! Each vendor writes its results differently, so the mapping is
//! configuration, one `[[route]]` a result stream, tried in order; the
//! first whose conditions all hold takes the instance:
//!
//! ```toml
//! [[route]]
//! deployment = 12                      # the deployment's id
//! calling_ae_titles = ["QURE_CXR"]     # optional: only from these callers
//! manufacturer = "Qure.ai"             # optional: the result's Manufacturer (any case)
//! kinds = ["sr"]                       # optional: sr, seg, rtstruct (default: all three)
//! model_version = "SoftwareVersions"   # or "ManufacturerModelName", or "fixed:2.3.0", or a TEXT item "concept:SCHEME:VALUE"
//! score = "DCM:111047"                 # optional: a NUM item whose value is the score
//! score_scale = 100                    # optional: the value that means certainty (100 for percentages); 1 by default
//! decision = "DCM:111056"              # optional: a CODE item whose code is the decision
//! positive = ["SCT:17621005"]          # the decision's codes that mean positive
//! negative = ["SCT:260385009"]         # and those that mean negative
//! positive_at_score = 0.5              # or: positive when the score is at least this
//! positive_when_segments = true        # or (seg, rtstruct): positive when any segment or ROI is present
//! ```
//!
//! Items are found anywhere in the content tree by their concept name. An
//! instance that no route takes, or that a route takes but cannot read (the
//! concept is absent, the code is neither positive nor negative, the score
//! is outside its scale), is quarantined with the reason, never dropped.

use std::collections::BTreeSet;

use dicom_dictionary_std::tags;
use jiff::Timestamp;
use serde::Deserialize;
use vigil_monitor::Event;
use vigil_monitor::events::{EARLIEST_YEAR, FUTURE_TOLERANCE_SECONDS, MAXIMUM_TEXT};

use crate::attributes::items;
use crate::instance::{Instance, InstanceKind};
use crate::read::Object;
use crate::sr::{CodeReference, ContentValue, content_items};

/// Why a routing configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("route {route}: {message}")]
pub struct RouteError {
    /// The route's number, from 1 in file order (0: the file as a whole).
    pub route: usize,
    pub message: String,
}

/// Where a route's model version comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelVersionSource {
    /// SoftwareVersions (0018,1020) of the result.
    SoftwareVersions,
    /// ManufacturerModelName (0008,1090) of the result.
    ModelName,
    /// A fixed text.
    Fixed(String),
    /// A TEXT item of the content tree.
    Concept(CodeReference),
}

/// How a route reads the decision.
#[derive(Debug, Clone, PartialEq)]
pub enum DecisionSource {
    /// No decision; the score alone.
    None,
    /// A CODE item, its codes sorted into positive and negative.
    Code {
        concept: CodeReference,
        positive: Vec<CodeReference>,
        negative: Vec<CodeReference>,
    },
    /// Positive when the score is at least this.
    ScoreAtLeast(f64),
    /// Positive when a segmentation or structure set holds any segment.
    SegmentsPresent,
}

/// One validated route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub deployment: i64,
    /// Upper-case AE titles; empty: any of the Trust's callers.
    pub calling_ae_titles: BTreeSet<String>,
    pub manufacturer: Option<String>,
    pub kinds: BTreeSet<&'static str>,
    pub model_version: ModelVersionSource,
    pub score: Option<CodeReference>,
    pub score_scale: f64,
    pub decision: DecisionSource,
}

/// The routes of one Trust's listener, in the order they are tried.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Routes {
    pub routes: Vec<Route>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoutes {
    #[serde(default)]
    route: Vec<RawRoute>,
}

/// A route as written; shared with the server's configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    deployment: i64,
    #[serde(default)]
    calling_ae_titles: Vec<String>,
    manufacturer: Option<String>,
    kinds: Option<Vec<String>>,
    model_version: Option<String>,
    score: Option<String>,
    score_scale: Option<f64>,
    decision: Option<String>,
    #[serde(default)]
    positive: Vec<String>,
    #[serde(default)]
    negative: Vec<String>,
    positive_at_score: Option<f64>,
    #[serde(default)]
    positive_when_segments: bool,
}

impl Routes {
    /// Reads routes from TOML (`[[route]]` tables).
    pub fn from_toml(text: &str) -> Result<Routes, RouteError> {
        let raw: RawRoutes = toml::from_str(text).map_err(|error| RouteError {
            route: 0,
            message: error.to_string(),
        })?;
        Routes::from_raw(raw.route)
    }

    /// Validates routes read elsewhere (the server's configuration).
    pub fn from_raw(raw: Vec<RawRoute>) -> Result<Routes, RouteError> {
        let routes = raw
            .into_iter()
            .enumerate()
            .map(|(index, route)| {
                validate(route).map_err(|message| RouteError {
                    route: index + 1,
                    message,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Routes { routes })
    }

    /// Decides what becomes of a received instance.
    pub fn route(
        &self,
        instance: &Instance,
        object: &Object,
        calling_ae_title: &str,
        received_at: Timestamp,
    ) -> Disposition {
        if !instance.kind.is_result() {
            if instance.kind == InstanceKind::Image {
                return Disposition::Acquisition;
            }
            return Disposition::Quarantine {
                reason: format!(
                    "SOP class {} is neither an image nor an AI result (SR, SEG, RTSTRUCT)",
                    instance.sop_class_uid
                ),
            };
        }
        let calling = calling_ae_title.trim().to_ascii_uppercase();
        let Some(route) = self
            .routes
            .iter()
            .find(|route| route.takes(instance, &calling))
        else {
            return Disposition::Quarantine {
                reason: format!(
                    "no route takes a {} from {calling} made by {}",
                    instance.kind.as_str(),
                    instance
                        .equipment
                        .manufacturer
                        .as_deref()
                        .unwrap_or("an unnamed manufacturer")
                ),
            };
        };
        match route.event(instance, object, received_at) {
            Ok(event) => Disposition::Event {
                deployment: route.deployment,
                event: Box::new(event),
            },
            Err(reason) => Disposition::Quarantine {
                reason: format!("deployment {}: {reason}", route.deployment),
            },
        }
    }
}

/// What becomes of a received instance.
#[derive(Debug, Clone, PartialEq)]
pub enum Disposition {
    /// An AI result read into an inference event of a deployment.
    Event { deployment: i64, event: Box<Event> },
    /// An image: its acquisition metadata is kept for its study.
    Acquisition,
    /// Kept aside for an administrator, with the reason.
    Quarantine { reason: String },
}

fn validate(raw: RawRoute) -> Result<Route, String> {
    let code = |field: &str, text: &str| {
        CodeReference::parse(text).map_err(|message| format!("{field}: {message}"))
    };
    let codes = |field: &str, list: &[String]| {
        list.iter()
            .map(|text| code(field, text))
            .collect::<Result<Vec<_>, _>>()
    };
    if raw.deployment <= 0 {
        return Err("deployment must be a deployment's id (a positive number)".to_owned());
    }
    let kinds: BTreeSet<&'static str> = match raw.kinds {
        None => ["sr", "seg", "rtstruct"].into_iter().collect(),
        Some(kinds) => kinds
            .iter()
            .map(|kind| match kind.as_str() {
                "sr" => Ok("sr"),
                "seg" => Ok("seg"),
                "rtstruct" => Ok("rtstruct"),
                other => Err(format!("kinds: {other:?} is not sr, seg or rtstruct")),
            })
            .collect::<Result<_, _>>()?,
    };
    if kinds.is_empty() {
        return Err("kinds is empty: the route would take nothing".to_owned());
    }
    let model_version = match raw.model_version.as_deref() {
        None | Some("SoftwareVersions") => ModelVersionSource::SoftwareVersions,
        Some("ManufacturerModelName") => ModelVersionSource::ModelName,
        Some(other) => {
            if let Some(fixed) = other.strip_prefix("fixed:") {
                if fixed.trim().is_empty() || fixed.len() > MAXIMUM_TEXT {
                    return Err(format!(
                        "model_version: a fixed version has 1 to {MAXIMUM_TEXT} characters"
                    ));
                }
                ModelVersionSource::Fixed(fixed.trim().to_owned())
            } else if let Some(concept) = other.strip_prefix("concept:") {
                ModelVersionSource::Concept(code("model_version", concept)?)
            } else {
                return Err(format!(
                    "model_version: {other:?} is not SoftwareVersions, ManufacturerModelName, fixed:VERSION or concept:SCHEME:VALUE"
                ));
            }
        }
    };
    let score = raw
        .score
        .as_deref()
        .map(|text| code("score", text))
        .transpose()?;
    let score_scale = raw.score_scale.unwrap_or(1.0);
    if !(score_scale.is_finite() && score_scale > 0.0) {
        return Err("score_scale must be a positive number".to_owned());
    }
    let sources = usize::from(raw.decision.is_some())
        + usize::from(raw.positive_at_score.is_some())
        + usize::from(raw.positive_when_segments);
    if sources > 1 {
        return Err(
            "give one of decision, positive_at_score and positive_when_segments".to_owned(),
        );
    }
    if raw.decision.is_none() && !(raw.positive.is_empty() && raw.negative.is_empty()) {
        return Err(
            "positive and negative list the codes of a decision item; name it with decision"
                .to_owned(),
        );
    }
    let decision = if let Some(concept) = raw.decision.as_deref() {
        let positive = codes("positive", &raw.positive)?;
        let negative = codes("negative", &raw.negative)?;
        if positive.is_empty() {
            return Err("decision: list the codes that mean positive in positive".to_owned());
        }
        DecisionSource::Code {
            concept: code("decision", concept)?,
            positive,
            negative,
        }
    } else if let Some(threshold) = raw.positive_at_score {
        if score.is_none() {
            return Err("positive_at_score needs a score".to_owned());
        }
        if !(0.0..=1.0).contains(&threshold) {
            return Err("positive_at_score must be in [0, 1]".to_owned());
        }
        DecisionSource::ScoreAtLeast(threshold)
    } else if raw.positive_when_segments {
        if kinds.contains("sr") {
            return Err(
                "positive_when_segments reads seg and rtstruct results: set kinds".to_owned(),
            );
        }
        DecisionSource::SegmentsPresent
    } else {
        DecisionSource::None
    };
    if score.is_none() && decision == DecisionSource::None {
        return Err("the route reads neither a score nor a decision".to_owned());
    }
    Ok(Route {
        deployment: raw.deployment,
        calling_ae_titles: raw
            .calling_ae_titles
            .iter()
            .map(|title| title.trim().to_ascii_uppercase())
            .collect(),
        manufacturer: raw.manufacturer.map(|name| name.trim().to_owned()),
        kinds,
        model_version,
        score,
        score_scale,
        decision,
    })
}

impl Route {
    fn takes(&self, instance: &Instance, calling: &str) -> bool {
        self.kinds.contains(instance.kind.as_str())
            && (self.calling_ae_titles.is_empty() || self.calling_ae_titles.contains(calling))
            && self.manufacturer.as_ref().is_none_or(|wanted| {
                instance
                    .equipment
                    .manufacturer
                    .as_ref()
                    .is_some_and(|found| found.eq_ignore_ascii_case(wanted))
            })
    }

    /// Reads the event, or says why it cannot.
    fn event(
        &self,
        instance: &Instance,
        object: &Object,
        received_at: Timestamp,
    ) -> Result<Event, String> {
        let content = if instance.kind == InstanceKind::StructuredReport {
            content_items(object)
        } else {
            Vec::new()
        };
        let find = |concept: &CodeReference| {
            content
                .iter()
                .find(|item| item.concept.as_ref().is_some_and(|code| code.is(concept)))
        };
        let case = instance.accession.clone().ok_or(
            "the result has no AccessionNumber, so no outcome could ever be matched to it",
        )?;
        let model_version = match &self.model_version {
            ModelVersionSource::SoftwareVersions => instance
                .equipment
                .software_versions
                .clone()
                .ok_or("the result has no SoftwareVersions to take the model version from")?,
            ModelVersionSource::ModelName => {
                instance.equipment.model.clone().ok_or(
                    "the result has no ManufacturerModelName to take the model version from",
                )?
            }
            ModelVersionSource::Fixed(version) => version.clone(),
            ModelVersionSource::Concept(concept) => match find(concept).map(|item| &item.value) {
                Some(ContentValue::Text(text)) if !text.is_empty() => text.clone(),
                _ => {
                    return Err(format!(
                        "the SR has no TEXT item {concept} for the model version"
                    ));
                }
            },
        };
        if model_version.chars().count() > MAXIMUM_TEXT {
            return Err(format!(
                "the model version is longer than {MAXIMUM_TEXT} characters"
            ));
        }
        let score = match &self.score {
            None => None,
            Some(concept) => match find(concept).map(|item| &item.value) {
                Some(ContentValue::Numeric {
                    value: Some(value), ..
                }) => {
                    let scaled = value / self.score_scale + 0.0;
                    if !(0.0..=1.0).contains(&scaled) {
                        return Err(format!(
                            "the score {value} of {concept} is outside [0, {}]",
                            self.score_scale
                        ));
                    }
                    Some(scaled)
                }
                Some(ContentValue::Numeric { value: None, .. }) => {
                    return Err(format!("the NUM item {concept} holds no measured value"));
                }
                Some(_) => return Err(format!("the item {concept} is not a NUM item")),
                None => return Err(format!("the SR has no NUM item {concept} for the score")),
            },
        };
        let decision = match &self.decision {
            DecisionSource::None => None,
            DecisionSource::ScoreAtLeast(threshold) => score.map(|score| score >= *threshold),
            DecisionSource::Code {
                concept,
                positive,
                negative,
            } => match find(concept).map(|item| &item.value) {
                Some(ContentValue::Code(code)) => {
                    if positive.iter().any(|wanted| code.is(wanted)) {
                        Some(true)
                    } else if negative.iter().any(|wanted| code.is(wanted)) || negative.is_empty() {
                        Some(false)
                    } else {
                        return Err(format!(
                            "the code {}:{} of {concept} is neither positive nor negative",
                            code.scheme, code.value
                        ));
                    }
                }
                Some(_) => return Err(format!("the item {concept} is not a CODE item")),
                None => {
                    return Err(format!(
                        "the SR has no CODE item {concept} for the decision"
                    ));
                }
            },
            DecisionSource::SegmentsPresent => {
                let segments = match instance.kind {
                    InstanceKind::Segmentation => items(object, tags::SEGMENT_SEQUENCE).len(),
                    _ => items(object, tags::STRUCTURE_SET_ROI_SEQUENCE).len(),
                };
                Some(segments > 0)
            }
        };
        let occurred_at = instance.content_time.unwrap_or(received_at);
        if occurred_at.to_zoned(jiff::tz::TimeZone::UTC).year() < EARLIEST_YEAR {
            return Err(format!("its content date is before {EARLIEST_YEAR}"));
        }
        if occurred_at.as_second() > received_at.as_second() + FUTURE_TOLERANCE_SECONDS {
            return Err("its content date and time are in the future".to_owned());
        }
        Ok(Event {
            event_id: instance.sop_instance.as_str().to_owned(),
            case,
            occurred_at,
            model_version,
            score,
            decision,
            metadata: instance.acquisition.clone(),
        })
    }
}
