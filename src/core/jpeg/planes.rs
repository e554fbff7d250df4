//! The picture as three planes (Y, Cb, Cr) at their own resolution, padded to whole MCUs as
//! if the last column and row were repeated, and the 8×8 blocks the DCT takes from them. The
//! planes hold a [`Window`] of the picture: one row of MCUs for a plain file (92 KB at 1080p
//! instead of 6.3 MB), or all of them.
//!
//! Samples are kept in fixed point with [`FRACTION`] fractional bits, so a colour conversion's
//! result reaches the DCT unrounded: quantisation is the only rounding. (Rounding to whole code
//! values first adds an error of 1/12 level² per channel; against a reference that was itself
//! rounded — a browser's drawing of a camera frame — that is a measurable 0.05 dB.)
//!
//! A subsampled chroma plane holds the *sum* of the samples of each 2×1 or 2×2 cell, not a
//! rounded average, so subsampling loses nothing before the DCT. From RGBA the cell's colours
//! are summed first and converted once: a quarter of the chroma arithmetic at 4:2:0.

/// Fractional bits of a stored sample.
pub const FRACTION: u32 = 4;
/// The largest sample, 255, in fixed point.
pub const TOP: u16 = 255 << FRACTION;

/// One row of a picture as the encoder takes it: full-range BT.601 (JFIF) Y, Cb, Cr at full
/// width, each sample in fixed point ([`FRACTION`] bits, `0..=TOP`; chroma centred on
/// `128 << FRACTION`).
pub struct YccRow<'r> {
    pub y: &'r mut [u16],
    pub cb: &'r mut [u16],
    pub cr: &'r mut [u16],
}

/// Two rows of a picture whose chroma is 4:2:0 (a camera frame), as a 4:2:0 file stores
/// them: luma rows `2k` and `2k + 1` at full width, and chroma row `k` as the sum of each
/// 2×2 cell's four samples (`⌈width / 2⌉` cells).
pub struct YccPair<'r> {
    pub y: [&'r mut [u16]; 2],
    pub cb: &'r mut [u16],
    pub cr: &'r mut [u16],
}

/// A picture the encoder reads row by row, top to bottom.
pub trait YccRows {
    fn width(&self) -> u16;
    fn height(&self) -> u16;
    /// Writes row `y` (`< height`); each of `out`'s slices is `width` samples long. Rows are
    /// asked for in order.
    fn row(&mut self, y: u16, out: YccRow<'_>);
    /// Writes rows `2k` and `2k + 1` of a 4:2:0 file at once (the second repeats the first
    /// past the last row), or returns `false` and writes nothing when they must be read by
    /// [`Self::row`]. A picture whose chroma is 4:2:0 already needs no per-pixel chroma then.
    fn pair(&mut self, k: u16, out: YccPair<'_>) -> bool {
        let _ = (k, out);
        false
    }
}

/// JFIF's luma of one RGB pixel in fixed point: `0..=TOP`. Weights in 16-bit fixed point,
/// as libjpeg's.
#[inline(always)]
fn luma(r: i32, g: i32, b: i32) -> u16 {
    luma_fixed(r, g, b) as u16
}

/// [`luma`] of a colour up to a level outside 0–255 in each channel (see `yuv::gamut::Clipper`),
/// clamped to `0..=TOP`.
#[inline(always)]
pub(crate) fn luma_wide(r: i32, g: i32, b: i32) -> u16 {
    luma_fixed(r, g, b).clamp(0, i32::from(TOP)) as u16
}

#[inline(always)]
fn luma_fixed(r: i32, g: i32, b: i32) -> i32 {
    const SHIFT: u32 = 16 - FRACTION;
    (19595 * r + 38470 * g + 7471 * b + (1 << (SHIFT - 1))) >> SHIFT
}

/// One component at its own resolution, padded to whole blocks: each value is the sum of
/// `samples` samples in fixed point.
pub struct Plane {
    data: Vec<u16>,
    stride: usize,
    scale: f32,
}

impl Plane {
    fn new(stride: usize, rows: usize, samples: usize) -> Plane {
        Plane {
            data: vec![0; stride * rows],
            stride,
            scale: 1.0 / (samples.max(1) << FRACTION) as f32,
        }
    }

