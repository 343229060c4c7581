//! Lenient typed access to the attributes of a data set.
//!
//! Objects from the network are often imperfect; an attribute that is
//! absent, empty or unreadable is `None` here, and the caller decides
//! whether it matters.

use dicom_core::Tag;
use dicom_core::value::{DicomDate, DicomTime};

use crate::read::Object;

/// The text of an attribute, trimmed of padding spaces and NULs; `None`
/// when absent, empty or not text.
pub fn text(object: &Object, tag: Tag) -> Option<String> {
    let value = object.get(tag)?.to_str().ok()?;
    let trimmed = value.trim_matches(|c: char| c == ' ' || c == '\0');
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// The first number of a numeric attribute, if it is finite.
pub fn number(object: &Object, tag: Tag) -> Option<f64> {
    let element = object.get(tag)?;
    if element.header().len.0 == 0 {
        return None;
    }
    element.to_float64().ok().filter(|value| value.is_finite())
}

/// The items of a sequence; empty when the sequence is absent.
pub fn items(object: &Object, tag: Tag) -> &[Object] {
    object
        .get(tag)
        .and_then(|element| element.items())
        .unwrap_or(&[])
}

/// The first item of a sequence, if any.
pub fn first_item(object: &Object, tag: Tag) -> Option<&Object> {
    items(object, tag).first()
}

/// A date attribute (DA) as a calendar date.
pub fn date(object: &Object, tag: Tag) -> Option<jiff::civil::Date> {
    let value: DicomDate = object.get(tag)?.to_date().ok()?;
    let year = i16::try_from(*value.year()).ok()?;
    let month = i8::try_from(*value.month()?).ok()?;
    let day = i8::try_from(*value.day()?).ok()?;
    jiff::civil::Date::new(year, month, day).ok()
}

/// A time attribute (TM) as a time of day; missing minutes or seconds
/// count as zero.
pub fn time(object: &Object, tag: Tag) -> Option<jiff::civil::Time> {
    let value: DicomTime = object.get(tag)?.to_time().ok()?;
    let hour = i8::try_from(*value.hour()).ok()?;
    let minute = value.minute().map_or(Some(0), |m| i8::try_from(*m).ok())?;
    let second = value.second().map_or(Some(0), |s| i8::try_from(*s).ok())?;
    jiff::civil::Time::new(hour, minute, second.min(59), 0).ok()
}
