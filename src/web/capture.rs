//! Getting one fresh frame out of a `MediaStreamTrack`, and its pixels out of the frame.
//!
//! Three frame readers, chosen by feature detection:
//! - **processor** (Chromium): a `MediaStreamTrackProcessor` on a clone of the track, kept for
//!   as long as the stream is started, with a one-frame buffer: the browser keeps only the
//!   newest frame (no JavaScript runs per frame), so a snapshot takes the picture the track
//!   shows now without waiting for the next frame. A muted track (a remote stream whose
//!   packets stopped) gets a processor of its own and must deliver a frame after the call.
//! - **processor in the Worker** (Safari 18+, which offers the processor only in Workers): the
//!   clone is transferred to the engine's Worker, whose processor is read continuously there
//!   (WebKit's one-frame buffer keeps the oldest frame, not the newest); a snapshot gets a
//!   copy of the newest frame back. Screen captures take the element reader: WebKit's Worker
//!   processor gets no frames from them.
//! - **element** (Firefox, and WebKit without the processor): an off-document `<video>`
//!   playing a clone of the track, kept like a processor; `new VideoFrame(video)` takes the
//!   frame it shows (a new player's first frame arrives after the call).
//!
//! Every way, the page's own track and `<video>` elements are untouched (the clone is stopped
//! when its stream stops, or within [`SWEEP_MS`] of the page stopping its track), the wait is
//! bounded by the frame timeout, and every reader's `VideoFrame` is closed by [`Frame`]'s
//! `Drop`.
//!
//! Pixels: a frame's own RGBA or BGRA bytes, else `VideoFrame.copyTo` with `format: "RGBA"`
//! where the browser converts; otherwise the frame is drawn on an `OffscreenCanvas` and read
//! back. Either way they cross into wasm once.

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

use super::js::{self, browser_error, get};
use super::wait::{self, timer, wait_for, Canceller, Interval, Waited};
use super::worker::{Request, Started, WorkerLink};
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

    /// A `MediaStreamTrack` whose `getSettings` is caught (a caller's object may be a subclass).
    #[wasm_bindgen(js_name = MediaStreamTrack)]
    type CheckedTrack;

    #[wasm_bindgen(method, catch, js_name = getSettings)]
    fn get_settings(this: &CheckedTrack) -> std::result::Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch, js_name = copyTo)]
    fn copy_to(
        this: &CheckedFrame,
        destination: &Uint8Array,
        options: &VideoFrameCopyToOptions,
    ) -> std::result::Result<Promise, JsValue>;
}

/// How often a wait for a frame checks whether the track ended, in milliseconds.
const POLL_MS: u32 = 20;

/// How often kept sources check whether the page stopped its track (`stop()` fires no
/// event): our clone would otherwise keep the camera on.
const SWEEP_MS: u32 = 250;

/// How frames are taken from tracks in this browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Processor,
    WorkerProcessor,
    Element,
    /// No `VideoFrame` at all: every snapshot fails with `ERR_NOT_SUPPORTED`.
    Unsupported,
}

