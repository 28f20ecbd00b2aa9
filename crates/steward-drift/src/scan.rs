//! The fast path of capture decoding: a scanner for the common shape of a
//! capture line that finds the request's `data`, `encoding` and
//! `observedContentType` without building anything.
//!
//! It is strict, not lenient: it answers only when it is sure serde_json's
//! typed decode ([`crate::capture::decode_line`]) would succeed with the same
//! values, and returns `None` ("not sure") otherwise, so the caller falls back
//! to serde_json. So it checks the JSON grammar of every value it skips
//! (strings, numbers, literals, nesting), rejects control characters in
//! strings as serde_json does, and gives up on everything it does not need to
//! handle fast: escapes in keys or in the strings it returns, `\u` escapes,
//! duplicate keys, a struct written as an array, deep nesting, non-ASCII text
//! that is not valid UTF-8. Corrupt lines therefore cost one serde_json parse
//! more; valid ones skip serde_json entirely.

use crate::capture::Encoding;

/// What the scanner found in a line it is sure about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scanned<'a> {
    /// `captureData.endpointInput` is present.
    Input(ScannedInput<'a>),
    /// `endpointInput` is absent or null (output-only capture).
    NoInput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScannedInput<'a> {
    pub data: &'a str,
    pub encoding: Encoding,
    pub observed_content_type: Option<&'a str>,
}

/// Nesting deeper than this inside skipped values is left to serde_json
/// (whose own limit is 128).
const MAX_DEPTH: u32 = 64;

/// Scan one line; `None` when serde_json has to decide.
pub(crate) fn scan_line(line: &[u8]) -> Option<Scanned<'_>> {
    let (scanned, end) = scan_record(line)?;
    (end == line.len()).then_some(scanned)
}

/// Scan the record at the start of `bytes` (JSON lines read in place): what
/// it holds and where it ends, after its trailing spaces: there the caller
/// expects the newline. `None` when serde_json has to decide.
pub(crate) fn scan_record(bytes: &[u8]) -> Option<(Scanned<'_>, usize)> {
    let mut s = Scanner { b: bytes, i: 0 };
    let mut capture = None;
    let (mut metadata, mut version) = (false, false);
    s.object(|s, key| {
        match key {
            b"captureData" => once(&mut capture, s.capture_data()?)?,
            b"eventMetadata" => {
                flag_once(&mut metadata)?;
                s.event_metadata()?
            }
            b"eventVersion" => {
                flag_once(&mut version)?;
                s.optional_string()?;
            }
            _ => s.skip_value(0)?,
        }
        Some(())
    })?;
    s.ws();
    Some((capture?, s.i))
}

/// Set a field seen once; a second time serde_json reports a duplicate.
fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

