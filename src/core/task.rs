//! Periodic snapshot tasks: the request fields, ranges and defaults of the cloud services'
//! `StartSnapshot` / `UpdateSnapshot` / `StopSnapshot` (Volcengine RTC, version 2023-11-01),
//! validated into configurations.

use super::encode::ImageFormat;
use super::input::{self, WatermarkChoice};
use super::naming::{ImageFacts, Template};
use super::rotate::Rotation;
use super::storage::{task_storage, TaskStorage};
use super::stream::StreamType;
use super::url::optional_url;
use super::value::{integer_in, Value};
use super::watermark::Watermark;

/// At most this many streams in `TargetStreams.StreamList`.
pub const MAX_STREAMS: usize = 17;
/// `MaxIdleTime` range and default, seconds.
pub const MAX_IDLE_RANGE_S: (u32, u32) = (1, 86_400);
pub const DEFAULT_MAX_IDLE_S: u32 = 180;
/// `ImageConfig.Interval` range and default, seconds.
pub const INTERVAL_RANGE_S: (u32, u32) = (1, 600);
pub const DEFAULT_INTERVAL_S: u32 = 2;
/// `ImageConfig.ChangeThreshold` upper bound (percent); 0, the default, keeps every tick.
pub const MAX_CHANGE_THRESHOLD: f64 = 100.0;
/// `ImageConfig.Width`/`Height` upper bound.
pub const MAX_IMAGE_SIDE: u32 = 1920;
/// The API version the responses report.
pub const API_VERSION: &str = "2023-11-01";
/// `Result` of a start for a task that is already running (the cloud's own words).
pub const ALREADY_STARTED: &str =
    "The task has been started. Please do not call the startup task interface repeatedly";

/// A failure as the cloud APIs report it: a string code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError {
            code: "InvalidParameter",
            message: message.into(),
        }
    }

    /// Updating or stopping a task that is not running.
    pub fn not_found(key: &TaskKey) -> Self {
        ApiError {
            code: "TaskNotFound",
            message: format!(
                "no running task with AppId {}, RoomId {}, TaskId {}",
                key.app_id, key.room_id, key.task_id
            ),
        }
    }
}

impl From<super::error::Error> for ApiError {
    fn from(e: super::error::Error) -> Self {
        ApiError::invalid(e.message)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A task is identified by AppId + RoomId + TaskId.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskKey {
    pub app_id: String,
    pub room_id: String,
    pub task_id: String,
}

impl TaskKey {
    /// The key of the task's journal record (the `tasks` store): ids never hold `|`, which
    /// `check_id` refuses.
    pub fn journal_id(&self) -> String {
        format!("{}|{}|{}", self.app_id, self.room_id, self.task_id)
    }
}

/// A response's `RequestId`: the time of the response (hex milliseconds) and the request's
/// number in its engine.
pub fn request_id(unix_ms: f64, n: u32) -> String {
    format!("tracksnap-{:x}-{n}", unix_ms.max(0.0) as u64)
}

/// One entry of `TargetStreams.StreamList`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetStream {
    pub user_id: String,
    pub stream_type: StreamType,
    pub index: Option<u32>,
}

/// `ImageConfig` after defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageConfig {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub interval_s: u32,
    /// `Rotate`; `None`: the engine's `rotate` option, as for quality.
    pub rotate: Option<Rotation>,
    /// Percent (see [`super::change`]): a tick whose picture differs from its stream's last
    /// kept image by less is not kept; 0 keeps every tick.
    pub change_threshold: f64,
    /// `Watermark`: absent, the engine's `watermark` option (as for Rotate); `null`, none.
    pub watermark: WatermarkChoice,
}

/// A validated `StartSnapshot`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskConfig {
    pub key: TaskKey,
    pub business_id: Option<String>,
    /// Empty: every stream in the room, now and later.
    pub targets: Vec<TargetStream>,
    pub max_idle_s: u32,
    pub image: ImageConfig,
    pub template: Template,
    /// The template as given (`None`: the default layout).
    pub template_text: Option<String>,
    pub callback_url: Option<String>,
    /// `StorageConfig`: upload every image; `None`: images stay Blobs in the events.
    pub storage: Option<TaskStorage>,
}

