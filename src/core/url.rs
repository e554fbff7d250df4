//! Which URLs the engine will send data to.

use super::error::{Error, Result};
use super::secret::{query_credential, Finding};
use super::value::Value;

/// The longest URL accepted.
pub const MAX_URL_BYTES: usize = 4096;

/// `https://…`, or `http://…` on a loopback host (`localhost`, `127.x.x.x`, `[::1]`): data
/// about a classroom must not cross a network in clear text. No credentials in the URL, no
/// control characters or spaces.
pub fn check_url(url: &str, field: &str) -> Result<()> {
    let shown = || Value::String(url.to_string()).describe();
    let bad = |why: &str| {
        Err(Error::invalid_param(format!(
            "{field} {why}; got {}",
            shown()
        )))
    };
    if url.len() > MAX_URL_BYTES {
        return bad(&format!("must be at most {MAX_URL_BYTES} bytes"));
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return bad("must not contain spaces or control characters");
    }
    let lower = url.to_ascii_lowercase();
    let (secure, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (false, rest)
    } else {
        return bad("must be an https:// URL (or http:// on a loopback host)");
    };
    // A browser reads `\` as `/` in http(s) URLs (`https://\/p@host` is user p at host):
    // the host ends there too.
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return bad("must not carry credentials");
    }
    let host = host_of(authority);
    if host.is_empty() {
        return bad("has no host");
    }
    if !secure && !is_loopback(host) {
        return bad(
            "must use https:// unless it points at this machine (localhost, 127.0.0.1, [::1])",
        );
    }
    Ok(())
}

/// A URL the page configures (an endpoint, a callback): [`check_url`], and no credential in its
/// query (`?X-Amz-Credential=…`, `?secret=…`). Presigned URLs are not such options: they carry
/// their signature's parameters by design.
pub fn check_option_url(url: &str, field: &str) -> Result<()> {
    check_url(url, field)?;
    match query_credential(url) {
        Some(name) => Err(Error::invalid_param(
            Finding::Query(field.to_string(), name).message(),
        )),
        None => Ok(()),
    }
}

/// An optional URL field: absent → `None`; a string → checked with [`check_option_url`].
pub fn optional_url(v: &Value, field: &str) -> Result<Option<String>> {
    match v {
        u if u.is_absent() => Ok(None),
        Value::String(url) => check_option_url(url, field).map(|()| Some(url.clone())),
        other => Err(Error::invalid_param(format!(
            "{field} must be a URL string; got {}",
            other.describe()
        ))),
    }
}

/// The host of `host[:port]` (IPv6 hosts keep their brackets).
fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        authority
            .find(']')
            .and_then(|end| authority.get(..=end))
            .unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    }
}

fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host == "[::1]" {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    matches!(octets.as_slice(), ["127", _, _, _])
        && octets.iter().all(|o| {
            // Digits only: `parse` also takes `+1`, and a browser reads `127.0.0.+1` as a name.
            !o.is_empty()
                && o.len() <= 3
                && o.bytes().all(|b| b.is_ascii_digit())
                && o.parse::<u8>().is_ok()
        })
}
