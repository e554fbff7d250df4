//! `SnapshotEngine`, the class JavaScript uses.
//!
//! Every method takes `&self` (state lives behind short `RefCell` borrows that never span a
//! call into caller code), validates its arguments into `core` types, and answers with a code:
//! nothing a caller passes can trap the module.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Object, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local};
use web_sys::{Blob, BlobPropertyBag, MediaStreamTrack};

use super::capture::Capture;
use super::events::Emitter;
use super::js::{self, error_value, set, to_value};
use super::track::{optional_video_track, video_track};
use crate::core::error::{Code, Error, Result};
use crate::core::input::{self, EngineOptions};
use crate::core::naming::default_snapshot_name;
use crate::core::snapshot::{Pipeline, SnapshotSpec};
use crate::core::stream::StreamType;
use crate::core::timing::Session;

/// Takes still images of the page's live video tracks: local main/sub streams and remote
/// users' main/sub streams, with the NERTC SDK's call-timing rules.
#[wasm_bindgen]
pub struct SnapshotEngine {
    shared: Rc<Shared>,
}

struct Shared {
    options: EngineOptions,
    session: RefCell<Session<MediaStreamTrack>>,
    emitter: Emitter,
    capture: Capture,
    pipeline: RefCell<Pipeline>,
    /// The last default name and how many times it was handed out (same millisecond).
    last_name: RefCell<(String, u32)>,
    last_error: RefCell<Option<(&'static str, Error)>>,
    destroyed: Cell<bool>,
}

/// One accepted snapshot.
struct Job {
    /// `""` for the local user before joining.
    uid: String,
    stream_type: StreamType,
    path: String,
    spec: SnapshotSpec,
    track: MediaStreamTrack,
}

/// What a successful capture produced.
struct Captured {
    width: u32,
    height: u32,
    size: usize,
    blob: Blob,
    timestamp: f64,
}

#[wasm_bindgen]
impl SnapshotEngine {
    /// Creates an engine. Throws an `Error` with `code` 30003 for bad options.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "SnapshotEngineOptions")] options: Option<
            JsValue,
        >,
    ) -> std::result::Result<SnapshotEngine, JsValue> {
        let options = input::engine_options(&to_value(&options.unwrap_or(JsValue::UNDEFINED)))
            .map_err(|e| error_value(&e))?;
        let emitter = Emitter::new().map_err(|e| error_value(&e))?;
        Ok(SnapshotEngine {
            shared: Rc::new(Shared {
                capture: Capture::new(options.frame_timeout_ms),
                options,
                session: RefCell::new(Session::new()),
                emitter,
                pipeline: RefCell::new(Pipeline::new()),
                last_name: RefCell::new((String::new(), 0)),
                last_error: RefCell::new(None),
                destroyed: Cell::new(false),
            }),
        })
    }

    // ----- local video before joining ----------------------------------------------------

    /// Starts the local preview of `streamType` with `track`. Before `joinChannel` only.
    #[wasm_bindgen(js_name = startVideoPreview)]
    pub fn start_video_preview(
        &self,
        #[wasm_bindgen(js_name = streamType, unchecked_param_type = "StreamType")]
        stream_type: JsValue,
        #[wasm_bindgen(unchecked_param_type = "MediaStreamTrack")] track: JsValue,
    ) -> i32 {
        self.answer("startVideoPreview", || {
            let st = input::stream_type(&to_value(&stream_type))?;
            let track = video_track(&track)?;
            self.shared
                .session
                .borrow_mut()
                .start_video_preview(st, track)?;
            Ok(())
        })
    }

    /// Stops the local preview of `streamType`. Before `joinChannel` only.
    #[wasm_bindgen(js_name = stopVideoPreview)]
    pub fn stop_video_preview(
        &self,
        #[wasm_bindgen(js_name = streamType, unchecked_param_type = "StreamType")]
        stream_type: JsValue,
    ) -> i32 {
        self.answer("stopVideoPreview", || {
            let st = input::stream_type(&to_value(&stream_type))?;
            self.shared.session.borrow_mut().stop_video_preview(st)?;
            Ok(())
        })
    }

    // ----- channel ----------------------------------------------------------------------------

