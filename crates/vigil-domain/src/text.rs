//! Parsed text: free text that is never blank, and short organisation codes.
//!
//! [`NonEmptyText`] is what every name, rationale and note in the domain is
//! made of: trimmed, not empty, at most 4,000 characters, and free of control
//! characters other than line breaks and tabs (a Windows line ending, CR LF,
//! is read as a plain line break). [`Code`] is an organisation code or slug
//! such as an ODS code in lower case ("rw3") or "nhs-england".

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::error::shorten;

/// Free text that is trimmed, never blank, at most
/// [`NonEmptyText::MAX_CHARACTERS`] characters, and free of control
/// characters other than line breaks and tabs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NonEmptyText(String);

impl NonEmptyText {
    /// The longest text accepted, in characters (Unicode scalar values).
    pub const MAX_CHARACTERS: usize = 4_000;

    /// Reads free text, naming it "text" in any error.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::parse_field("text", raw)
    }

    /// Reads free text, naming it `field` (for example "product name") in
    /// any error, so the message tells the user which value to fix.
    pub fn parse_field(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        let normalised = raw.replace("\r\n", "\n");
        let trimmed = normalised.trim();
        if trimmed.is_empty() {
            return Err(DomainError::EmptyText { field });
        }
        let mut length = 0;
        for (index, character) in trimmed.chars().enumerate() {
            length += 1;
            if character.is_control() && character != '\n' && character != '\t' {
                return Err(DomainError::ControlCharacter {
                    field,
                    code_point: u32::from(character),
                    position: index + 1,
                });
            }
        }
        if length > Self::MAX_CHARACTERS {
            return Err(DomainError::TextTooLong {
                field,
                length,
                max: Self::MAX_CHARACTERS,
            });
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NonEmptyText {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl TryFrom<String> for NonEmptyText {
    type Error = DomainError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<NonEmptyText> for String {
    fn from(text: NonEmptyText) -> Self {
        text.0
    }
}

impl AsRef<str> for NonEmptyText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An organisation code or slug: 1 to 64 characters of ASCII lowercase
/// letters, digits and '-', starting with a letter or digit.
///
/// Surrounding whitespace is ignored. Upper case is rejected rather than
/// folded, so that a code is always written the same way where it is typed
/// and where it is stored; the error says which lowercase code to use.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Code(String);

impl Code {
    /// The longest code accepted, in characters.
    pub const MAX_CHARACTERS: usize = 64;

    /// Reads a code.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let trimmed = raw.trim();
        let invalid = |rule: String| DomainError::InvalidCode {
            value: shorten(trimmed),
            rule,
        };
        let Some(first) = trimmed.chars().next() else {
            return Err(invalid("a code needs at least one character".to_owned()));
        };
        let length = trimmed.chars().count();
        if length > Self::MAX_CHARACTERS {
            return Err(invalid(format!(
                "it is {length} characters long; the limit is {} characters",
                Self::MAX_CHARACTERS
            )));
        }
        if trimmed
            .chars()
            .any(|character| character.is_ascii_uppercase())
            && trimmed
                .chars()
                .all(|character| is_code_character(character.to_ascii_lowercase()))
        {
            return Err(invalid(format!(
                "codes are lowercase; use {:?}",
                trimmed.to_ascii_lowercase()
            )));
        }
        if let Some(character) = trimmed.chars().find(|&c| !is_code_character(c)) {
            return Err(invalid(format!(
                "{character:?} is not allowed; use only lowercase letters a-z, digits and '-'"
            )));
        }
        if first == '-' {
            return Err(invalid(
                "a code must start with a letter or digit".to_owned(),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether a character may appear in a [`Code`].
fn is_code_character(character: char) -> bool {
    character.is_ascii_lowercase() || character.is_ascii_digit() || character == '-'
}

impl fmt::Display for Code {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl TryFrom<String> for Code {
    type Error = DomainError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Code> for String {
    fn from(code: Code) -> Self {
        code.0
    }
}

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as ValueError, StringDeserializer};

    use super::*;

    #[test]
    fn text_is_trimmed() {
        let text = NonEmptyText::parse("  Chest X-ray triage \n").unwrap();
        assert_eq!(text.as_str(), "Chest X-ray triage");
        assert_eq!(text.to_string(), "Chest X-ray triage");
    }

    #[test]
    fn blank_text_is_rejected_with_the_field_name() {
        assert_eq!(
            NonEmptyText::parse_field("rationale", " \t\n "),
            Err(DomainError::EmptyText { field: "rationale" })
        );
        assert_eq!(
            NonEmptyText::parse("").unwrap_err().to_string(),
            "text is empty; a non-blank value is required"
        );
    }

    #[test]
    fn line_breaks_and_tabs_are_kept_and_windows_line_endings_are_normalised() {
        let text = NonEmptyText::parse("first line\r\nsecond\tcolumn").unwrap();
        assert_eq!(text.as_str(), "first line\nsecond\tcolumn");
    }

    #[test]
    fn other_control_characters_are_rejected_with_their_position() {
        assert_eq!(
            NonEmptyText::parse_field("product name", "ab\u{7}c"),
            Err(DomainError::ControlCharacter {
                field: "product name",
                code_point: 7,
                position: 3,
            })
        );
        assert!(NonEmptyText::parse("lone\rcarriage return").is_err());
        assert!(NonEmptyText::parse("escape \u{1b}[31m").is_err());
        assert!(NonEmptyText::parse("delete \u{7f}").is_err());
        assert!(NonEmptyText::parse("c1 \u{85} control").is_err());
    }

    #[test]
    fn text_length_is_counted_in_characters_after_trimming() {
        let exactly = "é".repeat(NonEmptyText::MAX_CHARACTERS);
        assert!(NonEmptyText::parse(&format!("  {exactly}  ")).is_ok());
        let over = "a".repeat(NonEmptyText::MAX_CHARACTERS + 1);
        assert_eq!(
            NonEmptyText::parse(&over),
            Err(DomainError::TextTooLong {
                field: "text",
                length: 4001,
                max: 4000,
            })
        );
    }

    #[test]
    fn codes_accept_lowercase_letters_digits_and_hyphens() {
        for raw in ["rw3", "nhs-england", "7a1", "a", "x-", "trust--1"] {
            assert_eq!(Code::parse(raw).unwrap().as_str(), raw);
        }
        assert_eq!(Code::parse(" rw3 ").unwrap().as_str(), "rw3");
        assert!(Code::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn codes_reject_everything_else_with_a_reason() {
        assert_eq!(
            Code::parse("RW3").unwrap_err().to_string(),
            "code \"RW3\" is invalid: codes are lowercase; use \"rw3\""
        );
        assert_eq!(
            Code::parse("").unwrap_err().to_string(),
            "code \"\" is invalid: a code needs at least one character"
        );
        assert_eq!(
            Code::parse("-rw3").unwrap_err().to_string(),
            "code \"-rw3\" is invalid: a code must start with a letter or digit"
        );
        assert_eq!(
            Code::parse("rw 3").unwrap_err().to_string(),
            "code \"rw 3\" is invalid: ' ' is not allowed; use only lowercase letters a-z, digits and '-'"
        );
        assert!(Code::parse("rw_3").is_err());
        assert!(Code::parse("rwé").is_err());
        assert!(
            Code::parse(&"a".repeat(65))
                .unwrap_err()
                .to_string()
                .contains("65 characters long")
        );
    }

    #[test]
    fn deserialising_goes_through_parse() {
        let deserializer: StringDeserializer<ValueError> = "  rw3 ".to_owned().into_deserializer();
        assert_eq!(Code::deserialize(deserializer).unwrap().as_str(), "rw3");
        let deserializer: StringDeserializer<ValueError> = "RW3".to_owned().into_deserializer();
        assert!(Code::deserialize(deserializer).is_err());
        let deserializer: StringDeserializer<ValueError> = "   ".to_owned().into_deserializer();
        assert!(NonEmptyText::deserialize(deserializer).is_err());
        assert_eq!(String::from(Code::parse("rw3").unwrap()), "rw3");
    }
}
