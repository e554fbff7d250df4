//! Colours outside the RGB gamut, made as the browser draws and clips them.
//!
//! A colour outside the RGB gamut can have chroma outside JFIF's 0–255 (Chromium's fake camera
//! writes U = V = 0 everywhere, which is why its picture is green); clamping that chroma would
//! change the colour. The pixels of such a sample are made as Chromium draws the frame on a
//! canvas ([`Drawing`]: libyuv's integer arithmetic, clipped to 0–255) and converted as canvas
//! pixels are ([`Clipper`]), so they come out as `drawImage` and `toBlob` show them; a region
//! of one such colour costs a table lookup per pixel. Samples inside JFIF's range keep the
//! direct maps: where a decoder clips R, G and B, it clips as a browser does.

use super::colour::{at, table, YuvColor, YuvMatrix};
use crate::core::jpeg::planes;

/// How Chromium turns a YUV frame into RGB to draw it on a canvas (and for `copyTo` as
/// RGBA): libyuv's integer arithmetic. Luma is scaled by `YG / 65536` after repeating its byte
/// (`y · 0x0101`) and offset by `YB`; chroma adds multiples of (U − 128, V − 128) in 1/64
/// steps, blue's capped at 2.0; the sums are shifted down 6 bits and clamped to 0–255.
/// Constants are libyuv's `kYuvI601Constants`, `kYuvJPEGConstants`, `kYuvH709Constants` and
/// `kYuvF709Constants`. Every pixel of headless Chromium 156's drawings of two limited-range
/// BT.601 I420 frames (the benchmark's photo and a fake-camera frame, 2 × 2 073 600 pixels)
/// matched this bit for bit; the other three sets are libyuv's, not checked against a drawing.
///
/// Used only for colours outside the RGB gamut, whose clipped colour depends on the arithmetic
/// that clips it: there tracksnap gives what a canvas shows.
pub(super) struct Drawing {
    y: [i32; 256],
    /// (U → B, U → G, V → G, V → R) in 1/64.
    ub: i32,
    ug: i32,
    vg: i32,
    vr: i32,
}

impl Drawing {
    pub(super) fn new(color: YuvColor) -> Drawing {
        let (yg, yb, ub, ug, vg, vr) = match (color.matrix, color.full_range) {
            (YuvMatrix::Bt601, false) => (18997, -1160, 128, 25, 52, 102),
            (YuvMatrix::Bt601, true) => (16320, 32, 113, 22, 46, 90),
            (YuvMatrix::Bt709, false) => (18997, -1160, 128, 14, 34, 115),
            (YuvMatrix::Bt709, true) => (16320, 32, 119, 12, 30, 101),
        };
        Drawing {
            y: table(|v| ((i32::from(v) * 0x0101 * yg) >> 16) + yb),
            ub,
            ug,
            vg,
            vr,
        }
    }

    /// What chroma sample (`u`, `v`) adds to R, G and B, in 1/64.
    #[inline]
    pub(super) fn deltas(&self, u: u8, v: u8) -> [i32; 3] {
        let (u, v) = (i32::from(u) - 128, i32::from(v) - 128);
        [v * self.vr, -(u * self.ug + v * self.vg), u * self.ub]
    }

    /// The drawn (R, G, B) of luma `y` with chroma `deltas`, each 0–255.
    #[inline]
    fn rgb(&self, y: u8, deltas: [i32; 3]) -> [i32; 3] {
        self.unclipped(y, deltas).map(|c| c.clamp(0, 255))
    }

    /// [`Drawing::rgb`] before the clip to 0–255.
    #[inline]
    fn unclipped(&self, y: u8, deltas: [i32; 3]) -> [i32; 3] {
        let y = at(&self.y, y);
        deltas.map(|d| (y + d) >> 6)
    }

    /// [`Drawing::rgb`] as bytes.
    #[inline]
    pub(super) fn rgb_u8(&self, y: u8, deltas: [i32; 3]) -> (u8, u8, u8) {
        let [r, g, b] = self.rgb(y, deltas);
        (r as u8, g as u8, b as u8)
    }
}

/// The pixels of chroma samples far outside JFIF's range (see
/// [`Mapped::far`](super::colour::Mapped::far)), as the encoder takes them: drawn as the
/// browser draws them ([`Drawing`]), then converted as canvas pixels are.
///
/// A channel that the drawing clips is taken one level beyond the clip (−1 or 256). A decoder
/// clips it back, and the quantisation error of such a colour then falls mostly outside the
/// gamut, where it is clipped away, instead of pulling the colour a level inside. On a frame
/// of Chromium's fake camera (every pixel outside the gamut, most clipped at G = 255) the file
/// decoded at 50.76 dB against the drawing with one level, 48.63 dB with none, 48.90 with two.
///
/// For one chroma value the result depends on luma alone, so it is kept per luma code for the
/// last chroma value seen: a region of one out-of-gamut colour (the fake camera's whole frame
/// is one) costs a lookup per pixel, and a pixel of any other chroma one conversion.
pub(super) struct Clipper {
    drawing: Drawing,
    /// The last row had far samples: `write_row` takes the next sample by sample rather than
    /// in its faster passes for colours inside the gamut.
    pub(super) recent: bool,
    /// The chroma sample the entries belong to (`u << 8 | v`; `NO_CHROMA` before the first),
    /// and what it adds to R, G and B.
    chroma: u32,
    deltas: [i32; 3],
    /// Entries whose generation is this one hold the current chroma's pixels.
    generation: u16,
    entries: Box<[Entry; 256]>,
}

