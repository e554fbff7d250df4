//! One snapshot from call to result: capture, encode, Blob, delivery.

use std::rc::Rc;

use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{Blob, BlobPropertyBag, MediaStreamTrack};

use super::capture::Frame;
use super::encoder::Image;
use super::engine::Shared;
use super::js::{self, error_value, set};
use super::outbox::Upload;
use crate::core::error::{Code, Result};
use crate::core::naming::default_snapshot_name;
use crate::core::snapshot::SnapshotSpec;
use crate::core::storage::object_key;
use crate::core::stream::StreamType;

#[wasm_bindgen]
extern "C" {
    /// The `SnapshotResult` object, filled through typed setters: the glue names each
    /// property, so no key string crosses from wasm (one is made per snapshot, on the page's
    /// thread).
    #[wasm_bindgen(extends = Object)]
    type ResultObject;
    #[wasm_bindgen(method, setter)]
    fn set_path(this: &ResultObject, path: &str);
    #[wasm_bindgen(method, setter)]
    fn set_uid(this: &ResultObject, uid: &str);
    #[wasm_bindgen(method, setter, js_name = streamType)]
    fn set_stream_type(this: &ResultObject, stream_type: &str);
    #[wasm_bindgen(method, setter)]
    fn set_format(this: &ResultObject, format: &str);
    #[wasm_bindgen(method, setter, js_name = mimeType)]
    fn set_mime_type(this: &ResultObject, mime_type: &str);
    #[wasm_bindgen(method, setter)]
    fn set_url(this: &ResultObject, url: &JsValue);
    #[wasm_bindgen(method, setter)]
    fn set_code(this: &ResultObject, code: i32);
    #[wasm_bindgen(method, setter)]
    fn set_message(this: &ResultObject, message: &str);
    #[wasm_bindgen(method, setter)]
    fn set_width(this: &ResultObject, width: u32);
    #[wasm_bindgen(method, setter)]
    fn set_height(this: &ResultObject, height: u32);
    #[wasm_bindgen(method, setter)]
    fn set_size(this: &ResultObject, size: f64);
    #[wasm_bindgen(method, setter)]
    fn set_blob(this: &ResultObject, blob: &JsValue);
    #[wasm_bindgen(method, setter)]
    fn set_timestamp(this: &ResultObject, timestamp: f64);
}

/// One accepted snapshot.
pub(crate) struct Job {
    /// `""` for the local user before joining.
    uid: String,
    stream_type: StreamType,
    path: String,
    spec: SnapshotSpec,
    track: MediaStreamTrack,
}

/// What a successful capture produced.
pub(crate) struct Captured {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) size: usize,
    pub(crate) blob: Blob,
    pub(crate) timestamp: f64,
}

impl Shared {
    pub(crate) fn local_job(
        &self,
        st: StreamType,
        path: Option<String>,
        spec: SnapshotSpec,
    ) -> Result<Job> {
        let (track, uid) = {
            let session = self.session.borrow();
            (
                Clone::clone(session.local_track(st)?),
                session.local_uid().map(str::to_owned),
            )
        };
        let path = path.unwrap_or_else(|| self.default_name(uid.as_deref(), st, &spec));
        Ok(Job {
            uid: uid.unwrap_or_default(),
            stream_type: st,
            path,
            spec,
            track,
        })
    }

    pub(crate) fn remote_job(
        &self,
        uid: String,
        st: StreamType,
        path: Option<String>,
        spec: SnapshotSpec,
    ) -> Result<Job> {
        let track = Clone::clone(self.session.borrow().remote_track(&uid, st)?);
        let path = path.unwrap_or_else(|| self.default_name(Some(&uid), st, &spec));
        Ok(Job {
            uid,
            stream_type: st,
            path,
            spec,
            track,
        })
    }

    fn default_name(&self, uid: Option<&str>, st: StreamType, spec: &SnapshotSpec) -> String {
        let now = js::now_ms() as i64;
        let base = default_snapshot_name(uid, st, spec.format, now, 0);
        let mut last = self.last_name.borrow_mut();
        if last.0 == base {
            last.1 += 1;
            default_snapshot_name(uid, st, spec.format, now, last.1)
        } else {
            *last = (base.clone(), 0);
            base
        }
    }

    /// One frame of `track`, encoded as `spec` says: in the worker, or on the page.
    pub(crate) async fn capture_and_encode(
        &self,
        track: &MediaStreamTrack,
        spec: &SnapshotSpec,
    ) -> Result<Captured> {
        let frame = self.capture.grab(track).await?;
        let timestamp = js::now_ms();
        let image = match self
            .encoder
            .encode(frame, spec, self.capture.canceller())
            .await
        {
            Ok(image) => image?,
            Err(frame) => self.encode_on_page(frame, spec).await?,
        };
        Ok(Captured {
            width: image.width,
            height: image.height,
            size: image.size,
            blob: image.blob,
            timestamp,
        })
    }

