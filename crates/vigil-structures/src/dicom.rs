//! Reading DICOM files with dicom-rs and typed access to their attributes.
//!
//! Every accessor names the attribute and the place it was looked for in its
//! error, so a message says exactly what is wrong with which file.

use std::path::Path;

use dicom_core::Tag;
use dicom_object::InMemDicomObject;
use vigil_dicom::{ReadError, ReadLimits};

use crate::StructuresError;

/// A DICOM data set (the root of a file or an item of a sequence).
pub(crate) type Object = InMemDicomObject;

/// Parses a whole DICOM Part 10 file held in memory (with or without its
/// 128-byte preamble, or a bare implicit VR little endian data set) through
/// `vigil-dicom`'s bounded reader. `stop_before_pixel_data` leaves the
/// pixel data and everything after it unread.
pub(crate) fn parse_bytes(
    bytes: &[u8],
    what: &str,
    stop_before_pixel_data: bool,
) -> Result<Object, StructuresError> {
    vigil_dicom::parse_part10(bytes, ReadLimits::default(), stop_before_pixel_data)
        .map(|file| file.data_set)
        .map_err(|error| StructuresError::NotDicom {
            what: what.to_owned(),
            reason: match error {
                ReadError::Malformed(reason) => reason,
                other => other.to_string(),
            },
        })
}

/// Reads and parses a DICOM file.
pub(crate) fn read_file(
    path: &Path,
    stop_before_pixel_data: bool,
) -> Result<Object, StructuresError> {
    let bytes = std::fs::read(path).map_err(|source| StructuresError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_bytes(&bytes, &path.display().to_string(), stop_before_pixel_data)
}

/// The text of an attribute, trimmed of padding spaces and NULs; `None` when
/// the attribute is absent or empty.
pub(crate) fn text(
    object: &Object,
    tag: Tag,
    attribute: &'static str,
    what: &str,
) -> Result<Option<String>, StructuresError> {
    let Some(element) = object.get(tag) else {
        return Ok(None);
    };
    let value = element
        .to_str()
        .map_err(|error| invalid(what, attribute, format!("is not text: {error}")))?;
    let trimmed = value.trim_matches(|c: char| c == ' ' || c == '\0');
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

/// The text of a required attribute.
pub(crate) fn required_text(
    object: &Object,
    tag: Tag,
    attribute: &'static str,
    what: &str,
) -> Result<String, StructuresError> {
    text(object, tag, attribute, what)?.ok_or_else(|| missing(what, attribute))
}

/// The numbers of a decimal or binary numeric attribute; `None` when absent
/// or empty. Every number must be finite.
pub(crate) fn numbers(
    object: &Object,
    tag: Tag,
    attribute: &'static str,
    what: &str,
) -> Result<Option<Vec<f64>>, StructuresError> {
    let values = any_numbers(object, tag, attribute, what)?;
    if values.iter().flatten().any(|value| !value.is_finite()) {
        return Err(invalid(
            what,
            attribute,
            "holds a value that is not finite".to_owned(),
        ));
    }
    Ok(values)
}

/// The numbers of a numeric attribute, which may include NaN or infinity;
/// `None` when absent or empty.
pub(crate) fn any_numbers(
    object: &Object,
    tag: Tag,
    attribute: &'static str,
    what: &str,
) -> Result<Option<Vec<f64>>, StructuresError> {
    let Some(element) = object.get(tag) else {
        return Ok(None);
    };
    if element.header().len.0 == 0 {
        return Ok(None);
    }
    let values = element.to_multi_float64().map_err(|error| {
        invalid(
            what,
            attribute,
            format!("is not a list of numbers: {error}"),
        )
    })?;
    Ok((!values.is_empty()).then_some(values))
}

/// Exactly `N` numbers of a required attribute.
pub(crate) fn fixed_numbers<const N: usize>(
    object: &Object,
    tag: Tag,
    attribute: &'static str,
    what: &str,
) -> Result<[f64; N], StructuresError> {
    let values = numbers(object, tag, attribute, what)?.ok_or_else(|| missing(what, attribute))?;
    values.try_into().map_err(|values: Vec<f64>| {
        invalid(
            what,
            attribute,
            format!("has {} values; {N} are required", values.len()),
        )
    })
}

/// One integer; `None` when absent or empty.
pub(crate) fn integer(
    object: &Object,
    tag: Tag,
    attribute: &'static str,
    what: &str,
) -> Result<Option<i64>, StructuresError> {
    let Some(element) = object.get(tag) else {
        return Ok(None);
    };
    if element.header().len.0 == 0 {
        return Ok(None);
    }
    element
        .to_int::<i64>()
        .map(Some)
        .map_err(|error| invalid(what, attribute, format!("is not an integer: {error}")))
}

/// One required integer.
pub(crate) fn required_integer(
    object: &Object,
    tag: Tag,
    attribute: &'static str,
    what: &str,
) -> Result<i64, StructuresError> {
    integer(object, tag, attribute, what)?.ok_or_else(|| missing(what, attribute))
}

/// The items of a sequence; empty when the sequence is absent.
pub(crate) fn items(object: &Object, tag: Tag) -> &[Object] {
    object
        .get(tag)
        .and_then(|element| element.items())
        .unwrap_or(&[])
}

/// The first item of a sequence, if any.
pub(crate) fn first_item(object: &Object, tag: Tag) -> Option<&Object> {
    items(object, tag).first()
}

/// A missing-attribute error.
pub(crate) fn missing(what: &str, attribute: &'static str) -> StructuresError {
    StructuresError::MissingAttribute {
        what: what.to_owned(),
        attribute,
    }
}

/// An invalid-attribute error.
pub(crate) fn invalid(what: &str, attribute: &'static str, reason: String) -> StructuresError {
    StructuresError::InvalidAttribute {
        what: what.to_owned(),
        attribute,
        reason,
    }
}
