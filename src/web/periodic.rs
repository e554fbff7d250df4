//! Periodic snapshot tasks in the page: `startSnapshot` / `updateSnapshot` / `stopSnapshot`
//! over the streams the engine knows, driven by the worker clock.
//!
//! The rules (validation, ticks, skips, idle stop, names) are `core`'s; [`Periodic`] runs them:
//! it captures, builds the events, posts callbacks, and keeps the promise of `stopSnapshot`
//! until the task's last capture has been delivered, so no event follows a stop.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};
use web_sys::MediaStreamTrack;

use super::callback::Callbacks;
use super::camera::{Camera, Captured};
use super::clock::{monotonic_ms, Clock};
use super::encoder::ChangeCheck;
use super::events::Emitter;
use super::idb::{Db, TASKS};
use super::js::{self, get, set};
use super::latest::LatestWriter;
use super::outbox::Upload;
use super::streams::Streams;
use super::upload::Uploader;
use super::wait::{self, timer, wait_for, Waited};
use super::watermark::{WatermarkOrder, WatermarkSource};
use crate::core::error::{Error, Result};
use crate::core::input::{EngineOptions, WatermarkChoice};
use crate::core::map::VecMap;
use crate::core::naming::{create_time, image_key, pic_url, stream_id, ImageFacts, RecentNames};
use crate::core::rotate::Rotation;
use crate::core::schedule::Schedule;
use crate::core::size::Fit;
use crate::core::snapshot::SnapshotSpec;
use crate::core::stream::{Owner, StreamKey, StreamType};
use crate::core::task::{
    self, request_id, ApiError, ApiResult, TargetStream, TaskConfig, TaskKey, ALREADY_STARTED,
    API_VERSION,
};
use crate::core::timing::StreamChange;
use crate::core::value::Value;
use crate::core::watermark::{TextFacts, Watermark};

pub const PERIODIC_SNAPSHOT: &str = "periodicsnapshot";
pub const TASK_STOP: &str = "snapshottaskstop";
pub const STREAM_STATE: &str = "snapshotstreamstate";

/// Stopped tasks kept for `getSnapshotTask` (the oldest are forgotten first).
const STOPPED_TASKS_KEPT: usize = 64;
/// Names remembered per task to keep keys unique.
const RECENT_NAMES: usize = 64;
/// A start does not wait longer than this for the task journal in IndexedDB.
const JOURNAL_TIMEOUT_MS: u32 = 2000;
/// A stop waits this long for the task's uploads; the rest go on from the outbox (their
/// events come later) and the stop's response counts them.
const STOP_UPLOAD_WAIT_MS: u32 = 2000;

/// Why a task stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    Stopped,
    Idle,
    Left,
    Destroyed,
}

