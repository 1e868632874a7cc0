//! Payload encodings: what the user types into the publish box becomes bytes ([`encode`]), and
//! received bytes become something readable ([`render`]). Pure, so every rule is tested natively.

use std::fmt::Write as _;

use bytes::Bytes;

/// How the publish box's text is turned into payload bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Encoding {
    /// The text's UTF-8 bytes.
    #[default]
    Text,
    /// The text's UTF-8 bytes, after checking it is one valid JSON value.
    Json,
    /// Hexadecimal digit pairs; whitespace and a `0x` prefix are ignored.
    Hex,
    /// Standard base64 (RFC 4648 §4), padding optional, whitespace ignored.
    Base64,
}

impl Encoding {
    /// Every encoding, in menu order.
    pub const ALL: [Self; 4] = [Self::Text, Self::Json, Self::Hex, Self::Base64];

    /// The label shown in menus.
    pub fn label(self) -> &'static str {
        match self {
            Self::Text => "Text",
            Self::Json => "JSON",
            Self::Hex => "Hex",
            Self::Base64 => "Base64",
        }
    }
}

/// How received payload bytes are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// As UTF-8 text (invalid sequences shown as U+FFFD).
    #[default]
    Text,
    /// Pretty-printed JSON, or the text if it is not JSON.
    Json,
    /// Hexadecimal bytes, space separated.
    Hex,
}

impl View {
    /// Every view, in menu order.
    pub const ALL: [Self; 3] = [Self::Text, Self::Json, Self::Hex];

    /// The label shown in menus.
    pub fn label(self) -> &'static str {
        match self {
            Self::Text => "Text",
            Self::Json => "JSON",
            Self::Hex => "Hex",
        }
    }
}

/// Why the publish box's text is not a payload in the chosen encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// JSON encoding chosen but the text does not parse.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// A character that is not a hex digit.
    #[error("not hexadecimal: unexpected `{0}`")]
    HexDigit(char),
    /// An odd number of hex digits.
    #[error("hexadecimal needs an even number of digits")]
    HexOdd,
    /// A character outside the base64 alphabet, or misplaced padding.
    #[error("not base64: unexpected `{0}`")]
    Base64Char(char),
    /// A base64 length that no byte string encodes to.
    #[error("base64 text has a impossible length (one character too many)")]
    Base64Length,
}

/// Turns the publish box's `text` into payload bytes.
pub fn encode(text: &str, encoding: Encoding) -> Result<Bytes, PayloadError> {
    match encoding {
        Encoding::Text => Ok(Bytes::copy_from_slice(text.as_bytes())),
        Encoding::Json => serde_json::from_str::<serde::de::IgnoredAny>(text)
            .map(|_| Bytes::copy_from_slice(text.as_bytes()))
            .map_err(|e| PayloadError::Json(e.to_string())),
        Encoding::Hex => hex_decode(text).map(Bytes::from),
        Encoding::Base64 => base64_decode(text).map(Bytes::from),
    }
}

/// Shows `payload` in `view`.
pub fn render(payload: &[u8], view: View) -> String {
    match view {
        View::Text => String::from_utf8_lossy(payload).into_owned(),
        View::Json => serde_json::from_slice::<serde_json::Value>(payload)
            .ok()
            .and_then(|value| serde_json::to_string_pretty(&value).ok())
            .unwrap_or_else(|| String::from_utf8_lossy(payload).into_owned()),
        View::Hex => hex_encode(payload, " "),
    }
}

/// A one-line preview of at most `max_chars` characters, for log rows and the topic tree.
pub fn preview(payload: &[u8], max_chars: usize) -> String {
    match std::str::from_utf8(payload) {
        Ok(text) => {
            let mut line: String = text
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .take(max_chars)
                .collect();
            if text.chars().nth(max_chars).is_some() {
                line.push('…');
            }
            line
        }
        Err(_) => {
            let shown = &payload[..payload.len().min(max_chars / 3)];
            let mut line = format!("0x{}", hex_encode(shown, ""));
            if shown.len() < payload.len() {
                line.push('…');
            }
            line
        }
    }
}

/// Lower-case hex digits of `bytes`, joined by `separator`.
pub fn hex_encode(bytes: &[u8], separator: &str) -> String {
    let mut out = String::with_capacity(bytes.len() * (2 + separator.len()));
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}

