//! `multipart/related` bodies (RFC 2387), as DICOMweb STOW-RS sends them:
//! one DICOM Part 10 file a part.
//!
//! The parser borrows the parts from the body (nothing is copied), accepts
//! at most [`MAX_PARTS`] parts and part headers of at most 8 KiB, and
//! names what is wrong when it refuses a body.

/// The most parts one body may hold.
pub const MAX_PARTS: usize = 10_000;

/// The longest header block of one part.
const MAX_PART_HEADERS: usize = 8 * 1024;

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    #[error("the content type is not multipart/related")]
    NotMultipartRelated,
    #[error("the content type names no boundary")]
    NoBoundary,
    #[error("the multipart type is {0:?}; only application/dicom parts are accepted")]
    UnsupportedType(String),
    #[error("the body does not start with its boundary")]
    NoFirstBoundary,
    #[error("part {0} has no end of its headers")]
    UnterminatedHeaders(usize),
    #[error("part {0} has headers longer than 8 KiB")]
    HeadersTooLong(usize),
    #[error("part {0} is not closed by a boundary")]
    UnterminatedPart(usize),
    #[error("the body holds more than {MAX_PARTS} parts")]
    TooManyParts,
}

/// One part: its declared content type and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    /// The part's Content-Type, lower-cased, without parameters.
    pub content_type: Option<String>,
    pub body: &'a [u8],
}

/// The longest boundary taken.
pub const MAX_BOUNDARY_LENGTH: usize = 200;

/// The boundary of a `multipart/related` content type whose `type`
/// parameter, if any, is `application/dicom`.
pub fn boundary(content_type: &str) -> Result<String, MultipartError> {
    let mut pieces = content_type.split(';');
    let media = pieces.next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("multipart/related") {
        return Err(MultipartError::NotMultipartRelated);
    }
    let mut boundary = None;
    for parameter in pieces {
        let Some((name, value)) = parameter.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        match name.trim().to_ascii_lowercase().as_str() {
            // RFC 2046 caps a boundary at 70 characters, but real senders
            // exceed it (Orthanc's DICOMweb client sends 73), so the cap
            // here only bounds the search.
            "boundary" if !value.is_empty() && value.len() <= MAX_BOUNDARY_LENGTH => {
                boundary = Some(value.to_owned());
            }
            "type" if !value.eq_ignore_ascii_case("application/dicom") => {
                return Err(MultipartError::UnsupportedType(value.to_owned()));
            }
            _ => {}
        }
    }
    boundary.ok_or(MultipartError::NoBoundary)
}

/// Splits a body into its parts.
pub fn parts<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, MultipartError> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    // The preamble before the first boundary is ignored (RFC 2046).
    let first = find(body, delimiter, 0).ok_or(MultipartError::NoFirstBoundary)?;
    let mut position = first + delimiter.len();
    let mut found = Vec::new();
    loop {
        // After a boundary: "--" ends the body, else a line break starts a part.
        if body[position..].starts_with(b"--") {
            return Ok(found);
        }
        let number = found.len() + 1;
        if number > MAX_PARTS {
            return Err(MultipartError::TooManyParts);
        }
        position = skip_line_end(body, position).ok_or(MultipartError::UnterminatedPart(number))?;
        let header_end = find(body, b"\r\n\r\n", position)
            .map(|end| (end, 4))
            .or_else(|| {
                // A part without headers starts with its blank line.
                body[position..]
                    .starts_with(b"\r\n")
                    .then_some((position, 2))
            })
            .ok_or(MultipartError::UnterminatedHeaders(number))?;
        if header_end.0 - position > MAX_PART_HEADERS {
            return Err(MultipartError::HeadersTooLong(number));
        }
        let headers = String::from_utf8_lossy(&body[position..header_end.0]);
        let content_type = headers.split("\r\n").find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim().eq_ignore_ascii_case("content-type").then(|| {
                value
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
        });
        let start = header_end.0 + header_end.1;
        let mut closing = Vec::with_capacity(delimiter.len() + 2);
        closing.extend_from_slice(b"\r\n");
        closing.extend_from_slice(delimiter);
        let end = find(body, &closing, start).ok_or(MultipartError::UnterminatedPart(number))?;
        found.push(Part {
            content_type,
            body: &body[start..end],
        });
        position = end + closing.len();
    }
}

/// Moves past a CRLF (or a bare LF, and any transport padding before it).
fn skip_line_end(body: &[u8], mut position: usize) -> Option<usize> {
    while body
        .get(position)
        .is_some_and(|byte| *byte == b' ' || *byte == b'\t')
    {
        position += 1;
    }
    if body[position..].starts_with(b"\r\n") {
        Some(position + 2)
    } else if body[position..].starts_with(b"\n") {
        Some(position + 1)
    } else {
        None
    }
}

/// The first occurrence of `needle` at or after `from`.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|offset| from + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_and_types_are_read_from_the_content_type() {
        let cases = [
            (
                "multipart/related; type=\"application/dicom\"; boundary=abc",
                Ok("abc".to_owned()),
            ),
            ("Multipart/Related; boundary=\"x y\"", Ok("x y".to_owned())),
            (
                "multipart/related; type=application/dicom+xml; boundary=a",
                Err(MultipartError::UnsupportedType(
                    "application/dicom+xml".to_owned(),
                )),
            ),
            (
                "multipart/mixed; boundary=a",
                Err(MultipartError::NotMultipartRelated),
            ),
            (
                "multipart/related; type=application/dicom",
                Err(MultipartError::NoBoundary),
            ),
        ];
        for (content_type, expected) in cases {
            assert_eq!(boundary(content_type), expected, "{content_type}");
        }
        // Orthanc's DICOMweb client sends boundaries longer than RFC 2046's
        // 70 characters; a boundary beyond the cap is no boundary.
        let orthanc = "714a5c45-38b4-4b14-8baf-419dbc5e3deb-714a5c45-38b4-4b14-8baf-419dbc5e3deb";
        let longest = "b".repeat(MAX_BOUNDARY_LENGTH);
        let too_long = "b".repeat(MAX_BOUNDARY_LENGTH + 1);
        for (value, expected) in [
            (orthanc, Ok(orthanc.to_owned())),
            (longest.as_str(), Ok(longest.clone())),
            (too_long.as_str(), Err(MultipartError::NoBoundary)),
        ] {
            let content_type =
                format!("multipart/related; type=\"application/dicom\"; boundary={value}");
            assert_eq!(boundary(&content_type), expected, "{value}");
        }
    }

    #[test]
    fn parts_are_split_and_refused_by_name() {
        let body = b"preamble\r\n--b\r\nContent-Type: application/dicom\r\n\r\nONE\r\n--b\r\n\r\nTWO\r\nwith a line\r\n--b--\r\n";
        let found = parts(body, "b").expect("parts");
        assert_eq!(
            found,
            [
                Part {
                    content_type: Some("application/dicom".to_owned()),
                    body: b"ONE"
                },
                Part {
                    content_type: None,
                    body: b"TWO\r\nwith a line"
                },
            ]
        );
        let cases: [(&[u8], MultipartError); 3] = [
            (b"no boundary at all", MultipartError::NoFirstBoundary),
            (
                b"--b\r\nContent-Type: application/dicom\r\n\r\nunclosed",
                MultipartError::UnterminatedPart(1),
            ),
            (
                b"--b\r\nContent-Type: application/dicom",
                MultipartError::UnterminatedHeaders(1),
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(parts(body, "b"), Err(expected));
        }
    }
}
