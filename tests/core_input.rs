//! Every argument validator, fed the values a page can really send.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{obj, s};
use tracksnap::core::encode::ImageFormat;
use tracksnap::core::error::Code;
use tracksnap::core::input::{self, EngineOptions};
use tracksnap::core::naming::{check_path, default_snapshot_name, UtcTime};
use tracksnap::core::rotate::Rotation;
use tracksnap::core::size::Fit;
use tracksnap::core::stream::StreamType;
use tracksnap::core::value::Value::{self, *};

/// Values that are never acceptable where a specific type is expected.
fn junk() -> Vec<Value> {
    vec![
        Undefined,
        Null,
        Bool(true),
        Number(f64::NAN),
        Number(f64::INFINITY),
        Number(-1.0),
        Number(0.5),
        s(""),
        Array(vec![]),
        obj(&[]),
        Other("function".into()),
        Other("symbol".into()),
        Other("bigint".into()),
    ]
}

#[test]
fn stream_types() {
    assert_eq!(input::stream_type(&s("main")).unwrap(), StreamType::Main);
    assert_eq!(input::stream_type(&s("sub")).unwrap(), StreamType::Sub);
    assert_eq!(input::stream_type(&Number(0.0)).unwrap(), StreamType::Main);
    assert_eq!(input::stream_type(&Number(1.0)).unwrap(), StreamType::Sub);
    let mut bad = junk();
    bad.extend([s("MAIN"), s("0"), Number(2.0), s("screen")]);
    for v in bad {
        let e = input::stream_type(&v).unwrap_err();
        assert_eq!(e.code, Code::InvalidParam, "{v:?}");
        assert!(e.message.contains("streamType"), "{}", e.message);
    }
}

#[test]
fn uids_are_normalised_to_strings() {
    assert_eq!(input::uid(&Number(42.0)).unwrap(), "42");
    assert_eq!(input::uid(&Number(0.0)).unwrap(), "0");
    assert_eq!(input::uid(&Number(-0.0)).unwrap(), "0");
    assert_eq!(
        input::uid(&Number(9_007_199_254_740_991.0)).unwrap(),
        "9007199254740991"
    );
    assert_eq!(input::uid(&s("42")).unwrap(), "42");
    assert_eq!(
        input::uid(&s("teacher@room-1.a_b")).unwrap(),
        "teacher@room-1.a_b"
    );
    assert_eq!(input::uid(&s(&"u".repeat(128))).unwrap().len(), 128);
    let mut bad = junk();
    bad.extend([
        Number(1e300),
        Number(9_007_199_254_740_992.0 * 2.0),
        s(&"u".repeat(129)),
        s("a/b"),
        s("../x"),
        s("with space"),
        s("tab\t"),
        s("学生"),
    ]);
    for v in bad {
        let e = input::uid(&v).unwrap_err();
        assert_eq!(e.code, Code::InvalidParam, "{v:?}");
        assert!(e.message.contains("uid"), "{}", e.message);
    }
}

#[test]
fn channel_names_follow_the_room_id_rule() {
    assert_eq!(input::channel_name(&s("class-7.B")).unwrap(), "class-7.B");
    for v in [s(""), s("a b"), Number(7.0), Null, s(&"r".repeat(129))] {
        assert_eq!(
            input::channel_name(&v).unwrap_err().code,
            Code::InvalidParam
        );
    }
}

#[test]
fn engine_options_defaults_and_errors() {
    let d = input::engine_options(&Undefined).unwrap();
    assert_eq!(d, EngineOptions::default());
    assert_eq!(
        (d.format, d.quality, d.frame_timeout_ms),
        (ImageFormat::Jpeg, 85, 3000)
    );
    let o = input::engine_options(&obj(&[
        ("format", s("png")),
        ("quality", Number(100.0)),
        ("frameTimeout", Number(500.0)),
        ("unknown", s("ignored")),
    ]))
    .unwrap();
    assert_eq!(
        (o.format, o.quality, o.frame_timeout_ms),
        (ImageFormat::Png, 100, 500)
    );
    // Explicit undefined/null mean "default".
    let o = input::engine_options(&obj(&[("quality", Undefined), ("format", Null)])).unwrap();
    assert_eq!(o, EngineOptions::default());
    assert!(
        d.worker && !d.size_first,
        "a worker by default, speed first"
    );
    let o =
        input::engine_options(&obj(&[("worker", Bool(false)), ("sizeFirst", Bool(true))])).unwrap();
    assert!(!o.worker && o.size_first);
    assert!(o.default_spec().size_first, "taken by plain snapshots");
    let r = input::snapshot_request(&obj(&[("streamType", s("main"))]), &o).unwrap();
    assert!(r.spec.size_first, "the engine's default");
    let r = input::snapshot_request(
        &obj(&[("streamType", s("main")), ("sizeFirst", Bool(false))]),
        &o,
    )
    .unwrap();
    assert!(!r.spec.size_first, "the request's own");
    let e = input::snapshot_request(
        &obj(&[("streamType", s("main")), ("sizeFirst", Number(1.0))]),
        &o,
    )
    .unwrap_err();
    assert!(e.message.starts_with("request.sizeFirst"), "{}", e.message);

    let bad: Vec<(Value, &str)> = vec![
        (s("jpeg"), "options"),
        (Number(1.0), "options"),
        (obj(&[("format", s("jpg"))]), "options.format"),
        (obj(&[("format", s("webp"))]), "options.format"),
        (obj(&[("quality", Number(0.0))]), "options.quality"),
        (obj(&[("quality", Number(101.0))]), "options.quality"),
        (obj(&[("quality", Number(85.5))]), "options.quality"),
        (obj(&[("quality", s("85"))]), "options.quality"),
        (obj(&[("quality", Number(f64::NAN))]), "options.quality"),
        (
            obj(&[("frameTimeout", Number(99.0))]),
            "options.frameTimeout",
        ),
        (
            obj(&[("frameTimeout", Number(60_001.0))]),
            "options.frameTimeout",
        ),
        (obj(&[("worker", s("yes"))]), "options.worker"),
        (obj(&[("worker", Number(1.0))]), "options.worker"),
        (obj(&[("sizeFirst", s("true"))]), "options.sizeFirst"),
    ];
    for (v, field) in bad {
        let e = input::engine_options(&v).unwrap_err();
        assert_eq!(e.code, Code::InvalidParam, "{v:?}");
        assert!(e.message.starts_with(field), "{v:?}: {}", e.message);
    }
}

