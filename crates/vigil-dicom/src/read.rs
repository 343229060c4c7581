//! Parsing DICOM bytes from outside, with every declared length, the
//! nesting depth and any inflation bounded before dicom-rs sees them.
//!
//! Two shapes arrive: a Part 10 file (from DICOMweb, a folder, a test
//! fixture), with or without its 128-byte preamble, and a bare data set in
//! a negotiated transfer syntax (the data of a DIMSE C-STORE). Both end in
//! [`parse_data_set`]. A data set in the deflated transfer syntax is
//! inflated here, at most [`ReadLimits::max_inflated_bytes`], and then read
//! as explicit VR little endian; dicom-rs never inflates by itself.

use std::io::Read;

use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use crate::preflight::{self, Encoding};

/// A DICOM data set held in memory.
pub type Object = InMemDicomObject;

/// Implicit VR Little Endian, the default transfer syntax of DICOM.
pub const IMPLICIT_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2";
/// Explicit VR Little Endian.
pub const EXPLICIT_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1";
/// Deflated Explicit VR Little Endian.
pub const DEFLATED_EXPLICIT_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1.99";
/// Explicit VR Big Endian (retired, still sent by old modalities).
pub const EXPLICIT_BIG_ENDIAN: &str = "1.2.840.10008.1.2.2";

/// How much a reader may take from one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// The largest data set a deflated one may inflate to.
    pub max_inflated_bytes: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_inflated_bytes: 256 << 20,
        }
    }
}

/// Why bytes could not be read as DICOM. Each is a property of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The bytes are not DICOM, or are truncated, corrupt or hostile.
    #[error("not a readable DICOM object: {0}")]
    Malformed(String),
    /// The transfer syntax is not one this reader knows.
    #[error("the transfer syntax {0} is not supported")]
    UnsupportedTransferSyntax(String),
    /// A deflated data set inflates beyond the limit.
    #[error("the deflated data set inflates beyond {limit} bytes")]
    InflatesTooFar {
        /// The limit, in bytes.
        limit: usize,
    },
}

/// An object read from a Part 10 file.
#[derive(Debug, Clone)]
pub struct Part10 {
    /// The data set (without the file meta group).
    pub data_set: Object,
    /// The transfer syntax the data set was encoded in.
    pub transfer_syntax: String,
}

/// Whether the bytes start like a DICOM Part 10 file: a 128-byte preamble
/// followed by `DICM`.
pub fn has_dicom_magic(bytes: &[u8]) -> bool {
    bytes.get(128..132) == Some(b"DICM".as_slice())
}

/// Parses a whole DICOM Part 10 file held in memory, with or without its
/// 128-byte preamble; bytes without `DICM` are read as a bare implicit VR
/// little endian data set (older exports are written so).
/// `stop_before_pixel_data` leaves the pixel data and everything after it
/// unread.
pub fn parse_part10(
    bytes: &[u8],
    limits: ReadLimits,
    stop_before_pixel_data: bool,
) -> Result<Part10, ReadError> {
    let body = if has_dicom_magic(bytes) {
        &bytes[128..]
    } else {
        bytes
    };
    let Some(after_magic) = body.strip_prefix(b"DICM".as_slice()) else {
        // The first element of a data set is in group 0x0008 or later.
        let group = bytes.get(..2).map(|b| u16::from_le_bytes([b[0], b[1]]));
        if !group.is_some_and(|group| (0x0008..0x7FE1).contains(&group)) {
            return Err(ReadError::Malformed(
                "the DICM prefix is missing, and the bytes do not open with a data element either"
                    .to_owned(),
            ));
        }
        let data_set = parse_data_set(
            bytes,
            IMPLICIT_LITTLE_ENDIAN,
            limits,
            stop_before_pixel_data,
        )?;
        return Ok(Part10 {
            data_set,
            transfer_syntax: IMPLICIT_LITTLE_ENDIAN.to_owned(),
        });
    };
    let meta = preflight::read_meta_group(after_magic).map_err(ReadError::Malformed)?;
    let transfer_syntax = meta.transfer_syntax.ok_or_else(|| {
        ReadError::Malformed("the file meta group has no Transfer Syntax UID".to_owned())
    })?;
    let data_set = parse_data_set(
        &after_magic[meta.data_set_at..],
        &transfer_syntax,
        limits,
        stop_before_pixel_data,
    )?;
    Ok(Part10 {
        data_set,
        transfer_syntax,
    })
}

/// Parses a bare data set encoded in the given transfer syntax.
pub fn parse_data_set(
    bytes: &[u8],
    transfer_syntax: &str,
    limits: ReadLimits,
    stop_before_pixel_data: bool,
) -> Result<Object, ReadError> {
    let transfer_syntax = transfer_syntax.trim_end_matches(['\0', ' ']);
    if transfer_syntax == DEFLATED_EXPLICIT_LITTLE_ENDIAN {
        let inflated = inflate(bytes, limits.max_inflated_bytes)?;
        return parse_data_set(
            &inflated,
            EXPLICIT_LITTLE_ENDIAN,
            limits,
            stop_before_pixel_data,
        );
    }
    let registered = TransferSyntaxRegistry
        .get(transfer_syntax)
        .filter(|entry| entry.can_decode_dataset())
        .ok_or_else(|| ReadError::UnsupportedTransferSyntax(transfer_syntax.to_owned()))?;
    let encoding = match transfer_syntax {
        IMPLICIT_LITTLE_ENDIAN => Encoding::ImplicitLittle,
        EXPLICIT_BIG_ENDIAN => Encoding::ExplicitBig,
        // Every other standard syntax (the encapsulated ones included)
        // encodes its data set as explicit VR little endian.
        _ => Encoding::ExplicitLittle,
    };
    let walk = preflight::check_data_set(bytes, encoding).map_err(ReadError::Malformed)?;
    let bytes = match walk.pixel_data_at {
        Some(at) if stop_before_pixel_data => &bytes[..at],
        _ => bytes,
    };
    // An encapsulated syntax's data set is read without its pixel codec,
    // which is never needed here.
    Object::read_dataset_with_ts(bytes, registered)
        .map_err(|error| ReadError::Malformed(error.to_string()))
}

/// Inflates a raw deflate stream, refusing to go beyond `limit` bytes.
fn inflate(bytes: &[u8], limit: usize) -> Result<Vec<u8>, ReadError> {
    let mut inflated = Vec::new();
    let mut decoder = flate2::read::DeflateDecoder::new(bytes).take(limit as u64 + 1);
    decoder.read_to_end(&mut inflated).map_err(|error| {
        ReadError::Malformed(format!("the deflated data set is corrupt: {error}"))
    })?;
    if inflated.len() > limit {
        return Err(ReadError::InflatesTooFar { limit });
    }
    Ok(inflated)
}
