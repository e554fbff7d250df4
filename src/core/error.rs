//! Result codes and the one error type of the crate.
//!
//! Codes 30003 and 30005 are NERTC's own (`ERR_INVALID_PARAM`, `ERR_INVALID_OPERATION`),
//! so an app written against the SDK reads them unchanged. The 301xx range is ours: failures
//! that happen after a call was accepted, reported through the result event; 302xx are
//! upload failures (the image is still delivered, as a Blob).

use std::fmt;

/// A stable numeric result code, as JavaScript sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Code {
    /// Accepted (for a call) or succeeded (for a result).
    Ok = 0,
    /// A bug inside tracksnap (a Rust panic): only in the `error` event. The module's state
    /// cannot be trusted afterwards: load it again (reload the page) and make a new engine.
    Fatal = 30001,
    /// A bad argument: unknown stream type, not a video track, NaN or out-of-range size, …
    InvalidParam = 30003,
    /// The browser lacks every frame reader this module knows (no `VideoFrame`).
    NotSupported = 30004,
    /// Called outside the call-timing rules (stream not started, unknown remote user, …).
    InvalidOperation = 30005,
    /// The stream's track ended before a frame could be read.
    TrackEnded = 30101,
    /// No frame arrived within the engine's frame timeout.
    FrameTimeout = 30102,
    /// The browser refused to hand over the frame's pixels.
    CaptureFailed = 30103,
    /// Scaling or encoding the frame failed.
    EncodeFailed = 30104,
    /// `destroy()` was called before the snapshot finished.
    Destroyed = 30105,
    /// The image could not be uploaded after the retries; it waits in the outbox.
    UploadFailed = 30201,
    /// No usable presigned URL (the presign callback or endpoint failed, or answered something
    /// unusable) after the retries; the image waits in the outbox.
    PresignFailed = 30202,
    /// Not uploaded and the outbox could not keep it (full, or IndexedDB unavailable): the
    /// image is only in the event's Blob.
    OutboxFull = 30203,
}

impl Code {
    /// Every code, for documentation tables and exhaustive tests.
    pub const ALL: [Code; 13] = [
        Code::Ok,
        Code::Fatal,
        Code::InvalidParam,
        Code::NotSupported,
        Code::InvalidOperation,
        Code::TrackEnded,
        Code::FrameTimeout,
        Code::CaptureFailed,
        Code::EncodeFailed,
        Code::Destroyed,
        Code::UploadFailed,
        Code::PresignFailed,
        Code::OutboxFull,
    ];

    /// The number JavaScript receives.
    pub fn value(self) -> i32 {
        self as i32
    }

    /// The code whose number is `value`, if any.
    pub fn from_value(value: f64) -> Option<Code> {
        Code::ALL
            .into_iter()
            .find(|c| f64::from(c.value()) == value)
    }

    /// The symbolic name, as written in the README's code table.
    pub fn name(self) -> &'static str {
        match self {
            Code::Ok => "OK",
            Code::Fatal => "ERR_FATAL",
            Code::InvalidParam => "ERR_INVALID_PARAM",
            Code::NotSupported => "ERR_NOT_SUPPORTED",
            Code::InvalidOperation => "ERR_INVALID_OPERATION",
            Code::TrackEnded => "ERR_TRACK_ENDED",
            Code::FrameTimeout => "ERR_FRAME_TIMEOUT",
            Code::CaptureFailed => "ERR_CAPTURE_FAILED",
            Code::EncodeFailed => "ERR_ENCODE_FAILED",
            Code::Destroyed => "ERR_DESTROYED",
            Code::UploadFailed => "ERR_UPLOAD_FAILED",
            Code::PresignFailed => "ERR_PRESIGN_FAILED",
            Code::OutboxFull => "ERR_OUTBOX_FULL",
        }
    }
}

/// A failure with its code and a message meant for the developer reading the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: Code,
    pub message: String,
}

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }

    pub fn invalid_param(message: impl Into<String>) -> Self {
        Error::new(Code::InvalidParam, message)
    }

    pub fn invalid_operation(message: impl Into<String>) -> Self {
        Error::new(Code::InvalidOperation, message)
    }

    /// A snapshot that `destroy()` cut short (capture, the Worker or the encoder).
    pub fn destroyed() -> Self {
        Error::new(
            Code::Destroyed,
            "the engine was destroyed before the snapshot finished",
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code.name(),
            self.code.value(),
            self.message
        )
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn every_code_comes_back_from_its_number() {
        for code in Code::ALL {
            assert_eq!(Code::from_value(f64::from(code.value())), Some(code));
        }
        for other in [1.0, -30003.0, 30003.5, f64::NAN, 30106.0] {
            assert_eq!(Code::from_value(other), None, "{other}");
        }
    }
}
