//! Where a frame becomes an image: in a dedicated Worker, so the page's thread only hands
//! the frame over, or on the page's thread where no Worker can be used.
//!
//! The worker (src/web/encoder_worker.js, made from a Blob: no extra file to serve, and it
//! works from a classic `<script>` too) runs a second instance of this module's own wasm,
//! sent to it as the compiled `WebAssembly.Module`. A job names a stream whose kept
//! processor the worker reads ([`Encoder::encode_stream`]: the page only asks), or transfers
//! a `VideoFrame` the page got (no copy); the worker copies the pixels once into wasm memory,
//! in the camera's own I420/NV12 planes where it has them, encodes, and answers with a Blob.
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
use web_sys::{Blob, MessageEvent, ReadableStream, Url, Worker};

use super::capture::{destroyed, ended, frame_timeout, Frame, POLL_MS};
use super::js::{self, first_of, get, set, timer, Canceller};
use crate::core::encode::ImageFormat;
use crate::core::error::{Code, Error, Result};
use crate::core::size::Fit;
use crate::core::snapshot::SnapshotSpec;

const WORKER_SOURCE: &str = include_str!("encoder_worker.js");

/// How long a job may take in the worker before the snapshot fails (a 4K PNG takes well
/// under a second; this only guards against a worker that stopped answering).
const JOB_TIMEOUT_MS: u32 = 20_000;

/// How long the worker may take to instantiate the module (a few milliseconds normally).
const START_TIMEOUT_MS: u32 = 5_000;

/// An encoded image.
pub struct Image {
    pub blob: Blob,
    pub width: u32,
    pub height: u32,
    pub size: usize,
}

/// A kept processor's stream, read by the worker; closed there when dropped.
pub struct WorkerStream {
    id: u32,
    link: Weak<Link>,
}

impl Drop for WorkerStream {
    fn drop(&mut self) {
        if let Some(link) = self.link.upgrade() {
            let message: JsValue = Object::new().into();
            set(&message, "close", &self.id.into());
            let _ = link.worker.post_message(&message);
        }
    }
}

/// The engine's encoder: the worker while it works, else nothing (the page path).
pub struct Encoder {
    link: RefCell<Option<Rc<Link>>>,
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
    waiting: RefCell<BTreeMap<u32, Function>>,
    next: Cell<u32>,
    next_stream: Cell<u32>,
    /// The worker said it is ready.
    started: Cell<bool>,
    broken: Cell<bool>,
}

impl Jobs {
    /// A new job's id and the promise of its answer.
    fn expect_answer(&self) -> (u32, Promise) {
        let id = self.next.get().wrapping_add(1);
        self.next.set(id);
        let answer = Promise::new(&mut |resolve, _| {
            self.waiting.borrow_mut().insert(id, resolve);
        });
        (id, answer)
    }

    /// The job is over: an answer that never came settles its promise, so what awaited it
    /// is freed.
    fn settle(&self, id: u32) {
        let unanswered = self.waiting.borrow_mut().remove(&id);
        if let Some(resolve) = unanswered {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }

    /// Answers every waiting job with `answer`.
    fn answer_all(&self, answer: &JsValue) {
        let waiting = std::mem::take(&mut *self.waiting.borrow_mut());
        for resolve in waiting.values() {
            let _ = resolve.call1(&JsValue::UNDEFINED, answer);
        }
    }
}

impl Encoder {
    /// An encoder that uses a worker when `use_worker` and the browser allows it.
    pub fn new(use_worker: bool) -> Encoder {
        let link = if use_worker { Link::start() } else { None };
        Encoder {
            link: RefCell::new(link.map(Rc::new)),
        }
    }

    /// `"worker"` or `"page"`: where the next frame will be encoded.
    pub fn kind(&self) -> &'static str {
        match &*self.link.borrow() {
            Some(link) if !link.jobs.broken.get() => "worker",
            _ => "page",
        }
    }

