//! The outbox: every image with storage is written to IndexedDB before its first upload attempt
//! and leaves it only after a 2xx (write-ahead), so a closed page, a crash or a reload loses
//! nothing. Every page of an origin shares it: the byte count is checked and changed in the
//! transaction that adds or removes a record, and each record names the engine that keeps it,
//! so that one upload at a time sends it (see [`super::locks`]).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, IdbTransactionMode};

use super::idb::{
    committed, result_of, Db, Issued, Watched, NO_ANSWER, OUTBOX, OUTBOX_BYTES, OUTBOX_TOTAL,
};
use super::js::{browser_error, get, set};
use super::locks::EngineLock;
use super::oneshot::{oneshot, Sender};
use super::wait::{self, timer, wait_for, Waited};
use crate::core::digits::display_f64;
use crate::core::error::{Code, Error};
use crate::core::naming::outbox_id;
use crate::core::retry::is_stuck;

/// Reading an image's bytes from its Blob (in memory).
const READ_TIMEOUT_MS: u32 = 10_000;
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

/// An image kept in the outbox: its record's id, and its share of the page's thread the
/// writer's transaction took (the writer runs apart from the caller's own polls).
pub struct Kept {
    pub id: JsValue,
    pub writer_ms: f64,
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
    /// Adds and removes go through it, a batch per transaction.
    writer: Rc<Writer>,
    /// Records in the outbox as this engine last counted them (changed by its own adds and
    /// removes between counts).
    count: Cell<u32>,
    /// Named in this engine's records while it holds it: no flush sends them meanwhile.
    engine: EngineLock,
    /// Numbers this engine's records (see [`outbox_id`]).
    seq: Cell<u32>,
}

impl Outbox {
    pub fn new(db: Rc<Db>, max_bytes: u64) -> Outbox {
        Outbox {
            writer: Rc::new(Writer {
                db: db.clone(),
                max_bytes,
                queue: RefCell::new(VecDeque::new()),
                running: Cell::new(false),
                blobs: Cell::new(None),
            }),
            db,
            max_bytes,
            count: Cell::new(0),
            engine: EngineLock::ask(),
            seq: Cell::new(0),
        }
    }

    /// Whether this engine's records name it (it holds its Web Lock): then no other upload
    /// sends them while it lives, and its own need no lock per key.
    pub async fn owned(&self) -> bool {
        self.engine.held().await
    }

    /// This engine's name in its records.
    pub fn engine(&self) -> &str {
        self.engine.name()
    }

