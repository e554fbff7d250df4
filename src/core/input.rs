//! Validation of everything a caller passes to the engine, with messages that name the
//! argument, what it must be, and what was given.

use super::encode::{ImageFormat, DEFAULT_QUALITY};
use super::error::{Error, Result};
use super::naming;
use super::rotate::Rotation;
use super::size::{Fit, MAX_SIDE};
use super::snapshot::SnapshotSpec;
use super::storage::{storage_options, StorageOptions};
use super::stream::StreamType;
use super::value::{integer_in, Value};
use super::watermark::Watermark;

/// The largest integer a JavaScript number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// How long a snapshot waits for a frame by default, in milliseconds.
pub const DEFAULT_FRAME_TIMEOUT_MS: u32 = 3000;
const FRAME_TIMEOUT_RANGE_MS: (u32, u32) = (100, 60_000);

/// The engine's options, after defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineOptions {
    pub format: ImageFormat,
    pub quality: u8,
    /// How long a snapshot waits for a frame before it fails with `ERR_FRAME_TIMEOUT`.
    pub frame_timeout_ms: u32,
    /// Where images are uploaded; `None`: they stay Blobs in the events.
    pub storage: Option<StorageOptions>,
    /// Encode in a dedicated Worker where the browser allows it (`false`: on the page).
    pub worker: bool,
    /// JPEG with optimised Huffman tables, progressive: smaller files, more time.
    pub size_first: bool,
    /// Every snapshot's turn, unless its request (or task) says otherwise.
    pub rotate: Rotation,
    /// Every snapshot's watermark, unless its request (or task) says otherwise.
    pub watermark: Option<Watermark>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            format: ImageFormat::Jpeg,
            quality: DEFAULT_QUALITY,
            frame_timeout_ms: DEFAULT_FRAME_TIMEOUT_MS,
            storage: None,
            worker: true,
            size_first: false,
            rotate: Rotation::None,
            watermark: None,
        }
    }
}

impl EngineOptions {
    /// The spec of a plain `takeLocalSnapshot`/`takeRemoteSnapshot`: the stream's own size.
    pub fn default_spec(&self) -> SnapshotSpec {
        SnapshotSpec {
            format: self.format,
            quality: self.quality,
            size_first: self.size_first,
            rotate: self.rotate,
            ..SnapshotSpec::default()
        }
    }
}

/// A validated `snapshot(request)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotRequest {
    /// `None` for the local user's stream.
    pub uid: Option<String>,
    pub stream_type: StreamType,
    pub path: Option<String>,
    pub spec: SnapshotSpec,
    pub watermark: WatermarkChoice,
}

/// A request's `watermark`: absent, `null`, or its own.
#[derive(Debug, Clone, PartialEq)]
pub enum WatermarkChoice {
    /// Not given: the engine's, if it has one.
    Engine,
    /// `null`: none for this snapshot.
    Off,
    Own(Watermark),
}

/// `new SnapshotEngine(options?)`.
pub fn engine_options(v: &Value) -> Result<EngineOptions> {
    let defaults = EngineOptions::default();
    if v.is_absent() {
        return Ok(defaults);
    }
    require_object(v, "options")?;
    Ok(EngineOptions {
        format: optional(v.get("format"), "options.format", format)?.unwrap_or(defaults.format),
        quality: optional(v.get("quality"), "options.quality", quality)?
            .unwrap_or(defaults.quality),
        frame_timeout_ms: optional(v.get("frameTimeout"), "options.frameTimeout", |v, name| {
            integer_in(v, name, FRAME_TIMEOUT_RANGE_MS.0, FRAME_TIMEOUT_RANGE_MS.1)
        })?
        .unwrap_or(defaults.frame_timeout_ms),
        storage: storage_options(v.get("storage"))?,
        worker: optional(v.get("worker"), "options.worker", boolean)?.unwrap_or(defaults.worker),
        size_first: optional(v.get("sizeFirst"), "options.sizeFirst", boolean)?
            .unwrap_or(defaults.size_first),
        rotate: optional(v.get("rotate"), "options.rotate", rotation)?.unwrap_or(defaults.rotate),
        watermark: optional(v.get("watermark"), "options.watermark", Watermark::parse)?,
    })
}

/// `engine.snapshot(request)`, with the engine's options as defaults.
pub fn snapshot_request(v: &Value, options: &EngineOptions) -> Result<SnapshotRequest> {
    require_object(v, "request")?;
    let uid = optional(v.get("uid"), "request.uid", |v, _| uid(v))?;
    let stream_type = named_stream_type(v.get("streamType"), "request.streamType")?;
    let path = path(v.get("path"))?;
    let spec = SnapshotSpec {
        format: optional(v.get("format"), "request.format", format)?.unwrap_or(options.format),
        quality: optional(v.get("quality"), "request.quality", quality)?.unwrap_or(options.quality),
        width: optional(v.get("width"), "request.width", side)?.unwrap_or(0),
        height: optional(v.get("height"), "request.height", side)?.unwrap_or(0),
        fit: optional(v.get("fit"), "request.fit", fit)?.unwrap_or_default(),
        mirror: optional(v.get("mirror"), "request.mirror", boolean)?.unwrap_or(false),
        rotate: optional(v.get("rotate"), "request.rotate", rotation)?.unwrap_or(options.rotate),
        size_first: optional(v.get("sizeFirst"), "request.sizeFirst", boolean)?
            .unwrap_or(options.size_first),
    };
    let watermark = match v.get("watermark") {
        Value::Undefined => WatermarkChoice::Engine,
        Value::Null => WatermarkChoice::Off,
        w => WatermarkChoice::Own(Watermark::parse(w, "request.watermark")?),
    };
    Ok(SnapshotRequest {
        uid,
        stream_type,
        path,
        spec,
        watermark,
    })
}

