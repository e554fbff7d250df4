//! The picture as three full-resolution 8-bit planes (Y, Cb, Cr), padded to whole MCUs by
//! repeating the last column and row, and the 8×8 blocks the DCT takes from them (chroma
//! averaged over each 2×1 or 2×2 cell when subsampled).

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
    let luma = (19595 * r + 38470 * g + 7471 * b + 32768) >> 16;
    let blue = (-11059 * r - 21709 * g + 32768 * b + (128 << 16) + 32767) >> 16;
    let red = (32768 * r - 27439 * g - 5329 * b + (128 << 16) + 32767) >> 16;
    (
        luma.clamp(0, 255) as u8,
        blue.clamp(0, 255) as u8,
        red.clamp(0, 255) as u8,
    )
}

/// One component at full resolution, padded.
pub struct Plane {
    pub data: Vec<u8>,
    pub stride: usize,
    pub rows: usize,
}

impl Plane {
    /// The 8×8 block whose top-left sample is (x, y) in units of `hs × vs` cells, each cell
    /// averaged; level-shifted by −128.
    pub fn block(&self, bx: usize, by: usize, hs: usize, vs: usize) -> [[f32; 8]; 8] {
        let mut out = [[0.0f32; 8]; 8];
        let x0 = bx * 8 * hs;
        let y0 = by * 8 * vs;
        if hs == 1 && vs == 1 {
            for (j, row) in out.iter_mut().enumerate() {
                let start = (y0 + j) * self.stride + x0;
                if let Some(src) = self.data.get(start..start + 8) {
                    for (o, &s) in row.iter_mut().zip(src) {
                        *o = f32::from(s) - 128.0;
                    }
                }
            }
            return out;
        }
        let scale = 1.0 / (hs * vs) as f32;
        for (j, row) in out.iter_mut().enumerate() {
            let mut acc = [0u16; 8];
            for dy in 0..vs {
                let start = (y0 + j * vs + dy) * self.stride + x0;
                let Some(src) = self.data.get(start..start + 8 * hs) else {
                    continue;
                };
                if hs == 1 {
                    for (a, &s) in acc.iter_mut().zip(src) {
                        *a += u16::from(s);
                    }
                } else {
                    for (a, pair) in acc.iter_mut().zip(src.chunks_exact(2)) {
                        if let [p, q] = *pair {
                            *a += u16::from(p) + u16::from(q);
                        }
                    }
                }
            }
            for (o, &a) in row.iter_mut().zip(acc.iter()) {
                *o = f32::from(a) * scale - 128.0;
            }
        }
        out
    }
}

/// Reads `width × height` RGBA pixels straight into three planes of `stride × rows` (the
/// same conversion as [`RgbaImage`], without its per-row buffers).
pub fn read_rgba(rgba: &[u8], width: usize, stride: usize, rows: usize) -> [Plane; 3] {
    let mut planes = [(); 3].map(|_| Plane {
        data: vec![0; stride * rows],
        stride,
        rows,
    });
    let [py, pb, pr] = &mut planes;
    let lines = rgba.chunks_exact(width * 4);
    let height = lines.len();
    let planes_rows = py
        .data
        .chunks_exact_mut(stride)
        .zip(pb.data.chunks_exact_mut(stride))
        .zip(pr.data.chunks_exact_mut(stride));
    for (line, ((yr, br), rr)) in lines.zip(planes_rows) {
        for (((px, y), b), r) in line
            .chunks_exact(4)
            .zip(yr.iter_mut())
            .zip(br.iter_mut())
            .zip(rr.iter_mut())
        {
            if let [pr, pg, pb, _] = *px {
                (*y, *b, *r) = ycbcr(pr, pg, pb);
            }
        }
    }
    for plane in planes.iter_mut() {
        plane.pad(width, height);
    }
    planes
}

impl Plane {
    /// Repeats column `width − 1` to the right and row `height − 1` downwards.
    fn pad(&mut self, width: usize, height: usize) {
        let stride = self.stride;
        for row in self.data.chunks_exact_mut(stride).take(height) {
            if let Some((left, right)) = row.split_at_mut_checked(width) {
                if let Some(&last) = left.last() {
                    right.fill(last);
                }
            }
        }
        if height == 0 {
            return;
        }
        let split = (height * stride).min(self.data.len());
        let (top, bottom) = self.data.split_at_mut(split);
        if let Some(last) = top.chunks_exact(stride).last() {
            for row in bottom.chunks_exact_mut(stride) {
                row.copy_from_slice(last);
            }
        }
    }
}

/// Reads `image` into three planes of `stride × rows` (multiples of the MCU's size), padded
/// as [`read_rgba`]'s are.
pub fn read(image: &impl ImageBuffer, stride: usize, rows: usize) -> [Plane; 3] {
    let (w, h) = (usize::from(image.width()), usize::from(image.height()));
    let mut planes = [(); 3].map(|_| Plane {
        data: vec![0; stride * rows],
        stride,
        rows,
    });
    let mut buffers: [Vec<u8>; 4] = [(); 4].map(|_| Vec::with_capacity(w));
    for y in 0..h {
        for b in buffers.iter_mut() {
            b.clear();
        }
        image.fill_buffers(y as u16, &mut buffers);
        for (plane, buf) in planes.iter_mut().zip(buffers.iter()) {
            let row = buf.get(..w).unwrap_or(buf);
            let start = y * stride;
            if let Some(dst) = plane.data.get_mut(start..start + row.len()) {
                dst.copy_from_slice(row);
            }
        }
    }
    for plane in planes.iter_mut() {
        plane.pad(w, h);
    }
    planes
}
