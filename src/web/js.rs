//! Small bridges to JavaScript that the rest of `web` shares: reading caller values safely,
//! errors with codes, timers, and waiting for a promise with a time limit and a cancel switch.
//!
//! Every import here that can throw is declared `catch`: an exception unwinding through wasm
//! frames would skip destructors and leave `RefCell`s borrowed for good.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Blob, BlobPropertyBag, RequestInit, Url, Worker};

use crate::core::error::{Code, Error};
use crate::core::value::Value;

#[wasm_bindgen]
extern "C" {
    // Global functions, not `window.*`: the same code runs in a Worker.
    #[wasm_bindgen(js_name = setTimeout, catch)]
    fn set_timeout(handler: &Function, ms: i32) -> Result<JsValue, JsValue>;

    /// `setTimeout(handler, ms, argument)`: the handler is called with `argument`.
    #[wasm_bindgen(js_name = setTimeout, catch)]
    fn set_timeout_with(
        handler: &Function,
        ms: i32,
        argument: &JsValue,
    ) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);

    #[wasm_bindgen(js_name = setInterval, catch)]
    fn set_interval(handler: &Function, ms: i32) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = clearInterval)]
    fn clear_interval(id: &JsValue);

    #[wasm_bindgen(js_namespace = Object, js_name = entries, catch)]
    fn object_entries(v: &JsValue) -> Result<Array, JsValue>;

    #[wasm_bindgen(js_namespace = Array, js_name = isArray, catch)]
    fn is_array(v: &JsValue) -> Result<bool, JsValue>;

    /// Any promise, for `then` with both handlers (web-sys's `then2` wants `Closure`s).
    #[wasm_bindgen(js_name = Promise)]
    type AnyPromise;

    #[wasm_bindgen(method, catch, js_name = then)]
    fn then_both(this: &AnyPromise, ok: &Function, err: &Function) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = console, js_name = warn, catch)]
    fn console_warn(a: &str, b: &JsValue) -> Result<(), JsValue>;

    /// `performance.now()`: window and Worker alike.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    pub fn perf_now() -> f64;
}

/// Objects nested deeper than this are not read (a caller's cyclic object cannot hang us).
const MAX_DEPTH: usize = 8;
/// Arrays and objects with more entries than this are not read.
const MAX_ENTRIES: u32 = 10_000;

/// The shape of a caller's value, read without running into exceptions (getters and proxies
/// that throw give `Other`).
pub fn to_value(v: &JsValue) -> Value {
    read_value(v, 0)
}

fn read_value(v: &JsValue, depth: usize) -> Value {
    // The common kinds first: each test is a call into JavaScript.
    if let Some(n) = v.as_f64() {
        return Value::Number(n);
    }
    if let Some(s) = v.as_string() {
        return Value::String(s);
    }
    if v.is_undefined() {
        return Value::Undefined;
    }
    if v.is_null() {
        return Value::Null;
    }
    if let Some(b) = v.as_bool() {
        return Value::Bool(b);
    }
    if v.is_function() {
        return Value::Other("function".into());
    }
    if v.is_symbol() {
        return Value::Other("symbol".into());
    }
    if v.is_bigint() {
        return Value::Other("bigint".into());
    }
    if !v.is_object() {
        return Value::Other("value of unknown type".into());
    }
    if depth >= MAX_DEPTH {
        return Value::Other("too deeply nested object".into());
    }
    let Ok(entries) = object_entries(v) else {
        return Value::Other("object whose properties cannot be read".into());
    };
    if entries.length() > MAX_ENTRIES {
        return Value::Other(format!("object with {} entries", entries.length()));
    }
    let pairs = entries.iter().filter_map(|pair| {
        // `Object.entries` gives `[key, value]` arrays with string keys.
        let pair: Array = pair.unchecked_into();
        Some((
            pair.get(0).as_string()?,
            read_value(&pair.get(1), depth + 1),
        ))
    });
    if is_array(v).unwrap_or(false) {
        Value::Array(pairs.map(|(_, v)| v).collect())
    } else {
        Value::Object(pairs.collect())
    }
}

/// A JavaScript `Error` carrying the numeric `code`, its symbolic `codeName` and the message.
pub fn error_value(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    err.set_name("TrackSnapError");
    let obj: &JsValue = err.as_ref();
    set(obj, "code", &JsValue::from(e.code.value()));
    set(obj, "codeName", &JsValue::from_str(e.code.name()));
    err.into()
}

