//! HL7 v2 result messages (ORU^R01) from the RIS, read into findings and
//! outcomes with the same routes as FHIR reports.
//!
//! Each OBR segment (an order's result) and the OBX segments after it make
//! one finding: the accession number is OBR-3 (filler order number), else
//! OBR-18 (placer field 1, where many UK RIS put it); what was examined is
//! OBR-4; the time is OBR-22 (results reported), else MSH-7; the status is
//! OBR-25, and only F (final) and C (corrected) are outcomes; what was found
//! is every coded OBX-5 (CE, CWE, CNE; the code, its text and its coding
//! system, SCT or LN as in table 0396). Its report times are OBR-7 (the
//! examination) and OBR-22, and its reader OBR-32 (the principal result
//! interpreter), kept only as a keyed pseudonym. Times without an offset
//! are read in the given zone. [`ack`] builds the acknowledgement.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use vigil_domain::{PseudonymKey, ReportStatus, ReportTiming};
use vigil_monitor::Outcome;

use crate::{CodeReference, Finding, Routes};

/// The longest message accepted, in bytes.
pub const MAX_MESSAGE: usize = 1 << 20;

/// Why a message was refused whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Hl7Error {
    #[error("the message does not start with an MSH segment")]
    NoHeader,
    #[error("the MSH segment's encoding characters are incomplete")]
    BadEncodingCharacters,
    #[error("the message is longer than {MAX_MESSAGE} bytes")]
    TooLong,
    #[error("the message is a {0}, not an ORU^R01")]
    NotOru(String),
}

/// The separators a message declares in MSH-1 and MSH-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Separators {
    field: char,
    component: char,
    repetition: char,
    escape: char,
    subcomponent: char,
}

/// A parsed message: its separators and segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    separators: Separators,
    /// Each segment split into fields; `fields[0]` is the segment's name.
    segments: Vec<Vec<String>>,
}

impl Message {
    /// Splits a message into segments and fields.
    pub fn parse(bytes: &[u8]) -> Result<Message, Hl7Error> {
        if bytes.len() > MAX_MESSAGE {
            return Err(Hl7Error::TooLong);
        }
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim_start_matches(['\r', '\n', ' ']);
        if !text.starts_with("MSH") {
            return Err(Hl7Error::NoHeader);
        }
        let mut characters = text[3..].chars();
        let field = characters.next().ok_or(Hl7Error::BadEncodingCharacters)?;
        let encoding: Vec<char> = characters.take_while(|c| *c != field).collect();
        if encoding.len() < 4 || field.is_alphanumeric() {
            return Err(Hl7Error::BadEncodingCharacters);
        }
        let separators = Separators {
            field,
            component: encoding[0],
            repetition: encoding[1],
            escape: encoding[2],
            subcomponent: encoding[3],
        };
        let segments = text
            .split(['\r', '\n'])
            .map(str::trim_end)
            .filter(|segment| !segment.is_empty())
            .map(|segment| {
                let mut fields: Vec<String> = segment.split(field).map(str::to_owned).collect();
                if fields[0] == "MSH" {
                    // MSH-1 is the field separator itself: keep numbering.
                    fields.insert(1, field.to_string());
                }
                fields
            })
            .collect();
        Ok(Message {
            separators,
            segments,
        })
    }

    /// Field `number` (from 1) of the first segment named `name`.
    pub fn field(&self, name: &str, number: usize) -> Option<&str> {
        self.segments
            .iter()
            .find(|segment| segment[0] == name)
            .and_then(|segment| segment.get(number))
            .map(String::as_str)
    }

    /// The message type, `ORU^R01` (MSH-9, its first two components).
    pub fn message_type(&self) -> String {
        let raw = self.field("MSH", 9).unwrap_or_default();
        let mut parts = raw.split(self.separators.component);
        let code = parts.next().unwrap_or_default();
        let event = parts.next().unwrap_or_default();
        format!("{code}^{event}")
    }

    /// The message control id (MSH-10).
    pub fn control_id(&self) -> &str {
        self.field("MSH", 10).unwrap_or_default()
    }

    /// The components of a field, unescaped.
    fn components(&self, field: &str) -> Vec<String> {
        field
            .split(self.separators.component)
            .map(|component| self.unescape(component))
            .collect()
    }

    /// Resolves the escape sequences of the delimiters.
    fn unescape(&self, text: &str) -> String {
        let escape = self.separators.escape;
        if !text.contains(escape) {
            return text.to_owned();
        }
        let mut out = String::new();
        let mut pieces = text.split(escape);
        out.push_str(pieces.next().unwrap_or_default());
        let mut inside = true;
        for piece in pieces {
            if inside {
                match piece {
                    "F" => out.push(self.separators.field),
                    "S" => out.push(self.separators.component),
                    "R" => out.push(self.separators.repetition),
                    "T" => out.push(self.separators.subcomponent),
                    "E" => out.push(escape),
                    // Formatting and hexadecimal escapes carry nothing a
                    // code needs.
                    _ => {}
                }
            } else {
                out.push_str(piece);
            }
            inside = !inside;
        }
        out
    }

