//! `JSON.stringify(JSON.parse(text))`, computed as JavaScript does.
//!
//! Ironclad signs a webhook delivery over `JSON.stringify(body)`, not over the bytes that reach
//! us: a proxy that re-serialises the body (pretty-prints it, escapes non-ASCII, writes `1.0`
//! for `1`) keeps the JSON but changes the bytes. Re-serialising what was received the way
//! JavaScript does recovers the text that was signed. `serde_json::Value` cannot do it: it
//! sorts keys (no `preserve_order` here), and its numbers and string escapes are Rust's. So
//! this is a small re-serialiser over the JSON text, written as it is read. What JavaScript
//! does, and this module with it:
//!
//! - keys in the order received, except that array-index keys (`"0"`, `"17"`: integers up to
//!   2^32 − 2 written canonically) come first in ascending order; a repeated key keeps its
//!   first position and its last value;
//! - strings escape `"`, `\` and C0 controls (`\b \f \n \r \t`, others `\u00xx`) and lone
//!   surrogates (`\udxxx`); everything else (non-ASCII, `/`, U+2028) is written literally;
//! - numbers are doubles written by `Number.prototype.toString`: shortest round-trip digits,
//!   an exponent from 1e21 up and below 1e-6, `-0` as `0`; one beyond a double is `null`.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt::Write;
use std::ops::Range;

/// Longer texts are not re-serialised: the `listen` host refuses deliveries over 1 MiB
/// (`MAX_BODY_BYTES` in `host-harness/src/listen.rs`); Ironclad's are a few hundred bytes.
const MAX_BYTES: usize = 1 << 20;
/// Deeper nesting is not re-serialised: it is the most serde_json reads (its recursion
/// limit), so a delivery nested deeper was already refused when its envelope was read.
const MAX_DEPTH: usize = 127;

/// `JSON.stringify(JSON.parse(text))`, or `None` when `JSON.parse` would throw (or the text is
/// not UTF-8) or the text is beyond [`MAX_BYTES`] or [`MAX_DEPTH`].
pub fn stringify(text: &[u8]) -> Option<String> {
    if text.len() > MAX_BYTES {
        return None;
    }
    let mut parser = Parser {
        text: std::str::from_utf8(text).ok()?,
        pos: 0,
        out: String::with_capacity(text.len()),
    };
    parser.value(0)?;
    parser.skip_whitespace();
    (parser.pos == parser.text.len()).then_some(parser.out)
}

/// Reads `text` from `pos`, writing the JavaScript form of each value to `out` as it goes.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
    out: String,
}

