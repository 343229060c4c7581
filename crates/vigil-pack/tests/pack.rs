//! The governance pack of a deployment with a whole governance record: its
//! sections and their contents, the HTML page, and the PDF typeset by Typst
//! — the same bytes each time, a real document whose first page poppler
//! renders with ink on it and whose text holds what the pack says.
//!
//! poppler-utils (`pdftoppm`, `pdftotext`) come from Debian (`apt-get
//! install poppler-utils`, as `.ci/run` does); without them the rendering
//! test says so and passes, unless `VIGIL_REQUIRE_POPPLER` is set.

use std::process::Command;

use vigil_pack::{Block, Pack, gather, html, pdf};
use vigil_store::story::governed_deployment;
use vigil_store_sqlite::SqliteStore;

async fn governed_pack() -> (Pack, tempfile::TempDir) {
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(&directory.path().join("vigil.db"))
        .await
        .expect("open");
    let deployment = governed_deployment(&store).await;
    let pack = gather(&store, deployment).await.expect("the pack");
    store.close().await;
    (pack, directory)
}

fn section<'a>(pack: &'a Pack, title: &str) -> &'a [Block] {
    &pack
        .sections
        .iter()
        .find(|section| section.title == title)
        .unwrap_or_else(|| panic!("no section {title}"))
        .blocks
}

/// All the text of a section's blocks, one line each.
fn text_of(blocks: &[Block]) -> String {
    let mut text = String::new();
    for block in blocks {
        match block {
            Block::Paragraph { text: line } | Block::Heading { text: line } => {
                text.push_str(line);
                text.push('\n');
            }
            Block::List { items } => {
                for item in items {
                    text.push_str(item);
                    text.push('\n');
                }
            }
            Block::Table {
                caption,
                header,
                rows,
                widths,
            } => {
                assert_eq!(header.len(), widths.len(), "{caption}: a width per column");
                text.push_str(caption);
                text.push('\n');
                for row in rows {
                    assert_eq!(row.len(), header.len(), "{caption}: a cell per column");
                    text.push_str(&row.join(" | "));
                    text.push('\n');
                }
            }
            Block::Chart { caption, svg, .. } => {
                assert!(svg.starts_with("<svg"), "{caption}");
                text.push_str(caption);
                text.push('\n');
            }
        }
    }
    text
}

#[tokio::test]
async fn the_pack_holds_each_part_of_the_governance_record() {
    let (pack, _directory) = governed_pack().await;
    let titles: Vec<&str> = pack
        .sections
        .iter()
        .map(|section| section.title.as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "Procurement",
            "Local validation",
            "Clinical safety case",
            "Monitoring",
            "Productivity audit",
            "Decisions and sign-offs",
            "Audit chain checkpoint"
        ]
    );
    assert!(
        pack.title.starts_with("Governance pack: "),
        "{}",
        pack.title
    );
    assert!(
        pack.as_of
            .starts_with("the registry as recorded up to audit entry "),
        "{}",
        pack.as_of
    );
    let facts: Vec<&str> = pack.facts.iter().map(|(label, _)| label.as_str()).collect();
    assert!(facts.contains(&"Lifecycle state") && facts.contains(&"Intended purpose"));
    assert!(
        pack.facts
            .contains(&("Lifecycle state".to_owned(), "live".to_owned()))
    );

    for (title, expected) in [
        ("Procurement", "pass with 75.0% (pass mark 60%)"),
        ("Local validation", "0.930 (0.905 to 0.951)"),
        ("Local validation", "sensitivity 0.9000 >= 0.85 | met"),
        ("Clinical safety case", "concern(s) stand in the way"),
        ("Clinical safety case", "is under review"),
        ("Clinical safety case", "Missed pneumothorax"),
        ("Clinical safety case", "SOP-RAD-114 (outside Vigil)"),
        // Linking the alert revised the log after the signature.
        ("Clinical safety case", "Last signed by cso"),
        (
            "Clinical safety case",
            "the safety case needs signing again",
        ),
        (
            "Monitoring",
            "500 inference events from 2026-09-01 to 2026-10-06",
        ),
        ("Monitoring", "Rules in force: version 1"),
        ("Monitoring", "Positive rate by week"),
        ("Monitoring", "the positive rate doubled"),
        (
            "Productivity audit",
            "Flagged studies reported half an hour sooner",
        ),
        ("Decisions and sign-offs", "shadow → live"),
        ("Decisions and sign-offs", "clinical_safety_officer"),
        ("Audit chain checkpoint", "The audit chain was verified"),
    ] {
        let text = text_of(section(&pack, title));
        assert!(
            text.contains(expected),
            "{title} lacks {expected:?}:\n{text}"
        );
    }
    // The validation passed, so the hazard citing it is supported.
    let safety = text_of(section(&pack, "Clinical safety case"));
    assert!(safety.contains("passed its protocol"), "{safety}");
}

