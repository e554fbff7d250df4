//! A task's `StorageConfig.LatestKey`: each kept image is written a second time, to a key that
//! the stream's next image overwrites, so a dashboard can show the newest picture without
//! listing the bucket.
//!
//! One write per key at a time, newest image first: an image older than one already written
//! or waiting for the key is dropped, and a waiting newer image stops the retries of the one
//! being sent. Nothing here is kept in the outbox: a lost write is replaced by the next image.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Object;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;

use super::events::Emitter;
use super::js::set;
use super::outbox::Upload;
use super::upload::Uploader;
use crate::core::error::Code;
use crate::core::map::VecMap;

/// Fired when a latest write ends: `{ key, imageKey, url }` or `{ key, imageKey, code, message }`.
pub const LATEST_UPLOAD: &str = "latestupload";
/// Keys remembered at most (a template with `{utc}` gives one per image): past it the idle key
/// written longest ago is forgotten.
const KEYS_KEPT: usize = 256;

#[derive(Default)]
struct Slot {
    /// Capture time of the newest image written or waiting for this key.
    newest_ms: f64,
    waiting: Option<Waiting>,
    /// A write for this key is under way.
    busy: bool,
}

struct Waiting {
    item: Upload,
    image_key: String,
}

/// The latest writes of an engine's tasks.
pub struct LatestWriter {
    uploader: Rc<Uploader>,
    emitter: Rc<Emitter>,
    slots: RefCell<VecMap<String, Slot>>,
}

impl LatestWriter {
    pub fn new(uploader: Rc<Uploader>, emitter: Rc<Emitter>) -> Rc<LatestWriter> {
        Rc::new(LatestWriter {
            uploader,
            emitter,
            slots: RefCell::new(VecMap::default()),
        })
    }

    /// Writes `item` (its `key` the rendered latest key) once the key's current write ends,
    /// unless a newer image for the key comes first. `image_key` names the kept image.
    pub fn offer(self: &Rc<Self>, item: Upload, image_key: String, taken_ms: f64) {
        let key = item.key.clone();
        let start = {
            let mut slots = self.slots.borrow_mut();
            if !slots.contains_key(&key) && slots.len() >= KEYS_KEPT {
                let idle = slots
                    .iter()
                    .filter(|(_, s)| !s.busy)
                    .min_by(|a, b| a.1.newest_ms.total_cmp(&b.1.newest_ms))
                    .map(|(k, _)| k.clone());
                match idle {
                    Some(k) => {
                        slots.remove(&k);
                    }
                    // Every key is being written: this copy is skipped, its image is kept.
                    None => return,
                }
            }
            let slot = slots.get_or_insert_with(key.clone(), Slot::default);
            if taken_ms <= slot.newest_ms {
                return;
            }
            slot.newest_ms = taken_ms;
            slot.waiting = Some(Waiting { item, image_key });
            !std::mem::replace(&mut slot.busy, true)
        };
        if start {
            let this = Rc::clone(self);
            spawn_local(async move { this.write_all(key).await });
        }
    }

    /// Writes the key's waiting images, newest only, until none waits.
    async fn write_all(&self, key: String) {
        loop {
            let next = self
                .slots
                .borrow_mut()
                .get_mut(&key)
                .and_then(|s| s.waiting.take());
            let Some(Waiting { item, image_key }) = next else {
                if let Some(slot) = self.slots.borrow_mut().get_mut(&key) {
                    slot.busy = false;
                }
                return;
            };
            let newer_waits = || {
                self.slots
                    .borrow()
                    .get(&key)
                    .is_some_and(|s| s.waiting.is_some())
            };
            let written = self.uploader.write_copy(&item, &newer_waits).await;
            let detail: JsValue = Object::new().into();
            set(&detail, "key", &key.as_str().into());
            set(&detail, "imageKey", &image_key.as_str().into());
            match written {
                Ok(url) => set(&detail, "url", &url.as_str().into()),
                // A newer image is written next; the engine is gone: nobody needs to hear.
                Err(e) if e.code == Code::Destroyed || newer_waits() => continue,
                Err(e) => {
                    set(&detail, "code", &e.code.value().into());
                    set(&detail, "message", &e.message.as_str().into());
                }
            }
            self.emitter.dispatch(LATEST_UPLOAD, &detail);
        }
    }
}