#[test]
fn snapshot_requests() {
    let opts = EngineOptions {
        format: ImageFormat::Png,
        quality: 70,
        ..EngineOptions::default()
    };
    let r = input::snapshot_request(&obj(&[("streamType", s("sub"))]), &opts).unwrap();
    assert_eq!(
        (r.uid, r.stream_type, r.path),
        (None, StreamType::Sub, None)
    );
    assert_eq!(
        (r.spec.format, r.spec.quality),
        (ImageFormat::Png, 70),
        "engine defaults"
    );
    assert_eq!(
        (r.spec.width, r.spec.height, r.spec.fit, r.spec.mirror),
        (0, 0, Fit::Fill, false)
    );

    let r = input::snapshot_request(
        &obj(&[
            ("uid", Number(7.0)),
            ("streamType", Number(0.0)),
            ("path", s("notes/board.jpg")),
            ("format", s("jpeg")),
            ("quality", Number(40.0)),
            ("width", Number(640.0)),
            ("height", Number(0.0)),
            ("fit", s("cover")),
            ("mirror", Bool(true)),
        ]),
        &opts,
    )
    .unwrap();
    assert_eq!(r.uid.as_deref(), Some("7"));
    assert_eq!(r.path.as_deref(), Some("notes/board.jpg"));
    assert_eq!((r.spec.format, r.spec.quality), (ImageFormat::Jpeg, 40));
    assert_eq!(
        (r.spec.width, r.spec.height, r.spec.fit, r.spec.mirror),
        (640, 0, Fit::Cover, true)
    );

    let base = [("streamType", s("main"))];
    let with = |k: &str, v: Value| {
        let mut p: Vec<(&str, Value)> = base.to_vec();
        p.push((k, v));
        obj(&p)
    };
    let bad: Vec<(Value, &str)> = vec![
        (Undefined, "request"),
        (s("main"), "request"),
        (obj(&[]), "request.streamType"),
        (obj(&[("streamType", s("side"))]), "request.streamType"),
        (with("uid", Number(-3.0)), "uid"),
        (with("uid", s("a b")), "uid"),
        (with("path", s("")), "path"),
        (with("path", s("../etc/passwd")), "path"),
        (with("path", s("a/../../b.jpg")), "path"),
        (with("path", s("a\\..\\b.jpg")), "path"),
        (with("path", s("evil\u{0}.jpg")), "path"),
        (with("path", s("line\nbreak.jpg")), "path"),
        (with("path", s("dir/")), "path"),
        (with("path", s(&"p".repeat(1025))), "path"),
        (with("path", Number(1.0)), "path"),
        (with("width", Number(f64::NAN)), "request.width"),
        (with("width", Number(-1.0)), "request.width"),
        (with("width", Number(7681.0)), "request.width"),
        (with("width", Number(640.5)), "request.width"),
        (with("width", s("640")), "request.width"),
        (with("height", Number(f64::INFINITY)), "request.height"),
        (with("height", Number(1e12)), "request.height"),
        (with("fit", s("stretch")), "request.fit"),
        (with("mirror", s("yes")), "request.mirror"),
        (with("mirror", Number(1.0)), "request.mirror"),
        (with("format", s("gif")), "request.format"),
        (with("quality", Number(0.0)), "request.quality"),
    ];
    for (v, field) in bad {
        let e = input::snapshot_request(&v, &opts).unwrap_err();
        assert_eq!(e.code, Code::InvalidParam, "{v:?}");
        assert!(e.message.starts_with(field), "{v:?}: {}", e.message);
    }
}

