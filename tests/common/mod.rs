//! Shared by the host test crates: JavaScript-shaped values in a line.
// Each test crate uses a part of this module.
#![allow(dead_code)]

use tracksnap::core::value::Value;

/// A string value.
pub fn s(v: &str) -> Value {
    Value::String(v.into())
}

/// A plain object with these properties, in this order.
pub fn obj(props: &[(&str, Value)]) -> Value {
    Value::Object(
        props
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}
