//! FHIR R4 from the RIS or EPR, read into monitoring outcomes.
//!
//! A radiology report (`DiagnosticReport`) or a result (`Observation`) says
//! what was found in a case; monitoring needs it as an outcome: the case (the
//! accession number, pseudonymised as events pseudonymise it), whether the
//! condition the tool looks for is present, who said so, and when. Which
//! codes mean "present" depends on the tool, so routes, like the DICOM
//! ones, are configuration:
//!
//! ```toml
//! [[route]]
//! deployment = 1
//! codes = ["LN:36554-4"]          # optional: only reports or observations of these codes
//! positive = ["SCT:50960005"]     # conclusion or value codes meaning present (haemorrhage)
//! negative = ["SCT:281900007"]    # and absent (no abnormality detected)
//! source = "report"               # report, pathology, follow_up or reader
//! ```
//!
//! A resource is read when its status is `final`, `amended` or `corrected`
//! (others are not yet an outcome), it carries an accession number (an
//! identifier typed `ACSN` of v2 table 0203, its own or that of the
//! `ServiceRequest` it is based on, when contained), a time (`issued`,
//! else `effectiveDateTime`), and a code a route lists. The codes are the
//! report's `conclusionCode`, or the observation's `valueCodeableConcept`
//! (`valueBoolean` reads as the label itself). What cannot be read is
//! answered, resource by resource, with the reason; nothing is guessed.
//!
//! Apart from outcomes, every report (`DiagnosticReport`, or an HL7 OBR
//! group) that is `preliminary`, `final`, `amended` or `corrected`, carries
//! an accession number and says when it was issued gives its
//! [`ReportTiming`]: when the examination was done (`effectiveDateTime` or
//! `effectivePeriod.start`) and when the report was issued. No route is
//! needed: turnaround is audited before a tool goes live as well as after.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;
use vigil_domain::{IdentifierKind, PseudonymKey, ReportStatus, ReportTiming, pseudonymise};
use vigil_monitor::{Outcome, OutcomeSource};

pub mod hl7;

/// How the reason given for a report that no route takes begins: such a
/// report is no error of the sender's (the RIS sends every report).
pub const NO_ROUTE: &str = "no route takes";

/// The most resources one body may hold.
pub const MAX_RESOURCES: usize = 100_000;

/// Why a whole body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FhirError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body is a {0}, not a Bundle, DiagnosticReport or Observation")]
    UnsupportedResource(String),
    #[error("the body has no resourceType")]
    NoResourceType,
    #[error("the Bundle holds more than {MAX_RESOURCES} entries")]
    TooManyResources,
}

/// Why a routing configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("route {route}: {message}")]
pub struct RouteError {
    /// From 1 in file order (0: the file as a whole).
    pub route: usize,
    pub message: String,
}

/// A code named in configuration: `SYSTEM:CODE`, where SYSTEM is a short
/// name (`SCT`, `LN`, `DCM`) or a full FHIR system URI.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeReference {
    pub system: String,
    pub code: String,
}

/// The FHIR system URIs of the short names routes may use.
const SYSTEMS: [(&str, &str); 4] = [
    ("SCT", "http://snomed.info/sct"),
    ("LN", "http://loinc.org"),
    ("DCM", "http://dicom.nema.org/resources/ontology/DCM"),
    ("RADLEX", "http://radlex.org"),
];

impl CodeReference {
    /// Reads `SYSTEM:CODE` (the code after the last colon, so that a URI
    /// system keeps its own).
    pub fn parse(raw: &str) -> Result<CodeReference, String> {
        let (system, code) = raw
            .rsplit_once(':')
            .filter(|(system, code)| !system.trim().is_empty() && !code.trim().is_empty())
            .ok_or_else(|| {
                format!("{raw:?} is not a code written SYSTEM:CODE (for example SCT:50960005)")
            })?;
        let system = system.trim();
        let system = SYSTEMS
            .iter()
            .find(|(short, _)| short.eq_ignore_ascii_case(system))
            .map_or(system, |(_, uri)| uri);
        Ok(CodeReference {
            system: system.to_owned(),
            code: code.trim().to_owned(),
        })
    }
}

/// A route as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    deployment: i64,
    #[serde(default)]
    codes: Vec<String>,
    #[serde(default)]
    positive: Vec<String>,
    #[serde(default)]
    negative: Vec<String>,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoutes {
    #[serde(default)]
    route: Vec<RawRoute>,
}

