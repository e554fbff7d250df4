//! `SnapshotEngine`, the class JavaScript uses.
//!
//! Every method takes `&self` (state lives behind short `RefCell` borrows that never span a
//! call into caller code), validates its arguments into `core` types, and answers with a code:
//! nothing a caller passes can trap the module.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, spawn_local};
use web_sys::{EventTarget, MediaStreamTrack};

use super::callback::Callbacks;
use super::capture::Capture;
use super::clock::Clock;
use super::encoder::Encoder;
use super::events::Emitter;
use super::idb::Db;
use super::js::{
    describe_exception, error_value, get, set, timer, to_value, wait_for, Interval, Waited,
};
use super::periodic::{StopReason, Tasks};
use super::snapshot::{self, Job};
use super::track::{optional_video_track, video_track};
use super::upload::Uploader;
use super::worker::WorkerLink;
use crate::core::error::{Code, Error, Result};
use crate::core::input::{self, EngineOptions};
use crate::core::snapshot::Pipeline;
use crate::core::stream::StreamType;
use crate::core::timing::{Session, StreamChange};

/// Takes still images of the page's live video tracks: local main/sub streams and remote
/// users' main/sub streams, with the NERTC SDK's call-timing rules.
#[wasm_bindgen]
pub struct SnapshotEngine {
    shared: Rc<Shared>,
}

