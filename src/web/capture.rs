//! Getting one fresh frame out of a `MediaStreamTrack`, and its pixels out of the frame.
//!
//! Two paths, chosen by feature detection:
//! - **processor** (Chromium): a `MediaStreamTrackProcessor` on a clone of the track, kept for
//!   as long as the stream is started, with a one-frame buffer: the browser keeps only the
//!   newest frame (no JavaScript runs per frame), so a snapshot takes the picture the track
//!   shows now without waiting for the next frame. A muted track (a remote stream whose
//!   packets stopped) gets a processor of its own and must deliver a frame after the call.
//! - **element** (Firefox and others without the processor): an off-document `<video>` playing a
//!   clone of the track; once it has a frame, `new VideoFrame(video)`.
//!
//! Either way the page's own track and `<video>` elements are untouched (the clone is stopped
//! afterwards), the wait is bounded by the frame timeout, and every `VideoFrame` is closed on
//! every path by [`Frame`]'s `Drop`.
//!
//! Pixels: `VideoFrame.copyTo` with `format: "RGBA"` where the browser converts; otherwise the
//! frame is drawn on an `OffscreenCanvas` and read back. Either way they cross into wasm once.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    HtmlVideoElement, MediaStream, MediaStreamTrack, MediaStreamTrackState, OffscreenCanvas,
    OffscreenCanvasRenderingContext2d, ReadableStream, ReadableStreamDefaultReader, VideoFrame,
    VideoFrameCopyToOptions, VideoPixelFormat,
};

use super::js::{self, browser_error, get, timer, wait_for, Canceller, Interval, Waited};
use crate::core::error::{Code, Error, Result};
use crate::core::snapshot::FrameInfo;

#[wasm_bindgen]
extern "C" {
    /// Chromium's `MediaStreamTrackProcessor` (not in web-sys's stable set).
    #[wasm_bindgen(js_name = MediaStreamTrackProcessor)]
    type TrackProcessor;

    #[wasm_bindgen(constructor, catch, js_class = "MediaStreamTrackProcessor")]
    fn new(init: &Object) -> std::result::Result<TrackProcessor, JsValue>;

    #[wasm_bindgen(method, getter, catch)]
    fn readable(this: &TrackProcessor) -> std::result::Result<ReadableStream, JsValue>;

    /// A `VideoFrame` seen through bindings that catch: web-sys's `copyTo` does not, and it
    /// throws synchronously on a closed frame or an option the browser rejects.
    #[wasm_bindgen(js_name = VideoFrame)]
    type CheckedFrame;

    #[wasm_bindgen(method, catch, js_name = copyTo)]
    fn copy_to(
        this: &CheckedFrame,
        destination: &Uint8Array,
        options: &VideoFrameCopyToOptions,
    ) -> std::result::Result<Promise, JsValue>;
}

/// How often a wait for a frame checks whether the track ended, in milliseconds.
const POLL_MS: u32 = 20;

/// How often kept processors check whether the page stopped its track (`stop()` fires no
/// event): our clone would otherwise keep the camera on.
const SWEEP_MS: u32 = 250;

/// How frames are taken from tracks in this browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    Processor,
    Element,
    /// No `VideoFrame` at all: every snapshot fails with `ERR_NOT_SUPPORTED`.
    Unsupported,
}

impl Path {
    pub fn as_str(self) -> &'static str {
        match self {
            Path::Processor => "MediaStreamTrackProcessor",
            Path::Element => "video element",
            Path::Unsupported => "unsupported",
        }
    }

    fn detect() -> Path {
        let global = js_sys::global();
        let has = |name: &str| Reflect::has(&global, &JsValue::from_str(name)).unwrap_or(false);
        if !has("VideoFrame") {
            Path::Unsupported
        } else if has("MediaStreamTrackProcessor") {
            Path::Processor
        } else if has("document") {
            Path::Element
        } else {
            Path::Unsupported
        }
    }
}

/// A `VideoFrame` that is closed when dropped.
pub struct Frame(VideoFrame);

impl Frame {
    pub fn video_frame(&self) -> &VideoFrame {
        &self.0
    }

