//! A small NIfTI-1 reader for integer label maps (`.nii` and `.nii.gz`).
//!
//! Only what a label map needs is read: the 348-byte header (either byte
//! order), the dimensions, the voxel spacing (pixdim), the data type, the
//! scaling and the single-file voxel data. The patient orientation (qform,
//! sform) is not read. NIfTI-2 and two-file (`.hdr`/`.img`) images are
//! rejected with a clear message.
//!
//! NIfTI stores voxels with `i` fastest, then `j`, then `k`; the mask axes
//! `[z, y, x]` are `[k, j, i]`, so the flat order is the same and mask voxel
//! `(z, y, x)` is NIfTI voxel `(i = x, j = y, k = z)`. The spacing is
//! `[pixdim[3], pixdim[2], pixdim[1]]`.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use vigil_contours::{Mask, Spacing};

use crate::{MAX_VOXELS, Structure, StructureSet, StructuresError};

const HEADER_BYTES: usize = 348;

/// The NIfTI data types a label map may have: code, bytes per voxel, kind.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Unsigned,
    Signed,
    Float,
}

fn data_type(code: i16) -> Option<(usize, Kind, &'static str)> {
    Some(match code {
        2 => (1, Kind::Unsigned, "uint8"),
        4 => (2, Kind::Signed, "int16"),
        8 => (4, Kind::Signed, "int32"),
        16 => (4, Kind::Float, "float32"),
        64 => (8, Kind::Float, "float64"),
        256 => (1, Kind::Signed, "int8"),
        512 => (2, Kind::Unsigned, "uint16"),
        768 => (4, Kind::Unsigned, "uint32"),
        1024 => (8, Kind::Signed, "int64"),
        1280 => (8, Kind::Unsigned, "uint64"),
        _ => return None,
    })
}

/// Reads a NIfTI-1 label map: every distinct non-zero label becomes a
/// structure named `label-N` (numbered N), in increasing label order.
///
/// Gzip-compressed files (`.nii.gz`) are recognised by their content, not
/// their name. Labels must be whole numbers after scaling (scl_slope,
/// scl_inter); a float label such as 1.5 is an error. The number of
/// structures times the number of voxels may not exceed [`MAX_VOXELS`].
pub fn read_nifti_labels(path: impl AsRef<Path>) -> Result<StructureSet, StructuresError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| StructuresError::Io {
        path: path.to_owned(),
        source,
    })?;
    read_nifti_labels_from_bytes(&bytes, &path.display().to_string())
}

