//! A small async layer over IndexedDB: one database per origin, two object stores, and
//! requests as futures. Writes resolve when their transaction has committed, not before.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{
    IdbDatabase, IdbFactory, IdbObjectStoreParameters, IdbOpenDbRequest, IdbRequest,
    IdbTransaction, IdbTransactionMode,
};

use super::wait::{timer, wait_for, Timer, Waited};

/// The database every engine of an origin shares.
pub const DB_NAME: &str = "tracksnap";
const DB_VERSION: u32 = 2;
/// The outbox's records without their bytes: `{ id (auto), key, contentType, size, meta, … }`.
/// Records of version 1 hold their bytes too (`bytes`, or an older `blob`).
pub const OUTBOX: &str = "outbox";
/// The outbox's bytes: `{ id, bytes }`, under the id of their record.
pub const OUTBOX_BYTES: &str = "outboxBytes";
/// The outbox's byte count: `{ id: "bytes", bytes }`, changed in the transaction that adds or
/// removes a record, so that `outboxMaxBytes` holds across engines and pages.
pub const OUTBOX_TOTAL: &str = "outboxTotal";
/// Periodic tasks that are running: `{ id: "AppId|RoomId|TaskId", running, recoveries }`.
pub const TASKS: &str = "tasks";
/// A database that does not open in this time is treated as unavailable.
const OPEN_TIMEOUT_MS: u32 = 5000;
/// A request or commit that has not answered in this time has failed.
const REQUEST_TIMEOUT_MS: u32 = 10_000;
/// The error of a request or commit that did not answer in time.
pub const NO_ANSWER: &str = "IndexedDB gave no answer within 10 s";

#[derive(Default)]
pub struct Db {
    /// Shared with the `versionchange` handler, which closes and forgets the connection.
    db: Rc<RefCell<Option<IdbDatabase>>>,
}

impl Db {
    pub fn new() -> Db {
        Db::default()
    }

    /// The open database (opened on first use; `Err` where IndexedDB is unavailable).
    async fn handle(&self) -> Result<IdbDatabase, JsValue> {
        if let Some(db) = self.db.borrow().as_ref() {
            return Ok(db.clone());
        }
        let factory: IdbFactory = Reflect::get(&js_sys::global(), &"indexedDB".into())?
            .dyn_into()
            .map_err(|_| JsValue::from_str("IndexedDB is not available here"))?;
        let open: IdbOpenDbRequest = factory.open_with_u32(DB_NAME, DB_VERSION)?;
        let upgrade = {
            let open = open.clone();
            Closure::once_into_js(move |_: JsValue| {
                if let Ok(db) = open.result().and_then(|r| r.dyn_into::<IdbDatabase>()) {
                    let names = db.object_store_names();
                    if !names.contains(OUTBOX) {
                        let params = IdbObjectStoreParameters::new();
                        params.set_key_path(&"id".into());
                        params.set_auto_increment(true);
                        let _ = db.create_object_store_with_optional_parameters(OUTBOX, &params);
                    }
                    for store in [TASKS, OUTBOX_BYTES, OUTBOX_TOTAL] {
                        if !names.contains(store) {
                            let params = IdbObjectStoreParameters::new();
                            params.set_key_path(&"id".into());
                            let _ = db.create_object_store_with_optional_parameters(store, &params);
                        }
                    }
                }
            })
        };
        open.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
        let opened = settled(&open);
        let outcome = match wait_for(Some(&opened), Some(&timer(OPEN_TIMEOUT_MS)), None).await {
            Waited::Settled(outcome) => outcome,
            _ => return Err(JsValue::from_str("IndexedDB did not open in time")),
        };
        if outcome.is_err() {
            return Err(open
                .error()
                .ok()
                .flatten()
                .map(JsValue::from)
                .unwrap_or_else(|| "IndexedDB did not open".into()));
        }
        let db: IdbDatabase = open
            .result()?
            .dyn_into()
            .map_err(|_| JsValue::from_str("not a database"))?;
        // Another page deleting or upgrading the database: let it; the next use reopens.
        // Two uses may have opened two connections at once: each closes itself.
        let closing = {
            let slot = self.db.clone();
            let this = db.clone();
            Closure::once_into_js(move |_: JsValue| {
                this.close();
                let mut held = slot.borrow_mut();
                if held.as_ref().is_some_and(|d| js_sys::Object::is(d, &this)) {
                    *held = None;
                }
            })
        };
        db.set_onversionchange(Some(closing.unchecked_ref()));
        let mut held = self.db.borrow_mut();
        match held.as_ref() {
            // Another use opened one meanwhile: keep that, close ours.
            Some(existing) => {
                db.close();
                Ok(existing.clone())
            }
            None => {
                *held = Some(db.clone());
                Ok(db)
            }
        }
    }

    /// A transaction over `stores`. Its requests are awaited with [`result_of`] one after
    /// another: the continuation runs in the microtask after the request's success event,
    /// while the transaction is still active.
    pub async fn transaction(
        &self,
        stores: &[&str],
        mode: IdbTransactionMode,
    ) -> Result<IdbTransaction, JsValue> {
        let db = self.handle().await?;
        let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
        db.transaction_with_str_sequence_and_mode(&names, mode)
    }