    /// For a frame transferred to a worker: the worker closes it now.
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// A frame's pixels, still on the JavaScript side, ready for one copy into wasm.
pub struct Pixels {
    pub info: FrameInfo,
    data: PixelData,
}

enum PixelData {
    /// The first `len` bytes of a reusable buffer.
    Scratch(Uint8Array, u32),
    /// `ImageData.data` from the canvas path.
    Canvas(JsValue),
}

/// Frame capture for one engine.
pub struct Capture {
    path: Path,
    timeout_ms: u32,
    /// Whether `copyTo({format: "RGBA"})` works here; cleared after the first refusal.
    rgba_copy: Cell<bool>,
    scratch: RefCell<Option<Uint8Array>>,
    /// The processors kept for started streams (processor path).
    held: Rc<RefCell<Vec<Held>>>,
    /// While processors are kept: the interval that ends those whose page track ended.
    sweeper: RefCell<Option<Interval>>,
    /// Flipped by [`Capture::cancel_all`], which also ends the readers: their `done` then
    /// means "destroyed", not "ended". Every wait races against one of its signals.
    cancel: Canceller,
    /// Swallows the outcome of promises we abandon (a `play()` interrupted by cleanup).
    ignore: Function,
}

impl Capture {
    pub fn new(timeout_ms: u32) -> Capture {
        let ignore = Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {});
        Capture {
            path: Path::detect(),
            timeout_ms,
            rgba_copy: Cell::new(true),
            scratch: RefCell::new(None),
            held: Rc::new(RefCell::new(Vec::new())),
            sweeper: RefCell::new(None),
            cancel: Canceller::new(),
            ignore: ignore.into_js_value().unchecked_into(),
        }
    }

    pub fn path(&self) -> Path {
        self.path
    }

    /// Flipped when the engine is destroyed.
    pub fn canceller(&self) -> &Canceller {
        &self.cancel
    }

    /// Ends every wait in progress with `ERR_DESTROYED`, and every kept processor.
    pub fn cancel_all(&self) {
        self.cancel.cancel();
        let all = std::mem::take(&mut *self.held.borrow_mut());
        drop(all);
        self.stop_sweeper();
    }

    /// Ends the kept processors of tracks that are not in `live` (streams that stopped); one
    /// that a snapshot is reading from ends when that read is over.
    pub fn keep_only(&self, live: &[&MediaStreamTrack]) {
        for h in self.held.borrow().iter() {
            if !live.iter().any(|t| **t == h.track) {
                h.retired.set(true);
            }
        }
        self.drop_retired();
    }

    /// Drops the retired processors nobody is reading from.
    fn drop_retired(&self) {
        let dropped: Vec<Held> = {
            let mut held = self.held.borrow_mut();
            let (drop, keep): (Vec<Held>, Vec<Held>) = std::mem::take(&mut *held)
                .into_iter()
                .partition(|h| h.retired.get() && h.reads.get() == 0);
            *held = keep;
            drop
        };
        // Dropped outside the borrow: cancelling a reader runs no code of ours, but be safe.
        drop(dropped);
        if self.held.borrow().is_empty() {
            self.stop_sweeper();
        }
    }

    fn start_sweeper(&self) {
        if self.sweeper.borrow().is_some() {
            return;
        }
        let held = Rc::downgrade(&self.held);
        let sweep = Closure::<dyn FnMut()>::new(move || {
            if let Some(held) = held.upgrade() {
                let ended: Vec<Held> = {
                    let mut held = held.borrow_mut();
                    let (keep, ended) =
                        std::mem::take(&mut *held)
                            .into_iter()
                            .partition(|h: &Held| {
                                h.track.ready_state() != MediaStreamTrackState::Ended
                            });
                    *held = keep;
                    ended
                };
                drop(ended);
            }
        });
        *self.sweeper.borrow_mut() = Interval::start(SWEEP_MS, sweep);
    }

    fn stop_sweeper(&self) {
        self.sweeper.borrow_mut().take();
    }

    /// One frame of `track` that arrived after this call.
    pub async fn grab(&self, track: &MediaStreamTrack) -> Result<Frame> {
        if track.ready_state() == MediaStreamTrackState::Ended {
            return Err(ended());
        }
        match self.path {
            Path::Processor => match self.grab_with_processor(track).await {
                // A processor that cannot be built (a future browser that hides it on
                // windows, say) leaves the element path.
                Err(e) if e.code == Code::NotSupported => self.grab_with_element(track).await,
                other => other,
            },
            Path::Element => self.grab_with_element(track).await,
            Path::Unsupported => Err(Error::new(
                Code::NotSupported,
                "this browser has no VideoFrame: snapshots are not possible here",
            )),
        }
    }