    /// Joins `channelName` as `uid`. Ends running previews (their tracks are kept for
    /// `enableLocalVideo(type, true)` without a track).
    #[wasm_bindgen(js_name = joinChannel)]
    pub fn join_channel(
        &self,
        #[wasm_bindgen(js_name = channelName, unchecked_param_type = "string")]
        channel_name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uid")] uid: JsValue,
    ) -> i32 {
        self.answer("joinChannel", || {
            let channel = input::channel_name(&to_value(&channel_name))?;
            let uid = input::uid(&to_value(&uid))?;
            self.shared
                .session
                .borrow_mut()
                .join_channel(channel, uid)?;
            Ok(())
        })
    }

    /// Leaves the channel: every local and remote stream stops.
    #[wasm_bindgen(js_name = leaveChannel)]
    pub fn leave_channel(&self) -> i32 {
        self.answer("leaveChannel", || {
            self.shared.session.borrow_mut().leave_channel()?;
            Ok(())
        })
    }

    // ----- local video after joining -----------------------------------------------------------

    /// Starts (`enabled` true) or stops the local `streamType` stream. Without `track`, the
    /// stream's previous track (from the preview or an earlier call) is used.
    #[wasm_bindgen(js_name = enableLocalVideo)]
    pub fn enable_local_video(
        &self,
        #[wasm_bindgen(js_name = streamType, unchecked_param_type = "StreamType")]
        stream_type: JsValue,
        #[wasm_bindgen(unchecked_param_type = "boolean")] enabled: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "MediaStreamTrack")] track: Option<JsValue>,
    ) -> i32 {
        self.answer("enableLocalVideo", || {
            let st = input::stream_type(&to_value(&stream_type))?;
            let enabled = input::enabled(&to_value(&enabled))?;
            let track = optional_video_track(&track.unwrap_or(JsValue::UNDEFINED))?;
            self.shared
                .session
                .borrow_mut()
                .enable_local_video(st, enabled, track)?;
            Ok(())
        })
    }

    /// Starts the local sub stream with a screen-share track (from `getDisplayMedia`).
    #[wasm_bindgen(js_name = startScreenCapture)]
    pub fn start_screen_capture(
        &self,
        #[wasm_bindgen(unchecked_param_type = "MediaStreamTrack")] track: JsValue,
    ) -> i32 {
        self.answer("startScreenCapture", || {
            let track = video_track(&track)?;
            self.shared
                .session
                .borrow_mut()
                .start_screen_capture(track)?;
            Ok(())
        })
    }

    /// Stops the local sub stream.
    #[wasm_bindgen(js_name = stopScreenCapture)]
    pub fn stop_screen_capture(&self) -> i32 {
        self.answer("stopScreenCapture", || {
            self.shared.session.borrow_mut().stop_screen_capture()?;
            Ok(())
        })
    }

    // ----- remote users -------------------------------------------------------------------------

    /// Forward your RTC SDK's "remote user started video" event with the received track.
    #[wasm_bindgen(js_name = onUserVideoStart)]
    pub fn on_user_video_start(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uid")] uid: JsValue,
        #[wasm_bindgen(unchecked_param_type = "MediaStreamTrack")] track: JsValue,
    ) -> i32 {
        self.remote_start("onUserVideoStart", uid, StreamType::Main, track)
    }

    /// Forward your RTC SDK's "remote user stopped video" event.
    #[wasm_bindgen(js_name = onUserVideoStop)]
    pub fn on_user_video_stop(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uid")] uid: JsValue,
    ) -> i32 {
        self.remote_stop("onUserVideoStop", uid, StreamType::Main)
    }

    /// Forward your RTC SDK's "remote user started the sub stream (screen share)" event.
    #[wasm_bindgen(js_name = onUserSubStreamVideoStart)]
    pub fn on_user_sub_stream_video_start(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uid")] uid: JsValue,
        #[wasm_bindgen(unchecked_param_type = "MediaStreamTrack")] track: JsValue,
    ) -> i32 {
        self.remote_start("onUserSubStreamVideoStart", uid, StreamType::Sub, track)
    }

    /// Forward your RTC SDK's "remote user stopped the sub stream" event.
    #[wasm_bindgen(js_name = onUserSubStreamVideoStop)]
    pub fn on_user_sub_stream_video_stop(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uid")] uid: JsValue,
    ) -> i32 {
        self.remote_stop("onUserSubStreamVideoStop", uid, StreamType::Sub)
    }