    /// `destroy()`: this engine's records are anyone's to send.
    pub fn release(&self) {
        self.engine.release();
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Records in the outbox, as far as this engine knows.
    pub fn count(&self) -> u32 {
        self.count.get()
    }

    /// Writes `item` to the outbox; resolves once committed.
    pub async fn admit(&self, item: &Upload) -> std::result::Result<Kept, NotKept> {
        // The Blob itself where the engine keeps Blobs: at 1080p it costs the page's thread
        // ~0.4 ms against ~2 ms for its bytes (read, then cloned into the transaction). WebKit
        // refuses Blobs in a private or automation session (the transaction fails): there, and
        // after any such refusal, the bytes are kept.
        let blobs = &self.writer.blobs;
        if blobs.get() != Some(false) {
            match self.write(item, item.blob.as_ref()).await {
                // Refused where Blobs are known to be kept: not for being a Blob.
                Err(not_kept) if not_kept.full || blobs.get() == Some(true) => {
                    return Err(not_kept)
                }
                Err(_) => {}
                // The writer has noted that Blobs are kept.
                Ok(kept) => return Ok(kept),
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
        if written.is_ok() && blobs.get().is_none() {
            blobs.set(Some(false));
        }
        written
    }

    /// Adds `item`'s record, with `image` (its Blob or its bytes) beside it, and the byte count,
    /// in one transaction (shared with the other writes waiting then); resolves with the
    /// record's id once committed.
    async fn write(&self, item: &Upload, image: &JsValue) -> std::result::Result<Kept, NotKept> {
        let created = wait::now_ms();
        let seq = self.seq.get();
        self.seq.set(seq.wrapping_add(1));
        let id = JsValue::from(outbox_id(created, self.engine.name(), seq));
        let record: JsValue = Object::new().into();
        set(&record, "id", &id);
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
        let engine = self.owned().await.then(|| self.engine.name());
        set(
            &record,
            "engine",
            &engine.map_or(JsValue::NULL, JsValue::from),
        );
        set(&record, "createdAt", &created.into());
        set(&record, "attempts", &0.into());
        set(&record, "stuck", &false.into());
        let (reply, answer) = oneshot();
        self.writer.submit(Op::Add {
            id,
            record,
            image: image.clone(),
            size: item.size,
            reply,
        });
        let refused = |e: JsValue| NotKept {
            full: false,
            outbox_bytes: 0.0,
            error: browser_error(
                Code::OutboxFull,
                "the outbox (IndexedDB) could not keep it",
                &e,
            ),
        };
        match answer.await {
            Some(Ok(Written::Added(id, writer_ms))) => {
                self.count.set(self.count.get() + 1);
                Ok(Kept { id, writer_ms })
            }
            Some(Ok(Written::Full(used))) => Err(NotKept {
                full: true,
                outbox_bytes: used,
                error: Error::new(
                    Code::OutboxFull,
                    format!(
                        "the outbox is full ({} of {} bytes)",
                        display_f64(used),
                        self.max_bytes
                    ),
                ),
            }),
            Some(Ok(Written::Removed(_))) | None => Err(refused(JsValue::NULL)),
            Some(Err(e)) => Err(refused(e)),
        }
    }

    /// Removes the record `id` and its bytes; `Ok(false)` when it was already gone.
    pub async fn remove(&self, id: &JsValue) -> std::result::Result<bool, JsValue> {
        let (reply, answer) = oneshot();
        self.writer.submit(Op::Remove {
            id: id.clone(),
            reply,
        });
        let removed = match answer.await {
            Some(Ok(Written::Removed(removed))) => removed,
            Some(Err(e)) => return Err(e),
            _ => return Err("the outbox's writer stopped".into()),
        };
        if removed {
            self.count.set(self.count.get().saturating_sub(1));
        }
        Ok(removed)
    }

    /// Counts a failed round on the record `id` (`attempts`, `lastStatus`, `lastError`) and
    /// marks it stuck when [`is_stuck`] says so; the record when it has just become stuck.
    /// The record then names no engine: any page's flush may send it.
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
        let age = wait::now_ms() - get(&record, "createdAt").as_f64().unwrap_or(wait::now_ms());
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
        set(&record, "engine", &JsValue::NULL);
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

/// Writes per transaction at most: a batch holds its images' Blobs (or bytes) until it commits.
const BATCH_OPS: usize = 32;
/// Images waiting for a transaction at most. With a batch, no more than the uploader's queue
/// takes (64): a hung IndexedDB that answers them all at once does not overflow it.
const QUEUED_ADDS: usize = 32;

/// Group commit: the outbox's adds and removes waiting when a transaction starts share it.
/// Transactions over the same stores run one at a time, and each waits on the page's thread
/// between its requests; one per image fell behind 17 images a second on a busy page (commits
/// queued for 30 s, every waiting image's Blob held), where one per batch keeps up.
struct Writer {
    db: Rc<Db>,
    max_bytes: u64,
    queue: RefCell<VecDeque<Op>>,
    /// Whether a drain is running (it takes what is queued until nothing is).
    running: Cell<bool>,
    /// Whether IndexedDB keeps this engine's Blobs: `Some(true)` once a transaction holding one
    /// has committed, `Some(false)` once bytes were kept after a Blob was refused.
    blobs: Cell<Option<bool>>,
}

enum Op {
    Add {
        id: JsValue,
        record: JsValue,
        image: JsValue,
        size: f64,
        reply: Sender<std::result::Result<Written, JsValue>>,
    },
    Remove {
        id: JsValue,
        reply: Sender<std::result::Result<Written, JsValue>>,
    },
}

/// What a committed batch did with one op.
enum Written {
    /// The record's id, and this write's share of the transaction's time on the page's thread.
    Added(JsValue, f64),
    /// Not added: the outbox held this many bytes, too many for it.
    Full(f64),
    Removed(bool),
}

impl Op {
    fn holds_blob(&self) -> bool {
        matches!(self, Op::Add { image, .. } if image.is_instance_of::<Blob>())
    }

    fn answer(self, outcome: std::result::Result<Written, JsValue>) {
        match self {
            Op::Add { reply, .. } | Op::Remove { reply, .. } => reply.send(outcome),
        }
    }
}

impl Writer {
    fn submit(self: &Rc<Self>, op: Op) {
        // Bounded memory when IndexedDB is slow or hangs: past this an image is not kept (the
        // caller gets it back with its code) rather than held here with its Blob.
        let adds = self
            .queue
            .borrow()
            .iter()
            .filter(|op| matches!(op, Op::Add { .. }))
            .count();
        if adds >= QUEUED_ADDS && matches!(op, Op::Add { .. }) {
            op.answer(Err(format!(
                "{adds} images are already waiting for the outbox"
            )
            .into()));
            return;
        }
        self.queue.borrow_mut().push_back(op);
        if !self.running.replace(true) {
            wasm_bindgen_futures::spawn_local(self.clone().drain());
        }
    }

    async fn drain(self: Rc<Self>) {
        loop {
            let batch: Vec<Op> = {
                let mut queue = self.queue.borrow_mut();
                // Until a Blob has been kept, a Blob goes alone: WebKit, refusing one in a
                // transaction that holds other writes, leaves the next transactions unanswered.
                let alone = |op: &Op| self.blobs.get() != Some(true) && op.holds_blob();
                let n = match queue.front() {
                    Some(first) if alone(first) => 1,
                    _ => queue
                        .iter()
                        .take(BATCH_OPS)
                        .take_while(|op| !alone(op))
                        .count(),
                };
                let n = n.min(queue.len());
                queue.drain(..n).collect()
            };
            if batch.is_empty() {
                self.running.set(false);
                return;
            }
            let (committed, busy_ms) = wait::timed(self.commit(&batch)).await;
            let share = busy_ms / batch.len() as f64;
            match committed {
                Ok(outcomes) => {
                    if batch.iter().any(Op::holds_blob) {
                        self.blobs.set(Some(true));
                    }
                    for (op, outcome) in batch.into_iter().zip(outcomes) {
                        op.answer(Ok(with_share(outcome, share)));
                    }
                }
                // One bad write (a Blob WebKit refuses, say) must not fail the others: each
                // goes again in a transaction of its own; but a browser that does not answer
                // would make each of them wait its own timeout.
                Err(e) if e.as_string().as_deref() == Some(NO_ANSWER) => {
                    // Whatever waits behind the batch would wait its own 10 s in turn: it is
                    // answered now (the next write tries IndexedDB again).
                    let waiting: Vec<Op> = self.queue.borrow_mut().drain(..).collect();
                    for op in batch.into_iter().chain(waiting) {
                        op.answer(Err(e.clone()));
                    }
                }
                Err(e) if batch.len() == 1 => {
                    batch.into_iter().for_each(|op| op.answer(Err(e.clone())))
                }
                Err(_) => {
                    for op in batch {
                        let (alone, ms) = wait::timed(self.commit(std::slice::from_ref(&op))).await;
                        let outcome = alone.and_then(|mut o| o.pop().ok_or(JsValue::NULL));
                        op.answer(outcome.map(|o| with_share(o, share + ms)));
                    }
                }
            }
        }
    }

    /// Applies `ops` in one transaction: removes first (they make room), then adds in order
    /// while they fit under `max_bytes`, and the byte count. One outcome per op once committed.
    async fn commit(&self, ops: &[Op]) -> std::result::Result<Vec<Written>, JsValue> {
        let tx = Watched::new(
            self.db
                .transaction(
                    &[OUTBOX, OUTBOX_BYTES, OUTBOX_TOTAL],
                    IdbTransactionMode::Readwrite,
                )
                .await?,
        );
        // WebKit (2.50) refuses a Blob where it keeps none; while another write of the
        // transaction is pending, it then never answers this or any later transaction.
        let trial = self.blobs.get() != Some(true) && ops.iter().any(Op::holds_blob);
        let applied = apply(&tx, self.max_bytes, ops, trial).await;
        if applied.is_err() {
            // A request that threw (a Blob refused at once, say) leaves the transaction
            // running: without this it would commit the records added before it, without
            // their bytes.
            let _ = tx.tx.abort();
        }
        applied
    }
}

/// `outcome` with `ms` as its share of the page's thread.
fn with_share(outcome: Written, ms: f64) -> Written {
    match outcome {
        Written::Added(id, _) => Written::Added(id, ms),
        other => other,
    }
}

/// [`Writer::commit`]'s requests. In a `trial`, the record's add has answered before its Blob
/// is put.
async fn apply(
    tx: &Watched,
    max_bytes: u64,
    ops: &[Op],
    trial: bool,
) -> std::result::Result<Vec<Written>, JsValue> {
    let records = tx.tx.object_store(OUTBOX)?;
    let bytes = tx.tx.object_store(OUTBOX_BYTES)?;
    // Every read is issued at once, and only the last is awaited: a transaction's requests
    // answer in order. Each wait costs the page's thread a poll, and ids chosen by the writer
    // spare one for the adds.
    let totals = tx.tx.object_store(OUTBOX_TOTAL)?;
    let total = totals.get(&TOTAL_ID.into())?;
    let mut removed = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if let Op::Remove { id, .. } = op {
            // Read (for its size), then deleted whether found or not.
            removed.push((i, records.get(id)?));
            records.delete(id)?;
            bytes.delete(id)?;
        }
    }
    let last = removed.last().map_or(&total, |(_, read)| read);
    Issued::new(last.clone()).result_in(tx).await?;
    let kept_count = get(&total.result()?, "bytes").as_f64();
    let mut used = match kept_count {
        Some(used) => used,
        // No count kept yet (an outbox of an earlier version): the sizes of the records left
        // after this batch's removes.
        None => Array::from(&Issued::new(records.get_all()?).result_in(tx).await?)
            .iter()
            .map(|r| get(&r, "size").as_f64().unwrap_or(0.0))
            .sum(),
    };
    let mut outcomes: Vec<Option<Written>> = ops.iter().map(|_| None).collect();
    for (i, read) in removed {
        let record = read.result()?;
        let found = !record.is_undefined();
        if found && kept_count.is_some() {
            used = (used - get(&record, "size").as_f64().unwrap_or(0.0)).max(0.0);
        }
        if let Some(slot) = outcomes.get_mut(i) {
            *slot = Some(Written::Removed(found));
        }
    }
    for (i, op) in ops.iter().enumerate() {
        if let Op::Add {
            id,
            record,
            image,
            size,
            ..
        } = op
        {
            let outcome = if used + size > max_bytes as f64 {
                Written::Full(used)
            } else {
                used += size;
                let add = records.add(record)?;
                if trial {
                    Issued::new(add).result_in(tx).await?;
                }
                let kept: JsValue = Object::new().into();
                set(&kept, "id", id);
                set(&kept, "bytes", image);
                bytes.put(&kept)?;
                Written::Added(id.clone(), 0.0)
            };
            if let Some(slot) = outcomes.get_mut(i) {
                *slot = Some(outcome);
            }
        }
    }
    let count: JsValue = Object::new().into();
    set(&count, "id", &TOTAL_ID.into());
    set(&count, "bytes", &used.into());
    totals.put(&count)?;
    tx.committed().await?;
    outcomes
        .into_iter()
        .map(|o| o.ok_or_else(|| JsValue::from_str("a write had no outcome")))
        .collect()
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
