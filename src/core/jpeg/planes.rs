//! The picture as three planes (Y, Cb, Cr) at their own resolution, padded to whole MCUs as
//! if the last column and row were repeated, and the 8×8 blocks the DCT takes from them.
//!
//! A subsampled chroma plane holds the *sum* of the samples of each 2×1 or 2×2 cell, not a
//! rounded average, so subsampling loses nothing before the DCT. From RGBA the cell's colours
//! are summed first and converted once: a quarter of the chroma arithmetic at 4:2:0.

use jpeg_encoder::{ImageBuffer, JpegColorType};

/// RGBA pixels (alpha ignored) as YCbCr rows, with JFIF's full-range BT.601 matrix.
pub struct RgbaImage<'a> {
    pub rgba: &'a [u8],
    pub width: u16,
    pub height: u16,
}

impl ImageBuffer for RgbaImage<'_> {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        JpegColorType::Ycbcr
    }

    fn width(&self) -> u16 {
        self.width
    }

    fn height(&self) -> u16 {
        self.height
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let w = usize::from(self.width) * 4;
        let start = usize::from(y) * w;
        let Some(row) = self.rgba.get(start..start + w) else {
            return;
        };
        let [yb, cb, cr, _] = buffers;
        for px in row.chunks_exact(4) {
            if let [r, g, b, _] = *px {
                let (y, blue, red) = ycbcr(r, g, b);
                yb.push(y);
                cb.push(blue);
                cr.push(red);
            }
        }
    }
}

/// JFIF's full-range BT.601 YCbCr of one RGB pixel: 16-bit fixed point, rounded, chroma
/// offset by 128.
fn ycbcr(r: u8, g: u8, b: u8) -> (u8, u8, u8) {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    let (blue, red) = chroma_sum(r, g, b, 1);
    (luma(r, g, b) as u8, blue as u8, red as u8)
}

/// JFIF's luma of one RGB pixel, rounded: 0..=255.
#[inline(always)]
fn luma(r: i32, g: i32, b: i32) -> u16 {
    ((19595 * r + 38470 * g + 7471 * b + 32768) >> 16) as u16
}