    /// The 8×8 block at block column `bx`, block row `by`, level-shifted by −128.
    #[inline]
    pub fn block(&self, bx: usize, by: usize) -> [[f32; 8]; 8] {
        let start = by * 8 * self.stride + bx * 8;
        // One range check for the block's eight rows.
        let Some(data) = self.data.get(start..start + 7 * self.stride + 8) else {
            return [[0.0; 8]; 8];
        };
        block_at(data, self.stride, self.scale)
    }
}

/// The block whose rows start at `data`'s offsets 0, `stride`, … 7 · `stride` (`data` holds
/// them all), each sample times `scale` less 128. With wasm SIMD, a row per load: the
/// row-by-row bounds checks cost a sixth of a 1080p JPEG's time in wasm.
#[inline]
pub fn block_at(data: &[u16], stride: usize, scale: f32) -> [[f32; 8]; 8] {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd::block_at(data, stride, scale)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        block_at_portable(data, stride, scale)
    }
}

/// [`block_at`] without explicit vectors.
#[inline]
pub fn block_at_portable(data: &[u16], stride: usize, scale: f32) -> [[f32; 8]; 8] {
    let mut out = [[0.0f32; 8]; 8];
    for (o, row) in out.iter_mut().zip(data.chunks(stride.max(1))) {
        if let Some(src) = row.get(..8) {
            for (x, &v) in o.iter_mut().zip(src) {
                *x = f32::from(v) * scale - 128.0;
            }
        }
    }
    out
}

/// The planes' geometry: luma's padded size and the chroma cell (`hs × vs` luma samples).
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    pub width: usize,
    pub height: usize,
    pub stride: usize,
    pub rows: usize,
    pub hs: usize,
    pub vs: usize,
}

impl Geometry {
    /// Planes for `mcu_rows` rows of MCUs (8 rows of cells each).
    fn planes(&self, mcu_rows: usize) -> [Plane; 3] {
        let cells = 8 * mcu_rows;
        let cs = self.stride / self.hs;
        let n = self.hs * self.vs;
        [
            Plane::new(self.stride, cells * self.vs, 1),
            Plane::new(cs, cells, n),
            Plane::new(cs, cells, n),
        ]
    }

    /// Rows of MCUs in the padded picture.
    fn mcu_rows(&self) -> usize {
        self.rows / (8 * self.vs)
    }
}

/// Where the planes' samples come from: rows of cells (`vs` luma rows and one chroma row)
/// written into planes whose first rows are cell row `first`'s. Rows below the picture
/// repeat its last row; a window that holds any of them holds that row too.
pub trait Source {
    fn cells(&mut self, g: Geometry, first: usize, planes: &mut [Plane; 3]);
}

/// Some rows of MCUs of the picture at a time: one (a strip that stays in the cache, for a
/// coder that takes blocks in order), or all of them (for one that comes back to them).
pub struct Window<'a> {
    /// Called once per window's move: dynamic, so that the coder is compiled once for every
    /// kind of source (generic, it was twice, 10 KB more wasm).
    source: &'a mut dyn Source,
    g: Geometry,
    planes: [Plane; 3],
    /// MCU rows held, and the first of them (`None`: nothing read yet).
    held: usize,
    first: Option<usize>,
}

impl<'a> Window<'a> {
    /// A window of one MCU row (`whole`: of all of them).
    pub fn new(source: &'a mut dyn Source, g: Geometry, whole: bool) -> Self {
        let held = if whole { g.mcu_rows().max(1) } else { 1 };
        Window {
            source,
            g,
            planes: g.planes(held),
            held,
            first: None,
        }
    }

