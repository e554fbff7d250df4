//! Checking that what a caller calls a track is a live video `MediaStreamTrack`.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MediaStreamTrack, MediaStreamTrackState};

use super::js;
use crate::core::error::{Error, Result};

/// `v` as a live video track, or `ERR_INVALID_PARAM` saying what it is instead.
pub fn video_track(v: &JsValue) -> Result<MediaStreamTrack> {
    let Some(track) = v.dyn_ref::<MediaStreamTrack>() else {
        return Err(Error::invalid_param(format!(
            "track must be a MediaStreamTrack; got {}",
            js::to_value(v).describe()
        )));
    };
    let kind = track.kind();
    if kind != "video" {
        return Err(Error::invalid_param(format!(
            "track must be a video track; got an {kind} track"
        )));
    }
    if track.ready_state() == MediaStreamTrackState::Ended {
        return Err(Error::invalid_param(
            "track has ended (its readyState is \"ended\"); pass a live track",
        ));
    }
    // `Clone::clone` copies the handle; `track.clone()` would call the JavaScript method and
    // start a second, independent track that the page could never stop.
    Ok(Clone::clone(track))
}

/// An optional track argument: `undefined`/`null` → `None`.
pub fn optional_video_track(v: &JsValue) -> Result<Option<MediaStreamTrack>> {
    if v.is_undefined() || v.is_null() {
        Ok(None)
    } else {
        video_track(v).map(Some)
    }
}
