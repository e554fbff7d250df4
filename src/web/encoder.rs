//! Where a frame becomes an image: in a dedicated Worker, so the page's thread only hands
//! the frame over, or on the page's thread where no Worker can be used.
//!
//! The worker (src/web/encoder_worker.js, made from a Blob: no extra file to serve, and it
//! works from a classic `<script>` too) runs a second instance of this module's own wasm,
//! sent to it as the compiled `WebAssembly.Module`. A job transfers the `VideoFrame` (no
//! copy); the worker copies its pixels once into wasm memory, in the camera's own I420/NV12
//! planes where it has them, encodes, and answers with a Blob.
//!
//! The page path is the fallback: no `Worker` (a Content-Security-Policy without
//! `worker-src blob:`), a browser that cannot send a `WebAssembly.Module` or transfer a
//! `VideoFrame`, a worker that fails to start or dies, or `worker: false` in the options.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{Blob, MessageEvent, Url, VideoFrame, Worker};

use super::capture::{destroyed, Frame};
use super::js::{self, set, timer, wait_for, Canceller, Waited};
use crate::core::encode::ImageFormat;
use crate::core::error::{Code, Error, Result};
use crate::core::size::Fit;
use crate::core::snapshot::SnapshotSpec;

const WORKER_SOURCE: &str = include_str!("encoder_worker.js");

/// How long a job may take in the worker before the snapshot fails (a 4K PNG takes well
/// under a second; this only guards against a worker that stopped answering).
const JOB_TIMEOUT_MS: u32 = 20_000;

/// How often the watchdog looks for jobs past their deadline while any job waits.
const WATCH_MS: u32 = 1_000;

/// How long the worker may take to instantiate the module (a few milliseconds normally).
const START_TIMEOUT_MS: u32 = 5_000;

#[wasm_bindgen]
extern "C" {
    /// A job for the worker, `{ id, frame, spec }`, and the worker's messages back. Typed
    /// property accessors: the glue names the property, so no key string crosses from wasm
    /// and nothing is wrapped for exceptions (these are plain objects of ours, and a message's
    /// data from our own worker).
    #[wasm_bindgen(extends = Object)]
    type JobMessage;
    #[wasm_bindgen(method, setter)]
    fn set_id(this: &JobMessage, id: u32);
    #[wasm_bindgen(method, setter)]
    fn set_frame(this: &JobMessage, frame: &VideoFrame);
    #[wasm_bindgen(method, setter)]
    fn set_spec(this: &JobMessage, spec: &JsValue);

    /// The `spec` of a job, as the worker reads it: numbers and booleans.
    #[wasm_bindgen(extends = Object)]
    type SpecMessage;
    #[wasm_bindgen(method, setter)]
    fn set_format(this: &SpecMessage, format: u32);
    #[wasm_bindgen(method, setter)]
    fn set_quality(this: &SpecMessage, quality: u8);
    #[wasm_bindgen(method, setter)]
    fn set_width(this: &SpecMessage, width: u32);
    #[wasm_bindgen(method, setter)]
    fn set_height(this: &SpecMessage, height: u32);
    #[wasm_bindgen(method, setter)]
    fn set_fit(this: &SpecMessage, fit: u32);
    #[wasm_bindgen(method, setter)]
    fn set_mirror(this: &SpecMessage, mirror: bool);
    #[wasm_bindgen(method, setter, js_name = sizeFirst)]
    fn set_size_first(this: &SpecMessage, size_first: bool);

    /// What the worker posts: `{ ready }`, `{ fatal }`, or a job's answer
    /// `{ id, blob, width, height }` / `{ id, code, message }`.
    type WorkerMessage;
    #[wasm_bindgen(method, getter)]
    fn id(this: &WorkerMessage) -> Option<f64>;
    #[wasm_bindgen(method, getter)]
    fn ready(this: &WorkerMessage) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn fatal(this: &WorkerMessage) -> Option<String>;
    #[wasm_bindgen(method, getter)]
    fn blob(this: &WorkerMessage) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn width(this: &WorkerMessage) -> Option<f64>;
    #[wasm_bindgen(method, getter)]
    fn height(this: &WorkerMessage) -> Option<f64>;
    #[wasm_bindgen(method, getter)]
    fn code(this: &WorkerMessage) -> Option<f64>;
    #[wasm_bindgen(method, getter)]
    fn message(this: &WorkerMessage) -> Option<String>;
}

/// An encoded image.
pub struct Image {
    pub blob: Blob,
    pub width: u32,
    pub height: u32,
    pub size: usize,
}

/// The engine's encoder: the worker while it works, else nothing (the page path).
pub struct Encoder {
    link: RefCell<Option<Rc<Link>>>,
    /// The last job's spec and its message: snapshots mostly ask for the same image, and a
    /// posted message is cloned, so the same object can go out again.
    last_spec: RefCell<Option<(SnapshotSpec, JsValue)>>,
}

