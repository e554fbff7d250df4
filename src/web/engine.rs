//! `SnapshotEngine`, the class JavaScript uses.
//!
//! Every method takes `&self` (state lives behind short `RefCell` borrows that never span a
//! call into caller code), validates its arguments into `core` types, and answers with a code:
//! nothing a caller passes can trap the module.
//!
//! The engine builds the services that do the work and hands each call to one of them: the
//! [`Streams`] (the call-timing session), the [`Camera`], the [`Snapshots`] runner, the
//! [`Periodic`] tasks, the [`Uploader`] and the [`Emitter`]. Each owns its state; what several
//! need is given to them as an `Rc`.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;
use web_sys::MediaStreamTrack;

use super::camera::Camera;
use super::events::Emitter;
use super::idb::Db;
use super::js::{describe_exception, error_value, get, set, to_value};
use super::periodic::{Periodic, StopReason};
use super::snapshot::Snapshots;
use super::streams::Streams;
use super::track::{optional_video_track, video_track};
use super::upload::{self, OutboxRetry, Uploader};
use super::wait::{timer, wait_for, Waited};
use super::watermark::WatermarkSource;
use super::worker::WorkerLink;
use crate::core::error::{Code, Error, Result};
use crate::core::input::{self, EngineOptions};
use crate::core::stream::StreamType;
use crate::core::timing::{Session, StreamChange};

/// Takes still images of the page's live video tracks: local main/sub streams and remote
/// users' main/sub streams, with the NERTC SDK's call-timing rules.
#[wasm_bindgen]
pub struct SnapshotEngine {
    options: EngineOptions,
    streams: Rc<Streams>,
    camera: Rc<Camera>,
    emitter: Rc<Emitter>,
    uploader: Rc<Uploader>,
    snapshots: Rc<Snapshots>,
    tasks: Rc<Periodic>,
    /// Tries the outbox again without being asked (a timer, the `online` event).
    outbox_retry: OutboxRetry,
    /// The browser's answer to `navigator.storage.persist()` (see `outboxPersisted`).
    outbox_persisted: Promise,
    last_error: RefCell<Option<(&'static str, Error)>>,
}

/// `navigator.storage.persist()` may wait for the user (Firefox asks): this long at most.
const PERSIST_TIMEOUT_MS: u32 = 10_000;

#[wasm_bindgen]
impl SnapshotEngine {
    /// Creates an engine. Throws an `Error` with `code` 30003 for bad options.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "SnapshotEngineOptions")] options: Option<
            JsValue,
        >,
    ) -> std::result::Result<SnapshotEngine, JsValue> {
        let raw = options.unwrap_or(JsValue::UNDEFINED);
        let read =
            upload::resolve_relative_endpoint(to_value(&raw), &["storage", "presignEndpoint"]);
        let options = input::engine_options(&read).map_err(|e| error_value(&e))?;
        let watermark = options
            .watermark
            .clone()
            .map(|w| WatermarkSource::new(w, &get(&raw, "watermark"), "options.watermark"))
            .transpose()
            .map_err(|e| error_value(&e))?;
        let emitter = Rc::new(Emitter::new().map_err(|e| error_value(&e))?);
        let db = Rc::new(Db::new());
        let presign = get(&get(&raw, "storage"), "presign")
            .dyn_into::<Function>()
            .ok();
        let uploader = Rc::new(
            Uploader::new(options.storage.as_ref(), presign, db.clone())
                .map_err(|e| error_value(&e))?,
        );
        let outbox_persisted = persist_outbox(options.storage.as_ref().is_some_and(|s| s.persist));
        let link = options
            .worker
            .then(WorkerLink::start)
            .flatten()
            .map(Rc::new);
        let streams = Rc::new(Streams::new());
        let camera = Rc::new(Camera::new(options.frame_timeout_ms, link));
        let snapshots = Rc::new(Snapshots::new(
            streams.clone(),
            camera.clone(),
            uploader.clone(),
            emitter.clone(),
            options.storage.is_some(),
            watermark.clone(),
        ));
        let tasks = Periodic::new(
            &options,
            watermark,
            streams.clone(),
            camera.clone(),
            uploader.clone(),
            emitter.clone(),
            db,
        );
        let outbox_retry = OutboxRetry::start(&uploader, &emitter);
        // What an earlier page could not upload goes now: with this engine's presigner, or a
        // task's PresignEndpoint kept in the record.
        let _ = uploader.flush(emitter.clone(), false);
        Ok(SnapshotEngine {
            options,
            streams,
            camera,
            emitter,
            uploader,
            snapshots,
            tasks,
            outbox_retry,
            outbox_persisted,
            last_error: RefCell::new(None),
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
            self.change(|s| s.start_video_preview(st, track))?;
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
            self.change(|s| s.stop_video_preview(st))?;
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
            self.change(|s| s.join_channel(channel, uid))?;
            Ok(())
        })
    }