    /// Component `c`'s 8×8 block at block column `bx`, block row `by` of its whole plane,
    /// level-shifted by −128; the window moves to the MCU row holding it if needed.
    #[inline]
    pub fn block(&mut self, c: usize, bx: usize, by: usize) -> [[f32; 8]; 8] {
        let per_mcu = if c == 0 { self.g.vs } else { 1 };
        let my = by / per_mcu;
        let first = match self.first {
            Some(f) if (f..f + self.held).contains(&my) => f,
            _ => {
                let f = my - my % self.held;
                self.source.cells(self.g, 8 * f, &mut self.planes);
                self.first = Some(f);
                f
            }
        };
        let local = by - first * per_mcu;
        self.planes
            .get(c)
            .map_or([[0.0; 8]; 8], |p| p.block(bx, local))
    }
}

/// Fills a padded row's tail with its last real value.
fn pad_row(row: &mut [u16], width: usize) {
    if let Some((left, right)) = row.split_at_mut_checked(width) {
        if let Some(&last) = left.last() {
            right.fill(last);
        }
    }
}

/// The chroma of the sum of `n` RGB pixels in fixed point: (ΣCb, ΣCr), each in `0..=TOP·n`.
#[inline(always)]
pub(crate) fn chroma_sum(r: i32, g: i32, b: i32, n: i32) -> (u16, u16) {
    const SHIFT: u32 = 16 - FRACTION;
    let offset = (128 * n) << 16;
    let half = (1 << (SHIFT - 1)) - 1;
    let blue = (-11059 * r - 21709 * g + 32768 * b + offset + half) >> SHIFT;
    let red = (32768 * r - 27439 * g - 5329 * b + offset + half) >> SHIFT;
    let top = i32::from(TOP) * n;
    (blue.clamp(0, top) as u16, red.clamp(0, top) as u16)
}

/// `width × height` RGBA pixels (alpha ignored), read with JFIF's full-range BT.601 matrix
/// (chroma from each cell's summed RGB).
pub struct Rgba<'a>(pub &'a [u8]);

impl Source for Rgba<'_> {
    fn cells(&mut self, g: Geometry, first: usize, planes: &mut [Plane; 3]) {
        let rgba = self.0;
        // Rows past the picture are its last row again.
        let line = |r: usize| {
            let start = r.min(g.height.saturating_sub(1)) * g.width * 4;
            rgba.get(start..start + g.width * 4).unwrap_or_default()
        };
        let [py, pb, pr] = planes;
        let chroma_width = g.width.div_ceil(g.hs);
        let cells = py.data.chunks_exact_mut(g.stride * g.vs).zip(
            pb.data
                .chunks_exact_mut(pb.stride)
                .zip(pr.data.chunks_exact_mut(pr.stride)),
        );
        // Cell row by cell row: its pixels stay in the cache from luma to chroma.
        for (cy, (luma, (bo, ro))) in (first..).zip(cells) {
            let rows = cy * g.vs..(cy + 1) * g.vs;
            touch_lines(rows.clone().map(line));
            for (r, out) in rows.zip(luma.chunks_exact_mut(g.stride)) {
                luma_row(line(r), out);
                pad_row(out, g.width);
            }
            let (top, bottom) = (line(cy * g.vs), line(cy * g.vs + g.vs - 1));
            match (g.hs, g.vs) {
                (2, 2) => chroma_cells_420(top, bottom, bo, ro),
                (2, _) => chroma_cells::<2, 1>([top], bo, ro),
                _ => chroma_cells::<1, 1>([top], bo, ro),
            }
            pad_row(bo, chroma_width);
            pad_row(ro, chroma_width);
        }
    }
}

/// Reads one byte of every 64-byte line of `rows`. These loads do not wait for each other, so
/// the CPU has many lines in flight; the conversion's loop alone waits for them a few at a
/// time. A 1080p RGBA frame in V8: 15.7–16.6 → 12.3 ms. (I420's rows, a third of the bytes,
/// gained nothing measurable.)
fn touch_lines<'r>(rows: impl Iterator<Item = &'r [u8]>) {
    let mut seen = 0u8;
    for row in rows {
        for b in row.iter().step_by(64) {
            seen ^= *b;
        }
    }
    core::hint::black_box(seen);
}

