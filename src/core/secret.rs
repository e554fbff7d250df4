//! What counts as a storage credential in what a page hands the engine: a property whose name
//! is a credential's, anywhere in an options object, and a credential in a URL's query.
//!
//! A browser must never hold storage secrets; the check cannot see a secret under an innocent
//! name, but it catches the names the cloud SDKs and their docs use.

use super::value::{Value, TOO_DEEP};

/// Parts of names that mean a credential, in a name taken without case or separators (`_`,
/// `-`, `.`, spaces): `aws_secret_access_key`, `AWSAccessKeyId`, `accessKeySecret`,
/// `tmpSecretKey`, `accountKey`, `x-amz-security-token`, `X-Amz-Credential` all hold one.
const CREDENTIAL_PARTS: [&str; 10] = [
    "secret",
    "password",
    "passwd",
    "privatekey",
    "accesskey",
    "accountkey",
    "signingkey",
    "sessiontoken",
    "securitytoken",
    "credential",
];

/// Said after every refusal.
pub const PRESIGNED_EXPLAINED: &str = "a browser must never hold storage secrets: let your backend presign one URL per object (presign or presignEndpoint) and give the page only those URLs";

/// Whether `name` is a credential's, compared without case or separators.
pub fn is_credential_name(name: &str) -> bool {
    let norm: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | '.') && !c.is_whitespace())
        // ASCII only: the credential parts are ASCII, and Unicode case tables cost 10 KB of wasm.
        .map(|c| c.to_ascii_lowercase())
        .collect();
    CREDENTIAL_PARTS.iter().any(|part| norm.contains(part))
}

/// The first parameter of `url`'s query whose name (percent-decoded) is a credential's:
/// `?X-Amz-Credential=…`, `?secret=…`.
pub fn query_credential(url: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    let query = query.split('#').next().unwrap_or("");
    query
        .split(['&', ';'])
        .map(|pair| percent_decode(pair.split('=').next().unwrap_or("")))
        .find(|name| is_credential_name(name))
}

/// Why a value is refused, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// A property named like a credential.
    Name(String),
    /// A string whose query carries a credential parameter (its name is the second field).
    Query(String, String),
    /// An object nested deeper than the browser side reads: nothing can be said about it.
    TooDeep(String),
}

impl Finding {
    /// Where in the value it was found.
    pub fn path(&self) -> &str {
        match self {
            Finding::Name(p) | Finding::Query(p, _) | Finding::TooDeep(p) => p,
        }
    }

    /// The refusal's message.
    pub fn message(&self) -> String {
        match self {
            Finding::Name(p) => {
                format!("{p} looks like a storage credential and is refused: {PRESIGNED_EXPLAINED}")
            }
            Finding::Query(p, name) => format!(
                "{p} carries a credential in its query ({name}=…) and is refused: {PRESIGNED_EXPLAINED}"
            ),
            Finding::TooDeep(p) => format!(
                "{p} is nested too deeply to be checked for storage credentials and is refused (flatten it): {PRESIGNED_EXPLAINED}"
            ),
        }
    }
}

/// The first credential anywhere in `v` (depth first, in property order), at any depth: the
/// walk keeps its own stack, so a deep value cannot overflow the call stack.
pub fn find_credential(v: &Value, at: &str) -> Option<Finding> {
    let mut stack: Vec<(&Value, String)> = vec![(v, at.to_string())];
    while let Some((v, here)) = stack.pop() {
        match v {
            Value::Object(props) => {
                for (k, val) in props.iter().rev() {
                    let path = if here.is_empty() {
                        k.clone()
                    } else {
                        format!("{here}.{k}")
                    };
                    stack.push((val, path));
                }
                // Names are checked before anything below them, in property order.
                if let Some((k, _)) = props.iter().find(|(k, _)| is_credential_name(k)) {
                    let path = if here.is_empty() {
                        k.clone()
                    } else {
                        format!("{here}.{k}")
                    };
                    return Some(Finding::Name(path));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate().rev() {
                    stack.push((item, format!("{here}[{i}]")));
                }
            }
            Value::String(s) => {
                if let Some(name) = query_credential(s) {
                    return Some(Finding::Query(here, name));
                }
            }
            Value::Other(kind) if kind == TOO_DEEP => return Some(Finding::TooDeep(here)),
            _ => {}
        }
    }
    None
}

/// `%XX` escapes and `+` (a space in a form-encoded query) decoded; anything malformed kept.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |i: usize| bytes.get(i).and_then(|b| (*b as char).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match (byte, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                // Two hex digits make one byte.
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
            (b'+', _, _) => out.push(b' '),
            (b, _, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
