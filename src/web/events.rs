//! The one way results leave the engine: the NERTC-style handler object and DOM events.
//!
//! Results are delivered from spawned tasks, after the call that started them has returned,
//! and no Rust borrow is held while caller code runs, so a handler may call back into the
//! engine. A handler or listener that throws is reported on the console; delivery continues.

use std::cell::RefCell;

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CustomEvent, CustomEventInit, EventTarget};

use super::js::{self, get};
use super::wait;
use crate::core::error::{Code, Error, Result};

/// The event fired for every on-demand snapshot.
pub const TAKE_SNAPSHOT_RESULT: &str = "takesnapshotresult";

/// The event fired on every engine when tracksnap itself fails (a panic).
pub const ERROR: &str = "error";

thread_local! {
    /// The event targets of the engines alive now, for [`report_panic`].
    static TARGETS: RefCell<Vec<EventTarget>> = const { RefCell::new(Vec::new()) };
}

#[wasm_bindgen]
extern "C" {
    /// An `EventTarget` whose listener may be a function or an object with `handleEvent`,
    /// passed through as-is.
    #[wasm_bindgen(js_name = EventTarget)]
    type Listenable;

    #[wasm_bindgen(method, catch, js_name = addEventListener)]
    fn add_listener(
        this: &Listenable,
        kind: &str,
        listener: &JsValue,
        options: &JsValue,
    ) -> std::result::Result<(), JsValue>;

    #[wasm_bindgen(method, catch, js_name = removeEventListener)]
    fn remove_listener(
        this: &Listenable,
        kind: &str,
        listener: &JsValue,
        options: &JsValue,
    ) -> std::result::Result<(), JsValue>;
}

pub struct Emitter {
    target: EventTarget,
    handler: RefCell<JsValue>,
}

impl Emitter {
    pub fn new() -> Result<Emitter> {
        let target = EventTarget::new().map_err(|e| {
            Error::new(
                crate::core::error::Code::NotSupported,
                js::describe_exception(&e),
            )
        })?;
        TARGETS.with(|targets| {
            if let Ok(mut targets) = targets.try_borrow_mut() {
                targets.push(Clone::clone(&target));
            }
        });
        Ok(Emitter {
            target,
            handler: RefCell::new(JsValue::UNDEFINED),
        })
    }

    /// `setEventHandler(handler)`: an object whose methods are looked up at each delivery,
    /// or `null`/`undefined` to remove it.
    pub fn set_handler(&self, handler: JsValue) -> Result<()> {
        if !(handler.is_object() || handler.is_undefined() || handler.is_null())
            || handler.is_function()
        {
            return Err(Error::invalid_param(format!(
                "setEventHandler takes an object such as {{ onTakeSnapshotResult(code, path, result) {{}} }} or null; got {}",
                js::to_value(&handler).describe()
            )));
        }
        *self.handler.borrow_mut() = handler;
        Ok(())
    }

    pub fn add_listener(
        &self,
        kind: &JsValue,
        listener: &JsValue,
        options: &JsValue,
    ) -> Result<()> {
        let kind = event_type(kind)?;
        let added = self.listenable().add_listener(&kind, listener, options);
        added.map_err(|e| listener_error("addEventListener", &e))
    }

    pub fn remove_listener(
        &self,
        kind: &JsValue,
        listener: &JsValue,
        options: &JsValue,
    ) -> Result<()> {
        let kind = event_type(kind)?;
        let removed = self.listenable().remove_listener(&kind, listener, options);
        removed.map_err(|e| listener_error("removeEventListener", &e))
    }

    fn listenable(&self) -> &Listenable {
        self.target.unchecked_ref()
    }

    /// Delivers one snapshot result: `handler.onTakeSnapshotResult(code, path, result)`, then
    /// the `takesnapshotresult` event with the result as `detail`.
    pub fn snapshot_result(&self, code: i32, path: &str, result: &JsValue) {
        let handler = self.handler.borrow().clone();
        // No handler set: reading a property of `undefined` would throw, and an exception per
        // snapshot costs the page's thread more than the rest of the delivery.
        if !handler.is_object() {
            self.dispatch(TAKE_SNAPSHOT_RESULT, result);
            return;
        }
        if let Ok(method) = get(&handler, "onTakeSnapshotResult").dyn_into::<Function>() {
            if let Err(e) = method.call3(&handler, &code.into(), &path.into(), result) {
                js::warn("tracksnap: onTakeSnapshotResult threw", &e);
            }
        }
        self.dispatch(TAKE_SNAPSHOT_RESULT, result);
    }

    /// Fires a `CustomEvent` of `kind` with `detail`. Listeners that throw are reported by the
    /// browser itself and do not stop the others.
    pub fn dispatch(&self, kind: &str, detail: &JsValue) {
        let init = CustomEventInit::new();
        init.set_detail(detail);
        match CustomEvent::new_with_event_init_dict(kind, &init) {
            Ok(event) => {
                let _ = self.target.dispatch_event(&event);
            }
            Err(e) => js::warn("tracksnap: could not create an event", &e),
        }
    }
}

impl Drop for Emitter {
    fn drop(&mut self) {
        TARGETS.with(|targets| {
            if let Ok(mut targets) = targets.try_borrow_mut() {
                targets.retain(|t| *t != self.target);
            }
        });
    }
}

/// Tells every engine that tracksnap failed (called by the panic hook): an `error` event with
/// `{ code: 30001, codeName: "ERR_FATAL", message }`, dispatched from a timer once the failing
/// call has unwound, by the browser alone (`dispatchEvent` bound to the target), so no code of
/// the broken module runs on the way.
pub fn report_panic(message: &str) {
    let targets = TARGETS.with(|t| t.try_borrow().map(|t| t.clone()).unwrap_or_default());
    for target in targets {
        let detail: JsValue = Object::new().into();
        js::set(&detail, "code", &Code::Fatal.value().into());
        js::set(&detail, "codeName", &Code::Fatal.name().into());
        js::set(
            &detail,
            "message",
            &format!("tracksnap failed (a bug; reload the page to use it again): {message}").into(),
        );
        let init = CustomEventInit::new();
        init.set_detail(&detail);
        let Ok(event) = CustomEvent::new_with_event_init_dict(ERROR, &init) else {
            continue;
        };
        let dispatch = Reflect::get(&target, &"dispatchEvent".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        if let Some(dispatch) = dispatch {
            let bound: JsValue = dispatch.bind1(&target, &event).into();
            wait::later(bound.unchecked_ref());
        }
    }
}

/// What the EventTarget threw for a bad listener or options, as ERR_INVALID_PARAM.
fn listener_error(call: &str, e: &JsValue) -> Error {
    Error::invalid_param(format!("{call}: {}", js::describe_exception(e)))
}

fn event_type(kind: &JsValue) -> Result<String> {
    kind.as_string().filter(|s| !s.is_empty()).ok_or_else(|| {
        Error::invalid_param(format!(
            "the event type must be a non-empty string such as \"{TAKE_SNAPSHOT_RESULT}\"; got {}",
            js::to_value(kind).describe()
        ))
    })
}