/// [`read_nifti_labels`] on bytes held in memory; `what` names them in errors.
pub fn read_nifti_labels_from_bytes(
    bytes: &[u8],
    what: &str,
) -> Result<StructureSet, StructuresError> {
    let invalid = |reason: String| StructuresError::InvalidNifti {
        what: what.to_owned(),
        reason,
    };
    let gzipped = bytes.starts_with(&[0x1f, 0x8b]);
    let mut stream: Box<dyn Read + '_> = if gzipped {
        Box::new(flate2::read::MultiGzDecoder::new(bytes))
    } else {
        Box::new(bytes)
    };
    let mut header = [0u8; HEADER_BYTES];
    read_exact(&mut stream, &mut header).map_err(|reason| {
        invalid(format!(
            "the 348-byte NIfTI-1 header cannot be read: {reason}"
        ))
    })?;
    let header = Header::parse(&header).map_err(invalid)?;
    let (bytes_per_voxel, kind, type_name) = data_type(header.datatype).ok_or_else(|| {
        invalid(format!(
            "datatype {} is not a supported integer or float type for a label map",
            header.datatype
        ))
    })?;
    let voxels = header
        .dims
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(d as u64));
    let [nx, ny, nz] = header.dims;
    // Masks allow at most 32,000 voxels along an axis, and the voxel data
    // (up to 8 bytes a voxel) at most MAX_VOXELS bytes: both checked before
    // anything is read into memory.
    let axes_fit = header.dims.iter().all(|&d| (d as u64) <= 32_000);
    let bytes_fit = voxels
        .and_then(|n| n.checked_mul(bytes_per_voxel as u64))
        .is_some_and(|bytes| bytes <= MAX_VOXELS);
    let voxels = match voxels {
        Some(n) if n <= MAX_VOXELS && axes_fit && bytes_fit => n as usize,
        _ => {
            return Err(StructuresError::TooLarge {
                what: "the NIfTI image",
                voxels: voxels.unwrap_or(u64::MAX),
                detail: format!(
                    "{nx} × {ny} × {nz} of {type_name}, at most 32,000 along an axis and {MAX_VOXELS} bytes of voxel data"
                ),
                max: MAX_VOXELS,
            });
        }
    };
    let spacing = Spacing::new(header.pixdim[2], header.pixdim[1], header.pixdim[0])
        .map_err(|error| invalid(format!("pixdim: {error}")))?;
    // Skip to the voxel data, then read exactly the voxels the header declares.
    let skip = header.vox_offset - HEADER_BYTES as u64;
    std::io::copy(&mut (&mut stream).take(skip), &mut std::io::sink()).map_err(|error| {
        invalid(format!(
            "the data before vox_offset cannot be read: {error}"
        ))
    })?;
    // The buffer grows with what the file actually holds, so a header that
    // declares more voxels than the file has costs no memory.
    let data_bytes = voxels * bytes_per_voxel;
    let mut data = Vec::new();
    (&mut stream)
        .take(data_bytes as u64)
        .read_to_end(&mut data)
        .map_err(|error| invalid(format!("the voxel data cannot be read: {error}")))?;
    if data.len() != data_bytes {
        return Err(invalid(format!(
            "the file holds {} bytes of voxel data but {nx} × {ny} × {nz} {type_name} voxels need {data_bytes}",
            data.len()
        )));
    }
    let scaled =
        header.scale_slope != 0.0 && (header.scale_slope != 1.0 || header.scale_intercept != 0.0);
    let label_of = |chunk: &[u8]| {
        let raw = decode(chunk, kind, header.big_endian);
        if scaled {
            raw * header.scale_slope + header.scale_intercept
        } else {
            raw
        }
    };
    // The first pass checks every label; the masks are built from the raw
    // data afterwards, so no decoded copy of the image is held.
    let mut distinct = BTreeSet::new();
    for (index, chunk) in data.chunks_exact(bytes_per_voxel).enumerate() {
        let value = label_of(chunk);
        if !(value.is_finite() && value.fract() == 0.0 && value.abs() < 9.0e15) {
            return Err(StructuresError::NonIntegerLabel {
                what: what.to_owned(),
                index,
                value,
            });
        }
        if value != 0.0 && distinct.insert(value as i64) {
            let total = (distinct.len() as u64).saturating_mul(voxels as u64);
            if total > MAX_VOXELS {
                return Err(StructuresError::TooLarge {
                    what: "the NIfTI label masks",
                    voxels: total,
                    detail: format!("at least {} labels on {voxels} voxels", distinct.len()),
                    max: MAX_VOXELS,
                });
            }
        }
    }
    let dims = [nz, ny, nx];
    let mut structures = Vec::with_capacity(distinct.len());
    for label in distinct {
        let voxels = data
            .chunks_exact(bytes_per_voxel)
            .map(|chunk| label_of(chunk) == label as f64)
            .collect();
        let mask = Mask::new(dims, spacing, voxels).map_err(|source| StructuresError::Mask {
            what: format!("{what}, label {label}"),
            source: Box::new(source),
        })?;
        structures.push(Structure {
            name: format!("label-{label}"),
            number: label,
            mask,
        });
    }
    Ok(StructureSet {
        grid: None,
        structures,
        warnings: Vec::new(),
    })
}

/// The fields of a NIfTI-1 header that a label map needs.
#[derive(Debug)]
struct Header {
    big_endian: bool,
    dims: [usize; 3],
    datatype: i16,
    pixdim: [f64; 3],
    vox_offset: u64,
    scale_slope: f64,
    scale_intercept: f64,
}

