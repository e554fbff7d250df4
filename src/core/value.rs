//! A JavaScript value as the validators see it.
//!
//! The web layer turns whatever a caller passed into a `Value` once; every rule about what is
//! acceptable then lives in pure Rust and is tested on the host with the same bad inputs a page
//! could send (NaN, a string for a number, null, a class instance for an options object, …).

use super::digits::display_f64;
use super::error::{Error, Result};

/// The shape of a JavaScript value, without its identity.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    /// A plain object's own enumerable properties, in insertion order.
    Object(Vec<(String, Value)>),
    /// Anything else, named by what it is: `"function"`, `"symbol"`, `"bigint"`,
    /// `"MediaStreamTrack"`, [`TOO_DEEP`], …
    Other(String),
}

/// The kind of an object nested deeper than the browser side reads (`Value::Other`).
pub const TOO_DEEP: &str = "too deeply nested object";

impl Value {
    /// A property of an object; `Undefined` when absent or when `self` is not an object.
    pub fn get(&self, key: &str) -> &Value {
        const UNDEFINED: Value = Value::Undefined;
        match self {
            Value::Object(props) => props
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .unwrap_or(&UNDEFINED),
            _ => &UNDEFINED,
        }
    }

    /// `undefined` and `null` both mean "not given" for optional fields.
    pub fn is_absent(&self) -> bool {
        matches!(self, Value::Undefined | Value::Null)
    }

    /// A short description for error messages: the value itself when it is small.
    pub fn describe(&self) -> String {
        match self {
            Value::Undefined => "undefined".into(),
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => describe_number(*n),
            Value::String(s) => {
                let shown: String = s.chars().take(40).flat_map(char::escape_default).collect();
                if s.chars().count() > 40 {
                    format!("\"{shown}…\" ({} characters)", s.chars().count())
                } else {
                    format!("\"{shown}\"")
                }
            }
            Value::Array(items) => format!("an array of {}", items.len()),
            Value::Object(_) => "an object".into(),
            Value::Other(kind) => format!("a {kind}"),
        }
    }
}

fn describe_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        display_f64(n)
    }
}

/// A whole number in `[min, max]`. Fractions, NaN and infinities are refused rather than
/// rounded: a caller who passes 640.5 has a bug worth hearing about.
pub fn integer_in(v: &Value, name: &str, min: u32, max: u32) -> Result<u32> {
    match v {
        Value::Number(n) if n.fract() == 0.0 && *n >= f64::from(min) && *n <= f64::from(max) => {
            Ok(*n as u32)
        }
        other => Err(Error::invalid_param(format!(
            "{name} must be a whole number from {min} to {max}; got {}",
            other.describe()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_finds_own_properties_only_on_objects() {
        let obj = Value::Object(vec![("a".into(), Value::Number(1.0))]);
        assert_eq!(obj.get("a"), &Value::Number(1.0));
        assert_eq!(obj.get("b"), &Value::Undefined);
        assert_eq!(Value::String("a".into()).get("a"), &Value::Undefined);
    }

    #[test]
    fn describe_is_short_and_escaped() {
        assert_eq!(Value::Number(f64::NAN).describe(), "NaN");
        assert_eq!(Value::Number(3.0).describe(), "3");
        assert_eq!(Value::Number(-0.5).describe(), "-0.5");
        assert_eq!(Value::Number(-0.0).describe(), "-0");
        assert_eq!(Value::Number(1e21).describe(), "1000000000000000000000");
        assert_eq!(Value::Number(1.5e-7).describe(), "0.00000015");
        assert_eq!(Value::String("a\nb".into()).describe(), "\"a\\nb\"");
        assert!(Value::String("x".repeat(100))
            .describe()
            .contains("100 characters"));
        assert_eq!(Value::Other("function".into()).describe(), "a function");
    }
}
