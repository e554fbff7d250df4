//! Uploads through presigned URLs, and the outbox that keeps what could not be uploaded.
//!
//! Per image: ask the page's presigner for a URL, send the bytes (PUT, or the S3 POST-policy
//! form), retry network errors, 408, 429 and 5xx with backoff, ask for a fresh URL when the
//! signature is refused; at most [`CONCURRENT`] at once. Every image is in the outbox
//! ([`Outbox`]) before its first attempt and leaves it after a 2xx; what still fails waits
//! there, and is retried when the browser comes back online, on `flushUploads()`, and when a
//! later engine starts on the same origin.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{EventTarget, FormData, RequestInit, RequestMode, Response};

use super::events::Emitter;
use super::idb::Db;
use super::js::{self, browser_error, get, set};
use super::locks::{live_engines, Claim};
use super::outbox::{Entry, Outbox, Upload};
use super::wait::{self, timer, wait_for, Attempt, Canceller, Interval, Waited};
use crate::core::digits::mib_one_decimal;
use crate::core::error::{Code, Error, Result};
use crate::core::retry::{RetryPolicy, Verdict};
use crate::core::storage::{
    object_url, presigned, Method, PresignSource, Presigned, StorageOptions,
    DEFAULT_OUTBOX_MAX_BYTES, DEFAULT_PRESIGN_TIMEOUT_MS, DEFAULT_UPLOAD_QUEUE_BYTES,
};
use crate::core::task::TaskKey;
use crate::core::value::Value;

/// Uploads in flight at once, per engine.
pub const CONCURRENT: usize = 4;
/// An upload attempt has this long, plus a millisecond per 100 bytes (100 KB/s at worst), up
/// to [`SEND_TIMEOUT_MAX_MS`]; then it is aborted and retried.
const SEND_TIMEOUT_BASE_MS: f64 = 10_000.0;
const SEND_TIMEOUT_MAX_MS: f64 = 120_000.0;
pub const OUTBOX_UPLOAD: &str = "outboxupload";
pub const OUTBOX_FULL: &str = "outboxfull";
pub const OUTBOX_STUCK: &str = "outboxstuck";
/// Images `upload()` holds at most, whatever their bytes: each waiting one costs about 2 KiB of
/// wasm memory (its task), which wasm never gives back, so a hung store must not pile them up.
pub const QUEUE_IMAGES: usize = 64;
/// `writeAheadTimes` gives the latest this many images.
const WRITE_TIMES_KEPT: usize = 64;
/// How often an outbox holding images is tried again without being asked.
const OUTBOX_RETRY_MS: u32 = 30_000;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch, catch)]
    fn fetch_with_init(url: &str, init: &RequestInit) -> std::result::Result<Promise, JsValue>;
}

enum Source {
    Callback(Function),
    Endpoint(String),
}

pub struct Uploader {
    /// The engine's presigner; `None` without `options.storage` (tasks may bring their own
    /// endpoint).
    source: Option<Source>,
    /// A presigner that has not answered in this time has failed.
    presign_timeout_ms: u32,
    outbox: Outbox,
    /// Flipped by `destroy()`; every wait races against one of its signals.
    cancel: Canceller,
    slots: Cell<usize>,
    waiting: RefCell<VecDeque<Function>>,
    /// Bytes of the images `upload()` holds (waiting for a slot or being sent), and the most
    /// it may hold: past it an image waits in the outbox only.
    queued: Cell<(f64, usize)>,
    queue_max: f64,
    /// The flush running now, and whether it tries stuck images too.
    flushing: RefCell<Option<(Promise, bool, u64)>>,
    /// What keeping the latest images cost: (bytes, ms on this thread, ms end to end).
    write_times: RefCell<VecDeque<(f64, f64, f64)>>,
}