fn flag_once(seen: &mut bool) -> Option<()> {
    if std::mem::replace(seen, true) {
        return None;
    }
    Some(())
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Bytes of a word that end a plain run of string content: `"`, `\`, control
/// characters and non-ASCII. The lowest set bit marks the first such byte
/// exactly (false positives appear only above a true one).
fn special_bytes(word: u64) -> u64 {
    // A byte subtracted from wraps (sets its high bit) when it is below what
    // is subtracted: 0 after the xor for `"` and `\`, below 0x20 for control
    // characters. Non-ASCII bytes have the high bit anyway (and keep it after
    // the xors), so they need no masking out of the other terms.
    let quote = (word ^ (ONES * u64::from(b'"'))).wrapping_sub(ONES);
    let backslash = (word ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES);
    let control = word.wrapping_sub(ONES * 0x20);
    (quote | backslash | control | word) & HIGHS
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// JSON whitespace, but a newline ends the line: a capture record is
    /// one line (serde_json gets the lines that span several).
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.ws();
        if self.peek()? != byte {
            return None;
        }
        self.i += 1;
        Some(())
    }

    /// An object; `member` is called with each key (no escapes) and must
    /// consume the value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.expect(b'{')?;
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws();
            let key = self.plain_string()?;
            self.expect(b':')?;
            self.ws();
            member(self, key)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn capture_data(&mut self) -> Option<Scanned<'a>> {
        let mut input = None;
        let mut output = false;
        self.object(|s, key| {
            match key {
                b"endpointInput" => once(&mut input, s.payload()?)?,
                b"endpointOutput" => {
                    flag_once(&mut output)?;
                    s.skip_value(0)?
                }
                _ => s.skip_value(0)?,
            }
            Some(())
        })?;
        Some(match input {
            Some(Some(input)) => Scanned::Input(input),
            Some(None) | None => Scanned::NoInput,
        })
    }

    /// `endpointInput`: null, or an object with `data` and `encoding`.
    fn payload(&mut self) -> Option<Option<ScannedInput<'a>>> {
        if self.null() {
            return Some(None);
        }
        let (mut data, mut encoding, mut content_type) = (None, None, None);
        let mut mode = false;
        self.object(|s, key| {
            match key {
                b"data" => once(&mut data, s.text()?)?,
                b"encoding" => once(&mut encoding, encoding_of(s.plain_string()?))?,
                b"observedContentType" => once(&mut content_type, s.optional_text()?)?,
                b"mode" => {
                    flag_once(&mut mode)?;
                    s.optional_string()?;
                }
                _ => s.skip_value(0)?,
            }
            Some(())
        })?;
        Some(Some(ScannedInput {
            data: data?,
            encoding: encoding?,
            observed_content_type: content_type.flatten(),
        }))
    }

    fn event_metadata(&mut self) -> Option<()> {
        if self.null() {
            return Some(());
        }
        let (mut id, mut time) = (false, false);
        self.object(|s, key| {
            match key {
                b"eventId" => {
                    flag_once(&mut id)?;
                    s.optional_string()?;
                }
                b"inferenceTime" => {
                    flag_once(&mut time)?;
                    s.optional_string()?;
                }
                _ => s.skip_value(0)?,
            }
            Some(())
        })
    }

    fn null(&mut self) -> bool {
        if self.b[self.i..].starts_with(b"null") {
            self.i += 4;
            true
        } else {
            false
        }
    }

    /// A string or null, read as serde_json reads an `Option<Cow<str>>`.
    fn optional_string(&mut self) -> Option<()> {
        self.optional_text().map(|_| ())
    }

    fn optional_text(&mut self) -> Option<Option<&'a str>> {
        if self.null() {
            return Some(None);
        }
        self.text().map(Some)
    }

    /// A string without escapes, as `&str`.
    fn text(&mut self) -> Option<&'a str> {
        let bytes = self.plain_string()?;
        // SAFETY: `string_end` accepted these bytes: all ASCII, or checked
        // with `str::from_utf8`. (Checking again cost 4% of the drift check.)
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    }

    /// A string without escapes, ASCII or not: its bytes between the quotes.
    fn plain_string(&mut self) -> Option<&'a [u8]> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.i + 1;
        let end = self.string_end(start, false)?;
        self.i = end + 1;
        Some(&self.b[start..end])
    }

    /// The index of the closing quote of the string whose content starts at
    /// `at`; `None` on a control character, invalid UTF-8, or an escape
    /// unless `escapes` allows simple ones (`\"`, `\n`, …; never `\u`).
    fn string_end(&self, mut at: usize, escapes: bool) -> Option<usize> {
        let b = self.b;
        let start = at;
        let mut ascii = true;
        loop {
            // Eight bytes at a time to the next special byte.
            while at + 8 <= b.len() {
                let word = u64::from_le_bytes(b[at..at + 8].try_into().ok()?);
                let special = special_bytes(word);
                if special != 0 {
                    at += special.trailing_zeros() as usize / 8;
                    break;
                }
                at += 8;
            }
            match *b.get(at)? {
                b'"' => {
                    if !ascii {
                        std::str::from_utf8(&b[start..at]).ok()?;
                    }
                    return Some(at);
                }
                b'\\' if escapes => match b.get(at + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => at += 2,
                    _ => return None,
                },
                0x80.. => {
                    ascii = false;
                    at += 1;
                }
                0x20..=0x7f if b[at] != b'\\' => at += 1,
                _ => return None,
            }
        }
    }

    /// Skip one JSON value, checking its grammar.
    fn skip_value(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => {
                self.i = self.string_end(self.i + 1, true)? + 1;
            }
            b'{' => self.object(|s, _| s.skip_value(depth + 1))?,
            b'[' => {
                self.i += 1;
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.ws();
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            b'n' => self.literal(b"null")?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return None,
        }
        Some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if !self.b[self.i..].starts_with(word) {
            return None;
        }
        self.i += word.len();
        Some(())
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.i;
        self.digits();
        (self.i > start).then_some(())
    }
}

