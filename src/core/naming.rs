//! File names: the default snapshot name, periodic images' keys (templates, the recovery
//! prefix, Tencent's `pic_url`), time stamps, and which paths are safe.
//!
//! Time is always a parameter (milliseconds since the Unix epoch), never read here.

use super::encode::ImageFormat;
use super::error::{Error, Result};
use super::stream::StreamType;
use super::value::Value;

/// The longest path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;

/// Bytes a periodic image's name keeps free within [`MAX_PATH_BYTES`]: a recovered task's
/// `bak<n>_` prefix (at most 14 bytes) and the `_<n>` that [`RecentNames::unique`] may add
/// (`n` is at most its capacity + 1; 4 bytes up to 999, and the engine keeps 64 names).
pub const NAME_ROOM: usize = 18;

/// A calendar time in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
}

impl UtcTime {
    /// Converts milliseconds since 1970-01-01T00:00:00Z (negative values are before it).
    pub fn from_unix_ms(ms: i64) -> UtcTime {
        let days = ms.div_euclid(86_400_000);
        let in_day = ms.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        UtcTime {
            year,
            month,
            day,
            hour: (in_day / 3_600_000) as u32,
            minute: (in_day / 60_000 % 60) as u32,
            second: (in_day / 1000 % 60) as u32,
            millis: (in_day % 1000) as u32,
        }
    }

    /// `yyyyMMddHHmmssSSS`, the stamp of the cloud recording file names (seed 001).
    pub fn compact(&self) -> String {
        format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}{:03}",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.millis
        )
    }
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The name of an on-demand snapshot taken without a `path`:
/// `<uid>_<main|sub>_<yyyyMMddHHmmssSSS>.<ext>`, with `local` for the local user before joining.
/// `seq` > 0 is appended (`…_1.jpg`) when two snapshots of one stream share a millisecond.
pub fn default_snapshot_name(
    uid: Option<&str>,
    stream_type: StreamType,
    format: ImageFormat,
    unix_ms: i64,
    seq: u32,
) -> String {
    let stamp = UtcTime::from_unix_ms(unix_ms).compact();
    let who = uid.unwrap_or("local");
    let suffix = if seq > 0 {
        format!("_{seq}")
    } else {
        String::new()
    };
    format!(
        "{who}_{}_{stamp}{suffix}.{}",
        stream_type.as_str(),
        format.extension()
    )
}

/// A path is reported back to the caller and later used as a storage key, so it must be
/// non-empty, at most [`MAX_PATH_BYTES`], free of control characters, and have no `.` or `..`
/// segment (either slash counts as a separator).
pub fn check_path(path: &str) -> Result<()> {
    let shown = || Value::String(path.to_string()).describe();
    if path.is_empty() {
        return Err(Error::invalid_param(
            "path must not be empty; leave it out to get a default name",
        ));
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(Error::invalid_param(format!(
            "path must be at most {MAX_PATH_BYTES} bytes; got {}",
            shown()
        )));
    }
    if path.chars().any(char::is_control) {
        return Err(Error::invalid_param(format!(
            "path must not contain control characters; got {}",
            shown()
        )));
    }
    if path.split(['/', '\\']).any(|seg| seg == ".." || seg == ".") {
        return Err(Error::invalid_param(format!(
            "path must not contain \".\" or \"..\" segments; got {}",
            shown()
        )));
    }
    if path.ends_with(['/', '\\']) {
        return Err(Error::invalid_param(format!(
            "path must name a file, not a folder; got {}",
            shown()
        )));
    }
    Ok(())
}

/// Everything a periodic image's name may be built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts<'a> {
    pub task_id: &'a str,
    pub room_id: &'a str,
    pub app_id: &'a str,
    pub business_id: &'a str,
    pub user_id: &'a str,
    pub stream_type: StreamType,
    /// The stream's `Index` in the task's StreamList, if it has one.
    pub index: Option<u32>,
    pub width: u32,
    pub height: u32,
    pub format: ImageFormat,
    /// Capture time, milliseconds since the Unix epoch.
    pub unix_ms: i64,
    /// The image's number within its task, from 1.
    pub seq: u64,
}

impl ImageFacts<'_> {
    pub fn stream_id(&self) -> String {
        stream_id(self.room_id, self.user_id, self.stream_type)
    }
}

/// The Tencent-style stream name (`stream_id`, `{stream}`): `<RoomId>_<UserId>_<main|sub>`.
pub fn stream_id(room_id: &str, user_id: &str, stream_type: StreamType) -> String {
    format!("{room_id}_{user_id}_{}", stream_type.as_str())
}