/// One validated route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub deployment: i64,
    /// Empty: any report or observation.
    pub codes: BTreeSet<CodeReference>,
    pub positive: BTreeSet<CodeReference>,
    pub negative: BTreeSet<CodeReference>,
    pub source: OutcomeSource,
}

/// The routes, tried in order for every resource; every route that takes a
/// resource gets its outcome (a report may serve two tools).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Routes {
    pub routes: Vec<Route>,
}

impl Routes {
    /// Reads `[[route]]` tables from a TOML document.
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
}

fn validate(raw: RawRoute) -> Result<Route, String> {
    if raw.deployment <= 0 {
        return Err("deployment must be a deployment's id (a positive number)".to_owned());
    }
    let codes = |field: &str, list: &[String]| {
        list.iter()
            .map(|text| CodeReference::parse(text).map_err(|message| format!("{field}: {message}")))
            .collect::<Result<BTreeSet<_>, _>>()
    };
    let positive = codes("positive", &raw.positive)?;
    if positive.is_empty() {
        return Err("positive: list the codes that mean the condition is present".to_owned());
    }
    let negative = codes("negative", &raw.negative)?;
    if let Some(both) = positive.intersection(&negative).next() {
        return Err(format!(
            "{}:{} is both positive and negative",
            both.system, both.code
        ));
    }
    let source = OutcomeSource::parse(&raw.source).ok_or_else(|| {
        format!(
            "source: {:?} is not report, pathology, follow_up or reader",
            raw.source
        )
    })?;
    Ok(Route {
        deployment: raw.deployment,
        codes: codes("codes", &raw.codes)?,
        positive,
        negative,
        source,
    })
}

/// The v2 table 0203 system, whose `ACSN` types an accession number.
const IDENTIFIER_TYPES: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";

/// What one resource of a body became.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// The entry's number in the Bundle, from 1; 0 for a body that is a
    /// single resource.
    pub entry: usize,
    pub resource_type: String,
    /// Its outcomes, one a route that took it (with the route's
    /// deployment), or why it gave none.
    pub result: Result<Vec<(i64, Outcome)>, String>,
    /// A report's times, or why they cannot be kept; `None` for what is not
    /// a report, or not one of a status that is timed.
    pub timing: Option<Result<ReportTiming, String>>,
}

