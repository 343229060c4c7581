//! The governance pack of a deployment: everything a board needs to decide
//! whether to buy, go live, scale or stop, in one document.
//!
//! [`gather`] reads a deployment's procurement assessments, validations,
//! hazard log and safety case, monitoring rules, charts and alerts,
//! productivity audit, decisions with their sign-offs, and the audit
//! chain's checkpoint from the store, into a [`Pack`]: a format-neutral
//! document of sections, paragraphs, tables and charts. [`html`] renders it
//! as a self-contained page and [`pdf`] typesets it with Typst (as a
//! library, with its bundled fonts).
//!
//! The pack is made from stored inputs only: its date is the audit chain's
//! head, not the clock, so the same database gives the same bytes.

mod gather;
mod html;
mod pdf;

pub use gather::gather;
pub use html::html;
pub use pdf::{PdfError, pdf};

use serde::Serialize;

/// A governance pack, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pack {
    /// "Governance pack: ChestFlag 2.3.0 at Main Hospital".
    pub title: String,
    /// The deployment's number.
    pub deployment: i64,
    /// What the pack reflects: "the registry as recorded up to audit entry
    /// N, 2026-11-30 17:04 UTC".
    pub as_of: String,
    /// The audit head's time, as an RFC 3339 UTC timestamp: the PDF's
    /// creation date.
    pub as_of_timestamp: String,
    /// The key facts shown first, as (label, value).
    pub facts: Vec<(String, String)>,
    pub sections: Vec<Section>,
}

/// A numbered part of the pack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub title: String,
    /// The parts of the section, in order.
    pub blocks: Vec<Block>,
}

/// A piece of a section.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    /// A paragraph of plain text.
    Paragraph { text: String },
    /// A sub-heading within the section.
    Heading { text: String },
    /// A list of plain-text items.
    List { items: Vec<String> },
    /// A table; `widths` are the columns' relative widths.
    Table {
        caption: String,
        header: Vec<String>,
        widths: Vec<u32>,
        rows: Vec<Vec<String>>,
    },
    /// A chart: `file` names it within the pack, `svg` is the drawing.
    Chart {
        file: String,
        caption: String,
        svg: String,
    },
}

impl Block {
    fn paragraph(text: impl Into<String>) -> Block {
        Block::Paragraph { text: text.into() }
    }

    fn heading(text: impl Into<String>) -> Block {
        Block::Heading { text: text.into() }
    }

    fn table(caption: impl Into<String>, header: &[(&str, u32)], rows: Vec<Vec<String>>) -> Block {
        Block::Table {
            caption: caption.into(),
            header: header.iter().map(|(name, _)| (*name).to_owned()).collect(),
            widths: header.iter().map(|(_, width)| *width).collect(),
            rows,
        }
    }
}