impl TaskConfig {
    /// What an image of one stream of this task is named from: the task's ids and the
    /// stream's, with the configured size, the epoch as the time and 1 as the number (the
    /// caller sets the image's own with `..`).
    pub fn image_facts<'a>(
        &'a self,
        user_id: &'a str,
        stream_type: StreamType,
        index: Option<u32>,
    ) -> ImageFacts<'a> {
        ImageFacts {
            task_id: &self.key.task_id,
            room_id: &self.key.room_id,
            app_id: &self.key.app_id,
            business_id: self.business_id.as_deref().unwrap_or(""),
            user_id,
            stream_type,
            index,
            width: self.image.width.max(1),
            height: self.image.height.max(1),
            format: self.image.format,
            unix_ms: 0,
            seq: 1,
        }
    }
}

/// A validated `UpdateSnapshot`: `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskUpdate {
    pub key: TaskKey,
    pub interval_s: Option<u32>,
    pub targets: Option<Vec<TargetStream>>,
    pub max_idle_s: Option<u32>,
}

/// `AppId`, `RoomId` and `TaskId` of any request.
pub fn task_key(v: &Value) -> ApiResult<TaskKey> {
    if !matches!(v, Value::Object(_)) {
        return Err(ApiError::invalid(format!(
            "the request must be an object; got {}",
            v.describe()
        )));
    }
    Ok(TaskKey {
        app_id: id(v, "AppId")?,
        room_id: id(v, "RoomId")?,
        task_id: id(v, "TaskId")?,
    })
}

/// `StartSnapshot`'s body.
pub fn start_request(v: &Value) -> ApiResult<TaskConfig> {
    let key = task_key(v)?;
    let business_id = match v.get("BusinessId") {
        b if b.is_absent() => None,
        _ => Some(id(v, "BusinessId")?),
    };
    let targets = target_streams(v.get("TargetStreams"))?.unwrap_or_default();
    let image = image_config(v.get("ImageConfig"))?;
    let storage = task_storage(v.get("StorageConfig"))?;
    let (template, template_text) = match v.get("FileNameTemplate") {
        t if t.is_absent() => (Template::default_layout(), None),
        Value::String(s) => (Template::parse(s)?, Some(s.clone())),
        other => {
            return Err(ApiError::invalid(format!(
                "FileNameTemplate must be a string; got {}",
                other.describe()
            )))
        }
    };
    let callback_url = optional_url(v.get("CallbackUrl"), "CallbackUrl")?;
    let config = TaskConfig {
        key,
        business_id,
        targets,
        max_idle_s: max_idle(v.get("MaxIdleTime")),
        image,
        template,
        template_text,
        callback_url,
        storage,
    };
    check_names(&config, &config.targets)?;
    Ok(config)
}

/// Renders the task's template with its own ids for each of `targets` (or for any user when
/// the list is empty), so that a template which could only fail at every image — an empty
/// `{BusinessId}` segment, `{Index}` alone in a segment of a stream without one, an id of `.`
/// or `..` filling a segment — is refused when the task starts or is updated.
pub fn check_names(config: &TaskConfig, targets: &[TargetStream]) -> ApiResult<()> {
    let any_user = StreamType::BOTH.map(|stream_type| TargetStream {
        user_id: "u".to_string(),
        stream_type,
        index: None,
    });
    let targets = if targets.is_empty() {
        &any_user[..]
    } else {
        targets
    };
    for t in targets {
        let facts = config.image_facts(&t.user_id, t.stream_type, t.index);
        if let Err(e) = config.template.render(&facts) {
            let what = config
                .template_text
                .as_deref()
                .unwrap_or("the default layout");
            return Err(ApiError::invalid(format!(
                "FileNameTemplate {what:?} gives no usable name for UserId {:?}: {}",
                t.user_id, e.message
            )));
        }
        let latest = config.storage.as_ref().and_then(|s| s.latest_key.as_ref());
        if let Some(Err(e)) = latest.map(|l| l.render(&facts)) {
            return Err(ApiError::invalid(format!(
                "StorageConfig.LatestKey gives no usable name for UserId {:?}: {}",
                t.user_id, e.message
            )));
        }
    }
    Ok(())
}