/// Sets a property on an object we created; such a set cannot fail.
pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// A property of a caller's object; `undefined` when reading it throws.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Calls `f` from a timer, with nothing of ours on the stack.
pub fn later(f: &Function) {
    let _ = set_timeout(f, 0);
}

/// A `setInterval` calling `f` every `ms` milliseconds until dropped; `None` where timers
/// cannot be set.
pub struct Interval {
    id: JsValue,
    _f: Closure<dyn FnMut()>,
}

impl Interval {
    pub fn start(ms: u32, f: Closure<dyn FnMut()>) -> Option<Interval> {
        let ms = ms.min(i32::MAX as u32) as i32;
        set_interval(f.as_ref().unchecked_ref(), ms)
            .ok()
            .map(|id| Interval { id, _f: f })
    }
}

impl Drop for Interval {
    fn drop(&mut self) {
        clear_interval(&self.id);
    }
}

thread_local! {
    /// What a [`Timer`]'s promise resolves with when its time is up, and a [`CancelSignal`]'s
    /// when the canceller is flipped: objects no other promise can resolve with, so that
    /// [`wait_for`] tells who won a `Promise.race` by the value alone.
    static TIMED_OUT: JsValue = js_sys::Object::new().into();
    static CANCELLED: JsValue = js_sys::Object::new().into();
}

/// A promise that resolves after `ms` milliseconds, or when the timer is dropped.
///
/// Dropping clears the browser's timer: a wait that ended otherwise (the frame came, the
/// worker answered) leaves nothing to fire later on the page's thread — a snapshot used to
/// leave a 20 ms poll and a 20 s job timeout behind. It also settles the promise, so that
/// whatever awaited it (a `JsFuture`'s closures) is freed rather than kept until it fires.
pub struct Timer {
    pub promise: Promise,
    id: JsValue,
    resolve: Option<Function>,
}

pub fn timer(ms: u32) -> Timer {
    let mut resolve = None;
    let promise = Promise::new(&mut |r, _| resolve = Some(r));
    let id = resolve
        .as_ref()
        .and_then(|r| {
            let ms = ms.min(i32::MAX as u32) as i32;
            TIMED_OUT.with(|value| set_timeout_with(r, ms, value).ok())
        })
        .unwrap_or(JsValue::UNDEFINED);
    Timer {
        promise,
        id,
        resolve,
    }
}

impl std::ops::Deref for Timer {
    type Target = Promise;

    fn deref(&self) -> &Promise {
        &self.promise
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.id);
        if let Some(resolve) = self.resolve.take() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }
}

/// The switch that `destroy()` flips for the waits of one part of an engine.
///
/// Each wait races against its own promise ([`Canceller::signal`]), which settles when the wait
/// ends or when [`Canceller::cancel`] is called. Racing every wait against one promise that
/// settles only at `destroy()` would keep a reaction on it — and, in wasm, the `JsFuture`'s two
/// closures — for every wait the engine ever made: the soak measured about 2 KB per uploaded
/// image that way.
#[derive(Default)]
pub struct Canceller {
    cancelled: Cell<bool>,
    waits: RefCell<BTreeMap<u64, Function>>,
    next: Cell<u64>,
}

impl Canceller {
    pub fn new() -> Canceller {
        Canceller::default()
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.get()
    }

    /// Settles every signal handed out and every later one.
    pub fn cancel(&self) {
        self.cancelled.set(true);
        let waits = std::mem::take(&mut *self.waits.borrow_mut());
        CANCELLED.with(|value| {
            for resolve in waits.into_values() {
                let _ = resolve.call1(&JsValue::UNDEFINED, value);
            }
        });
    }

    /// A promise for one wait, resolved by [`Canceller::cancel`] or when the returned guard
    /// drops (which lets the browser and wasm free what awaited it).
    pub fn signal(&self) -> CancelSignal<'_> {
        if self.cancelled.get() {
            return CancelSignal {
                promise: CANCELLED.with(Promise::resolve),
                owner: self,
                id: None,
            };
        }
        let id = self.next.get().wrapping_add(1);
        self.next.set(id);
        let mut resolve = None;
        let promise = Promise::new(&mut |r, _| resolve = Some(r));
        if let Some(r) = resolve {
            self.waits.borrow_mut().insert(id, r);
        }
        CancelSignal {
            promise,
            owner: self,
            id: Some(id),
        }
    }
}