/// One component at its own resolution, padded to whole blocks: each value is the sum of
/// `1 / scale` samples.
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
            scale: 1.0 / samples.max(1) as f32,
        }
    }

    /// The 8×8 block at block column `bx`, block row `by`, level-shifted by −128.
    #[inline]
    pub fn block(&self, bx: usize, by: usize) -> [[f32; 8]; 8] {
        let mut out = [[0.0f32; 8]; 8];
        let start = by * 8 * self.stride + bx * 8;
        let rows = self
            .data
            .get(start..)
            .unwrap_or_default()
            .chunks(self.stride);
        for (o, row) in out.iter_mut().zip(rows) {
            if let Some(src) = row.get(..8) {
                for (x, &v) in o.iter_mut().zip(src) {
                    *x = f32::from(v) * self.scale - 128.0;
                }
            }
        }
        out
    }
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
    fn planes(&self) -> [Plane; 3] {
        let (cs, cr) = (self.stride / self.hs, self.rows / self.vs);
        let n = self.hs * self.vs;
        [
            Plane::new(self.stride, self.rows, 1),
            Plane::new(cs, cr, n),
            Plane::new(cs, cr, n),
        ]
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

/// The chroma of the sum of `n` RGB pixels: (ΣCb, ΣCr), each in 0..=255·n.
#[inline(always)]
fn chroma_sum(r: i32, g: i32, b: i32, n: i32) -> (u16, u16) {
    let offset = (128 * n) << 16;
    let blue = (-11059 * r - 21709 * g + 32768 * b + offset + 32767) >> 16;
    let red = (32768 * r - 27439 * g - 5329 * b + offset + 32767) >> 16;
    let top = 255 * n;
    (blue.clamp(0, top) as u16, red.clamp(0, top) as u16)
}

/// Reads `width × height` RGBA pixels (alpha ignored) into three planes, with JFIF's
/// full-range BT.601 matrix (the luma of [`RgbaImage`]; chroma from each cell's summed RGB).
pub fn read_rgba(rgba: &[u8], g: Geometry) -> [Plane; 3] {
    let mut planes = g.planes();
    let line = |r: usize| {
        let start = r.min(g.height.saturating_sub(1)) * g.width * 4;
        rgba.get(start..start + g.width * 4).unwrap_or_default()
    };
    let [py, pb, pr] = &mut planes;
    for (r, out) in py.data.chunks_exact_mut(g.stride).enumerate() {
        for (o, px) in out.iter_mut().zip(line(r).chunks_exact(4)) {
            if let [pr, pg, pb, _] = *px {
                *o = luma(i32::from(pr), i32::from(pg), i32::from(pb));
            }
        }
        pad_row(out, g.width);
    }
    let chroma_rows = pb
        .data
        .chunks_exact_mut(pb.stride)
        .zip(pr.data.chunks_exact_mut(pr.stride));
    let chroma_width = g.width.div_ceil(g.hs);
    for (cy, (bo, ro)) in chroma_rows.enumerate() {
        let (top, bottom) = (line(cy * g.vs), line(cy * g.vs + g.vs - 1));
        match (g.hs, g.vs) {
            (2, 2) => chroma_cells::<2, 2>([top, bottom], bo, ro),
            (2, _) => chroma_cells::<2, 1>([top], bo, ro),
            _ => chroma_cells::<1, 1>([top], bo, ro),
        }
        pad_row(bo, chroma_width);
        pad_row(ro, chroma_width);
    }
    planes
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

/// Reads `image` (YCbCr rows at full resolution) into three planes, chroma summed over each
/// cell.
pub fn read(image: &impl ImageBuffer, g: Geometry) -> [Plane; 3] {
    let mut planes = g.planes();
    let mut buffers: [Vec<u8>; 4] = [(); 4].map(|_| Vec::with_capacity(g.width));
    let chroma_width = g.width.div_ceil(g.hs);
    for r in 0..g.rows {
        // Rows below the picture repeat its last row.
        if r < g.height {
            for b in buffers.iter_mut() {
                b.clear();
            }
            image.fill_buffers(r as u16, &mut buffers);
        }
        let [py, pb, pr] = &mut planes;
        let [by, bb, br, _] = &buffers;
        if let Some(out) = py.data.get_mut(r * g.stride..(r + 1) * g.stride) {
            for (o, &v) in out.iter_mut().zip(by.iter().take(g.width)) {
                *o = u16::from(v);
            }
            pad_row(out, g.width);
        }
        let cy = r / g.vs;
        for (plane, src) in [(pb, bb), (pr, br)] {
            let stride = plane.stride;
            let Some(out) = plane.data.get_mut(cy * stride..(cy + 1) * stride) else {
                continue;
            };
            let row = src.get(..g.width).unwrap_or(src);
            if g.hs == 2 {
                let mut pairs = row.chunks_exact(2);
                let mut cells = out.iter_mut().take(chroma_width);
                // (Pairs first: `zip` takes from its first iterator before it finds the
                // second one empty.)
                for (pair, o) in pairs.by_ref().zip(cells.by_ref()) {
                    if let [a, b] = *pair {
                        *o += u16::from(a) + u16::from(b);
                    }
                }
                // An odd width: the last cell repeats the last sample.
                if let (Some(o), [a]) = (cells.next(), pairs.remainder()) {
                    *o += 2 * u16::from(*a);
                }
            } else {
                for (o, &v) in out.iter_mut().zip(row) {
                    *o += u16::from(v);
                }
            }
            if r % g.vs == g.vs - 1 {
                pad_row(out, chroma_width);
            }
        }
    }
    planes
}