    /// Forward your RTC SDK's "remote user left" event: both of the user's streams stop.
    #[wasm_bindgen(js_name = onUserLeave)]
    pub fn on_user_leave(&self, #[wasm_bindgen(unchecked_param_type = "Uid")] uid: JsValue) -> i32 {
        self.answer("onUserLeave", || {
            let uid = input::uid(&to_value(&uid))?;
            self.shared.session.borrow_mut().user_leave(&uid)?;
            Ok(())
        })
    }

    // ----- snapshots ------------------------------------------------------------------------------

    /// Takes a snapshot of a local stream. Returns 0 when accepted: exactly one
    /// `onTakeSnapshotResult` call and one `takesnapshotresult` event follow. Non-zero: nothing
    /// follows (30005 outside the call-timing rules, 30003 for bad arguments).
    #[wasm_bindgen(js_name = takeLocalSnapshot)]
    pub fn take_local_snapshot(
        &self,
        #[wasm_bindgen(js_name = streamType, unchecked_param_type = "StreamType")]
        stream_type: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string")] path: Option<JsValue>,
    ) -> i32 {
        self.answer("takeLocalSnapshot", || {
            let st = input::stream_type(&to_value(&stream_type))?;
            let path = input::path(&to_value(&path.unwrap_or(JsValue::UNDEFINED)))?;
            let job = self
                .shared
                .local_job(st, path, self.shared.options.default_spec())?;
            self.spawn(job);
            Ok(())
        })
    }

    /// Takes a snapshot of a remote user's stream; answered like `takeLocalSnapshot`.
    #[wasm_bindgen(js_name = takeRemoteSnapshot)]
    pub fn take_remote_snapshot(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uid")] uid: JsValue,
        #[wasm_bindgen(js_name = streamType, unchecked_param_type = "StreamType")]
        stream_type: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string")] path: Option<JsValue>,
    ) -> i32 {
        self.answer("takeRemoteSnapshot", || {
            let uid = input::uid(&to_value(&uid))?;
            let st = input::stream_type(&to_value(&stream_type))?;
            let path = input::path(&to_value(&path.unwrap_or(JsValue::UNDEFINED)))?;
            let job = self
                .shared
                .remote_job(uid, st, path, self.shared.options.default_spec())?;
            self.spawn(job);
            Ok(())
        })
    }

    /// Takes a snapshot with options (size, fit, format, quality, mirror). Resolves with the
    /// result; rejects with an `Error` carrying `code` (and `result` when it was accepted).
    /// Accepted requests also fire `onTakeSnapshotResult` and `takesnapshotresult`.
    #[wasm_bindgen(unchecked_return_type = "Promise<SnapshotResult>")]
    pub fn snapshot(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SnapshotRequest")] request: JsValue,
    ) -> Promise {
        let accepted = self.checked("snapshot", || {
            let req = input::snapshot_request(&to_value(&request), &self.shared.options)?;
            let local_uid = self.shared.session.borrow().local_uid().map(str::to_owned);
            match req.uid {
                Some(uid) if Some(&uid) != local_uid.as_ref() => {
                    self.shared
                        .remote_job(uid, req.stream_type, req.path, req.spec)
                }
                _ => self.shared.local_job(req.stream_type, req.path, req.spec),
            }
        });
        match accepted {
            Ok(job) => future_to_promise(run(self.shared.clone(), job)),
            Err(e) => Promise::reject(&error_value(&e)),
        }
    }

    // ----- results ------------------------------------------------------------------------------

    /// Sets the NERTC-style handler object: `onTakeSnapshotResult(code, path, result)` is called
    /// for every accepted snapshot. `null` removes it. Throws (code 30003) for a non-object.
    #[wasm_bindgen(js_name = setEventHandler)]
    pub fn set_event_handler(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SnapshotEventHandler | null")] handler: JsValue,
    ) -> std::result::Result<(), JsValue> {
        self.throwing("setEventHandler", || {
            self.shared.emitter.set_handler(handler)
        })
    }

