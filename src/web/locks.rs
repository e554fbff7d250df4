//! Who may send an outbox record. Every page of an origin shares the outbox, so a record must
//! be sent by one upload at a time:
//! - an engine holds a Web Lock named after it for its whole life, and writes its name into the
//!   records it keeps ([`EngineLock`]); a flush leaves alone the records of an engine that is
//!   alive (its first upload is sending them), so that first upload asks the browser for no
//!   lock (a lock per image cost the page's thread ~0.3 ms); a failed upload clears the name;
//! - a flush sends a record under a Web Lock on its key ([`Claim::locked`]);
//! - in a page, the keys being sent are marked ([`Claim::local`]), so a page never races itself,
//!   and two images under one key go in turn.
//!
//! A page that dies releases its locks. Where the browser has no Web Locks, only this page's
//! own claims are seen.

use std::cell::{Cell, RefCell};

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::js::{get, set};
use super::oneshot::{oneshot, Sender};
use super::wait::{timer, wait_for, Waited};

/// Waiting for a lock nobody else should hold, or for the browser's list of locks.
const LOCK_TIMEOUT_MS: u32 = 5_000;
const ENGINE_PREFIX: &str = "tracksnap-engine:";

/// A Web Lock asked for: `first` settles with the lock (`null` when asked `ifAvailable` and it
/// is held elsewhere), or rejects when the browser refuses (an opaque origin, say); `release`
/// gives it back.
struct LockRequest {
    first: Promise,
    release: Function,
}

/// Asks for the Web Lock `name`; `None` where the browser has no Web Locks.
fn request_lock(name: &str, if_available: bool) -> Option<LockRequest> {
    let locks = get(&get(&js_sys::global(), "navigator"), "locks");
    let request = get(&locks, "request").dyn_into::<Function>().ok()?;
    let mut release = None;
    // Held while this promise is pending: the lock callback returns it.
    let held = Promise::new(&mut |resolve, _| release = Some(resolve));
    let mut granted = None;
    let answered = Promise::new(&mut |resolve, _| granted = Some(resolve));
    let (release, granted) = (release?, granted?);
    let callback = Closure::once_into_js(move |lock: JsValue| {
        let _ = granted.call1(&JsValue::UNDEFINED, &lock);
        held
    });
    let options: JsValue = Object::new().into();
    set(&options, "ifAvailable", &if_available.into());
    let name = JsValue::from_str(name);
    let requested = Reflect::apply(&request, &locks, &Array::of3(&name, &options, &callback))
        .ok()?
        .dyn_into::<Promise>()
        .ok()?;
    // The request's own promise settles only once the lock is released, unless it is refused.
    Some(LockRequest {
        first: Promise::race(&Array::of2(&answered, &requested)),
        release,
    })
}

/// The Web Lock an engine holds while it lives, named after it.
pub struct EngineLock {
    name: String,
    request: Option<LockRequest>,
    /// Whether the lock is held: unknown until asked once.
    held: Cell<Option<bool>>,
}

impl EngineLock {
    /// Asks for a lock under a new name (answered later: see [`EngineLock::held`]).
    pub fn ask() -> EngineLock {
        let id = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
        let name = format!("{id:x}-{:x}", js_sys::Date::now() as u64);
        EngineLock {
            request: request_lock(&format!("{ENGINE_PREFIX}{name}"), false),
            name,
            held: Cell::new(None),
        }
    }

    /// The name records of this engine carry.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this engine holds its lock, so its records may name it; waits (bounded) for the
    /// browser's first answer.
    pub async fn held(&self) -> bool {
        if let Some(known) = self.held.get() {
            return known;
        }
        let held = match &self.request {
            Some(r) => matches!(
                wait_for(Some(&r.first), Some(&timer(LOCK_TIMEOUT_MS)), None).await,
                Waited::Settled(Ok(lock)) if !lock.is_null()
            ),
            None => false,
        };
        self.held.set(Some(held));
        held
    }