/// The luma of a row of RGBA pixels (alpha ignored), as many as both slices hold. With wasm
/// SIMD, eight pixels at a time in the same integer arithmetic: the same bits.
#[inline]
pub fn luma_row(rgba: &[u8], out: &mut [u16]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let (rgba, out) = {
        let done = simd::luma_row(rgba, out);
        (
            rgba.get(done * 4..).unwrap_or_default(),
            out.get_mut(done..).unwrap_or_default(),
        )
    };
    luma_row_portable(rgba, out);
}

/// [`luma_row`] without explicit vectors.
#[inline]
pub fn luma_row_portable(rgba: &[u8], out: &mut [u16]) {
    for (o, px) in out.iter_mut().zip(rgba.chunks_exact(4)) {
        if let [pr, pg, pb, _] = *px {
            *o = luma(i32::from(pr), i32::from(pg), i32::from(pb));
        }
    }
}

/// One row of 2×2 chroma cells from two RGBA rows, as [`chroma_cells`] makes them. With wasm
/// SIMD, four cells at a time in the same integer arithmetic: the same bits.
#[inline]
pub fn chroma_cells_420(top: &[u8], bottom: &[u8], blue: &mut [u16], red: &mut [u16]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let (top, bottom, blue, red) = {
        let done = simd::chroma_cells_420(top, bottom, blue, red);
        (
            top.get(done * 8..).unwrap_or_default(),
            bottom.get(done * 8..).unwrap_or_default(),
            blue.get_mut(done..).unwrap_or_default(),
            red.get_mut(done..).unwrap_or_default(),
        )
    };
    chroma_cells::<2, 2>([top, bottom], blue, red);
}

