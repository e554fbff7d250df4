//! Periodic image names with a fixed clock: the default (seed 001) layout, the Tencent preset,
//! templates, and the uniqueness backstop.
#![cfg(not(target_arch = "wasm32"))]

use tracksnap::core::encode::ImageFormat;
use tracksnap::core::naming::{
    check_path, create_time, image_key, outbox_id, pic_url, ImageFacts, RecentNames, Template,
    MAX_PATH_BYTES, NAME_ROOM, PLACEHOLDERS,
};
use tracksnap::core::stream::StreamType;

/// 2019-06-11 07:32:46.073 UTC, seed 001's example.
const MS: i64 = 1_560_238_366_073;

fn facts(stream_type: StreamType, format: ImageFormat) -> ImageFacts<'static> {
    ImageFacts {
        task_id: "sid",
        room_id: "channel1",
        app_id: "app",
        business_id: "biz",
        user_id: "123",
        stream_type,
        index: Some(4),
        width: 640,
        height: 352,
        format,
        unix_ms: MS,
        seq: 17,
    }
}

#[test]
fn default_layout_is_seed_001s() {
    let t = Template::default_layout();
    assert_eq!(
        t.render(&facts(StreamType::Main, ImageFormat::Jpeg))
            .unwrap(),
        "sid_channel1__uid_s_123__uid_e_video_20190611073246073.jpg"
    );
    assert_eq!(
        t.render(&facts(StreamType::Main, ImageFormat::Png))
            .unwrap(),
        "sid_channel1__uid_s_123__uid_e_video_20190611073246073.png"
    );
    // A sub stream says "subvideo": a user's two streams never share a name.
    assert_eq!(
        t.render(&facts(StreamType::Sub, ImageFormat::Jpeg))
            .unwrap(),
        "sid_channel1__uid_s_123__uid_e_subvideo_20190611073246073.jpg"
    );
    assert_eq!(Template::parse("agora").unwrap(), t);
}

#[test]
fn tencent_preset() {
    let t = Template::parse("tencent").unwrap();
    // The key has no leading slash; pic_url adds it back.
    assert_eq!(
        t.render(&facts(StreamType::Main, ImageFormat::Jpeg))
            .unwrap(),
        "2019-06-11/channel1_123_main-screenshot-07-32-46-640x352.jpg"
    );
}

#[test]
fn every_placeholder() {
    let all: String = PLACEHOLDERS
        .iter()
        .map(|p| format!("{{{p}}}"))
        .collect::<Vec<_>>()
        .join("|");
    let t = Template::parse(&all).unwrap();
    assert_eq!(
        t.render(&facts(StreamType::Sub, ImageFormat::Png)).unwrap(),
        "sid|channel1|app|biz|123|1|4|20190611073246073|2019-06-11|07-32-46|640|352|17|png|channel1_123_sub|subvideo"
    );
    let mut f = facts(StreamType::Main, ImageFormat::Jpeg);
    f.index = None;
    let t = Template::parse("{Index}x{seq}").unwrap();
    assert_eq!(t.render(&f).unwrap(), "x17", "no Index renders empty");
}

#[test]
fn templates_are_checked_when_parsed() {
    for bad in [
        "{UserId}.jpg",
        "{date}.jpg",
        "{time}.jpg",
        "{seq",
        "{Seq}",
        "{}",
        "../{utc}",
        "x/./{utc}",
        "tencentx",
    ] {
        let e = Template::parse(bad).unwrap_err();
        assert!(!e.message.is_empty(), "{bad}");
    }
    for good in ["{seq}", "{utc}.jpg", "/{date}/{time}", "a/b/c-{seq}.{ext}"] {
        Template::parse(good).unwrap_or_else(|e| panic!("{good}: {}", e.message));
    }
}

#[test]
fn recent_names_never_repeat() {
    let mut r = RecentNames::new(3);
    assert_eq!(r.unique("a.jpg".into()), "a.jpg");
    assert_eq!(r.unique("a.jpg".into()), "a_2.jpg");
    assert_eq!(r.unique("a.jpg".into()), "a_3.jpg");
    assert_eq!(
        r.unique("dir.v2/name".into()),
        "dir.v2/name",
        "a dot in a folder is no extension"
    );
    assert_eq!(r.unique("dir.v2/name".into()), "dir.v2/name_2");
    // Bounded: the oldest names are forgotten.
    let mut r = RecentNames::new(2);
    r.unique("x".into());
    r.unique("y".into());
    r.unique("z".into());
    assert_eq!(r.unique("x".into()), "x");
}

/// The longest values every field can take (as `Template::parse` renders them).
fn longest(stream_type: StreamType) -> ImageFacts<'static> {
    const ID: &str = concat!(
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    );
    ImageFacts {
        task_id: ID,
        room_id: ID,
        app_id: ID,
        business_id: ID,
        user_id: ID,
        stream_type,
        index: Some(u32::MAX),
        width: 7680,
        height: 7680,
        format: ImageFormat::Jpeg,
        unix_ms: 4_102_444_799_999,
        seq: u64::MAX,
    }
}