impl Uploader {
    /// `presign` is the caller's function when the storage's source is `Callback`.
    pub fn new(
        options: Option<&StorageOptions>,
        presign: Option<Function>,
        db: Rc<Db>,
    ) -> Result<Uploader> {
        let source = match (options.map(|o| &o.source), presign) {
            (None, _) => None,
            (Some(PresignSource::Callback), Some(f)) => Some(Source::Callback(f)),
            (Some(PresignSource::Endpoint(url)), _) => Some(Source::Endpoint(url.clone())),
            (Some(PresignSource::Callback), None) => {
                return Err(Error::invalid_param(
                    "options.storage.presign must be a function",
                ))
            }
        };
        Ok(Uploader {
            source,
            presign_timeout_ms: options
                .map_or(DEFAULT_PRESIGN_TIMEOUT_MS, |o| o.presign_timeout_ms),
            outbox: Outbox::new(
                db,
                options.map_or(DEFAULT_OUTBOX_MAX_BYTES, |o| o.outbox_max_bytes),
            ),
            cancel: Canceller::new(),
            slots: Cell::new(0),
            waiting: RefCell::new(VecDeque::new()),
            queued: Cell::new((0.0, 0)),
            queue_max: options.map_or(DEFAULT_UPLOAD_QUEUE_BYTES, |o| o.upload_queue_bytes) as f64,
            flushing: RefCell::new(None),
            write_times: RefCell::new(VecDeque::with_capacity(WRITE_TIMES_KEPT)),
        })
    }

    /// Images in the outbox (being sent or waiting), as far as this engine knows.
    pub fn pending(&self) -> u32 {
        self.outbox.count()
    }

    /// Images of the task `key` in the outbox (by their metadata), or 0 when it cannot be read.
    pub async fn images_of_task(&self, key: &TaskKey) -> u32 {
        let Ok(entries) = self.outbox.entries().await else {
            return 0;
        };
        let of_task = |e: &Entry| {
            let meta = get(&e.record, "meta");
            get(&meta, "TaskId").as_string().as_deref() == Some(key.task_id.as_str())
                && get(&meta, "AppId").as_string().as_deref() == Some(key.app_id.as_str())
                && get(&meta, "RoomId").as_string().as_deref() == Some(key.room_id.as_str())
        };
        entries.iter().filter(|e| of_task(e)).count() as u32
    }

    /// `writeAheadTimes`: `WriteAheadTime` objects, oldest first.
    pub fn write_times(&self) -> Array {
        self.write_times
            .borrow()
            .iter()
            .map(|&(size, page_ms, total_ms)| {
                let time: JsValue = Object::new().into();
                set(&time, "size", &size.into());
                set(&time, "pageMs", &page_ms.into());
                set(&time, "totalMs", &total_ms.into());
                time
            })
            .collect()
    }

    /// `outboxEntries()`: `OutboxEntry` objects, oldest first.
    pub fn entries(self: &Rc<Self>) -> Promise {
        let this = self.clone();
        future_to_promise(async move {
            let entries = this.outbox.entries().await.map_err(unreadable)?;
            let list = Array::new();
            for e in entries {
                let view: JsValue = Object::new().into();
                for field in ["key", "size", "contentType", "createdAt", "meta"] {
                    set(&view, field, &get(&e.record, field));
                }
                // Records of version 1 have no count.
                let attempts = get(&e.record, "attempts").as_f64().unwrap_or(0.0);
                set(&view, "attempts", &attempts.into());
                set(&view, "stuck", &get(&e.record, "stuck").is_truthy().into());
                list.push(&view);
            }
            Ok(list.into())
        })
    }

    /// `readOutboxEntry(key)` (the oldest image kept under `key` as a Blob, or `null`), or with
    /// `remove`, `removeOutboxEntry(key)` (whether there was one to remove).
    pub fn entry(self: &Rc<Self>, key: String, remove: bool) -> Promise {
        let this = self.clone();
        future_to_promise(async move {
            let entries = this.outbox.entries().await.map_err(unreadable)?;
            let found = entries.into_iter().find(|e| e.key == key);
            Ok(match (found, remove) {
                (None, true) => JsValue::FALSE,
                (None, false) => JsValue::NULL,
                (Some(e), true) => this.outbox.remove(&e.id).await.map_err(unreadable)?.into(),
                (Some(e), false) => this
                    .outbox
                    .load(&e.id)
                    .await
                    .map_or(JsValue::NULL, |item| item.blob.into()),
            })
        })
    }

