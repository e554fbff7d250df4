//! The dedicated Worker an engine's encoder and frame capture share (src/web/encoder_worker.js,
//! made from a Blob: no extra file to serve, and it works from a classic `<script>` too). It
//! runs a second instance of this module's wasm, sent to it as the compiled
//! `WebAssembly.Module`, and, where the browser offers `MediaStreamTrackProcessor` only in
//! Workers (Safari 18+), it reads frames there.
//!
//! Messages to the worker: the module; `{ id, frame, spec }` (encode a transferred frame);
//! `{ open, track }` (a frame reader on a transferred track); `{ id, read }` (that reader's
//! newest frame); `{ close }`. From it: `{ ready, processor }` or `{ fatal }` once, then
//! answers `{ id, … }` to the requests that carry an `id`.
//!
//! [`blob_worker`] makes Workers from a Blob, this one and the periodic clock's.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Blob, BlobPropertyBag, MessageEvent, Url, Worker};

use super::js::{self, set};
use super::wait::{self, timer, wait_for, Canceller, Waited};
use crate::core::error::{Code, Error};
use crate::core::map::VecMap;

/// The Worker's script as the module carries it: `encoder_worker.js` without its comment lines
/// and indentation (10336 → 6522 bytes; the comments are for readers of the file). The `const
/// fn`s below index freely: they run while compiling, where a bad index fails the build.
const WORKER_SOURCE: &str = {
    const FILE: &[u8] = include_bytes!("encoder_worker.js");
    const SCRIPT: [u8; code_len(FILE)] = code(FILE);
    match std::str::from_utf8(&SCRIPT) {
        Ok(script) => script,
        Err(_) => panic!("encoder_worker.js is not UTF-8"),
    }
};

/// The bytes of `file`'s code lines, each without its indentation, each ending in a newline;
/// no blank lines. Comment lines are those that start with `//`, and `/* … */` blocks whose first line starts
/// with `/*` and whose last line ends with `*/`: the script has no other comments, and no
/// string that spans lines.
#[allow(clippy::indexing_slicing)]
const fn code<const N: usize>(file: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    let mut n = 0;
    let mut at = 0;
    let mut in_block = false;
    while at < file.len() {
        let (start, end, next) = line(file, at);
        let mut i = start;
        if !is_comment(file, start, end, &mut in_block) {
            while i < end {
                out[n] = file[i];
                n += 1;
                i += 1;
            }
            out[n] = b'\n';
            n += 1;
        }
        at = next;
    }
    out
}

#[allow(clippy::indexing_slicing)]
const fn code_len(file: &[u8]) -> usize {
    let mut n = 0;
    let mut at = 0;
    let mut in_block = false;
    while at < file.len() {
        let (start, end, next) = line(file, at);
        if !is_comment(file, start, end, &mut in_block) {
            n += end - start + 1;
        }
        at = next;
    }
    n
}

/// The line from `at`: where its text starts past the indentation, where it ends (before the
/// newline), and where the next line starts.
#[allow(clippy::indexing_slicing)]
const fn line(file: &[u8], at: usize) -> (usize, usize, usize) {
    let mut end = at;
    while end < file.len() && file[end] != b'\n' {
        end += 1;
    }
    let mut start = at;
    while start < end && (file[start] == b' ' || file[start] == b'\t') {
        start += 1;
    }
    (start, end, end + 1)
}

/// Whether the line `start..end` is blank, a comment line, or inside a block comment
/// (`in_block`); notes whether a block comment goes on past it.
#[allow(clippy::indexing_slicing)]
const fn is_comment(file: &[u8], start: usize, end: usize, in_block: &mut bool) -> bool {
    let ends_block = end >= start + 2 && file[end - 2] == b'*' && file[end - 1] == b'/';
    if *in_block {
        *in_block = !ends_block;
        return true;
    }
    if start == end {
        return true;
    }
    if end >= start + 2 && file[start] == b'/' {
        if file[start + 1] == b'/' {
            return true;
        }
        if file[start + 1] == b'*' {
            *in_block = !ends_block;
            return true;
        }
    }
    false
}

/// How long a request may go unanswered before it fails (a 4K PNG takes well under a second;
/// this only guards against a worker that stopped answering).
pub const REQUEST_TIMEOUT_MS: u32 = 20_000;

/// How often the watchdog looks for requests past their deadline while any waits.
const WATCH_MS: u32 = 1_000;

/// How long the worker may take to instantiate the module (a few milliseconds normally).
const START_TIMEOUT_MS: u32 = 5_000;

