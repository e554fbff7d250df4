//! Scaling, cropping and letterboxing: RGBA frames (mirrored too) with `fast_image_resize`, and
//! single 8-bit planes (a camera frame's luma and chroma) with a resampler of our own.
//!
//! `fast_image_resize` is built with `only_u8x4`: its other pixel types make the gzipped wasm
//! 2.4 times larger (578 kB, not 237 kB). Planes have their own resampler here, with the same
//! filter and geometry as [`Scaler::render`]'s bilinear convolution (a triangle widened by the
//! downscale factor, centred on each output pixel's centre, so a sharp edge lands where it
//! does in RGBA), in fixed point and separable: the vertical pass first, which a compiler
//! vectorises, then the horizontal pass, which does not, over output rows only, four rows
//! sharing each output pixel's taps.

use fast_image_resize::images::{CroppedImageMut, Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use super::digits::display_f64;
use super::error::{Code, Error, Result};
use super::size::{Placement, Rect};

/// Opaque black in RGBA, the colour of letterbox bars.
pub const RGBA_BLACK: [u8; 4] = [0, 0, 0, 255];

/// Resamples frames; keeps its working buffers between calls.
#[derive(Default)]
pub struct Scaler {
    resizer: Resizer,
    columns: Taps,
    rows: Taps,
    /// [`BATCH`] output rows after the vertical pass, over the source columns their taps
    /// reach, with [`BETWEEN_BITS`] fractional bits; and one row's partial sums.
    between: Vec<u16>,
    sums: Vec<i32>,
}

impl Scaler {
    pub fn new() -> Self {
        Scaler::default()
    }

    /// Draws `src` (RGBA, `src_size`) into `dst` (resized to `dst_size` RGBA) as `placement`
    /// says, bars black, then mirrors the result left to right when `mirror` is set.
    pub fn render(
        &mut self,
        src: &[u8],
        src_size: (u32, u32),
        placement: &Placement,
        dst: &mut Vec<u8>,
        dst_size: (u32, u32),
        mirror: bool,
    ) -> Result<()> {
        let (dw, dh) = dst_size;
        // Sizes are written out as "(w, h)": a tuple's Debug would link its formatters.
        let len = (dw as usize)
            .checked_mul(dh as usize)
            .and_then(|n| n.checked_mul(4))
            .ok_or_else(|| failed(format!("output ({dw}, {dh}) is too large")))?;
        dst.clear();
        dst.resize(len, 0);
        let (x, y, w, h) = placement.dst;
        if (x, y, w, h) != (0, 0, dw, dh) {
            for px in dst.chunks_exact_mut(4) {
                px.copy_from_slice(&RGBA_BLACK);
            }
        }
        let src_image = ImageRef::new(src_size.0, src_size.1, src, PixelType::U8x4)
            .map_err(|e| failed(format!("source ({}, {}): {e}", src_size.0, src_size.1)))?;
        let mut dst_image = Image::from_slice_u8(dw, dh, dst, PixelType::U8x4)
            .map_err(|e| failed(format!("output ({dw}, {dh}): {e}")))?;
        let mut area = CroppedImageMut::new(&mut dst_image, x, y, w, h)
            .map_err(|e| failed(format!("placement ({x}, {y}, {w}, {h}): {e}")))?;
        let r = placement.src;
        let options = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
            .crop(r.left, r.top, r.width, r.height)
            // Video frames are opaque: skip the premultiply/unpremultiply passes.
            .use_alpha(false);
        self.resizer
            .resize(&src_image, &mut area, &options)
            .map_err(|e| failed(format!("resize: {e}")))?;
        if mirror {
            mirror_rows(dst, dw);
        }
        Ok(())
    }

    /// Resamples the `from` part of plane `src` into the `to` rectangle `(x, y, w, h)` of plane
    /// `dst` (bilinear, as [`Scaler::render`]); the rest of `dst` is left as it is. Both planes
    /// hold `N` interleaved samples a pixel (1; 2 for NV12's U, V pairs), resampled alike.
    ///
    /// `from` may reach past `src`'s edges (a chroma cell half covered by the picture): the
    /// filter leaves out what lies past an edge, so the edge's own colour extends.
    pub fn resample_plane<const N: usize>(
        &mut self,
        src: Plane<'_>,
        from: Rect,
        dst: PlaneMut<'_>,
        to: (u32, u32, u32, u32),
    ) -> Result<()> {
        let (x, y, w, h) = to;
        let src_row = src.row_len::<N>()?;
        let dst_row = dst.as_ref().row_len::<N>()?;
        let inside = x.checked_add(w).is_some_and(|r| r <= dst.width)
            && y.checked_add(h).is_some_and(|b| b <= dst.height);
        if !inside {
            return Err(failed(format!(
                "area ({x}, {y}, {w}, {h}) is outside the {}×{} plane",
                dst.width, dst.height
            )));
        }
        if w == 0 || h == 0 {
            return Ok(());
        }
        let (columns, rows) = (&mut self.columns, &mut self.rows);
        columns.set(
            src.width,
            (from.left, from.width),
            w,
            src.sampling,
            COLUMN_BITS,
        )?;
        rows.set(
            src.height,
            (from.top, from.height),
            h,
            src.sampling,
            ROW_BITS,
        )?;
        // The source columns the taps reach: the vertical pass makes these only.
        let first = columns.starts.first().copied().unwrap_or(0);
        let last = columns.starts.last().copied().unwrap_or(0);
        let (c0, c1) = (first * N, (last + columns.count) * N);
        let span = c1.saturating_sub(c0).max(1);
        self.between.resize(span * BATCH, 0);
        self.sums.resize(span, 0);
        let (x, w) = (x as usize, w as usize);
        let mut out_rows = dst
            .samples
            .chunks_exact_mut(dst_row)
            .skip(y as usize)
            .zip(rows.windows());
        loop {
            let mut outs: [&mut [u8]; BATCH] = Default::default();
            let mut filled = 0;
            let made = self.between.chunks_exact_mut(span);
            for ((out, between), (out_row, taps)) in outs.iter_mut().zip(made).zip(&mut out_rows) {
                let sums = &mut self.sums;
                vertical(src.samples, src_row, taps, (c0, c1), sums, between);
                *out = out_row.get_mut(x * N..(x + w) * N).unwrap_or_default();
                filled += 1;
            }
            if filled == 0 {
                return Ok(());
            }
            let mut between = [&[][..]; BATCH];
            for (b, row) in between.iter_mut().zip(self.between.chunks_exact(span)) {
                *b = row;
            }
            horizontal::<N>(between, filled, first, columns, outs);
        }
    }
}

/// A plane of 8-bit samples, rows tightly packed.
#[derive(Debug, Clone, Copy)]
pub struct Plane<'a> {
    pub samples: &'a [u8],
    /// In pixels (of `N` samples each, see [`Scaler::resample_plane`]).
    pub width: u32,
    pub height: u32,
    pub sampling: Sampling,
}