    /// `destroy()`: ends every upload in flight (their images go to the outbox).
    pub fn cancel_all(&self) {
        // Every attempt waits on this too, and aborts its fetch when it ends.
        self.cancel.cancel();
        self.outbox.release();
    }

    /// Keeps `item` in the outbox and uploads it. `Ok(url)` once it is in the store and has
    /// left the outbox; `Err` with `ERR_UPLOAD_FAILED`, `ERR_PRESIGN_FAILED` or
    /// `ERR_DESTROYED` (it waits in the outbox), or `ERR_OUTBOX_FULL` (the outbox could not
    /// keep it and the upload failed: the caller's Blob is the only copy).
    pub async fn upload(&self, item: &Upload, emitter: &Emitter) -> Result<String> {
        let started = wait::perf_now();
        let ((_claim, kept), page_ms) = wait::timed(async {
            // Held before the record exists, so that no flush of this page sends it beside us;
            // the record names this engine, so that no flush of another page does.
            let claim = Claim::local(&item.key).await;
            (claim, self.outbox.admit(item).await)
        })
        .await;
        if let Ok(k) = &kept {
            let mut times = self.write_times.borrow_mut();
            if times.len() == WRITE_TIMES_KEPT {
                times.pop_front();
            }
            let page_ms = page_ms + k.writer_ms;
            times.push_back((item.size, page_ms, wait::perf_now() - started));
        }
        let kept = kept.map(|k| k.id);
        let (queued_bytes, queued_images) = self.queued.get();
        let sent = if queued_bytes + item.size > self.queue_max || queued_images >= QUEUE_IMAGES {
            // Bounded memory: a hung store must not pile up Blobs here.
            Err(Failure {
                error: Error::new(
                    Code::UploadFailed,
                    // `queued_bytes` is a sum of Blob sizes: a whole number.
                    format!(
                        "{queued_images} images ({} MiB) are already waiting to upload (at most \
                         {QUEUE_IMAGES}, and uploadQueueBytes)",
                        mib_one_decimal(queued_bytes as u64)
                    ),
                ),
                status: None,
                counts: false,
            })
        } else {
            let _queued = Queued::add(&self.queued, item.size);
            match self.slot().await {
                Ok(_slot) => self.try_upload(item, RetryPolicy::UPLOAD, &|| false).await,
                Err(error) => Err(Failure {
                    error,
                    status: None,
                    counts: false,
                }),
            }
        };
        match (sent, kept) {
            (Ok(url), Ok(id)) => {
                // Should this fail, the next flush sends the image again: twice, not never.
                let _ = self.outbox.remove(&id).await;
                Ok(url)
            }
            (Ok(url), Err(_)) => Ok(url),
            (Err(failure), Ok(id)) => {
                self.failed(&id, &failure, emitter).await;
                Err(Error::new(
                    failure.error.code,
                    format!("{}; the image waits in the outbox", failure.error.message),
                ))
            }
            (Err(failure), Err(not_kept)) => {
                if not_kept.full {
                    let detail: JsValue = Object::new().into();
                    set(&detail, "key", &item.key.as_str().into());
                    set(&detail, "size", &item.size.into());
                    set(&detail, "outboxBytes", &not_kept.outbox_bytes.into());
                    set(
                        &detail,
                        "outboxMaxBytes",
                        &(self.outbox.max_bytes() as f64).into(),
                    );
                    emitter.dispatch(OUTBOX_FULL, &detail);
                }
                Err(Error::new(
                    Code::OutboxFull,
                    format!(
                        "{}, and {}: the image is only in this event's Blob",
                        failure.error.message, not_kept.error.message
                    ),
                ))
            }
        }
    }