#[tokio::test]
async fn the_html_pack_is_one_self_contained_page() {
    let (pack, _directory) = governed_pack().await;
    let page = html(&pack);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(!page.contains("<script"), "no script");
    assert!(!page.contains("src=\"http"), "no external asset");
    assert_eq!(page.matches("<section id=\"section-").count(), 7);
    assert!(page.contains("<svg"), "the charts are inline");
    assert!(page.contains("Missed pneumothorax"));
    assert_eq!(page, html(&pack), "the same pack gives the same page");
}

#[test]
fn text_is_escaped_in_html_and_never_read_as_markup_in_the_pdf() {
    let hostile = "<script>alert(1)</script> #set page(width: 1pt) $x$ *bold* [link] \\ @ref";
    let pack = Pack {
        title: hostile.to_owned(),
        deployment: 7,
        as_of: "an empty registry".to_owned(),
        as_of_timestamp: "2026-11-30T12:00:00Z".to_owned(),
        facts: vec![(hostile.to_owned(), hostile.to_owned())],
        sections: vec![vigil_pack::Section {
            title: hostile.to_owned(),
            blocks: vec![
                Block::Paragraph {
                    text: hostile.to_owned(),
                },
                Block::Table {
                    caption: hostile.to_owned(),
                    header: vec!["A".to_owned(), "B".to_owned()],
                    widths: vec![1, 3],
                    rows: vec![vec![hostile.to_owned(), String::new()]],
                },
            ],
        }],
    };
    let page = html(&pack);
    assert!(!page.contains("<script>"), "escaped");
    assert!(page.contains("&lt;script&gt;"));
    let document = pdf(&pack).expect("typeset");
    assert!(document.starts_with(b"%PDF-"));
}

fn poppler_installed() -> bool {
    let found = Command::new("pdftoppm").arg("-v").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("VIGIL_REQUIRE_POPPLER").is_none(),
            "VIGIL_REQUIRE_POPPLER is set but poppler-utils' pdftoppm is not installed"
        );
        eprintln!(
            "skipping the PDF rendering check: poppler-utils is not installed (apt-get install poppler-utils)"
        );
    }
    found
}

#[tokio::test]
async fn the_pdf_is_byte_reproducible_and_its_first_page_renders_with_its_text() {
    let (pack, directory) = governed_pack().await;
    let first = pdf(&pack).expect("typeset");
    let second = pdf(&pack).expect("typeset again");
    assert!(first.starts_with(b"%PDF-"), "a PDF");
    assert!(first == second, "the same pack gives the same bytes");
    if !poppler_installed() {
        return;
    }
    let file = directory.path().join("pack.pdf");
    std::fs::write(&file, &first).expect("written");
    // Page 1 to a PNG at 50 dpi, then count the pixels that are not white.
    let prefix = directory.path().join("page");
    let rendered = Command::new("pdftoppm")
        .args(["-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&file)
        .arg(&prefix)
        .output()
        .expect("pdftoppm runs");
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let png = std::fs::File::open(prefix.with_extension("png")).expect("the page's PNG");
    let mut reader = png::Decoder::new(std::io::BufReader::new(png))
        .read_info()
        .expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let frame = reader.next_frame(&mut pixels).expect("a frame");
    let channels = frame.color_type.samples();
    let bytes = &pixels[..frame.buffer_size()];
    let total = bytes.len() / channels;
    let inked = bytes
        .chunks(channels)
        .filter(|pixel| pixel.iter().take(3).any(|&value| value < 200))
        .count();
    // An A4 page at 50 dpi is about 413 × 585 pixels; a page of text inks a
    // few per cent of them, a blank page none.
    assert!(
        frame.width > 400 && frame.height > 570,
        "{}×{}",
        frame.width,
        frame.height
    );
    assert!(
        inked * 100 > total,
        "page 1 is nearly blank: {inked} of {total} pixels inked"
    );
    // The text layer holds what the pack says.
    let text = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    let text = String::from_utf8_lossy(&text.stdout);
    for expected in [
        "Governance pack",
        "Procurement",
        "Clinical safety case",
        "Missed pneumothorax",
        "Audit chain checkpoint",
    ] {
        assert!(text.contains(expected), "the PDF's text lacks {expected:?}");
    }
    let pages = text.matches('\u{c}').count();
    assert!(pages >= 3, "{pages} pages");
}