impl Reader {
    pub fn as_str(self) -> &'static str {
        match self {
            Reader::Processor => "MediaStreamTrackProcessor",
            Reader::WorkerProcessor => "MediaStreamTrackProcessor in a Worker",
            Reader::Element => "video element",
            Reader::Unsupported => "unsupported",
        }
    }

    fn detect() -> Reader {
        let global = js_sys::global();
        let has = |name: &str| Reflect::has(&global, &JsValue::from_str(name)).unwrap_or(false);
        if !has("VideoFrame") {
            Reader::Unsupported
        } else if has("MediaStreamTrackProcessor") {
            Reader::Processor
        } else if has("document") {
            Reader::Element
        } else {
            Reader::Unsupported
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
    /// The bytes are B, G, R, A (a WebKit frame's own), not R, G, B, A.
    pub bgra: bool,
}

enum PixelData {
    /// The first `len` bytes of a reusable buffer.
    Scratch(Uint8Array, u32),
    /// `ImageData.data` from the canvas path.
    Canvas(JsValue),
}

/// Frame capture for one engine.
pub struct Capture {
    /// The reader this page offers by itself.
    reader: Reader,
    /// The engine's Worker, which reads frames where only Workers have the processor.
    link: Option<Rc<WorkerLink>>,
    timeout_ms: u32,
    /// Whether `copyTo({format: "RGBA"})` may convert here; cleared after the first refusal.
    rgba_copy: Cell<bool>,
    scratch: RefCell<Option<Uint8Array>>,
    /// The sources kept for started streams.
    held: Rc<RefCell<Vec<Held>>>,
    /// While sources are kept: the interval that ends those whose page track ended.
    sweeper: RefCell<Option<Interval>>,
    /// Flipped by [`Capture::cancel_all`], which also ends the readers: their `done` then
    /// means "destroyed", not "ended". Every wait races against one of its signals.
    cancel: Canceller,
    /// Swallows the outcome of promises we abandon (a `play()` interrupted by cleanup).
    ignore: Function,
}

impl Capture {
    pub fn new(timeout_ms: u32, link: Option<Rc<WorkerLink>>) -> Capture {
        let ignore = Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {});
        Capture {
            reader: Reader::detect(),
            link,
            timeout_ms,
            rgba_copy: Cell::new(true),
            scratch: RefCell::new(None),
            held: Rc::new(RefCell::new(Vec::new())),
            sweeper: RefCell::new(None),
            cancel: Canceller::new(),
            ignore: ignore.into_js_value().unchecked_into(),
        }
    }

    /// How the next snapshot takes its frame (settled once the Worker has started).
    pub fn reader(&self) -> Reader {
        match (&self.link, self.reader) {
            (Some(link), Reader::Element) if link.has_processor() => Reader::WorkerProcessor,
            (_, reader) => reader,
        }
    }

    /// Whether the Worker, once started, has the processor this page lacks.
    async fn worker_reads(&self) -> Result<bool> {
        let Some(link) = self.link.as_ref().filter(|l| l.usable()) else {
            return Ok(false);
        };
        match link.started(&self.cancel).await {
            Started::Cancelled => Err(Error::destroyed()),
            Started::No => Ok(false),
            Started::Yes => Ok(link.has_processor()),
        }
    }

    /// Flipped when the engine is destroyed.
    pub fn canceller(&self) -> &Canceller {
        &self.cancel
    }

    /// Ends every wait in progress with `ERR_DESTROYED`, and every kept source.
    pub fn cancel_all(&self) {
        self.cancel.cancel();
        let all = std::mem::take(&mut *self.held.borrow_mut());
        drop(all);
        self.stop_sweeper();
    }

    /// Ends the kept sources of tracks that are not in `live` (streams that stopped); one
    /// that a snapshot is reading from ends when that read is over.
    pub fn keep_only(&self, live: &[&MediaStreamTrack]) {
        for h in self.held.borrow().iter() {
            if !live.iter().any(|t| **t == h.track) {
                h.retired.set(true);
            }
        }
        self.drop_retired();
    }

    /// Drops the retired sources nobody is reading from.
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

    /// A frame of `track`: the picture it shows now, from the source kept for its stream (made
    /// on the first call, which waits for its first frame); a muted track's from a source of
    /// its own, which must deliver a frame after the call.
    pub async fn grab(&self, track: &MediaStreamTrack) -> Result<Frame> {
        if track.ready_state() == MediaStreamTrackState::Ended {
            return Err(ended());
        }
        let kind = match self.reader {
            Reader::Processor => Kind::Processor,
            // WebKit's processor in a Worker gets no frames from a screen capture (measured:
            // WebKitGTK 2.50): those are played in a <video> instead.
            Reader::Element if !is_screen(track) && self.worker_reads().await? => Kind::Worker,
            Reader::Element | Reader::WorkerProcessor => Kind::Player,
            Reader::Unsupported => {
                return Err(Error::new(
                    Code::NotSupported,
                    "this browser has no VideoFrame: snapshots are not possible here",
                ))
            }
        };
        match self.grab_from(track, kind).await {
            // A processor that cannot be built (a future browser that hides it on windows,
            // say) leaves the element reader.
            Err(e) if e.code == Code::NotSupported && kind != Kind::Player => {
                self.grab_from(track, Kind::Player).await
            }
            other => other,
        }
    }

    async fn grab_from(&self, track: &MediaStreamTrack, kind: Kind) -> Result<Frame> {
        if track.muted() {
            // Its newest frame may be old: wait for one that arrives after the call.
            let source = self.open(track, kind, false)?;
            return self.frame_from(track, &source).await;
        }
        let (source, reads) = self.held_source(track, kind)?;
        let reading = Reading::start(reads);
        let frame = self.frame_from(track, &source).await;
        drop(reading);
        if matches!(&frame, Err(e) if e.code == Code::TrackEnded) {
            for h in self.held.borrow().iter().filter(|h| h.track == *track) {
                h.retired.set(true);
            }
        }
        self.drop_retired();
        frame
    }

    /// A new source of `kind` on a clone of `track`; a processor that is `kept` holds one
    /// frame (the newest) unread.
    fn open(&self, track: &MediaStreamTrack, kind: Kind, kept: bool) -> Result<Rc<FrameSource>> {
        let clone = TrackClone::of(track);
        let source = match kind {
            Kind::Processor => {
                let init = Object::new();
                js::set(&init, "track", &clone.0);
                if kept {
                    js::set(&init, "maxBufferSize", &1.into());
                }
                let processor = TrackProcessor::new(&init).map_err(|e| {
                    browser_error(Code::NotSupported, "MediaStreamTrackProcessor", &e)
                })?;
                let readable = processor.readable().map_err(|e| {
                    browser_error(Code::CaptureFailed, "MediaStreamTrackProcessor", &e)
                })?;
                FrameSource::Processor {
                    reader: readable.get_reader().unchecked_into(),
                    clone,
                    ignore: self.ignore.clone(),
                }
            }
            Kind::Worker => {
                let link = self
                    .link
                    .clone()
                    .filter(|l| l.has_processor())
                    .ok_or_else(|| {
                        Error::new(Code::NotSupported, "no MediaStreamTrackProcessor")
                    })?;
                FrameSource::in_worker(link, clone)?
            }
            Kind::Player => FrameSource::Player(Player::start(clone, &self.ignore)?),
        };
        Ok(Rc::new(source))
    }

    /// The source kept for `track` (made on first use), and the count of reads in progress.
    fn held_source(
        &self,
        track: &MediaStreamTrack,
        kind: Kind,
    ) -> Result<(Rc<FrameSource>, Rc<Cell<u32>>)> {
        let mut held = self.held.borrow_mut();
        if let Some(h) = held.iter().find(|h| {
            h.track == *track
                && h.source.kind() == kind
                && !h.retired.get()
                && !h.source.clone_ended()
        }) {
            return Ok((h.source.clone(), h.reads.clone()));
        }
        let source = self.open(track, kind, true)?;
        let reads = Rc::new(Cell::new(0));
        held.push(Held {
            track: Clone::clone(track),
            source: source.clone(),
            reads: reads.clone(),
            retired: Cell::new(false),
        });
        drop(held);
        self.start_sweeper();
        Ok((source, reads))
    }

    /// A frame from `source`, within the frame timeout.
    async fn frame_from(&self, track: &MediaStreamTrack, source: &FrameSource) -> Result<Frame> {
        match source {
            FrameSource::Player(player) => self.frame_shown(track, player).await,
            reader => self.read_frame(track, reader).await,
        }
    }

    /// The next frame a processor's reader yields.
    async fn read_frame(&self, track: &MediaStreamTrack, reader: &FrameSource) -> Result<Frame> {
        let read = reader.read()?;
        let deadline = wait::now_ms() + f64::from(self.timeout_ms);
        loop {
            let cancelled = self.cancel.signal();
            let waited = wait_for(Some(&read), Some(&timer(POLL_MS)), Some(&cancelled)).await;
            let still_waiting = match waited {
                Waited::Settled(Ok(result)) => {
                    return match get(&result, "value").dyn_into::<VideoFrame>() {
                        Ok(frame) => Ok(Frame(frame)),
                        Err(_) if self.cancel.is_cancelled() => Err(Error::destroyed()),
                        // The Worker's reader failed, or did not answer.
                        Err(_) if !get(&result, "message").is_undefined() => Err(Error::new(
                            Code::CaptureFailed,
                            format!(
                                "reading a frame in the Worker: {}",
                                get(&result, "message").as_string().unwrap_or_default()
                            ),
                        )),
                        // `done`: the stream closed because the source ended.
                        Err(_) => Err(ended()),
                    };
                }
                Waited::Settled(Err(e)) => {
                    return Err(browser_error(Code::CaptureFailed, "reading a frame", &e))
                }
                Waited::TimedOut => self.still_waiting(track, reader.clone_ended(), deadline),
                Waited::Cancelled => Err(Error::destroyed()),
            };
            if let Err(e) = still_waiting {
                close_when_settled(&read);
                return Err(e);
            }
        }
    }

    /// The frame `player` shows, once it shows one.
    async fn frame_shown(&self, track: &MediaStreamTrack, player: &Player) -> Result<Frame> {
        let deadline = wait::now_ms() + f64::from(self.timeout_ms);
        loop {
            // HAVE_CURRENT_DATA: the element holds a decoded frame (a new element's arrived
            // after the call, because the element did not exist before it).
            if player.video.ready_state() >= 2 && player.video.video_width() > 0 {
                match VideoFrame::new_with_html_video_element(&player.video) {
                    Ok(frame) => return Ok(Frame(frame)),
                    // WebKit says HAVE_CURRENT_DATA a moment before it can hand the frame out.
                    Err(e)
                        if get(&e, "name").as_string().as_deref() == Some("InvalidStateError") => {}
                    Err(e) => {
                        return Err(browser_error(
                            Code::CaptureFailed,
                            "new VideoFrame(video)",
                            &e,
                        ))
                    }
                }
            }
            let cancelled = self.cancel.signal();
            if let Waited::Cancelled = wait_for(None, Some(&timer(POLL_MS)), Some(&cancelled)).await
            {
                return Err(Error::destroyed());
            }
            let clone_ended = player.clone.0.ready_state() == MediaStreamTrackState::Ended;
            self.still_waiting(track, clone_ended, deadline)?;
        }
    }

    /// Between polls of a wait: fails once the page's track (or our clone of it) has ended,
    /// or the deadline has passed.
    fn still_waiting(
        &self,
        track: &MediaStreamTrack,
        clone_ended: bool,
        deadline: f64,
    ) -> Result<()> {
        if clone_ended || track.ready_state() == MediaStreamTrackState::Ended {
            Err(ended())
        } else if wait::now_ms() >= deadline {
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

    /// The frame's pixels as 4-byte RGB, still in a JavaScript buffer.
    pub async fn read(&self, frame: &Frame) -> Result<Pixels> {
        let f = &frame.0;
        let (dw, dh) = (f.display_width(), f.display_height());
        let (w, h) = f
            .visible_rect()
            .map(|r| (r.width() as u32, r.height() as u32))
            .unwrap_or((dw, dh));
        let info = FrameInfo {
            width: w,
            height: h,
            display_width: dw,
            display_height: dh,
        }
        .checked()?;
        if let Some((data, bgra)) = self.copy_rgb(f, w, h).await {
            return Ok(Pixels { info, data, bgra });
        }
        self.draw_rgba(f, dw, dh)
    }

    /// `copyTo` into 4-byte pixels, and whether they are B, G, R, A: the frame's own pixels
    /// where they are RGB in sRGB (WebKit's `copyTo` ignores `format` and always gives these),
    /// else the browser's RGBA conversion; `None` where neither is available. The same choice
    /// as the encoder worker's.
    async fn copy_rgb(&self, f: &VideoFrame, w: u32, h: u32) -> Option<(PixelData, bool)> {
        let len = w.checked_mul(h)?.checked_mul(4)?;
        let own = f.allocation_size().ok();
        let options = VideoFrameCopyToOptions::new();
        let bgra = match f.format() {
            Some(VideoPixelFormat::Rgba | VideoPixelFormat::Rgbx)
                if own == Some(len) && srgb(f) =>
            {
                false
            }
            Some(VideoPixelFormat::Bgra | VideoPixelFormat::Bgrx)
                if own == Some(len) && srgb(f) =>
            {
                true
            }
            _ if self.rgba_copy.get() => {
                options.set_format(VideoPixelFormat::Rgba);
                js::set(&options, "colorSpace", &JsValue::from_str("srgb"));
                // A browser that ignores `format` reports the frame's own size: no conversion.
                let converted = f.allocation_size_with_options(&options).ok();
                if converted != Some(len) {
                    self.rgba_copy.set(false);
                    return None;
                }
                if own == converted {
                    // Its own pixels take as many bytes: whether it converts cannot be told.
                    return None;
                }
                false
            }
            _ => return None,
        };
        let buffer = self.take_scratch(len);
        let view = buffer.subarray(0, len);
        let copied = match f.unchecked_ref::<CheckedFrame>().copy_to(&view, &options) {
            Ok(promise) => JsFuture::from(promise).await.is_ok(),
            Err(_) => false,
        };
        if copied {
            Some((PixelData::Scratch(buffer, len), bgra))
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
            bgra: false,
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

/// A source kept for a started stream: the page's track and the source on our clone of it.
struct Held {
    track: MediaStreamTrack,
    source: Rc<FrameSource>,
    /// Snapshots reading from it now.
    reads: Rc<Cell<u32>>,
    /// Its stream stopped: dropped once `reads` is 0.
    retired: Cell<bool>,
}

/// One read of a kept source in progress, counted until dropped (also when the snapshot's
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

/// The kinds of [`FrameSource`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Processor,
    Worker,
    Player,
}

/// Where a stream's frames come from; dropping it ends the source and our clone.
enum FrameSource {
    /// A processor on this page; `ignore` swallows the cancellation's outcome.
    Processor {
        reader: ReadableStreamDefaultReader,
        clone: TrackClone,
        ignore: Function,
    },
    /// A processor in the Worker, on our clone transferred there (the clone now lives, and
    /// ends, in the Worker).
    Worker { link: Rc<WorkerLink>, id: u32 },
    /// An off-document `<video>` playing our clone.
    Player(Player),
}

thread_local! {
    /// Numbers the readers opened in Workers (unique per page, whatever the engine).
    static NEXT_READER: Cell<u32> = const { Cell::new(0) };
}

impl FrameSource {
    /// Transfers `clone` to `link`'s Worker, where a processor reads it.
    fn in_worker(link: Rc<WorkerLink>, clone: TrackClone) -> Result<FrameSource> {
        let id = NEXT_READER.with(|n| {
            n.set(n.get().wrapping_add(1));
            n.get()
        });
        let open: JsValue = Object::new().into();
        js::set(&open, "open", &id.into());
        js::set(&open, "track", &clone.0);
        if !link.post(&open, &Array::of1(&clone.0)) {
            return Err(Error::new(
                Code::NotSupported,
                "the track could not be sent to the Worker",
            ));
        }
        // Transferred: the page's handle is ended; the Worker stops its clone on `close`.
        std::mem::forget(clone);
        Ok(FrameSource::Worker { link, id })
    }

    fn kind(&self) -> Kind {
        match self {
            FrameSource::Processor { .. } => Kind::Processor,
            FrameSource::Worker { .. } => Kind::Worker,
            FrameSource::Player(_) => Kind::Player,
        }
    }

    /// A processor's next frame, as `ReadableStreamDefaultReader.read()` gives it: `{ value }`
    /// or `{ done }` (or, from the Worker, `{ code, message }`).
    fn read(&self) -> Result<Promise> {
        match self {
            FrameSource::Processor { reader, .. } => Ok(reader.read()),
            FrameSource::Worker { link, id } => {
                let request: Request = Object::new().unchecked_into();
                js::set(&request, "read", &(*id).into());
                link.request(&request, &Array::new()).ok_or_else(|| {
                    Error::new(Code::CaptureFailed, "the Worker that reads frames stopped")
                })
            }
            FrameSource::Player(_) => {
                Err(Error::new(Code::CaptureFailed, "a player has no reader"))
            }
        }
    }

    /// Our clone ended (the page's own track may not have).
    fn clone_ended(&self) -> bool {
        match self {
            FrameSource::Processor { clone, .. } | FrameSource::Player(Player { clone, .. }) => {
                clone.0.ready_state() == MediaStreamTrackState::Ended
            }
            FrameSource::Worker { link, .. } => !link.usable(),
        }
    }
}

impl Drop for FrameSource {
    fn drop(&mut self) {
        match self {
            FrameSource::Processor { reader, ignore, .. } => {
                wait::settle_quietly(&reader.cancel(), ignore)
            }
            // The player tears itself down.
            FrameSource::Player(_) => {}
            FrameSource::Worker { link, id } => {
                let close: JsValue = Object::new().into();
                js::set(&close, "close", &(*id).into());
                link.post(&close, &Array::new());
            }
        }
    }
}

/// The off-document player of the element reader, torn down when dropped (then its clone
/// stops).
struct Player {
    video: HtmlVideoElement,
    clone: TrackClone,
}

impl Player {
    /// Starts playing `clone` (muted, inline, no controls, never in the document).
    fn start(clone: TrackClone, ignore: &Function) -> Result<Player> {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or_else(|| Error::new(Code::NotSupported, "no document to play the track in"))?;
        let video: HtmlVideoElement = document
            .create_element("video")
            .map_err(|e| browser_error(Code::CaptureFailed, "creating a video element", &e))?
            .unchecked_into();
        let stream = MediaStream::new_with_tracks(&Array::of1(&clone.0))
            .map_err(|e| browser_error(Code::CaptureFailed, "MediaStream", &e))?;
        let player = Player { video, clone };
        player.video.set_muted(true);
        let _ = player.video.set_attribute("playsinline", "");
        player.video.set_src_object(Some(&stream));
        if let Ok(playing) = player.video.play() {
            wait::settle_quietly(&playing, ignore);
        }
        Ok(player)
    }
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
    wait::settle_quietly(read, close.unchecked_ref());
}

/// A screen (or window, or tab) capture: its settings name a display surface.
fn is_screen(track: &MediaStreamTrack) -> bool {
    track
        .unchecked_ref::<CheckedTrack>()
        .get_settings()
        .is_ok_and(|settings| get(&settings, "displaySurface").is_string())
}

/// The frame's colour space is sRGB's (or not given): its RGB bytes need no conversion.
fn srgb(f: &VideoFrame) -> bool {
    let primaries = get(&get(f, "colorSpace"), "primaries");
    primaries.is_null_or_undefined() || primaries.as_string().as_deref() == Some("bt709")
}

fn ended() -> Error {
    Error::new(
        Code::TrackEnded,
        "the track ended before a frame could be read",
    )
}