    /// Writes a copy of an image that a newer copy replaces (a task's `LatestKey`): retried
    /// as uploads are until `give_way` says a newer one waits, never kept in the outbox, and
    /// without an upload slot, so it never holds up an image that must be kept.
    pub async fn write_copy(&self, item: &Upload, give_way: &dyn Fn() -> bool) -> Result<String> {
        self.try_upload(item, RetryPolicy::UPLOAD, give_way)
            .await
            .map_err(|f| f.error)
    }

    /// Records a failed round on the image's outbox entry; reports it once it is stuck.
    async fn failed(&self, id: &JsValue, failure: &Failure, emitter: &Emitter) {
        if !failure.counts {
            return;
        }
        let newly_stuck = self
            .outbox
            .note_failure(id, failure.status, &failure.error.message)
            .await;
        if let Some(record) = newly_stuck {
            let detail: JsValue = Object::new().into();
            for field in ["key", "size", "attempts", "lastStatus", "lastError"] {
                set(&detail, field, &get(&record, field));
            }
            emitter.dispatch(OUTBOX_STUCK, &detail);
        }
    }

    /// Tries every image in the outbox once more (stuck ones too with `stuck`); resolves with
    /// how many remain. One flush at a time: a call during a flush waits for it.
    pub fn flush(self: &Rc<Self>, emitter: Rc<Emitter>, stuck: bool) -> Promise {
        let running = self.flushing.borrow().clone();
        if let Some((promise, with_stuck, _)) = &running {
            if *with_stuck || !stuck {
                return promise.clone();
            }
        }
        let this = self.clone();
        let generation = running.as_ref().map_or(0, |r| r.2.wrapping_add(1));
        let promise = future_to_promise(async move {
            // A flush of stuck images asked during another flush runs after it.
            if let Some((before, _, _)) = running {
                let _ = JsFuture::from(before).await;
            }
            let remaining = this.flush_now(&emitter, stuck).await;
            let mut flushing = this.flushing.borrow_mut();
            if flushing.as_ref().is_some_and(|f| f.2 == generation) {
                *flushing = None;
            }
            Ok(JsValue::from(remaining))
        });
        *self.flushing.borrow_mut() = Some((promise.clone(), stuck, generation));
        promise
    }

    async fn flush_now(self: &Rc<Self>, emitter: &Rc<Emitter>, stuck: bool) -> u32 {
        let Ok(entries) = self.outbox.entries().await else {
            return self.outbox.count();
        };
        // Asked after the records were read: an engine named in one was alive when it wrote it.
        let live = live_engines().await.unwrap_or_default();
        if self.cancel.is_cancelled() {
            return self.outbox.count();
        }
        let mine = self.outbox.engine();
        let waiting: Rc<RefCell<VecDeque<Entry>>> = Rc::new(RefCell::new(
            entries
                .into_iter()
                // A record of a presign callback needs an engine that has one.
                .filter(|entry| self.source.is_some() || get(&entry.record, "endpoint").is_string())
                .filter(|entry| stuck || !get(&entry.record, "stuck").is_truthy())
                // Another live engine's image: its upload is under way, or it retries it.
                .filter(|entry| {
                    get(&entry.record, "engine")
                        .as_string()
                        .is_none_or(|engine| engine == mine || !live.contains(&engine))
                })
                .collect(),
        ));
        // As many senders as upload slots, each taking the next entry: a backlog of thousands
        // costs a list of records, not a pending future and a held lock per image.
        let senders: Array = (0..CONCURRENT)
            .map(|_| {
                let (this, emitter, waiting) = (self.clone(), emitter.clone(), waiting.clone());
                JsValue::from(future_to_promise(async move {
                    while !this.cancel.is_cancelled() {
                        let next = waiting.borrow_mut().pop_front();
                        let Some(entry) = next else { break };
                        this.retry_kept(&entry, &emitter).await;
                    }
                    Ok(JsValue::UNDEFINED)
                }))
            })
            .collect();
        let all = js_sys::Promise::all(&senders);
        let _ = JsFuture::from(all).await;
        // Recount: other pages add and send too.
        let _ = self.outbox.entries().await;
        self.outbox.count()
    }

