//! A byte cursor over the filter text with the token readers the parser needs. The
//! parser is scannerless: it asks for the token it expects at each point, which keeps
//! error messages precise and lets a bare (unquoted) value be read only where a value is
//! expected.
//!
//! Every reader stops only at ASCII bytes, so every slice taken is on a char boundary.

use serde_json::Value;

use super::FilterError;

/// Characters of an attribute-path word: name chars plus the URN (`:`), sub-attribute
/// (`.`) and `$ref` (`$`) separators.
pub(crate) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.' | b'$')
}

pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Bytes that end a bare (unquoted) value.
fn ends_bare(b: u8) -> bool {
    is_space(b) || matches!(b, b'(' | b')' | b'[' | b']')
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor<'a> {
    pub src: &'a str,
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Cursor { src, pos: 0 }
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    /// Skip whitespace; true if any was skipped.
    pub(crate) fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Consume `b` if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// The word (run of [`is_word_byte`]) starting here, without consuming it.
    pub(crate) fn peek_word(&self) -> &'a str {
        let bytes = self.src.as_bytes();
        let mut end = self.pos;
        while end < bytes.len() && is_word_byte(bytes[end]) {
            end += 1;
        }
        &self.src[self.pos..end]
    }

    /// Read the word starting here; empty if none.
    pub(crate) fn read_word(&mut self) -> &'a str {
        let w = self.peek_word();
        self.pos += w.len();
        w
    }

    /// Read a bare value: everything up to whitespace, a bracket or a parenthesis.
    pub(crate) fn read_bare(&mut self) -> &'a str {
        let bytes = self.src.as_bytes();
        let start = self.pos;
        while self.pos < bytes.len() && !ends_bare(bytes[self.pos]) {
            self.pos += 1;
        }
        &self.src[start..self.pos]
    }

    /// Read a JSON string literal starting at the `"` here (all JSON escapes, including
    /// `\uXXXX` surrogate pairs).
    pub(crate) fn read_string(&mut self) -> Result<String, FilterError> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let mut i = start + 1;
        loop {
            match bytes.get(i) {
                None => {
                    return Err(FilterError::new(
                        start,
                        format!(
                            "unterminated string {}: expected a closing `\"`",
                            excerpt(self.src, start)
                        ),
                    ));
                }
                Some(b'"') => break,
                // Skip the escaped byte; continuation bytes of UTF-8 are never `"`/`\`.
                Some(b'\\') => i += 2,
                Some(_) => i += 1,
            }
        }
        let end = i + 1;
        let literal = &self.src[start..end];
        match serde_json::from_str::<String>(literal) {
            // Postgres text cannot hold U+0000, so no stored value contains it; refusing it
            // here keeps the evaluator and both SQL dialects in agreement.
            Ok(s) if s.contains('\0') => Err(FilterError::new(
                start,
                format!("invalid string literal {}: U+0000 is not allowed", short(literal)),
            )),
            Ok(s) => {
                self.pos = end;
                Ok(s)
            }
            Err(e) => {
                let at = start + e.column().saturating_sub(1).min(literal.len());
                Err(FilterError::new(
                    at,
                    format!("invalid string literal {}: {}", short(literal), json_reason(&e)),
                ))
            }
        }
    }
}

/// serde_json's message without its " at line L column C" suffix.
fn json_reason(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.find(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Whether `token` is exactly a JSON number (RFC 8259 §6):
/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`; and whether it is an integer.
fn json_number_shape(token: &str) -> Option<bool> {
    let b = token.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return None,
    }
    let mut integer = true;
    if b.get(i) == Some(&b'.') {
        i += 1;
        integer = false;
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        integer = false;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    (i == b.len()).then_some(integer)
}

/// Parse a bare token as a JSON number, if it is one. Integers that fit `i64`/`u64` stay
/// exact; everything else becomes the correctly rounded `f64` (Rust's parser, not
/// serde_json's default fast path, which can be off by one ulp and would break the
/// `Display` round trip). Infinite results (`1e400`) are refused.
pub(crate) fn parse_number(token: &str) -> Option<Value> {
    let integer = json_number_shape(token)?;
    if integer {
        if let Ok(i) = token.parse::<i64>() {
            return Some(Value::from(i));
        }
        if let Ok(u) = token.parse::<u64>() {
            return Some(Value::from(u));
        }
    }
    let f = token.parse::<f64>().ok().filter(|f| f.is_finite())?;
    serde_json::Number::from_f64(f).map(Value::Number)
}

const EXCERPT_CHARS: usize = 24;

/// Quote at most [`EXCERPT_CHARS`] characters of `s` in backticks.
pub(crate) fn short(s: &str) -> String {
    let mut out = String::from("`");
    let mut chars = s.chars();
    for c in chars.by_ref().take(EXCERPT_CHARS) {
        out.push(c);
    }
    if chars.next().is_some() {
        out.push('…');
    }
    out.push('`');
    out
}

/// What the parser found at `pos`, for messages: the word, string or single character
/// there (quoted), or "end of input".
pub(crate) fn excerpt(src: &str, pos: usize) -> String {
    let Some(rest) = src.get(pos..) else {
        return "end of input".to_string();
    };
    let bytes = rest.as_bytes();
    let Some(&first) = bytes.first() else {
        return "end of input".to_string();
    };
    let len = if is_word_byte(first) {
        bytes.iter().take_while(|b| is_word_byte(**b)).count()
    } else if first == b'"' {
        let mut i = 1;
        while i < bytes.len() && bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        (i + 1).min(bytes.len())
    } else {
        rest.chars().next().map_or(1, char::len_utf8)
    };
    // `len` may fall inside a char only when an escape skipped into one; back off.
    let mut len = len.min(rest.len());
    while !rest.is_char_boundary(len) {
        len -= 1;
    }
    short(&rest[..len])
}
