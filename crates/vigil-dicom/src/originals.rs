//! Original files, kept only where a Trust configures it: a content-addressed
//! store on the server's disk, with a cap on each file and on the whole.
//!
//! Monitoring needs nothing of a received object but what [`crate::Instance`]
//! keeps, by pseudonyms. Some Trusts still want the objects themselves (to
//! look into a quarantined result, or to re-read a vendor's SR after a route
//! is corrected), so the server can keep each one as a Part 10 file named by
//! the SHA-256 of its bytes: `<directory>/ab/cd/abcd….dcm`. A name says
//! nothing of the patient, the same object sent twice is kept once, and a
//! file's name checks its content. The 128-byte preamble is always zeros, so
//! a file cannot double as an executable or a TIFF. Objects received over
//! DIMSE are written as Part 10 files with a file meta group of their own
//! (the negotiated transfer syntax, the command's SOP class and instance).
//!
//! The files are the objects as sent, identifiers included: the directory
//! is as sensitive as the PACS and must be protected as such.
//!
//! A file is written to a temporary name in the store, flushed to disk and
//! renamed into place, so a crash never leaves a partial file under a
//! content name.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// The implementation class UID written in the file meta group of objects
/// received over DIMSE (a UUID-derived UID under 2.25).
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.73841977419952674082390119762088972062";

/// The implementation version name written with it.
pub const IMPLEMENTATION_VERSION_NAME: &str = "VIGIL";

/// Where the originals go and how much they may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalsSettings {
    pub directory: PathBuf,
    /// A larger object is not kept.
    pub max_file_bytes: u64,
    /// Once the store holds this much, new objects are not kept.
    pub max_total_bytes: u64,
}

/// What became of one original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// Written now.
    Stored { sha256: String },
    /// The same bytes were kept before.
    AlreadyKept { sha256: String },
    /// Larger than a file may be: not kept.
    TooLarge { bytes: u64 },
    /// The store is full: not kept.
    Full,
}

impl Kept {
    /// The SHA-256 of the kept file, when it is kept.
    pub fn sha256(&self) -> Option<&str> {
        match self {
            Kept::Stored { sha256 } | Kept::AlreadyKept { sha256 } => Some(sha256),
            Kept::TooLarge { .. } | Kept::Full => None,
        }
    }
}

/// Why an original could not be kept (the disk, not the object).
#[derive(Debug, thiserror::Error)]
#[error("the original file store at {path}: {source}")]
pub struct OriginalsError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// The content-addressed store of original files; two are equal when they
/// have the same settings.
#[derive(Debug)]
pub struct Originals {
    settings: OriginalsSettings,
    /// The bytes the store holds; writes are serialised by this lock, so
    /// the cap holds under concurrent associations.
    used: Mutex<u64>,
}

impl PartialEq for Originals {
    fn eq(&self, other: &Self) -> bool {
        self.settings == other.settings
    }
}

impl Originals {
    /// Opens (creating if need be) the store's directory and counts what it
    /// holds.
    pub fn open(settings: OriginalsSettings) -> Result<Originals, OriginalsError> {
        let directory = &settings.directory;
        std::fs::create_dir_all(directory).map_err(|source| OriginalsError {
            path: directory.clone(),
            source,
        })?;
        let used = size_of_tree(directory)?;
        Ok(Originals {
            settings,
            used: Mutex::new(used),
        })
    }

