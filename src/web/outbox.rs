//! The outbox: every image with storage is written to IndexedDB before its first upload attempt
//! and leaves it only after a 2xx (write-ahead), so a closed page, a crash or a reload loses
//! nothing. Every page of an origin shares it: the byte count is checked and changed in the
//! transaction that adds or removes a record, and a Web Lock per key makes one page at a time
//! send a record (a page that dies releases its locks).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, IdbTransactionMode};

use super::idb::{committed, result_of, Db, OUTBOX, OUTBOX_BYTES, OUTBOX_TOTAL};
use super::js::{self, browser_error, get, set, timer, wait_for, Waited};
use crate::core::error::{Code, Error};
use crate::core::retry::is_stuck;

/// Reading an image's bytes from its Blob (in memory).
const READ_TIMEOUT_MS: u32 = 10_000;
/// Waiting for the lock on a key nobody else should hold.
const CLAIM_TIMEOUT_MS: u32 = 5_000;
const TOTAL_ID: &str = "bytes";

/// One image to upload.
#[derive(Clone)]
pub struct Upload {
    pub key: String,
    pub content_type: String,
    pub blob: Blob,
    pub size: f64,
    /// What the outbox keeps beside the bytes (the event's metadata), and reports back.
    pub meta: JsValue,
    /// A task's own presign endpoint (`StorageConfig.PresignEndpoint`).
    pub endpoint: Option<String>,
}

/// An outbox record without its bytes.
pub struct Entry {
    pub id: JsValue,
    pub key: String,
    pub size: f64,
    pub record: JsValue,
}

/// Why an image could not be kept: the byte limit (`full`), or the browser.
pub struct NotKept {
    pub full: bool,
    pub outbox_bytes: f64,
    pub error: Error,
}

pub struct Outbox {
    db: Rc<Db>,
    max_bytes: u64,
    /// Records in the outbox as this engine last counted them (changed by its own adds and
    /// removes between counts).
    count: Cell<u32>,
    /// Whether IndexedDB keeps this engine's Blobs: unknown until the first write.
    blobs: Cell<Option<bool>>,
}

