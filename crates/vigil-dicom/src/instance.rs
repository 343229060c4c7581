//! What Vigil keeps of a received instance: its class, its identifiers as
//! keyed pseudonyms, its equipment, and the acquisition metadata that
//! monitoring compares over time.
//!
//! Identifiers (PatientID, AccessionNumber, and the study, series and
//! instance UIDs, which a PACS can look up) are pseudonymised here, on
//! arrival, with the Trust's key; no other identifying attribute (names,
//! birth dates, addresses) is read at all.

use dicom_dictionary_std::tags;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use vigil_domain::{IdentifierKind, Pseudonym, PseudonymKey, pseudonymise};
use vigil_monitor::{Metadata, Sex};

use crate::attributes::{date, number, text, time};
use crate::read::Object;

/// The SOP Class UIDs of the structured reports an AI tool sends.
pub const STRUCTURED_REPORT_CLASSES: [&str; 7] = [
    "1.2.840.10008.5.1.4.1.1.88.11", // Basic Text SR
    "1.2.840.10008.5.1.4.1.1.88.22", // Enhanced SR
    "1.2.840.10008.5.1.4.1.1.88.33", // Comprehensive SR
    "1.2.840.10008.5.1.4.1.1.88.34", // Comprehensive 3D SR
    "1.2.840.10008.5.1.4.1.1.88.35", // Extensible SR
    "1.2.840.10008.5.1.4.1.1.88.50", // Mammography CAD SR
    "1.2.840.10008.5.1.4.1.1.88.65", // Chest CAD SR
];
/// Segmentation Storage.
pub const SEGMENTATION_CLASS: &str = "1.2.840.10008.5.1.4.1.1.66.4";
/// RT Structure Set Storage.
pub const RT_STRUCTURE_SET_CLASS: &str = "1.2.840.10008.5.1.4.1.1.481.3";

/// What kind of object an instance is, for routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstanceKind {
    /// A structured report (an AI tool's findings and scores).
    StructuredReport,
    /// A segmentation.
    Segmentation,
    /// An RT structure set (auto-contouring).
    RtStructureSet,
    /// An image (pixel data present or declared): acquisition metadata.
    Image,
    /// Anything else (presentation states, key object selections, …).
    Other,
}

impl InstanceKind {
    /// The kind's name in configuration and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceKind::StructuredReport => "sr",
            InstanceKind::Segmentation => "seg",
            InstanceKind::RtStructureSet => "rtstruct",
            InstanceKind::Image => "image",
            InstanceKind::Other => "other",
        }
    }

    /// Whether this kind carries an AI tool's result.
    pub fn is_result(self) -> bool {
        matches!(
            self,
            InstanceKind::StructuredReport
                | InstanceKind::Segmentation
                | InstanceKind::RtStructureSet
        )
    }
}

/// Why an instance cannot be taken at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstanceError {
    /// A required identifying attribute is absent or empty.
    #[error("the required attribute {0} is missing")]
    Missing(&'static str),
}

/// The equipment that produced an instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Equipment {
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub software_versions: Option<String>,
}

/// One received instance, as Vigil keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub sop_class_uid: String,
    pub kind: InstanceKind,
    /// The SOP Instance UID, pseudonymised.
    pub sop_instance: Pseudonym,
    /// The Study Instance UID, pseudonymised.
    pub study: Pseudonym,
    /// The Series Instance UID, pseudonymised.
    pub series: Option<Pseudonym>,
    /// The AccessionNumber, pseudonymised as RIS feeds pseudonymise it, so
    /// that outcomes from the RIS find the events of the same case.
    pub accession: Option<Pseudonym>,
    /// The PatientID, pseudonymised as a local patient identifier.
    pub patient: Option<Pseudonym>,
    pub modality: Option<String>,
    pub equipment: Equipment,
    /// When the content was made (ContentDate/Time, else the acquisition's
    /// or the series' date and time), in the given time zone unless the
    /// object states its offset from UTC.
    pub content_time: Option<Timestamp>,
    /// Acquisition metadata: scanner, protocol, slice thickness, kVp (from
    /// images only: a result object's equipment is the AI tool's), and the
    /// patient's age band and sex.
    pub acquisition: Metadata,
}