    /// The bytes the store holds.
    pub fn used_bytes(&self) -> u64 {
        *self
            .used
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps a Part 10 file as sent, with its preamble zeroed.
    pub fn keep_part10(&self, file: &[u8]) -> Result<Kept, OriginalsError> {
        let mut bytes = file.to_vec();
        let preamble = bytes.len().min(128);
        bytes[..preamble].fill(0);
        self.keep(&bytes)
    }

    /// Keeps a data set received over DIMSE, as a Part 10 file.
    pub fn keep_data_set(
        &self,
        sop_class_uid: &str,
        sop_instance_uid: &str,
        transfer_syntax: &str,
        data_set: &[u8],
    ) -> Result<Kept, OriginalsError> {
        self.keep(&part10(
            sop_class_uid,
            sop_instance_uid,
            transfer_syntax,
            data_set,
        ))
    }

    fn keep(&self, bytes: &[u8]) -> Result<Kept, OriginalsError> {
        let size = bytes.len() as u64;
        if size > self.settings.max_file_bytes {
            return Ok(Kept::TooLarge { bytes: size });
        }
        let sha256 = hex::encode(Sha256::digest(bytes));
        let path = self.path_of(&sha256);
        let mut used = self
            .used
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if path.exists() {
            return Ok(Kept::AlreadyKept { sha256 });
        }
        if used.saturating_add(size) > self.settings.max_total_bytes {
            return Ok(Kept::Full);
        }
        let folder = path.parent().unwrap_or(&self.settings.directory);
        let failed = |source| OriginalsError {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(folder).map_err(failed)?;
        let mut temporary = tempfile::NamedTempFile::new_in(folder).map_err(failed)?;
        temporary.write_all(bytes).map_err(failed)?;
        temporary.as_file().sync_all().map_err(failed)?;
        temporary
            .persist(&path)
            .map_err(|error| failed(error.error))?;
        std::fs::File::open(folder)
            .and_then(|directory| directory.sync_all())
            .map_err(failed)?;
        *used += size;
        Ok(Kept::Stored { sha256 })
    }

    /// Where the file of a digest is: two levels of folders by its first
    /// four hexadecimal characters.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.settings
            .directory
            .join(&sha256[..2])
            .join(&sha256[2..4])
            .join(format!("{sha256}.dcm"))
    }
}

/// A Part 10 file of a data set: a zero preamble, `DICM`, and a file meta
/// group naming the SOP class and instance and the data set's transfer
/// syntax.
pub fn part10(
    sop_class_uid: &str,
    sop_instance_uid: &str,
    transfer_syntax: &str,
    data_set: &[u8],
) -> Vec<u8> {
    let mut meta = Vec::new();
    // File Meta Information Version: OB, a 4-byte length.
    meta.extend_from_slice(&[0x02, 0x00, 0x01, 0x00, b'O', b'B', 0, 0]);
    meta.extend_from_slice(&2u32.to_le_bytes());
    meta.extend_from_slice(&[0x00, 0x01]);
    for (element, vr, value) in [
        (0x0002u16, b"UI", sop_class_uid),
        (0x0003, b"UI", sop_instance_uid),
        (0x0010, b"UI", transfer_syntax),
        (0x0012, b"UI", IMPLEMENTATION_CLASS_UID),
        (0x0013, b"SH", IMPLEMENTATION_VERSION_NAME),
    ] {
        let mut value = value.trim_end_matches(['\0', ' ']).as_bytes().to_vec();
        if value.len() % 2 == 1 {
            value.push(if vr == b"UI" { 0 } else { b' ' });
        }
        meta.extend_from_slice(&0x0002u16.to_le_bytes());
        meta.extend_from_slice(&element.to_le_bytes());
        meta.extend_from_slice(vr);
        meta.extend_from_slice(&(value.len() as u16).to_le_bytes());
        meta.extend_from_slice(&value);
    }
    let mut file = vec![0u8; 128];
    file.extend_from_slice(b"DICM");
    // File Meta Information Group Length: UL, the bytes after it.
    file.extend_from_slice(&[0x02, 0x00, 0x00, 0x00, b'U', b'L', 4, 0]);
    file.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    file.extend_from_slice(&meta);
    file.extend_from_slice(data_set);
    file
}

/// The total size of the files under a folder.
fn size_of_tree(directory: &Path) -> Result<u64, OriginalsError> {
    let failed = |source| OriginalsError {
        path: directory.to_path_buf(),
        source,
    };
    let mut total = 0;
    for entry in std::fs::read_dir(directory).map_err(failed)? {
        let entry = entry.map_err(failed)?;
        let kind = entry.file_type().map_err(failed)?;
        if kind.is_dir() {
            total += size_of_tree(&entry.path())?;
        } else if kind.is_file() {
            total += entry.metadata().map_err(failed)?.len();
        }
    }
    Ok(total)
}
