//! The timer that drives periodic tasks.
//!
//! A page's own timers are throttled when its tab is hidden (to once a second, and in
//! Chromium further after minutes); a dedicated Worker's timers are not, and its messages
//! reach the page promptly. So the clock is a tiny Worker (made from a Blob, no extra file to
//! serve) that posts a message when a deadline passes. Where a Worker cannot be made (a
//! Content-Security-Policy without `worker-src blob:`, say) the page's `setTimeout` stands in.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Url, Worker};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout, catch)]
    fn set_timeout(handler: &Function, ms: f64) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);

    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// The worker: each message re-arms one timeout (a negative delay only disarms it).
const WORKER_SOURCE: &str =
    "let t;onmessage=(e)=>{clearTimeout(t);if(e.data>=0)t=setTimeout(()=>postMessage(0),e.data);};";

/// Milliseconds on a monotonic clock (not moved by changes to the wall clock).
pub fn monotonic_ms() -> f64 {
    performance_now()
}

pub struct Clock {
    worker: Option<(Worker, String)>,
    /// Set when the worker reports an error (it may fail to load after `new Worker`
    /// succeeded): from then on the page's timer is used.
    worker_broken: Rc<Cell<bool>>,
    page_timer: Cell<Option<JsValue>>,
    /// Kept alive as long as the clock: the worker's `onmessage` and the page timer call it.
    fire: Closure<dyn FnMut()>,
    _on_message: Option<Closure<dyn FnMut(MessageEvent)>>,
    _on_error: Option<Closure<dyn FnMut()>>,
}

impl Clock {
    /// A clock that calls `on_fire` each time an armed deadline passes.
    pub fn new(on_fire: impl Fn() + 'static) -> Clock {
        let on_fire = Rc::new(on_fire);
        let fire = {
            let on_fire = on_fire.clone();
            Closure::<dyn FnMut()>::new(move || on_fire())
        };
        let worker_broken = Rc::new(Cell::new(false));
        let (worker, on_message, on_error) = match super::worker::blob_worker(WORKER_SOURCE) {
            Some(worker) => {
                let fire_on_message = on_fire.clone();
                let on_message =
                    Closure::<dyn FnMut(MessageEvent)>::new(move |_| fire_on_message());
                worker
                    .0
                    .set_onmessage(Some(on_message.as_ref().unchecked_ref()));
                // Firing lets the owner re-arm, which now goes to the page's timer.
                let broken = worker_broken.clone();
                let on_error = Closure::<dyn FnMut()>::new(move || {
                    broken.set(true);
                    on_fire();
                });
                worker
                    .0
                    .set_onerror(Some(on_error.as_ref().unchecked_ref()));
                (Some(worker), Some(on_message), Some(on_error))
            }
            None => (None, None, None),
        };
        Clock {
            worker,
            worker_broken,
            page_timer: Cell::new(None),
            fire,
            _on_message: on_message,
            _on_error: on_error,
        }
    }

    /// `"worker"` or `"page"`: where the timer runs.
    pub fn kind(&self) -> &'static str {
        if self.live_worker().is_some() {
            "worker"
        } else {
            "page"
        }
    }

    fn live_worker(&self) -> Option<&Worker> {
        match &self.worker {
            Some((worker, _)) if !self.worker_broken.get() => Some(worker),
            _ => None,
        }
    }

    /// Fires once, `delay_ms` from now, replacing any earlier deadline.
    pub fn arm(&self, delay_ms: f64) {
        let delay = delay_ms.max(0.0).min(f64::from(i32::MAX));
        match self.live_worker() {
            Some(worker) => {
                let _ = worker.post_message(&JsValue::from(delay));
            }
            None => {
                self.disarm_page_timer();
                if let Ok(id) = set_timeout(self.fire.as_ref().unchecked_ref(), delay) {
                    self.page_timer.set(Some(id));
                }
            }
        }
    }

    /// Cancels the deadline.
    pub fn disarm(&self) {
        if let Some(worker) = self.live_worker() {
            let _ = worker.post_message(&JsValue::from(-1));
        }
        self.disarm_page_timer();
    }

    fn disarm_page_timer(&self) {
        if let Some(id) = self.page_timer.take() {
            clear_timeout(&id);
        }
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        self.disarm_page_timer();
        if let Some((worker, url)) = &self.worker {
            worker.set_onmessage(None);
            worker.set_onerror(None);
            worker.terminate();
            let _ = Url::revoke_object_url(url);
        }
    }
}