/// How much of the picture a plane's pixel stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// One pixel (luma).
    Full,
    /// Two pixels each way (4:2:0 chroma): the filter spans as much of the picture as a full
    /// plane's, so half as many of its samples. One as wide in samples as luma's blurred the
    /// chroma more than scaling it at full resolution then averaging 2×2 blocks (the packed
    /// path before planes): on the 1920×1080 frame of `examples/encode_paths.rs` its JPEGs came
    /// out 0.1 to 0.6 dB further from the RGBA reference than that path's, these 0.0 to 0.3 dB
    /// closer.
    Half,
}

impl Sampling {
    /// The filter's radius per unit of downscale, in the plane's samples.
    fn widen(self) -> f64 {
        match self {
            Sampling::Full => 1.0,
            Sampling::Half => 0.5,
        }
    }
}

/// A plane to write, rows tightly packed.
#[derive(Debug)]
pub struct PlaneMut<'a> {
    pub samples: &'a mut [u8],
    pub width: u32,
    pub height: u32,
}

impl Plane<'_> {
    /// Bytes in a row of `N`-sample pixels, once the plane's length is checked.
    fn row_len<const N: usize>(&self) -> Result<usize> {
        let row = (self.width as usize).checked_mul(N).unwrap_or(0);
        match row.checked_mul(self.height as usize) {
            Some(len) if len == self.samples.len() && len > 0 => Ok(row),
            _ => Err(failed(format!(
                "{} bytes do not make a {}×{} plane of {N} samples a pixel",
                self.samples.len(),
                self.width,
                self.height
            ))),
        }
    }
}

