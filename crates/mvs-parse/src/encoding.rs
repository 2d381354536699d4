//! File bytes to text: UTF-8 with or without a byte-order mark, and UTF-16
//! (little or big endian) announced by its byte-order mark. A file without a
//! mark is read as UTF-8, invalid sequences replaced; UTF-16 without a mark
//! has NUL bytes and is classified binary by the caller.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// How a file's bytes encode its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextEncoding {
    /// UTF-8 without a byte-order mark (the reading of any file that has
    /// none; invalid sequences become U+FFFD).
    Utf8,
    /// UTF-8 after its 3-byte byte-order mark (`EF BB BF`).
    Utf8Bom,
    /// UTF-16 little endian after its byte-order mark (`FF FE`).
    Utf16Le,
    /// UTF-16 big endian after its byte-order mark (`FE FF`).
    Utf16Be,
}

impl TextEncoding {
    /// Bytes of the byte-order mark the encoding was recognised by.
    pub fn bom_len(self) -> usize {
        match self {
            TextEncoding::Utf8 => 0,
            TextEncoding::Utf8Bom => 3,
            TextEncoding::Utf16Le | TextEncoding::Utf16Be => 2,
        }
    }
}

/// A file's text, decoded, without its byte-order mark.
///
/// Chunk positions refer to this text. Lines are the file's lines in every
/// encoding (decoding keeps each line break where it was). Byte offsets
/// index [`SourceText::text`]: for UTF-8 without a mark they are file
/// offsets; with a mark, file offsets minus its 3 bytes; for UTF-16 they are
/// offsets into the UTF-8 text, not into the file. Whoever compares stored
/// chunks with a file on disk (staleness, reading a chunk back by bytes)
/// decodes the file with [`decode_source`] first.
#[derive(Debug, Clone)]
pub struct SourceText<'a> {
    /// The text; borrowed from the file's bytes when they were valid UTF-8.
    pub text: Cow<'a, str>,
    /// The encoding it was read in.
    pub encoding: TextEncoding,
    /// Some bytes were invalid in that encoding and became U+FFFD.
    pub lossy: bool,
}

/// Decodes a file's bytes (see [`TextEncoding`] for what is recognised).
pub fn decode_source(bytes: &[u8]) -> SourceText<'_> {
    if let Some(body) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return utf8(body, TextEncoding::Utf8Bom);
    }
    if let Some(body) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(body, TextEncoding::Utf16Le, u16::from_le_bytes);
    }
    if let Some(body) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(body, TextEncoding::Utf16Be, u16::from_be_bytes);
    }
    utf8(bytes, TextEncoding::Utf8)
}

fn utf8(body: &[u8], encoding: TextEncoding) -> SourceText<'_> {
    let (text, lossy) = match std::str::from_utf8(body) {
        Ok(text) => (Cow::Borrowed(text), false),
        Err(_) => (String::from_utf8_lossy(body), true),
    };
    SourceText { text, encoding, lossy }
}

fn utf16(body: &[u8], encoding: TextEncoding, unit: fn([u8; 2]) -> u16) -> SourceText<'static> {
    // An odd trailing byte is half a code unit: invalid.
    let odd = body.len() % 2 == 1;
    let mut lossy = odd;
    let mut text = String::with_capacity(body.len());
    for decoded in char::decode_utf16(body.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]))) {
        text.push(decoded.unwrap_or_else(|_| {
            lossy = true;
            char::REPLACEMENT_CHARACTER
        }));
    }
    if odd {
        text.push(char::REPLACEMENT_CHARACTER);
    }
    SourceText {
        text: Cow::Owned(text),
        encoding,
        lossy,
    }
}