impl StopReason {
    fn as_str(self) -> &'static str {
        match self {
            StopReason::Stopped => "stopped",
            StopReason::Idle => "idle",
            StopReason::Left => "left",
            StopReason::Destroyed => "destroyed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    /// No new ticks; waiting for captures in flight.
    Stopping(StopReason),
    Stopped(StopReason),
}

/// One run of a task.
struct TaskRun {
    config: RefCell<TaskConfig>,
    state: RefCell<RunState>,
}

struct RunState {
    schedule: Schedule,
    names: RecentNames,
    /// Images captured whose upload has not ended: a stop waits for them too, for at most
    /// [`STOP_UPLOAD_WAIT_MS`].
    uploading: usize,
    /// The stop has waited [`STOP_UPLOAD_WAIT_MS`] for uploads.
    upload_wait_over: bool,
    /// `Some(n)`: this run recovers a run that died with its page (`bak<n>_` names).
    recovery: Option<u32>,
    phase: Phase,
    /// `resolve` functions of `stopSnapshot` promises waiting for the stop to complete.
    stop_waiters: Vec<Function>,
}

impl TaskRun {
    fn running(&self) -> bool {
        self.state.borrow().phase == Phase::Running
    }
}

/// Every task of an engine, running or recently stopped.
#[derive(Default)]
struct Tasks {
    runs: VecMap<TaskKey, Rc<TaskRun>>,
    stopped: VecDeque<TaskKey>,
}

impl Tasks {
    fn running(&self) -> Vec<Rc<TaskRun>> {
        self.runs
            .values()
            .filter(|r| r.running())
            .cloned()
            .collect()
    }
}

/// The engine's periodic tasks and the clock that drives them.
pub(crate) struct Periodic {
    streams: Rc<Streams>,
    camera: Rc<Camera>,
    uploader: Rc<Uploader>,
    emitter: Rc<Emitter>,
    /// IndexedDB: the journal of running tasks.
    db: Rc<Db>,
    /// The engine's JPEG quality and encoder, for every task's images; its rotation, for
    /// those of a task without `ImageConfig.Rotate`.
    quality: u8,
    size_first: bool,
    rotate: Rotation,
    /// The engine's `watermark` option: a task's without `ImageConfig.Watermark`.
    watermark: Option<WatermarkSource>,
    /// The engine has storage of its own (a StorageConfig without a PresignEndpoint uses it).
    engine_storage: bool,
    tasks: RefCell<Tasks>,
    clock: Clock,
    /// CallbackUrl POSTs.
    callbacks: Callbacks,
    /// `StorageConfig.LatestKey` writes.
    latest: Rc<LatestWriter>,
    /// Numbers the responses' RequestIds.
    request_seq: Cell<u32>,
}

impl Periodic {
    pub(crate) fn new(
        options: &EngineOptions,
        watermark: Option<WatermarkSource>,
        streams: Rc<Streams>,
        camera: Rc<Camera>,
        uploader: Rc<Uploader>,
        emitter: Rc<Emitter>,
        db: Rc<Db>,
    ) -> Rc<Periodic> {
        Rc::new_cyclic(|weak: &Weak<Periodic>| {
            let weak = weak.clone();
            Periodic {
                latest: LatestWriter::new(Rc::clone(&uploader), Rc::clone(&emitter)),
                streams,
                camera,
                uploader,
                emitter,
                db,
                quality: options.quality,
                size_first: options.size_first,
                rotate: options.rotate,
                watermark,
                engine_storage: options.storage.is_some(),
                tasks: RefCell::new(Tasks::default()),
                // The clock runs from a worker message: no engine call is on the stack.
                clock: Clock::new(move || {
                    if let Some(periodic) = weak.upgrade() {
                        periodic.on_clock();
                    }
                }),
                callbacks: Callbacks::new(),
                request_seq: Cell::new(0),
            }
        })
    }

    // ----- the API ------------------------------------------------------------------------------

    /// `startSnapshot`: the response object (never a rejection).
    pub(crate) async fn start_task(self: Rc<Self>, request: JsValue) -> JsValue {
        let read = super::upload::resolve_relative_endpoint(
            js::to_value(&request),
            &["StorageConfig", "PresignEndpoint"],
        );
        let outcome = self.try_start_task(&read).await;
        self.response("StartSnapshot", outcome)
    }

    async fn try_start_task(self: &Rc<Self>, request: &Value) -> ApiResult<&'static str> {
        self.require_live()?;
        let config = task::start_request(request)?;
        self.require_room(&config.key.room_id)?;
        if config
            .storage
            .as_ref()
            .is_some_and(|s| s.endpoint.is_none())
            && !self.engine_storage
        {
            return Err(ApiError::invalid(
                "StorageConfig without PresignEndpoint uploads with the engine's storage, and the engine has none: give new SnapshotEngine({ storage }) or a PresignEndpoint",
            ));
        }
        if self.task_running(&config.key) {
            return Ok(ALREADY_STARTED);
        }
        let recovery = self.journal_begin(&config.key).await;
        // The journal took a moment: the same task may have been started meanwhile.
        self.require_live()?;
        if self.task_running(&config.key) {
            return Ok(ALREADY_STARTED);
        }
        let now = monotonic_ms() as u64;
        let started = self.started_stream_keys();
        let schedule = Schedule::new(
            &config.targets,
            &started,
            config.image.interval_s,
            config.max_idle_s,
            now,
        );
        let key = config.key.clone();
        let run = Rc::new(TaskRun {
            config: RefCell::new(config),
            state: RefCell::new(RunState {
                schedule,
                names: RecentNames::new(RECENT_NAMES),
                uploading: 0,
                recovery,
                phase: Phase::Running,
                stop_waiters: Vec::new(),
                upload_wait_over: false,
            }),
        });
        {
            let mut tasks = self.tasks.borrow_mut();
            tasks.stopped.retain(|k| *k != key);
            tasks.runs.insert(key, run);
        }
        // The first tick is now.
        self.clock.arm(0.0);
        Ok("ok")
    }