impl Instance {
    /// Reads an instance's identifiers (pseudonymised with `key`), equipment
    /// and metadata. Local date-times are read in `zone` unless the object
    /// carries a TimezoneOffsetFromUTC.
    pub fn read(
        object: &Object,
        key: &PseudonymKey,
        zone: &TimeZone,
    ) -> Result<Instance, InstanceError> {
        let sop_class_uid =
            text(object, tags::SOP_CLASS_UID).ok_or(InstanceError::Missing("SOPClassUID"))?;
        let sop_instance_uid =
            text(object, tags::SOP_INSTANCE_UID).ok_or(InstanceError::Missing("SOPInstanceUID"))?;
        let study_uid = text(object, tags::STUDY_INSTANCE_UID)
            .ok_or(InstanceError::Missing("StudyInstanceUID"))?;
        let keyed = |kind, raw: &str| pseudonymise(key, kind, raw).ok();
        let kind = kind_of(&sop_class_uid, object);
        let modality = text(object, tags::MODALITY);
        let equipment = Equipment {
            manufacturer: text(object, tags::MANUFACTURER),
            model: text(object, tags::MANUFACTURER_MODEL_NAME),
            software_versions: text(object, tags::SOFTWARE_VERSIONS),
        };
        let is_image = kind == InstanceKind::Image;
        let acquisition = Metadata {
            scanner_manufacturer: equipment.manufacturer.clone().filter(|_| is_image),
            scanner_model: equipment.model.clone().filter(|_| is_image),
            protocol: text(object, tags::PROTOCOL_NAME)
                .or_else(|| text(object, tags::SERIES_DESCRIPTION))
                .filter(|_| is_image),
            slice_thickness_mm: number(object, tags::SLICE_THICKNESS)
                .filter(|value| *value > 0.0 && is_image),
            kvp: number(object, tags::KVP).filter(|value| *value > 0.0 && is_image),
            age_band: age_band(object),
            sex: text(object, tags::PATIENT_SEX).and_then(|raw| Sex::parse(&raw)),
            site: None,
        };
        Ok(Instance {
            sop_instance: keyed(IdentifierKind::DicomUid, &sop_instance_uid)
                .ok_or(InstanceError::Missing("SOPInstanceUID"))?,
            study: keyed(IdentifierKind::DicomUid, &study_uid)
                .ok_or(InstanceError::Missing("StudyInstanceUID"))?,
            series: text(object, tags::SERIES_INSTANCE_UID)
                .and_then(|raw| keyed(IdentifierKind::DicomUid, &raw)),
            accession: text(object, tags::ACCESSION_NUMBER)
                .and_then(|raw| keyed(IdentifierKind::Accession, &raw)),
            patient: text(object, tags::PATIENT_ID)
                .and_then(|raw| keyed(IdentifierKind::LocalPatientId, &raw)),
            sop_class_uid,
            kind,
            modality,
            equipment,
            content_time: content_time(object, zone),
            acquisition,
        })
    }
}

/// The kind of an instance from its SOP class (and, for classes Vigil does
/// not list, whether it carries pixel data).
fn kind_of(sop_class_uid: &str, object: &Object) -> InstanceKind {
    if STRUCTURED_REPORT_CLASSES.contains(&sop_class_uid) {
        InstanceKind::StructuredReport
    } else if sop_class_uid == SEGMENTATION_CLASS {
        InstanceKind::Segmentation
    } else if sop_class_uid == RT_STRUCTURE_SET_CLASS {
        InstanceKind::RtStructureSet
    } else if object.get(tags::ROWS).is_some() && object.get(tags::COLUMNS).is_some() {
        InstanceKind::Image
    } else {
        InstanceKind::Other
    }
}

/// The age band of PatientAge (`045Y`, `006M`, …), in the bands the
/// monitoring views use: 0-17, 18-39, 40-59, 60-79, 80+.
pub fn age_band(object: &Object) -> Option<String> {
    let raw = text(object, tags::PATIENT_AGE)?;
    let (digits, unit) = raw.split_at_checked(raw.len().checked_sub(1)?)?;
    let count: u32 = digits.parse().ok()?;
    let years = match unit {
        "Y" => count,
        "M" => count / 12,
        "W" => count / 52,
        "D" => count / 365,
        _ => return None,
    };
    Some(
        match years {
            0..=17 => "0-17",
            18..=39 => "18-39",
            40..=59 => "40-59",
            60..=79 => "60-79",
            _ => "80+",
        }
        .to_owned(),
    )
}

/// The content's date and time as an instant.
fn content_time(object: &Object, zone: &TimeZone) -> Option<Timestamp> {
    let pairs = [
        (tags::CONTENT_DATE, tags::CONTENT_TIME),
        (tags::ACQUISITION_DATE, tags::ACQUISITION_TIME),
        (tags::SERIES_DATE, tags::SERIES_TIME),
        (tags::STUDY_DATE, tags::STUDY_TIME),
    ];
    let civil = pairs.iter().find_map(|&(date_tag, time_tag)| {
        let day = date(object, date_tag)?;
        let at = time(object, time_tag).unwrap_or(jiff::civil::Time::midnight());
        Some(day.to_datetime(at))
    })?;
    match text(object, tags::TIMEZONE_OFFSET_FROM_UTC).and_then(|raw| parse_offset(&raw)) {
        Some(offset) => offset.to_timestamp(civil).ok(),
        None => zone.to_timestamp(civil).ok(),
    }
}

/// A TimezoneOffsetFromUTC value, `&ZZXX` (`+0100`, `-0500`).
fn parse_offset(raw: &str) -> Option<jiff::tz::Offset> {
    let sign = match raw.get(..1)? {
        "+" => 1,
        "-" => -1,
        _ => return None,
    };
    let hours: i32 = raw.get(1..3)?.parse().ok()?;
    let minutes: i32 = raw.get(3..5)?.parse().ok()?;
    if raw.len() != 5 || hours > 14 || minutes > 59 {
        return None;
    }
    jiff::tz::Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

/// The de-identified UID that stands for a pseudonymised one: `2.25.`
/// followed by the pseudonym's 128 bits as a decimal number (the UUID-derived
/// form of PS3.5 B.2), so that a DICOMweb answer carries valid UIDs and no
/// original one.
pub fn deidentified_uid(pseudonym: &Pseudonym) -> String {
    let hex = pseudonym.as_str().trim_start_matches("psn:");
    let value = u128::from_str_radix(hex, 16).unwrap_or_default();
    format!("2.25.{value}")
}
