//! Uploads through presigned URLs: the storage options, a task's `StorageConfig`, what a
//! presigner may answer, and object URLs.
//!
//! A browser must never hold storage secrets. The page's backend presigns one URL per object;
//! the engine refuses any option that carries a key or a secret, and only sends bytes to https
//! URLs (http only on this machine).

use super::error::{Code, Error, Result};
use super::naming::{check_path, Template};
use super::secret::find_credential;
use super::url::{check_option_url, check_url, optional_url};
use super::value::{integer_in, Value};

/// The outbox keeps at most this many bytes of images by default.
pub const DEFAULT_OUTBOX_MAX_BYTES: u64 = 200 * 1024 * 1024;
/// Bytes of images that may wait in memory for an upload slot, by default; past it a new image
/// waits in the outbox only.
pub const DEFAULT_UPLOAD_QUEUE_BYTES: u64 = 16 * 1024 * 1024;
/// How long a presigner may take to answer, by default, in milliseconds.
pub const DEFAULT_PRESIGN_TIMEOUT_MS: u32 = 10_000;
const PRESIGN_TIMEOUT_RANGE_MS: (u32, u32) = (100, 120_000);

/// Where presigned URLs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresignSource {
    /// The page's own `presign(req)` function.
    Callback,
    /// An endpoint that answers a POSTed `{key, contentType, size}` with the same reply.
    Endpoint(String),
}

/// `new SnapshotEngine({ storage })`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageOptions {
    pub source: PresignSource,
    pub outbox_max_bytes: u64,
    /// Bytes of images held in memory while they wait for an upload slot or are sent.
    pub upload_queue_bytes: u64,
    /// Ask the browser to keep the outbox under storage pressure (`navigator.storage.persist()`).
    pub persist: bool,
    /// A presigner that has not answered in this time has failed (and is asked again).
    pub presign_timeout_ms: u32,
}

/// A task's `StorageConfig: { Type: "presigned", PresignEndpoint?, LatestKey? }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskStorage {
    /// `None`: the engine's storage.
    pub endpoint: Option<String>,
    /// Where each kept image is also written, overwriting the last (a stream's "latest").
    pub latest_key: Option<Template>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Put,
    /// The S3 POST-policy form upload.
    Post,
}

/// One presigned request, as the presigner answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    pub url: String,
    pub method: Method,
    /// Extra request headers (PUT).
    pub headers: Vec<(String, String)>,
    /// Form fields before the file (POST), in the order given.
    pub fields: Vec<(String, String)>,
}

/// The path of the first credential anywhere in `v`: a credential's name, a URL whose query
/// carries one, or an object too deep to check.
pub fn find_secret(v: &Value, at: &str) -> Option<String> {
    find_credential(v, at).map(|f| f.path().to_string())
}

fn refuse_secrets(v: &Value, name: &str) -> Result<()> {
    match find_credential(v, name) {
        Some(finding) => Err(Error::invalid_param(finding.message())),
        None => Ok(()),
    }
}

/// `options.storage`: absent → no uploads.
pub fn storage_options(v: &Value) -> Result<Option<StorageOptions>> {
    if v.is_absent() {
        return Ok(None);
    }
    if !matches!(v, Value::Object(_)) {
        return Err(Error::invalid_param(format!(
            "options.storage must be an object {{ presign }} or {{ presignEndpoint }}; got {}",
            v.describe()
        )));
    }
    refuse_secrets(v, "options.storage")?;
    let source = match (v.get("presign"), v.get("presignEndpoint")) {
        (Value::Other(kind), e) if kind == "function" && e.is_absent() => PresignSource::Callback,
        (p, Value::String(url)) if p.is_absent() => {
            check_option_url(url, "options.storage.presignEndpoint")?;
            PresignSource::Endpoint(url.clone())
        }
        (p, e) if p.is_absent() && e.is_absent() => {
            return Err(Error::invalid_param(
                "options.storage needs presign (a function) or presignEndpoint (a URL)",
            ))
        }
        (p, e) if !p.is_absent() && !e.is_absent() => {
            return Err(Error::invalid_param(
                "options.storage takes presign or presignEndpoint, not both",
            ))
        }
        (p, e) => {
            let (name, got) = if p.is_absent() {
                ("presignEndpoint must be a URL string", e)
            } else {
                ("presign must be a function", p)
            };
            return Err(Error::invalid_param(format!(
                "options.storage.{name}; got {}",
                got.describe()
            )));
        }
    };
    let outbox_max_bytes = byte_count(v, "outboxMaxBytes", DEFAULT_OUTBOX_MAX_BYTES, 40)?;
    let upload_queue_bytes = byte_count(v, "uploadQueueBytes", DEFAULT_UPLOAD_QUEUE_BYTES, 32)?;
    let persist = match v.get("persist") {
        p if p.is_absent() => true,
        Value::Bool(b) => *b,
        other => {
            return Err(Error::invalid_param(format!(
                "options.storage.persist must be true or false; got {}",
                other.describe()
            )))
        }
    };
    let presign_timeout_ms = match v.get("presignTimeout") {
        t if t.is_absent() => DEFAULT_PRESIGN_TIMEOUT_MS,
        t => integer_in(
            t,
            "options.storage.presignTimeout",
            PRESIGN_TIMEOUT_RANGE_MS.0,
            PRESIGN_TIMEOUT_RANGE_MS.1,
        )?,
    };
    Ok(Some(StorageOptions {
        source,
        outbox_max_bytes,
        upload_queue_bytes,
        persist,
        presign_timeout_ms,
    }))
}