    fn task_running(&self, key: &TaskKey) -> bool {
        self.tasks
            .borrow()
            .runs
            .get(key)
            .is_some_and(|r| r.running())
    }

    /// Notes in IndexedDB that the task runs. When the journal says it was running already,
    /// its page died while it ran: this start is recovery number `n` (its names get `bak<n>_`).
    async fn journal_begin(&self, key: &TaskKey) -> Option<u32> {
        let id = JsValue::from(key.journal_id());
        let read = future_to_promise({
            let db = self.db.clone();
            let id = id.clone();
            async move { db.get(TASKS, &id).await }
        });
        let previous = match wait_for(Some(&read), Some(&timer(JOURNAL_TIMEOUT_MS)), None).await {
            Waited::Settled(previous) => previous.ok(),
            _ => None,
        };
        let died_running = previous
            .as_ref()
            .is_some_and(|p| get(p, "running").as_bool() == Some(true));
        let recovery = died_running.then(|| {
            previous
                .as_ref()
                .and_then(|p| get(p, "recoveries").as_f64())
                .unwrap_or(0.0) as u32
        });
        let record: JsValue = Object::new().into();
        set(&record, "id", &id);
        set(&record, "running", &true.into());
        set(&record, "recoveries", &recovery.map_or(0, |n| n + 1).into());
        let db = self.db.clone();
        spawn_local(async move {
            let _ = db.put(TASKS, &record).await;
        });
        recovery
    }

    /// The task stopped cleanly: a later start of it is no recovery.
    fn journal_end(&self, key: &TaskKey) {
        let db = self.db.clone();
        let id = JsValue::from(key.journal_id());
        spawn_local(async move {
            let _ = db.delete(TASKS, &id).await;
        });
    }

    /// `updateSnapshot`: interval, targets, MaxIdleTime of a running task.
    pub(crate) fn update_task(self: &Rc<Self>, request: &JsValue) -> JsValue {
        let outcome = (|| {
            self.require_live()?;
            let update = task::update_request(&js::to_value(request))?;
            let run = self.running_task(&update.key)?;
            if let Some(targets) = &update.targets {
                task::check_names(&run.config.borrow(), targets)?;
            }
            let now = monotonic_ms() as u64;
            let started = self.started_stream_keys();
            // Interval and MaxIdleTime live in the schedule; the config keeps the target list
            // as given, for getSnapshotTask.
            if let Some(targets) = &update.targets {
                run.config.borrow_mut().targets = targets.clone();
            }
            run.state.borrow_mut().schedule.update(
                update.interval_s,
                update.targets.as_deref().map(|t| (t, started.as_slice())),
                update.max_idle_s,
                now,
            );
            self.rearm();
            Ok("ok")
        })();
        self.response("UpdateSnapshot", outcome)
    }

    /// `stopSnapshot`: resolves once the task's captures in flight were delivered and
    /// `snapshottaskstop` was fired.
    pub(crate) async fn stop_task(self: Rc<Self>, request: JsValue) -> JsValue {
        let run = (|| {
            self.require_live()?;
            let key = task::task_key(&js::to_value(&request))?;
            self.running_task(&key)
        })();
        let run = match run {
            Ok(run) => run,
            Err(e) => return self.response("StopSnapshot", Err(e)),
        };
        let mut done = None;
        let waiting = Promise::new(&mut |resolve, _| done = Some(resolve));
        if let Some(resolve) = done {
            run.state.borrow_mut().stop_waiters.push(resolve);
        }
        self.begin_stop(&run, StopReason::Stopped);
        let _ = JsFuture::from(waiting).await;
        let key = run.config.borrow().key.clone();
        let in_outbox = self.uploader.images_of_task(&key).await;
        let response = self.response("StopSnapshot", Ok("ok"));
        // The task's images not yet in the store (being sent or waiting), as counted now.
        set(&response, "ImagesInOutbox", &in_outbox.into());
        response
    }