    /// Leaves the channel: every local and remote stream stops.
    #[wasm_bindgen(js_name = leaveChannel)]
    pub fn leave_channel(&self) -> i32 {
        self.answer("leaveChannel", || {
            // The tasks stop first (reason "left"), so they report no stream stopping.
            if self.streams.session().is_joined() {
                self.tasks.stop_all_tasks(StopReason::Left);
            }
            self.change(|s| s.leave_channel())?;
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
            self.change(|s| s.enable_local_video(st, enabled, track))?;
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
            self.change(|s| s.start_screen_capture(track))?;
            Ok(())
        })
    }

    /// Stops the local sub stream.
    #[wasm_bindgen(js_name = stopScreenCapture)]
    pub fn stop_screen_capture(&self) -> i32 {
        self.answer("stopScreenCapture", || {
            self.change(|s| s.stop_screen_capture())?;
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
            self.change(|s| s.user_leave(&uid))?;
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
                .snapshots
                .local_job(st, path, self.options.default_spec())?;
            self.snapshots.spawn(job);
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
                .snapshots
                .remote_job(uid, st, path, self.options.default_spec())?;
            self.snapshots.spawn(job);
            Ok(())
        })
    }

    /// Takes a snapshot with options (size, fit, format, quality, mirror, rotation). Resolves
    /// with the result; rejects with an `Error` carrying `code` (and `result` when it was accepted).
    /// Accepted requests also fire `onTakeSnapshotResult` and `takesnapshotresult`.
    #[wasm_bindgen(unchecked_return_type = "Promise<SnapshotResult>")]
    pub fn snapshot(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SnapshotRequest")] request: JsValue,
    ) -> Promise {
        let accepted = self.checked("snapshot", || {
            let req = input::snapshot_request(&to_value(&request), &self.options)?;
            self.snapshots.request_job(req, &request)
        });
        match accepted {
            Ok(job) => future_to_promise(self.snapshots.clone().run(job)),
            Err(e) => Promise::reject(&error_value(&e)),
        }
    }

    // ----- periodic tasks (the cloud services' contract) --------------------------------------

    /// Starts a periodic snapshot task over the joined channel's streams (the cloud's
    /// `StartSnapshot`). Resolves with the response — `Result: "ok"`, or `""` and
    /// `ResponseMetadata.Error` — and never rejects.
    #[wasm_bindgen(js_name = startSnapshot, unchecked_return_type = "Promise<SnapshotResponse>")]
    pub fn start_snapshot(
        &self,
        #[wasm_bindgen(unchecked_param_type = "StartSnapshotRequest")] request: JsValue,
    ) -> Promise {
        let tasks = self.tasks.clone();
        future_to_promise(async move { Ok(tasks.start_task(request).await) })
    }

    /// Changes a running task's `ImageConfig.Interval`, `TargetStreams` or `MaxIdleTime`.
    #[wasm_bindgen(js_name = updateSnapshot, unchecked_return_type = "Promise<SnapshotResponse>")]
    pub fn update_snapshot(
        &self,
        #[wasm_bindgen(unchecked_param_type = "UpdateSnapshotRequest")] request: JsValue,
    ) -> Promise {
        Promise::resolve(&self.tasks.update_task(&request))
    }

    /// Stops a running task. Resolves after its last image event and its `snapshottaskstop`
    /// event: nothing of the task fires afterwards.
    #[wasm_bindgen(js_name = stopSnapshot, unchecked_return_type = "Promise<SnapshotResponse>")]
    pub fn stop_snapshot(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TaskKeyRequest")] request: JsValue,
    ) -> Promise {
        let tasks = self.tasks.clone();
        future_to_promise(async move { Ok(tasks.stop_task(request).await) })
    }

    /// A task's effective configuration and counters, or `null` for an unknown task.
    /// Throws (code 30003) when AppId, RoomId or TaskId is missing or malformed.
    #[wasm_bindgen(js_name = getSnapshotTask, unchecked_return_type = "TaskInfo | null")]
    pub fn get_snapshot_task(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TaskKeyRequest")] request: JsValue,
    ) -> std::result::Result<JsValue, JsValue> {
        self.recorded("getSnapshotTask", self.tasks.task_info(&request))
            .map_err(|e| error_value(&e))
    }

    // ----- uploads ------------------------------------------------------------------------------

