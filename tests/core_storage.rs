//! Storage options, StorageConfig, presigner replies, object keys and URLs, and the retry
//! policy of uploads and callbacks.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{obj, s};
use tracksnap::core::error::Code;
use tracksnap::core::retry::{
    is_permanent, is_stuck, RetryPolicy, Verdict, MAX_REFRESHES, STUCK_AFTER_REFUSALS,
    STUCK_AFTER_ROUNDS, STUCK_AGE_MS,
};
use tracksnap::core::storage::{
    find_secret, object_key, object_url, presigned, storage_options, task_storage, Method,
    PresignSource, DEFAULT_OUTBOX_MAX_BYTES, DEFAULT_PRESIGN_TIMEOUT_MS,
    DEFAULT_UPLOAD_QUEUE_BYTES,
};
use tracksnap::core::url::optional_url;
use tracksnap::core::value::Value::{self, *};
use tracksnap::core::value::TOO_DEEP;

fn func() -> Value {
    Other("function".into())
}

#[test]
fn storage_options_take_a_presigner() {
    assert_eq!(storage_options(&Undefined).unwrap(), None);
    let o = storage_options(&obj(&[("presign", func())]))
        .unwrap()
        .unwrap();
    assert_eq!(
        (o.source, o.outbox_max_bytes),
        (PresignSource::Callback, DEFAULT_OUTBOX_MAX_BYTES)
    );
    let o = storage_options(&obj(&[
        ("presignEndpoint", s("https://api.example.com/presign")),
        ("outboxMaxBytes", Number(0.0)),
    ]))
    .unwrap()
    .unwrap();
    assert_eq!(
        o.source,
        PresignSource::Endpoint("https://api.example.com/presign".into())
    );
    assert_eq!(o.outbox_max_bytes, 0);
    assert_eq!(o.upload_queue_bytes, DEFAULT_UPLOAD_QUEUE_BYTES);
    assert_eq!(o.presign_timeout_ms, DEFAULT_PRESIGN_TIMEOUT_MS);
    let small = obj(&[("presign", func()), ("uploadQueueBytes", Number(0.0))]);
    assert_eq!(
        storage_options(&small).unwrap().unwrap().upload_queue_bytes,
        0
    );
    let quick = obj(&[("presign", func()), ("presignTimeout", Number(100.0))]);
    assert_eq!(
        storage_options(&quick).unwrap().unwrap().presign_timeout_ms,
        100
    );
    assert!(storage_options(&obj(&[(
        "presignEndpoint",
        s("http://127.0.0.1:8080/presign")
    )]))
    .is_ok());

    for bad in [
        s("https://x"),
        obj(&[]),
        obj(&[("presign", s("https://x"))]),
        obj(&[("presign", func()), ("presignEndpoint", s("https://x"))]),
        obj(&[("presignEndpoint", s("http://example.com/presign"))]),
        obj(&[("presignEndpoint", Number(1.0))]),
        obj(&[("presign", func()), ("outboxMaxBytes", Number(-1.0))]),
        obj(&[("presign", func()), ("outboxMaxBytes", Number(1.5))]),
        obj(&[("presign", func()), ("outboxMaxBytes", Number(f64::NAN))]),
        obj(&[("presign", func()), ("persist", s("yes"))]),
        obj(&[("presign", func()), ("uploadQueueBytes", Number(-1.0))]),
        obj(&[("presign", func()), ("uploadQueueBytes", Number(1e10))]),
        obj(&[("presign", func()), ("uploadQueueBytes", s("1"))]),
        obj(&[("presign", func()), ("presignTimeout", Number(99.0))]),
        obj(&[("presign", func()), ("presignTimeout", Number(120_001.0))]),
        obj(&[("presign", func()), ("presignTimeout", s("500"))]),
        obj(&[
            ("presign", func()),
            ("presignTimeout", Number(f64::INFINITY)),
        ]),
    ] {
        assert_eq!(
            storage_options(&bad).unwrap_err().code,
            Code::InvalidParam,
            "{bad:?}"
        );
    }
}

