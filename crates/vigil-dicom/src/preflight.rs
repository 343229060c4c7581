//! A walk over the element headers of a DICOM data set before it is parsed.
//!
//! The DICOM parser reserves a value's declared length before it reads the
//! value, so a file of a few hundred bytes declaring a 4 GiB string would make
//! it allocate 4 GiB, and it descends into nested sequences by recursion, so
//! a million nested sequences would overflow its stack. This walk visits
//! every element header (the file meta group, the data set, the items of
//! every sequence), rejects any declared length that runs past the end of
//! the bytes and any nesting deeper than [`MAX_NESTING`], and notes where
//! the top-level pixel data starts. It is deliberately simpler than a
//! parser: it reads tags, value representations and lengths only, and
//! leaves every other check to the parser that follows.

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry, VirtualVr};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::StandardDataDictionary;

/// The deepest nesting of sequences accepted. Structured reports nest
/// their content items a few levels deep (TID 1500 about six); nothing a
/// modality or an AI tool writes comes near this.
pub const MAX_NESTING: usize = 64;

/// The length that marks an undefined length.
const UNDEFINED: u32 = 0xFFFF_FFFF;

/// The value representations whose explicit-VR header has a 4-byte length.
const LONG_VRS: [&[u8; 2]; 13] = [
    b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV",
];

/// How a data set is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    ImplicitLittle,
    ExplicitLittle,
    ExplicitBig,
}

/// What the walk found out about a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Walk {
    /// Where the top-level Pixel Data element's header starts, if present.
    pub pixel_data_at: Option<usize>,
}

/// The file meta group of a Part 10 file (the bytes after `DICM`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MetaGroup {
    /// The Transfer Syntax UID, trimmed of padding.
    pub transfer_syntax: Option<String>,
    /// Where the data set starts.
    pub data_set_at: usize,
}

/// Walks the file meta group (always explicit VR little endian) of the
/// bytes after `DICM`, checking each declared length.
pub(crate) fn read_meta_group(body: &[u8]) -> Result<MetaGroup, String> {
    let mut walker = Walker::new(body, Encoding::ExplicitLittle);
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
    Ok(MetaGroup {
        transfer_syntax,
        data_set_at: walker.position,
    })
}

/// Checks every declared length and the nesting of a data set in the given
/// encoding. Returns the reason for the first problem.
pub(crate) fn check_data_set(bytes: &[u8], encoding: Encoding) -> Result<Walk, String> {
    let mut walker = Walker::new(bytes, encoding);
    let mut pixel_data_at = None;
    while walker.position < bytes.len() {
        let header_start = walker.position;
        let at_top = walker.containers.is_empty();
        let (tag, _, _) = walker.element()?;
        if at_top && is_pixel_data(tag) && pixel_data_at.is_none() {
            pixel_data_at = Some(header_start);
        }
        walker.close_finished_containers();
    }
    Ok(Walk { pixel_data_at })
}

/// The position in the bytes and what is known about the context.
#[derive(Debug)]
struct Walker<'a> {
    bytes: &'a [u8],
    position: usize,
    encoding: Encoding,
    /// Inside encapsulated pixel data, whose items are opaque fragments.
    in_fragments: bool,
    /// The open sequences and items, innermost last: where each ends, or
    /// `None` for an undefined length (closed by a delimiter).
    containers: Vec<Option<usize>>,
}

impl<'a> Walker<'a> {
    fn new(bytes: &'a [u8], encoding: Encoding) -> Self {
        Walker {
            bytes,
            position: 0,
            encoding,
            in_fragments: false,
            containers: Vec::new(),
        }
    }

    /// Opens a sequence or an item; refuses nesting beyond [`MAX_NESTING`]
    /// sequences.
    fn open(&mut self, end: Option<usize>) -> Result<(), String> {
        if self.containers.len() >= 2 * MAX_NESTING {
            return Err(format!(
                "sequences are nested more than {MAX_NESTING} deep at byte {}",
                self.position
            ));
        }
        self.containers.push(end);
        Ok(())
    }

    /// Closes the defined-length sequences and items the walk has reached
    /// the end of.
    fn close_finished_containers(&mut self) {
        while let Some(Some(end)) = self.containers.last() {
            if self.position < *end {
                break;
            }
            self.containers.pop();
        }
    }

    /// Closes the innermost undefined-length container at its delimiter.
    fn close_at_delimiter(&mut self, tag: Tag, header_start: usize) -> Result<(), String> {
        match self.containers.last() {
            Some(None) => {
                self.containers.pop();
                Ok(())
            }
            _ => Err(format!(
                "a delimiter ({:04X},{:04X}) at byte {header_start} closes nothing",
                tag.0, tag.1
            )),
        }
    }
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
            match element {
                0xE0DD if self.in_fragments => self.in_fragments = false,
                0xE0DD | 0xE00D => self.close_at_delimiter(tag, header_start)?,
                0xE000 if self.in_fragments => {
                    if length == UNDEFINED {
                        return Err(format!(
                            "a pixel data fragment at byte {header_start} has an undefined length"
                        ));
                    }
                    self.check(tag, header_start, length)?;
                    self.position += length as usize;
                    return Ok((tag, start, length as usize));
                }
                0xE000 if length == UNDEFINED => self.open(None)?,
                0xE000 => {
                    self.check(tag, header_start, length)?;
                    self.open(Some(start + length as usize))?;
                }
                _ => {}
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
            } else {
                self.open(None)?;
            }
            return Ok((tag, start, 0));
        }
        self.check(tag, header_start, length)?;
        let sequence = match vr {
            Some(vr) => &vr == b"SQ",
            None => is_sequence_in_dictionary(tag),
        };
        if sequence {
            self.open(Some(start + length as usize))?;
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