impl PlaneMut<'_> {
    fn as_ref(&self) -> Plane<'_> {
        Plane {
            samples: self.samples,
            width: self.width,
            height: self.height,
            sampling: Sampling::Full,
        }
    }
}

/// Fractional bits of the weights (each output's sum to exactly one, so flat colour stays
/// exact), and of the values between the two passes: a weight times such a value fits in 31
/// bits.
const ROW_BITS: u32 = 14;
const COLUMN_BITS: u32 = 14;
const BETWEEN_BITS: u32 = 6;
/// From the vertical pass's sums to `between`, rounded.
const VERTICAL_SHIFT: u32 = ROW_BITS - BETWEEN_BITS;
const VERTICAL_HALF: i32 = 1 << (VERTICAL_SHIFT - 1);

/// The filter taps of every output pixel along one axis: output `i` takes source samples
/// `starts[i] .. starts[i] + count` with weights `weights[i·count ..][..count]`.
#[derive(Default)]
struct Taps {
    starts: Vec<usize>,
    weights: Vec<u16>,
    count: usize,
    /// One output's weights before quantisation.
    exact: Vec<f64>,
}

impl Taps {
    /// The taps that resample `[left, left + width)` of `n` source samples into `m` outputs,
    /// with weights of `bits` fractional bits.
    fn set(
        &mut self,
        n: u32,
        (left, width): (f64, f64),
        m: u32,
        sampling: Sampling,
        bits: u32,
    ) -> Result<()> {
        if !(left.is_finite() && width.is_finite() && width > 0.0 && n > 0 && m > 0) {
            let (left, width) = (display_f64(left), display_f64(width));
            return Err(failed(format!(
                "cannot resample [{left}, {left} + {width}) of {n} samples into {m}"
            )));
        }
        let scale = width / f64::from(m);
        // Downscaling widens the triangle to cover every source sample (no aliasing); a
        // half-resolution plane's triangle spans as much of the picture as a full one's.
        let radius = (scale * sampling.widen()).max(1.0);
        let n = n as usize;
        let centre = |i: u32| left + (f64::from(i) + 0.5) * scale;
        // Sample j weighs 1 − |j + ½ − centre| / radius where that is positive; a centre with
        // none of the source's samples in reach (far past an edge) takes the nearest one.
        let reach = |c: f64| -> (usize, usize) {
            let lo = ((c - radius - 0.5).floor() + 1.0).clamp(0.0, n as f64) as usize;
            let hi = (c + radius - 0.5).ceil().clamp(0.0, n as f64) as usize;
            if lo < hi {
                (lo, hi)
            } else {
                // Not `clamp`: its panic message would link float formatting's Debug half.
                let j = c.floor().max(0.0).min(n as f64 - 1.0) as usize;
                (j, j + 1)
            }
        };
        self.count = (0..m)
            .map(|i| {
                let (lo, hi) = reach(centre(i));
                hi - lo
            })
            .max()
            .unwrap_or(1)
            .min(n);
        let count = self.count;
        let one = 1u32 << bits;
        self.starts.clear();
        self.weights.clear();
        for i in 0..m {
            let c = centre(i);
            let (lo, hi) = reach(c);
            let start = lo.min(n - count);
            self.starts.push(start);
            self.exact.clear();
            self.exact.extend((start..start + count).map(|j| {
                if (lo..hi).contains(&j) {
                    (1.0 - ((j as f64 + 0.5 - c) / radius).abs()).max(0.0)
                } else {
                    0.0
                }
            }));
            let sum: f64 = self.exact.iter().sum();
            let at = self.weights.len();
            if sum > 0.0 {
                let quantised = self.exact.iter().map(|w| w / sum * f64::from(one));
                self.weights.extend(quantised.map(|w| w.round() as u16));
            } else {
                // Only the nearest sample (see `reach`): all of it.
                let nearest = (start..start + count).map(|j| if j == lo { one } else { 0 });
                self.weights.extend(nearest.map(|w| w as u16));
            }
            // Rounding may leave the weights a step off their sum: the largest takes it.
            let ws = self.weights.get_mut(at..).unwrap_or_default();
            let total: u32 = ws.iter().map(|w| u32::from(*w)).sum();
            if let Some(top) = ws.iter_mut().max_by_key(|w| **w) {
                *top = (u32::from(*top) + one).saturating_sub(total).min(one) as u16;
            }
        }
        Ok(())
    }

