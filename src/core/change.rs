//! Capture only on change (`ImageConfig.ChangeThreshold`): a small luma thumbnail of a frame,
//! and how far two thumbnails differ.
//!
//! The thumbnail is 32×18 cells, each the mean luma of its box of the frame (every pixel
//! counted once). 32×18 is the 16:9 shape of most streams; at 1080p a cell is 60×60 pixels,
//! enough to average sensor noise and compression shimmer away, while a change over a
//! twentieth of the picture (a new line on a slide) still moves a few dozen cells. The
//! difference is the mean absolute difference of the cells in percent of full scale: 0 for the
//! same picture, 100 for black against white.
//!
//! Luma is BT.601's from RGB (weights 77/150/29 of 256), or a YUV frame's Y plane as it is.
//! Limited-range Y (16–235) is stretched to 0–255 so that a camera's YUV frame and the same
//! picture in RGB give about the same thumbnail; a BT.709 frame's Y weighs colours a little
//! differently from BT.601, which moves a saturated colour by a few percent at most (a
//! stream's frames keep one matrix, so its own ticks compare like with like).

use super::protocol::Pixels;
use super::yuv::YuvColor;

/// Cells across and down the thumbnail.
pub const THUMB_WIDTH: usize = 32;
pub const THUMB_HEIGHT: usize = 18;
/// Bytes of a thumbnail: one luma byte per cell, row by row.
pub const THUMB_LEN: usize = THUMB_WIDTH * THUMB_HEIGHT;

/// BT.601 luma weights of R, G, B in 256ths (they sum to 256).
const RGB_WEIGHTS: [u32; 3] = [77, 150, 29];

/// The luma thumbnail of one frame (boxed: it moves through futures and schedules cheaply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumb(Box<[u8; THUMB_LEN]>);

impl Thumb {
    /// A thumbnail sent back as bytes (from the Worker); `None` unless it is [`THUMB_LEN`] long.
    pub fn from_bytes(bytes: &[u8]) -> Option<Thumb> {
        <[u8; THUMB_LEN]>::try_from(bytes)
            .ok()
            .map(|cells| Thumb(Box::new(cells)))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0[..]
    }

    /// The thumbnail of `width × height` 4-byte pixels, R, G, B, A (or B, G, R, A when `bgra`).
    /// `None` when the pixels are not that many.
    pub fn from_rgba(pixels: &[u8], width: u32, height: u32, bgra: bool) -> Option<Thumb> {
        let [r, g, b] = RGB_WEIGHTS;
        let weights = if bgra { [b, g, r, 0] } else { [r, g, b, 0] };
        // Luma·256 per pixel.
        boxes(pixels, (width, height), 4, weights, 256, false)
    }

    /// The thumbnail of a `width × height` luma plane (a 4:2:0 frame's Y, rows `width` apart),
    /// stretched to full range unless `color` says it is already. `None` when the plane is
    /// shorter than that.
    pub fn from_luma(plane: &[u8], width: u32, height: u32, color: YuvColor) -> Option<Thumb> {
        // Every byte is a pixel's luma.
        boxes(plane, (width, height), 1, [1; 4], 1, !color.full_range)
    }

    /// The thumbnail of the frame in an input buffer, laid out as the Worker describes it
    /// (`pixels`, `color`: see [`super::protocol::read_frame`]).
    pub fn of_frame(
        input: &[u8],
        pixels: Pixels,
        color: YuvColor,
        width: u32,
        height: u32,
    ) -> Option<Thumb> {
        match pixels {
            Pixels::Rgba => Thumb::from_rgba(input, width, height, false),
            Pixels::Bgra => Thumb::from_rgba(input, width, height, true),
            // The Y plane comes first in both layouts.
            Pixels::I420 | Pixels::Nv12 => Thumb::from_luma(input, width, height, color),
        }
    }

    /// The mean absolute difference of the cells, in percent of full scale (0..=100).
    pub fn difference(&self, other: &Thumb) -> f64 {
        let total: u32 = self
            .0
            .iter()
            .zip(other.0.iter())
            .map(|(a, b)| u32::from(a.abs_diff(*b)))
            .sum();
        f64::from(total) * 100.0 / (THUMB_LEN as f64 * 255.0)
    }
}