/// `options.storage[name]`: a whole number of bytes from 0 to 2^`max_log2`, or `default`.
fn byte_count(v: &Value, name: &str, default: u64, max_log2: i32) -> Result<u64> {
    match v.get(name) {
        m if m.is_absent() => Ok(default),
        Value::Number(n) if n.fract() == 0.0 && *n >= 0.0 && *n <= 2f64.powi(max_log2) => {
            Ok(*n as u64)
        }
        other => Err(Error::invalid_param(format!(
            "options.storage.{name} must be a whole number of bytes from 0 to 2^{max_log2}; got {}",
            other.describe()
        ))),
    }
}

/// A task's `StorageConfig`: absent → the images stay Blobs in the events.
pub fn task_storage(v: &Value) -> Result<Option<TaskStorage>> {
    if v.is_absent() {
        return Ok(None);
    }
    if !matches!(v, Value::Object(_)) {
        return Err(Error::invalid_param(format!(
            "StorageConfig must be an object {{ Type: \"presigned\", PresignEndpoint?, LatestKey? }}; got {}",
            v.describe()
        )));
    }
    refuse_secrets(v, "StorageConfig")?;
    match v.get("Type") {
        Value::String(t) if t == "presigned" => {}
        other => {
            return Err(Error::invalid_param(format!(
                "StorageConfig.Type must be \"presigned\" (in a browser, uploads go through presigned URLs; the cloud services' storage types need secrets); got {}",
                other.describe()
            )))
        }
    }
    let endpoint = optional_url(v.get("PresignEndpoint"), "StorageConfig.PresignEndpoint")?;
    let latest_key = match v.get("LatestKey") {
        k if k.is_absent() => None,
        Value::String(s) => Some(Template::parse_latest(s)?),
        other => {
            return Err(Error::invalid_param(format!(
                "StorageConfig.LatestKey must be a string; got {}",
                other.describe()
            )))
        }
    };
    Ok(Some(TaskStorage {
        endpoint,
        latest_key,
    }))
}

/// A presigner's reply `{ url, method?, headers?, fields? }`, checked. Failures are
/// `ERR_PRESIGN_FAILED`.
pub fn presigned(v: &Value) -> Result<Presigned> {
    let fail = |m: String| Error::new(Code::PresignFailed, m);
    if !matches!(v, Value::Object(_)) {
        return Err(fail(format!(
            "the presigner must answer {{ url, method?, headers?, fields? }}; got {}",
            v.describe()
        )));
    }
    let url = match v.get("url") {
        Value::String(u) => u.clone(),
        other => {
            return Err(fail(format!(
                "the presigned url must be a string; got {}",
                other.describe()
            )))
        }
    };
    check_url(&url, "the presigned url").map_err(|e| fail(e.message))?;
    let method = match v.get("method") {
        m if m.is_absent() => Method::Put,
        Value::String(m) if m.eq_ignore_ascii_case("PUT") => Method::Put,
        Value::String(m) if m.eq_ignore_ascii_case("POST") => Method::Post,
        other => {
            return Err(fail(format!(
                "method must be \"PUT\" or \"POST\"; got {}",
                other.describe()
            )))
        }
    };
    let headers = string_map(v.get("headers"), "headers").map_err(fail)?;
    let fields = string_map(v.get("fields"), "fields").map_err(fail)?;
    if method == Method::Post && fields.is_empty() {
        return Err(fail("a POST upload needs the policy's form fields".into()));
    }
    Ok(Presigned {
        url,
        method,
        headers,
        fields,
    })
}

fn string_map(v: &Value, name: &str) -> std::result::Result<Vec<(String, String)>, String> {
    match v {
        m if m.is_absent() => Ok(Vec::new()),
        Value::Object(props) => props
            .iter()
            .map(|(k, val)| match val {
                Value::String(s) if !k.is_empty() && !has_line_break(k) && !has_line_break(s) => {
                    Ok((k.clone(), s.clone()))
                }
                other => Err(format!(
                    "{name}.{k} must be a one-line string; got {}",
                    other.describe()
                )),
            })
            .collect(),
        other => Err(format!(
            "{name} must be an object of strings; got {}",
            other.describe()
        )),
    }
}

fn has_line_break(s: &str) -> bool {
    s.contains(['\r', '\n'])
}

/// An object key: a checked path without leading slashes.
pub fn object_key(path: &str) -> Result<String> {
    let key = path.trim_start_matches(['/', '\\']);
    check_path(key)?;
    Ok(key.to_string())
}

/// The object's URL: the presigned URL without its query string (PUT), or the form's URL with
/// the key appended (POST, path-style).
pub fn object_url(p: &Presigned, key: &str) -> String {
    let bare = p.url.split(['?', '#']).next().unwrap_or("");
    match p.method {
        Method::Put => bare.to_string(),
        Method::Post => {
            let encoded: Vec<String> = key.split('/').map(encode_segment).collect();
            format!("{}/{}", bare.trim_end_matches('/'), encoded.join("/"))
        }
    }
}

/// Percent-encodes a path segment (RFC 3986 unreserved characters stay).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