    /// `getSnapshotTask`: the task's effective configuration and counters, or `null`.
    pub(crate) fn task_info(&self, request: &JsValue) -> Result<JsValue> {
        let key =
            task::task_key(&js::to_value(request)).map_err(|e| Error::invalid_param(e.message))?;
        let Some(run) = self.tasks.borrow().runs.get(&key).cloned() else {
            return Ok(JsValue::NULL);
        };
        let config = run.config.borrow();
        let state = run.state.borrow();
        let counts = state.schedule.counts();
        let info: JsValue = Object::new().into();
        set(&info, "AppId", &config.key.app_id.as_str().into());
        set(&info, "RoomId", &config.key.room_id.as_str().into());
        set(&info, "TaskId", &config.key.task_id.as_str().into());
        if let Some(b) = &config.business_id {
            set(&info, "BusinessId", &b.as_str().into());
        }
        set(&info, "MaxIdleTime", &state.schedule.max_idle_s().into());
        let image: JsValue = Object::new().into();
        set(&image, "Format", &(config.image.format as u8).into());
        set(&image, "Width", &config.image.width.into());
        set(&image, "Height", &config.image.height.into());
        set(&image, "Interval", &state.schedule.interval_s().into());
        let rotate = config.image.rotate.unwrap_or(self.rotate);
        set(&image, "Rotate", &rotate.degrees().into());
        set(
            &image,
            "ChangeThreshold",
            &config.image.change_threshold.into(),
        );
        let watermark = match self.effective_watermark(&config.image.watermark) {
            Some((w, image)) => {
                let o: JsValue = Object::new().into();
                if let Some(t) = &w.text {
                    set(&o, "Text", &t.as_str().into());
                }
                // The engine's logo is not a task's field: said, not handed back.
                if image.is_some() {
                    set(&o, "Image", &true.into());
                }
                set(&o, "Position", &w.placing.corner.as_str().into());
                set(&o, "Opacity", &w.placing.opacity.into());
                o
            }
            None => JsValue::NULL,
        };
        set(&image, "Watermark", &watermark);
        set(&info, "ImageConfig", &image);
        set(&info, "TargetStreams", &target_streams(&config.targets));
        if let Some(t) = &config.template_text {
            set(&info, "FileNameTemplate", &t.as_str().into());
        }
        if let Some(u) = &config.callback_url {
            set(&info, "CallbackUrl", &u.as_str().into());
        }
        let (state_name, reason) = match state.phase {
            Phase::Running => ("running", None),
            Phase::Stopping(r) | Phase::Stopped(r) => ("stopped", Some(r)),
        };
        set(&info, "state", &state_name.into());
        if let Some(r) = reason {
            set(&info, "stopReason", &r.as_str().into());
        }
        set(
            &info,
            "recovery",
            &state.recovery.map_or(JsValue::NULL, JsValue::from),
        );
        set(&info, "images", &(counts.images as f64).into());
        set(&info, "skipped", &(counts.skipped as f64).into());
        set(&info, "failed", &(counts.failed as f64).into());
        set(&info, "unchanged", &(counts.unchanged as f64).into());
        Ok(info)
    }

    // ----- the engine's hooks ---------------------------------------------------------------

    /// Streams started or stopped in the session: running tasks follow them.
    pub(crate) fn streams_changed(self: &Rc<Self>, changes: Vec<StreamChange>) {
        if changes.is_empty() {
            return;
        }
        let now = monotonic_ms() as u64;
        let runs = self.tasks.borrow().running();
        for change in changes {
            let Some(key) = self.stream_key(&change.owner, change.stream_type) else {
                continue;
            };
            for run in &runs {
                let changed =
                    run.state
                        .borrow_mut()
                        .schedule
                        .stream_changed(&key, change.started, now);
                if changed.is_some() {
                    let detail = Object::new().into();
                    put_task_key(&detail, &run.config.borrow().key);
                    set(&detail, "UserId", &key.user_id.as_str().into());
                    set(&detail, "StreamType", &key.stream_type.number().into());
                    let state = if change.started { "resumed" } else { "stopped" };
                    set(&detail, "state", &state.into());
                    self.emit_later(STREAM_STATE, detail);
                }
            }
        }
        self.rearm();
    }