    async fn grab_with_processor(&self, track: &MediaStreamTrack) -> Result<Frame> {
        if track.muted() {
            // Its newest frame may be old: wait for one that arrives after the call.
            let (clone, reader) = self.processor(track, None)?;
            return self.read_frame(track, &clone.0, &reader.0).await;
        }
        let (clone, reader, reads) = self.held_processor(track)?;
        let reading = Reading::start(reads);
        let frame = self.read_frame(track, &clone, &reader).await;
        drop(reading);
        if matches!(&frame, Err(e) if e.code == Code::TrackEnded) {
            for h in self.held.borrow().iter().filter(|h| h.track == *track) {
                h.retired.set(true);
            }
        }
        self.drop_retired();
        frame
    }

    /// A processor on a clone of `track` (`max_buffer`: how many frames it keeps unread).
    fn processor(
        &self,
        track: &MediaStreamTrack,
        max_buffer: Option<u32>,
    ) -> Result<(TrackClone, Cancelled)> {
        let clone = TrackClone::of(track);
        let init = Object::new();
        js::set(&init, "track", &clone.0);
        if let Some(n) = max_buffer {
            js::set(&init, "maxBufferSize", &n.into());
        }
        let processor = TrackProcessor::new(&init)
            .map_err(|e| browser_error(Code::NotSupported, "MediaStreamTrackProcessor", &e))?;
        let readable = processor
            .readable()
            .map_err(|e| browser_error(Code::CaptureFailed, "MediaStreamTrackProcessor", &e))?;
        let reader = Cancelled(readable.get_reader().unchecked_into(), self.ignore.clone());
        Ok((clone, reader))
    }

    /// The kept processor of `track` (made on first use): its clone, its reader, and the
    /// count of reads in progress.
    fn held_processor(
        &self,
        track: &MediaStreamTrack,
    ) -> Result<(MediaStreamTrack, ReadableStreamDefaultReader, Rc<Cell<u32>>)> {
        let mut held = self.held.borrow_mut();
        if let Some(h) = held.iter().find(|h| {
            h.track == *track
                && !h.retired.get()
                && h.clone.0.ready_state() != MediaStreamTrackState::Ended
        }) {
            return Ok((
                Clone::clone(&h.clone.0),
                Clone::clone(&h.reader.0),
                h.reads.clone(),
            ));
        }
        let (clone, reader) = self.processor(track, Some(1))?;
        let reads = Rc::new(Cell::new(0));
        let handles = (
            Clone::clone(&clone.0),
            Clone::clone(&reader.0),
            reads.clone(),
        );
        held.push(Held {
            track: Clone::clone(track),
            clone,
            reader,
            reads,
            retired: Cell::new(false),
        });
        drop(held);
        self.start_sweeper();
        Ok(handles)
    }

    /// The next frame `reader` yields, within the frame timeout.
    async fn read_frame(
        &self,
        track: &MediaStreamTrack,
        clone: &MediaStreamTrack,
        reader: &ReadableStreamDefaultReader,
    ) -> Result<Frame> {
        let read = reader.read();
        let deadline = js::now_ms() + f64::from(self.timeout_ms);
        loop {
            let cancelled = self.cancel.signal();
            let waited = wait_for(Some(&read), Some(&timer(POLL_MS)), Some(&cancelled)).await;
            let still_waiting = match waited {
                Waited::Settled(Ok(result)) => {
                    return match get(&result, "value").dyn_into::<VideoFrame>() {
                        Ok(frame) => Ok(Frame(frame)),
                        Err(_) if self.cancel.is_cancelled() => Err(destroyed()),
                        // `done`: the stream closed because the source ended.
                        Err(_) => Err(ended()),
                    };
                }
                Waited::Settled(Err(e)) => {
                    return Err(browser_error(Code::CaptureFailed, "reading a frame", &e))
                }
                Waited::TimedOut => self.still_waiting(track, clone, deadline),
                Waited::Cancelled => Err(destroyed()),
            };
            if let Err(e) = still_waiting {
                close_when_settled(&read);
                return Err(e);
            }
        }
    }