#[test]
fn secrets_are_refused_wherever_they_hide() {
    for (name, v) in [
        (
            "accessKey",
            obj(&[("presign", func()), ("accessKey", s("AKIA"))]),
        ),
        (
            "SecretKey",
            obj(&[("presign", func()), ("SecretKey", s("x"))]),
        ),
        (
            "secret_access_key",
            obj(&[("presign", func()), ("secret_access_key", s("x"))]),
        ),
        (
            "s3.credentials",
            obj(&[
                ("presign", func()),
                ("s3", obj(&[("credentials", obj(&[]))])),
            ]),
        ),
        (
            "list[1].sessionToken",
            obj(&[
                ("presign", func()),
                ("list", Array(vec![Null, obj(&[("sessionToken", s("t"))])])),
            ]),
        ),
        (
            "Password",
            obj(&[("presign", func()), ("Password", s("p"))]),
        ),
    ] {
        let e = storage_options(&v).unwrap_err();
        assert_eq!(e.code, Code::InvalidParam);
        assert!(e.message.contains(name), "{name}: {}", e.message);
        assert!(
            e.message.contains("presign"),
            "the message explains presigned URLs: {}",
            e.message
        );
    }
    assert_eq!(
        find_secret(&obj(&[("bucket", s("b")), ("keyPrefix", s("p"))]), ""),
        None,
        "harmless names pass"
    );
}

/// Names from the cloud SDKs' docs, in any case and with any separators.
#[test]
fn credential_names_are_refused_in_any_spelling() {
    for name in [
        "aws_secret_access_key",
        "AWS_SECRET_ACCESS_KEY",
        "AWSAccessKeyId",
        "aws-access-key-id",
        "accessKeySecret",
        "access_key_secret",
        "tmpSecretKey",
        "TMP-SECRET-KEY",
        "accountKey",
        "account_key",
        "x-amz-security-token",
        "X_Amz_Security_Token",
        "xamzsecuritytoken",
        "X-Amz-Credential",
        "clientSecret",
    ] {
        for v in [
            obj(&[("presign", func()), (name, s("x"))]),
            obj(&[("presign", func()), ("aws", obj(&[(name, s("x"))]))]),
        ] {
            let e = storage_options(&v).unwrap_err();
            assert_eq!(e.code, Code::InvalidParam);
            assert!(e.message.contains(name), "{name}: {}", e.message);
        }
        let config = obj(&[("Type", s("presigned")), (name, s("x"))]);
        let e = task_storage(&config).unwrap_err();
        assert!(
            e.message.contains(&format!("StorageConfig.{name}")),
            "{}",
            e.message
        );
    }
    for harmless in [
        "presignTimeout",
        "keyPrefix",
        "LatestKey",
        "bucket",
        "region",
        "tokenBucket",
    ] {
        assert_eq!(
            find_secret(&obj(&[(harmless, s("x"))]), ""),
            None,
            "{harmless}"
        );
    }
}

/// The walk keeps its own stack: a secret two thousand levels down is found, and an object
/// the browser side stopped reading (too deep) is refused, not waved through.
#[test]
fn secrets_are_found_at_any_depth() {
    let mut deep = obj(&[("secretAccessKey", s("x"))]);
    for _ in 0..2000 {
        deep = Object(vec![("a".into(), deep)]);
    }
    let found = find_secret(&deep, "").expect("found");
    assert!(found.ends_with("a.secretAccessKey"), "{found}");
    assert_eq!(found.matches('.').count(), 2000);

    let cut = obj(&[
        ("presign", func()),
        ("a", obj(&[("b", Other(TOO_DEEP.into()))])),
    ]);
    let e = storage_options(&cut).unwrap_err();
    assert_eq!(e.code, Code::InvalidParam);
    assert!(
        e.message
            .contains("options.storage.a.b is nested too deeply"),
        "{}",
        e.message
    );
}

