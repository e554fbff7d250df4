//! Every request validator over arbitrary JSON-ish values (see `tracksnap_fuzz::parse_value`):
//! `StartSnapshot`, `UpdateSnapshot`, the engine's options and `snapshot(request)`.
//!
//! Properties: no panic, and whatever is accepted keeps the documented ranges (src/core/task.rs,
//! src/core/input.rs): ids match `^[a-zA-Z0-9_@\-.]{1,128}$`, ≤ 17 distinct target streams with
//! distinct Index values, MaxIdleTime in [1, 86400], Interval in [1, 600], Width/Height ≤ 1920,
//! URLs that pass `check_url`, no credential anywhere in StorageConfig, a template that gives
//! safe keys; quality 1–100, sides ≤ 7680, a safe path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracksnap::core::encode::ImageFormat;
use tracksnap::core::input::{self, EngineOptions};
use tracksnap::core::naming::ImageFacts;
use tracksnap::core::size::MAX_SIDE;
use tracksnap::core::storage::{find_secret, PresignSource};
use tracksnap::core::stream::StreamType;
use tracksnap::core::task::{
    self, INTERVAL_RANGE_S, MAX_IDLE_RANGE_S, MAX_IMAGE_SIDE, MAX_STREAMS,
};
use tracksnap::core::url::check_url;
use tracksnap::core::value::Value;
use tracksnap_fuzz::{assert_safe_key, is_cloud_id, parse_value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(v) = parse_value(text) else {
        return;
    };
    start(&v);
    update(&v);
    let options = engine(&v);
    snapshot(&v, &options);
    // Requests arrive wrapped too: `{ ImageConfig: v }`, `{ storage: v }`, … reach the nested
    // validators with whatever `v` is.
    for field in ["ImageConfig", "TargetStreams", "StorageConfig", "storage"] {
        let mut props = vec![
            ("AppId".to_string(), Value::String("app".into())),
            ("RoomId".to_string(), Value::String("room".into())),
            ("TaskId".to_string(), Value::String("task".into())),
            ("presign".to_string(), Value::Other("function".into())),
            ("streamType".to_string(), Value::String("main".into())),
        ];
        props.push((field.to_string(), v.clone()));
        let wrapped = Value::Object(props);
        start(&wrapped);
        update(&wrapped);
    }
});

fn start(v: &Value) {
    let Ok(c) = task::start_request(v) else {
        return;
    };
    for (name, id) in [
        ("AppId", &c.key.app_id),
        ("RoomId", &c.key.room_id),
        ("TaskId", &c.key.task_id),
    ] {
        assert!(is_cloud_id(id), "{name} {id:?} accepted");
        assert_eq!(v.get(name), &Value::String(id.clone()), "{name} changed");
    }
    if let Some(b) = &c.business_id {
        assert!(is_cloud_id(b), "BusinessId {b:?} accepted");
    }
    check_targets(&c.targets);
    assert!(
        in_range(c.max_idle_s, MAX_IDLE_RANGE_S),
        "MaxIdleTime {}",
        c.max_idle_s
    );
    assert!(c.image.width <= MAX_IMAGE_SIDE && c.image.height <= MAX_IMAGE_SIDE);
    assert!(
        in_range(c.image.interval_s, INTERVAL_RANGE_S),
        "Interval {}",
        c.image.interval_s
    );
    if let Some(url) = &c.callback_url {
        assert!(check_url(url, "CallbackUrl").is_ok(), "CallbackUrl {url:?}");
    }
    if let Some(s) = &c.storage {
        assert_eq!(
            find_secret(v.get("StorageConfig"), ""),
            None,
            "a secret was accepted"
        );
        if let Some(url) = &s.endpoint {
            assert!(
                check_url(url, "PresignEndpoint").is_ok(),
                "PresignEndpoint {url:?}"
            );
        }
    }
    // The task's own names: whatever this task renders is an error or a safe key.
    let users: Vec<(&str, StreamType, Option<u32>)> = if c.targets.is_empty() {
        vec![
            ("42", StreamType::Main, None),
            ("42", StreamType::Sub, None),
        ]
    } else {
        c.targets
            .iter()
            .map(|t| (t.user_id.as_str(), t.stream_type, t.index))
            .collect()
    };
    for (user_id, stream_type, index) in users {
        let facts = ImageFacts {
            unix_ms: 1_560_238_366_073,
            ..c.image_facts(user_id, stream_type, index)
        };
        if let Ok(key) = c.template.render(&facts) {
            assert_safe_key(&key, "the task's template");
        }
    }
}