/// Reads every report and observation of a body (a Bundle, or one
/// resource). Resources of other types in a Bundle (patients, service
/// requests) are read only as what reports refer to.
pub fn read_outcomes(
    body: &[u8],
    routes: &Routes,
    key: &PseudonymKey,
    received_at: Timestamp,
) -> Result<Vec<Reading>, FhirError> {
    // serde_json refuses nesting beyond 128 levels, so hostile depth ends
    // in an error, not a stack overflow.
    let value: Value =
        serde_json::from_slice(body).map_err(|error| FhirError::NotJson(error.to_string()))?;
    let resource_type = value["resourceType"]
        .as_str()
        .ok_or(FhirError::NoResourceType)?;
    match resource_type {
        "Bundle" => {
            let entries = value["entry"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            if entries.len() > MAX_RESOURCES {
                return Err(FhirError::TooManyResources);
            }
            let mut readings = Vec::new();
            for (index, entry) in entries.iter().enumerate() {
                let resource = &entry["resource"];
                let kind = resource["resourceType"].as_str().unwrap_or_default();
                if kind == "DiagnosticReport" || kind == "Observation" {
                    readings.push(Reading {
                        entry: index + 1,
                        resource_type: kind.to_owned(),
                        result: read_one(resource, Some(entries), routes, key, received_at),
                        timing: read_timing(resource, Some(entries), key, received_at),
                    });
                }
            }
            Ok(readings)
        }
        "DiagnosticReport" | "Observation" => Ok(vec![Reading {
            entry: 0,
            resource_type: resource_type.to_owned(),
            result: read_one(&value, None, routes, key, received_at),
            timing: read_timing(&value, None, key, received_at),
        }]),
        other => Err(FhirError::UnsupportedResource(other.to_owned())),
    }
}

/// The codings of a CodeableConcept.
fn codings(concept: &Value) -> Vec<CodeReference> {
    concept["coding"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter_map(|coding| {
            Some(CodeReference {
                system: coding["system"].as_str()?.to_owned(),
                code: coding["code"].as_str()?.to_owned(),
            })
        })
        .collect()
}

/// The accession number among a resource's identifiers.
fn accession(resource: &Value) -> Option<&str> {
    resource["identifier"]
        .as_array()?
        .iter()
        .find_map(|identifier| {
            let typed = identifier["type"]["coding"]
                .as_array()?
                .iter()
                .any(|coding| {
                    coding["system"].as_str() == Some(IDENTIFIER_TYPES)
                        && coding["code"].as_str() == Some("ACSN")
                });
            typed.then(|| identifier["value"].as_str()).flatten()
        })
}

/// The resources a report is based on: contained (`#id`) or other entries
/// of the Bundle (by `fullUrl` or `Type/id`).
fn based_on<'a>(resource: &'a Value, entries: Option<&'a [Value]>) -> Vec<&'a Value> {
    let references = resource["basedOn"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    references
        .iter()
        .filter_map(|reference| reference["reference"].as_str())
        .filter_map(|reference| {
            if let Some(id) = reference.strip_prefix('#') {
                return resource["contained"]
                    .as_array()?
                    .iter()
                    .find(|contained| contained["id"].as_str() == Some(id));
            }
            entries?.iter().find_map(|entry| {
                let target = &entry["resource"];
                let by_url = entry["fullUrl"].as_str() == Some(reference);
                let by_id = match (target["resourceType"].as_str(), target["id"].as_str()) {
                    (Some(kind), Some(id)) => reference == format!("{kind}/{id}"),
                    _ => false,
                };
                (by_url || by_id).then_some(target)
            })
        })
        .collect()
}

/// An `instant` or `dateTime`; a date alone is its midnight UTC.
fn time_of(text: &str) -> Option<Timestamp> {
    text.parse::<Timestamp>().ok().or_else(|| {
        let date: jiff::civil::Date = text.parse().ok()?;
        date.to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|zoned| zoned.timestamp())
    })
}

fn read_one(
    resource: &Value,
    entries: Option<&[Value]>,
    routes: &Routes,
    key: &PseudonymKey,
    received_at: Timestamp,
) -> Result<Vec<(i64, Outcome)>, String> {
    let kind = resource["resourceType"].as_str().unwrap_or_default();
    let status = resource["status"].as_str().unwrap_or_default();
    if !["final", "amended", "corrected"].contains(&status) {
        return Err(format!(
            "its status is {status:?}; only final, amended or corrected results are outcomes"
        ));
    }
    let raw_accession = accession(resource)
        .or_else(|| based_on(resource, entries).into_iter().find_map(accession))
        .ok_or("it carries no accession number (an identifier of type ACSN), on itself or the request it is based on")?;
    let recorded_at = resource["issued"]
        .as_str()
        .or_else(|| resource["effectiveDateTime"].as_str())
        .ok_or("it has neither issued nor effectiveDateTime")
        .and_then(|text| {
            time_of(text).ok_or("its issued or effectiveDateTime is not a valid time")
        })?;
    let examined = codings(&resource["code"]);
    let (found, boolean) = if kind == "DiagnosticReport" {
        let found: Vec<CodeReference> = resource["conclusionCode"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .flat_map(codings)
            .collect();
        (found, None)
    } else {
        (
            codings(&resource["valueCodeableConcept"]),
            resource["valueBoolean"].as_bool(),
        )
    };
    Finding {
        kind,
        accession: raw_accession,
        recorded_at,
        examined,
        found,
        boolean,
    }
    .outcomes(routes, key, received_at)
}

/// The times of a DiagnosticReport (`None` for an Observation, or a report
/// not yet or no longer valid: registered, partial, cancelled…).
fn read_timing(
    resource: &Value,
    entries: Option<&[Value]>,
    key: &PseudonymKey,
    received_at: Timestamp,
) -> Option<Result<ReportTiming, String>> {
    if resource["resourceType"].as_str() != Some("DiagnosticReport") {
        return None;
    }
    let status = ReportStatus::parse(resource["status"].as_str()?).ok()?;
    Some((|| {
        let accession = accession(resource)
            .or_else(|| based_on(resource, entries).into_iter().find_map(accession))
            .ok_or("its times: it carries no accession number")?;
        let issued_at = resource["issued"]
            .as_str()
            .ok_or("its times: it has no issued time")
            .and_then(|text| time_of(text).ok_or("its times: its issued time is not valid"))?;
        let examined = resource["effectiveDateTime"]
            .as_str()
            .or_else(|| resource["effectivePeriod"]["start"].as_str());
        let examined_at = match examined {
            Some(text) => Some(time_of(text).ok_or("its times: its effective time is not valid")?),
            None => None,
        };
        // The first interpreter, by its reference or identifier: who
        // reported it, pseudonymised like the accession number.
        let interpreter = &resource["resultsInterpreter"][0];
        let reader = interpreter["reference"]
            .as_str()
            .or_else(|| interpreter["identifier"]["value"].as_str())
            .or_else(|| interpreter["display"].as_str());
        timing(
            accession,
            status,
            examined_at,
            issued_at,
            reader,
            key,
            received_at,
        )
    })())
}

/// A report's times, checked as outcomes' times are (not before
/// monitoring's earliest year, not in the future) and in order.
pub(crate) fn timing(
    accession: &str,
    status: ReportStatus,
    examined_at: Option<Timestamp>,
    issued_at: Timestamp,
    reader: Option<&str>,
    key: &PseudonymKey,
    received_at: Timestamp,
) -> Result<ReportTiming, String> {
    let case = pseudonymise(key, IdentifierKind::Accession, accession)
        .map_err(|error| format!("its times: its accession number: {error}"))?;
    for time in examined_at.iter().chain([&issued_at]) {
        check_time(*time, received_at).map_err(|reason| format!("its times: {reason}"))?;
    }
    let timing = ReportTiming::new(case, status, examined_at, issued_at)
        .map_err(|error| format!("its times: {error}"))?;
    Ok(
        match reader.map(str::trim).filter(|reader| !reader.is_empty()) {
            Some(reader) => timing.with_reader(
                pseudonymise(key, IdentifierKind::Reader, reader)
                    .map_err(|error| format!("its times: its reader: {error}"))?,
            ),
            None => timing,
        },
    )
}

/// A time that can be an outcome's or a report's: not before monitoring's
/// earliest year, not in the future of its receipt.
fn check_time(time: Timestamp, received_at: Timestamp) -> Result<(), String> {
    if time.to_zoned(jiff::tz::TimeZone::UTC).year() < vigil_monitor::events::EARLIEST_YEAR {
        return Err(format!(
            "its time is before {}",
            vigil_monitor::events::EARLIEST_YEAR
        ));
    }
    if time.as_second() > received_at.as_second() + vigil_monitor::events::FUTURE_TOLERANCE_SECONDS
    {
        return Err("its time is in the future".to_owned());
    }
    Ok(())
}

/// What a report or result says, whatever its format (FHIR, HL7 v2): the
/// common ground from which routes make outcomes.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding<'a> {
    /// The resource or message kind, for messages (`DiagnosticReport`, `ORU^R01`).
    pub kind: &'a str,
    /// The accession number as sent; pseudonymised here.
    pub accession: &'a str,
    pub recorded_at: Timestamp,
    /// What was examined (the report's or observation's code).
    pub examined: Vec<CodeReference>,
    /// What was found (conclusion or value codes).
    pub found: Vec<CodeReference>,
    /// A yes/no value, when the result is one.
    pub boolean: Option<bool>,
}

impl Finding<'_> {
    /// The outcomes the routes make of this finding (one a route that takes
    /// it), or why there are none.
    pub fn outcomes(
        &self,
        routes: &Routes,
        key: &PseudonymKey,
        received_at: Timestamp,
    ) -> Result<Vec<(i64, Outcome)>, String> {
        let (kind, recorded_at, examined, found, boolean) = (
            self.kind,
            self.recorded_at,
            &self.examined,
            &self.found,
            self.boolean,
        );
        let case = pseudonymise(key, IdentifierKind::Accession, self.accession)
            .map_err(|error| format!("its accession number: {error}"))?;
        check_time(recorded_at, received_at)?;
        let mut outcomes = Vec::new();
        let mut reasons = Vec::new();
        for route in &routes.routes {
            if !route.codes.is_empty() && !examined.iter().any(|code| route.codes.contains(code)) {
                continue;
            }
            let label = if found.iter().any(|code| route.positive.contains(code)) {
                Some(true)
            } else if found.iter().any(|code| route.negative.contains(code)) {
                Some(false)
            } else {
                boolean
            };
            match label {
                Some(label) => outcomes.push((
                    route.deployment,
                    Outcome {
                        case: case.clone(),
                        label,
                        source: route.source,
                        recorded_at,
                        reader_agrees: None,
                    },
                )),
                None => reasons.push(format!(
                    "deployment {}: none of its codes is listed as positive or negative",
                    route.deployment
                )),
            }
        }
        if outcomes.is_empty() {
            if reasons.is_empty() {
                return Err(format!("{NO_ROUTE} a {kind} of these codes"));
            }
            return Err(reasons.join("; "));
        }
        Ok(outcomes)
    }
}