/// `UpdateSnapshot`'s body: `ImageConfig.Interval`, `TargetStreams`, `MaxIdleTime`.
pub fn update_request(v: &Value) -> ApiResult<TaskUpdate> {
    let key = task_key(v)?;
    let image = v.get("ImageConfig");
    let interval_s = match image {
        i if i.is_absent() => None,
        Value::Object(_) => optional_int(
            image.get("Interval"),
            "ImageConfig.Interval",
            INTERVAL_RANGE_S,
        )?,
        other => {
            return Err(ApiError::invalid(format!(
                "ImageConfig must be an object; got {}",
                other.describe()
            )))
        }
    };
    for field in [
        "Format",
        "Width",
        "Height",
        "Rotate",
        "ChangeThreshold",
        "Watermark",
    ] {
        if !image.get(field).is_absent() {
            return Err(ApiError::invalid(format!(
                "ImageConfig.{field} cannot be changed by UpdateSnapshot (only Interval can); stop and start the task"
            )));
        }
    }
    let max_idle_s = match v.get("MaxIdleTime") {
        m if m.is_absent() => None,
        m => Some(max_idle(m)),
    };
    Ok(TaskUpdate {
        key,
        interval_s,
        targets: target_streams(v.get("TargetStreams"))?,
        max_idle_s,
    })
}

/// A required id field: `^[a-zA-Z0-9_@\-.]{1,128}$`.
fn id(v: &Value, field: &str) -> ApiResult<String> {
    match v.get(field) {
        Value::Undefined | Value::Null => Err(ApiError::invalid(format!("{field} is required"))),
        Value::String(s) if s.is_empty() => Err(ApiError::invalid(format!("{field} is required"))),
        Value::String(s) => {
            input::check_id(s, field)?;
            Ok(s.clone())
        }
        other => Err(ApiError::invalid(format!(
            "{field} must be a string; got {}",
            other.describe()
        ))),
    }
}

/// `MaxIdleTime`: outside [1, 86400] (or not a whole number) means the default, as the cloud
/// service does — not an error.
fn max_idle(v: &Value) -> u32 {
    match v {
        Value::Number(n)
            if n.fract() == 0.0
                && *n >= f64::from(MAX_IDLE_RANGE_S.0)
                && *n <= f64::from(MAX_IDLE_RANGE_S.1) =>
        {
            *n as u32
        }
        _ => DEFAULT_MAX_IDLE_S,
    }
}

fn image_config(v: &Value) -> ApiResult<ImageConfig> {
    if !v.is_absent() && !matches!(v, Value::Object(_)) {
        return Err(ApiError::invalid(format!(
            "ImageConfig must be an object; got {}",
            v.describe()
        )));
    }
    let format = match v.get("Format") {
        f if f.is_absent() => ImageFormat::Jpeg,
        Value::Number(n) if *n == 0.0 => ImageFormat::Jpeg,
        Value::Number(n) if *n == 1.0 => ImageFormat::Png,
        other => {
            return Err(ApiError::invalid(format!(
                "ImageConfig.Format must be 0 (JPEG) or 1 (PNG); got {}",
                other.describe()
            )))
        }
    };
    Ok(ImageConfig {
        format,
        width: optional_int(v.get("Width"), "ImageConfig.Width", (0, MAX_IMAGE_SIDE))?.unwrap_or(0),
        height: optional_int(v.get("Height"), "ImageConfig.Height", (0, MAX_IMAGE_SIDE))?
            .unwrap_or(0),
        interval_s: optional_int(v.get("Interval"), "ImageConfig.Interval", INTERVAL_RANGE_S)?
            .unwrap_or(DEFAULT_INTERVAL_S),
        rotate: match v.get("Rotate") {
            r if r.is_absent() => None,
            r => Some(input::rotation(r, "ImageConfig.Rotate")?),
        },
        change_threshold: change_threshold(v.get("ChangeThreshold"))?,
        watermark: match v.get("Watermark") {
            Value::Undefined => WatermarkChoice::Engine,
            Value::Null => WatermarkChoice::Off,
            w => WatermarkChoice::Own(Watermark::parse_task(w)?),
        },
    })
}

