//! Helpers shared by the fuzz targets: a JSON-ish reader that builds the validators' `Value`
//! the way the web layer does (`src/web/js.rs`), and the properties a storage key must have.

use arbitrary::Arbitrary;
use tracksnap::core::naming::MAX_PATH_BYTES;
use tracksnap::core::size::Fit;
use tracksnap::core::value::Value;

/// Objects and arrays nested this deep are not read (`src/web/js.rs`'s `MAX_DEPTH`).
const MAX_DEPTH: usize = 8;

/// Reads one value of a JSON superset: JSON, plus `undefined`, `NaN`, `Infinity`,
/// `-Infinity`, bare object keys, trailing commas, and `<kind>` for a value the validators only
/// know by kind (`<function>` is `Value::Other("function")`). As in JavaScript, a repeated
/// object key keeps its first position and its last value. `None` when the text is not one
/// such value.
pub fn parse_value(text: &str) -> Option<Value> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    (p.i == p.s.len()).then_some(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn word(&mut self) -> &str {
        let start = self.i;
        while self.s.get(self.i).is_some_and(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'+' | b'-' | b'.')
        }) {
            self.i += 1;
        }
        self.text.get(start..self.i).unwrap_or("")
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        // Deeper values become `Other` anyway; refusing very deep text keeps the stack small.
        if depth > 4 * MAX_DEPTH {
            return None;
        }
        self.ws();
        match *self.s.get(self.i)? {
            b'"' => self.string().map(Value::String),
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                while !self.eat(b']') {
                    items.push(self.value(depth + 1)?);
                    if !self.eat(b',') {
                        self.ws();
                        if self.s.get(self.i) != Some(&b']') {
                            return None;
                        }
                    }
                }
                Some(if depth >= MAX_DEPTH {
                    Value::Other("too deeply nested object".into())
                } else {
                    Value::Array(items)
                })
            }
            b'{' => {
                self.i += 1;
                let mut props: Vec<(String, Value)> = Vec::new();
                while !self.eat(b'}') {
                    self.ws();
                    let key = if self.s.get(self.i) == Some(&b'"') {
                        self.string()?
                    } else {
                        let w = self.word();
                        if w.is_empty() {
                            return None;
                        }
                        w.to_string()
                    };
                    if !self.eat(b':') {
                        return None;
                    }
                    let v = self.value(depth + 1)?;
                    match props.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, old)) => *old = v,
                        None => props.push((key, v)),
                    }
                    if !self.eat(b',') {
                        self.ws();
                        if self.s.get(self.i) != Some(&b'}') {
                            return None;
                        }
                    }
                }
                Some(if depth >= MAX_DEPTH {
                    Value::Other("too deeply nested object".into())
                } else {
                    Value::Object(props)
                })
            }
            b'<' => {
                self.i += 1;
                let end = self.s[self.i..].iter().position(|&b| b == b'>')?;
                let kind = self.text.get(self.i..self.i + end)?.to_string();
                self.i += end + 1;
                Some(Value::Other(kind))
            }
            _ => {
                let w = self.word();
                match w {
                    "undefined" => Some(Value::Undefined),
                    "null" => Some(Value::Null),
                    "true" => Some(Value::Bool(true)),
                    "false" => Some(Value::Bool(false)),
                    "NaN" => Some(Value::Number(f64::NAN)),
                    "Infinity" | "+Infinity" => Some(Value::Number(f64::INFINITY)),
                    "-Infinity" => Some(Value::Number(f64::NEG_INFINITY)),
                    "" => None,
                    _ => w.parse::<f64>().ok().map(Value::Number),
                }
            }
        }
    }

    /// A JSON string; lone surrogates become U+FFFD, as a JavaScript string read into Rust does.
    fn string(&mut self) -> Option<String> {
        self.i += 1; // the opening quote
        let mut units: Vec<u16> = Vec::new();
        loop {
            let rest = self.text.get(self.i..)?;
            let c = rest.chars().next()?;
            self.i += c.len_utf8();
            match c {
                '"' => return Some(String::from_utf16_lossy(&units)),
                '\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    let unit = match e {
                        b'n' => u16::from(b'\n'),
                        b'r' => u16::from(b'\r'),
                        b't' => u16::from(b'\t'),
                        b'b' => 8,
                        b'f' => 12,
                        b'0' => 0,
                        b'u' => {
                            let hex = self.text.get(self.i..self.i + 4)?;
                            self.i += 4;
                            u16::from_str_radix(hex, 16).ok()?
                        }
                        other => u16::from(other),
                    };
                    units.push(unit);
                }
                c => {
                    let mut buf = [0u16; 2];
                    units.extend_from_slice(c.encode_utf16(&mut buf));
                }
            }
        }
    }
}

/// Why `key` is not a safe storage key, or `None` when it is: non-empty, at most
/// [`MAX_PATH_BYTES`], no control characters, no leading or trailing slash or backslash, no
/// `.`/`..` segment (either slash separates).
pub fn unsafe_key(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("empty".into());
    }
    if key.len() > MAX_PATH_BYTES {
        return Some(format!("{} bytes", key.len()));
    }
    if key.chars().any(char::is_control) {
        return Some("a control character".into());
    }
    if key.starts_with(['/', '\\']) || key.ends_with(['/', '\\']) {
        return Some("a leading or trailing slash".into());
    }
    if key.split(['/', '\\']).any(|s| s == "." || s == "..") {
        return Some("a . or .. segment".into());
    }
    None
}

/// Asserts that `key` is a safe storage key (see [`unsafe_key`]).
#[track_caller]
pub fn assert_safe_key(key: &str, what: &str) {
    if let Some(why) = unsafe_key(key) {
        panic!("{what} gave an unsafe key {key:?}: {why}");
    }
}

/// The cloud ids' rule `^[a-zA-Z0-9_@\-.]{1,128}$`, written out again as an oracle.
pub fn is_cloud_id(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_@-.".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_superset() {
        let v =
            parse_value(r#"{a: 1, "b": [NaN, -Infinity, undefined, <function>,], a: "x\u0041\n"}"#)
                .unwrap();
        let Value::Object(props) = &v else { panic!() };
        assert_eq!(props.len(), 2);
        assert_eq!(v.get("a"), &Value::String("xA\n".into()));
        let Value::Array(items) = v.get("b") else {
            panic!()
        };
        assert!(matches!(items[0], Value::Number(n) if n.is_nan()));
        assert_eq!(items[3], Value::Other("function".into()));
        assert!(parse_value("{").is_none());
        assert!(parse_value("1 2").is_none());
        let deep = "[".repeat(12) + &"]".repeat(12);
        assert!(parse_value(&deep).is_some());
    }
}

/// A fit drawn by the fuzzer.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum FitChoice {
    Fill,
    Contain,
    Cover,
}

impl From<FitChoice> for Fit {
    fn from(f: FitChoice) -> Fit {
        match f {
            FitChoice::Fill => Fit::Fill,
            FitChoice::Contain => Fit::Contain,
            FitChoice::Cover => Fit::Cover,
        }
    }
}