    /// Images in the outbox (IndexedDB), being sent or waiting for another attempt, as far as
    /// this engine knows.
    #[wasm_bindgen(js_name = pendingUploads)]
    pub fn pending_uploads(&self) -> u32 {
        self.uploader.pending()
    }

    /// Tries every image in the outbox now. Resolves with how many remain; rejects (30005)
    /// after `destroy()`.
    #[wasm_bindgen(js_name = flushUploads, unchecked_return_type = "Promise<number>")]
    pub fn flush_uploads(&self) -> Promise {
        match self.checked("flushUploads", || Ok(())) {
            Ok(()) => self.uploader.flush(self.emitter.clone(), true),
            Err(e) => Promise::reject(&error_value(&e)),
        }
    }

    /// The outbox's images (every page's), oldest first, without their bytes.
    #[wasm_bindgen(js_name = outboxEntries, unchecked_return_type = "Promise<OutboxEntry[]>")]
    pub fn outbox_entries(&self) -> Promise {
        match self.checked("outboxEntries", || Ok(())) {
            Ok(()) => self.uploader.entries(),
            Err(e) => Promise::reject(&error_value(&e)),
        }
    }

    /// The image kept under `key` (the oldest, if several), or `null`.
    #[wasm_bindgen(js_name = readOutboxEntry, unchecked_return_type = "Promise<Blob | null>")]
    pub fn read_outbox_entry(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue,
    ) -> Promise {
        match self.checked("readOutboxEntry", || outbox_key(&key)) {
            Ok(key) => self.uploader.entry(key, false),
            Err(e) => Promise::reject(&error_value(&e)),
        }
    }