    /// The worker once it is ready, or `None` where it cannot be used (then it is stopped and
    /// the page encodes from now on).
    async fn ready_link(&self, cancel: &Canceller) -> Result<Option<Rc<Link>>> {
        let Some(link) = self.link.borrow().clone() else {
            return Ok(None);
        };
        if !link.jobs.started.get() {
            let cancelled = cancel.signal();
            let (winner, outcome) =
                first_of(&[&link.ready, &cancelled.promise, &timer(START_TIMEOUT_MS)]).await;
            if winner == 1 {
                return Err(destroyed());
            }
            // Not ready in time (winner 2) or failed to start.
            if winner == 2 || outcome.ok().and_then(|v| v.as_bool()) != Some(true) {
                self.stop();
                return Ok(None);
            }
        }
        if link.jobs.broken.get() {
            self.stop();
            return Ok(None);
        }
        Ok(Some(link))
    }

    /// Encodes `frame` in the worker. Gives the frame back when the worker cannot take it, so
    /// the caller encodes it on the page instead.
    pub async fn encode(
        &self,
        frame: Frame,
        spec: &SnapshotSpec,
        cancel: &Canceller,
    ) -> std::result::Result<Result<Image>, Frame> {
        let link = match self.ready_link(cancel).await {
            Ok(Some(link)) => link,
            Ok(None) => return Err(frame),
            Err(e) => return Ok(Err(e)),
        };
        let (id, answer) = link.jobs.expect_answer();
        let message: JsValue = Object::new().into();
        set(&message, "id", &id.into());
        set(&message, "frame", frame.video_frame());
        set(&message, "spec", &spec_value(spec));
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
        let cancelled = cancel.signal();
        let (winner, outcome) =
            first_of(&[&answer, &cancelled.promise, &timer(JOB_TIMEOUT_MS)]).await;
        link.jobs.settle(id);
        Ok(match (winner, outcome) {
            (0, Ok(answer)) => read_answer(&answer).map(|(image, _)| image),
            (1, _) => Err(destroyed()),
            _ => Err(job_timeout()),
        })
    }

    /// Hands the `ReadableStream` of a kept `MediaStreamTrackProcessor` to the worker, which
    /// reads its frames from then on: they never reach the page's thread. `None` where the
    /// worker cannot be used or the browser cannot transfer the stream (it is still ours).
    pub async fn adopt(
        &self,
        readable: &ReadableStream,
        cancel: &Canceller,
    ) -> Result<Option<WorkerStream>> {
        let Some(link) = self.ready_link(cancel).await? else {
            return Ok(None);
        };
        let id = link.jobs.next_stream.get().wrapping_add(1);
        link.jobs.next_stream.set(id);
        let message: JsValue = Object::new().into();
        set(&message, "open", &id.into());
        set(&message, "readable", readable);
        Ok(link
            .worker
            .post_message_with_transfer(&message, &Array::of1(readable))
            .ok()
            .map(|()| WorkerStream {
                id,
                link: Rc::downgrade(&link),
            }))
    }

    /// Whether `stream` can still be read: its worker is the one running and works.
    pub fn serves(&self, stream: &WorkerStream) -> bool {
        match (&*self.link.borrow(), stream.link.upgrade()) {
            (Some(current), Some(link)) => Rc::ptr_eq(current, &link) && !link.jobs.broken.get(),
            _ => false,
        }
    }