/// [`chroma_cells_420`] without explicit vectors.
#[inline]
pub fn chroma_cells_420_portable(top: &[u8], bottom: &[u8], blue: &mut [u16], red: &mut [u16]) {
    chroma_cells::<2, 2>([top, bottom], blue, red);
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::{FRACTION, TOP};
    use core::arch::wasm32::{
        f32x4_convert_i32x4, f32x4_mul, f32x4_splat, f32x4_sub, i16x8, i16x8_add, i16x8_shuffle,
        i32x4_add, i32x4_dot_i16x8, i32x4_max, i32x4_min, i32x4_mul, i32x4_shl, i32x4_shr,
        i32x4_splat, u16x8_extend_high_u8x16, u16x8_extend_low_u8x16, u16x8_narrow_i32x4,
        u32x4_extend_high_u16x8, u32x4_extend_low_u16x8, u8x16, u8x16_swizzle, v128, v128_load,
        v128_store,
    };

    const SHIFT: u32 = 16 - FRACTION;

    /// One channel of four RGBA pixels as 32-bit lanes (an index of 16 or more gives 0).
    #[inline(always)]
    fn channel(px: v128, c: u8) -> v128 {
        const NONE: u8 = 0x80;
        u8x16_swizzle(
            px,
            u8x16(
                c,
                NONE,
                NONE,
                NONE,
                c + 4,
                NONE,
                NONE,
                NONE,
                c + 8,
                NONE,
                NONE,
                NONE,
                c + 12,
                NONE,
                NONE,
                NONE,
            ),
        )
    }

    #[inline(always)]
    fn luma4(px: v128) -> v128 {
        let weighted = i32x4_add(
            i32x4_add(
                i32x4_mul(channel(px, 0), i32x4_splat(19595)),
                i32x4_mul(channel(px, 1), i32x4_splat(38470)),
            ),
            i32x4_add(
                i32x4_mul(channel(px, 2), i32x4_splat(7471)),
                i32x4_splat(1 << (SHIFT - 1)),
            ),
        );
        i32x4_shr(weighted, SHIFT)
    }

    /// [`super::block_at`]: the same arithmetic, exact conversions (a sample is below 2¹⁶).
    #[inline]
    pub fn block_at(data: &[u16], stride: usize, scale: f32) -> [[f32; 8]; 8] {
        let mut out = [[0.0f32; 8]; 8];
        if data.len() < 7 * stride + 8 {
            return out;
        }
        let (scale, shift) = (f32x4_splat(scale), f32x4_splat(128.0));
        let half = |x: v128| f32x4_sub(f32x4_mul(f32x4_convert_i32x4(x), scale), shift);
        for (r, o) in out.iter_mut().enumerate() {
            // SAFETY: row `r` is `data[r · stride..][..8]`, inside `data` (checked above): 16
            // bytes to load; `o` is 32 bytes to store. No alignment is needed.
            unsafe {
                let v = v128_load(data.as_ptr().add(r * stride).cast());
                v128_store(o.as_mut_ptr().cast(), half(u32x4_extend_low_u16x8(v)));
                v128_store(
                    o.as_mut_ptr().add(4).cast(),
                    half(u32x4_extend_high_u16x8(v)),
                );
            }
        }
        out
    }

    /// The pixels done: a multiple of eight.
    pub fn luma_row(rgba: &[u8], out: &mut [u16]) -> usize {
        let mut done = 0;
        for (o, px) in out.chunks_exact_mut(8).zip(rgba.chunks_exact(32)) {
            // SAFETY: `px` is 32 bytes and `o` 8 u16s (16 bytes); wasm's v128 loads and
            // stores need no alignment.
            unsafe {
                let (a, b) = (
                    v128_load(px.as_ptr().cast()),
                    v128_load(px.as_ptr().add(16).cast()),
                );
                v128_store(
                    o.as_mut_ptr().cast(),
                    u16x8_narrow_i32x4(luma4(a), luma4(b)),
                );
            }
            done += 8;
        }
        done
    }

    /// The cells done: a multiple of four.
    pub fn chroma_cells_420(top: &[u8], bottom: &[u8], blue: &mut [u16], red: &mut [u16]) -> usize {
        // `chroma_sum` for n = 4, its weights of 32768 as shifts (they do not fit 16 bits).
        let constant = i32x4_splat(((128 * 4) << 16) + (1 << (SHIFT - 1)) - 1);
        let rg_weights = i16x8(
            -11059, -21709, -11059, -21709, -11059, -21709, -11059, -21709,
        );
        let gb_weights = i16x8(-27439, -5329, -27439, -5329, -27439, -5329, -27439, -5329);
        let (zero, top_value) = (i32x4_splat(0), i32x4_splat(i32::from(TOP) * 4));
        let rows = top.chunks_exact(32).zip(bottom.chunks_exact(32));
        let outs = blue.chunks_exact_mut(4).zip(red.chunks_exact_mut(4));
        let mut done = 0;
        for ((t, b), (bo, ro)) in rows.zip(outs) {
            // SAFETY: `t` and `b` are 32 bytes each; unaligned v128 loads are allowed.
            let [t0, t1, b0, b1] = unsafe {
                [
                    v128_load(t.as_ptr().cast()),
                    v128_load(t.as_ptr().add(16).cast()),
                    v128_load(b.as_ptr().cast()),
                    v128_load(b.as_ptr().add(16).cast()),
                ]
            };
            // Two pixels' (R, G, B, A) each, summed down the cell.
            let down = |lo: fn(v128) -> v128, x: v128, y: v128| i16x8_add(lo(x), lo(y));
            let p01 = down(u16x8_extend_low_u8x16, t0, b0);
            let p23 = down(u16x8_extend_high_u8x16, t0, b0);
            let p45 = down(u16x8_extend_low_u8x16, t1, b1);
            let p67 = down(u16x8_extend_high_u8x16, t1, b1);
            // Cells 0 and 1, then 2 and 3: (R, G, B, A) sums over four pixels.
            let across = |x: v128, y: v128| {
                i16x8_add(
                    i16x8_shuffle::<0, 1, 2, 3, 8, 9, 10, 11>(x, y),
                    i16x8_shuffle::<4, 5, 6, 7, 12, 13, 14, 15>(x, y),
                )
            };
            let (c01, c23) = (across(p01, p23), across(p45, p67));
            let rg = i16x8_shuffle::<0, 1, 4, 5, 8, 9, 12, 13>(c01, c23);
            let gb = i16x8_shuffle::<1, 2, 5, 6, 9, 10, 13, 14>(c01, c23);
            let rb = i16x8_shuffle::<0, 4, 8, 12, 2, 6, 10, 14>(c01, c23);
            let (r, bl) = (u32x4_extend_low_u16x8(rb), u32x4_extend_high_u16x8(rb));
            let finish = |x: v128| i32x4_min(i32x4_max(i32x4_shr(x, SHIFT), zero), top_value);
            let cb = finish(i32x4_add(
                i32x4_add(i32x4_dot_i16x8(rg, rg_weights), i32x4_shl(bl, 15)),
                constant,
            ));
            let cr = finish(i32x4_add(
                i32x4_add(i32x4_dot_i16x8(gb, gb_weights), i32x4_shl(r, 15)),
                constant,
            ));
            let mut both = [0u16; 8];
            // SAFETY: `both` is 16 bytes.
            unsafe { v128_store(both.as_mut_ptr().cast(), u16x8_narrow_i32x4(cb, cr)) };
            let (b4, r4) = both.split_at(4);
            bo.copy_from_slice(b4);
            ro.copy_from_slice(r4);
            done += 4;
        }
        done
    }
}

