//! Keyed pseudonyms for patient identifiers, and NHS number checking.
//!
//! A pseudonym is `"psn:"` followed by the first 32 lowercase hexadecimal
//! characters (128 bits) of
//! `HMAC-SHA256(key, kind || 0x00 || identifier)`, where `kind` is the
//! identifier kind's name in UTF-8 ("nhs_number", "accession" or
//! "local_patient_id") and `identifier` is the normalised identifier in
//! UTF-8: the 10 digits of an NHS number, or the trimmed text of any other
//! identifier (case is kept: accession numbers may be case sensitive).
//!
//! The key is what makes this a pseudonym rather than a hash: there are only
//! about 10⁹ NHS numbers, so a plain hash is reversed by trying them all, but
//! without the key no candidate can be checked. The key is held outside the
//! database and never printed: [`PseudonymKey`] has no `Display` and no
//! serialisation, and its `Debug` is redacted. The kind is part of the input
//! so the same digits as an NHS number and as a local identifier do not link.
//! 128 bits make an accidental collision negligible even across every
//! imaging test in England for centuries.

use std::fmt;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::DomainError;

/// The text every pseudonym starts with.
const PREFIX: &str = "psn:";
/// The number of hexadecimal characters after the prefix.
const HEX_CHARACTERS: usize = 32;

/// The secret key for pseudonymisation: 32 bytes.
#[derive(Clone)]
pub struct PseudonymKey([u8; 32]);

impl PseudonymKey {
    /// Reads a key written as 64 hexadecimal characters (either case);
    /// surrounding whitespace, such as a file's final line break, is ignored.
    /// Errors never repeat any of the key. A key of all zeros is rejected as
    /// a placeholder that was never replaced by a random key.
    pub fn from_hex(raw: &str) -> Result<Self, DomainError> {
        let trimmed = raw.trim();
        let invalid = |reason: String| DomainError::InvalidPseudonymKey { reason };
        let length = trimmed.chars().count();
        if length != 64 {
            return Err(invalid(format!(
                "it must be 64 hexadecimal characters (32 bytes), but it is {length} characters long"
            )));
        }
        let mut bytes = [0_u8; 32];
        let digits = trimmed.as_bytes();
        for (index, byte) in bytes.iter_mut().enumerate() {
            let high = hex_value(digits[2 * index]);
            let low = hex_value(digits[2 * index + 1]);
            match (high, low) {
                (Some(high), Some(low)) => *byte = (high << 4) | low,
                (None, _) => return Err(not_hexadecimal(2 * index)),
                (_, None) => return Err(not_hexadecimal(2 * index + 1)),
            }
        }
        if bytes.iter().all(|&byte| byte == 0) {
            return Err(invalid(
                "it is all zeros, a placeholder; generate a random key".to_owned(),
            ));
        }
        Ok(Self(bytes))
    }

    /// A key from 32 random bytes, for example from the operating system's
    /// random number generator when a new key is made.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key as 64 lowercase hexadecimal characters, for writing it to the
    /// key file. Never log this.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }
}

/// The error for a character that is not hexadecimal at a 0-based index.
fn not_hexadecimal(index: usize) -> DomainError {
    DomainError::InvalidPseudonymKey {
        reason: format!(
            "character {} is not a hexadecimal digit (0-9, a-f)",
            index + 1
        ),
    }
}

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("PseudonymKey(<redacted>)")
    }
}

/// The value of one ASCII hexadecimal digit.
fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Lowercase hexadecimal.
fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

/// A pseudonym: `"psn:"` and 32 lowercase hexadecimal characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pseudonym(String);

impl Pseudonym {
    /// Reads a stored pseudonym. The error never repeats the text, in case
    /// it is an identifier given where a pseudonym belongs.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let trimmed = raw.trim();
        if is_pseudonym(trimmed) {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(DomainError::NotAPseudonym)
        }
    }

    /// The pseudonym.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pseudonym {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl TryFrom<String> for Pseudonym {
    type Error = DomainError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Pseudonym> for String {
    fn from(pseudonym: Pseudonym) -> Self {
        pseudonym.0
    }
}

