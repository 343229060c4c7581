//! The pack as one self-contained HTML page (inline style and SVG charts).

use std::fmt::Write;

use vigil_reports::{STYLE, escape};

use crate::{Block, Pack};

/// Renders the pack as HTML.
pub fn html(pack: &Pack) -> String {
    let mut page = String::with_capacity(64 * 1024);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}\
         .pack-toc li {{ margin: .1rem 0; }} figure.chart {{ margin: .8rem 0; }} figcaption {{ color: #444; font-size: .9rem; }}\
         </style></head><body><h1>{title}</h1><p class=\"note\">Deployment {deployment}; made from {as_of}.</p><dl>",
        title = escape(&pack.title),
        deployment = pack.deployment,
        as_of = escape(&pack.as_of),
    );
    for (label, value) in &pack.facts {
        let _ = write!(page, "<dt>{}</dt><dd>{}</dd>", escape(label), escape(value));
    }
    page.push_str("</dl><nav><ol class=\"pack-toc\">");
    for (index, section) in pack.sections.iter().enumerate() {
        let _ = write!(
            page,
            "<li><a href=\"#section-{}\">{}</a></li>",
            index + 1,
            escape(&section.title)
        );
    }
    page.push_str("</ol></nav>");
    for (index, section) in pack.sections.iter().enumerate() {
        let _ = write!(
            page,
            "<section id=\"section-{}\"><h2>{}. {}</h2>",
            index + 1,
            index + 1,
            escape(&section.title)
        );
        for block in &section.blocks {
            render_block(&mut page, block);
        }
        page.push_str("</section>");
    }
    page.push_str("</body></html>\n");
    page
}

fn render_block(page: &mut String, block: &Block) {
    match block {
        Block::Paragraph { text } => {
            let _ = write!(page, "<p>{}</p>", escape(text));
        }
        Block::Heading { text } => {
            let _ = write!(page, "<h3>{}</h3>", escape(text));
        }
        Block::List { items } => {
            page.push_str("<ul>");
            for item in items {
                let _ = write!(page, "<li>{}</li>", escape(item));
            }
            page.push_str("</ul>");
        }
        Block::Table {
            caption,
            header,
            rows,
            ..
        } => {
            let _ = write!(
                page,
                "<table><caption class=\"note\">{}</caption><thead><tr>",
                escape(caption)
            );
            for name in header {
                let _ = write!(page, "<th scope=\"col\">{}</th>", escape(name));
            }
            page.push_str("</tr></thead><tbody>");
            for row in rows {
                page.push_str("<tr>");
                for cell in row {
                    let _ = write!(page, "<td>{}</td>", escape(cell));
                }
                page.push_str("</tr>");
            }
            page.push_str("</tbody></table>");
        }
        Block::Chart { caption, svg, .. } => {
            // The SVG is drawn by vigil-reports, whose text is escaped.
            let _ = write!(
                page,
                "<figure class=\"chart\">{svg}<figcaption>{}</figcaption></figure>",
                escape(caption)
            );
        }
    }
}
