//! The pack typeset as PDF by Typst, used as a library: the template
//! (`pack.typ`, compiled into the binary) reads the pack as JSON and its
//! charts as SVG from a virtual file system; the fonts are Typst's bundled
//! ones. Nothing is read from the machine and the PDF's dates come from the
//! pack, so the same pack always gives the same bytes.

use std::collections::HashMap;
use std::sync::LazyLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

use crate::{Block, Pack};

/// The template, in Typst markup.
const TEMPLATE: &str = include_str!("pack.typ");

/// Why a pack could not be typeset. Each is a defect of the template or
/// the engine, not of the stored data (which reach Typst only as JSON).
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the pack's data could not be written as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the pack's timestamp {0:?} is not an RFC 3339 UTC time")]
    Timestamp(String),
    #[error("typesetting failed: {0}")]
    Typeset(String),
}

/// Typst's standard library and the bundled fonts, loaded once.
struct Engine {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Engine {
        library: LazyHash::new(Library::builder().build()),
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

fn file_id(path: &str) -> FileId {
    // The paths are fixed names, so the global interner stays small.
    let virtual_path = VirtualPath::new(path).expect("a fixed, valid virtual path");
    RootedPath::new(VirtualRoot::Project, virtual_path).intern()
}

/// The world one pack is typeset in: the template, the pack as JSON and
/// its charts.
struct PackWorld {
    main: FileId,
    source: Source,
    files: HashMap<FileId, Bytes>,
    today: Datetime,
}

impl World for PackWorld {
    fn library(&self) -> &LazyHash<Library> {
        &ENGINE.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &ENGINE.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main {
            Ok(self.source.clone())
        } else {
            Err(FileError::NotSource)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files.get(&id).cloned().ok_or(FileError::AccessDenied)
    }

    fn font(&self, index: usize) -> Option<Font> {
        ENGINE.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}

fn describe(diagnostics: &[SourceDiagnostic]) -> String {
    diagnostics
        .iter()
        .map(|diagnostic| {
            let hints: Vec<&str> = diagnostic
                .hints
                .iter()
                .map(|hint| hint.v.as_str())
                .collect();
            if hints.is_empty() {
                diagnostic.message.to_string()
            } else {
                format!("{} ({})", diagnostic.message, hints.join("; "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Typesets the pack as PDF.
pub fn pdf(pack: &Pack) -> Result<Vec<u8>, PdfError> {
    let as_of: jiff::Timestamp = pack
        .as_of_timestamp
        .parse()
        .map_err(|_| PdfError::Timestamp(pack.as_of_timestamp.clone()))?;
    let utc = as_of.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    let narrow = |value: i8| u8::try_from(value).unwrap_or_default();
    let datetime = Datetime::from_ymd_hms(
        i32::from(utc.year()),
        narrow(utc.month()),
        narrow(utc.day()),
        narrow(utc.hour()),
        narrow(utc.minute()),
        narrow(utc.second()),
    )
    .ok_or_else(|| PdfError::Timestamp(pack.as_of_timestamp.clone()))?;
    let today = Datetime::from_ymd(
        i32::from(utc.year()),
        narrow(utc.month()),
        narrow(utc.day()),
    )
    .ok_or_else(|| PdfError::Timestamp(pack.as_of_timestamp.clone()))?;

    let mut files = HashMap::new();
    files.insert(file_id("/pack.json"), Bytes::new(serde_json::to_vec(pack)?));
    for section in &pack.sections {
        for block in &section.blocks {
            if let Block::Chart { file, svg, .. } = block {
                files.insert(
                    file_id(&format!("/charts/{file}")),
                    Bytes::from_string(svg.clone()),
                );
            }
        }
    }
    let main = file_id("/pack.typ");
    let world = PackWorld {
        main,
        source: Source::new(main, TEMPLATE.to_owned()),
        files,
        today,
    };
    let compiled = typst::compile::<PagedDocument>(&world).output;
    // Typst memoises across compilations; packs share little, so keep only
    // what the last few used (as Typst's own watcher does), or a server
    // making packs for months would hold them all.
    comemo::evict(10);
    let document = compiled.map_err(|errors| PdfError::Typeset(describe(&errors)))?;
    let options = typst_pdf::PdfOptions {
        ident: Smart::Custom(format!("vigil-governance-pack-{}", pack.deployment)),
        timestamp: Some(typst_pdf::Timestamp::new_utc(datetime)),
        ..typst_pdf::PdfOptions::default()
    };
    typst_pdf::pdf(&document, &options).map_err(|errors| PdfError::Typeset(describe(&errors)))
}