    /// `leaveChannel`: every running task stops.
    pub(crate) fn stop_all_tasks(self: &Rc<Self>, reason: StopReason) {
        let runs = self.tasks.borrow().running();
        for run in runs {
            self.begin_stop(&run, reason);
        }
    }

    /// `destroy()`, once the streams are marked destroyed: every task stops (reason
    /// "destroyed"), CallbackUrl POSTs end, and the clock stops.
    pub(crate) fn destroy(self: &Rc<Self>) {
        self.stop_all_tasks(StopReason::Destroyed);
        self.callbacks.cancel_all();
        self.clock.disarm();
    }

    /// The clock fired: run the ticks that are due.
    pub(crate) fn on_clock(self: &Rc<Self>) {
        if self.streams.destroyed() {
            return;
        }
        let now = monotonic_ms() as u64;
        let runs = self.tasks.borrow().running();
        for run in runs {
            let poll = run.state.borrow_mut().schedule.poll(now);
            if poll.idle {
                self.begin_stop(&run, StopReason::Idle);
                continue;
            }
            for stream in poll.capture {
                self.capture_for(&run, stream);
            }
        }
        self.rearm();
    }

    // ----- inside -------------------------------------------------------------------------------

    fn rearm(&self) {
        if self.streams.destroyed() {
            self.clock.disarm();
            return;
        }
        let next = self
            .tasks
            .borrow()
            .running()
            .iter()
            .map(|r| r.state.borrow().schedule.next_wakeup())
            .min();
        match next {
            Some(at) => self.clock.arm(at as f64 - monotonic_ms()),
            None => self.clock.disarm(),
        }
    }

    fn capture_for(self: &Rc<Self>, run: &Rc<TaskRun>, stream: StreamKey) {
        let Some(track) = self.track_of(&stream) else {
            // The session and the schedule disagree (cannot happen while every change is
            // forwarded); count it rather than hang the stream as busy.
            run.state.borrow_mut().schedule.finished(&stream, false);
            return;
        };
        // The track's id: a reference image of another track (the stream's track was replaced)
        // is no reference.
        let source = track.id();
        let change = {
            let threshold = run.config.borrow().image.change_threshold;
            let state = run.state.borrow();
            (threshold > 0.0).then(|| ChangeCheck {
                threshold,
                reference: state.schedule.reference(&stream, &source).cloned(),
            })
        };
        let spec = {
            let config = run.config.borrow();
            SnapshotSpec {
                format: config.image.format,
                quality: self.quality,
                width: config.image.width,
                height: config.image.height,
                fit: Fit::Fill,
                mirror: false,
                rotate: config.image.rotate.unwrap_or(self.rotate),
                size_first: self.size_first,
            }
        };
        let order = self.watermark_order(run, &stream);
        let this = self.clone();
        let run = run.clone();
        spawn_local(async move {
            let taken = this
                .camera
                .take_if_changed(&track, &spec, change.as_ref(), order.as_ref())
                .await;
            let Some(outcome) = taken.transpose() else {
                // Not kept: no image, so no event; `unchanged` counts it.
                run.state.borrow_mut().schedule.finished_unchanged(&stream);
                this.finish_stop_if_quiet(&run);
                return;
            };
            // The kept image is what later ticks compare with (before `finished`, which
            // `deliver` calls: a stream that stopped meanwhile does not take it).
            if let Some(thumb) = outcome.as_ref().ok().and_then(|c| c.image.thumb.clone()) {
                let mut state = run.state.borrow_mut();
                state.schedule.set_reference(&stream, thumb, &source);
            }
            this.deliver(&run, &stream, outcome).await;
        });
    }