    /// Each output's first source sample and weights.
    fn windows(&self) -> impl Iterator<Item = (usize, &[u16])> {
        self.starts
            .iter()
            .copied()
            .zip(self.weights.chunks_exact(self.count.max(1)))
    }
}

/// The vertical pass for one output row: source rows `start..` weighted by `weights`, over the
/// row bytes `c0..c1`, into `between`; `sums` holds partial sums past four rows.
fn vertical(
    src: &[u8],
    row_len: usize,
    (start, weights): (usize, &[u16]),
    (c0, c1): (usize, usize),
    sums: &mut [i32],
    between: &mut [u16],
) {
    let span = c1.saturating_sub(c0);
    let mut rows = weights.iter().enumerate().filter_map(|(k, &w)| {
        let at = (start + k).checked_mul(row_len)?;
        let row = src.get(at + c0..at + c1)?;
        (w > 0 && row.len() == span).then_some((w, row))
    });
    // Rows four at a time, one pass each (a short group padded with a weight of 0): a
    // sample's sum stays in a register across the group's rows.
    let mut group = || -> Option<[(u16, &[u8]); 4]> {
        let first = rows.next()?;
        let mut g = [(0, first.1); 4];
        for (k, slot) in g.iter_mut().enumerate() {
            if k == 0 {
                *slot = first;
            } else if let Some(tap) = rows.next() {
                *slot = tap;
            } else {
                break;
            }
        }
        Some(g)
    };
    let Some(g) = group() else {
        return;
    };
    let Some(mut next) = group() else {
        for (b, d) in between.iter_mut().zip(dots(&g)) {
            *b = ((VERTICAL_HALF + d) >> VERTICAL_SHIFT) as u16;
        }
        return;
    };
    for (s, d) in sums.iter_mut().zip(dots(&g)) {
        *s = VERTICAL_HALF + d;
    }
    loop {
        let Some(after) = group() else {
            for ((b, s), d) in between.iter_mut().zip(sums.iter()).zip(dots(&next)) {
                *b = ((s + d) >> VERTICAL_SHIFT) as u16;
            }
            return;
        };
        for (s, d) in sums.iter_mut().zip(dots(&next)) {
            *s += d;
        }
        next = after;
    }
}