    /// A coded element (CE, CWE, CNE): identifier and coding system.
    fn code(&self, field: &str) -> Option<CodeReference> {
        let components = self.components(field);
        let code = components.first().filter(|code| !code.is_empty())?;
        let system = components.get(2).filter(|system| !system.is_empty())?;
        CodeReference::parse(&format!("{system}:{code}")).ok()
    }
}

/// An HL7 TS/DTM value (`YYYY[MM[DD[HHMM[SS[.S]]]]][+/-ZZZZ]`), in `zone`
/// unless it states its offset.
pub fn time_of(raw: &str, zone: &TimeZone) -> Option<Timestamp> {
    let raw = raw.split('^').next()?.trim();
    let (digits, offset) = match raw.find(['+', '-']) {
        Some(at) => (&raw[..at], Some(&raw[at..])),
        None => (raw, None),
    };
    let digits = digits.split('.').next()?;
    if digits.len() < 8 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i16> {
        digits.get(range).map_or(Some(0), |text| text.parse().ok())
    };
    let date = jiff::civil::Date::new(
        number(0..4)?,
        i8::try_from(number(4..6)?).ok()?,
        i8::try_from(number(6..8)?).ok()?,
    )
    .ok()?;
    let time = jiff::civil::Time::new(
        i8::try_from(number(8..10)?).ok()?,
        i8::try_from(number(10..12)?).ok()?,
        i8::try_from(number(12..14)?).ok()?,
        0,
    )
    .ok()?;
    let civil = date.to_datetime(time);
    match offset {
        // ±HHMM, in ASCII digits (a byte count of 5 alone could cut a
        // multi-byte character).
        Some(offset)
            if offset.len() == 5 && offset[1..].bytes().all(|byte| byte.is_ascii_digit()) =>
        {
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let hours: i32 = offset[1..3].parse().ok()?;
            let minutes: i32 = offset[3..5].parse().ok()?;
            let offset =
                jiff::tz::Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()?;
            offset.to_timestamp(civil).ok()
        }
        Some(_) => None,
        None => zone.to_timestamp(civil).ok(),
    }
}

/// What one OBR group of a message became.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupReading {
    /// The OBR's set id (OBR-1), or its position from 1.
    pub group: String,
    pub result: Result<Vec<(i64, Outcome)>, String>,
    /// The report's times (OBR-7 the examination, OBR-22 the issue, else
    /// MSH-7), or why they cannot be kept; `None` for a result status that
    /// is not timed (OBR-25 other than P, F or C).
    pub timing: Option<Result<ReportTiming, String>>,
}