/// `ImageConfig.ChangeThreshold`: any number in [0, 100] (fractions too), default 0.
fn change_threshold(v: &Value) -> ApiResult<f64> {
    match v {
        t if t.is_absent() => Ok(0.0),
        // NaN fails both comparisons; `abs` makes -0 the 0 it means.
        Value::Number(n) if *n >= 0.0 && *n <= MAX_CHANGE_THRESHOLD => Ok(n.abs()),
        other => Err(ApiError::invalid(format!(
            "ImageConfig.ChangeThreshold must be a number from 0 to 100 (percent); got {}",
            other.describe()
        ))),
    }
}

fn optional_int(v: &Value, field: &str, (min, max): (u32, u32)) -> ApiResult<Option<u32>> {
    if v.is_absent() {
        return Ok(None);
    }
    Ok(Some(integer_in(v, field, min, max)?))
}

/// `TargetStreams`: `None` when absent; `Some(empty)` for everyone.
fn target_streams(v: &Value) -> ApiResult<Option<Vec<TargetStream>>> {
    if v.is_absent() {
        return Ok(None);
    }
    if !matches!(v, Value::Object(_)) {
        return Err(ApiError::invalid(format!(
            "TargetStreams must be an object; got {}",
            v.describe()
        )));
    }
    let items = match v.get("StreamList") {
        l if l.is_absent() => return Ok(Some(Vec::new())),
        Value::Array(items) => items,
        other => {
            return Err(ApiError::invalid(format!(
                "TargetStreams.StreamList must be an array; got {}",
                other.describe()
            )))
        }
    };
    if items.len() > MAX_STREAMS {
        return Err(ApiError::invalid(format!(
            "TargetStreams.StreamList has {} streams; at most {MAX_STREAMS}",
            items.len()
        )));
    }
    let mut out: Vec<TargetStream> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("TargetStreams.StreamList[{i}]");
        if !matches!(item, Value::Object(_)) {
            return Err(ApiError::invalid(format!(
                "{at} must be an object; got {}",
                item.describe()
            )));
        }
        let user_id = match item.get("UserId") {
            u if u.is_absent() => {
                return Err(ApiError::invalid(format!("{at}.UserId is required")))
            }
            u => input::named_uid(u, &format!("{at}.UserId"))
                .map_err(|e| ApiError::invalid(e.message))?,
        };
        let stream_type = match item.get("StreamType") {
            t if t.is_absent() => StreamType::Main,
            Value::Number(n) if *n == 0.0 => StreamType::Main,
            Value::Number(n) if *n == 1.0 => StreamType::Sub,
            other => {
                return Err(ApiError::invalid(format!(
                    "{at}.StreamType must be 0 (main) or 1 (sub); got {}",
                    other.describe()
                )))
            }
        };
        let index = optional_int(item.get("Index"), &format!("{at}.Index"), (0, u32::MAX))?;
        if let Some(ix) = index {
            if out.iter().any(|t| t.index == Some(ix)) {
                return Err(ApiError::invalid(format!(
                    "{at}.Index {ix} is used twice: each Index in a StreamList must be different"
                )));
            }
        }
        if out
            .iter()
            .any(|t| t.user_id == user_id && t.stream_type == stream_type)
        {
            return Err(ApiError::invalid(format!(
                "{at} repeats the {} stream of user {user_id}",
                stream_type.as_str()
            )));
        }
        out.push(TargetStream {
            user_id,
            stream_type,
            index,
        });
    }
    Ok(Some(out))
}