    async fn grab_with_element(&self, track: &MediaStreamTrack) -> Result<Frame> {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or_else(|| Error::new(Code::NotSupported, "no document to play the track in"))?;
        let video: HtmlVideoElement = document
            .create_element("video")
            .map_err(|e| browser_error(Code::CaptureFailed, "creating a video element", &e))?
            .unchecked_into();
        let clone = TrackClone::of(track);
        let stream = MediaStream::new_with_tracks(&Array::of1(&clone.0))
            .map_err(|e| browser_error(Code::CaptureFailed, "MediaStream", &e))?;
        let player = Player { video, clone };
        player.video.set_muted(true);
        let _ = player.video.set_attribute("playsinline", "");
        player.video.set_src_object(Some(&stream));
        if let Ok(playing) = player.video.play() {
            js::settle_quietly(&playing, &self.ignore);
        }
        let deadline = js::now_ms() + f64::from(self.timeout_ms);
        // HAVE_CURRENT_DATA: the element holds a decoded frame, which arrived after the call
        // because the element did not exist before it.
        while player.video.ready_state() < 2 || player.video.video_width() == 0 {
            let cancelled = self.cancel.signal();
            if let Waited::Cancelled = wait_for(None, Some(&timer(POLL_MS)), Some(&cancelled)).await
            {
                return Err(destroyed());
            }
            self.still_waiting(track, &player.clone.0, deadline)?;
        }
        VideoFrame::new_with_html_video_element(&player.video)
            .map(Frame)
            .map_err(|e| browser_error(Code::CaptureFailed, "new VideoFrame(video)", &e))
    }

    /// Between polls of a wait: fails once the page's track (or our clone of it) has ended,
    /// or the deadline has passed.
    fn still_waiting(
        &self,
        track: &MediaStreamTrack,
        clone: &MediaStreamTrack,
        deadline: f64,
    ) -> Result<()> {
        let ended_now = |t: &MediaStreamTrack| t.ready_state() == MediaStreamTrackState::Ended;
        if ended_now(track) || ended_now(clone) {
            Err(ended())
        } else if js::now_ms() >= deadline {
            Err(Error::new(
                Code::FrameTimeout,
                format!(
                    "no frame arrived within {} ms (is the track muted or its source paused?)",
                    self.timeout_ms
                ),
            ))
        } else {
            Ok(())
        }
    }

    /// The frame's pixels as RGBA, still in a JavaScript buffer.
    pub async fn read(&self, frame: &Frame) -> Result<Pixels> {
        let f = &frame.0;
        let (dw, dh) = (f.display_width(), f.display_height());
        let (w, h) = f
            .visible_rect()
            .map(|r| (r.width() as u32, r.height() as u32))
            .unwrap_or((dw, dh));
        if w == 0 || h == 0 || dw == 0 || dh == 0 {
            return Err(Error::new(Code::CaptureFailed, "the frame has no pixels"));
        }
        if self.rgba_copy.get() {
            if let Some(data) = self.copy_rgba(f, w, h).await {
                let info = FrameInfo {
                    width: w,
                    height: h,
                    display_width: dw,
                    display_height: dh,
                };
                return Ok(Pixels { info, data });
            }
        }
        self.draw_rgba(f, dw, dh)
    }

    /// `copyTo` with the browser's RGBA conversion; `None` where that is not available.
    async fn copy_rgba(&self, f: &VideoFrame, w: u32, h: u32) -> Option<PixelData> {
        let options = VideoFrameCopyToOptions::new();
        options.set_format(VideoPixelFormat::Rgba);
        js::set(&options, "colorSpace", &JsValue::from_str("srgb"));
        let len = w.checked_mul(h)?.checked_mul(4)?;
        // A browser that ignores `format` reports the native size: treat it as "no conversion".
        if f.allocation_size_with_options(&options).ok() != Some(len) {
            self.rgba_copy.set(false);
            return None;
        }
        let buffer = self.take_scratch(len);
        let view = buffer.subarray(0, len);
        let copied = match f.unchecked_ref::<CheckedFrame>().copy_to(&view, &options) {
            Ok(promise) => JsFuture::from(promise).await.is_ok(),
            Err(_) => false,
        };
        if copied {
            Some(PixelData::Scratch(buffer, len))
        } else {
            self.put_scratch(buffer);
            None
        }
    }

    fn draw_rgba(&self, f: &VideoFrame, w: u32, h: u32) -> Result<Pixels> {
        let fail = |e: JsValue| browser_error(Code::CaptureFailed, "drawing the frame", &e);
        let canvas = OffscreenCanvas::new(w, h).map_err(fail)?;
        let ctx: OffscreenCanvasRenderingContext2d = canvas
            .get_context("2d")
            .map_err(fail)?
            .ok_or_else(|| Error::new(Code::CaptureFailed, "no 2d context on OffscreenCanvas"))?
            .unchecked_into();
        ctx.draw_image_with_video_frame(f, 0.0, 0.0).map_err(fail)?;
        let image = ctx
            .get_image_data(0.0, 0.0, f64::from(w), f64::from(h))
            .map_err(fail)?;
        Ok(Pixels {
            info: FrameInfo::square(w, h),
            data: PixelData::Canvas(get(&image, "data")),
        })
    }

