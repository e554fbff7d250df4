//! Uploads through presigned URLs, and the outbox that keeps what could not be uploaded.
//!
//! Per image: ask the page's presigner for a URL, send the bytes (PUT, or the S3 POST-policy
//! form), retry network errors, 408, 429 and 5xx with backoff, ask for a fresh URL when the
//! signature is refused; at most [`CONCURRENT`] at once. What still fails goes to an outbox in
//! IndexedDB, which is retried when the browser comes back online, on `flushUploads()`, and
//! when a later engine with storage starts on the same origin. An item leaves the outbox only
//! after a 2xx.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{
    AbortController, Blob, BlobPropertyBag, FormData, RequestInit, RequestMode, Response,
};

use super::events::Emitter;
use super::idb::{Db, OUTBOX};
use super::js::{self, browser_error, get, set, timer, wait_for, Canceller, Waited};
use crate::core::error::{Code, Error, Result};
use crate::core::retry::{RetryPolicy, Verdict};
use crate::core::storage::{
    object_url, presigned, Method, PresignSource, Presigned, StorageOptions,
    DEFAULT_OUTBOX_MAX_BYTES, DEFAULT_PRESIGN_TIMEOUT_MS,
};

/// Uploads in flight at once, per engine.
pub const CONCURRENT: usize = 4;
/// An upload that has not finished in this time has failed (and is retried).
const SEND_TIMEOUT_MS: u32 = 60_000;
/// Reading an image's bytes from its Blob (in memory) for the outbox.
const READ_TIMEOUT_MS: u32 = 10_000;

pub const OUTBOX_UPLOAD: &str = "outboxupload";
pub const OUTBOX_FULL: &str = "outboxfull";

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch, catch)]
    fn fetch_with_init(url: &str, init: &RequestInit) -> std::result::Result<Promise, JsValue>;
}

/// One image to upload.
#[derive(Clone)]
pub struct Upload {
    pub key: String,
    pub content_type: String,
    pub blob: Blob,
    pub size: f64,
    /// What the outbox keeps beside the bytes (the event's metadata), and reports back.
    pub meta: JsValue,
    /// A task's own presign endpoint (`StorageConfig.PresignEndpoint`).
    pub endpoint: Option<String>,
}

enum Source {
    Callback(Function),
    Endpoint(String),
}