/// A URL option with a credential in its query is refused: the endpoints, a callback, and any
/// other string in the storage options; a presigned URL keeps its signature's parameters.
#[test]
fn secrets_in_url_queries_are_refused() {
    for url in [
        "https://api.example.com/presign?secret=x",
        "https://api.example.com/presign?a=1&X-Amz-Credential=AKIA%2F20260101%2Fus-east-1%2Fs3%2Faws4_request",
        "https://api.example.com/presign?X%2DAmz%2DSecurity%2DToken=t",
        "https://api.example.com/presign?aws_secret_access_key=x#f",
        "http://127.0.0.1:8080/presign?password",
    ] {
        let e = storage_options(&obj(&[("presignEndpoint", s(url))])).unwrap_err();
        assert_eq!(e.code, Code::InvalidParam, "{url}");
        assert!(
            e.message.contains("options.storage.presignEndpoint carries a credential in its query"),
            "{url}: {}",
            e.message
        );
        let config = obj(&[("Type", s("presigned")), ("PresignEndpoint", s(url))]);
        let e = task_storage(&config).unwrap_err();
        assert!(e.message.contains("StorageConfig.PresignEndpoint carries a credential"), "{}", e.message);
        let e = optional_url(&s(url), "CallbackUrl").unwrap_err();
        assert!(e.message.contains("CallbackUrl carries a credential"), "{}", e.message);
    }
    let e = storage_options(&obj(&[
        ("presign", func()),
        ("mirror", s("https://s3.example.com/b?AWSAccessKeyId=AKIA")),
    ]))
    .unwrap_err();
    assert!(
        e.message.contains("options.storage.mirror carries"),
        "{}",
        e.message
    );
    // Harmless queries and fragments pass.
    for url in [
        "https://api.example.com/presign?bucket=b&prefix=snapshots%2F",
        "https://api.example.com/presign#secret=x",
        "https://api.example.com/presign?q=secret",
    ] {
        assert!(
            storage_options(&obj(&[("presignEndpoint", s(url))])).is_ok(),
            "{url}"
        );
    }
    let signed = presigned(&obj(&[(
        "url",
        s("https://s3.example.com/b/k?X-Amz-Credential=AKIA%2F20260101&X-Amz-Security-Token=t&X-Amz-Signature=00"),
    )]))
    .unwrap();
    assert!(signed.url.contains("X-Amz-Security-Token"));
}

#[test]
fn task_storage_configs() {
    assert_eq!(task_storage(&Undefined).unwrap(), None);
    assert_eq!(
        task_storage(&obj(&[("Type", s("presigned"))]))
            .unwrap()
            .unwrap()
            .endpoint,
        None
    );
    let t = task_storage(&obj(&[
        ("Type", s("presigned")),
        ("PresignEndpoint", s("https://b.example/p")),
    ]))
    .unwrap();
    assert_eq!(t.unwrap().endpoint.as_deref(), Some("https://b.example/p"));
    for (bad, says) in [
        (obj(&[]), "StorageConfig.Type"),
        (
            obj(&[
                ("Type", Number(2.0)),
                ("CustomConfig", obj(&[("Vendor", Number(0.0))])),
            ]),
            "StorageConfig.Type",
        ),
        (
            obj(&[
                ("Type", s("presigned")),
                ("CustomConfig", obj(&[("AccessKey", s("a"))])),
            ]),
            "StorageConfig.CustomConfig.AccessKey",
        ),
        (
            obj(&[
                ("Type", s("presigned")),
                ("PresignEndpoint", s("http://10.0.0.2/p")),
            ]),
            "StorageConfig.PresignEndpoint",
        ),
        (s("presigned"), "StorageConfig"),
    ] {
        let e = task_storage(&bad).unwrap_err();
        assert!(e.message.starts_with(says), "{bad:?}: {}", e.message);
    }
}

#[test]
fn presigner_replies() {
    let p = presigned(&obj(&[(
        "url",
        s("https://s3.example/b/k.jpg?X-Amz-Signature=1"),
    )]))
    .unwrap();
    assert_eq!(
        (p.method, p.headers.len(), p.fields.len()),
        (Method::Put, 0, 0)
    );
    let p = presigned(&obj(&[
        ("url", s("http://localhost:9000/b")),
        ("method", s("post")),
        ("fields", obj(&[("key", s("k")), ("policy", s("e30="))])),
    ]))
    .unwrap();
    assert_eq!(p.method, Method::Post);
    assert_eq!(
        p.fields,
        vec![("key".into(), "k".into()), ("policy".into(), "e30=".into())],
        "order kept"
    );
    for bad in [
        Number(5.0),
        Null,
        obj(&[]),
        obj(&[("url", Number(1.0))]),
        obj(&[("url", s("http://example.com/b/k"))]),
        obj(&[("url", s("https://e.x/k")), ("method", s("DELETE"))]),
        obj(&[
            ("url", s("https://e.x/k")),
            ("headers", obj(&[("x", Number(1.0))])),
        ]),
        obj(&[
            ("url", s("https://e.x/k")),
            ("headers", obj(&[("x", s("a\r\nInjected: 1"))])),
        ]),
        obj(&[("url", s("https://e.x/b")), ("method", s("POST"))]),
    ] {
        assert_eq!(
            presigned(&bad).unwrap_err().code,
            Code::PresignFailed,
            "{bad:?}"
        );
    }
}

