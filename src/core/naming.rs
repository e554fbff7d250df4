//! File names: the default snapshot name, time stamps, and which paths are safe.
//!
//! Time is always a parameter (milliseconds since the Unix epoch), never read here.

use super::encode::ImageFormat;
use super::error::{Error, Result};
use super::stream::StreamType;
use super::value::Value;

/// The longest path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;

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
