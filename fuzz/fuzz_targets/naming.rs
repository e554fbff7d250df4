//! File names: `FileNameTemplate`s, the facts they are rendered with, UTC stamps, default
//! snapshot names, caller paths and object keys, and the uniqueness backstop.
//!
//! Input, one item per line (missing lines take the host tests' values):
//! 0 the template (or a preset name); 1–5 TaskId, RoomId, AppId, BusinessId, UserId;
//! 6 `stream format index width height unix_ms seq` (`stream`/`format` 0 or 1, `index` `-` for
//! none); 7… paths, checked as caller paths and fed to the uniqueness backstop.
//!
//! Properties: a rendered name is an error or a safe key (no `.`/`..` segment, no leading or
//! trailing slash, no empty segment, no control character, ≤ 1024 bytes); a template accepted
//! by `Template::parse` names every ordinary image (cloud ids that are not only dots, a
//! BusinessId, an Index, sides ≤ 7680, a time up to 2099) and names two images of a stream
//! differently; UTC stamps are valid calendar times that convert back to the same instant;
//! default names and accepted paths are safe; the backstop never repeats a recent name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracksnap::core::encode::ImageFormat;
use tracksnap::core::naming::{
    check_path, default_snapshot_name, ImageFacts, RecentNames, Template, UtcTime, MAX_PATH_BYTES,
};
use tracksnap::core::size::MAX_SIDE;
use tracksnap::core::storage::object_key;
use tracksnap::core::stream::StreamType;
use tracksnap_fuzz::{assert_safe_key, is_cloud_id, unsafe_key};

/// The latest time `Template::parse` renders with: 2099-12-31T23:59:59.999Z.
const LAST_MS: i64 = 4_102_444_799_999;
const RECENT: usize = 4;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines: Vec<&str> = text.split('\n').collect();
    let line = |i: usize, default: &'static str| lines.get(i).copied().unwrap_or(default);
    let template = line(0, "agora");
    let ids = [
        line(1, "sid"),
        line(2, "channel1"),
        line(3, "app"),
        line(4, "biz"),
        line(5, "123"),
    ];
    let mut nums = line(6, "0 0 4 640 352 1560238366073 17").split_whitespace();
    let mut num = |default: i64| nums.next().map_or(Some(default), |t| t.parse::<i64>().ok());
    let stream_type = if num(0).unwrap_or(0) & 1 == 1 {
        StreamType::Sub
    } else {
        StreamType::Main
    };
    let format = if num(0).unwrap_or(0) & 1 == 1 {
        ImageFormat::Png
    } else {
        ImageFormat::Jpeg
    };
    let index = num(4).and_then(|i| u32::try_from(i).ok());
    let width = num(640).and_then(|w| u32::try_from(w).ok()).unwrap_or(640);
    let height = num(352).and_then(|h| u32::try_from(h).ok()).unwrap_or(352);
    let unix_ms = num(1_560_238_366_073).unwrap_or(0);
    let seq = num(17).and_then(|s| u64::try_from(s).ok()).unwrap_or(1);
    let facts = ImageFacts {
        task_id: ids[0],
        room_id: ids[1],
        app_id: ids[2],
        business_id: ids[3],
        user_id: ids[4],
        stream_type,
        index,
        width,
        height,
        format,
        unix_ms,
        seq,
    };

    utc(unix_ms);
    default_name(ids[4], stream_type, format, unix_ms, seq);

    let mut names = RecentNames::new(RECENT);
    let mut given: Vec<String> = Vec::new();
    let mut give = |name: String| {
        let safe = unsafe_key(&name).is_none();
        let out = names.unique(name.clone());
        let recent = &given[given.len().saturating_sub(RECENT - 1)..];
        assert!(!recent.contains(&out), "{out:?} given out twice");
        // At most `_<n>` more, n ≤ RECENT + 1; safe stays safe (length aside).
        assert!(out.len() <= name.len() + 2, "{out:?} from {name:?}");
        if safe && out.len() <= MAX_PATH_BYTES {
            assert_safe_key(&out, &format!("RecentNames::unique({name:?})"));
        }
        given.push(out);
    };

    if let Ok(t) = Template::parse(template) {
        rendered(&t, &facts, template, &mut give);
        longest(&t, template);
    }
    for path in lines.iter().skip(7) {
        if check_path(path).is_ok() {
            assert_safe_key(path.trim_start_matches(['/', '\\']), "check_path");
        }
        if let Ok(key) = object_key(path) {
            assert_safe_key(&key, "object_key");
            assert_eq!(key, path.trim_start_matches(['/', '\\']));
            give(key);
        }
    }
});