struct Link {
    worker: Worker,
    url: String,
    /// Resolves with `true` once the worker's instance is ready, `false` if it failed.
    ready: Promise,
    jobs: Rc<Jobs>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut()>,
}

#[derive(Default)]
struct Jobs {
    /// Each waiting job's `resolve` and its deadline (`js::now_ms`).
    waiting: RefCell<BTreeMap<u32, (Function, f64)>>,
    next: Cell<u32>,
    /// The watchdog runs (see [`watch`]).
    watched: Cell<bool>,
    /// The worker said it is ready.
    started: Cell<bool>,
    broken: Cell<bool>,
}

impl Jobs {
    /// Answers every waiting job with `answer`.
    fn answer_all(&self, answer: &JsValue) {
        let waiting = std::mem::take(&mut *self.waiting.borrow_mut());
        for (resolve, _) in waiting.values() {
            let _ = resolve.call1(&JsValue::UNDEFINED, answer);
        }
    }
}

/// Fails the jobs the worker has not answered by their deadline, checking every [`WATCH_MS`]
/// for as long as any job waits. One timer for all jobs in flight, rather than one set and
/// cleared on the page's thread for each: snapshots a second or less apart set none.
fn watch(jobs: &Rc<Jobs>) {
    if jobs.watched.replace(true) {
        return;
    }
    let jobs: Weak<Jobs> = Rc::downgrade(jobs);
    spawn_local(async move {
        loop {
            wait_for(None, Some(&timer(WATCH_MS)), None).await;
            // The engine is gone: its jobs were answered when the encoder stopped.
            let Some(jobs) = jobs.upgrade() else {
                return;
            };
            let now = js::now_ms();
            let overdue: Vec<Function> = {
                let mut waiting = jobs.waiting.borrow_mut();
                let late: Vec<u32> = waiting
                    .iter()
                    .filter(|(_, (_, deadline))| now >= *deadline)
                    .map(|(id, _)| *id)
                    .collect();
                late.iter()
                    .filter_map(|id| waiting.remove(id))
                    .map(|(resolve, _)| resolve)
                    .collect()
            };
            if !overdue.is_empty() {
                let answer = failure(
                    Code::EncodeFailed,
                    &format!("the encoder worker did not answer within {JOB_TIMEOUT_MS} ms"),
                );
                for resolve in overdue {
                    let _ = resolve.call1(&JsValue::UNDEFINED, &answer);
                }
            }
            if jobs.waiting.borrow().is_empty() {
                jobs.watched.set(false);
                return;
            }
        }
    });
}

impl Encoder {
    /// An encoder that uses a worker when `use_worker` and the browser allows it.
    pub fn new(use_worker: bool) -> Encoder {
        let link = if use_worker { Link::start() } else { None };
        Encoder {
            link: RefCell::new(link.map(Rc::new)),
            last_spec: RefCell::new(None),
        }
    }

    /// `"worker"` or `"page"`: where the next frame will be encoded.
    pub fn kind(&self) -> &'static str {
        match &*self.link.borrow() {
            Some(link) if !link.jobs.broken.get() => "worker",
            _ => "page",
        }
    }

    /// Encodes `frame` in the worker. Gives the frame back when the worker cannot take it, so
    /// the caller encodes it on the page instead.
    pub async fn encode(
        &self,
        frame: Frame,
        spec: &SnapshotSpec,
        cancel: &Canceller,
    ) -> std::result::Result<Result<Image>, Frame> {
        let Some(link) = self.link.borrow().clone() else {
            return Err(frame);
        };
        if !link.jobs.started.get() {
            let cancelled = cancel.signal();
            let limit = timer(START_TIMEOUT_MS);
            let started = match wait_for(Some(&link.ready), Some(&limit), Some(&cancelled)).await {
                Waited::Cancelled => return Ok(Err(destroyed())),
                Waited::Settled(outcome) => outcome.ok().and_then(|v| v.as_bool()) == Some(true),
                Waited::TimedOut => false,
            };
            // Not ready in time or failed to start: the page encodes from now on.
            if !started {
                self.stop();
                return Err(frame);
            }
        }
        if link.jobs.broken.get() {
            self.stop();
            return Err(frame);
        }
        let id = link.jobs.next.get().wrapping_add(1);
        link.jobs.next.set(id);
        let deadline = js::now_ms() + f64::from(JOB_TIMEOUT_MS);
        let answer = Promise::new(&mut |resolve, _| {
            link.jobs
                .waiting
                .borrow_mut()
                .insert(id, (resolve, deadline));
        });
        let message: JobMessage = Object::new().unchecked_into();
        message.set_id(id);
        message.set_frame(frame.video_frame());
        message.set_spec(&self.spec_message(spec));
        if link
            .worker
            .post_message_with_transfer(&message, &Array::of1(frame.video_frame()))
            .is_err()
        {
            // This browser cannot transfer a VideoFrame: the frame is still ours.
            link.jobs.waiting.borrow_mut().remove(&id);
            self.stop();
            return Err(frame);
        }
        // Transferred: the worker closes it.
        frame.forget();
        watch(&link.jobs);
        // Settled by the worker's answer, by the watchdog, or by `stop()` (the engine's
        // `destroy()`, or a worker that failed): no race, no timer of its own.
        Ok(match JsFuture::from(answer).await {
            Ok(answer) => read_answer(&answer),
            Err(_) => Err(destroyed()),
        })
    }

    /// `spec` as the worker reads it, made once for a run of snapshots with the same spec.
    fn spec_message(&self, spec: &SnapshotSpec) -> JsValue {
        let mut last = self.last_spec.borrow_mut();
        match &*last {
            Some((s, message)) if s == spec => message.clone(),
            _ => {
                let message = spec_value(spec);
                *last = Some((spec.clone(), message.clone()));
                message
            }
        }
    }

    /// Ends the worker; later frames are encoded on the page. Jobs still waiting (only at the
    /// engine's `destroy()`: a worker that failed has answered its own) fail with
    /// `ERR_DESTROYED`.
    pub fn stop(&self) {
        if let Some(link) = self.link.borrow_mut().take() {
            let e = destroyed();
            link.jobs.answer_all(&failure(e.code, &e.message));
        }
    }
}