    /// Copies the pixels into `dst` (sized by the caller to `len()`) and recycles the buffer.
    pub fn copy_into(&self, pixels: Pixels, dst: &mut [u8]) -> Result<()> {
        match pixels.data {
            PixelData::Scratch(buffer, len) => {
                let ok = dst.len() == len as usize;
                if ok {
                    buffer.subarray(0, len).copy_to(dst);
                }
                self.put_scratch(buffer);
                ok
            }
            PixelData::Canvas(data) => match data.dyn_into::<js_sys::Uint8ClampedArray>() {
                Ok(array) if array.length() as usize == dst.len() => {
                    array.copy_to(dst);
                    true
                }
                _ => false,
            },
        }
        .then_some(())
        .ok_or_else(|| {
            Error::new(
                Code::CaptureFailed,
                "the frame's pixel buffer has the wrong size",
            )
        })
    }

    fn take_scratch(&self, len: u32) -> Uint8Array {
        match self.scratch.borrow_mut().take() {
            Some(b) if b.length() >= len => b,
            _ => Uint8Array::new_with_length(len),
        }
    }

    fn put_scratch(&self, buffer: Uint8Array) {
        let mut slot = self.scratch.borrow_mut();
        // Keep the larger one when two snapshots ran at once.
        if slot.as_ref().is_none_or(|b| b.length() < buffer.length()) {
            *slot = Some(buffer);
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop_sweeper();
    }
}

impl Pixels {
    /// Bytes of RGBA the pixels take.
    pub fn byte_len(&self) -> usize {
        self.info.width as usize * self.info.height as usize * 4
    }
}

/// Our own clone of the page's track, stopped when dropped: the one place a second live
/// track is made, so that nothing we do (a processor, a player) touches the page's track.
struct TrackClone(MediaStreamTrack);

impl TrackClone {
    #[allow(clippy::disallowed_methods)]
    fn of(track: &MediaStreamTrack) -> TrackClone {
        TrackClone(MediaStreamTrack::clone(track))
    }
}

impl Drop for TrackClone {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// A processor kept for a started stream: the page's track, our clone, the clone's reader.
struct Held {
    track: MediaStreamTrack,
    clone: TrackClone,
    reader: Cancelled,
    /// Snapshots reading from it now.
    reads: Rc<Cell<u32>>,
    /// Its stream stopped: dropped once `reads` is 0.
    retired: Cell<bool>,
}

/// One read of a kept processor in progress, counted until dropped (also when the snapshot's
/// future is dropped midway).
struct Reading(Rc<Cell<u32>>);

impl Reading {
    fn start(reads: Rc<Cell<u32>>) -> Reading {
        reads.set(reads.get().saturating_add(1));
        Reading(reads)
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// A stream reader that is cancelled when dropped (ending the processor's stream); the
/// second field swallows the cancellation's outcome.
struct Cancelled(ReadableStreamDefaultReader, Function);

impl Drop for Cancelled {
    fn drop(&mut self) {
        js::settle_quietly(&self.0.cancel(), &self.1);
    }
}

/// The off-document player of the element path, torn down when dropped (then its clone
/// stops).
struct Player {
    video: HtmlVideoElement,
    clone: TrackClone,
}

impl Drop for Player {
    fn drop(&mut self) {
        let _ = self.video.pause();
        self.video.set_src_object(None);
    }
}

/// A read we stopped waiting for may still deliver a frame: close it when it does.
fn close_when_settled(read: &Promise) {
    let close = Closure::once_into_js(|result: JsValue| {
        if let Ok(frame) = get(&result, "value").dyn_into::<VideoFrame>() {
            frame.close();
        }
    });
    js::settle_quietly(read, close.unchecked_ref());
}

fn ended() -> Error {
    Error::new(
        Code::TrackEnded,
        "the track ended before a frame could be read",
    )
}

pub(crate) fn destroyed() -> Error {
    Error::new(
        Code::Destroyed,
        "the engine was destroyed before the snapshot finished",
    )
}