fn update(v: &Value) {
    let Ok(u) = task::update_request(v) else {
        return;
    };
    assert!(
        is_cloud_id(&u.key.task_id) && is_cloud_id(&u.key.room_id) && is_cloud_id(&u.key.app_id)
    );
    if let Some(i) = u.interval_s {
        assert!(in_range(i, INTERVAL_RANGE_S), "Interval {i}");
    }
    if let Some(m) = u.max_idle_s {
        assert!(in_range(m, MAX_IDLE_RANGE_S), "MaxIdleTime {m}");
    }
    if let Some(t) = &u.targets {
        check_targets(t);
    }
    // UpdateSnapshot never changes the picture.
    for field in ["Format", "Width", "Height"] {
        assert!(
            v.get("ImageConfig").get(field).is_absent(),
            "ImageConfig.{field} updated"
        );
    }
}

fn check_targets(targets: &[task::TargetStream]) {
    assert!(targets.len() <= MAX_STREAMS, "{} streams", targets.len());
    for (i, a) in targets.iter().enumerate() {
        assert!(is_cloud_id(&a.user_id), "UserId {:?}", a.user_id);
        for b in &targets[..i] {
            assert!(
                (a.user_id.as_str(), a.stream_type) != (b.user_id.as_str(), b.stream_type),
                "stream {a:?} twice"
            );
            assert!(
                a.index.is_none() || a.index != b.index,
                "Index {:?} twice",
                a.index
            );
        }
    }
}

fn engine(v: &Value) -> EngineOptions {
    let Ok(o) = input::engine_options(v) else {
        return EngineOptions::default();
    };
    assert!((1..=100).contains(&o.quality), "quality {}", o.quality);
    assert!(
        (100..=60_000).contains(&o.frame_timeout_ms),
        "frameTimeout {}",
        o.frame_timeout_ms
    );
    if let Some(s) = &o.storage {
        assert_eq!(
            find_secret(v.get("storage"), ""),
            None,
            "a secret was accepted"
        );
        assert!(s.outbox_max_bytes <= 1 << 40);
        if let PresignSource::Endpoint(url) = &s.source {
            assert!(
                check_url(url, "presignEndpoint").is_ok(),
                "presignEndpoint {url:?}"
            );
        }
    }
    o
}

fn snapshot(v: &Value, options: &EngineOptions) {
    let Ok(r) = input::snapshot_request(v, options) else {
        return;
    };
    if let Some(uid) = &r.uid {
        assert!(is_cloud_id(uid), "uid {uid:?}");
    }
    if let Some(path) = &r.path {
        assert_safe_key(path.trim_start_matches(['/', '\\']), "request.path");
    }
    let s = &r.spec;
    assert!((1..=100).contains(&s.quality), "quality {}", s.quality);
    assert!(
        s.width <= MAX_SIDE && s.height <= MAX_SIDE,
        "{}×{}",
        s.width,
        s.height
    );
    if v.get("format").is_absent() {
        assert_eq!(s.format, options.format);
    } else {
        let want = if s.format == ImageFormat::Jpeg {
            "jpeg"
        } else {
            "png"
        };
        assert_eq!(v.get("format"), &Value::String(want.into()));
    }
    if v.get("rotate").is_absent() {
        assert_eq!(s.rotate, options.rotate);
    } else {
        let degrees = f64::from(s.rotate.degrees());
        assert_eq!(v.get("rotate"), &Value::Number(degrees));
    }
}

fn in_range(v: u32, (min, max): (u32, u32)) -> bool {
    (min..=max).contains(&v)
}
