//! A walk over the element headers of a DICOM file before it is parsed.
//!
//! The DICOM parser reserves a value's declared length before it reads the
//! value, so a file of a few hundred bytes declaring a 4 GiB string would make
//! it allocate 4 GiB. This walk visits every element header (the file meta
//! group, the data set, the items of every sequence) and rejects any declared
//! length that runs past the end of the bytes. It is deliberately simpler
//! than a parser: it reads tags, value representations and lengths only, and
//! leaves every other check to the parser that follows.

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry, VirtualVr};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::StandardDataDictionary;

/// The length that marks an undefined length.
const UNDEFINED: u32 = 0xFFFF_FFFF;

/// The value representations whose explicit-VR header has a 4-byte length.
const LONG_VRS: [&[u8; 2]; 13] = [
    b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV",
];

/// How the data set after the file meta group is encoded.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Encoding {
    ImplicitLittle,
    ExplicitLittle,
    ExplicitBig,
}

/// Checks every declared length of a DICOM file that starts with `DICM`
/// (the preamble already removed). Returns the reason for the first length
/// that runs past the end.
pub(crate) fn check_file_lengths(bytes: &[u8]) -> Result<(), String> {
    let body = bytes
        .get(4..)
        .ok_or_else(|| "the file ends inside the DICM prefix".to_owned())?;
    // The file meta group is always explicit VR little endian.
    let mut walker = Walker {
        bytes: body,
        position: 0,
        encoding: Encoding::ExplicitLittle,
        in_fragments: false,
    };
    let mut transfer_syntax = None;
    while walker.position + 4 <= body.len() {
        let group = u16::from_le_bytes([body[walker.position], body[walker.position + 1]]);
        if group != 0x0002 {
            break;
        }
        let (tag, start, length) = walker.element()?;
        if tag == Tag(0x0002, 0x0010) {
            let value = &body[start..start + length];
            let text = String::from_utf8_lossy(value);
            transfer_syntax = Some(text.trim_matches(|c| c == '\0' || c == ' ').to_owned());
        }
    }
    walker.encoding = match transfer_syntax.as_deref() {
        Some("1.2.840.10008.1.2") => Encoding::ImplicitLittle,
        Some("1.2.840.10008.1.2.2") => Encoding::ExplicitBig,
        // A deflated data set cannot be walked without inflating it; the
        // parser (built without deflate support) rejects it.
        Some("1.2.840.10008.1.2.1.99") => return Ok(()),
        _ => Encoding::ExplicitLittle,
    };
    while walker.position < body.len() {
        walker.element()?;
    }
    Ok(())
}

/// Checks every declared length of a bare implicit VR little endian data
/// set (no preamble, no file meta group).
pub(crate) fn check_data_set_lengths(bytes: &[u8]) -> Result<(), String> {
    let mut walker = Walker {
        bytes,
        position: 0,
        encoding: Encoding::ImplicitLittle,
        in_fragments: false,
    };
    while walker.position < bytes.len() {
        walker.element()?;
    }
    Ok(())
}

/// The position in the bytes and what is known about the context.
#[derive(Debug)]
struct Walker<'a> {
    bytes: &'a [u8],
    position: usize,
    encoding: Encoding,
    /// Inside encapsulated pixel data, whose items are opaque fragments.
    in_fragments: bool,
}

impl Walker<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let end = self
            .position
            .checked_add(N)
            .filter(|&end| end <= self.bytes.len());
        let Some(end) = end else {
            return Err(format!(
                "the file ends inside an element header at byte {}",
                self.position
            ));
        };
        let mut out = [0u8; N];
        out.copy_from_slice(&self.bytes[self.position..end]);
        self.position = end;
        Ok(out)
    }

    fn u16(&mut self) -> Result<u16, String> {
        let raw = self.take::<2>()?;
        Ok(match self.encoding {
            Encoding::ExplicitBig => u16::from_be_bytes(raw),
            _ => u16::from_le_bytes(raw),
        })
    }

    fn u32(&mut self) -> Result<u32, String> {
        let raw = self.take::<4>()?;
        Ok(match self.encoding {
            Encoding::ExplicitBig => u32::from_be_bytes(raw),
            _ => u32::from_le_bytes(raw),
        })
    }

    /// Reads one header and moves past it, and past its value unless the
    /// value holds further headers (a sequence or an item). Returns the tag,
    /// the start of the value and the number of bytes skipped.
    fn element(&mut self) -> Result<(Tag, usize, usize), String> {
        let header_start = self.position;
        let group = self.u16()?;
        let element = self.u16()?;
        let tag = Tag(group, element);
        if group == 0xFFFE {
            // Items and delimiters have a 4-byte length and no VR.
            let length = self.u32()?;
            let start = self.position;
            if element == 0xE0DD {
                self.in_fragments = false;
            } else if element == 0xE000 && length != UNDEFINED {
                self.check(tag, header_start, length)?;
                if self.in_fragments {
                    self.position += length as usize;
                    return Ok((tag, start, length as usize));
                }
            }
            return Ok((tag, start, 0));
        }
        let (vr, length) = match self.encoding {
            Encoding::ImplicitLittle => {
                let length = self.u32()?;
                (None, length)
            }
            Encoding::ExplicitLittle | Encoding::ExplicitBig => {
                let vr = self.take::<2>()?;
                let length = if LONG_VRS.contains(&&vr) {
                    self.take::<2>()?;
                    self.u32()?
                } else {
                    u32::from(self.u16()?)
                };
                (Some(vr), length)
            }
        };
        let start = self.position;
        if length == UNDEFINED {
            // An undefined length is a sequence, except for encapsulated
            // pixel data (OB or OW), whose items are fragments.
            let opaque = matches!(vr, Some(vr) if &vr == b"OB" || &vr == b"OW")
                || (vr.is_none() && is_pixel_data(tag));
            if opaque {
                self.in_fragments = true;
            }
            return Ok((tag, start, 0));
        }
        self.check(tag, header_start, length)?;
        let sequence = match vr {
            Some(vr) => &vr == b"SQ",
            None => is_sequence_in_dictionary(tag),
        };
        if sequence {
            return Ok((tag, start, 0));
        }
        self.position += length as usize;
        Ok((tag, start, length as usize))
    }

    fn check(&self, tag: Tag, header_start: usize, length: u32) -> Result<(), String> {
        let remaining = self.bytes.len() - self.position;
        if length as usize > remaining {
            return Err(format!(
                "element ({:04X},{:04X}) at byte {header_start} declares {length} bytes but only {remaining} remain",
                tag.0, tag.1
            ));
        }
        Ok(())
    }
}

fn is_pixel_data(tag: Tag) -> bool {
    tag == Tag(0x7FE0, 0x0010)
}

/// Whether the standard dictionary says the attribute is a sequence.
fn is_sequence_in_dictionary(tag: Tag) -> bool {
    StandardDataDictionary
        .by_tag(tag)
        .is_some_and(|entry| entry.vr() == VirtualVr::Exact(VR::SQ))
}