/// A periodic image's key before [`RecentNames::unique`]: the template rendered, behind
/// `bak<n>_` when the task is recovery number `n` of a run whose page died, so the recovered
/// run never overwrites the images of the run it resumes.
pub fn image_key(
    template: &Template,
    facts: &ImageFacts<'_>,
    recovery: Option<u32>,
) -> Result<String> {
    let key = template.render(facts)?;
    Ok(match recovery {
        Some(n) => format!("bak{n}_{key}"),
        None => key,
    })
}

/// Tencent's `pic_url`: the key as a path from the bucket's root (keys have no leading slash);
/// `""` for an image without a key.
pub fn pic_url(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("/{key}")
    }
}

/// An outbox record's id: chosen by the engine that writes it, so that the record and its
/// bytes are written without waiting for a generated one. Ids sort by `created_ms` (zero-padded),
/// and `engine` (unique per engine) with `seq` keeps them unique across the pages of an origin.
pub fn outbox_id(created_ms: f64, engine: &str, seq: u32) -> String {
    format!("{:015}-{engine}-{seq:08x}", created_ms.max(0.0) as u64)
}

/// Tencent's `create_time`: whole seconds since the Unix epoch of a time in milliseconds.
pub fn create_time(unix_ms: f64) -> f64 {
    (unix_ms / 1000.0).floor()
}

/// The placeholders a `FileNameTemplate` may use.
pub const PLACEHOLDERS: [&str; 16] = [
    "TaskId",
    "RoomId",
    "AppId",
    "BusinessId",
    "UserId",
    "StreamType",
    "Index",
    "utc",
    "date",
    "time",
    "width",
    "height",
    "seq",
    "ext",
    "stream",
    "video",
];

/// Named layouts: `FileNameTemplate: "agora"` (the default) or `"tencent"`.
pub const PRESETS: [(&str, &str); 2] = [
    (
        "agora",
        "{TaskId}_{RoomId}__uid_s_{UserId}__uid_e_{video}_{utc}.{ext}",
    ),
    (
        "tencent",
        "/{date}/{stream}-screenshot-{time}-{width}x{height}.{ext}",
    ),
];

/// A parsed `FileNameTemplate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    /// One of [`PLACEHOLDERS`].
    Field(String),
}

impl Template {
    /// The default layout (seed 001): `<TaskId>_<RoomId>__uid_s_<UserId>__uid_e_video_<utc>.jpg`
    /// for a main stream; a sub stream says `subvideo` where the main says `video`.
    pub fn default_layout() -> Template {
        // The preset table is ours and parses.
        Template::parse_layout(PRESETS[0].1, "FileNameTemplate")
            .unwrap_or(Template { parts: Vec::new() })
    }

    /// Parses a template or a preset name (a value without `{` names a preset). The template
    /// must change from one image to the next — it needs `{utc}`, `{seq}`, or `{date}` with
    /// `{time}` — and must give a safe name (see [`check_path`]).
    pub fn parse(s: &str) -> Result<Template> {
        if !s.contains('{') {
            return match PRESETS.iter().find(|(name, _)| *name == s) {
                Some((_, layout)) => Template::parse_layout(layout, "FileNameTemplate"),
                None => Err(Error::invalid_param(format!(
                    "FileNameTemplate {} is neither a template with {{placeholders}} nor a preset ({})",
                    Value::String(s.to_string()).describe(),
                    PRESETS.map(|(n, _)| n).join(", ")
                ))),
            };
        }
        let t = Template::parse_checked(s, "FileNameTemplate")?;
        let has = |f: &str| t.parts.iter().any(|p| *p == Part::Field(f.to_string()));
        if !(has("utc") || has("seq") || (has("date") && has("time"))) {
            return Err(Error::invalid_param(
                "FileNameTemplate must contain {utc}, {seq}, or {date} and {time}: otherwise every image of a stream gets the same name and overwrites the last",
            ));
        }
        Ok(t)
    }

    /// Parses `StorageConfig.LatestKey`: the rules of [`Template::parse`] but the one about
    /// changing between images, since each image is meant to overwrite the last; no presets.
    pub fn parse_latest(s: &str) -> Result<Template> {
        Template::parse_checked(s, "StorageConfig.LatestKey")
    }