    /// Adds a DOM event listener (`"takesnapshotresult"`: `CustomEvent<SnapshotResult>`).
    #[wasm_bindgen(js_name = addEventListener)]
    pub fn add_event_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] kind: JsValue,
        #[wasm_bindgen(unchecked_param_type = "EventListenerOrEventListenerObject | null")]
        listener: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "boolean | AddEventListenerOptions")]
        options: Option<JsValue>,
    ) -> std::result::Result<(), JsValue> {
        self.throwing("addEventListener", || {
            self.shared.emitter.add_listener(
                &kind,
                &listener,
                &options.unwrap_or(JsValue::UNDEFINED),
            )
        })
    }

    /// Removes a listener added with `addEventListener`.
    #[wasm_bindgen(js_name = removeEventListener)]
    pub fn remove_event_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] kind: JsValue,
        #[wasm_bindgen(unchecked_param_type = "EventListenerOrEventListenerObject | null")]
        listener: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "boolean | EventListenerOptions")]
        options: Option<JsValue>,
    ) -> std::result::Result<(), JsValue> {
        self.throwing("removeEventListener", || {
            self.shared.emitter.remove_listener(
                &kind,
                &listener,
                &options.unwrap_or(JsValue::UNDEFINED),
            )
        })
    }

    /// The last non-zero answer of any method, with its message: `{ call, code, codeName,
    /// message }`, or `null` when every call so far succeeded.
    #[wasm_bindgen(getter = lastError, unchecked_return_type = "TrackSnapErrorInfo | null")]
    pub fn last_error(&self) -> JsValue {
        match &*self.shared.last_error.borrow() {
            None => JsValue::NULL,
            Some((call, e)) => {
                let o: JsValue = Object::new().into();
                set(&o, "call", &(*call).into());
                set(&o, "code", &e.code.value().into());
                set(&o, "codeName", &e.code.name().into());
                set(&o, "message", &e.message.as_str().into());
                o
            }
        }
    }

    /// How this browser takes frames: `"MediaStreamTrackProcessor"`, `"video element"`, or
    /// `"unsupported"`.
    #[wasm_bindgen(getter = capturePath, unchecked_return_type = "CapturePath")]
    pub fn capture_path(&self) -> String {
        self.shared.capture.path().as_str().to_string()
    }

    /// Stops the engine: snapshots in flight end with code 30105 (their events still fire),
    /// and every later call answers 30005. The page's tracks are not stopped.
    pub fn destroy(&self) {
        if self.shared.destroyed.replace(true) {
            return;
        }
        self.shared.capture.cancel_all();
        *self.shared.session.borrow_mut() = Session::new();
    }
}

impl SnapshotEngine {
    /// Runs a call that answers with a code; remembers a failure for `lastError`.
    fn answer(&self, call: &'static str, f: impl FnOnce() -> Result<()>) -> i32 {
        match self.checked(call, f) {
            Ok(()) => Code::Ok.value(),
            Err(e) => e.code.value(),
        }
    }

    /// Runs a call that throws on failure.
    fn throwing(
        &self,
        call: &'static str,
        f: impl FnOnce() -> Result<()>,
    ) -> std::result::Result<(), JsValue> {
        self.checked(call, f).map_err(|e| error_value(&e))
    }

    fn checked<T>(&self, call: &'static str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let r = if self.shared.destroyed.get() {
            Err(Error::invalid_operation("the engine was destroyed"))
        } else {
            f()
        };
        if let Err(e) = &r {
            *self.shared.last_error.borrow_mut() = Some((call, e.clone()));
        }
        r
    }

    fn remote_start(
        &self,
        call: &'static str,
        uid: JsValue,
        st: StreamType,
        track: JsValue,
    ) -> i32 {
        self.answer(call, || {
            let uid = input::uid(&to_value(&uid))?;
            let track = video_track(&track)?;
            self.shared
                .session
                .borrow_mut()
                .user_video_start(uid, st, track)?;
            Ok(())
        })
    }

    fn remote_stop(&self, call: &'static str, uid: JsValue, st: StreamType) -> i32 {
        self.answer(call, || {
            let uid = input::uid(&to_value(&uid))?;
            self.shared.session.borrow_mut().user_video_stop(&uid, st)?;
            Ok(())
        })
    }

    fn spawn(&self, job: Job) {
        let shared = self.shared.clone();
        spawn_local(async move {
            // The outcome went to the handler and the event; nobody awaits it here.
            let _ = run(shared, job).await;
        });
    }
}

impl Shared {
    fn local_job(&self, st: StreamType, path: Option<String>, spec: SnapshotSpec) -> Result<Job> {
        let (track, uid) = {
            let session = self.session.borrow();
            (
                Clone::clone(session.local_track(st)?),
                session.local_uid().map(str::to_owned),
            )
        };
        let path = path.unwrap_or_else(|| self.default_name(uid.as_deref(), st, &spec));
        Ok(Job {
            uid: uid.unwrap_or_default(),
            stream_type: st,
            path,
            spec,
            track,
        })
    }

