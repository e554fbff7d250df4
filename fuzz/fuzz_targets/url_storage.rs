//! URL checks and the storage validators: `check_url`, `options.storage`, a task's
//! `StorageConfig`, a presigner's reply, object keys and object URLs.
//!
//! Input: the first line is a URL (also used as an object key); the rest is a JSON-ish value
//! (see `tracksnap_fuzz::parse_value`) given to each storage validator.
//!
//! Properties: an accepted URL is at most 4096 bytes, has no space or control character and
//! no credentials, and — read by a WHATWG URL parser (the `url` crate, as a browser would) — is
//! https, or http to a loopback host; the scheme's case never matters. Accepted storage never
//! holds a credential-named property at any depth and only names checked URLs; presigned
//! headers and fields are one-line with non-empty names, and POST has fields. Object keys are
//! safe; object URLs drop the query (PUT) or append the key percent-encoded segment by segment
//! (POST), so the key reads back from the URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracksnap::core::storage::{
    find_secret, object_key, object_url, presigned, storage_options, task_storage, Method,
    PresignSource,
};
use tracksnap::core::url::{check_url, MAX_URL_BYTES};
use tracksnap::core::value::Value;
use tracksnap_fuzz::{assert_safe_key, parse_value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    url(first);
    let key = object_key(first).ok();
    if let Some(k) = &key {
        assert_safe_key(k, "object_key");
    }
    let Some(v) = parse_value(rest) else {
        return;
    };
    storage(&v);
    // The value as the presigner's whole reply, and as its url.
    for reply in [
        v.clone(),
        obj(&[("url", Value::String(first.into())), ("fields", v.clone())]),
    ] {
        if let Ok(p) = presigned(&reply) {
            check_presigned(&p, &reply, key.as_deref());
        }
    }
});

fn obj(props: &[(&str, Value)]) -> Value {
    Value::Object(
        props
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn url(u: &str) {
    let ok = check_url(u, "url").is_ok();
    // Only the scheme is case-insensitive for us; the host is compared in lower case already.
    let flipped: String = match u.find("://") {
        Some(i) => u[..i]
            .chars()
            .map(flip_case)
            .chain(u[i..].chars())
            .collect(),
        None => u.to_string(),
    };
    assert_eq!(
        check_url(&flipped, "url").is_ok(),
        ok,
        "{u:?} and {flipped:?} differ"
    );
    if !ok {
        return;
    }
    assert!(u.len() <= MAX_URL_BYTES);
    assert!(
        !u.chars().any(|c| c.is_control() || c.is_whitespace()),
        "{u:?}"
    );
    let lower = u.to_ascii_lowercase();
    assert!(
        lower.starts_with("https://") || lower.starts_with("http://"),
        "{u:?}"
    );
    if let Ok(parsed) = url::Url::parse(u) {
        assert!(
            parsed.username().is_empty() && parsed.password().is_none(),
            "credentials in {u:?}"
        );
        match parsed.scheme() {
            "https" => {}
            "http" => {
                let loopback = match parsed.host() {
                    Some(url::Host::Domain(d)) => d == "localhost",
                    Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                    Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                    None => false,
                };
                assert!(loopback, "{u:?} sends http to {:?}", parsed.host_str());
            }
            other => panic!("{u:?} has scheme {other}"),
        }
    }
    // A browser reads it as the same scheme: http stays http, https stays https.
    if lower.starts_with("http://") {
        let secure = format!("https://{}", &u[7..]);
        assert!(
            check_url(&secure, "url").is_ok(),
            "{secure:?} refused though {u:?} passes"
        );
    }
}

fn flip_case(c: char) -> char {
    if c.is_ascii_lowercase() {
        c.to_ascii_uppercase()
    } else {
        c.to_ascii_lowercase()
    }
}

fn storage(v: &Value) {
    let mut props = vec![("presign".to_string(), Value::Other("function".into()))];
    if let Value::Object(p) = v {
        props.extend(p.iter().cloned());
    }
    for candidate in [v.clone(), Value::Object(props)] {
        if let Ok(Some(o)) = storage_options(&candidate) {
            assert_eq!(find_secret(&candidate, ""), None, "a secret was accepted");
            assert!(o.outbox_max_bytes <= 1 << 40);
            assert!((100..=120_000).contains(&o.presign_timeout_ms));
            match &o.source {
                PresignSource::Endpoint(u) => {
                    assert!(check_url(u, "endpoint").is_ok(), "{u:?}");
                    assert!(candidate.get("presign").is_absent());
                }
                PresignSource::Callback => {
                    assert_eq!(candidate.get("presign"), &Value::Other("function".into()));
                    assert!(candidate.get("presignEndpoint").is_absent());
                }
            }
        }
    }
    if let Ok(Some(s)) = task_storage(v) {
        assert_eq!(find_secret(v, ""), None, "a secret was accepted");
        assert_eq!(v.get("Type"), &Value::String("presigned".into()));
        if let Some(u) = &s.endpoint {
            assert!(check_url(u, "PresignEndpoint").is_ok(), "{u:?}");
        }
    }
}

fn check_presigned(p: &tracksnap::core::storage::Presigned, reply: &Value, key: Option<&str>) {
    assert!(check_url(&p.url, "url").is_ok(), "{:?}", p.url);
    for (k, val) in p.headers.iter().chain(&p.fields) {
        assert!(!k.is_empty(), "an empty name");
        assert!(
            ![k, val].iter().any(|s| s.contains(['\r', '\n'])),
            "{k:?}: {val:?}"
        );
    }
    if p.method == Method::Post {
        assert!(!p.fields.is_empty(), "POST without fields");
    }
    if let Value::Object(fields) = reply.get("fields") {
        let names: Vec<&String> = fields.iter().map(|(k, _)| k).collect();
        let kept: Vec<&String> = p.fields.iter().map(|(k, _)| k).collect();
        assert_eq!(names, kept, "fields reordered");
    }
    let Some(key) = key else {
        return;
    };
    let u = object_url(p, key);
    let bare = p.url.split(['?', '#']).next().unwrap_or("");
    match p.method {
        Method::Put => assert_eq!(u, bare),
        Method::Post => {
            let base = bare.trim_end_matches('/');
            let tail = u.strip_prefix(base).and_then(|t| t.strip_prefix('/'));
            let tail = tail.unwrap_or_else(|| panic!("{u:?} does not extend {base:?}"));
            assert!(!tail.contains(['?', '#', ' ']), "{u:?}");
            let decoded: Vec<String> = tail.split('/').map(percent_decode).collect();
            assert_eq!(decoded.join("/"), key, "{u:?}");
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