    /// Parses `s` and renders the longest values a field can take: a template that can give
    /// an unsafe name is refused now, not at the first image. Both stream types: `{video}` is
    /// longer for a sub stream, `{stream}` for a main one.
    fn parse_checked(s: &str, field: &str) -> Result<Template> {
        let t = Template::parse_layout(s, field)?;
        let long = "x".repeat(128);
        for stream_type in StreamType::BOTH {
            let sample = ImageFacts {
                task_id: &long,
                room_id: &long,
                app_id: &long,
                business_id: &long,
                user_id: &long,
                stream_type,
                index: Some(u32::MAX),
                width: 7680,
                height: 7680,
                format: ImageFormat::Jpeg,
                unix_ms: 4_102_444_799_999,
                seq: u64::MAX,
            };
            let key = t.render(&sample).map_err(|e| {
                Error::invalid_param(format!("{field} gives an unsafe name: {}", e.message))
            })?;
            if key.len() > MAX_PATH_BYTES - NAME_ROOM {
                return Err(Error::invalid_param(format!(
                    "{field} gives names of up to {} bytes; at most {} (the rest of {MAX_PATH_BYTES} is kept for a bak<n>_ prefix and a _<n> suffix)",
                    key.len(),
                    MAX_PATH_BYTES - NAME_ROOM
                )));
            }
        }
        Ok(t)
    }

    fn parse_layout(s: &str, field: &str) -> Result<Template> {
        let mut parts = Vec::new();
        let mut rest = s;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or_else(|| {
                Error::invalid_param(format!(
                    "{field} has a {{ without a closing }}: {}",
                    Value::String(s.to_string()).describe()
                ))
            })?;
            let name = &after[..close];
            if !PLACEHOLDERS.contains(&name) {
                return Err(Error::invalid_param(format!(
                    "{field} has an unknown placeholder {{{name}}}; known: {}",
                    PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(" ")
                )));
            }
            parts.push(Part::Field(name.to_string()));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// The object key for one image: the rendered template without leading slashes, checked
    /// with [`check_path`].
    pub fn render(&self, f: &ImageFacts<'_>) -> Result<String> {
        let t = UtcTime::from_unix_ms(f.unix_ms);
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(s) => out.push_str(s),
                Part::Field(name) => match name.as_str() {
                    "TaskId" => out.push_str(f.task_id),
                    "RoomId" => out.push_str(f.room_id),
                    "AppId" => out.push_str(f.app_id),
                    "BusinessId" => out.push_str(f.business_id),
                    "UserId" => out.push_str(f.user_id),
                    "StreamType" => out.push_str(&f.stream_type.number().to_string()),
                    "Index" => out.push_str(&f.index.map(|i| i.to_string()).unwrap_or_default()),
                    "utc" => out.push_str(&t.compact()),
                    "date" => out.push_str(&format!("{:04}-{:02}-{:02}", t.year, t.month, t.day)),
                    "time" => {
                        out.push_str(&format!("{:02}-{:02}-{:02}", t.hour, t.minute, t.second))
                    }
                    "width" => out.push_str(&f.width.to_string()),
                    "height" => out.push_str(&f.height.to_string()),
                    "seq" => out.push_str(&f.seq.to_string()),
                    "ext" => out.push_str(f.format.extension()),
                    "stream" => out.push_str(&f.stream_id()),
                    "video" => out.push_str(match f.stream_type {
                        StreamType::Main => "video",
                        StreamType::Sub => "subvideo",
                    }),
                    _ => {}
                },
            }
        }
        // Either slash separates (see `check_path`), so a leading `\` is a leading slash too.
        let key = out.trim_start_matches(['/', '\\']).to_string();
        check_path(&key)?;
        if key.split(['/', '\\']).any(str::is_empty) {
            return Err(Error::invalid_param(format!(
                "{} has an empty path segment",
                Value::String(key).describe()
            )));
        }
        Ok(key)
    }
}

/// Keeps the last few names a task gave out, so that two images can never share a key (two
/// streams captured in the same millisecond under a template without {UserId}, say).
#[derive(Debug, Clone)]
pub struct RecentNames {
    names: std::collections::VecDeque<String>,
    capacity: usize,
}

impl RecentNames {
    pub fn new(capacity: usize) -> Self {
        RecentNames {
            names: std::collections::VecDeque::with_capacity(capacity),
            capacity: capacity.max(1),
        }
    }

    /// `name`, or `name` with `_2`, `_3`, … before its extension when it was given out recently.
    pub fn unique(&mut self, name: String) -> String {
        let mut candidate = name.clone();
        let mut n = 1;
        while self.names.contains(&candidate) {
            n += 1;
            candidate = match name.rfind('.').filter(|&dot| !name[dot..].contains('/')) {
                Some(dot) => format!("{}_{n}{}", &name[..dot], &name[dot..]),
                None => format!("{name}_{n}"),
            };
        }
        if self.names.len() == self.capacity {
            self.names.pop_front();
        }
        self.names.push_back(candidate.clone());
        candidate
    }
}