    /// Sends one kept image, unless another upload (of any page) holds it.
    async fn retry_kept(&self, entry: &Entry, emitter: &Emitter) {
        // The claim first, so an image being sent (here or elsewhere) takes no slot; the bytes
        // are read once there is one, so only images being sent are in memory.
        let Some(claim) = Claim::try_local(&entry.key) else {
            return;
        };
        let Some(_claim) = claim.locked().await else {
            return;
        };
        let Ok(_slot) = self.slot().await else {
            return;
        };
        // Read under the claim: a page that sent it meanwhile has removed it.
        let Some(item) = self.outbox.load(&entry.id).await else {
            return;
        };
        match self.try_upload(&item, RetryPolicy::FLUSH, &|| false).await {
            Ok(url) => {
                if self.outbox.remove(&entry.id).await == Ok(true) {
                    let detail: JsValue = Object::new().into();
                    set(&detail, "key", &item.key.as_str().into());
                    set(&detail, "url", &url.as_str().into());
                    set(&detail, "size", &item.size.into());
                    set(&detail, "contentType", &item.content_type.as_str().into());
                    set(&detail, "meta", &item.meta);
                    emitter.dispatch(OUTBOX_UPLOAD, &detail);
                }
            }
            Err(failure) => self.failed(&entry.id, &failure, emitter).await,
        }
    }

    /// Sends `item` (the caller holds an upload slot), retrying as `policy` says.
    async fn try_upload(
        &self,
        item: &Upload,
        policy: RetryPolicy,
        give_way: &dyn Fn() -> bool,
    ) -> std::result::Result<String, Failure> {
        let last_status = Cell::new(None);
        let failure = |error: Error| Failure {
            counts: error.code != Code::Destroyed,
            error,
            status: last_status.get(),
        };
        let mut attempt = 0;
        let mut refreshes = 0;
        let mut current: Option<Presigned> = None;
        loop {
            attempt += 1;
            let p = match current.take() {
                Some(p) => p,
                None => match self.presign(item, &last_status).await {
                    Ok(p) => p,
                    Err(e)
                        if self.cancel.is_cancelled()
                            || attempt >= policy.attempts + refreshes
                            || give_way() =>
                    {
                        return Err(failure(e))
                    }
                    Err(_) => {
                        self.wait(policy.delay_ms(attempt - refreshes, js_sys::Math::random()))
                            .await
                            .map_err(failure)?;
                        continue;
                    }
                },
            };
            let status = self.send(&p, item).await;
            last_status.set(status);
            if self.cancel.is_cancelled() {
                return Err(failure(destroyed()));
            }
            match policy.upload_verdict(attempt, refreshes, status) {
                Verdict::Done => return Ok(object_url(&p, &item.key)),
                Verdict::Refresh => refreshes += 1,
                Verdict::Retry if give_way() => {
                    return Err(failure(Error::new(
                        Code::UploadFailed,
                        format!("{} was not retried: a newer image replaces it", item.key),
                    )))
                }
                Verdict::Retry => {
                    current = Some(p);
                    self.wait(policy.delay_ms(attempt - refreshes, js_sys::Math::random()))
                        .await
                        .map_err(failure)?;
                }
                Verdict::GiveUp => {
                    let said = status.map_or("no answer from the store".to_string(), |s| {
                        format!("the store answered HTTP {s}")
                    });
                    return Err(failure(Error::new(
                        Code::UploadFailed,
                        format!(
                            "uploading {} failed after {attempt} attempts: {said}",
                            item.key
                        ),
                    )));
                }
            }
        }
    }