/// Whether the text is exactly a pseudonym: `"psn:"` and 32 lowercase
/// hexadecimal characters, nothing around them.
pub fn is_pseudonym(text: &str) -> bool {
    text.strip_prefix(PREFIX).is_some_and(|hex| {
        hex.len() == HEX_CHARACTERS
            && hex
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
    })
}

named_enum! {
    /// What kind of patient identifier is pseudonymised; its name is part of
    /// the keyed hash, so the same text as two kinds gives two pseudonyms.
    pub enum IdentifierKind: "identifier kind" {
        /// An NHS number, checked and reduced to its 10 digits.
        NhsNumber = "nhs_number",
        /// A RIS accession number.
        Accession = "accession",
        /// A hospital's local patient identifier (MRN).
        LocalPatientId = "local_patient_id",
        /// A data feed's identifier of an inference event, which may be an
        /// accession number or a study UID.
        EventId = "event_id",
        /// A DICOM UID that belongs to a patient's imaging (study, series,
        /// instance, frame of reference): it can be looked up in a PACS.
        DicomUid = "dicom_uid",
        /// The RIS's identifier of the clinician who reported a study (HL7
        /// OBR-32, FHIR `DiagnosticReport.resultsInterpreter`): workload is
        /// counted per reader without naming them.
        Reader = "reader",
    }
}

/// A checked NHS number: 10 digits with a valid modulus 11 check digit.
///
/// It cannot be displayed or serialised, and its `Debug` is redacted, so it
/// does not end up in logs; turn it into a [`Pseudonym`] with
/// [`NhsNumber::pseudonym`].
#[derive(Clone, PartialEq, Eq)]
pub struct NhsNumber(String);

impl NhsNumber {
    /// Reads an NHS number: 10 digits, optionally grouped 3-3-4 by single
    /// spaces or hyphens ("943 476 5919", "943-476-5919", "9434765919"),
    /// with surrounding whitespace ignored.
    ///
    /// The check digit is the modulus 11 rule: the first nine digits are
    /// weighted 10 down to 2 and summed; the check digit is 11 minus the sum
    /// modulo 11, where 11 becomes 0 and 10 means the number is invalid.
    /// Errors never repeat any digit of the number, in their message or their
    /// `Debug` form: a number one typing error from a real one identifies a
    /// patient almost as well as the real one.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let format = |reason| DomainError::NhsNumberFormat { reason };
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(format("it is empty"));
        }
        let mut digits = String::with_capacity(10);
        let mut previous_was_separator = false;
        for character in trimmed.chars() {
            if character.is_ascii_digit() {
                digits.push(character);
                previous_was_separator = false;
            } else if character == ' ' || character == '-' {
                if previous_was_separator || (digits.len() != 3 && digits.len() != 6) {
                    return Err(format(
                        "spaces or hyphens may only separate the digits into groups of 3, 3 and 4",
                    ));
                }
                previous_was_separator = true;
            } else {
                return Err(format(
                    "it may contain only digits, with spaces or hyphens between groups of 3, 3 and 4",
                ));
            }
        }
        if digits.len() != 10 {
            return Err(DomainError::NhsNumberDigitCount {
                found: digits.len(),
            });
        }
        let number = Self(digits);
        if number.check_digit_is_valid() {
            Ok(number)
        } else {
            Err(DomainError::NhsNumberCheckDigit)
        }
    }

    /// Whether the tenth digit is the modulus 11 check digit of the first
    /// nine.
    fn check_digit_is_valid(&self) -> bool {
        let digits: Vec<u32> = self.0.bytes().map(|byte| u32::from(byte - b'0')).collect();
        let sum: u32 = digits[..9]
            .iter()
            .zip((2..=10).rev())
            .map(|(digit, weight)| digit * weight)
            .sum();
        match 11 - sum % 11 {
            11 => digits[9] == 0,
            10 => false,
            check => digits[9] == check,
        }
    }

    /// The number's pseudonym under this key.
    pub fn pseudonym(&self, key: &PseudonymKey) -> Pseudonym {
        keyed_pseudonym(key, IdentifierKind::NhsNumber, &self.0)
    }
}

