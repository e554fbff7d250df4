//! Time on this thread: timers, waiting for a promise with a time limit and a cancel switch,
//! aborting a fetch that is no longer wanted, and the clocks.
//!
//! Every import here that can throw is declared `catch`: an exception unwinding through wasm
//! frames would skip destructors and leave `RefCell`s borrowed for good.

use std::cell::{Cell, RefCell};

use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, RequestInit};

use crate::core::map::VecMap;

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

    /// Any promise, for `then` with both handlers (web-sys's `then2` wants `Closure`s).
    #[wasm_bindgen(js_name = Promise)]
    type AnyPromise;

    #[wasm_bindgen(method, catch, js_name = then)]
    fn then_both(this: &AnyPromise, ok: &Function, err: &Function) -> Result<JsValue, JsValue>;

    /// `performance.now()`: window and Worker alike.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    pub fn perf_now() -> f64;
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
    waits: RefCell<VecMap<u64, Function>>,
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