    /// Asks the presigner for a URL for `item`; an endpoint's refusal sets `status`.
    async fn presign(&self, item: &Upload, status: &Cell<Option<u16>>) -> Result<Presigned> {
        let failed = |what: &str, e: &JsValue| browser_error(Code::PresignFailed, what, e);
        let request: JsValue = Object::new().into();
        set(&request, "key", &item.key.as_str().into());
        set(&request, "contentType", &item.content_type.as_str().into());
        set(&request, "size", &item.size.into());
        let endpoint = item.endpoint.as_deref().or(match &self.source {
            Some(Source::Endpoint(url)) => Some(url.as_str()),
            _ => None,
        });
        let answer: Promise = match (endpoint, &self.source) {
            (Some(url), _) => {
                let body = js_sys::JSON::stringify(&request).map_err(|e| failed("presign request", &e))?;
                let init = RequestInit::new();
                init.set_method("POST");
                init.set_mode(RequestMode::Cors);
                init.set_body(&body);
                let headers = Object::new();
                set(&headers, "content-type", &"application/json".into());
                init.set_headers(&headers);
                let attempt = Attempt::new(&init).map_err(|e| failed("AbortController", &e))?;
                let response = fetch_with_init(url, &init).map_err(|e| failed("presign endpoint", &e))?;
                let response: Response = self
                    .bounded(response, self.presign_timeout_ms, "the presign endpoint")
                    .await?
                    .dyn_into()
                    .map_err(|e| failed("presign endpoint", &e))?;
                if !response.ok() {
                    status.set(Some(response.status()));
                    return Err(Error::new(
                        Code::PresignFailed,
                        format!("the presign endpoint answered HTTP {}", response.status()),
                    ));
                }
                let json = response.json().map_err(|e| failed("presign endpoint", &e))?;
                // The body is read within the same attempt (and its abort).
                let value = self
                    .bounded(json, self.presign_timeout_ms, "the presign endpoint")
                    .await?;
                drop(attempt);
                return presigned(&js::to_value(&value));
            }
            (None, Some(Source::Callback(f))) => {
                let returned = f.call1(&JsValue::NULL, &request).map_err(|e| failed("presign() threw", &e))?;
                Promise::resolve(&returned)
            }
            (None, _) => {
                return Err(Error::new(
                    Code::PresignFailed,
                    "no presigner: give the engine options.storage, or the task a StorageConfig.PresignEndpoint",
                ))
            }
        };
        let value = self
            .bounded(answer, self.presign_timeout_ms, "presign()")
            .await?;
        presigned(&js::to_value(&value))
    }

    /// Sends the bytes; the HTTP status, or `None` when the network failed.
    async fn send(&self, p: &Presigned, item: &Upload) -> Option<u16> {
        let init = RequestInit::new();
        init.set_mode(RequestMode::Cors);
        let _attempt = Attempt::new(&init).ok()?;
        match p.method {
            Method::Put => {
                init.set_method("PUT");
                let headers = Object::new();
                for (k, v) in &p.headers {
                    set(&headers, k, &v.as_str().into());
                }
                // The exact type of the image, whatever the presigner wrote.
                for k in p
                    .headers
                    .iter()
                    .map(|(k, _)| k)
                    .filter(|k| k.eq_ignore_ascii_case("content-type"))
                {
                    let _ = Reflect::delete_property(&headers, &k.as_str().into());
                }
                set(&headers, "content-type", &item.content_type.as_str().into());
                init.set_headers(&headers);
                init.set_body(&item.blob);
            }
            Method::Post => {
                init.set_method("POST");
                let form = FormData::new().ok()?;
                for (k, v) in &p.fields {
                    form.append_with_str(k, v).ok()?;
                }
                let name = item.key.rsplit('/').next().unwrap_or("image");
                form.append_with_blob_and_filename("file", &item.blob, name)
                    .ok()?;
                init.set_body(&form);
            }
        }
        let response = fetch_with_init(&p.url, &init).ok()?;
        let response: Response = self
            .bounded(response, send_timeout_ms(item.size), "upload")
            .await
            .ok()?
            .dyn_into()
            .ok()?;
        Some(response.status())
    }