#[wasm_bindgen]
extern "C" {
    /// A message that expects an answer: the link numbers it.
    #[wasm_bindgen(extends = Object)]
    pub type Request;
    #[wasm_bindgen(method, setter)]
    fn set_id(this: &Request, id: u32);

    /// What the worker posts: `{ ready, processor }`, `{ fatal }`, or an answer `{ id, … }`.
    /// Typed property accessors: the glue names the property, so no key string crosses from
    /// wasm on the snapshot's path.
    pub type Answer;
    #[wasm_bindgen(method, getter)]
    fn id(this: &Answer) -> Option<f64>;
    #[wasm_bindgen(method, getter)]
    fn ready(this: &Answer) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn processor(this: &Answer) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn fatal(this: &Answer) -> Option<String>;
    #[wasm_bindgen(method, getter)]
    pub fn code(this: &Answer) -> Option<f64>;
    #[wasm_bindgen(method, getter)]
    pub fn message(this: &Answer) -> Option<String>;
}

/// How waiting for the worker's start ended.
pub enum Started {
    Yes,
    /// It failed to start, or did not answer in time: it is stopped.
    No,
    Cancelled,
}

pub struct WorkerLink {
    worker: Worker,
    url: String,
    /// Resolves with `true` once the worker's instance is ready, `false` if it failed.
    ready: Promise,
    state: Rc<State>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut()>,
}

#[derive(Default)]
struct State {
    /// Each waiting request's `resolve` and its deadline (`wait::now_ms`).
    waiting: RefCell<VecMap<u32, (Function, f64)>>,
    next: Cell<u32>,
    /// The watchdog runs (see [`watch`]).
    watched: Cell<bool>,
    /// The worker said it is ready.
    started: Cell<bool>,
    /// It has `MediaStreamTrackProcessor`.
    processor: Cell<bool>,
    /// It failed, or was stopped: nothing more is sent.
    broken: Cell<bool>,
}

impl State {
    /// Answers every waiting request with `answer`.
    fn answer_all(&self, answer: &JsValue) {
        let waiting = std::mem::take(&mut *self.waiting.borrow_mut());
        for (resolve, _) in waiting.values() {
            let _ = resolve.call1(&JsValue::UNDEFINED, answer);
        }
    }
}