    /// The task's watermark (its own, else the engine's), or none.
    fn effective_watermark<'a>(
        &'a self,
        choice: &'a WatermarkChoice,
    ) -> Option<(&'a Watermark, Option<&'a JsValue>)> {
        match choice {
            WatermarkChoice::Engine => self
                .watermark
                .as_ref()
                .map(|w| (&w.watermark, w.image.as_ref())),
            WatermarkChoice::Off => None,
            WatermarkChoice::Own(w) => Some((w, None)),
        }
    }

    /// One tick's watermark for `stream`: its text rendered now, with the task's ids.
    fn watermark_order(&self, run: &TaskRun, stream: &StreamKey) -> Option<WatermarkOrder> {
        let config = run.config.borrow();
        let (watermark, image) = self.effective_watermark(&config.image.watermark)?;
        let unix_ms = wait::now_ms() as i64;
        let index = run.state.borrow().schedule.index(stream);
        let facts = ImageFacts {
            unix_ms,
            ..config.image_facts(&stream.user_id, stream.stream_type, index)
        };
        Some(WatermarkOrder {
            // A tick's key is made once its image is counted, after the capture: `{path}` is
            // empty in a task's watermark.
            text: watermark.text.as_ref().map(|t| {
                t.render(&TextFacts {
                    unix_ms,
                    uid: &stream.user_id,
                    stream_type: stream.stream_type,
                    path: "",
                    task: Some(&facts),
                })
            }),
            image: image.cloned(),
            placing: watermark.placing,
        })
    }

    /// Counts, names, uploads (with StorageConfig) and delivers one capture; completes a
    /// pending stop after the last one.
    async fn deliver(
        self: &Rc<Self>,
        run: &Rc<TaskRun>,
        stream: &StreamKey,
        outcome: Result<Captured>,
    ) {
        let config = run.config.borrow().clone();
        let (seq, index, recovery) = {
            let mut state = run.state.borrow_mut();
            let seq = state.schedule.finished(stream, outcome.is_ok());
            if outcome.is_ok() && config.storage.is_some() {
                // Counted before the schedule can see the stream idle: no await in between.
                state.uploading += 1;
            }
            (seq, state.schedule.index(stream), state.recovery)
        };
        // The image's key, unique within the task. `seq` is None only for a stream the
        // schedule no longer knows; the image is still delivered (named with seq 0).
        let named = outcome.as_ref().map_err(Clone::clone).and_then(|c| {
            let facts = ImageFacts {
                width: c.image.width,
                height: c.image.height,
                unix_ms: c.timestamp as i64,
                seq: seq.unwrap_or(0),
                ..config.image_facts(&stream.user_id, stream.stream_type, index)
            };
            let key = image_key(&config.template, &facts, recovery)?;
            Ok((c, run.state.borrow_mut().names.unique(key), facts))
        });
        let detail = ImageDetail {
            config: &config,
            stream,
            index,
            recovery,
            image: named.as_ref().map(|(c, key, _)| (*c, key.as_str())),
        }
        .to_js();
        // An image that could not be named is not uploaded (it keeps its Blob).
        if let (Some(storage), Ok(c)) = (&config.storage, &outcome) {
            if let Ok((_, key, facts)) = &named {
                let item = Upload {
                    key: key.clone(),
                    content_type: config.image.format.mime_type().to_string(),
                    blob: c.image.blob.clone(),
                    size: c.image.size as f64,
                    meta: detail.clone(),
                    endpoint: storage.endpoint.clone(),
                };
                match self.uploader.upload(&item, &self.emitter).await {
                    Ok(url) => {
                        set(&detail, "url", &url.as_str().into());
                        set(&detail, "pic_full_url", &url.as_str().into());
                        // The copy, once its own image is in the store. The same facts, and no
                        // bak<n>_ prefix: a recovered run goes on writing the stream's latest.
                        if let Some(Ok(latest_key)) =
                            storage.latest_key.as_ref().map(|t| t.render(facts))
                        {
                            set(&detail, "latestKey", &latest_key.as_str().into());
                            let copy = Upload {
                                key: latest_key,
                                ..item.clone()
                            };
                            self.latest.offer(copy, key.clone(), c.timestamp);
                        }
                    }
                    Err(e) => {
                        set(&detail, "code", &e.code.value().into());
                        set(&detail, "message", &e.message.as_str().into());
                    }
                }
            }
            run.state.borrow_mut().uploading -= 1;
        }
        if let (Ok(_), Some(url)) = (&named, &config.callback_url) {
            // The metadata without the image.
            if let Some(body) = js_sys::JSON::stringify(&detail)
                .ok()
                .and_then(|s| s.as_string())
            {
                self.callbacks.post_json(url.clone(), body);
            }
        }
        // A capture that could not be named still hands over its image.
        let blob = outcome
            .as_ref()
            .map_or(JsValue::NULL, |c| c.image.blob.clone().into());
        set(&detail, "blob", &blob);
        self.emitter.dispatch(PERIODIC_SNAPSHOT, &detail);
        self.finish_stop_if_quiet(run);
    }

    fn begin_stop(self: &Rc<Self>, run: &Rc<TaskRun>, reason: StopReason) {
        {
            let mut state = run.state.borrow_mut();
            if state.phase != Phase::Running {
                return;
            }
            state.phase = Phase::Stopping(reason);
        }
        let (this, waited) = (self.clone(), run.clone());
        spawn_local(async move {
            wait_for(None, Some(&timer(STOP_UPLOAD_WAIT_MS)), None).await;
            waited.state.borrow_mut().upload_wait_over = true;
            this.finish_stop_if_quiet(&waited);
        });
        self.finish_stop_if_quiet(run);
        self.rearm();
    }

    fn finish_stop_if_quiet(self: &Rc<Self>, run: &Rc<TaskRun>) {
        let (reason, waiters) = {
            let mut state = run.state.borrow_mut();
            match state.phase {
                Phase::Stopping(reason)
                    if state.schedule.busy() == 0
                        && (state.uploading == 0 || state.upload_wait_over) =>
                {
                    state.phase = Phase::Stopped(reason);
                    (reason, std::mem::take(&mut state.stop_waiters))
                }
                _ => return,
            }
        };
        let key = run.config.borrow().key.clone();
        self.journal_end(&key);
        {
            let mut tasks = self.tasks.borrow_mut();
            tasks.stopped.push_back(key.clone());
            while tasks.stopped.len() > STOPPED_TASKS_KEPT {
                if let Some(old) = tasks.stopped.pop_front() {
                    let is_stopped = tasks.runs.get(&old).is_some_and(|r| !r.running());
                    if is_stopped {
                        tasks.runs.remove(&old);
                    }
                }
            }
        }
        let detail: JsValue = Object::new().into();
        put_task_key(&detail, &key);
        set(&detail, "reason", &reason.as_str().into());
        self.emit_later(TASK_STOP, detail);
        // After the event: the stopSnapshot promises resolve once it has been dispatched.
        spawn_local(async move {
            for resolve in waiters {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        });
    }

    /// Dispatches after the current call has returned, in order with other queued events.
    fn emit_later(&self, kind: &'static str, detail: JsValue) {
        let emitter = self.emitter.clone();
        spawn_local(async move { emitter.dispatch(kind, &detail) });
    }

    fn running_task(&self, key: &TaskKey) -> ApiResult<Rc<TaskRun>> {
        match self.tasks.borrow().runs.get(key) {
            Some(run) if run.running() => Ok(run.clone()),
            _ => Err(ApiError::not_found(key)),
        }
    }

    fn require_live(&self) -> ApiResult<()> {
        if self.streams.destroyed() {
            Err(ApiError {
                code: "InvalidOperation",
                message: "the engine was destroyed".into(),
            })
        } else {
            Ok(())
        }
    }

    fn require_room(&self, room_id: &str) -> ApiResult<()> {
        match self.streams.session().channel() {
            Some(channel) if channel == room_id => Ok(()),
            Some(channel) => Err(ApiError::invalid(format!(
                "RoomId {room_id} is not the joined channel ({channel})"
            ))),
            None => Err(ApiError::invalid(format!(
                "RoomId {room_id} is not the joined channel (no channel joined: call joinChannel first)"
            ))),
        }
    }

    /// The key of a session stream (see [`Owner::key`]).
    fn stream_key(&self, owner: &Owner, stream_type: StreamType) -> Option<StreamKey> {
        owner.key(stream_type, self.streams.session().local_uid())
    }

    fn started_stream_keys(&self) -> Vec<StreamKey> {
        let started = self.streams.session().started_streams();
        started
            .iter()
            .filter_map(|(owner, st, _)| self.stream_key(owner, *st))
            .collect()
    }

    fn track_of(&self, stream: &StreamKey) -> Option<MediaStreamTrack> {
        let session = self.streams.session();
        let track = if session.local_uid() == Some(stream.user_id.as_str()) {
            session.local_track(stream.stream_type).ok()
        } else {
            session
                .remote_track(&stream.user_id, stream.stream_type)
                .ok()
        };
        track.cloned()
    }

    fn response(&self, action: &str, outcome: ApiResult<&str>) -> JsValue {
        let n = self.request_seq.get().wrapping_add(1);
        self.request_seq.set(n);
        let meta: JsValue = Object::new().into();
        set(&meta, "RequestId", &request_id(wait::now_ms(), n).into());
        set(&meta, "Action", &action.into());
        set(&meta, "Version", &API_VERSION.into());
        let result = match outcome {
            Ok(r) => r,
            Err(e) => {
                let error: JsValue = Object::new().into();
                set(&error, "Code", &e.code.into());
                set(&error, "Message", &e.message.as_str().into());
                set(&meta, "Error", &error);
                ""
            }
        };
        let response: JsValue = Object::new().into();
        set(&response, "Result", &result.into());
        set(&response, "ResponseMetadata", &meta);
        response
    }
}

