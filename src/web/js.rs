//! The bridge to JavaScript values that the rest of `web` shares: reading caller values
//! safely, setting properties, errors with codes, and warnings to the console.
//!
//! Every import here that can throw is declared `catch`: an exception unwinding through wasm
//! frames would skip destructors and leave `RefCell`s borrowed for good.

use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::error::{Code, Error};
use crate::core::value::{Value, TOO_DEEP};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Object, js_name = entries, catch)]
    fn object_entries(v: &JsValue) -> Result<Array, JsValue>;

    #[wasm_bindgen(js_namespace = Array, js_name = isArray, catch)]
    fn is_array(v: &JsValue) -> Result<bool, JsValue>;

    #[wasm_bindgen(js_namespace = console, js_name = warn, catch)]
    fn console_warn(a: &str, b: &JsValue) -> Result<(), JsValue>;
}

/// Objects nested deeper than this are not read (a caller's cyclic object cannot hang us).
const MAX_DEPTH: usize = 8;
/// Arrays and objects with more entries than this are not read.
const MAX_ENTRIES: u32 = 10_000;

/// The shape of a caller's value, read without running into exceptions (getters and proxies
/// that throw give `Other`).
pub fn to_value(v: &JsValue) -> Value {
    read_value(v, 0)
}

fn read_value(v: &JsValue, depth: usize) -> Value {
    // The common kinds first: each test is a call into JavaScript.
    if let Some(n) = v.as_f64() {
        return Value::Number(n);
    }
    if let Some(s) = v.as_string() {
        return Value::String(s);
    }
    if v.is_undefined() {
        return Value::Undefined;
    }
    if v.is_null() {
        return Value::Null;
    }
    if let Some(b) = v.as_bool() {
        return Value::Bool(b);
    }
    if v.is_function() {
        return Value::Other("function".into());
    }
    if v.is_symbol() {
        return Value::Other("symbol".into());
    }
    if v.is_bigint() {
        return Value::Other("bigint".into());
    }
    if !v.is_object() {
        return Value::Other("value of unknown type".into());
    }
    if depth >= MAX_DEPTH {
        return Value::Other(TOO_DEEP.into());
    }
    let Ok(entries) = object_entries(v) else {
        return Value::Other("object whose properties cannot be read".into());
    };
    if entries.length() > MAX_ENTRIES {
        return Value::Other(format!("object with {} entries", entries.length()));
    }
    let pairs = entries.iter().filter_map(|pair| {
        // `Object.entries` gives `[key, value]` arrays with string keys.
        let pair: Array = pair.unchecked_into();
        Some((
            pair.get(0).as_string()?,
            read_value(&pair.get(1), depth + 1),
        ))
    });
    if is_array(v).unwrap_or(false) {
        Value::Array(pairs.map(|(_, v)| v).collect())
    } else {
        Value::Object(pairs.collect())
    }
}

/// A JavaScript `Error` carrying the numeric `code`, its symbolic `codeName` and the message.
pub fn error_value(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    err.set_name("TrackSnapError");
    let obj: &JsValue = err.as_ref();
    set(obj, "code", &JsValue::from(e.code.value()));
    set(obj, "codeName", &JsValue::from_str(e.code.name()));
    err.into()
}

/// Sets a property on an object we created; such a set cannot fail.
pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// A property of a caller's object; `undefined` when reading it throws.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `name: message` of a thrown value (a `DOMException`, an `Error`, or anything else).
pub fn describe_exception(e: &JsValue) -> String {
    let name = get(e, "name").as_string();
    let message = get(e, "message").as_string();
    match (name, message) {
        (Some(n), Some(m)) if !m.is_empty() => format!("{n}: {m}"),
        (Some(n), _) => n,
        (None, Some(m)) => m,
        (None, None) => e.as_string().unwrap_or_else(|| "unknown error".into()),
    }
}

/// An error of `code` whose message ends with what the browser said.
pub fn browser_error(code: Code, what: &str, e: &JsValue) -> Error {
    Error::new(code, format!("{what}: {}", describe_exception(e)))
}

/// Reports a problem in the caller's own code (a throwing handler) without stopping ours.
pub fn warn(message: &str, e: &JsValue) {
    let _ = console_warn(message, e);
}