impl fmt::Debug for NhsNumber {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("NhsNumber(<redacted>)")
    }
}

/// Pseudonymises one identifier of the given kind.
///
/// Every input is hashed: an NHS number is parsed and checked
/// ([`NhsNumber::parse`]) and its 10 digits are used; any other identifier is
/// trimmed and must not be empty. Text that already looks like a pseudonym
/// gets no special treatment: it is hashed like any other accession or local
/// identifier, and it is not an NHS number. (Passing it through would let a
/// data feed choose the pseudonym stored for a record, skip the NHS number
/// check, and link records across keys.) To recognise a stored pseudonym,
/// use [`is_pseudonym`] or [`Pseudonym::parse`].
pub fn pseudonymise(
    key: &PseudonymKey,
    kind: IdentifierKind,
    raw: &str,
) -> Result<Pseudonym, DomainError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(DomainError::EmptyIdentifier { kind });
    }
    Ok(match kind {
        IdentifierKind::NhsNumber => NhsNumber::parse(trimmed)?.pseudonym(key),
        IdentifierKind::Accession
        | IdentifierKind::LocalPatientId
        | IdentifierKind::EventId
        | IdentifierKind::DicomUid
        | IdentifierKind::Reader => keyed_pseudonym(key, kind, trimmed),
    })
}