fn rendered(t: &Template, facts: &ImageFacts<'_>, template: &str, give: &mut impl FnMut(String)) {
    let key = match t.render(facts) {
        Ok(key) => key,
        Err(e) => {
            assert!(
                !ordinary(facts),
                "{template:?} was accepted but cannot name an ordinary image ({facts:?}): {}",
                e.message
            );
            return;
        }
    };
    assert_safe_key(&key, &format!("template {template:?}"));
    assert!(
        !key.split(['/', '\\']).any(str::is_empty),
        "{key:?} has an empty segment"
    );
    // The next image of the stream: one more in seq, one second later (in years of 4 digits:
    // stamps of other lengths could line up with a neighbouring field).
    let next_ms = (0..LAST_MS)
        .contains(&facts.unix_ms)
        .then(|| facts.unix_ms + 1000);
    if let (Some(seq), Some(unix_ms)) = (facts.seq.checked_add(1), next_ms) {
        let next = ImageFacts {
            seq,
            unix_ms,
            ..facts.clone()
        };
        if let Ok(next_key) = t.render(&next) {
            assert_ne!(
                key, next_key,
                "template {template:?} names two images alike"
            );
        }
    }
    give(key);
}

/// An accepted template names the largest images of either stream within the limit, even
/// with a recovered task's `bak<n>_` and the backstop's `_<n>` (the engine keeps 64 names).
fn longest(t: &Template, template: &str) {
    let id = "x".repeat(128);
    for stream_type in [StreamType::Main, StreamType::Sub] {
        let facts = ImageFacts {
            task_id: &id,
            room_id: &id,
            app_id: &id,
            business_id: &id,
            user_id: &id,
            stream_type,
            index: Some(u32::MAX),
            width: MAX_SIDE,
            height: MAX_SIDE,
            format: ImageFormat::Png,
            unix_ms: LAST_MS,
            seq: u64::MAX,
        };
        let key = t
            .render(&facts)
            .unwrap_or_else(|e| panic!("{template:?} accepted, then {}", e.message));
        let mut names = RecentNames::new(64);
        let name = format!("bak{}_{key}", u32::MAX);
        names.unique(name.clone());
        let second = names.unique(name);
        let what = format!("template {template:?} (longest, with bak and _n)");
        assert_safe_key(&second, &what);
        // With 64 names kept the suffix grows to `_65`: one byte more than `_2`.
        assert!(
            second.len() < MAX_PATH_BYTES,
            "{what}: {} bytes",
            second.len()
        );
    }
}

/// Facts every accepted template must be able to name.
fn ordinary(f: &ImageFacts<'_>) -> bool {
    let id = |s: &str| is_cloud_id(s) && s.chars().any(|c| c != '.');
    [f.task_id, f.room_id, f.app_id, f.business_id, f.user_id]
        .iter()
        .all(|s| id(s))
        && f.index.is_some()
        && (1..=MAX_SIDE).contains(&f.width)
        && (1..=MAX_SIDE).contains(&f.height)
        && (0..=LAST_MS).contains(&f.unix_ms)
        && f.seq >= 1
}

fn utc(ms: i64) {
    let t = UtcTime::from_unix_ms(ms);
    assert!((1..=12).contains(&t.month), "{t:?}");
    assert!(
        t.day >= 1 && t.day <= days_in_month(t.year, t.month),
        "{t:?}"
    );
    assert!(
        t.hour < 24 && t.minute < 60 && t.second < 60 && t.millis < 1000,
        "{t:?}"
    );
    // Back to milliseconds with a different formula (days before each year, then each month).
    let y = i128::from(t.year) - 1;
    let days_to_year = 365 * (y - 1969) + (y.div_euclid(4) - 492) - (y.div_euclid(100) - 19)
        + (y.div_euclid(400) - 4);
    let days_to_month: i128 = (1..t.month)
        .map(|m| i128::from(days_in_month(t.year, m)))
        .sum();
    let days = days_to_year + days_to_month + i128::from(t.day) - 1;
    let back = days * 86_400_000
        + i128::from(t.hour) * 3_600_000
        + i128::from(t.minute) * 60_000
        + i128::from(t.second) * 1000
        + i128::from(t.millis);
    assert_eq!(back, i128::from(ms), "{t:?}");
    let compact = t.compact();
    if (0..=9999).contains(&t.year) {
        assert_eq!(compact.len(), 17, "{compact}");
        assert!(compact.bytes().all(|b| b.is_ascii_digit()), "{compact}");
    }
}

fn days_in_month(year: i64, month: u32) -> u32 {
    let leap = year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn default_name(uid: &str, stream_type: StreamType, format: ImageFormat, ms: i64, seq: u64) {
    let seq = u32::try_from(seq).unwrap_or(u32::MAX);
    // A uid reaches the default name only once it is a cloud id (or absent: `local`).
    for who in [Some(uid).filter(|u| is_cloud_id(u)), None] {
        let name = default_snapshot_name(who, stream_type, format, ms, seq);
        check_path(&name).unwrap_or_else(|e| panic!("default name {name:?}: {}", e.message));
        assert_safe_key(&name, "default_snapshot_name");
        assert!(name.ends_with(format.extension()), "{name}");
    }
}
