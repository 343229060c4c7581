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
//! leaves every other check to the parser that follows. But it must read
//! every header exactly where and as dicom-rs will (unknown VRs as UN,
//! undefined lengths as sequences, item tags outside sequences as values),
//! or a length it never saw reaches the parser: the fuzz targets of
//! `fuzz/` found four such differences, kept as tests in
//! `tests/hostile.rs`. Check it again whenever dicom-rs is upgraded.

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::StandardDataDictionary;

/// The deepest nesting of sequences accepted. Structured reports nest
/// their content items a few levels deep (TID 1500 about six); nothing a
/// modality or an AI tool writes comes near this.
pub const MAX_NESTING: usize = 64;

/// The length that marks an undefined length.
const UNDEFINED: u32 = 0xFFFF_FFFF;

/// The value representations whose explicit-VR header has a 2-byte length;
/// every other, and any the standard does not know, has a 4-byte one.
const SHORT_VRS: [&[u8; 2]; 21] = [
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT", b"PN",
    b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US",
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
        walker.close_finished_containers()?;
    }
    Ok(Walk { pixel_data_at })
}

/// What an open container holds, as the parser reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    /// A sequence: item headers, or its delimiter.
    Items,
    /// An item: elements, or its delimiter.
    Elements,
    /// Encapsulated pixel data: fragments, or its delimiter.
    Fragments,
}

/// The position in the bytes and what is known about the context.
#[derive(Debug)]
struct Walker<'a> {
    bytes: &'a [u8],
    position: usize,
    encoding: Encoding,
    /// The open sequences, items and fragment lists, innermost last: what
    /// each holds and where it ends, or `None` for an undefined length
    /// (closed by a delimiter).
    containers: Vec<(Holds, Option<usize>)>,
}

impl<'a> Walker<'a> {
    fn new(bytes: &'a [u8], encoding: Encoding) -> Self {
        Walker {
            bytes,
            position: 0,
            encoding,
            containers: Vec::new(),
        }
    }

    /// Opens a sequence, an item or a fragment list; refuses nesting beyond
    /// [`MAX_NESTING`] sequences.
    fn open(&mut self, holds: Holds, end: Option<usize>) -> Result<(), String> {
        if self.containers.len() >= 2 * MAX_NESTING {
            return Err(format!(
                "sequences are nested more than {MAX_NESTING} deep at byte {}",
                self.position
            ));
        }
        self.containers.push((holds, end));
        Ok(())
    }

    /// Closes the defined-length containers the walk has reached the end
    /// of; an element that ran past its container's end is refused (the
    /// parser would read on from elsewhere than this walk).
    fn close_finished_containers(&mut self) -> Result<(), String> {
        while let Some((_, Some(end))) = self.containers.last() {
            if self.position < *end {
                break;
            }
            if self.position > *end {
                return Err(format!(
                    "an element runs past the end of its sequence or item (byte {end}) to byte {}",
                    self.position
                ));
            }
            self.containers.pop();
        }
        Ok(())
    }