pub struct Uploader {
    /// The engine's presigner; `None` without `options.storage` (tasks may bring their own
    /// endpoint).
    source: Option<Source>,
    max_bytes: u64,
    /// A presigner that has not answered in this time has failed.
    presign_timeout_ms: u32,
    db: Rc<Db>,
    abort: AbortController,
    /// Flipped by `destroy()`; every wait races against one of its signals.
    cancel: Canceller,
    slots: Cell<usize>,
    waiting: RefCell<VecDeque<Function>>,
    /// What this engine knows of the outbox (refreshed at every flush).
    outbox_count: Cell<u32>,
    outbox_bytes: Cell<f64>,
    flushing: RefCell<Option<Promise>>,
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
        let abort = AbortController::new()
            .map_err(|e| browser_error(Code::NotSupported, "AbortController", &e))?;
        Ok(Uploader {
            source,
            max_bytes: options.map_or(DEFAULT_OUTBOX_MAX_BYTES, |o| o.outbox_max_bytes),
            presign_timeout_ms: options
                .map_or(DEFAULT_PRESIGN_TIMEOUT_MS, |o| o.presign_timeout_ms),
            db,
            abort,
            cancel: Canceller::new(),
            slots: Cell::new(0),
            waiting: RefCell::new(VecDeque::new()),
            outbox_count: Cell::new(0),
            outbox_bytes: Cell::new(0.0),
            flushing: RefCell::new(None),
        })
    }

    /// Images waiting in the outbox, as far as this engine knows.
    pub fn pending(&self) -> u32 {
        self.outbox_count.get()
    }

    /// `destroy()`: ends every upload in flight (their images go to the outbox).
    pub fn cancel_all(&self) {
        self.cancel.cancel();
        self.abort.abort();
    }

    /// Uploads `item`, or keeps it in the outbox. `Ok(url)`; `Err` with `ERR_UPLOAD_FAILED`,
    /// `ERR_PRESIGN_FAILED` or `ERR_DESTROYED` (kept in the outbox), or `ERR_OUTBOX_FULL` (not
    /// kept: the caller still has the Blob).
    pub async fn upload(&self, item: &Upload, emitter: &Emitter) -> Result<String> {
        match self.try_upload(item, RetryPolicy::UPLOAD).await {
            Ok(url) => Ok(url),
            Err(e) => {
                self.keep(item, emitter).await?;
                Err(Error::new(
                    e.code,
                    format!("{}; the image waits in the outbox", e.message),
                ))
            }
        }
    }

    /// Tries every image in the outbox once more; resolves with how many remain. One flush at
    /// a time: a call during a flush waits for it.
    pub fn flush(self: &Rc<Self>, emitter: Rc<Emitter>) -> Promise {
        if let Some(running) = self.flushing.borrow().as_ref() {
            return running.clone();
        }
        let this = self.clone();
        let promise = future_to_promise(async move {
            let remaining = this.flush_now(&emitter).await;
            *this.flushing.borrow_mut() = None;
            Ok(JsValue::from(remaining))
        });
        *self.flushing.borrow_mut() = Some(promise.clone());
        promise
    }

    async fn flush_now(self: &Rc<Self>, emitter: &Rc<Emitter>) -> u32 {
        let Ok(items) = self.db.get_all(OUTBOX).await else {
            return self.outbox_count.get();
        };
        self.count_outbox(&items);
        if self.cancel.is_cancelled() {
            return self.outbox_count.get();
        }
        let tries: Vec<Promise> = items
            .iter()
            .map(|record| {
                let this = self.clone();
                let emitter = emitter.clone();
                future_to_promise(async move {
                    this.retry_kept(&record, &emitter).await;
                    Ok(JsValue::UNDEFINED)
                })
            })
            .collect();
        let all = js_sys::Promise::all(&tries.iter().collect::<js_sys::Array>());
        let _ = JsFuture::from(all).await;
        // Recount from the database: another engine may have flushed too.
        if let Ok(items) = self.db.get_all(OUTBOX).await {
            self.count_outbox(&items);
        }
        self.outbox_count.get()
    }

    async fn retry_kept(&self, record: &JsValue, emitter: &Emitter) {
        let Some(item) = from_record(record) else {
            return;
        };
        if let Ok(url) = self.try_upload(&item, RetryPolicy::FLUSH).await {
            if self.db.delete(OUTBOX, &get(record, "id")).await.is_ok() {
                let detail: JsValue = Object::new().into();
                set(&detail, "key", &item.key.as_str().into());
                set(&detail, "url", &url.as_str().into());
                set(&detail, "size", &item.size.into());
                set(&detail, "contentType", &item.content_type.as_str().into());
                set(&detail, "meta", &item.meta);
                emitter.dispatch(OUTBOX_UPLOAD, &detail);
            }
        }
    }

    fn count_outbox(&self, items: &js_sys::Array) {
        let bytes: f64 = items
            .iter()
            .map(|r| get(&r, "size").as_f64().unwrap_or(0.0))
            .sum();
        self.outbox_count.set(items.length());
        self.outbox_bytes.set(bytes);
    }

    /// Puts `item` in the outbox, or says why it cannot.
    async fn keep(&self, item: &Upload, emitter: &Emitter) -> Result<()> {
        let bytes = self.outbox_bytes.get();
        if bytes + item.size > self.max_bytes as f64 {
            let detail: JsValue = Object::new().into();
            set(&detail, "key", &item.key.as_str().into());
            set(&detail, "size", &item.size.into());
            set(&detail, "outboxBytes", &bytes.into());
            set(&detail, "outboxMaxBytes", &(self.max_bytes as f64).into());
            emitter.dispatch(OUTBOX_FULL, &detail);
            return Err(Error::new(
                Code::OutboxFull,
                format!(
                    "not uploaded, and the outbox is full ({bytes} of {} bytes): the image is only in this event's Blob",
                    self.max_bytes
                ),
            ));
        }
        // The bytes, not the Blob: WebKit's IndexedDB refuses Blobs in a private or
        // automation session (the transaction fails), and every engine keeps bytes.
        // Not raced against destroy(): what destroy() ends is kept.
        let read = item.blob.array_buffer();
        let image = match wait_for(Some(&read), Some(&timer(READ_TIMEOUT_MS)), None).await {
            Waited::Settled(Ok(image)) => image,
            _ => {
                return Err(Error::new(
                    Code::OutboxFull,
                    "not uploaded, and its bytes could not be read for the outbox: the image is only in this event's Blob",
                ))
            }
        };
        let record: JsValue = Object::new().into();
        set(&record, "key", &item.key.as_str().into());
        set(&record, "contentType", &item.content_type.as_str().into());
        set(&record, "size", &item.size.into());
        set(&record, "bytes", &image);
        set(&record, "meta", &item.meta);
        set(
            &record,
            "endpoint",
            &item
                .endpoint
                .as_deref()
                .map_or(JsValue::NULL, JsValue::from),
        );
        set(&record, "createdAt", &js::now_ms().into());
        match self.db.put(OUTBOX, &record).await {
            Ok(_) => {
                self.outbox_count.set(self.outbox_count.get() + 1);
                self.outbox_bytes.set(bytes + item.size);
                Ok(())
            }
            Err(e) => Err(browser_error(
                Code::OutboxFull,
                "not uploaded, and the outbox (IndexedDB) could not keep it: the image is only in this event's Blob",
                &e,
            )),
        }
    }

    async fn try_upload(&self, item: &Upload, policy: RetryPolicy) -> Result<String> {
        let _slot = self.slot().await?;
        let mut attempt = 0;
        let mut refreshes = 0;
        let mut current: Option<Presigned> = None;
        loop {
            attempt += 1;
            let p = match current.take() {
                Some(p) => p,
                None => match self.presign(item).await {
                    Ok(p) => p,
                    Err(e)
                        if self.cancel.is_cancelled() || attempt >= policy.attempts + refreshes =>
                    {
                        return Err(e)
                    }
                    Err(_) => {
                        self.wait(policy.delay_ms(attempt - refreshes, js_sys::Math::random()))
                            .await?;
                        continue;
                    }
                },
            };
            let status = self.send(&p, item).await;
            if self.cancel.is_cancelled() {
                return Err(destroyed());
            }
            match policy.upload_verdict(attempt, refreshes, status) {
                Verdict::Done => return Ok(object_url(&p, &item.key)),
                Verdict::Refresh => refreshes += 1,
                Verdict::Retry => {
                    current = Some(p);
                    self.wait(policy.delay_ms(attempt - refreshes, js_sys::Math::random()))
                        .await?;
                }
                Verdict::GiveUp => {
                    let said = status.map_or("no answer from the store".to_string(), |s| {
                        format!("the store answered HTTP {s}")
                    });
                    return Err(Error::new(
                        Code::UploadFailed,
                        format!(
                            "uploading {} failed after {attempt} attempts: {said}",
                            item.key
                        ),
                    ));
                }
            }
        }
    }

    /// Asks the presigner for a URL for `item`.
    async fn presign(&self, item: &Upload) -> Result<Presigned> {
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
                init.set_signal(Some(&self.abort.signal()));
                let response = fetch_with_init(url, &init).map_err(|e| failed("presign endpoint", &e))?;
                let response: Response = self
                    .bounded(response, self.presign_timeout_ms, "the presign endpoint")
                    .await?
                    .dyn_into()
                    .map_err(|e| failed("presign endpoint", &e))?;
                if !response.ok() {
                    return Err(Error::new(
                        Code::PresignFailed,
                        format!("the presign endpoint answered HTTP {}", response.status()),
                    ));
                }
                response.json().map_err(|e| failed("presign endpoint", &e))?
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
        init.set_signal(Some(&self.abort.signal()));
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
            .bounded(response, SEND_TIMEOUT_MS, "upload")
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

/// An outbox record back as an [`Upload`]; `None` for a record this version cannot read.
fn from_record(record: &JsValue) -> Option<Upload> {
    let content_type = get(record, "contentType").as_string()?;
    let bytes = get(record, "bytes");
    // Records kept by earlier versions hold a Blob.
    let blob = if bytes.is_undefined() {
        get(record, "blob").dyn_into().ok()?
    } else {
        let options = BlobPropertyBag::new();
        options.set_type(&content_type);
        Blob::new_with_buffer_source_sequence_and_options(&Array::of1(&bytes), &options).ok()?
    };
    Some(Upload {
        key: get(record, "key").as_string()?,
        content_type,
        blob,
        size: get(record, "size").as_f64()?,
        meta: get(record, "meta"),
        endpoint: get(record, "endpoint").as_string(),
    })
}

fn destroyed() -> Error {
    Error::new(Code::Destroyed, "destroy() ended the upload")
}