impl Link {
    fn start() -> Option<Link> {
        let (worker, url) = js::blob_worker(WORKER_SOURCE)?;
        let jobs = Rc::new(Jobs::default());
        let mut ready_resolve = None;
        let ready = Promise::new(&mut |resolve, _| ready_resolve = Some(resolve));
        let ready_resolve = ready_resolve?;
        let on_message = {
            let jobs = jobs.clone();
            let ready_resolve = ready_resolve.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let data = event.data();
                let message: &WorkerMessage = data.unchecked_ref();
                if let Some(id) = message.id() {
                    let resolve = jobs.waiting.borrow_mut().remove(&(id as u32));
                    if let Some((resolve, _)) = resolve {
                        let _ = resolve.call1(&JsValue::UNDEFINED, &data);
                    }
                } else if message.ready().is_truthy() {
                    jobs.started.set(true);
                    let _ = ready_resolve.call1(&JsValue::UNDEFINED, &JsValue::TRUE);
                } else if let Some(why) = message.fatal() {
                    js::warn(
                        "tracksnap: the encoder worker could not start:",
                        &why.into(),
                    );
                    jobs.broken.set(true);
                    let _ = ready_resolve.call1(&JsValue::UNDEFINED, &JsValue::FALSE);
                }
            })
        };
        let on_error = {
            let jobs = jobs.clone();
            Closure::<dyn FnMut()>::new(move || {
                jobs.broken.set(true);
                let _ = ready_resolve.call1(&JsValue::UNDEFINED, &JsValue::FALSE);
                jobs.answer_all(&failure(Code::EncodeFailed, "the encoder worker failed"));
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let link = Link {
            worker,
            url,
            ready,
            jobs,
            _on_message: on_message,
            _on_error: on_error,
        };
        // The compiled module, not its bytes: nothing is fetched or compiled again.
        link.worker.post_message(&wasm_bindgen::module()).ok()?;
        Some(link)
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
        let _ = Url::revoke_object_url(&self.url);
    }
}

/// The job's `spec` as the worker reads it: numbers and booleans.
fn spec_value(spec: &SnapshotSpec) -> JsValue {
    let o: SpecMessage = Object::new().unchecked_into();
    let format = match spec.format {
        ImageFormat::Jpeg => 0,
        ImageFormat::Png => 1,
    };
    let fit = match spec.fit {
        Fit::Fill => 0,
        Fit::Contain => 1,
        Fit::Cover => 2,
    };
    o.set_format(format);
    o.set_quality(spec.quality);
    o.set_width(spec.width);
    o.set_height(spec.height);
    o.set_fit(fit);
    o.set_mirror(spec.mirror);
    o.set_size_first(spec.size_first);
    o.into()
}

fn read_answer(answer: &JsValue) -> Result<Image> {
    let answer: &WorkerMessage = answer.unchecked_ref();
    if let Ok(blob) = answer.blob().dyn_into::<Blob>() {
        return Ok(Image {
            size: blob.size() as usize,
            blob,
            width: answer.width().unwrap_or(0.0) as u32,
            height: answer.height().unwrap_or(0.0) as u32,
        });
    }
    let code = match answer.code().and_then(Code::from_value) {
        Some(Code::Ok) | None => Code::EncodeFailed,
        Some(code) => code,
    };
    let message = answer
        .message()
        .unwrap_or_else(|| "the encoder worker failed".into());
    Err(Error::new(code, message))
}

fn failure(code: Code, message: &str) -> JsValue {
    let o: JsValue = Object::new().into();
    set(&o, "code", &code.value().into());
    set(&o, "message", &message.into());
    o
}