impl Parser<'_> {
    fn value(&mut self, depth: usize) -> Option<()> {
        self.skip_whitespace();
        match self.peek()? {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string(),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            _ => self.number(),
        }
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        let start = self.out.len();
        self.out.push('{');
        // Each key's and value's text in `out`, in order of the key's first appearance.
        let mut members: Vec<(Range<usize>, Range<usize>)> = Vec::new();
        // Each key's place in `members`, by its array index (`u32::MAX` for other keys) and
        // written form: in that order the array indices come first, ascending. (Sorting
        // `members` instead would add 25 KB of sort code to the component.)
        let mut places: BTreeMap<(u32, String), usize> = BTreeMap::new();
        let mut reorder = false;
        self.skip_whitespace();
        if !self.eat(b'}') {
            loop {
                self.skip_whitespace();
                if self.peek()? != b'"' {
                    return None;
                }
                if !members.is_empty() {
                    self.out.push(',');
                }
                let key_start = self.out.len();
                self.string()?;
                let key = key_start..self.out.len();
                self.skip_whitespace();
                if !self.eat(b':') {
                    return None;
                }
                self.out.push(':');
                let value_start = self.out.len();
                self.value(depth)?;
                let value = value_start..self.out.len();
                // Keys compare by their written form: the escaping is one-to-one.
                let name = self.out[key.clone()].to_string();
                let index = array_index(&name);
                reorder |= index.is_some();
                match places.entry((index.unwrap_or(u32::MAX), name)) {
                    Entry::Occupied(place) => {
                        members[*place.get()].1 = value;
                        reorder = true;
                    }
                    Entry::Vacant(place) => {
                        place.insert(members.len());
                        members.push((key, value));
                    }
                }
                self.skip_whitespace();
                match self.next()? {
                    b',' => {}
                    b'}' => break,
                    _ => return None,
                }
            }
        }
        if reorder {
            let written = self.out.split_off(start);
            let text = |range: &Range<usize>| &written[range.start - start..range.end - start];
            let indices = places
                .iter()
                .take_while(|((index, _), _)| *index != u32::MAX)
                .map(|(_, &place)| place);
            let others =
                (0..members.len()).filter(|&place| array_index(text(&members[place].0)).is_none());
            self.out.push('{');
            for (n, place) in indices.chain(others).enumerate() {
                let (key, value) = &members[place];
                if n > 0 {
                    self.out.push(',');
                }
                self.out.push_str(text(key));
                self.out.push(':');
                self.out.push_str(text(value));
            }
        }
        self.out.push('}');
        Some(())
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        self.out.push('[');
        self.skip_whitespace();
        if !self.eat(b']') {
            loop {
                self.value(depth)?;
                self.skip_whitespace();
                match self.next()? {
                    b',' => self.out.push(','),
                    b']' => break,
                    _ => return None,
                }
            }
        }
        self.out.push(']');
        Some(())
    }

    /// A string from its opening quote, written quoted and escaped as JavaScript does.
    fn string(&mut self) -> Option<()> {
        self.pos += 1;
        self.out.push('"');
        loop {
            let rest = &self.text[self.pos..];
            // Characters that need no escaping on either side are copied in one run.
            let run = rest.find(|c: char| c == '"' || c == '\\' || c < ' ')?;
            self.out.push_str(&rest[..run]);
            self.pos += run;
            match self.next()? {
                b'"' => break,
                b'\\' => self.escape()?,
                // A raw control character: JSON.parse throws.
                _ => return None,
            }
        }
        self.out.push('"');
        Some(())
    }

    /// An escape, after its backslash: decoded, then written as JavaScript would write it.
    fn escape(&mut self) -> Option<()> {
        let unit = match self.next()? {
            b'"' => 0x22,
            b'\\' => 0x5c,
            b'/' => 0x2f,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => 0x0a,
            b'r' => 0x0d,
            b't' => 0x09,
            b'u' => self.hex4()?,
            _ => return None,
        };
        let decoded = match unit {
            0xd800..=0xdbff => self
                .low_surrogate()
                .and_then(|low| char::from_u32(0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00))),
            _ => char::from_u32(unit),
        };
        match decoded {
            Some(c) => escape_char(&mut self.out, c),
            // A lone surrogate: a JavaScript string may hold one, UTF-8 cannot.
            None => write!(self.out, "\\u{unit:04x}").expect("writing to a String"),
        }
        Some(())
    }

    /// The `\uDC00`–`\uDFFF` escape that completes a pair, consumed only if it is next.
    fn low_surrogate(&mut self) -> Option<u32> {
        let saved = self.pos;
        let low = (self.eat(b'\\') && self.eat(b'u'))
            .then(|| self.hex4())
            .flatten()
            .filter(|low| (0xdc00..=0xdfff).contains(low));
        if low.is_none() {
            self.pos = saved;
        }
        low
    }

    fn hex4(&mut self) -> Option<u32> {
        let hex = self.text.get(self.pos..self.pos + 4)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += 4;
        u32::from_str_radix(hex, 16).ok()
    }

    /// JSON's number grammar, read as the nearest double and written as JavaScript writes it.
    fn number(&mut self) -> Option<()> {
        let start = self.pos;
        self.eat(b'-');
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.eat(b'.') {
            self.digit()?;
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            self.digit()?;
        }
        let n: f64 = self.text[start..self.pos].parse().ok()?;
        write_number(&mut self.out, n);
        Some(())
    }

    /// One digit, then any more.
    fn digit(&mut self) -> Option<()> {
        self.next().filter(u8::is_ascii_digit)?;
        self.digits();
        Some(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        self.text[self.pos..].starts_with(word).then_some(())?;
        self.pos += word.len();
        self.out.push_str(word);
        Some(())
    }

    fn skip_whitespace(&mut self) {
        while self
            .peek()
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn eat(&mut self, b: u8) -> bool {
        let found = self.peek() == Some(b);
        if found {
            self.pos += 1;
        }
        found
    }
}

/// A key's value as an array index, which JavaScript orders before other keys: the canonical
/// decimal form of an integer from 0 to 2^32 − 2 (so never `u32::MAX`). `key` is the written
/// form, quotes included.
fn array_index(key: &str) -> Option<u32> {
    let digits = key.strip_prefix('"')?.strip_suffix('"')?;
    let canonical = digits == "0" || !digits.starts_with('0');
    if !canonical || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u32>().ok().filter(|&i| i < u32::MAX)
}

/// One character of a string as `JSON.stringify` writes it (ECMA-262 QuoteJSONString).
fn escape_char(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0'..='\u{1f}' => write!(out, "\\u{:04x}", c as u32).expect("writing to a String"),
        _ => out.push(c),
    }
}