/// One row of chroma cells of `HS × VS` pixels from `VS` RGBA rows: each cell's colours
/// summed, then converted; a last cell that the picture's width cuts repeats its last pixel.
#[inline(always)]
fn chroma_cells<const HS: usize, const VS: usize>(
    rows: [&[u8]; VS],
    blue: &mut [u16],
    red: &mut [u16],
) {
    let n = (HS * VS) as i32;
    let width = rows.first().map_or(0, |r| r.len() / 4);
    let whole = width / HS;
    let mut cells = blue.iter_mut().zip(red.iter_mut());
    for (i, (b, r)) in cells.by_ref().take(whole).enumerate() {
        let (mut sr, mut sg, mut sb) = (0i32, 0i32, 0i32);
        for row in rows {
            if let Some(px) = row.get(i * 4 * HS..(i + 1) * 4 * HS) {
                for p in px.chunks_exact(4) {
                    if let [pr, pg, pb, _] = *p {
                        sr += i32::from(pr);
                        sg += i32::from(pg);
                        sb += i32::from(pb);
                    }
                }
            }
        }
        (*b, *r) = chroma_sum(sr, sg, sb, n);
    }
    if whole * HS < width {
        if let Some((b, r)) = cells.next() {
            let (mut sr, mut sg, mut sb) = (0i32, 0i32, 0i32);
            for row in rows {
                for dx in 0..HS {
                    let x = (whole * HS + dx).min(width - 1) * 4;
                    if let Some([pr, pg, pb, _]) = row.get(x..x + 4) {
                        sr += i32::from(*pr);
                        sg += i32::from(*pg);
                        sb += i32::from(*pb);
                    }
                }
            }
            (*b, *r) = chroma_sum(sr, sg, sb, n);
        }
    }
}

/// A [`YccRows`] picture (rows at full resolution), chroma summed over each cell; a 4:2:0
/// file's rows two at a time where the picture gives them so ([`YccRows::pair`]).
pub struct Rows<'a, I> {
    image: &'a mut I,
    sums: RowSums,
}

impl<'a, I: YccRows> Rows<'a, I> {
    pub fn new(image: &'a mut I) -> Self {
        let width = usize::from(image.width());
        let [cb, cr] = [(); 2].map(|_| vec![0u16; width]);
        Rows {
            image,
            sums: RowSums { cb, cr },
        }
    }
}