#[test]
fn keys_and_urls() {
    assert_eq!(object_key("/a/b.jpg").unwrap(), "a/b.jpg");
    for bad in ["../a.jpg", "a/../b", "", "/", "a\u{0}b"] {
        assert!(object_key(bad).is_err(), "{bad:?}");
    }
    let put = presigned(&obj(&[(
        "url",
        s("https://s3.example/b/a%20b.jpg?X-Amz-Signature=f#x"),
    )]))
    .unwrap();
    assert_eq!(
        object_url(&put, "a b.jpg"),
        "https://s3.example/b/a%20b.jpg"
    );
    let post = presigned(&obj(&[
        ("url", s("https://s3.example/b/")),
        ("method", s("POST")),
        ("fields", obj(&[("k", s("v"))])),
    ]))
    .unwrap();
    assert_eq!(
        object_url(&post, "d/学 1.png"),
        "https://s3.example/b/d/%E5%AD%A6%201.png"
    );
}

#[test]
fn retry_policy() {
    let p = RetryPolicy::UPLOAD;
    assert_eq!(p.verdict(1, Some(200)), Verdict::Done);
    assert_eq!(p.verdict(1, Some(204)), Verdict::Done);
    for retryable in [None, Some(500), Some(503), Some(408), Some(429)] {
        assert_eq!(p.verdict(1, retryable), Verdict::Retry, "{retryable:?}");
        assert_eq!(
            p.verdict(p.attempts, retryable),
            Verdict::GiveUp,
            "bounded: {retryable:?}"
        );
    }
    for permanent in [Some(404), Some(409), Some(413)] {
        assert_eq!(p.verdict(1, permanent), Verdict::GiveUp, "{permanent:?}");
    }
    // A refused signature asks for a fresh URL, a bounded number of times.
    assert_eq!(p.upload_verdict(1, 0, Some(403)), Verdict::Refresh);
    assert_eq!(p.upload_verdict(2, 1, Some(400)), Verdict::Refresh);
    assert_eq!(
        p.upload_verdict(3, MAX_REFRESHES, Some(403)),
        Verdict::GiveUp
    );
    // Refreshes do not use up the retries.
    assert_eq!(p.upload_verdict(4, 2, Some(500)), Verdict::Retry);

    // Backoff: doubles, capped, half of it jittered.
    let d = |n, j| p.delay_ms(n, j);
    assert_eq!((d(1, 0.0), d(1, 0.999)), (250, 499));
    assert_eq!(
        (d(2, 0.0), d(3, 0.0), d(4, 0.0), d(30, 0.0)),
        (500, 1000, 2000, 2000)
    );
    assert_eq!(d(30, 1.0), 4000);
    assert_eq!(d(1, f64::NAN), 250, "bad jitter is no jitter");
    let total: u32 = (1..p.attempts).map(|n| d(n, 1.0)).sum();
    assert!(
        total <= 4000,
        "an upload gives up within {total} ms of waiting"
    );
}

#[test]
fn outbox_images_get_stuck_on_refusals_rounds_or_age() {
    for s in [400, 401, 403, 404, 412, 413] {
        assert!(is_permanent(Some(s)), "{s}");
    }
    for s in [None, Some(200), Some(408), Some(429), Some(500), Some(503)] {
        assert!(!is_permanent(s), "{s:?}");
    }
    let r = STUCK_AFTER_REFUSALS;
    assert!(!is_stuck(r - 1, Some(404), 0.0));
    assert!(is_stuck(r, Some(413), 0.0));
    assert!(
        !is_stuck(r, Some(503), 0.0),
        "a server error is not a refusal"
    );
    assert!(!is_stuck(r, None, 0.0));
    assert!(is_stuck(STUCK_AFTER_ROUNDS, None, 0.0));
    assert!(!is_stuck(
        STUCK_AFTER_ROUNDS - 1,
        Some(500),
        STUCK_AGE_MS - 1.0
    ));
    assert!(is_stuck(1, None, STUCK_AGE_MS));
}