/// Whether a tick is not kept: a threshold above 0, a last kept image to compare with, and a
/// picture that differs from it by less than the threshold (percent).
pub fn unchanged(thumb: &Thumb, reference: Option<&Thumb>, threshold: f64) -> bool {
    threshold > 0.0 && reference.is_some_and(|r| thumb.difference(r) < threshold)
}

/// The pixels cell `i` of `n` covers along a side of `len` pixels: its share of the side, or
/// at least one pixel (the one under the cell's start) where the side has fewer pixels than
/// cells.
fn span(i: usize, n: usize, len: usize) -> std::ops::Range<usize> {
    let start = i * len / n;
    let end = (i + 1) * len / n;
    start..end.max(start + 1)
}

/// The sums of the bytes of `run` at each position modulo 4 (R, G, B, A of 4-byte pixels).
/// A word at a time, bytes 0+2 and 1+3 as two 16-bit lanes each: two adds per 4 bytes, in
/// blocks of 256 words so that no lane carries into the next (256 × 255 < 2^16). Not
/// inlined: RGBA and luma share it.
#[inline(never)]
fn lane_sums(run: &[u8]) -> [u32; 4] {
    let mut out = [0u32; 4];
    for block in run.chunks(4 * 256) {
        let (mut even, mut odd) = (0u32, 0u32);
        let words = block.chunks_exact(4);
        let rest = words.remainder();
        for word in words {
            if let Ok(bytes) = <[u8; 4]>::try_from(word) {
                let v = u32::from_le_bytes(bytes);
                even += v & 0x00ff_00ff;
                odd += (v >> 8) & 0x00ff_00ff;
            }
        }
        out[0] += even & 0xffff;
        out[1] += odd & 0xffff;
        out[2] += even >> 16;
        out[3] += odd >> 16;
        for (sum, byte) in out.iter_mut().zip(rest) {
            *sum += u32::from(*byte);
        }
    }
    out
}

/// The thumbnail of a `width × height` image of `bytes_per_px`-byte pixels, rows `width`
/// pixels apart: each cell the mean of its box, a pixel's value being its bytes weighed by
/// `weights` (by position modulo 4) in `unit`s of a code value; limited-range values are
/// `stretch`ed to full range. One function for RGBA and luma (one copy in the wasm).
fn boxes(
    data: &[u8],
    (width, height): (u32, u32),
    bytes_per_px: usize,
    weights: [u32; 4],
    unit: u64,
    stretch: bool,
) -> Option<Thumb> {
    let (w, h) = (width as usize, height as usize);
    let needed = w.checked_mul(h)?.checked_mul(bytes_per_px)?;
    // Wider than any frame a browser makes: a cell's row sum could overflow.
    if w == 0 || h == 0 || w > 1 << 20 || data.len() < needed {
        return None;
    }
    let row_len = w * bytes_per_px;
    let mut cells = Box::new([0u8; THUMB_LEN]);
    for (cy, row_cells) in cells.chunks_exact_mut(THUMB_WIDTH).enumerate() {
        let ys = span(cy, THUMB_HEIGHT, h);
        // Row by row through the band of this row of cells (memory in order).
        let mut sums = [0u64; THUMB_WIDTH];
        for y in ys.clone() {
            let row = data.get(y * row_len..(y + 1) * row_len)?;
            for (cx, sum) in sums.iter_mut().enumerate() {
                let xs = span(cx, THUMB_WIDTH, w);
                let run = row.get(xs.start * bytes_per_px..xs.end * bytes_per_px)?;
                // One row of one cell fits in u32: w/32 + 1 pixels of at most 255·256 each.
                let run_sum: u32 = lane_sums(run).iter().zip(weights).map(|(s, k)| s * k).sum();
                *sum += u64::from(run_sum);
            }
        }
        for (cx, (cell, sum)) in row_cells.iter_mut().zip(sums).enumerate() {
            let count = (span(cx, THUMB_WIDTH, w).len() * ys.len()) as u64 * unit;
            let mean = ((sum + count / 2) / count.max(1)).min(255) as u32;
            let value = if stretch {
                (mean.saturating_sub(16) * 255 + 109) / 219
            } else {
                mean
            };
            *cell = value.min(255) as u8;
        }
    }
    Some(Thumb(cells))
}