/// `Number.prototype.toString(n)` (ECMA-262 Number::toString, radix 10), `null` for what is
/// no finite number, as `JSON.stringify` writes it.
fn write_number(out: &mut String, n: f64) {
    if !n.is_finite() {
        out.push_str("null");
        return;
    }
    if n == 0.0 {
        // -0 too.
        out.push('0');
        return;
    }
    if n < 0.0 {
        out.push('-');
    }
    // Rust's `{:e}` gives the shortest digits that round-trip, as JavaScript requires:
    // `d.ddd` times 10 to some power.
    let scientific = format!("{:e}", n.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` writes an exponent");
    let mut digits = mantissa.replace('.', "");
    let k = digits.len() as i32;
    // The value is 0.digits × 10^point.
    let point = exponent
        .parse::<i32>()
        .expect("`{:e}` writes an integer exponent")
        + 1;
    prefer_even(&mut digits, point, n.abs());
    let zeros = |count: i32| "0".repeat(count as usize);
    if k <= point && point <= 21 {
        out.push_str(&digits);
        out.push_str(&zeros(point - k));
    } else if 0 < point && point <= 21 {
        let (whole, fraction) = digits.split_at(point as usize);
        write!(out, "{whole}.{fraction}").expect("writing to a String");
    } else if -6 < point && point <= 0 {
        write!(out, "0.{}{digits}", zeros(-point)).expect("writing to a String");
    } else {
        let (first, rest) = digits.split_at(1);
        let e = point - 1;
        let sign = if e > 0 { '+' } else { '-' };
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        write!(out, "{first}{fraction}e{sign}{}", e.abs()).expect("writing to a String");
    }
}

/// When `n` lies exactly halfway between two shortest digit strings, JavaScript takes the even
/// one; Rust's `{:e}` takes the higher. A tie needs `n`'s exact decimal expansion to be one
/// digit longer than the shortest digits (ending in 5), which only a short binary fraction has.
fn prefer_even(digits: &mut String, point: i32, n: f64) {
    let Some(exact) = short_exact_digits(n) else {
        return;
    };
    if exact.to_string().len() != digits.len() + 1 {
        return;
    }
    let (below, above) = (exact / 10, exact / 10 + 1);
    let even = if below % 2 == 0 { below } else { above };
    let candidate = even.to_string();
    let exponent = point - candidate.len() as i32;
    if candidate.len() == digits.len() && format!("{candidate}e{exponent}").parse() == Ok(n) {
        *digits = candidate;
    }
}

/// The significant digits of `n`'s exact decimal expansion, when `n` (positive) is a binary
/// fraction whose digits fit a `u64`; `None` for integers, which never tie.
fn short_exact_digits(n: f64) -> Option<u64> {
    let bits = n.to_bits();
    let (biased, fraction) = ((bits >> 52) as i32 & 0x7ff, bits & ((1 << 52) - 1));
    let (mantissa, exponent) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, biased - 1075)
    };
    let zeros = mantissa.trailing_zeros();
    let exponent = exponent + zeros as i32;
    if exponent >= 0 {
        return None;
    }
    // mantissa / 2^j is mantissa × 5^j / 10^j: mantissa × 5^j are its digits.
    (0..-exponent).try_fold(mantissa >> zeros, |d, _| d.checked_mul(5))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// JSON text, and `JSON.stringify(JSON.parse(text))` as Node.js 20 printed it for that text
    /// (generated once with `node`, pasted here).
    const STRINGIFIED: &[(&str, &str)] = &[
        // Order as received; whitespace dropped.
        (r#"{"b":1,"a":2}"#, r#"{"b":1,"a":2}"#),
        (
            "{ \"a\" : [ 1 , 2 ] ,\n \"b\" : { } , \"c\":[ ] }",
            r#"{"a":[1,2],"b":{},"c":[]}"#,
        ),
        (
            "{\n  \"payload\": {\n    \"event\": \"workflow_launched\",\n    \"list\": [\n      1,\n      {\n        \"x\": null\n      }\n    ]\n  },\n  \"webhookID\": \"w\"\n}",
            r#"{"payload":{"event":"workflow_launched","list":[1,{"x":null}]},"webhookID":"w"}"#,
        ),
        (
            "{\t\"a\":\t[\t],\r\n\t\"b\": \"\\u00e9\"}",
            r#"{"a":[],"b":"é"}"#,
        ),
        // A repeated key: its first position, its last value.
        (r#"{"a":1,"b":2,"a":3}"#, r#"{"a":3,"b":2}"#),
        (r#"{"\u0061":1,"a":2,"\u0031":3}"#, r#"{"1":3,"a":2}"#),
        (
            r#"{"x":{"b":1,"1":2,"b":3},"y":[{"a":1,"a":{"c":1,"0":[],"c":2}}],"x":{"z":0}}"#,
            r#"{"x":{"z":0},"y":[{"a":{"0":[],"c":2}}]}"#,
        ),
        (r#"{"":1,"":2,"0":{}}"#, r#"{"0":{},"":2}"#),
        // Array-index keys first, ascending; 2^32 − 1, "01", "-0" are ordinary keys.
        (
            r#"{"b":1,"2":2,"1":3,"a":4}"#,
            r#"{"1":3,"2":2,"b":1,"a":4}"#,
        ),
        (
            r#"{"4294967294":1,"4294967295":2,"01":3,"-0":4,"0":5,"1.5":6,"10":7}"#,
            r#"{"0":5,"10":7,"4294967294":1,"4294967295":2,"01":3,"-0":4,"1.5":6}"#,
        ),
        (
            r#"{"__proto__":1,"constructor":2}"#,
            r#"{"__proto__":1,"constructor":2}"#,
        ),
        // Strings: escapes decoded, written back with JavaScript's few escapes.
        (
            r#""caf\u00e9 \u5951\u7d04 契約 ü""#,
            r#""café 契約 契約 ü""#,
        ),
        (r#""\/ a/b""#, r#""/ a/b""#),
        (r#""\u2028\u2029""#, "\"\u{2028}\u{2029}\""),
        (r#""\b\f\n\r\t""#, r#""\b\f\n\r\t""#),
        (
            r#""\u0000\u0001\u001F\u007f\u0080\u00a0""#,
            "\"\\u0000\\u0001\\u001f\u{7f}\u{80}\u{a0}\"",
        ),
        (r#""\" \\ '""#, r#""\" \\ '""#),
        (r#""\ufeff\uffff""#, "\"\u{feff}\u{ffff}\""),
        // Surrogates: pairs joined, lone ones escaped in lowercase.
        (r#""\ud83d\ude00 \uD83D\uDE00 😀""#, r#""😀 😀 😀""#),
        (r#""\ud800""#, r#""\ud800""#),
        (r#""\uDC00x""#, r#""\udc00x""#),
        (r#""\ud83d\u0041""#, r#""\ud83dA""#),
        (r#""\ud83d\ud83d\ude00""#, r#""\ud83d😀""#),
        (r#""\ude00\ud83d""#, r#""\ude00\ud83d""#),
        // Numbers: the nearest double, as Number.prototype.toString writes it.
        (
            r#"[1e21,1E21,1e+21,999999999999999999999,100000000000000000000,123456789012345678901]"#,
            r#"[1e+21,1e+21,1e+21,1e+21,100000000000000000000,123456789012345680000]"#,
        ),
        (
            r#"[0.1,1.0,-0,-0.0,0,1E-7,0.000001,0.0000015,1.5e-7,1e-6]"#,
            r#"[0.1,1,0,0,0,1e-7,0.000001,0.0000015,1.5e-7,0.000001]"#,
        ),
        (
            r#"[12345678901234567890,9007199254740993,-9007199254740993,18446744073709551616]"#,
            r#"[12345678901234567000,9007199254740992,-9007199254740992,18446744073709552000]"#,
        ),
        (r#"[1e400,-1e400,1e-400,-1e-400]"#, r#"[null,null,0,0]"#),
        (
            r#"[5e-324,2.2250738585072014e-308,1.7976931348623157e308]"#,
            r#"[5e-324,2.2250738585072014e-308,1.7976931348623157e+308]"#,
        ),
        (
            r#"[123.456e2,0.30000000000000004,-1.5,123e-20,1.25e+30,100,1e2,2e-0,0e10]"#,
            r#"[12345.6,0.30000000000000004,-1.5,1.23e-18,1.25e+30,100,100,2,0]"#,
        ),
        (
            r#"[1.7976931348623157e308,4.35,0.1e1,10000000000000000000000e-2]"#,
            r#"[1.7976931348623157e+308,4.35,1,100000000000000000000]"#,
        ),
        // Exactly halfway between two shortest digit strings: the even one.
        (
            r#"[4317542418210.65625,-900546992985924.25,0.0000000298023223876953125,0.5,2.5,0.125]"#,
            r#"[4317542418210.6562,-900546992985924.2,2.9802322387695312e-8,0.5,2.5,0.125]"#,
        ),
        // Literals and top-level scalars.
        (r#" [true , false,null] "#, r#"[true,false,null]"#),
        (r#""x""#, r#""x""#),
        (r#"42"#, r#"42"#),
    ];

    #[test]
    fn writes_what_javascript_writes() {
        for (text, expected) in STRINGIFIED {
            assert_eq!(
                stringify(text.as_bytes()).as_deref(),
                Some(*expected),
                "{text}"
            );
        }
    }

    /// Texts `JSON.parse` throws on (each confirmed with `node` once).
    #[test]
    fn refuses_what_javascript_cannot_parse() {
        let invalid = [
            r#"{"a":1,}"#,
            r#"[1,]"#,
            r#"01"#,
            r#"1."#,
            r#".5"#,
            r#"+1"#,
            r#"-"#,
            r#"1e"#,
            r#""\x""#,
            r#""a"#,
            "\"\t\"",
            r#"NaN"#,
            r#"{a:1}"#,
            r#"'a'"#,
            r#"1 2"#,
            r#"[1]]"#,
            r#""\u12""#,
            r#"tru"#,
            r#"{"a" 1}"#,
            r#"[1 2]"#,
            r#"{"a":1 "b":2}"#,
            "\u{feff}{}",
            "",
        ];
        for text in invalid {
            assert_eq!(stringify(text.as_bytes()), None, "{text:?}");
        }
        assert_eq!(stringify(b"\"\xff\""), None, "not UTF-8");
    }

    #[test]
    fn refuses_texts_beyond_the_limits() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(stringify(nested(MAX_DEPTH).as_bytes()).is_some());
        assert_eq!(stringify(nested(MAX_DEPTH + 1).as_bytes()), None);
        // The same limit as serde_json's, which reads the envelope first.
        assert!(serde_json::from_str::<serde_json::Value>(&nested(MAX_DEPTH)).is_ok());
        assert!(serde_json::from_str::<serde_json::Value>(&nested(MAX_DEPTH + 1)).is_err());
        let objects = |depth: usize| format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        assert!(stringify(objects(MAX_DEPTH).as_bytes()).is_some());
        assert_eq!(stringify(objects(MAX_DEPTH + 1).as_bytes()), None);

        let padded = |len: usize| format!("\"{}\"", "x".repeat(len - 2));
        assert!(stringify(padded(MAX_BYTES).as_bytes()).is_some());
        assert_eq!(stringify(padded(MAX_BYTES + 1).as_bytes()), None);
    }
}