/// Four rows' weighted samples summed, sample by sample.
#[inline(always)]
fn dots<'a>(g: &'a [(u16, &'a [u8]); 4]) -> impl Iterator<Item = i32> + 'a {
    let [(w0, r0), (w1, r1), (w2, r2), (w3, r3)] = *g;
    // Weights below 1 << 15 as 16-bit signed values: a compiler can multiply them with
    // samples in 16-bit lanes into 32-bit sums (`pmaddwd`).
    let [w0, w1, w2, w3] = [w0, w1, w2, w3].map(|w| i32::from(w as i16));
    r0.iter()
        .zip(r1)
        .zip(r2)
        .zip(r3)
        .map(move |(((a, b), c), d)| {
            w0 * i32::from(*a) + w1 * i32::from(*b) + w2 * i32::from(*c) + w3 * i32::from(*d)
        })
}

/// Output rows resampled together by the horizontal pass.
const BATCH: usize = 4;

/// The horizontal pass for the first `filled` of a batch of output rows: each of `between`
/// starts at source pixel `first`.
fn horizontal<const N: usize>(
    between: [&[u16]; BATCH],
    filled: usize,
    first: usize,
    columns: &Taps,
    outs: [&mut [u8]; BATCH],
) {
    // A known tap count lets the compiler unroll the inner loop: 2 to 5 taps cover downscales
    // up to 2× in luma and 4× in chroma (1080p to 720p: 3 to 4 taps; in Chromium this is
    // 3 ms of a 22 ms snapshot). Each count is another copy of the loop in the wasm.
    macro_rules! taps {
        ($($k:literal)*) => {
            match (columns.count, filled) {
                $(($k, BATCH) => horizontal_k::<N, $k, BATCH>(between, first, columns, outs),)*
                _ => {
                    for (b, o) in between.into_iter().zip(outs).take(filled) {
                        horizontal_k::<N, 0, 1>([b], first, columns, [o]);
                    }
                }
            }
        };
    }
    taps!(2 3 4 5);
}

/// [`horizontal`] with `K` taps (0: `columns.count`, any) over `R` rows.
#[inline(always)]
fn horizontal_k<const N: usize, const K: usize, const R: usize>(
    between: [&[u16]; R],
    first: usize,
    columns: &Taps,
    mut outs: [&mut [u8]; R],
) {
    let count = if K == 0 { columns.count.max(1) } else { K };
    let shift = COLUMN_BITS + BETWEEN_BITS;
    let windows = columns
        .starts
        .iter()
        .zip(columns.weights.chunks_exact(count));
    for (i, (&start, weights)) in windows.enumerate() {
        let at = start.saturating_sub(first) * N;
        for (b, o) in between.iter().zip(outs.iter_mut()) {
            let window = b.get(at..at + count * N);
            let (Some(window), Some(px)) = (window, o.get_mut(i * N..i * N + N)) else {
                continue;
            };
            let mut sum = [1i32 << (shift - 1); N];
            match <&[u16; K]>::try_from(weights) {
                // A fixed count: unrolled, no bounds checks.
                Ok(weights) => dot(&mut sum, window, weights),
                Err(_) => dot(&mut sum, window, weights),
            }
            for (o, s) in px.iter_mut().zip(sum) {
                *o = (s >> shift).clamp(0, 255) as u8;
            }
        }
    }
}

/// Adds the weighted pixels of `window` to `sum`.
#[inline(always)]
fn dot<const N: usize>(sum: &mut [i32; N], window: &[u16], weights: &[u16]) {
    for (p, &w) in window.chunks_exact(N).zip(weights) {
        for (s, &v) in sum.iter_mut().zip(p) {
            *s += i32::from(w) * i32::from(v);
        }
    }
}

/// Flips each row of a 4-byte-pixel image left to right, in place.
pub fn mirror_rows(rgba: &mut [u8], width: u32) {
    let row_bytes = (width as usize).saturating_mul(4);
    if row_bytes == 0 {
        return;
    }
    // The left half swaps with the right half read backwards; an odd middle pixel stays.
    let half = row_bytes / 8 * 4;
    for row in rgba.chunks_exact_mut(row_bytes) {
        let Some((left, right)) = row.split_at_mut_checked(half) else {
            continue;
        };
        for (l, r) in left
            .chunks_exact_mut(4)
            .zip(right.chunks_exact_mut(4).rev())
        {
            l.swap_with_slice(r);
        }
    }
}

fn failed(message: String) -> Error {
    Error::new(Code::EncodeFailed, format!("scaling failed: {message}"))
}