    /// Adds or replaces `value`; resolves with its key once committed.
    pub async fn put(&self, store: &str, value: &JsValue) -> Result<JsValue, JsValue> {
        let db = self.handle().await?;
        let tx = db.transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite)?;
        let req = tx.object_store(store)?.put(value)?;
        // A committed transaction means its request succeeded: its result is the key.
        committed(&tx).await?;
        req.result()
    }

    pub async fn get(&self, store: &str, key: &JsValue) -> Result<JsValue, JsValue> {
        let db = self.handle().await?;
        let tx = db.transaction_with_str(store)?;
        result_of(&tx.object_store(store)?.get(key)?).await
    }

    pub async fn get_all(&self, store: &str) -> Result<Array, JsValue> {
        let db = self.handle().await?;
        let tx = db.transaction_with_str(store)?;
        let all = result_of(&tx.object_store(store)?.get_all()?).await?;
        Ok(all.dyn_into().unwrap_or_default())
    }

    /// Removes `key`; resolves once committed.
    pub async fn delete(&self, store: &str, key: &JsValue) -> Result<(), JsValue> {
        let db = self.handle().await?;
        let tx = db.transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite)?;
        tx.object_store(store)?.delete(key)?;
        committed(&tx).await
    }

    /// Closes the connection (the data stays).
    pub fn close(&self) {
        if let Some(db) = self.db.borrow_mut().take() {
            db.close();
        }
    }
}

/// A request's outcome as a promise. The promise's own `resolve` and `reject` are the
/// handlers: no closure of ours is made, so none is left behind by the handler that does not
/// fire (a `Closure::once_into_js` that is never called is never freed, and it would keep the
/// request and its transaction alive: about 5 KB per image that went through the outbox).
fn settled(req: &IdbRequest) -> Promise {
    Promise::new(&mut |resolve: Function, reject: Function| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    })
}

/// A request's result, or its error; an error too if it has not answered in
/// [`REQUEST_TIMEOUT_MS`] (a browser's IndexedDB can hang).
pub async fn result_of(req: &IdbRequest) -> Result<JsValue, JsValue> {
    Issued::new(req.clone()).result().await
}

/// A request watched from the moment it is made: several can be issued at once and awaited
/// one after another (a request that answered before its handlers were set would never
/// settle).
pub struct Issued {
    req: IdbRequest,
    settled: Promise,
}

impl Issued {
    pub fn new(req: IdbRequest) -> Issued {
        let settled = settled(&req);
        Issued { req, settled }
    }

    /// The request's result, or its error; an error too once `tx` (see [`Watched`]) has
    /// ended without it: WebKit aborts a transaction over a refused Blob and may leave the
    /// requests after it unanswered.
    pub async fn result_in(&self, tx: &Watched) -> Result<JsValue, JsValue> {
        let first = Promise::race(&Array::of2(&self.settled, &tx.ended));
        match bounded(&first, &tx.deadline).await? {
            Ok(_) => self.req.result(),
            Err(_) => Err(self
                .error()
                .or_else(|| tx.tx.error().map(JsValue::from))
                .unwrap_or_else(|| "transaction aborted".into())),
        }
    }

    /// The request's result, or its error (as [`result_of`]).
    pub async fn result(&self) -> Result<JsValue, JsValue> {
        match bounded(&self.settled, &timer(REQUEST_TIMEOUT_MS)).await? {
            Ok(_) => self.req.result(),
            Err(_) => Err(self.error().unwrap_or(JsValue::NULL)),
        }
    }

    /// The request's own error, where it has one.
    fn error(&self) -> Option<JsValue> {
        self.req.error().ok().flatten().map(JsValue::from)
    }
}

/// `promise`'s outcome, or `Err` once `limit` has fired.
async fn bounded(promise: &Promise, limit: &Timer) -> Result<Result<JsValue, JsValue>, JsValue> {
    match wait_for(Some(promise), Some(limit), None).await {
        Waited::Settled(outcome) => Ok(outcome),
        _ => Err(JsValue::from_str(NO_ANSWER)),
    }
}

/// A read-write transaction's commit. An error or an abort (a full quota, say) both end the
/// transaction uncommitted; whichever comes first fails it.
pub async fn committed(tx: &IdbTransaction) -> Result<(), JsValue> {
    Watched::new(tx.clone()).committed().await
}

/// A transaction whose end is watched from its start, so that an abort before the last
/// request is seen too.
pub struct Watched {
    pub tx: IdbTransaction,
    /// Resolves on `complete`; rejects on an error or an abort.
    ended: Promise,
    /// One limit for the whole transaction: a timer per request cost the page's thread about
    /// 0.1 ms each (set, raced, cleared), on every image's write.
    deadline: Timer,
}

impl Watched {
    pub fn new(tx: IdbTransaction) -> Watched {
        let ended = Promise::new(&mut |resolve: Function, reject: Function| {
            tx.set_oncomplete(Some(&resolve));
            tx.set_onerror(Some(&reject));
            tx.set_onabort(Some(&reject));
        });
        Watched {
            tx,
            ended,
            deadline: timer(REQUEST_TIMEOUT_MS),
        }
    }

    /// Resolves once committed; `Err` if it ended otherwise.
    pub async fn committed(&self) -> Result<(), JsValue> {
        match bounded(&self.ended, &self.deadline).await? {
            Ok(_) => Ok(()),
            Err(_) => Err(self
                .tx
                .error()
                .map(JsValue::from)
                .unwrap_or_else(|| "transaction aborted".into())),
        }
    }
}