    fn remote_job(
        &self,
        uid: String,
        st: StreamType,
        path: Option<String>,
        spec: SnapshotSpec,
    ) -> Result<Job> {
        let track = Clone::clone(self.session.borrow().remote_track(&uid, st)?);
        let path = path.unwrap_or_else(|| self.default_name(Some(&uid), st, &spec));
        Ok(Job {
            uid,
            stream_type: st,
            path,
            spec,
            track,
        })
    }

    fn default_name(&self, uid: Option<&str>, st: StreamType, spec: &SnapshotSpec) -> String {
        let now = js::now_ms() as i64;
        let base = default_snapshot_name(uid, st, spec.format, now, 0);
        let mut last = self.last_name.borrow_mut();
        if last.0 == base {
            last.1 += 1;
            default_snapshot_name(uid, st, spec.format, now, last.1)
        } else {
            *last = (base.clone(), 0);
            base
        }
    }

    async fn capture_and_encode(&self, job: &Job) -> Result<Captured> {
        let frame = self.capture.grab(&job.track).await?;
        let timestamp = js::now_ms();
        let pixels = self.capture.read(&frame).await?;
        drop(frame);
        // From here on nothing awaits: the pipeline's buffers are ours alone.
        let mut pipeline = self.pipeline.borrow_mut();
        let info = pixels.info;
        let len = pixels.byte_len();
        self.capture.copy_into(pixels, pipeline.input_mut(len))?;
        let encoded = pipeline.process(info, &job.spec)?;
        let blob = make_blob(encoded.bytes, job.spec.format.mime_type())?;
        Ok(Captured {
            width: encoded.width,
            height: encoded.height,
            size: encoded.bytes.len(),
            blob,
            timestamp,
        })
    }
}

/// Captures, encodes and delivers one snapshot: exactly one handler call and one event.
async fn run(shared: Rc<Shared>, job: Job) -> std::result::Result<JsValue, JsValue> {
    let outcome = shared.capture_and_encode(&job).await;
    let result = result_object(&job, &outcome);
    let code = match &outcome {
        Ok(_) => Code::Ok.value(),
        Err(e) => e.code.value(),
    };
    shared.emitter.snapshot_result(code, &job.path, &result);
    match outcome {
        Ok(_) => Ok(result),
        Err(e) => {
            let err = error_value(&e);
            set(&err, "result", &result);
            Err(err)
        }
    }
}

/// The `SnapshotResult` object of the README.
fn result_object(job: &Job, outcome: &Result<Captured>) -> JsValue {
    let o: JsValue = Object::new().into();
    let format = job.spec.format;
    set(&o, "path", &job.path.as_str().into());
    set(&o, "uid", &job.uid.as_str().into());
    set(&o, "streamType", &job.stream_type.as_str().into());
    set(&o, "format", &format.as_str().into());
    set(&o, "mimeType", &format.mime_type().into());
    match outcome {
        Ok(c) => {
            set(&o, "code", &Code::Ok.value().into());
            set(&o, "message", &"".into());
            set(&o, "width", &c.width.into());
            set(&o, "height", &c.height.into());
            set(&o, "size", &(c.size as f64).into());
            set(&o, "blob", &c.blob);
            set(&o, "timestamp", &c.timestamp.into());
        }
        Err(e) => {
            set(&o, "code", &e.code.value().into());
            set(&o, "message", &e.message.as_str().into());
            set(&o, "width", &0.into());
            set(&o, "height", &0.into());
            set(&o, "size", &0.into());
            set(&o, "blob", &JsValue::NULL);
            set(&o, "timestamp", &js::now_ms().into());
        }
    }
    o
}

fn make_blob(bytes: &[u8], mime: &str) -> Result<Blob> {
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let parts = Array::new();
    // SAFETY: the view lives only until `new Blob` returns, which copies it synchronously;
    // nothing in between allocates in wasm memory, so the view cannot be detached.
    let view = unsafe { Uint8Array::view(bytes) };
    parts.push(&view);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options);
    drop(view);
    blob.map_err(|e| js::browser_error(Code::EncodeFailed, "new Blob", &e))
}