    /// Encodes the newest frame of a stream the worker reads (see [`Encoder::adopt`]), waiting
    /// at most `frame_timeout_ms` for one. `check` runs between polls while the answer is
    /// awaited; its error (the page's track ended) ends the wait. Gives the image and when its
    /// frame was taken (ms since the epoch).
    pub async fn encode_stream(
        &self,
        stream: &WorkerStream,
        spec: &SnapshotSpec,
        frame_timeout_ms: u32,
        cancel: &Canceller,
        check: &dyn Fn() -> Result<()>,
    ) -> Result<(Image, Option<f64>)> {
        let link = match stream.link.upgrade() {
            Some(link) if !link.jobs.broken.get() => link,
            _ => return Err(Error::new(Code::EncodeFailed, "the encoder worker stopped")),
        };
        let (id, answer) = link.jobs.expect_answer();
        let message: JsValue = Object::new().into();
        set(&message, "id", &id.into());
        set(&message, "stream", &stream.id.into());
        set(&message, "timeout", &frame_timeout_ms.into());
        set(&message, "spec", &spec_value(spec));
        if let Err(e) = link.worker.post_message(&message) {
            link.jobs.settle(id);
            return Err(js::browser_error(
                Code::EncodeFailed,
                "the encoder worker",
                &e,
            ));
        }
        let deadline = js::now_ms() + f64::from(frame_timeout_ms) + f64::from(JOB_TIMEOUT_MS);
        let outcome = loop {
            let cancelled = cancel.signal();
            let (winner, outcome) = first_of(&[&answer, &timer(POLL_MS), &cancelled.promise]).await;
            let gave_up = match (winner, outcome) {
                (0, Ok(answer)) => break read_answer(&answer),
                (0, Err(e)) => js::browser_error(Code::EncodeFailed, "the encoder worker", &e),
                (1, _) => match check() {
                    Err(e) => e,
                    Ok(()) if js::now_ms() >= deadline => job_timeout(),
                    Ok(()) => continue,
                },
                _ => destroyed(),
            };
            // The worker drops the job, and closes its frame if one still comes.
            let cancel_job: JsValue = Object::new().into();
            set(&cancel_job, "cancel", &id.into());
            let _ = link.worker.post_message(&cancel_job);
            break Err(gave_up);
        };
        link.jobs.settle(id);
        outcome.map_err(|e| match e.code {
            Code::FrameTimeout => frame_timeout(frame_timeout_ms),
            _ => e,
        })
    }

    /// Ends the worker; later frames are encoded on the page.
    pub fn stop(&self) {
        if let Some(link) = self.link.borrow_mut().take() {
            link.jobs
                .answer_all(&failure(Code::Destroyed, "the encoder was stopped"));
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
                if get(&data, "ready").is_truthy() {
                    jobs.started.set(true);
                    let _ = ready_resolve.call1(&JsValue::UNDEFINED, &JsValue::TRUE);
                } else if let Some(why) = get(&data, "fatal").as_string() {
                    js::warn(
                        "tracksnap: the encoder worker could not start:",
                        &why.into(),
                    );
                    jobs.broken.set(true);
                    let _ = ready_resolve.call1(&JsValue::UNDEFINED, &JsValue::FALSE);
                } else if let Some(id) = get(&data, "id").as_f64() {
                    let resolve = jobs.waiting.borrow_mut().remove(&(id as u32));
                    if let Some(resolve) = resolve {
                        let _ = resolve.call1(&JsValue::UNDEFINED, &data);
                    }
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
    let o: JsValue = Object::new().into();
    let format = match spec.format {
        ImageFormat::Jpeg => 0,
        ImageFormat::Png => 1,
    };
    let fit = match spec.fit {
        Fit::Fill => 0,
        Fit::Contain => 1,
        Fit::Cover => 2,
    };
    set(&o, "format", &format.into());
    set(&o, "quality", &spec.quality.into());
    set(&o, "width", &spec.width.into());
    set(&o, "height", &spec.height.into());
    set(&o, "fit", &fit.into());
    set(&o, "mirror", &spec.mirror.into());
    set(&o, "sizeFirst", &spec.size_first.into());
    o
}

/// The worker's answer: the image and when its frame was taken, or the error.
fn read_answer(answer: &JsValue) -> Result<(Image, Option<f64>)> {
    if let Ok(blob) = get(answer, "blob").dyn_into::<Blob>() {
        let number = |key| get(answer, key).as_f64().unwrap_or(0.0);
        let image = Image {
            size: blob.size() as usize,
            blob,
            width: number("width") as u32,
            height: number("height") as u32,
        };
        return Ok((image, get(answer, "at").as_f64()));
    }
    if get(answer, "ended").is_truthy() {
        return Err(ended());
    }
    let code = match get(answer, "code").as_f64().and_then(Code::from_value) {
        Some(Code::Ok) | None => Code::EncodeFailed,
        Some(code) => code,
    };
    let message = get(answer, "message")
        .as_string()
        .unwrap_or_else(|| "the encoder worker failed".into());
    Err(Error::new(code, message))
}

fn job_timeout() -> Error {
    Error::new(
        Code::EncodeFailed,
        format!("the encoder worker did not answer within {JOB_TIMEOUT_MS} ms"),
    )
}

fn failure(code: Code, message: &str) -> JsValue {
    let o: JsValue = Object::new().into();
    set(&o, "code", &code.value().into());
    set(&o, "message", &message.into());
    o
}