    /// Awaits `promise` unless it takes longer than `ms` or the uploader is cancelled.
    async fn bounded(&self, promise: Promise, ms: u32, what: &str) -> Result<JsValue> {
        let cancelled = self.cancel.signal();
        match wait_for(Some(&promise), Some(&timer(ms)), Some(&cancelled)).await {
            Waited::Settled(outcome) => {
                outcome.map_err(|e| browser_error(Code::PresignFailed, what, &e))
            }
            Waited::TimedOut => Err(Error::new(
                Code::PresignFailed,
                format!("{what} gave no answer within {ms} ms"),
            )),
            Waited::Cancelled => Err(destroyed()),
        }
    }

    async fn wait(&self, ms: u32) -> Result<()> {
        let cancelled = self.cancel.signal();
        match wait_for(None, Some(&timer(ms)), Some(&cancelled)).await {
            Waited::Cancelled => Err(destroyed()),
            _ => Ok(()),
        }
    }

    /// One of the [`CONCURRENT`] upload slots, released when the guard drops.
    async fn slot(&self) -> Result<Slot<'_>> {
        if self.slots.get() < CONCURRENT {
            self.slots.set(self.slots.get() + 1);
            return Ok(Slot(self));
        }
        let mut hand_over = None;
        let turn = Promise::new(&mut |resolve, _| hand_over = Some(resolve));
        if let Some(resolve) = hand_over {
            self.waiting.borrow_mut().push_back(resolve);
        }
        let cancelled = self.cancel.signal();
        match wait_for(Some(&turn), None, Some(&cancelled)).await {
            Waited::Cancelled => Err(destroyed()),
            _ => Ok(Slot(self)),
        }
    }
}

/// Flushes the outbox without the page asking: every [`OUTBOX_RETRY_MS`] while the uploader
/// knows of images in it (so a long outage ends without `flushUploads()`), and whenever the
/// browser comes back online.
pub struct OutboxRetry {
    interval: RefCell<Option<Interval>>,
    online: RefCell<Option<Closure<dyn FnMut()>>>,
}

impl OutboxRetry {
    pub fn start(uploader: &Rc<Uploader>, emitter: &Rc<Emitter>) -> OutboxRetry {
        // Weak: an engine's timer and listener keep nothing alive.
        let flusher = |only_pending: bool| {
            let (uploader, emitter) = (Rc::downgrade(uploader), Rc::downgrade(emitter));
            move || {
                if let (Some(uploader), Some(emitter)) = (uploader.upgrade(), emitter.upgrade()) {
                    if !only_pending || uploader.pending() > 0 {
                        let _ = uploader.flush(emitter, false);
                    }
                }
            }
        };
        let tick = Closure::<dyn FnMut()>::new(flusher(true));
        let interval = Interval::start(OUTBOX_RETRY_MS, tick);
        let listener = Closure::<dyn FnMut()>::new(flusher(false));
        let global: EventTarget = js_sys::global().unchecked_into();
        let _ =
            global.add_event_listener_with_callback("online", listener.as_ref().unchecked_ref());
        OutboxRetry {
            interval: RefCell::new(interval),
            online: RefCell::new(Some(listener)),
        }
    }

    /// `destroy()`: no more tries of its own.
    pub fn stop(&self) {
        self.interval.borrow_mut().take();
        if let Some(listener) = self.online.borrow_mut().take() {
            let global: EventTarget = js_sys::global().unchecked_into();
            let _ = global
                .remove_event_listener_with_callback("online", listener.as_ref().unchecked_ref());
        }
    }
}