/// The engine's state, shared with the tasks it spawns.
pub(crate) struct Shared {
    pub(crate) options: EngineOptions,
    pub(crate) session: RefCell<Session<MediaStreamTrack>>,
    pub(crate) emitter: Rc<Emitter>,
    pub(crate) capture: Capture,
    pub(crate) encoder: Encoder,
    /// The page-side pipeline, for frames the worker cannot take.
    pub(crate) pipeline: RefCell<Pipeline>,
    /// The last default name and how many times it was handed out (same millisecond).
    pub(crate) last_name: RefCell<(String, u32)>,
    pub(crate) last_error: RefCell<Option<(&'static str, Error)>>,
    pub(crate) destroyed: Cell<bool>,
    pub(crate) tasks: RefCell<Tasks>,
    pub(crate) clock: Clock,
    /// Numbers the responses' RequestIds.
    pub(crate) request_seq: Cell<u32>,
    /// IndexedDB: the outbox and the journal of running tasks.
    pub(crate) db: Rc<Db>,
    pub(crate) uploader: Rc<Uploader>,
    /// CallbackUrl POSTs of periodic tasks.
    pub(crate) callbacks: Callbacks,
    /// The browser's answer to `navigator.storage.persist()` (see `outboxPersisted`).
    outbox_persisted: Promise,
    /// The `online` listener that flushes the outbox.
    online: RefCell<Option<Closure<dyn FnMut()>>>,
    /// Flushes the outbox every [`OUTBOX_RETRY_MS`] while it holds images of this engine.
    outbox_retry: RefCell<Option<Interval>>,
}

/// `navigator.storage.persist()` may wait for the user (Firefox asks): this long at most.
const PERSIST_TIMEOUT_MS: u32 = 10_000;
/// How often an outbox holding images is tried again without being asked.
const OUTBOX_RETRY_MS: u32 = 30_000;

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
        let options = input::engine_options(&to_value(&raw)).map_err(|e| error_value(&e))?;
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
        let shared = Rc::new_cyclic(|weak: &Weak<Shared>| {
            let weak = weak.clone();
            Shared {
                capture: Capture::new(options.frame_timeout_ms, link.clone()),
                encoder: Encoder::new(link),
                options,
                session: RefCell::new(Session::new()),
                emitter,
                pipeline: RefCell::new(Pipeline::new()),
                last_name: RefCell::new((String::new(), 0)),
                last_error: RefCell::new(None),
                destroyed: Cell::new(false),
                tasks: RefCell::new(Tasks::default()),
                // The clock runs from a worker message: no engine call is on the stack.
                clock: Clock::new(move || {
                    if let Some(shared) = weak.upgrade() {
                        shared.on_clock();
                    }
                }),
                request_seq: Cell::new(0),
                db,
                uploader,
                callbacks: Callbacks::new(),
                outbox_persisted,
                online: RefCell::new(None),
                outbox_retry: RefCell::new(None),
            }
        });
        shared.retry_outbox();
        shared.watch_online();
        // What an earlier page could not upload goes now: with this engine's presigner, or a
        // task's PresignEndpoint kept in the record.
        let _ = shared.uploader.flush(shared.emitter.clone(), false);
        Ok(SnapshotEngine { shared })
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
            self.shared.change(|s| s.start_video_preview(st, track))?;
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
            self.shared.change(|s| s.stop_video_preview(st))?;
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
            self.shared.change(|s| s.join_channel(channel, uid))?;
            Ok(())
        })
    }

    /// Leaves the channel: every local and remote stream stops.
    #[wasm_bindgen(js_name = leaveChannel)]
    pub fn leave_channel(&self) -> i32 {
        self.answer("leaveChannel", || {
            // The tasks stop first (reason "left"), so they report no stream stopping.
            if self.shared.session.borrow().is_joined() {
                self.shared.stop_all_tasks(StopReason::Left);
            }
            self.shared.change(|s| s.leave_channel())?;
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
                .change(|s| s.enable_local_video(st, enabled, track))?;
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
            self.shared.change(|s| s.start_screen_capture(track))?;
            Ok(())
        })
    }

    /// Stops the local sub stream.
    #[wasm_bindgen(js_name = stopScreenCapture)]
    pub fn stop_screen_capture(&self) -> i32 {
        self.answer("stopScreenCapture", || {
            self.shared.change(|s| s.stop_screen_capture())?;
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
            self.shared.change(|s| s.user_leave(&uid))?;
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
            Ok(job) => future_to_promise(snapshot::run(self.shared.clone(), job)),
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
        let shared = self.shared.clone();
        future_to_promise(async move { Ok(shared.start_task(request).await) })
    }

    /// Changes a running task's `ImageConfig.Interval`, `TargetStreams` or `MaxIdleTime`.
    #[wasm_bindgen(js_name = updateSnapshot, unchecked_return_type = "Promise<SnapshotResponse>")]
    pub fn update_snapshot(
        &self,
        #[wasm_bindgen(unchecked_param_type = "UpdateSnapshotRequest")] request: JsValue,
    ) -> Promise {
        Promise::resolve(&self.shared.update_task(&request))
    }

    /// Stops a running task. Resolves after its last image event and its `snapshottaskstop`
    /// event: nothing of the task fires afterwards.
    #[wasm_bindgen(js_name = stopSnapshot, unchecked_return_type = "Promise<SnapshotResponse>")]
    pub fn stop_snapshot(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TaskKeyRequest")] request: JsValue,
    ) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move { Ok(shared.stop_task(request).await) })
    }

    /// A task's effective configuration and counters, or `null` for an unknown task.
    /// Throws (code 30003) when AppId, RoomId or TaskId is missing or malformed.
    #[wasm_bindgen(js_name = getSnapshotTask, unchecked_return_type = "TaskInfo | null")]
    pub fn get_snapshot_task(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TaskKeyRequest")] request: JsValue,
    ) -> std::result::Result<JsValue, JsValue> {
        self.recorded("getSnapshotTask", self.shared.task_info(&request))
            .map_err(|e| error_value(&e))
    }

    // ----- uploads ------------------------------------------------------------------------------

    /// Images in the outbox (IndexedDB), being sent or waiting for another attempt, as far as
    /// this engine knows.
    #[wasm_bindgen(js_name = pendingUploads)]
    pub fn pending_uploads(&self) -> u32 {
        self.shared.uploader.pending()
    }

    /// Tries every image in the outbox now. Resolves with how many remain; rejects (30005)
    /// after `destroy()`.
    #[wasm_bindgen(js_name = flushUploads, unchecked_return_type = "Promise<number>")]
    pub fn flush_uploads(&self) -> Promise {
        match self.checked("flushUploads", || Ok(())) {
            Ok(()) => self
                .shared
                .uploader
                .flush(self.shared.emitter.clone(), true),
            Err(e) => Promise::reject(&error_value(&e)),
        }
    }

    /// The outbox's images (every page's), oldest first, without their bytes.
    #[wasm_bindgen(js_name = outboxEntries, unchecked_return_type = "Promise<OutboxEntry[]>")]
    pub fn outbox_entries(&self) -> Promise {
        match self.checked("outboxEntries", || Ok(())) {
            Ok(()) => self.shared.uploader.entries(),
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
            Ok(key) => self.shared.uploader.entry(key, false),
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
            Ok(key) => self.shared.uploader.entry(key, true),
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
        self.recorded("setEventHandler", self.shared.emitter.set_handler(handler))
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
        let added = self.shared.emitter.add_listener(
            &kind,
            &listener,
            &options.unwrap_or(JsValue::UNDEFINED),
        );
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
        let removed = self.shared.emitter.remove_listener(
            &kind,
            &listener,
            &options.unwrap_or(JsValue::UNDEFINED),
        );
        self.recorded("removeEventListener", removed)
            .map_err(|e| error_value(&e))
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

    /// Resolves once the engine knows how it takes and encodes frames: its Worker has started
    /// or failed to (within 5 s). `capturePath` and `encodePath` are settled from then on.
    #[wasm_bindgen(getter, unchecked_return_type = "Promise<void>")]
    pub fn ready(&self) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            shared.encoder.settle(shared.capture.canceller()).await;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Whether the browser keeps the outbox under storage pressure: `true` or `false` as
    /// `navigator.storage.persist()` answered (asked with `storage.persist`, the default),
    /// `null` when it was not asked, the browser has no such call, or it gave no answer within
    /// 10 s (Firefox asks the user).
    #[wasm_bindgen(getter = outboxPersisted, unchecked_return_type = "Promise<boolean | null>")]
    pub fn outbox_persisted(&self) -> Promise {
        self.shared.outbox_persisted.clone()
    }

    /// What keeping each of the latest 64 kept images in the outbox before its first upload
    /// attempt cost (the write-ahead), oldest first.
    #[wasm_bindgen(getter = writeAheadTimes, unchecked_return_type = "WriteAheadTime[]")]
    pub fn write_ahead_times(&self) -> Array {
        self.shared.uploader.write_times()
    }

    /// How this browser takes frames: `"MediaStreamTrackProcessor"`, `"MediaStreamTrackProcessor
    /// in a Worker"` (Safari), `"video element"`, or `"unsupported"`; settled once `ready`
    /// has resolved.
    #[wasm_bindgen(getter = capturePath, unchecked_return_type = "CapturePath")]
    pub fn capture_path(&self) -> String {
        self.shared.capture.path().as_str().to_string()
    }

    /// Where frames are encoded: `"worker"` (a dedicated Worker) or `"page"` (the page's
    /// thread: `worker: false`, or no Worker could be used here).
    #[wasm_bindgen(getter = encodePath, unchecked_return_type = "EncodePath")]
    pub fn encode_path(&self) -> String {
        self.shared.encoder.kind().to_string()
    }

    /// Stops the engine: snapshots in flight end with code 30105 (their events still fire),
    /// and every later call that would start something answers 30005; listeners, the handler
    /// and `getSnapshotTask` keep working. The page's tracks are not stopped.
    pub fn destroy(&self) {
        if self.shared.destroyed.replace(true) {
            return;
        }
        self.shared.stop_all_tasks(StopReason::Destroyed);
        self.shared.capture.cancel_all();
        self.shared.encoder.stop();
        self.shared.uploader.cancel_all();
        self.shared.callbacks.cancel_all();
        self.shared.outbox_retry.borrow_mut().take();
        if let Some(listener) = self.shared.online.borrow_mut().take() {
            let global: EventTarget = js_sys::global().unchecked_into();
            let _ = global
                .remove_event_listener_with_callback("online", listener.as_ref().unchecked_ref());
        }
        self.shared.clock.disarm();
        *self.shared.session.borrow_mut() = Session::new();
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
        if self.shared.destroyed.get() {
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
            self.shared.change(|s| s.user_video_start(uid, st, track))?;
            Ok(())
        })
    }

    fn remote_stop(&self, call: &'static str, uid: JsValue, st: StreamType) -> i32 {
        self.answer(call, || {
            let uid = input::uid(&to_value(&uid))?;
            self.shared.change(|s| s.user_video_stop(&uid, st))?;
            Ok(())
        })
    }

    fn spawn(&self, job: Job) {
        let shared = self.shared.clone();
        spawn_local(async move {
            // The outcome went to the handler and the event; nobody awaits it here.
            let _ = snapshot::run(shared, job).await;
        });
    }
}