/// A pixel of the current chroma: its (Y, Cb, Cr) samples, valid if `generation` is current.
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    generation: u16,
    y: u16,
    cb: u16,
    cr: u16,
}

const NO_CHROMA: u32 = u32::MAX;

impl Clipper {
    pub(super) fn new(color: YuvColor) -> Clipper {
        Clipper {
            drawing: Drawing::new(color),
            recent: false,
            chroma: NO_CHROMA,
            deltas: [0; 3],
            generation: 0,
            entries: Box::new([Entry::default(); 256]),
        }
    }

    /// Makes `(u, v)` the current chroma sample.
    #[inline(always)]
    pub(super) fn select(&mut self, u: u8, v: u8) {
        let key = u32::from(u) << 8 | u32::from(v);
        if self.chroma != key {
            self.chroma = key;
            self.deltas = self.drawing.deltas(u, v);
            self.generation = self.generation.wrapping_add(1);
            if self.generation == 0 {
                // Generations wrapped around: start again from clean entries.
                self.generation = 1;
                self.entries.fill(Entry::default());
            }
        }
    }

    /// (Y, Cb, Cr) samples of luma `l` with the current chroma.
    #[inline(always)]
    pub(super) fn pixel(&mut self, l: u8) -> (u16, u16, u16) {
        let mut e = at(&self.entries, l);
        if e.generation != self.generation {
            e = self.convert(l);
        }
        (e.y, e.cb, e.cr)
    }

    /// Converts luma `l` with the current chroma and keeps the entry.
    #[inline(never)]
    fn convert(&mut self, l: u8) -> Entry {
        let drawn = self.drawing.unclipped(l, self.deltas);
        let [r, g, b] = drawn.map(|c| c.clamp(-1, 256));
        let (cb, cr) = planes::chroma_sum(r, g, b, 1);
        let e = Entry {
            generation: self.generation,
            y: planes::luma_wide(r, g, b),
            cb,
            cr,
        };
        if let Some(slot) = self.entries.get_mut(usize::from(l)) {
            *slot = e;
        }
        e
    }

    /// The two pixels of a row that share far chroma sample `(u, v)`, `luma` in output order.
    #[inline(always)]
    pub(super) fn pair(
        &mut self,
        luma: [u8; 2],
        (u, v): (u8, u8),
        y: [&mut u16; 2],
        cb: &mut [u16],
        cr: &mut [u16],
    ) {
        self.select(u, v);
        let [y0, y1] = y;
        let (a, b) = (self.pixel(luma[0]), self.pixel(luma[1]));
        (*y0, *y1) = (a.0, b.0);
        if let ([b0, b1], [r0, r1]) = (cb, cr) {
            (*b0, *b1, *r0, *r1) = (a.1, b.1, a.2, b.2);
        }
    }
}

#[cfg(test)]
// Tests fail by panicking.
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    #[test]
    fn drawing_matches_chromium() {
        // (Y, U, V) → (R, G, B) of limited-range BT.601 I420 frames as headless Chromium 156
        // drew them on a canvas: the benchmark's photo frame (the second has the blue that
        // libyuv's capped coefficient makes 199 where the float conversion gives 200) and the
        // fake camera's.
        let d = Drawing::new(YuvColor::default());
        let drawn = [
            ((182, 67, 152), [231, 198, 71]),
            ((91, 184, 98), [39, 90, 199]),
            ((101, 102, 182), [185, 65, 47]),
            ((16, 135, 124), [0, 1, 14]),
            ((235, 128, 128), [255, 255, 255]),
            ((115, 98, 149), [149, 110, 55]),
            ((0, 0, 0), [0, 135, 0]),
            ((38, 0, 0), [0, 180, 0]),
            ((255, 0, 0), [74, 255, 22]),
        ];
        for ((y, u, v), rgb) in drawn {
            assert_eq!(d.rgb(y, d.deltas(u, v)), rgb, "({y}, {u}, {v})");
        }
    }

    #[test]
    fn clipper_keeps_entries_per_chroma_value() {
        let color = YuvColor::default();
        let mut c = Clipper::new(color);
        let fresh = |u, v, l| {
            let mut c = Clipper::new(color);
            c.select(u, v);
            c.pixel(l)
        };
        for (u, v, l) in [
            (0, 0, 90),
            (0, 0, 90),
            (255, 3, 90),
            (0, 0, 90),
            (0, 0, 200),
        ] {
            c.select(u, v);
            assert_eq!(c.pixel(l), fresh(u, v, l), "({u}, {v}) luma {l}");
        }
        // Past 65 535 chroma changes the generations wrap around; entries stay right.
        let (green, magenta) = (fresh(0, 0, 90), fresh(255, 255, 90));
        for i in 0..70_000u32 {
            let (key, want) = if i % 2 == 0 {
                (0, green)
            } else {
                (255, magenta)
            };
            c.select(key, key);
            assert_eq!(c.pixel(90), want, "change {i}");
        }
        // Clipped channels are taken a level beyond the clip: (−1, 256, −1) for pure green.
        let d = Drawing::new(color);
        let (y, cb, cr) = fresh(0, 0, 126);
        assert_eq!(d.rgb(126, d.deltas(0, 0)), [0, 255, 0]);
        assert_eq!(
            (y, cb, cr),
            (
                planes::luma_wide(-1, 256, -1),
                planes::chroma_sum(-1, 256, -1, 1).0,
                planes::chroma_sum(-1, 256, -1, 1).1
            )
        );
    }
}