/// serde's reading of [`Encoding`]: the three names, anything else `Unknown`.
fn encoding_of(name: &[u8]) -> Encoding {
    match name {
        b"CSV" => Encoding::Csv,
        b"JSON" => Encoding::Json,
        b"BASE64" => Encoding::Base64,
        _ => Encoding::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::decode_line;

    const CSV_LINE: &str = r#"{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"0.00632,18.00,2.310","encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT","data":"30.4133586884","encoding":"CSV"}},"eventMetadata":{"eventId":"8f45e35c-fa44-40d2-8ed3-1bcab3a596f3","inferenceTime":"2020-07-30T13:36:30Z"},"eventVersion":"0"}"#;

    /// The scanner's answer, if any, is serde_json's.
    fn agrees_with_serde(line: &str) -> Option<Scanned<'_>> {
        let scanned = scan_line(line.as_bytes());
        let typed = decode_line(line.as_bytes());
        if let Some(scanned) = scanned {
            let typed = typed.unwrap_or_else(|| panic!("serde_json rejects {line}"));
            let expected = match typed.capture_data.endpoint_input {
                None => Scanned::NoInput,
                Some(ref p) => Scanned::Input(ScannedInput {
                    data: match p.data {
                        std::borrow::Cow::Borrowed(d) => d,
                        _ => panic!("owned data in {line}"),
                    },
                    encoding: p.encoding,
                    observed_content_type: p.observed_content_type.as_deref(),
                }),
            };
            assert_eq!(scanned, expected, "{line}");
        }
        scanned
    }

    #[test]
    fn reads_the_documented_capture_line() {
        let Some(Scanned::Input(input)) = agrees_with_serde(CSV_LINE) else {
            panic!("not scanned")
        };
        assert_eq!(input.data, "0.00632,18.00,2.310");
        assert_eq!(input.encoding, Encoding::Csv);
        assert_eq!(input.observed_content_type, Some("text/csv"));
    }

    #[test]
    fn answers_only_where_serde_json_agrees() {
        let sure = [
            r#"{"captureData":{"endpointOutput":{"data":"1","encoding":"CSV"}}}"#,
            r#" {"captureData":{"endpointInput":null}} "#,
            r#"{"captureData":{"endpointInput":{"data":"x","encoding":"ZSTD","mode":null}}}"#,
            r#"{"x":[1,-2.5e+3,true,false,null,{"a":[]},"q\"\n"],"captureData":{"endpointInput":{"data":"é,1","encoding":"CSV"}},"eventMetadata":null}"#,
            r#"{ "captureData" : { "endpointInput" : { "encoding" : "BASE64" , "data" : "MSwy" } } , "eventVersion" : null }"#,
        ];
        for line in sure {
            assert!(agrees_with_serde(line).is_some(), "{line}");
        }
        let unsure = [
            "",
            "{not json",
            r#"{"hello":"world"}"#,
            r#"{"captureData":{"endpointInput":{"data":"a\"b","encoding":"CSV"}}}"#,
            r#"{"captureData":{"endpointInput":{"data":"x","encoding":"CSV","data":"y"}}}"#,
            r#"{"captureData":{"endpointInput":{"data":"x"}}}"#,
            r#"{"captureData":{"endpointInput":{"data":null,"encoding":"CSV"}}}"#,
            r#"{"captureData":{"endpointInput":{"data":"x","encoding":"CSV"}},"captureData":{}}"#,
            r#"{"captureData":{"endpointInput":["x","CSV"]}}"#,
            r#"{"captureData":{"endpointOutput":1,"endpointOutput":2}}"#,
            r#"{"captureData":{},"eventVersion":0}"#,
            r#"{"captureData":{},"x":01}"#,
            r#"{"captureData":{},"x":"\u0041"}"#,
            r#"{"captureData":{},"x":[1,]}"#,
            r#"{"captureData":{}} x"#,
            "{\"captureData\":{},\"x\":\"tab\there\"}",
            r#"{"captureData":{},"eventMetadata":{"eventId":1}}"#,
        ];
        for line in unsure {
            assert!(agrees_with_serde(line).is_none(), "{line}");
        }
        let deep = format!(
            r#"{{"captureData":{{}},"x":{}{}}}"#,
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(agrees_with_serde(&deep).is_none());
        assert!(scan_line(b"{\"captureData\":{},\"x\":\"\xff\"}").is_none());
    }

    #[test]
    fn special_bytes_finds_the_first() {
        for (text, at) in [
            (*b"abcdefgh", None),
            (*b"abc\"efgh", Some(3)),
            (*b"a\\c\"efgh", Some(1)),
            (*b"abcdefg\x1f", Some(7)),
            (*b"\x00bcdefgh", Some(0)),
            (*b"ab\xc3\xa9efgh", Some(2)),
            (*b"ab !#~\x7f ", None),
        ] {
            let found = special_bytes(u64::from_le_bytes(text));
            let first = (found != 0).then(|| found.trailing_zeros() as usize / 8);
            assert_eq!(first, at, "{:?}", String::from_utf8_lossy(&text));
        }
        // Every byte value at every position, behind plain text and before
        // every other byte value.
        let special = |b: u8| b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b);
        for byte in 0..=255u8 {
            for after in 0..=255u8 {
                for pos in 0..8 {
                    let mut text = *b"abcdefgh";
                    text[pos] = byte;
                    if pos < 7 {
                        text[pos + 1] = after;
                    }
                    let found = special_bytes(u64::from_le_bytes(text));
                    let first = (found != 0).then(|| found.trailing_zeros() as usize / 8);
                    let expected = text.iter().position(|&b| special(b));
                    assert_eq!(first, expected, "{text:?}");
                }
            }
        }
    }
}