impl Outbox {
    pub fn new(db: Rc<Db>, max_bytes: u64) -> Outbox {
        Outbox {
            db,
            max_bytes,
            count: Cell::new(0),
            blobs: Cell::new(None),
        }
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Records in the outbox, as far as this engine knows.
    pub fn count(&self) -> u32 {
        self.count.get()
    }

    /// Writes `item` to the outbox; resolves with its record's id once committed.
    pub async fn admit(&self, item: &Upload) -> std::result::Result<JsValue, NotKept> {
        // The Blob itself where the engine keeps Blobs: at 1080p it costs the page's thread
        // ~0.4 ms against ~2 ms for its bytes (read, then cloned into the transaction). WebKit
        // refuses Blobs in a private or automation session (the transaction fails): there, and
        // after any such refusal, the bytes are kept.
        if self.blobs.get() != Some(false) {
            match self.write(item, item.blob.as_ref()).await {
                // Refused where Blobs are known to be kept: not for being a Blob.
                Err(not_kept) if not_kept.full || self.blobs.get() == Some(true) => {
                    return Err(not_kept)
                }
                Err(_) => {}
                Ok(id) => {
                    self.blobs.set(Some(true));
                    return Ok(id);
                }
            }
        }
        let read = item.blob.array_buffer();
        let image = match wait_for(Some(&read), Some(&timer(READ_TIMEOUT_MS)), None).await {
            Waited::Settled(Ok(image)) => image,
            _ => {
                return Err(NotKept {
                    full: false,
                    outbox_bytes: 0.0,
                    error: Error::new(
                        Code::OutboxFull,
                        "its bytes could not be read for the outbox",
                    ),
                })
            }
        };
        let written = self.write(item, &image).await;
        if written.is_ok() && self.blobs.get().is_none() {
            self.blobs.set(Some(false));
        }
        written
    }

    /// Adds `item`'s record, with `image` (its Blob or its bytes) beside it, and the byte count,
    /// in one transaction; resolves with the record's id once committed.
    async fn write(&self, item: &Upload, image: &JsValue) -> std::result::Result<JsValue, NotKept> {
        let not_kept = |full, outbox_bytes, error| NotKept {
            full,
            outbox_bytes,
            error,
        };
        let refused = |e: JsValue| {
            not_kept(
                false,
                0.0,
                browser_error(
                    Code::OutboxFull,
                    "the outbox (IndexedDB) could not keep it",
                    &e,
                ),
            )
        };
        let tx = self
            .db
            .transaction(
                &[OUTBOX, OUTBOX_BYTES, OUTBOX_TOTAL],
                IdbTransactionMode::Readwrite,
            )
            .await
            .map_err(refused)?;
        let used = total_in(&tx).await.map_err(refused)?;
        if used + item.size > self.max_bytes as f64 {
            let _ = tx.abort();
            return Err(not_kept(
                true,
                used,
                Error::new(
                    Code::OutboxFull,
                    format!("the outbox is full ({used} of {} bytes)", self.max_bytes),
                ),
            ));
        }
        let record: JsValue = Object::new().into();
        set(&record, "key", &item.key.as_str().into());
        set(&record, "contentType", &item.content_type.as_str().into());
        set(&record, "size", &item.size.into());
        set(&record, "meta", &item.meta);
        set(
            &record,
            "endpoint",
            &item
                .endpoint
                .as_deref()
                .map_or(JsValue::NULL, JsValue::from),
        );
        set(&record, "createdAt", &js::now_ms().into());
        set(&record, "attempts", &0.into());
        set(&record, "stuck", &false.into());
        let added = async {
            let id = result_of(&tx.object_store(OUTBOX)?.add(&record)?).await?;
            let bytes: JsValue = Object::new().into();
            set(&bytes, "id", &id);
            set(&bytes, "bytes", image);
            tx.object_store(OUTBOX_BYTES)?.put(&bytes)?;
            put_total(&tx, used + item.size)?;
            committed(&tx).await?;
            Ok::<JsValue, JsValue>(id)
        };
        let id = added.await.map_err(refused)?;
        self.count.set(self.count.get() + 1);
        Ok(id)
    }

    /// Removes the record `id` and its bytes; `Ok(false)` when it was already gone.
    pub async fn remove(&self, id: &JsValue) -> std::result::Result<bool, JsValue> {
        let tx = self
            .db
            .transaction(
                &[OUTBOX, OUTBOX_BYTES, OUTBOX_TOTAL],
                IdbTransactionMode::Readwrite,
            )
            .await?;
        let removed = async {
            let record = result_of(&tx.object_store(OUTBOX)?.get(id)?).await?;
            if record.is_undefined() {
                return Ok(false);
            }
            let used = total_in(&tx).await?;
            tx.object_store(OUTBOX)?.delete(id)?;
            tx.object_store(OUTBOX_BYTES)?.delete(id)?;
            let size = get(&record, "size").as_f64().unwrap_or(0.0);
            put_total(&tx, (used - size).max(0.0))?;
            committed(&tx).await?;
            Ok::<bool, JsValue>(true)
        };
        let removed = removed.await?;
        if removed {
            self.count.set(self.count.get().saturating_sub(1));
        }
        Ok(removed)
    }

    /// Counts a failed round on the record `id` (`attempts`, `lastStatus`, `lastError`) and
    /// marks it stuck when [`is_stuck`] says so; the record when it has just become stuck.
    pub async fn note_failure(
        &self,
        id: &JsValue,
        status: Option<u16>,
        message: &str,
    ) -> Option<JsValue> {
        let tx = self
            .db
            .transaction(&[OUTBOX], IdbTransactionMode::Readwrite)
            .await
            .ok()?;
        let store = tx.object_store(OUTBOX).ok()?;
        let record = result_of(&store.get(id).ok()?).await.ok()?;
        if record.is_undefined() {
            return None;
        }
        let attempts = get(&record, "attempts").as_f64().unwrap_or(0.0) as u32 + 1;
        let age = js::now_ms() - get(&record, "createdAt").as_f64().unwrap_or(js::now_ms());
        let was_stuck = get(&record, "stuck").is_truthy();
        let stuck = was_stuck || is_stuck(attempts, status, age);
        set(&record, "attempts", &attempts.into());
        set(
            &record,
            "lastStatus",
            &status.map_or(JsValue::NULL, JsValue::from),
        );
        set(&record, "lastError", &message.into());
        set(&record, "stuck", &stuck.into());
        store.put(&record).ok()?;
        committed(&tx).await.ok()?;
        (stuck && !was_stuck).then_some(record)
    }

    /// Every record, without bytes, oldest first; recounts this engine's figure.
    pub async fn entries(&self) -> std::result::Result<Vec<Entry>, JsValue> {
        let all = self.db.get_all(OUTBOX).await?;
        let entries: Vec<Entry> = all
            .iter()
            .filter_map(|record| {
                Some(Entry {
                    id: get(&record, "id"),
                    key: get(&record, "key").as_string()?,
                    size: get(&record, "size").as_f64().unwrap_or(0.0),
                    record,
                })
            })
            .collect();
        self.count.set(entries.len() as u32);
        Ok(entries)
    }

    /// The record `id` with its bytes as an [`Upload`]; `None` once it has left the outbox, or
    /// for a record this version cannot read.
    pub async fn load(&self, id: &JsValue) -> Option<Upload> {
        let tx = self
            .db
            .transaction(&[OUTBOX, OUTBOX_BYTES], IdbTransactionMode::Readonly)
            .await
            .ok()?;
        let record = result_of(&tx.object_store(OUTBOX).ok()?.get(id).ok()?)
            .await
            .ok()?;
        if record.is_undefined() {
            return None;
        }
        // Version 1 kept the bytes in the record.
        let inline = get(&record, "bytes");
        let bytes = if inline.is_undefined() && get(&record, "blob").is_undefined() {
            let kept = result_of(&tx.object_store(OUTBOX_BYTES).ok()?.get(id).ok()?)
                .await
                .ok()?;
            get(&kept, "bytes")
        } else {
            inline
        };
        from_record(&record, &bytes)
    }
}

/// The outbox's byte count in `tx`, summed from the records where no count was kept yet.
async fn total_in(tx: &web_sys::IdbTransaction) -> std::result::Result<f64, JsValue> {
    let total = result_of(&tx.object_store(OUTBOX_TOTAL)?.get(&TOTAL_ID.into())?).await?;
    if let Some(bytes) = get(&total, "bytes").as_f64() {
        return Ok(bytes);
    }
    let all: Array = result_of(&tx.object_store(OUTBOX)?.get_all()?)
        .await?
        .dyn_into()
        .unwrap_or_default();
    Ok(all
        .iter()
        .map(|r| get(&r, "size").as_f64().unwrap_or(0.0))
        .sum())
}

fn put_total(tx: &web_sys::IdbTransaction, bytes: f64) -> std::result::Result<(), JsValue> {
    let total: JsValue = Object::new().into();
    set(&total, "id", &TOTAL_ID.into());
    set(&total, "bytes", &bytes.into());
    tx.object_store(OUTBOX_TOTAL)?.put(&total)?;
    Ok(())
}

/// A record and its bytes as an [`Upload`].
fn from_record(record: &JsValue, bytes: &JsValue) -> Option<Upload> {
    let content_type = get(record, "contentType").as_string()?;
    let blob = if bytes.is_undefined() {
        // Records of the first versions held a Blob in the record.
        get(record, "blob").dyn_into().ok()?
    } else {
        // A kept Blob or its bytes: a Blob of either, typed (a Blob part is not copied).
        let options = BlobPropertyBag::new();
        options.set_type(&content_type);
        Blob::new_with_buffer_source_sequence_and_options(&Array::of1(bytes), &options).ok()?
    };
    Some(Upload {
        key: get(record, "key").as_string()?,
        content_type,
        blob,
        size: get(record, "size").as_f64()?,
        meta: get(record, "meta"),
        endpoint: get(record, "endpoint").as_string(),
    })
}

thread_local! {
    /// Keys this page's claims hold: a page never races itself, with or without Web Locks.
    /// A few keys at a time (the uploads in flight): a list is smaller code than a set.
    static HELD: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// A Web Lock on one outbox key, held until dropped: one page at a time sends a record. Where
/// the browser has no Web Locks, only this page's own claims are seen.
pub struct Claim {
    key: Option<String>,
    release: Option<Function>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            HELD.with(|held| held.borrow_mut().retain(|k| *k != key));
        }
        if let Some(release) = self.release.take() {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    }
}

impl Claim {
    /// The lock on `key`, waiting for it (bounded); `wait: false` gives `None` at once when
    /// another page or upload holds it.
    pub async fn take(key: &str, wait: bool) -> Option<Claim> {
        let mine = HELD.with(|held| {
            let mut held = held.borrow_mut();
            let free = !held.iter().any(|k| k == key);
            if free {
                held.push(key.to_string());
            }
            free
        });
        if !mine && !wait {
            return None;
        }
        // A second image under a key this page is sending is not marked (the first unmarks).
        let mut claim = Claim {
            key: mine.then(|| key.to_string()),
            release: None,
        };
        let locks = get(&get(&js_sys::global(), "navigator"), "locks");
        let Ok(request) = get(&locks, "request").dyn_into::<Function>() else {
            return Some(claim);
        };
        let mut release = None;
        // Held while this promise is pending: the lock callback returns it.
        let held = Promise::new(&mut |resolve, _| release = Some(resolve));
        let mut granted = None;
        let answered = Promise::new(&mut |resolve, _| granted = Some(resolve));
        let (Some(release), Some(granted)) = (release, granted) else {
            return Some(claim);
        };
        let callback = Closure::once_into_js(move |lock: JsValue| {
            let _ = granted.call1(&JsValue::UNDEFINED, &lock);
            held
        });
        let options: JsValue = Object::new().into();
        set(&options, "ifAvailable", &(!wait).into());
        let name = JsValue::from_str(&format!("tracksnap-outbox:{key}"));
        let Some(requested) =
            Reflect::apply(&request, &locks, &Array::of3(&name, &options, &callback))
                .ok()
                .and_then(|p| p.dyn_into::<Promise>().ok())
        else {
            return Some(claim);
        };
        // The request's own promise settles only once the lock is released, unless it is refused
        // (an opaque origin, say): then this page goes on without Web Locks.
        let first = Promise::race(&Array::of2(&answered, &requested));
        match wait_for(Some(&first), Some(&timer(CLAIM_TIMEOUT_MS)), None).await {
            // `null`: held elsewhere (ifAvailable).
            Waited::Settled(Ok(lock)) if lock.is_null() => None,
            Waited::Settled(Ok(_)) => {
                claim.release = Some(release);
                Some(claim)
            }
            Waited::Settled(Err(_)) => Some(claim),
            // Granted later, the lock is released at once (`held` resolves now).
            _ => {
                let _ = release.call0(&JsValue::UNDEFINED);
                wait.then_some(claim)
            }
        }
    }
}