/// One wait's cancel promise; see [`Canceller::signal`].
pub struct CancelSignal<'a> {
    pub promise: Promise,
    owner: &'a Canceller,
    id: Option<u64>,
}

impl Drop for CancelSignal<'_> {
    fn drop(&mut self) {
        let Some(id) = self.id else {
            return;
        };
        let resolve = self.owner.waits.borrow_mut().remove(&id);
        if let Some(resolve) = resolve {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }
}

/// One fetch attempt's `AbortController`: dropping it aborts the fetch, so an attempt that
/// timed out or was cancelled stops sending (after a completed fetch, the abort does nothing).
pub struct Attempt(AbortController);

impl Attempt {
    pub fn new(init: &RequestInit) -> Result<Attempt, JsValue> {
        let controller = AbortController::new()?;
        init.set_signal(Some(&controller.signal()));
        Ok(Attempt(controller))
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How a [`wait_for`] ended.
#[derive(Debug)]
pub enum Waited {
    /// The awaited promise settled first: its value, or what it rejected with.
    Settled(Result<JsValue, JsValue>),
    /// The timer fired first.
    TimedOut,
    /// The canceller was flipped first.
    Cancelled,
}

/// Waits for `work` to settle, for `limit` to fire, or for `cancel`, whichever comes first
/// (in that order of precedence when several have already). One `Promise.race` and one
/// `JsFuture`, however many are raced: a `JsFuture` makes two wasm closures, and these waits
/// run on the page's thread for every snapshot.
///
/// The losers keep running: a caller that abandons a promise which may still yield a resource
/// must clean up after it (see `capture::close_when_settled`).
pub async fn wait_for(
    work: Option<&Promise>,
    limit: Option<&Timer>,
    cancel: Option<&CancelSignal<'_>>,
) -> Waited {
    let racers = Array::new();
    for p in [work, limit.map(|t| &t.promise), cancel.map(|c| &c.promise)]
        .into_iter()
        .flatten()
    {
        racers.push(p);
    }
    match JsFuture::from(Promise::race(&racers)).await {
        Ok(v) if TIMED_OUT.with(|t| *t == v) => Waited::TimedOut,
        Ok(v) if CANCELLED.with(|c| *c == v) => Waited::Cancelled,
        outcome => Waited::Settled(outcome),
    }
}

/// Runs `handler` with whatever `promise` settles to, so an abandoned promise's rejection is
/// not reported as unhandled and a late value can be cleaned up.
pub fn settle_quietly(promise: &Promise, handler: &Function) {
    let _ = promise
        .unchecked_ref::<AnyPromise>()
        .then_both(handler, handler);
}

/// `name: message` of a thrown value (a `DOMException`, an `Error`, or anything else).
pub fn describe_exception(e: &JsValue) -> String {
    let name = get(e, "name").as_string();
    let message = get(e, "message").as_string();
    match (name, message) {
        (Some(n), Some(m)) if !m.is_empty() => format!("{n}: {m}"),
        (Some(n), _) => n,
        (None, Some(m)) => m,
        (None, None) => e.as_string().unwrap_or_else(|| "unknown error".into()),
    }
}

/// An error of `code` whose message ends with what the browser said.
pub fn browser_error(code: Code, what: &str, e: &JsValue) -> Error {
    Error::new(code, format!("{what}: {}", describe_exception(e)))
}

/// Reports a problem in the caller's own code (a throwing handler) without stopping ours.
pub fn warn(message: &str, e: &JsValue) {
    let _ = console_warn(message, e);
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Runs `work` and gives, beside its output, the milliseconds its polls held this thread: the
/// part of it that blocks the page, without the waits between.
pub async fn timed<T>(work: impl std::future::Future<Output = T>) -> (T, f64) {
    let mut work = std::pin::pin!(work);
    let mut busy = 0.0;
    let out = std::future::poll_fn(|cx| {
        let t = perf_now();
        let polled = work.as_mut().poll(cx);
        busy += perf_now() - t;
        polled
    })
    .await;
    (out, busy)
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
