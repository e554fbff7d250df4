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
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, MessageEvent, Url, Worker};

use super::capture::{destroyed, Frame};
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
    /// The worker said it is ready.
    started: Cell<bool>,
    broken: Cell<bool>,
}

impl Jobs {
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
            let (winner, outcome) =
                first_of(&[&link.ready, &cancelled.promise, &timer(START_TIMEOUT_MS)]).await;
            if winner == 1 {
                return Ok(Err(destroyed()));
            }
            // Not ready in time (winner 2) or failed to start: the page encodes from now on.
            if winner == 2 || outcome.ok().and_then(|v| v.as_bool()) != Some(true) {
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
        let answer = Promise::new(&mut |resolve, _| {
            link.jobs.waiting.borrow_mut().insert(id, resolve);
        });
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
        // An answer that never came: settle its promise, so what awaited it is freed.
        let unanswered = link.jobs.waiting.borrow_mut().remove(&id);
        if let Some(resolve) = unanswered {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
        Ok(match (winner, outcome) {
            (0, Ok(answer)) => read_answer(&answer),
            (1, _) => Err(destroyed()),
            _ => Err(Error::new(
                Code::EncodeFailed,
                format!("the encoder worker did not answer within {JOB_TIMEOUT_MS} ms"),
            )),
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

fn read_answer(answer: &JsValue) -> Result<Image> {
    if let Ok(blob) = get(answer, "blob").dyn_into::<Blob>() {
        let number = |key| get(answer, key).as_f64().unwrap_or(0.0);
        return Ok(Image {
            size: blob.size() as usize,
            blob,
            width: number("width") as u32,
            height: number("height") as u32,
        });
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

fn failure(code: Code, message: &str) -> JsValue {
    let o: JsValue = Object::new().into();
    set(&o, "code", &code.value().into());
    set(&o, "message", &message.into());
    o
}