    /// Removes the image kept under `key` (the oldest, if several): `true` if there was one.
    #[wasm_bindgen(js_name = removeOutboxEntry, unchecked_return_type = "Promise<boolean>")]
    pub fn remove_outbox_entry(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue,
    ) -> Promise {
        match self.checked("removeOutboxEntry", || outbox_key(&key)) {
            Ok(key) => self.uploader.entry(key, true),
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
        self.recorded("setEventHandler", self.emitter.set_handler(handler))
            .map_err(|e| error_value(&e))
    }

    /// Adds a DOM event listener (`"takesnapshotresult"`: `CustomEvent<SnapshotResult>`).
    // Typed in `types.rs` (one overload per event): the signature here would shadow them.
    #[wasm_bindgen(js_name = addEventListener, skip_typescript)]
    pub fn add_event_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] kind: JsValue,
        #[wasm_bindgen(unchecked_param_type = "EventListenerOrEventListenerObject | null")]
        listener: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "boolean | AddEventListenerOptions")]
        options: Option<JsValue>,
    ) -> std::result::Result<(), JsValue> {
        let added =
            self.emitter
                .add_listener(&kind, &listener, &options.unwrap_or(JsValue::UNDEFINED));
        self.recorded("addEventListener", added)
            .map_err(|e| error_value(&e))
    }

    /// Removes a listener added with `addEventListener`.
    #[wasm_bindgen(js_name = removeEventListener, skip_typescript)]
    pub fn remove_event_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] kind: JsValue,
        #[wasm_bindgen(unchecked_param_type = "EventListenerOrEventListenerObject | null")]
        listener: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "boolean | EventListenerOptions")]
        options: Option<JsValue>,
    ) -> std::result::Result<(), JsValue> {
        let removed =
            self.emitter
                .remove_listener(&kind, &listener, &options.unwrap_or(JsValue::UNDEFINED));
        self.recorded("removeEventListener", removed)
            .map_err(|e| error_value(&e))
    }

    /// The last non-zero answer of any method, with its message: `{ call, code, codeName,
    /// message }`, or `null` when every call so far succeeded.
    #[wasm_bindgen(getter = lastError, unchecked_return_type = "TrackSnapErrorInfo | null")]
    pub fn last_error(&self) -> JsValue {
        match &*self.last_error.borrow() {
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

    /// Resolves once the engine knows how it takes and encodes frames: its Worker has started
    /// or failed to (within 5 s). `frameReader` and `encoderPlacement` are settled from then on.
    #[wasm_bindgen(getter, unchecked_return_type = "Promise<void>")]
    pub fn ready(&self) -> Promise {
        let camera = self.camera.clone();
        future_to_promise(async move {
            camera.settle().await;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Whether the browser keeps the outbox under storage pressure: `true` or `false` as
    /// `navigator.storage.persist()` answered (asked with `storage.persist`, the default),
    /// `null` when it was not asked, the browser has no such call, or it gave no answer within
    /// 10 s (Firefox asks the user).
    #[wasm_bindgen(getter = outboxPersisted, unchecked_return_type = "Promise<boolean | null>")]
    pub fn outbox_persisted(&self) -> Promise {
        self.outbox_persisted.clone()
    }

    /// What keeping each of the latest 64 kept images in the outbox before its first upload
    /// attempt cost (the write-ahead), oldest first.
    #[wasm_bindgen(getter = writeAheadTimes, unchecked_return_type = "WriteAheadTime[]")]
    pub fn write_ahead_times(&self) -> Array {
        self.uploader.write_times()
    }

    /// How this browser takes frames: `"MediaStreamTrackProcessor"`, `"MediaStreamTrackProcessor
    /// in a Worker"` (Safari), `"video element"`, or `"unsupported"`; settled once `ready`
    /// has resolved.
    #[wasm_bindgen(getter = frameReader, unchecked_return_type = "FrameReader")]
    pub fn frame_reader(&self) -> String {
        self.camera.frame_reader().as_str().to_string()
    }

    /// Where frames are encoded: `"worker"` (a dedicated Worker) or `"page"` (the page's
    /// thread: `worker: false`, or no Worker could be used here).
    #[wasm_bindgen(getter = encoderPlacement, unchecked_return_type = "EncoderPlacement")]
    pub fn encoder_placement(&self) -> String {
        self.camera.encoder_placement().to_string()
    }

    /// Stops the engine: snapshots in flight end with code 30105 (their events still fire),
    /// and every later call that would start something answers 30005; listeners, the handler
    /// and `getSnapshotTask` keep working. The page's tracks are not stopped.
    pub fn destroy(&self) {
        if self.streams.mark_destroyed() {
            return;
        }
        self.tasks.destroy();
        self.camera.stop();
        self.uploader.cancel_all();
        self.outbox_retry.stop();
        self.streams.clear();
    }
}

/// Asks `navigator.storage.persist()` (when `ask`); the answer as a boolean, or `null`.
fn persist_outbox(ask: bool) -> Promise {
    let storage = get(&get(&js_sys::global(), "navigator"), "storage");
    let persist = get(&storage, "persist").dyn_into::<Function>().ok();
    let Some(asked) = persist
        .filter(|_| ask)
        .and_then(|f| f.call0(&storage).ok())
        .and_then(|p| p.dyn_into::<Promise>().ok())
    else {
        return Promise::resolve(&JsValue::NULL);
    };
    future_to_promise(async move {
        Ok(
            match wait_for(Some(&asked), Some(&timer(PERSIST_TIMEOUT_MS)), None).await {
                Waited::Settled(Ok(answer)) if answer.as_bool().is_some() => answer,
                _ => JsValue::NULL,
            },
        )
    })
}

/// An outbox key as a caller gives it: a non-empty string.
fn outbox_key(key: &JsValue) -> Result<String> {
    match key.as_string() {
        Some(k) if !k.is_empty() => Ok(k),
        _ => Err(Error::invalid_param(format!(
            "key must be the key of an outbox entry (a non-empty string); got {}",
            describe_exception(key)
        ))),
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

    /// Runs `f` unless the engine was destroyed (then 30005), and keeps a failure in
    /// `lastError`.
    fn checked<T>(&self, call: &'static str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        if self.streams.destroyed() {
            return self.recorded(
                call,
                Err(Error::invalid_operation("the engine was destroyed")),
            );
        }
        self.recorded(call, f())
    }

    /// For calls that start nothing (listeners, the handler, reading a task): they work after
    /// `destroy()` too, so a page's clean-up code never trips over the order of its calls.
    fn recorded<T>(&self, call: &'static str, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            *self.last_error.borrow_mut() = Some((call, e.clone()));
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
            self.change(|s| s.user_video_start(uid, st, track))?;
            Ok(())
        })
    }

    fn remote_stop(&self, call: &'static str, uid: JsValue, st: StreamType) -> i32 {
        self.answer(call, || {
            let uid = input::uid(&to_value(&uid))?;
            self.change(|s| s.user_video_stop(&uid, st))?;
            Ok(())
        })
    }

    /// Runs a call on the session, then lets the camera and the periodic tasks follow the
    /// streams it started or stopped.
    fn change(
        &self,
        call: impl FnOnce(&mut Session<MediaStreamTrack>) -> Result<Vec<StreamChange>>,
    ) -> Result<()> {
        let changes = self.streams.change(call)?;
        // A processor kept for a stream that stopped (or changed its track) ends now.
        self.camera.keep_only(&self.streams.session().live_tracks());
        self.tasks.streams_changed(changes);
        Ok(())
    }
}