    /// Gives the lock back (`destroy()`): the engine's records are anyone's to send.
    pub fn release(&self) {
        if let Some(r) = &self.request {
            let _ = r.release.call0(&JsValue::UNDEFINED);
        }
    }
}

impl Drop for EngineLock {
    fn drop(&mut self) {
        self.release();
    }
}

/// The engines alive now, of every page of the origin (their locks held or asked for); `None`
/// where the browser cannot say.
pub async fn live_engines() -> Option<Vec<String>> {
    let locks = get(&get(&js_sys::global(), "navigator"), "locks");
    let query = get(&locks, "query").dyn_into::<Function>().ok()?;
    let asked = query.call0(&locks).ok()?.dyn_into::<Promise>().ok()?;
    let Waited::Settled(Ok(state)) =
        wait_for(Some(&asked), Some(&timer(LOCK_TIMEOUT_MS)), None).await
    else {
        return None;
    };
    let mut names = Vec::new();
    for list in ["held", "pending"] {
        for lock in Array::from(&get(&state, list)) {
            if let Some(name) = get(&lock, "name").as_string() {
                if let Some(engine) = name.strip_prefix(ENGINE_PREFIX) {
                    names.push(engine.to_string());
                }
            }
        }
    }
    Some(names)
}

thread_local! {
    /// Keys this page is sending, and the claims waiting for one of them (in order). A few at
    /// a time (the uploads in flight): lists are smaller code than maps.
    static HELD: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static WAITING: RefCell<Vec<(String, Sender<()>)>> = const { RefCell::new(Vec::new()) };
}

/// The right to send the records under one key, held until dropped.
pub struct Claim {
    key: Option<String>,
    release: Option<Function>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // The key passes to the next claim still waiting for it, else it is free.
            let next = WAITING.with(|waiting| {
                let mut waiting = waiting.borrow_mut();
                while let Some(at) = waiting.iter().position(|(k, _)| *k == key) {
                    let (_, next) = waiting.remove(at);
                    if next.is_awaited() {
                        return Some(next);
                    }
                }
                None
            });
            match next {
                Some(next) => next.send(()),
                None => HELD.with(|held| held.borrow_mut().retain(|k| *k != key)),
            }
        }
        if let Some(release) = self.release.take() {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    }
}

impl Claim {
    /// This page's claim on `key`, once the claims before it on the same key have ended.
    pub async fn local(key: &str) -> Claim {
        if let Some(claim) = Claim::try_local(key) {
            return claim;
        }
        let (sender, turn) = oneshot();
        WAITING.with(|waiting| waiting.borrow_mut().push((key.to_string(), sender)));
        // Handed over by the claim before (a claim's drop always hands over or frees).
        let _ = turn.await;
        Claim {
            key: Some(key.to_string()),
            release: None,
        }
    }

    /// This page's claim on `key`, or `None` while this page is sending it.
    pub fn try_local(key: &str) -> Option<Claim> {
        let free = HELD.with(|held| {
            let mut held = held.borrow_mut();
            let free = !held.iter().any(|k| k == key);
            if free {
                held.push(key.to_string());
            }
            free
        });
        free.then(|| Claim {
            key: Some(key.to_string()),
            release: None,
        })
    }

    /// This claim with the Web Lock on its key too, if no other page holds it (then `None`).
    pub async fn locked(mut self) -> Option<Claim> {
        let Some(key) = self.key.as_deref() else {
            return Some(self);
        };
        let Some(request) = request_lock(&format!("tracksnap-outbox:{key}"), true) else {
            return Some(self);
        };
        match wait_for(Some(&request.first), Some(&timer(LOCK_TIMEOUT_MS)), None).await {
            Waited::Settled(Ok(lock)) if lock.is_null() => None,
            Waited::Settled(Ok(_)) => {
                self.release = Some(request.release);
                Some(self)
            }
            // Refused: this page goes on without Web Locks.
            Waited::Settled(Err(_)) => Some(self),
            // Granted later, the lock is released at once (`held` resolves now).
            _ => {
                let _ = request.release.call0(&JsValue::UNDEFINED);
                None
            }
        }
    }
}