    /// Closes the innermost container at its delimiter, which must be an
    /// undefined-length one holding what the delimiter ends.
    fn close_at_delimiter(
        &mut self,
        holds: &[Holds],
        tag: Tag,
        header_start: usize,
    ) -> Result<(), String> {
        match self.containers.last() {
            Some((open, None)) if holds.contains(open) => {
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

    /// Moves past a value of a defined length, checked against the bytes
    /// left.
    fn skip(&mut self, tag: Tag, header_start: usize, length: u32) -> Result<(), String> {
        self.check(tag, header_start, length)?;
        self.position += length as usize;
        Ok(())
    }

    /// Reads one header as the parser would in this context and moves past
    /// it, and past its value unless the value holds further headers (a
    /// sequence or an item). Returns the tag, the start of the value and
    /// the number of bytes skipped.
    fn element(&mut self) -> Result<(Tag, usize, usize), String> {
        let header_start = self.position;
        let group = self.u16()?;
        let element = self.u16()?;
        let tag = Tag(group, element);
        let context = self.containers.last().map(|(holds, _)| *holds);
        if matches!(context, Some(Holds::Items | Holds::Fragments)) {
            // Only item headers and the sequence's delimiter: a tag and a
            // 4-byte length.
            let length = self.u32()?;
            let start = self.position;
            return match (tag, context) {
                (Tag(0xFFFE, 0xE0DD), Some(holds)) => {
                    self.close_at_delimiter(&[holds], tag, header_start)?;
                    Ok((tag, start, 0))
                }
                (Tag(0xFFFE, 0xE000), Some(Holds::Fragments)) => {
                    if length == UNDEFINED {
                        return Err(format!(
                            "a pixel data fragment at byte {header_start} has an undefined length"
                        ));
                    }
                    self.skip(tag, header_start, length)?;
                    Ok((tag, start, length as usize))
                }
                (Tag(0xFFFE, 0xE000), _) => {
                    let end = if length == UNDEFINED {
                        None
                    } else {
                        self.check(tag, header_start, length)?;
                        Some(start + length as usize)
                    };
                    self.open(Holds::Elements, end)?;
                    Ok((tag, start, 0))
                }
                _ => Err(format!(
                    "({:04X},{:04X}) at byte {header_start} is not an item, where a sequence holds only items",
                    tag.0, tag.1
                )),
            };
        }
        if group == 0xFFFE {
            // Among elements, the parser reads a tag of group FFFE with a
            // 4-byte length and no VR: the item delimiter closes the item;
            // anything else is a value of unknown VR.
            let length = self.u32()?;
            let start = self.position;
            if element == 0xE00D {
                self.close_at_delimiter(&[Holds::Elements], tag, header_start)?;
                return Ok((tag, start, 0));
            }
            if length == UNDEFINED {
                self.open(Holds::Items, None)?;
                return Ok((tag, start, 0));
            }
            self.skip(tag, header_start, length)?;
            return Ok((tag, start, length as usize));
        }
        let (vr, length) = match self.encoding {
            Encoding::ImplicitLittle => (implicit_vr(tag), self.u32()?),
            Encoding::ExplicitLittle | Encoding::ExplicitBig => {
                let raw = self.take::<2>()?;
                // As dicom-rs reads it: a VR it does not know is UN, whose
                // length, like every VR's but the short ones', is 32 bits
                // after two reserved bytes.
                let length = if SHORT_VRS.contains(&&raw) {
                    u32::from(self.u16()?)
                } else {
                    self.take::<2>()?;
                    self.u32()?
                };
                (VR::from_binary(raw).unwrap_or(VR::UN), length)
            }
        };
        let start = self.position;
        if vr == VR::SQ {
            let end = if length == UNDEFINED {
                None
            } else {
                self.check(tag, header_start, length)?;
                Some(start + length as usize)
            };
            self.open(Holds::Items, end)?;
            return Ok((tag, start, 0));
        }
        if length == UNDEFINED {
            // Encapsulated pixel data holds fragments; any other undefined
            // length is a sequence, whatever the VR says, as the parser
            // reads it.
            let holds = if is_pixel_data(tag) {
                Holds::Fragments
            } else {
                Holds::Items
            };
            self.open(holds, None)?;
            return Ok((tag, start, 0));
        }
        // dicom-rs reads a binary value as whole numbers and then skips
        // what it thinks it read, so a length that is not a multiple of
        // the number's size would make it read elsewhere than this walk
        // (the standard forbids such lengths anyway).
        if let Some(size) = number_size(vr)
            && !(length as usize).is_multiple_of(size)
        {
            return Err(format!(
                "element ({:04X},{:04X}) at byte {header_start} is {length} bytes long, not a whole number of its {} values of {size} bytes",
                tag.0,
                tag.1,
                vr.to_string()
            ));
        }
        self.skip(tag, header_start, length)?;
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

/// The VR dicom-rs gives an element of an implicit VR data set: OW for
/// pixel and overlay data, else the dictionary's, else UN.
fn implicit_vr(tag: Tag) -> VR {
    if is_pixel_data(tag) || (tag.0 >> 8 == 0x60 && tag.1 == 0x3000) {
        return VR::OW;
    }
    StandardDataDictionary
        .by_tag(tag)
        .map_or(VR::UN, |entry| entry.vr().relaxed())
}

/// The size of one value of a binary numeric VR.
fn number_size(vr: VR) -> Option<usize> {
    match vr {
        VR::US | VR::SS | VR::OW => Some(2),
        VR::UL | VR::SL | VR::FL | VR::AT | VR::OF | VR::OL => Some(4),
        VR::FD | VR::OD | VR::SV | VR::UV | VR::OV => Some(8),
        _ => None,
    }
}