impl WorkerLink {
    /// Starts the worker; `None` where the page may not make one (a CSP without
    /// `worker-src blob:`) or cannot send it the module.
    pub fn start() -> Option<WorkerLink> {
        let (worker, url) = blob_worker(WORKER_SOURCE)?;
        let state = Rc::new(State::default());
        let mut ready_resolve = None;
        let ready = Promise::new(&mut |resolve, _| ready_resolve = Some(resolve));
        let ready_resolve = ready_resolve?;
        let on_message = {
            let state = state.clone();
            let ready_resolve = ready_resolve.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let data = event.data();
                let message: &Answer = data.unchecked_ref();
                if let Some(id) = message.id() {
                    let resolve = state.waiting.borrow_mut().remove(&(id as u32));
                    if let Some((resolve, _)) = resolve {
                        let _ = resolve.call1(&JsValue::UNDEFINED, &data);
                    }
                } else if message.ready().is_truthy() {
                    state.started.set(true);
                    state.processor.set(message.processor().is_truthy());
                    let _ = ready_resolve.call1(&JsValue::UNDEFINED, &JsValue::TRUE);
                } else if let Some(why) = message.fatal() {
                    js::warn(
                        "tracksnap: the encoder worker could not start:",
                        &why.into(),
                    );
                    state.broken.set(true);
                    let _ = ready_resolve.call1(&JsValue::UNDEFINED, &JsValue::FALSE);
                }
            })
        };
        let on_error = {
            let state = state.clone();
            Closure::<dyn FnMut()>::new(move || {
                state.broken.set(true);
                let _ = ready_resolve.call1(&JsValue::UNDEFINED, &JsValue::FALSE);
                state.answer_all(&failure(Code::EncodeFailed, "the encoder worker failed"));
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let link = WorkerLink {
            worker,
            url,
            ready,
            state,
            _on_message: on_message,
            _on_error: on_error,
        };
        // The compiled module, not its bytes: nothing is fetched or compiled again.
        link.worker.post_message(&wasm_bindgen::module()).ok()?;
        Some(link)
    }

    /// Waits (at most [`START_TIMEOUT_MS`]) until the worker has started. One that failed or
    /// did not answer in time is stopped.
    pub async fn started(&self, cancel: &Canceller) -> Started {
        if self.state.broken.get() {
            return Started::No;
        }
        if self.state.started.get() {
            return Started::Yes;
        }
        let cancelled = cancel.signal();
        let limit = timer(START_TIMEOUT_MS);
        let ok = match wait_for(Some(&self.ready), Some(&limit), Some(&cancelled)).await {
            Waited::Cancelled => return Started::Cancelled,
            Waited::Settled(outcome) => outcome.ok().and_then(|v| v.as_bool()) == Some(true),
            Waited::TimedOut => false,
        };
        if ok && !self.state.broken.get() {
            Started::Yes
        } else {
            self.stop();
            Started::No
        }
    }

    /// Resolves (never rejects) once the worker has started or failed to.
    pub fn ready(&self) -> &Promise {
        &self.ready
    }

    /// The worker works, or may still start.
    pub fn usable(&self) -> bool {
        !self.state.broken.get()
    }

    /// The worker has started and can read frames with `MediaStreamTrackProcessor`.
    pub fn has_processor(&self) -> bool {
        self.usable() && self.state.started.get() && self.state.processor.get()
    }

    /// Numbers `message`, posts it with `transfer`, and gives the promise of its answer,
    /// settled by the worker, by the watchdog after [`REQUEST_TIMEOUT_MS`] (`{ code, message }`),
    /// or by [`WorkerLink::stop`]. `None` when it could not be posted: the transfer list is
    /// still the caller's.
    pub fn request(&self, message: &Request, transfer: &Array) -> Option<Promise> {
        if self.state.broken.get() {
            return None;
        }
        let id = self.state.next.get().wrapping_add(1);
        self.state.next.set(id);
        let deadline = wait::now_ms() + f64::from(REQUEST_TIMEOUT_MS);
        let answer = Promise::new(&mut |resolve, _| {
            self.state
                .waiting
                .borrow_mut()
                .insert(id, (resolve, deadline));
        });
        message.set_id(id);
        if self
            .worker
            .post_message_with_transfer(message, transfer)
            .is_err()
        {
            self.state.waiting.borrow_mut().remove(&id);
            return None;
        }
        watch(&self.state);
        Some(answer)
    }

    /// Posts a message that has no answer; `false` when it could not be posted.
    pub fn post(&self, message: &JsValue, transfer: &Array) -> bool {
        !self.state.broken.get()
            && self
                .worker
                .post_message_with_transfer(message, transfer)
                .is_ok()
    }

    /// Ends the worker. Requests still waiting fail with `ERR_DESTROYED`; later ones are not
    /// sent, so the engine reads and encodes frames on the page from now on.
    pub fn stop(&self) {
        self.state.broken.set(true);
        let e = Error::destroyed();
        self.state.answer_all(&failure(e.code, &e.message));
        self.worker.terminate();
    }
}

impl Drop for WorkerLink {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
        let _ = Url::revoke_object_url(&self.url);
    }
}

/// Fails the requests the worker has not answered by their deadline, checking every
/// [`WATCH_MS`] for as long as any waits. One timer for all requests in flight, rather than
/// one set and cleared on the page's thread for each: snapshots a second or less apart set
/// none.
fn watch(state: &Rc<State>) {
    if state.watched.replace(true) {
        return;
    }
    let state: Weak<State> = Rc::downgrade(state);
    spawn_local(async move {
        loop {
            wait_for(None, Some(&timer(WATCH_MS)), None).await;
            // The engine is gone: its requests were answered when the link stopped.
            let Some(state) = state.upgrade() else {
                return;
            };
            let now = wait::now_ms();
            let overdue: Vec<Function> = {
                let mut waiting = state.waiting.borrow_mut();
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
                    &format!("the encoder worker did not answer within {REQUEST_TIMEOUT_MS} ms"),
                );
                for resolve in overdue {
                    let _ = resolve.call1(&JsValue::UNDEFINED, &answer);
                }
            }
            if state.waiting.borrow().is_empty() {
                state.watched.set(false);
                return;
            }
        }
    });
}

/// An answer that says the request failed: `{ code, message }`.
pub fn failure(code: Code, message: &str) -> JsValue {
    let o: JsValue = Object::new().into();
    set(&o, "code", &code.value().into());
    set(&o, "message", &message.into());
    o
}

/// A dedicated Worker running `source`, made from a Blob (no file to serve), with the Blob's
/// URL to revoke when it ends; `None` where the page may not make one (a CSP, say).
pub fn blob_worker(source: &str) -> Option<(Worker, String)> {
    let options = BlobPropertyBag::new();
    options.set_type("text/javascript");
    let parts = Array::of1(&JsValue::from_str(source));
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
    let url = Url::create_object_url_with_blob(&blob).ok()?;
    match Worker::new(&url) {
        Ok(worker) => Some((worker, url)),
        Err(_) => {
            let _ = Url::revoke_object_url(&url);
            None
        }
    }
}