impl Header {
    fn parse(raw: &[u8; HEADER_BYTES]) -> Result<Self, String> {
        let size_le = i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
        let size_be = i32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
        let big_endian = match (size_le, size_be) {
            (348, _) => false,
            (_, 348) => true,
            (540, _) | (_, 540) => {
                return Err("this is a NIfTI-2 file; only NIfTI-1 is read".to_owned());
            }
            _ => {
                return Err(format!(
                    "sizeof_hdr is {size_le}, not 348: this is not a NIfTI-1 file"
                ));
            }
        };
        let magic = &raw[344..348];
        if magic == b"ni1\0" {
            return Err(
                "this is a two-file NIfTI-1 header (.hdr/.img); use a single .nii or .nii.gz file"
                    .to_owned(),
            );
        }
        if magic != b"n+1\0" {
            return Err("the magic is not \"n+1\": this is not a NIfTI-1 file".to_owned());
        }
        let i16_at = |offset: usize| {
            let bytes = [raw[offset], raw[offset + 1]];
            if big_endian {
                i16::from_be_bytes(bytes)
            } else {
                i16::from_le_bytes(bytes)
            }
        };
        let f32_at = |offset: usize| {
            let bytes = [
                raw[offset],
                raw[offset + 1],
                raw[offset + 2],
                raw[offset + 3],
            ];
            f64::from(if big_endian {
                f32::from_be_bytes(bytes)
            } else {
                f32::from_le_bytes(bytes)
            })
        };
        let dim: Vec<i16> = (0..8).map(|n| i16_at(40 + 2 * n)).collect();
        let rank = dim[0];
        if !(1..=7).contains(&rank) {
            return Err(format!("dim[0] is {rank}; it must be between 1 and 7"));
        }
        let rank = rank as usize;
        for (axis, &extent) in dim.iter().enumerate().take(rank + 1).skip(1) {
            if extent < 1 {
                return Err(format!("dim[{axis}] is {extent}; it must be at least 1"));
            }
            if axis > 3 && extent != 1 {
                return Err(format!(
                    "dim[{axis}] is {extent}: a label map has three spatial dimensions and no time or other axis"
                ));
            }
        }
        let extent = |axis: usize| if axis <= rank { dim[axis] as usize } else { 1 };
        let dims = [extent(1), extent(2), extent(3)];
        let spacing = |axis: usize| {
            let value = f32_at(76 + 4 * axis).abs();
            // Axes beyond the rank have no meaningful pixdim: one millimetre.
            if axis > rank { 1.0 } else { value }
        };
        let pixdim = [spacing(1), spacing(2), spacing(3)];
        let vox_offset = f32_at(108);
        if !(vox_offset.is_finite() && vox_offset >= HEADER_BYTES as f64 && vox_offset < 1e12) {
            return Err(format!(
                "vox_offset is {vox_offset}; it must be at least 348 in a single-file NIfTI-1 image"
            ));
        }
        Ok(Self {
            big_endian,
            dims,
            datatype: i16_at(70),
            pixdim,
            vox_offset: vox_offset as u64,
            scale_slope: f32_at(112),
            scale_intercept: f32_at(116),
        })
    }
}

fn decode(chunk: &[u8], kind: Kind, big_endian: bool) -> f64 {
    let mut bytes = [0u8; 8];
    let n = chunk.len();
    if big_endian {
        bytes[8 - n..].copy_from_slice(chunk);
        bytes.reverse();
    } else {
        bytes[..n].copy_from_slice(chunk);
    }
    // `bytes` now holds the value little-endian in its first n bytes.
    match (kind, n) {
        (Kind::Unsigned, 1) => f64::from(bytes[0]),
        (Kind::Unsigned, 2) => f64::from(u16::from_le_bytes([bytes[0], bytes[1]])),
        (Kind::Unsigned, 4) => {
            f64::from(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        }
        (Kind::Unsigned, _) => u64::from_le_bytes(bytes) as f64,
        (Kind::Signed, 1) => f64::from(bytes[0] as i8),
        (Kind::Signed, 2) => f64::from(i16::from_le_bytes([bytes[0], bytes[1]])),
        (Kind::Signed, 4) => {
            f64::from(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        }
        (Kind::Signed, _) => i64::from_le_bytes(bytes) as f64,
        (Kind::Float, 4) => f64::from(f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
        (Kind::Float, _) => f64::from_le_bytes(bytes),
    }
}

fn read_exact(stream: &mut dyn Read, buffer: &mut [u8]) -> Result<(), String> {
    stream.read_exact(buffer).map_err(|error| error.to_string())
}