    /// The page path: RGBA pixels from the browser, one copy into wasm, encoded here.
    async fn encode_on_page(&self, frame: Frame, spec: &SnapshotSpec) -> Result<Image> {
        let pixels = self.capture.read(&frame).await?;
        drop(frame);
        // From here on nothing awaits: the pipeline's buffers are ours alone.
        let mut pipeline = self.pipeline.borrow_mut();
        let (info, bgra) = (pixels.info, pixels.bgra);
        let len = pixels.byte_len();
        self.capture.copy_into(pixels, pipeline.input_mut(len))?;
        let encoded = if bgra {
            pipeline.process_bgra(info, spec)?
        } else {
            pipeline.process(info, spec)?
        };
        let blob = make_blob(encoded.bytes, spec.format.mime_type())?;
        Ok(Image {
            width: encoded.width,
            height: encoded.height,
            size: encoded.bytes.len(),
            blob,
        })
    }
}

/// Captures, encodes, uploads (with storage) and delivers one snapshot: exactly one handler
/// call and one event, after the upload.
pub(crate) async fn run(shared: Rc<Shared>, job: Job) -> std::result::Result<JsValue, JsValue> {
    let captured = shared.capture_and_encode(&job.track, &job.spec).await;
    let result = result_object(&job, &captured);
    // The capture's failure, or else the upload's (the Blob stays in the result).
    let mut failure = captured.as_ref().err().cloned();
    if let (Ok(c), true) = (&captured, shared.options.storage.is_some()) {
        let uploaded = match object_key(&job.path) {
            Ok(key) => {
                let item = Upload {
                    key,
                    content_type: job.spec.format.mime_type().to_string(),
                    blob: c.blob.clone(),
                    size: c.size as f64,
                    meta: outbox_meta(&result),
                    endpoint: None,
                };
                shared.uploader.upload(&item, &shared.emitter).await
            }
            Err(e) => Err(e),
        };
        match uploaded {
            Ok(url) => set(&result, "url", &url.as_str().into()),
            Err(e) => {
                set(&result, "code", &e.code.value().into());
                set(&result, "message", &e.message.as_str().into());
                failure = Some(e);
            }
        }
    }
    let code = failure
        .as_ref()
        .map_or(Code::Ok.value(), |e| e.code.value());
    shared.emitter.snapshot_result(code, &job.path, &result);
    match failure {
        None => Ok(result),
        Some(e) => {
            let err = error_value(&e);
            set(&err, "result", &result);
            Err(err)
        }
    }
}

/// What the outbox keeps of a result beside its bytes: everything but the Blob.
fn outbox_meta(result: &JsValue) -> JsValue {
    let meta: JsValue = Object::new().into();
    for key in [
        "path",
        "uid",
        "streamType",
        "format",
        "width",
        "height",
        "timestamp",
    ] {
        set(&meta, key, &js::get(result, key));
    }
    set(&meta, "kind", &"snapshot".into());
    meta
}

/// The `SnapshotResult` object of the README (`url` is set once uploaded).
fn result_object(job: &Job, outcome: &Result<Captured>) -> JsValue {
    let o: ResultObject = Object::new().unchecked_into();
    let format = job.spec.format;
    o.set_path(&job.path);
    o.set_uid(&job.uid);
    o.set_stream_type(job.stream_type.as_str());
    o.set_format(format.as_str());
    o.set_mime_type(format.mime_type());
    o.set_url(&JsValue::NULL);
    match outcome {
        Ok(c) => {
            o.set_code(Code::Ok.value());
            o.set_message("");
            o.set_width(c.width);
            o.set_height(c.height);
            o.set_size(c.size as f64);
            o.set_blob(&c.blob);
            o.set_timestamp(c.timestamp);
        }
        Err(e) => {
            o.set_code(e.code.value());
            o.set_message(&e.message);
            o.set_width(0);
            o.set_height(0);
            o.set_size(0.0);
            o.set_blob(&JsValue::NULL);
            o.set_timestamp(js::now_ms());
        }
    }
    o.into()
}

fn make_blob(bytes: &[u8], mime: &str) -> Result<Blob> {
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let parts = Array::new();
    // SAFETY: the view lives only until `new Blob` returns, which copies it synchronously;
    // nothing in between allocates in wasm memory, so the view cannot be detached.
    let view = unsafe { Uint8Array::view(bytes) };
    parts.push(&view);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options);
    drop(view);
    blob.map_err(|e| js::browser_error(Code::EncodeFailed, "new Blob", &e))
}