fn put_task_key(detail: &JsValue, key: &TaskKey) {
    set(detail, "TaskId", &key.task_id.as_str().into());
    set(detail, "AppId", &key.app_id.as_str().into());
    set(detail, "RoomId", &key.room_id.as_str().into());
}

fn target_streams(targets: &[TargetStream]) -> JsValue {
    let list = Array::new();
    for t in targets {
        let item: JsValue = Object::new().into();
        if let Some(i) = t.index {
            set(&item, "Index", &i.into());
        }
        set(&item, "UserId", &t.user_id.as_str().into());
        set(&item, "StreamType", &t.stream_type.number().into());
        list.push(&item);
    }
    let out: JsValue = Object::new().into();
    set(&out, "StreamList", &list);
    out
}

/// One image of a task as `periodicsnapshot` tells it (its outbox record and its CallbackUrl
/// POST carry the same, without the Blob).
struct ImageDetail<'a> {
    config: &'a TaskConfig,
    stream: &'a StreamKey,
    index: Option<u32>,
    recovery: Option<u32>,
    /// The image and its key, or why there is no image with a name.
    image: std::result::Result<(&'a Captured, &'a str), &'a Error>,
}

impl ImageDetail<'_> {
    /// The event's `detail`, before the upload (`url` null) and without the Blob. The fields
    /// keep their order: a CallbackUrl's JSON shows it.
    fn to_js(&self) -> JsValue {
        let (code, message, width, height, size, key, timestamp) = match self.image {
            Ok((c, key)) => (
                0,
                "",
                c.image.width,
                c.image.height,
                c.image.size as f64,
                key,
                c.timestamp,
            ),
            Err(e) => (
                e.code.value(),
                e.message.as_str(),
                0,
                0,
                0.0,
                "",
                wait::now_ms(),
            ),
        };
        let (room_id, stream) = (&self.config.key.room_id, self.stream);
        let stream_id = stream_id(room_id, &stream.user_id, stream.stream_type);
        let detail: JsValue = Object::new().into();
        put_task_key(&detail, &self.config.key);
        let fields: [(&str, JsValue); 21] = [
            ("BusinessId", or_null(self.config.business_id.as_deref())),
            ("UserId", stream.user_id.as_str().into()),
            ("StreamType", stream.stream_type.number().into()),
            ("Index", or_null(self.index)),
            ("format", self.config.image.format.as_str().into()),
            ("event_type", 200.into()),
            ("url", JsValue::NULL),
            ("pic_full_url", JsValue::NULL),
            ("stream_id", stream_id.as_str().into()),
            ("channel_id", stream_id.as_str().into()),
            ("recovery", or_null(self.recovery)),
            ("code", code.into()),
            ("message", message.into()),
            ("width", width.into()),
            ("height", height.into()),
            ("size", size.into()),
            ("file_size", size.into()),
            ("key", key.into()),
            ("pic_url", pic_url(key).into()),
            ("timestamp", timestamp.into()),
            ("create_time", create_time(timestamp).into()),
        ];
        for (name, value) in &fields {
            set(&detail, name, value);
        }
        detail
    }
}

fn or_null<T: Into<JsValue>>(value: Option<T>) -> JsValue {
    value.map_or(JsValue::NULL, Into::into)
}