impl<I: YccRows> Source for Rows<'_, I> {
    fn cells(&mut self, g: Geometry, first: usize, planes: &mut [Plane; 3]) {
        let chroma_width = g.width.div_ceil(g.hs);
        let [py, pb, pr] = planes;
        let (ls, cs) = (py.stride, pb.stride);
        let cells = py.data.chunks_exact_mut(ls * g.vs);
        let chroma_rows = pb
            .data
            .chunks_exact_mut(cs)
            .zip(pr.data.chunks_exact_mut(cs));
        let real = g.height.div_ceil(g.vs);
        let mut done = 0;
        for (cy, (luma, (cb_full, cr_full))) in (first..real).zip(cells.zip(chroma_rows)) {
            let (Some(cb), Some(cr)) = (
                cb_full.get_mut(..chroma_width),
                cr_full.get_mut(..chroma_width),
            ) else {
                break;
            };
            let fast = g.hs == 2 && g.vs == 2 && {
                let (top, bottom) = luma.split_at_mut(ls);
                let (Some(y0), Some(y1)) = (top.get_mut(..g.width), bottom.get_mut(..g.width))
                else {
                    break;
                };
                let pair = YccPair {
                    y: [y0, y1],
                    cb,
                    cr,
                };
                self.image.pair(cy as u16, pair)
            };
            if !fast {
                self.sums.cell_row(&mut *self.image, g, cy, luma, cb, cr);
            }
            for row in luma.chunks_exact_mut(ls) {
                pad_row(row, g.width);
            }
            for row in [&mut *cb_full, &mut *cr_full] {
                pad_row(row, chroma_width);
            }
            done += 1;
        }
        if done == 0 {
            return;
        }
        // Below the picture's last cell row: its rows again.
        for (plane, rows_used) in [(&mut *py, done * g.vs), (pb, done), (pr, done)] {
            let stride = plane.stride;
            let Some((above, below)) = plane.data.split_at_mut_checked(rows_used * stride) else {
                continue;
            };
            if let Some(source) = above.get(above.len().saturating_sub(stride)..) {
                for row in below.chunks_exact_mut(stride) {
                    row.copy_from_slice(source);
                }
            }
        }
    }
}

/// The full-width chroma rows [`YccRows::row`] writes, summed into cells.
struct RowSums {
    cb: Vec<u16>,
    cr: Vec<u16>,
}

impl RowSums {
    /// Luma rows and chroma row `cy` of one row of cells, row by row (the last real row
    /// again for rows past the picture).
    fn cell_row(
        &mut self,
        image: &mut impl YccRows,
        g: Geometry,
        cy: usize,
        luma: &mut [u16],
        cb_out: &mut [u16],
        cr_out: &mut [u16],
    ) {
        for (dy, out) in luma.chunks_exact_mut(g.stride).enumerate() {
            let r = (cy * g.vs + dy).min(g.height.saturating_sub(1));
            if let Some(y) = out.get_mut(..g.width) {
                let row = YccRow {
                    y,
                    cb: &mut self.cb,
                    cr: &mut self.cr,
                };
                image.row(r as u16, row);
            }
            for (plane, src) in [(&mut *cb_out, &self.cb), (&mut *cr_out, &self.cr)] {
                if dy == 0 {
                    plane.fill(0);
                }
                if g.hs == 2 {
                    let mut pairs = src.chunks_exact(2);
                    // (Pairs first: `zip` takes from its first iterator before it finds the
                    // second one empty.)
                    for (pair, o) in pairs.by_ref().zip(plane.iter_mut()) {
                        if let [a, b] = *pair {
                            *o += a + b;
                        }
                    }
                    // An odd width: the last cell repeats the last sample.
                    if let (Some(o), [a]) = (plane.get_mut(src.len() / 2), pairs.remainder()) {
                        *o += 2 * a;
                    }
                } else {
                    for (o, &v) in plane.iter_mut().zip(src.iter()) {
                        *o += v;
                    }
                }
            }
        }
    }
}