#[test]
fn rotations_are_0_90_180_or_270_from_the_engine_or_the_request() {
    let d = input::engine_options(&Undefined).unwrap();
    assert_eq!(d.rotate, Rotation::None);
    let main = [("streamType", s("main"))];
    let request = |extra: &[(&str, Value)], o: &EngineOptions| {
        let mut p: Vec<(&str, Value)> = main.to_vec();
        p.extend_from_slice(extra);
        input::snapshot_request(&obj(&p), o)
    };
    assert_eq!(request(&[], &d).unwrap().spec.rotate, Rotation::None);
    for (degrees, r) in [
        (0.0, Rotation::None),
        (90.0, Rotation::Cw90),
        (180.0, Rotation::Cw180),
        (270.0, Rotation::Cw270),
    ] {
        let o = input::engine_options(&obj(&[("rotate", Number(degrees))])).unwrap();
        assert_eq!(o.rotate, r);
        assert_eq!(
            o.default_spec().rotate,
            r,
            "plain snapshots take the engine's"
        );
        assert_eq!(
            request(&[], &o).unwrap().spec.rotate,
            r,
            "a request without its own"
        );
        let own = request(&[("rotate", Number(180.0))], &o).unwrap();
        assert_eq!(own.spec.rotate, Rotation::Cw180, "the request's own wins");
        let zero = request(&[("rotate", Number(0.0))], &o).unwrap();
        assert_eq!(
            zero.spec.rotate,
            Rotation::None,
            "0 turns it off for one call"
        );
        let null = request(&[("rotate", Null)], &o).unwrap();
        assert_eq!(null.spec.rotate, r, "null is absent");
    }
    let bad = [
        Number(45.0),
        Number(-90.0),
        Number(360.0),
        Number(90.5),
        Number(f64::NAN),
        Number(f64::INFINITY),
        s("90"),
        Bool(true),
        obj(&[]),
    ];
    for v in bad {
        let e = input::engine_options(&obj(&[("rotate", v.clone())])).unwrap_err();
        assert_eq!(e.code, Code::InvalidParam, "{v:?}");
        assert!(
            e.message
                .starts_with("options.rotate must be 0, 90, 180 or 270"),
            "{v:?}: {}",
            e.message
        );
        let e = request(&[("rotate", v.clone())], &d).unwrap_err();
        assert_eq!(e.code, Code::InvalidParam, "{v:?}");
        assert!(
            e.message
                .starts_with("request.rotate must be 0, 90, 180 or 270"),
            "{v:?}: {}",
            e.message
        );
    }
    let e = request(&[("rotate", s("90"))], &d).unwrap_err();
    assert!(e.message.ends_with("got \"90\""), "{}", e.message);
}

#[test]
fn enabled_must_be_a_boolean() {
    assert!(input::enabled(&Bool(true)).unwrap());
    assert!(!input::enabled(&Bool(false)).unwrap());
    for v in [Undefined, Number(1.0), s("true")] {
        assert_eq!(input::enabled(&v).unwrap_err().code, Code::InvalidParam);
    }
}

#[test]
fn paths() {
    for ok in [
        "a.jpg",
        "/sdcard/Snapshots/board.jpg",
        "room 7/学生/截图.png",
        "a..b.jpg",
        ".hidden.jpg",
    ] {
        check_path(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in [
        "",
        "..",
        "./a.jpg",
        "a/./b.jpg",
        "a/../b",
        "x/",
        "bell\u{7}.jpg",
        "del\u{7f}.jpg",
    ] {
        assert_eq!(
            check_path(bad).unwrap_err().code,
            Code::InvalidParam,
            "{bad:?}"
        );
    }
}

#[test]
fn utc_stamps() {
    // Seed 001's example: 2019-06-11 07:32:46.073 UTC.
    let t = UtcTime::from_unix_ms(1_560_238_366_073);
    assert_eq!(t.compact(), "20190611073246073");
    assert_eq!(UtcTime::from_unix_ms(0).compact(), "19700101000000000");
    // Leap day, end of a leap year, and a millisecond before the epoch.
    assert_eq!(
        UtcTime::from_unix_ms(951_782_400_000).compact(),
        "20000229000000000"
    );
    assert_eq!(
        UtcTime::from_unix_ms(1_735_689_599_999).compact(),
        "20241231235959999"
    );
    assert_eq!(UtcTime::from_unix_ms(-1).compact(), "19691231235959999");
}

#[test]
fn default_names() {
    let ms = 1_560_238_366_073;
    assert_eq!(
        default_snapshot_name(None, StreamType::Main, ImageFormat::Jpeg, ms, 0),
        "local_main_20190611073246073.jpg"
    );
    assert_eq!(
        default_snapshot_name(Some("42"), StreamType::Sub, ImageFormat::Png, ms, 2),
        "42_sub_20190611073246073_2.png"
    );
}