impl Shared {
    /// Runs a call on the session, then lets the periodic tasks follow the streams it
    /// started or stopped.
    fn change(
        self: &Rc<Self>,
        call: impl FnOnce(&mut Session<MediaStreamTrack>) -> Result<Vec<StreamChange>>,
    ) -> Result<()> {
        let changes = call(&mut self.session.borrow_mut())?;
        // A processor kept for a stream that stopped (or changed its track) ends now.
        self.capture.keep_only(&self.session.borrow().live_tracks());
        self.streams_changed(changes);
        Ok(())
    }
}

impl Shared {
    /// Tries the outbox again every [`OUTBOX_RETRY_MS`] while this engine knows of images in
    /// it, so that a long outage ends without the page calling `flushUploads()`.
    fn retry_outbox(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let tick = Closure::<dyn FnMut()>::new(move || {
            if let Some(shared) = weak.upgrade() {
                if shared.uploader.pending() > 0 {
                    let _ = shared.uploader.flush(shared.emitter.clone(), false);
                }
            }
        });
        *self.outbox_retry.borrow_mut() = Interval::start(OUTBOX_RETRY_MS, tick);
    }

    /// Flushes the outbox whenever the browser comes back online.
    fn watch_online(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let listener = Closure::<dyn FnMut()>::new(move || {
            if let Some(shared) = weak.upgrade() {
                let _ = shared.uploader.flush(shared.emitter.clone(), false);
            }
        });
        let global: EventTarget = js_sys::global().unchecked_into();
        let _ =
            global.add_event_listener_with_callback("online", listener.as_ref().unchecked_ref());
        *self.online.borrow_mut() = Some(listener);
    }
}