#[test]
fn an_accepted_template_names_every_image_within_the_limit() {
    // Found by fuzz/fuzz_targets/naming.rs: templates were measured for a sub stream only
    // ({stream} is a byte longer for a main stream), and a recovered task's bak<n>_ prefix and
    // the _<n> of a repeated name could push a key past 1024 bytes (S3 refuses such keys).
    let pad = |n: usize| "p".repeat(n);
    let three = |n: usize| format!("{{stream}}{{stream}}{{stream}}{{utc}}{}", pad(n));
    // With the longest ids {stream} is 262 bytes for a main stream (261 for a sub), {utc} 17.
    assert!(
        Template::parse(&three(222)).is_err(),
        "1022 bytes for a sub stream, 1025 for a main one"
    );
    let most = 3 * 262 + 17;
    let room = MAX_PATH_BYTES - NAME_ROOM - most;
    let t = Template::parse(&three(room)).unwrap_or_else(|e| panic!("{}", e.message));
    for stream_type in StreamType::BOTH {
        let mut names = RecentNames::new(64);
        for _ in 0..65 {
            let key = t.render(&longest(stream_type)).unwrap();
            let name = names.unique(format!("bak{}_{key}", u32::MAX));
            assert!(check_path(&name).is_ok(), "{} bytes", name.len());
        }
    }
    let e = Template::parse(&three(room + 1)).unwrap_err();
    let limit = format!("at most {}", MAX_PATH_BYTES - NAME_ROOM);
    assert!(e.message.contains(&limit), "{}", e.message);
}

#[test]
fn a_leading_backslash_is_a_leading_slash() {
    // Found by fuzz/fuzz_targets/requests.rs: `\` separates like `/` (check_path, object_key),
    // but only `/` was dropped from the front of a rendered key and checked for empty segments.
    let f = facts(StreamType::Main, ImageFormat::Jpeg);
    let t = Template::parse("\\\\/{UserId}_{seq}.{ext}").unwrap();
    assert_eq!(t.render(&f).unwrap(), "123_17.jpg");
    assert!(Template::parse("a\\\\{seq}").is_err(), "an empty segment");
    assert!(Template::parse("a/\\{seq}").is_err(), "an empty segment");
}

#[test]
fn a_recovered_run_prefixes_its_keys_with_bak_n() {
    let t = Template::default_layout();
    let f = facts(StreamType::Main, ImageFormat::Jpeg);
    let plain = "sid_channel1__uid_s_123__uid_e_video_20190611073246073.jpg";
    assert_eq!(image_key(&t, &f, None).unwrap(), plain);
    assert_eq!(image_key(&t, &f, Some(0)).unwrap(), format!("bak0_{plain}"));
    assert_eq!(image_key(&t, &f, Some(7)).unwrap(), format!("bak7_{plain}"));
    // The prefix goes before the whole key, folders included.
    let t = Template::parse("tencent").unwrap();
    assert_eq!(
        image_key(&t, &f, Some(1)).unwrap(),
        "bak1_2019-06-11/channel1_123_main-screenshot-07-32-46-640x352.jpg"
    );
    // A name the template cannot give stays an error, recovery or not.
    let t = Template::parse("{seq}/{Index}/x").unwrap();
    let mut f = f;
    f.index = None;
    assert!(image_key(&t, &f, None).is_err());
    assert!(image_key(&t, &f, Some(1)).is_err());
}

#[test]
fn tencent_fields() {
    assert_eq!(pic_url("2019-06-11/a.jpg"), "/2019-06-11/a.jpg");
    assert_eq!(pic_url("bak0_a.jpg"), "/bak0_a.jpg");
    assert_eq!(pic_url(""), "", "no key, no pic_url");
    assert_eq!(create_time(MS as f64), 1_560_238_366.0);
    assert_eq!(create_time(1_560_238_366_999.9), 1_560_238_366.0);
    assert_eq!(create_time(0.0), 0.0);
}

#[test]
fn outbox_ids_sort_by_time_and_differ_by_engine() {
    let ids = [
        outbox_id(999.0, "b", 7),
        outbox_id(1_000.0, "a", 0),
        outbox_id(MS as f64, "a", 1),
        outbox_id(MS as f64, "a", 2),
        outbox_id(1e14, "a", 3),
    ];
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, ids, "string order is time order");
    assert_eq!(ids[2], "001560238366073-a-00000001");
    assert_ne!(outbox_id(MS as f64, "a", 1), outbox_id(MS as f64, "b", 1));
    assert_eq!(outbox_id(-5.0, "a", 0), "000000000000000-a-00000000");
}