/// Reads every OBR group of an ORU^R01 into outcomes.
pub fn read_oru(
    message: &Message,
    routes: &Routes,
    key: &PseudonymKey,
    zone: &TimeZone,
    received_at: Timestamp,
) -> Result<Vec<GroupReading>, Hl7Error> {
    let kind = message.message_type();
    if kind != "ORU^R01" {
        return Err(Hl7Error::NotOru(kind));
    }
    let sent_at = message.field("MSH", 7).and_then(|raw| time_of(raw, zone));
    let mut readings = Vec::new();
    let mut groups: Vec<(&Vec<String>, Vec<&Vec<String>>)> = Vec::new();
    for segment in &message.segments {
        match segment[0].as_str() {
            "OBR" => groups.push((segment, Vec::new())),
            "OBX" => {
                if let Some((_, observations)) = groups.last_mut() {
                    observations.push(segment);
                }
            }
            _ => {}
        }
    }
    for (index, (order, observations)) in groups.iter().enumerate() {
        let field = |number: usize| order.get(number).map(String::as_str).unwrap_or_default();
        let group = Some(field(1))
            .filter(|id| !id.is_empty())
            .map_or_else(|| (index + 1).to_string(), str::to_owned);
        let accession = [3, 18]
            .into_iter()
            .map(|number| {
                message
                    .components(field(number))
                    .into_iter()
                    .next()
                    .unwrap_or_default()
            })
            .find(|value| !value.is_empty());
        let timed_status = match field(25) {
            "P" => Some(ReportStatus::Preliminary),
            "F" => Some(ReportStatus::Final),
            "C" => Some(ReportStatus::Corrected),
            _ => None,
        };
        let timing = timed_status.map(|status| {
            let accession = accession
                .as_deref()
                .ok_or("its times: it has no accession number (OBR-3 or OBR-18)")?;
            let issued_at = time_of(field(22), zone)
                .or(sent_at)
                .ok_or("its times: it has no valid time (OBR-22 or MSH-7)")?;
            let examined_at = match field(7) {
                "" => None,
                raw => Some(
                    time_of(raw, zone)
                        .ok_or("its times: its observation time (OBR-7) is not valid")?,
                ),
            };
            // OBR-32, the principal result interpreter: its first
            // component's first subcomponent is the clinician's identifier
            // (else their name).
            let interpreter = message
                .components(field(32))
                .into_iter()
                .next()
                .unwrap_or_default();
            let subcomponent = message.separators.subcomponent;
            let identifier = interpreter
                .split(subcomponent)
                .next()
                .unwrap_or_default()
                .trim();
            let name = interpreter.trim_matches(subcomponent).trim();
            let reader = [identifier, name].into_iter().find(|text| !text.is_empty());
            crate::timing(
                accession,
                status,
                examined_at,
                issued_at,
                reader,
                key,
                received_at,
            )
        });
        let result = (|| {
            let status = field(25);
            if !["F", "C"].contains(&status) {
                return Err(format!(
                    "its result status (OBR-25) is {status:?}; only F (final) and C (corrected) are outcomes"
                ));
            }
            let accession = accession
                .as_deref()
                .ok_or("it has no accession number (OBR-3 or OBR-18)")?;
            let recorded_at = time_of(field(22), zone)
                .or(sent_at)
                .ok_or("it has no valid time (OBR-22 or MSH-7)")?;
            let examined = message.code(field(4)).into_iter().collect();
            let found = observations
                .iter()
                .filter(|observation| {
                    matches!(
                        observation.get(2).map(String::as_str),
                        Some("CE" | "CWE" | "CNE")
                    )
                })
                .flat_map(|observation| {
                    observation
                        .get(5)
                        .map(String::as_str)
                        .unwrap_or_default()
                        .split(message.separators.repetition)
                        .filter_map(|value| message.code(value))
                        .collect::<Vec<_>>()
                })
                .collect();
            Finding {
                kind: "ORU^R01",
                accession,
                recorded_at,
                examined,
                found,
                boolean: None,
            }
            .outcomes(routes, key, received_at)
        })();
        readings.push(GroupReading {
            group,
            result,
            timing,
        });
    }
    if readings.is_empty() {
        readings.push(GroupReading {
            group: "1".to_owned(),
            result: Err("the message holds no OBR segment".to_owned()),
            timing: None,
        });
    }
    Ok(readings)
}

/// The acknowledgement code of an ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckCode {
    /// AA: accepted.
    Accept,
    /// AE: an application error; the message will not be processed as sent.
    Error,
    /// AR: rejected (not a message Vigil takes).
    Reject,
}

impl AckCode {
    fn as_str(self) -> &'static str {
        match self {
            AckCode::Accept => "AA",
            AckCode::Error => "AE",
            AckCode::Reject => "AR",
        }
    }
}

/// The ACK of a message (or of bytes that were not one), with MSA-3 text
/// made safe for the message's separators. `now` is the ACK's MSH-7.
pub fn ack(message: Option<&Message>, code: AckCode, text: &str, now: Timestamp) -> Vec<u8> {
    let field = |name: &str, number: usize| {
        message
            .and_then(|message| message.field(name, number))
            .unwrap_or_default()
            .to_owned()
    };
    let stamp = now
        .to_zoned(TimeZone::UTC)
        .strftime("%Y%m%d%H%M%S+0000")
        .to_string();
    let control = field("MSH", 10);
    let version = Some(field("MSH", 12))
        .filter(|version| !version.is_empty())
        .unwrap_or_else(|| "2.4".to_owned());
    // No delimiter of the default set in the free text.
    let text: String = text
        .chars()
        .map(|c| {
            if matches!(c, '|' | '^' | '~' | '\\' | '&' | '\r' | '\n') {
                ' '
            } else {
                c
            }
        })
        .take(200)
        .collect();
    let header = format!(
        "MSH|^~\\&|VIGIL|{}|{}|{}|{stamp}||ACK^R01^ACK|ACK{control}|P|{version}",
        field("MSH", 6),
        field("MSH", 3),
        field("MSH", 4),
    );
    format!("{header}\rMSA|{}|{control}|{text}\r", code.as_str()).into_bytes()
}

/// MLLP framing: start block, the message, end block and carriage return.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(message.len() + 3);
    framed.push(0x0B);
    framed.extend_from_slice(message);
    framed.extend_from_slice(&[0x1C, 0x0D]);
    framed
}
