//! One snapshot from call to result: capture, encode, Blob, delivery.

use std::rc::Rc;

use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{Blob, BlobPropertyBag, MediaStreamTrack};

use super::capture::Frame;
use super::encoder::Image;
use super::engine::Shared;
use super::js::{self, error_value, set};
use super::upload::Upload;
use crate::core::error::{Code, Result};
use crate::core::naming::default_snapshot_name;
use crate::core::snapshot::SnapshotSpec;
use crate::core::storage::object_key;
use crate::core::stream::StreamType;

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
        let info = pixels.info;
        let len = pixels.byte_len();
        self.capture.copy_into(pixels, pipeline.input_mut(len))?;
        let encoded = pipeline.process(info, spec)?;
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
    let o: JsValue = Object::new().into();
    let format = job.spec.format;
    set(&o, "path", &job.path.as_str().into());
    set(&o, "uid", &job.uid.as_str().into());
    set(&o, "streamType", &job.stream_type.as_str().into());
    set(&o, "format", &format.as_str().into());
    set(&o, "mimeType", &format.mime_type().into());
    set(&o, "url", &JsValue::NULL);
    match outcome {
        Ok(c) => {
            set(&o, "code", &Code::Ok.value().into());
            set(&o, "message", &"".into());
            set(&o, "width", &c.width.into());
            set(&o, "height", &c.height.into());
            set(&o, "size", &(c.size as f64).into());
            set(&o, "blob", &c.blob);
            set(&o, "timestamp", &c.timestamp.into());
        }
        Err(e) => {
            set(&o, "code", &e.code.value().into());
            set(&o, "message", &e.message.as_str().into());
            set(&o, "width", &0.into());
            set(&o, "height", &0.into());
            set(&o, "size", &0.into());
            set(&o, "blob", &JsValue::NULL);
            set(&o, "timestamp", &js::now_ms().into());
        }
    }
    o
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