/// The keyed hash of a normalised identifier, as the module documentation
/// defines it.
fn keyed_pseudonym(key: &PseudonymKey, kind: IdentifierKind, normalised: &str) -> Pseudonym {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(&key.0).expect("HMAC accepts a key of any length");
    mac.update(kind.as_str().as_bytes());
    mac.update(&[0]);
    mac.update(normalised.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut text = String::with_capacity(PREFIX.len() + HEX_CHARACTERS);
    text.push_str(PREFIX);
    text.push_str(&to_hex(&digest[..HEX_CHARACTERS / 2]));
    Pseudonym(text)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The key 00 01 02 … 1f.
    fn key() -> PseudonymKey {
        PseudonymKey::from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
            .unwrap()
    }

    fn other_key() -> PseudonymKey {
        PseudonymKey::from_bytes([7; 32])
    }

    #[test]
    fn known_answers_match_an_independent_hmac() {
        // Computed with Python: "psn:" + hmac.new(key, kind + b"\0" + id,
        // hashlib.sha256).hexdigest()[:32].
        assert_eq!(
            pseudonymise(&key(), IdentifierKind::NhsNumber, "943 476 5919")
                .unwrap()
                .as_str(),
            "psn:135ac82cb3618c3780fbf284b934127b"
        );
        assert_eq!(
            pseudonymise(&key(), IdentifierKind::Accession, " ACC-001 ")
                .unwrap()
                .as_str(),
            "psn:05cb2f116034f39c8ac9622b760c3bb3"
        );
        assert_eq!(
            pseudonymise(&key(), IdentifierKind::LocalPatientId, "9434765919")
                .unwrap()
                .as_str(),
            "psn:d28d8b8f48860e4115ae4d7c4742f806"
        );
    }

    #[test]
    fn the_same_key_and_input_give_the_same_pseudonym() {
        let first = pseudonymise(&key(), IdentifierKind::NhsNumber, "9434765919").unwrap();
        let spaced = pseudonymise(&key(), IdentifierKind::NhsNumber, "943 476 5919").unwrap();
        let hyphenated = pseudonymise(&key(), IdentifierKind::NhsNumber, "943-476-5919").unwrap();
        assert_eq!(first, spaced);
        assert_eq!(first, hyphenated);
        assert!(is_pseudonym(first.as_str()));
    }

    #[test]
    fn different_keys_and_kinds_give_different_pseudonyms() {
        let number = "9434765919";
        let with_key = pseudonymise(&key(), IdentifierKind::NhsNumber, number).unwrap();
        let with_other_key = pseudonymise(&other_key(), IdentifierKind::NhsNumber, number).unwrap();
        let as_local_id = pseudonymise(&key(), IdentifierKind::LocalPatientId, number).unwrap();
        assert_ne!(with_key, with_other_key);
        assert_ne!(with_key, as_local_id);
    }

    #[test]
    fn pseudonym_shaped_input_is_hashed_not_passed_through() {
        let pseudonym = pseudonymise(&key(), IdentifierKind::Accession, "ACC-001").unwrap();
        let text = pseudonym.as_str();
        assert!(is_pseudonym(text));
        for kind in [IdentifierKind::Accession, IdentifierKind::LocalPatientId] {
            let hashed = pseudonymise(&other_key(), kind, text).unwrap();
            assert_ne!(
                hashed, pseudonym,
                "{kind}: a pseudonym must not pass through"
            );
            assert_eq!(hashed, keyed_pseudonym(&other_key(), kind, text), "{kind}");
            // Surrounding whitespace is trimmed as for any identifier.
            assert_eq!(
                pseudonymise(&other_key(), kind, &format!("  {text}\n")).unwrap(),
                hashed
            );
            // Under the same key, too, it is hashed rather than kept.
            assert_ne!(pseudonymise(&key(), kind, text).unwrap(), pseudonym);
        }
        // Not an NHS number, so it is refused, without echoing it.
        let error = pseudonymise(&key(), IdentifierKind::NhsNumber, text).unwrap_err();
        assert!(
            matches!(error, DomainError::NhsNumberFormat { .. }),
            "{error:?}"
        );
        assert!(!error.to_string().contains(&text[4..]), "{error}");
    }

    #[test]
    fn empty_identifiers_are_rejected() {
        assert_eq!(
            pseudonymise(&key(), IdentifierKind::Accession, "   ")
                .unwrap_err()
                .to_string(),
            "accession identifier is empty; there is nothing to pseudonymise"
        );
        assert!(pseudonymise(&key(), IdentifierKind::NhsNumber, "").is_err());
    }

    #[test]
    fn pseudonym_format_is_recognised_exactly() {
        assert!(is_pseudonym("psn:0123456789abcdef0123456789abcdef"));
        assert!(!is_pseudonym("psn:0123456789ABCDEF0123456789abcdef"));
        assert!(!is_pseudonym("psn:0123456789abcdef0123456789abcde"));
        assert!(!is_pseudonym("psn:0123456789abcdef0123456789abcdef0"));
        assert!(!is_pseudonym(" psn:0123456789abcdef0123456789abcdef"));
        assert!(!is_pseudonym("0123456789abcdef0123456789abcdef"));
        assert!(!is_pseudonym("psn:0123456789abcdef0123456789abcdeg"));
        assert_eq!(
            Pseudonym::parse("9434765919"),
            Err(DomainError::NotAPseudonym)
        );
        assert!(
            !Pseudonym::parse("9434765919")
                .unwrap_err()
                .to_string()
                .contains("943")
        );
    }

    #[test]
    fn keys_are_read_from_hex_and_never_shown() {
        let key = key();
        assert_eq!(
            key.to_hex(),
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        );
        let upper =
            PseudonymKey::from_hex(&format!("  {}\n", key.to_hex().to_uppercase())).unwrap();
        assert_eq!(upper.to_hex(), key.to_hex());
        assert_eq!(format!("{key:?}"), "PseudonymKey(<redacted>)");
        assert_eq!(format!("{key:#?}"), "PseudonymKey(<redacted>)");
    }

    #[test]
    fn bad_keys_are_rejected_without_echoing_them() {
        let short = "abcdef";
        let message = PseudonymKey::from_hex(short).unwrap_err().to_string();
        assert_eq!(
            message,
            "pseudonym key is invalid: it must be 64 hexadecimal characters (32 bytes), \
             but it is 6 characters long"
        );
        let mut bad = "1f".repeat(32);
        bad.replace_range(9..10, "g");
        let message = PseudonymKey::from_hex(&bad).unwrap_err().to_string();
        assert_eq!(
            message,
            "pseudonym key is invalid: character 10 is not a hexadecimal digit (0-9, a-f)"
        );
        assert!(!message.contains("1f"));
        assert!(PseudonymKey::from_hex(&"0".repeat(64)).is_err());
        assert!(PseudonymKey::from_hex(&"é".repeat(32)).is_err());
    }

    #[test]
    fn nhs_numbers_are_checked_by_modulus_11() {
        assert!(NhsNumber::parse("943 476 5919").is_ok());
        assert!(NhsNumber::parse("9434765919").is_ok());
        assert!(NhsNumber::parse(" 943-476-5919 ").is_ok());
        assert!(NhsNumber::parse("943 4765919").is_ok());
        // 401 023 225 weighs 4·10 + 1·8 + 2·6 + 3·5 + 2·4 + 2·3 + 5·2 = 99,
        // a remainder of 0, so its check digit is 0 ("11 becomes 0").
        assert!(NhsNumber::parse("401 023 2250").is_ok());
        assert!(NhsNumber::parse("401 023 2251").is_err());
        let error = NhsNumber::parse("943 476 5910").unwrap_err();
        assert_eq!(error, DomainError::NhsNumberCheckDigit);
        assert_eq!(
            error.to_string(),
            "NHS number is not valid: the NHS number's check digit is wrong (modulus 11); \
             check it for a typing error"
        );
        assert_eq!(
            NhsNumber::parse("943 476 591").unwrap_err().to_string(),
            "NHS number is not in the accepted form: an NHS number has 10 digits, this has 9"
        );
    }

    #[test]
    fn a_check_digit_of_ten_is_invalid() {
        // 000 000 006 weighs 6·2 = 12, a remainder of 1, so the check digit
        // would be 10: no number starts with these nine digits.
        for last in 0..=9 {
            assert!(NhsNumber::parse(&format!("000000006{last}")).is_err());
        }
        // 000 000 005 weighs 10, so its check digit is 1.
        assert!(NhsNumber::parse("0000000050").is_err());
        assert!(NhsNumber::parse("0000000051").is_ok());
    }

    #[test]
    fn nhs_number_layout_errors_never_echo_the_number() {
        for raw in [
            "943 476 591",
            "9434 76 5919",
            "943  476 5919",
            "943.476.5919",
            "943 476 59190",
            "94347659191",
            "943_476_5919",
            "",
            "٩٤٣٤٧٦٥٩١٩",
        ] {
            let message = NhsNumber::parse(raw).unwrap_err().to_string();
            assert!(
                message.starts_with("NHS number is not in the accepted form"),
                "{message}"
            );
            assert!(!message.contains("943"), "{message}");
        }
    }

    /// Every error from reading an NHS number, for inputs of every shape.
    const INVALID_NHS_NUMBERS: [&str; 16] = [
        "943 476 5910",
        "9434765910",
        "943-476-5911",
        "4010232251",
        "0000000060",
        "943 476 591",
        "9434 76 5919",
        "943  476 5919",
        "943.476.5919",
        "943 476 59190",
        "94347659191",
        "9",
        "943_476_5919",
        "",
        "٩٤٣٤٧٦٥٩١٩",
        "12345678901234567890",
    ];

    /// Adds `shift` to every ASCII digit, modulo 10: the same shape, and
    /// (for a shift of 1 to 9) every digit different.
    fn shift_digits(raw: &str, shift: u32) -> String {
        raw.chars()
            .map(|character| match character {
                '0'..='9' => {
                    let digit = character.to_digit(10).unwrap();
                    char::from_digit((digit + shift) % 10, 10).unwrap()
                }
                _ => character,
            })
            .collect()
    }

    #[test]
    fn nhs_number_errors_show_no_digit_of_the_number() {
        for raw in INVALID_NHS_NUMBERS {
            let error = NhsNumber::parse(raw).unwrap_err();
            let texts = |error: &DomainError| {
                [
                    error.to_string(),
                    format!("{error:?}"),
                    format!("{error:#?}"),
                ]
            };
            // Changing every digit of the input changes nothing in the
            // message or the Debug form, so neither carries any digit of it.
            // (A shifted number that happens to be valid has no error.)
            let mut compared = 0;
            for shift in 1..10 {
                let shifted = shift_digits(raw, shift);
                if let Err(shifted_error) = NhsNumber::parse(&shifted) {
                    assert_eq!(
                        texts(&error),
                        texts(&shifted_error),
                        "{raw:?} / {shifted:?}"
                    );
                    compared += 1;
                }
            }
            assert!(compared >= 5, "{raw:?}: only {compared} shifts compared");
            let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
            for text in texts(&error) {
                assert!(
                    digits.len() < 3 || !text.contains(&digits[digits.len() - 3..]),
                    "{raw:?}: {text}"
                );
            }
            // The same error comes through `pseudonymise`.
            if !raw.trim().is_empty() {
                assert_eq!(
                    pseudonymise(&key(), IdentifierKind::NhsNumber, raw).unwrap_err(),
                    error
                );
            }
        }
    }

    #[test]
    fn nhs_numbers_do_not_leak_through_debug() {
        let number = NhsNumber::parse("943 476 5919").unwrap();
        assert_eq!(format!("{number:?}"), "NhsNumber(<redacted>)");
        assert_eq!(
            number.pseudonym(&key()),
            pseudonymise(&key(), IdentifierKind::NhsNumber, "9434765919").unwrap()
        );
    }

    /// The check digit a valid number ends with, or `None` when no number
    /// can start with these nine digits.
    fn check_digit(first_nine: &[u32]) -> Option<u32> {
        let sum: u32 = first_nine
            .iter()
            .enumerate()
            .map(|(index, digit)| digit * (10 - index as u32))
            .sum();
        match 11 - sum % 11 {
            11 => Some(0),
            10 => None,
            check => Some(check),
        }
    }

    proptest! {
        #[test]
        fn numbers_with_their_check_digit_parse_and_one_changed_digit_does_not(
            first_nine in proptest::collection::vec(0_u32..10, 9),
            position in 0_usize..10,
            change in 1_u32..10,
        ) {
            let digits: String = first_nine.iter().map(|digit| digit.to_string()).collect();
            match check_digit(&first_nine) {
                None => {
                    for last in 0..10 {
                        let candidate = format!("{digits}{last}");
                        prop_assert!(NhsNumber::parse(&candidate).is_err());
                    }
                }
                Some(check) => {
                    let mut all: Vec<u32> = first_nine.clone();
                    all.push(check);
                    let valid: String = all.iter().map(|digit| digit.to_string()).collect();
                    prop_assert!(NhsNumber::parse(&valid).is_ok());
                    // Modulus 11 with weights 1 to 10 catches every single
                    // wrong digit.
                    all[position] = (all[position] + change) % 10;
                    let typo: String = all.iter().map(|digit| digit.to_string()).collect();
                    prop_assert!(NhsNumber::parse(&typo).is_err());
                }
            }
        }

        #[test]
        fn pseudonyms_are_well_formed_and_stable(raw in "[A-Za-z0-9-]{1,20}") {
            let first = pseudonymise(&key(), IdentifierKind::Accession, &raw).unwrap();
            prop_assert!(is_pseudonym(first.as_str()));
            prop_assert_eq!(&first, &pseudonymise(&key(), IdentifierKind::Accession, &raw).unwrap());
            // A pseudonym given as input is hashed again, never kept.
            let again = pseudonymise(&key(), IdentifierKind::Accession, first.as_str()).unwrap();
            prop_assert!(is_pseudonym(again.as_str()));
            prop_assert_ne!(&first, &again);
        }
    }
}