impl Drop for OutboxRetry {
    /// An engine freed without `destroy()` leaves no listener behind: a dropped closure left on
    /// `online` would throw each time the page comes back online.
    fn drop(&mut self) {
        self.stop();
    }
}

/// An image counted in [`Uploader::queued`] (bytes, images) while it is held.
struct Queued<'a>(&'a Cell<(f64, usize)>, f64);

impl Queued<'_> {
    fn add(queued: &Cell<(f64, usize)>, size: f64) -> Queued<'_> {
        let (bytes, images) = queued.get();
        queued.set((bytes + size, images + 1));
        Queued(queued, size)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        let (bytes, images) = self.0.get();
        self.0
            .set(((bytes - self.1).max(0.0), images.saturating_sub(1)));
    }
}

/// Why an upload's attempts ended without a 2xx, and the last HTTP status of the store or the
/// presign endpoint (`None`: the network failed, or a presign callback).
struct Failure {
    error: Error,
    status: Option<u16>,
    /// Whether it counts as a failed round (not when `destroy()` or a full queue ended it).
    counts: bool,
}

fn send_timeout_ms(size: f64) -> u32 {
    (SEND_TIMEOUT_BASE_MS + size / 100.0).min(SEND_TIMEOUT_MAX_MS) as u32
}

/// An upload slot; dropping it hands it to the next waiting upload.
struct Slot<'a>(&'a Uploader);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let next = self.0.waiting.borrow_mut().pop_front();
        match next {
            Some(resolve) => {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
            None => self.0.slots.set(self.0.slots.get().saturating_sub(1)),
        }
    }
}

/// A failure of IndexedDB under the outbox API, as the error a promise rejects with.
fn unreadable(e: JsValue) -> JsValue {
    js::error_value(&browser_error(
        Code::OutboxFull,
        "the outbox (IndexedDB) could not be read or changed",
        &e,
    ))
}

fn destroyed() -> Error {
    Error::new(Code::Destroyed, "destroy() ended the upload")
}

/// A relative presign endpoint (`"/presign"`, a page's own backend) in `v` at `path`, made
/// absolute against the page's base URL (`document.baseURI`; `location.href` in a Worker), so
/// the validators apply the https-or-loopback rule to the URL that will really be asked. An
/// absolute URL, an empty string and one with spaces or control characters stay as given (the
/// URL parser would silently drop those characters; the validators refuse them).
pub fn resolve_relative_endpoint(mut v: Value, path: &[&str]) -> Value {
    if let Some(url) = string_at(&mut v, path) {
        let plain = !url.is_empty() && !url.chars().any(|c| c.is_control() || c.is_whitespace());
        if plain && !has_scheme(url) {
            if let Some(absolute) = page_base()
                .and_then(|base| web_sys::Url::new_with_base(url, &base).ok())
                .and_then(|u| get(u.as_ref(), "href").as_string())
            {
                *url = absolute;
            }
        }
    }
    v
}

/// Whether `url` starts with a scheme (`https:`, `ftp:`, `javascript:`): the URL standard's
/// absolute URLs, which stay as given (and the validators judge them).
fn has_scheme(url: &str) -> bool {
    let scheme = url.split(':').next().unwrap_or("");
    url.contains(':')
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The string at `path` (property names) in `v`, if there is one.
fn string_at<'a>(v: &'a mut Value, path: &[&str]) -> Option<&'a mut String> {
    let mut at = v;
    for key in path {
        at = match at {
            Value::Object(props) => &mut props.iter_mut().find(|(k, _)| k == key)?.1,
            _ => return None,
        };
    }
    match at {
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// The URL relative URLs resolve against: the document's base (a `<base href>` counts), or the
/// Worker's location.
fn page_base() -> Option<String> {
    let global = js_sys::global();
    let document = get(&global, "document");
    if document.is_object() {
        get(&document, "baseURI").as_string()
    } else {
        get(&get(&global, "location"), "href").as_string()
    }
}