fn hex_decode(text: &str) -> Result<Vec<u8>, PayloadError> {
    let trimmed = text.trim();
    let body = trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
        .unwrap_or(trimmed);
    let mut digits = Vec::with_capacity(body.len());
    for c in body.chars().filter(|c| !c.is_whitespace()) {
        let digit = c.to_digit(16).ok_or(PayloadError::HexDigit(c))?;
        digits.push(digit as u8);
    }
    if digits.len() % 2 == 1 {
        return Err(PayloadError::HexOdd);
    }
    Ok(digits
        .chunks(2)
        .map(|pair| pair[0] << 4 | pair[1])
        .collect())
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648 §4).
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Result<Vec<u8>, PayloadError> {
    let mut values = Vec::with_capacity(text.len());
    let mut padding = 0;
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        if c == '=' {
            padding += 1;
            continue;
        }
        // Data after padding means the padding was not at the end.
        if padding > 0 {
            return Err(PayloadError::Base64Char('='));
        }
        let value = BASE64
            .iter()
            .position(|&b| char::from(b) == c)
            .ok_or(PayloadError::Base64Char(c))?;
        values.push(value as u32);
    }
    if values.len() % 4 == 1 || padding > 2 {
        return Err(PayloadError::Base64Length);
    }
    let mut out = Vec::with_capacity(values.len() * 3 / 4);
    for chunk in values.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, v)| n | v << (18 - 6 * i));
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_encode(text: &str, encoding: Encoding, expected: Result<&[u8], PayloadError>) {
        let actual = encode(text, encoding);
        assert_eq!(
            actual.as_deref().map_err(Clone::clone),
            expected,
            "{text:?} as {encoding:?}"
        );
    }

    #[test]
    fn encodings() {
        check_encode("21.5", Encoding::Text, Ok(b"21.5"));
        check_encode("é", Encoding::Text, Ok("é".as_bytes()));
        check_encode(r#"{"t": 21.5}"#, Encoding::Json, Ok(br#"{"t": 21.5}"#));
        check_encode("21.5", Encoding::Json, Ok(b"21.5"));
        check_encode(
            "0xDE ad\nbe ef",
            Encoding::Hex,
            Ok(&[0xde, 0xad, 0xbe, 0xef]),
        );
        check_encode("", Encoding::Hex, Ok(b""));
        check_encode("abc", Encoding::Hex, Err(PayloadError::HexOdd));
        check_encode("zz", Encoding::Hex, Err(PayloadError::HexDigit('z')));
        check_encode("aGVsbG8=", Encoding::Base64, Ok(b"hello"));
        check_encode("aGVsbG8", Encoding::Base64, Ok(b"hello"));
        check_encode("aGVs\nbG8h", Encoding::Base64, Ok(b"hello!"));
        check_encode("aGVsbA==", Encoding::Base64, Ok(b"hell"));
        check_encode("a", Encoding::Base64, Err(PayloadError::Base64Length));
        check_encode(
            "aG=Vs",
            Encoding::Base64,
            Err(PayloadError::Base64Char('=')),
        );
        check_encode("a-b_", Encoding::Base64, Err(PayloadError::Base64Char('-')));
    }

    #[test]
    fn invalid_json_is_refused_with_the_parser_message() {
        let error = encode("{t: 1}", Encoding::Json).unwrap_err();
        assert!(
            matches!(&error, PayloadError::Json(m) if m.contains("line 1")),
            "{error}"
        );
    }

    #[test]
    fn base64_round_trips() {
        for len in 0..40u8 {
            let bytes: Vec<u8> = (0..len)
                .map(|i| i.wrapping_mul(37).wrapping_add(200))
                .collect();
            let text = base64_encode(&bytes);
            assert_eq!(text.len() % 4, 0);
            assert_eq!(encode(&text, Encoding::Base64).as_deref(), Ok(&bytes[..]));
            let hex = hex_encode(&bytes, " ");
            assert_eq!(encode(&hex, Encoding::Hex).as_deref(), Ok(&bytes[..]));
        }
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
    }

    #[test]
    fn views() {
        assert_eq!(render(b"21.5", View::Text), "21.5");
        assert_eq!(
            render(br#"{"t":1,"u":[2]}"#, View::Json),
            "{\n  \"t\": 1,\n  \"u\": [\n    2\n  ]\n}"
        );
        assert_eq!(render(b"not json", View::Json), "not json");
        assert_eq!(render(&[0, 255, 16], View::Hex), "00 ff 10");
        assert_eq!(render(&[0x61, 0xff], View::Text), "a\u{fffd}");
    }

    #[test]
    fn previews_are_one_bounded_line() {
        assert_eq!(preview(b"a\nb", 10), "a b");
        assert_eq!(preview(b"abcdef", 3), "abc…");
        assert_eq!(preview(b"abc", 3), "abc");
        assert_eq!(preview(&[0xff, 0, 1, 2], 6), "0xff00…");
    }
}