/// A stream type argument: `"main"`, `"sub"`, 0 or 1.
pub fn stream_type(v: &Value) -> Result<StreamType> {
    named_stream_type(v, "streamType")
}

fn named_stream_type(v: &Value, name: &str) -> Result<StreamType> {
    match v {
        Value::String(s) if s == "main" => Ok(StreamType::Main),
        Value::String(s) if s == "sub" => Ok(StreamType::Sub),
        Value::Number(n) if *n == 0.0 => Ok(StreamType::Main),
        Value::Number(n) if *n == 1.0 => Ok(StreamType::Sub),
        other => Err(Error::invalid_param(format!(
            "{name} must be \"main\", \"sub\", 0 or 1; got {}",
            other.describe()
        ))),
    }
}

/// A user id: a non-negative integer, or a string of 1–128 characters from `[A-Za-z0-9_@.-]`.
/// Numbers are reported as their decimal string, so `42` and `"42"` are the same user.
pub fn uid(v: &Value) -> Result<String> {
    named_uid(v, "uid")
}

/// [`uid`] for an argument or field called `name` (such as a task's `UserId`).
pub fn named_uid(v: &Value, name: &str) -> Result<String> {
    match v {
        Value::Number(n) if n.fract() == 0.0 && *n >= 0.0 && *n <= MAX_SAFE_INTEGER => {
            Ok(format!("{}", *n as u64))
        }
        Value::Number(_) => Err(Error::invalid_param(format!(
            "{name} must be a non-negative integer or an id string; got {}",
            v.describe()
        ))),
        Value::String(s) => check_id(s, name).map(|()| s.clone()),
        other => Err(Error::invalid_param(format!(
            "{name} must be a string or a number; got {}",
            other.describe()
        ))),
    }
}

/// A channel name: 1–128 characters from `[A-Za-z0-9_@.-]` (the cloud APIs' RoomId rule).
pub fn channel_name(v: &Value) -> Result<String> {
    match v {
        Value::String(s) => check_id(s, "channelName").map(|()| s.clone()),
        other => Err(Error::invalid_param(format!(
            "channelName must be a string; got {}",
            other.describe()
        ))),
    }
}

/// The ids of the cloud contract: `^[a-zA-Z0-9_@\-.]{1,128}$`.
pub fn check_id(s: &str, name: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'@' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_param(format!(
            "{name} must be 1 to 128 characters from A-Z a-z 0-9 _ @ - . ; got {}",
            Value::String(s.to_string()).describe()
        )))
    }
}

/// An optional snapshot path (the name reported back, or the object key when uploading).
pub fn path(v: &Value) -> Result<Option<String>> {
    match v {
        Value::Undefined | Value::Null => Ok(None),
        Value::String(s) => naming::check_path(s).map(|()| Some(s.clone())),
        other => Err(Error::invalid_param(format!(
            "path must be a string; got {}",
            other.describe()
        ))),
    }
}

/// `enableLocalVideo`'s `enabled`.
pub fn enabled(v: &Value) -> Result<bool> {
    boolean(v, "enabled")
}

fn format(v: &Value, name: &str) -> Result<ImageFormat> {
    match v {
        Value::String(s) if s == "jpeg" => Ok(ImageFormat::Jpeg),
        Value::String(s) if s == "png" => Ok(ImageFormat::Png),
        other => Err(Error::invalid_param(format!(
            "{name} must be \"jpeg\" or \"png\"; got {}",
            other.describe()
        ))),
    }
}

fn quality(v: &Value, name: &str) -> Result<u8> {
    integer_in(v, name, 1, 100).map(|q| q as u8)
}

fn side(v: &Value, name: &str) -> Result<u32> {
    integer_in(v, name, 0, MAX_SIDE)
}

fn fit(v: &Value, name: &str) -> Result<Fit> {
    match v {
        Value::String(s) => Fit::parse(s),
        _ => None,
    }
    .ok_or_else(|| {
        Error::invalid_param(format!(
            "{name} must be \"fill\", \"contain\" or \"cover\"; got {}",
            v.describe()
        ))
    })
}

/// A turn in degrees clockwise: the number 0, 90, 180 or 270 (a task's `Rotate` too).
pub fn rotation(v: &Value, name: &str) -> Result<Rotation> {
    match v {
        Value::Number(n) => Rotation::from_degrees(*n),
        _ => None,
    }
    .ok_or_else(|| {
        Error::invalid_param(format!(
            "{name} must be 0, 90, 180 or 270 (degrees clockwise); got {}",
            v.describe()
        ))
    })
}

fn boolean(v: &Value, name: &str) -> Result<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => Err(Error::invalid_param(format!(
            "{name} must be true or false; got {}",
            other.describe()
        ))),
    }
}

fn require_object(v: &Value, name: &str) -> Result<()> {
    match v {
        Value::Object(_) => Ok(()),
        other => Err(Error::invalid_param(format!(
            "{name} must be an object; got {}",
            other.describe()
        ))),
    }
}

/// Absent (`undefined`/`null`) → `None`; present → validated.
fn optional<T>(
    v: &Value,
    name: &str,
    parse: impl FnOnce(&Value, &str) -> Result<T>,
) -> Result<Option<T>> {
    if v.is_absent() {
        Ok(None)
    } else {
        parse(v, name).map(Some)
    }
}
