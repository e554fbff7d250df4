//! On-demand snapshots (`takeLocalSnapshot`, `takeRemoteSnapshot`, `snapshot()`): one from
//! call to result, through the camera, the uploader (with storage) and the emitter.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Object;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::MediaStreamTrack;

use super::camera::{Camera, Captured};
use super::events::Emitter;
use super::js::{self, error_value, set};
use super::outbox::Upload;
use super::streams::Streams;
use super::upload::Uploader;
use super::wait;
use super::watermark::{WatermarkOrder, WatermarkSource};
use crate::core::error::{Code, Result};
use crate::core::input::{SnapshotRequest, WatermarkChoice};
use crate::core::naming::default_snapshot_name;
use crate::core::snapshot::SnapshotSpec;
use crate::core::storage::object_key;
use crate::core::stream::StreamType;
use crate::core::watermark::TextFacts;

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
    watermark: Option<WatermarkSource>,
    track: MediaStreamTrack,
}

/// Runs the engine's on-demand snapshots.
pub(crate) struct Snapshots {
    streams: Rc<Streams>,
    camera: Rc<Camera>,
    uploader: Rc<Uploader>,
    emitter: Rc<Emitter>,
    /// The engine has storage: every result is uploaded before it is delivered.
    upload: bool,
    /// The engine's `watermark` option: every snapshot's unless its request says otherwise.
    watermark: Option<WatermarkSource>,
    /// The last default name and how many times it was handed out (same millisecond).
    last_name: RefCell<(String, u32)>,
}

impl Snapshots {
    pub(crate) fn new(
        streams: Rc<Streams>,
        camera: Rc<Camera>,
        uploader: Rc<Uploader>,
        emitter: Rc<Emitter>,
        upload: bool,
        watermark: Option<WatermarkSource>,
    ) -> Snapshots {
        Snapshots {
            streams,
            camera,
            uploader,
            emitter,
            upload,
            watermark,
            last_name: RefCell::new((String::new(), 0)),
        }
    }

    pub(crate) fn local_job(
        &self,
        st: StreamType,
        path: Option<String>,
        spec: SnapshotSpec,
    ) -> Result<Job> {
        let (track, uid) = {
            let session = self.streams.session();
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
            watermark: self.watermark.clone(),
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
        let track = Clone::clone(self.streams.session().remote_track(&uid, st)?);
        let path = path.unwrap_or_else(|| self.default_name(Some(&uid), st, &spec));
        Ok(Job {
            uid,
            stream_type: st,
            path,
            spec,
            watermark: self.watermark.clone(),
            track,
        })
    }

    /// `snapshot(request)`: the local user's stream unless `uid` names someone else. `raw` is
    /// the request as given, for its watermark's image.
    pub(crate) fn request_job(&self, req: SnapshotRequest, raw: &JsValue) -> Result<Job> {
        let watermark = match req.watermark {
            WatermarkChoice::Engine => self.watermark.clone(),
            WatermarkChoice::Off => None,
            WatermarkChoice::Own(w) => Some(WatermarkSource::new(
                w,
                &js::get(raw, "watermark"),
                "request.watermark",
            )?),
        };
        let local_uid = self.streams.session().local_uid().map(str::to_owned);
        let job = match req.uid {
            Some(uid) if Some(&uid) != local_uid.as_ref() => {
                self.remote_job(uid, req.stream_type, req.path, req.spec)
            }
            _ => self.local_job(req.stream_type, req.path, req.spec),
        }?;
        Ok(Job { watermark, ..job })
    }

    fn default_name(&self, uid: Option<&str>, st: StreamType, spec: &SnapshotSpec) -> String {
        let now = wait::now_ms() as i64;
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

    /// Runs `job` in the background: its outcome goes to the handler and the event only.
    pub(crate) fn spawn(self: &Rc<Self>, job: Job) {
        let this = self.clone();
        spawn_local(async move {
            let _ = this.run(job).await;
        });
    }

    /// Captures, encodes, uploads (with storage) and delivers one snapshot: exactly one
    /// handler call and one event, after the upload.
    pub(crate) async fn run(self: Rc<Self>, job: Job) -> std::result::Result<JsValue, JsValue> {
        let order = job.watermark.as_ref().map(|w| WatermarkOrder {
            text: w.watermark.text.as_ref().map(|t| {
                t.render(&TextFacts {
                    unix_ms: wait::now_ms() as i64,
                    uid: if job.uid.is_empty() {
                        "local"
                    } else {
                        &job.uid
                    },
                    stream_type: job.stream_type,
                    path: &job.path,
                    task: None,
                })
            }),
            image: w.image.clone(),
            placing: w.watermark.placing,
        });
        let captured = self
            .camera
            .take(&job.track, &job.spec, order.as_ref())
            .await;
        let result = result_object(&job, &captured);
        // The capture's failure, or else the upload's (the Blob stays in the result).
        let mut failure = captured.as_ref().err().cloned();
        if let (Ok(c), true) = (&captured, self.upload) {
            let uploaded = match object_key(&job.path) {
                Ok(key) => {
                    let item = Upload {
                        key,
                        content_type: job.spec.format.mime_type().to_string(),
                        blob: c.image.blob.clone(),
                        size: c.image.size as f64,
                        meta: outbox_meta(&result),
                        endpoint: None,
                    };
                    self.uploader.upload(&item, &self.emitter).await
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
        self.emitter.snapshot_result(code, &job.path, &result);
        match failure {
            None => Ok(result),
            Some(e) => {
                let err = error_value(&e);
                set(&err, "result", &result);
                Err(err)
            }
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
            o.set_width(c.image.width);
            o.set_height(c.image.height);
            o.set_size(c.image.size as f64);
            o.set_blob(&c.image.blob);
            o.set_timestamp(c.timestamp);
        }
        Err(e) => {
            o.set_code(e.code.value());
            o.set_message(&e.message);
            o.set_width(0);
            o.set_height(0);
            o.set_size(0.0);
            o.set_blob(&JsValue::NULL);
            o.set_timestamp(wait::now_ms());
        }
    }
    o.into()
}
