//! The maps from a camera's YUV to JFIF's YCbCr (what the encoder takes) and to RGB (for
//! RGBA).
//!
//! The maps are lookup tables in fixed point (16 fractional bits), built per call in a few
//! microseconds; the encoder takes their results with 4 fractional bits, not rounded to whole
//! code values.
//!
//! Every map sends grey to grey (Cb = Cr = 128 stays 128), so output chroma depends on input
//! chroma only and is computed once per 4:2:0 sample; output luma adds a chroma term for BT.709.

use crate::core::jpeg::planes::{FRACTION, TOP};

/// The matrix the camera used to turn its RGB into YUV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum YuvMatrix {
    /// BT.601 (`"smpte170m"`, `"bt470bg"`): SD video, most webcams, and JPEG itself.
    #[default]
    Bt601,
    /// BT.709 (`"bt709"`): HD video.
    Bt709,
}

impl YuvMatrix {
    /// The luma weights of red and blue, (Kr, Kb).
    fn weights(self) -> (f64, f64) {
        match self {
            YuvMatrix::Bt601 => (0.299, 0.114),
            YuvMatrix::Bt709 => (0.2126, 0.0722),
        }
    }
}

/// How a frame's YUV values encode colour: the matrix and the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct YuvColor {
    pub matrix: YuvMatrix,
    /// `true`: Y and chroma use 0–255; `false` (limited, "TV" range): Y 16–235, chroma 16–240.
    pub full_range: bool,
}

impl YuvColor {
    /// Full-range BT.601: what a JFIF file stores.
    pub const JFIF: YuvColor = YuvColor {
        matrix: YuvMatrix::Bt601,
        full_range: true,
    };

    /// The colour of a WebCodecs `VideoFrame` from its `colorSpace.matrix` and
    /// `colorSpace.fullRange`. `"bt709"` is BT.709; `"smpte170m"`, `"bt470bg"`, any other
    /// matrix and none are BT.601, which browsers assume for unlabelled camera frames. The range
    /// is limited unless `full_range` is `Some(true)`.
    pub fn from_video_frame(matrix: Option<&str>, full_range: Option<bool>) -> YuvColor {
        let matrix = match matrix {
            Some("bt709") => YuvMatrix::Bt709,
            _ => YuvMatrix::Bt601,
        };
        YuvColor {
            matrix,
            full_range: full_range.unwrap_or(false),
        }
    }

    /// Black as (Y, Cb, Cr): Y 16 in limited range, 0 in full range; chroma 128.
    pub fn black(self) -> [u8; 3] {
        [if self.full_range { 0 } else { 16 }, 128, 128]
    }

    /// An sRGB colour as this colour's (Y, Cb, Cr) code values, rounded: how a pixel of that
    /// colour is written in such a frame (a watermark composited into its planes).
    pub fn from_rgb(self, [r, g, b]: [u8; 3]) -> [u8; 3] {
        let (kr, kb) = self.matrix.weights();
        let [r, g, b] = [r, g, b].map(|c| f64::from(c) / 255.0);
        let y = kr * r + (1.0 - kr - kb) * g + kb * b;
        let cb = (b - y) / (2.0 * (1.0 - kb));
        let cr = (r - y) / (2.0 * (1.0 - kr));
        let (luma_scale, luma_offset, chroma_scale) = if self.full_range {
            (255.0, 0.0, 255.0)
        } else {
            (219.0, 16.0, 224.0)
        };
        let code = |v: f64| v.round().clamp(0.0, 255.0) as u8;
        [
            code(luma_offset + luma_scale * y),
            code(128.0 + chroma_scale * cb),
            code(128.0 + chroma_scale * cr),
        ]
    }

    /// Code value → normalised value: luma (v − offset) / scale in 0..1, chroma
    /// (v − 128) / scale in −0.5..0.5.
    fn normalise_luma(self, v: u8) -> f64 {
        if self.full_range {
            f64::from(v) / 255.0
        } else {
            (f64::from(v) - 16.0) / 219.0
        }
    }

    fn normalise_chroma(self, v: u8) -> f64 {
        let scale = if self.full_range { 255.0 } else { 224.0 };
        (f64::from(v) - 128.0) / scale
    }
}

// --- Fixed point -------------------------------------------------------------------------

const FRACTION_BITS: u32 = 16;
const HALF: i32 = 1 << (FRACTION_BITS - 1);
/// From the tables' fixed point to the encoder's samples ([`FRACTION`] bits), and its half.
const SAMPLE_SHIFT: u32 = FRACTION_BITS - FRACTION;
const SAMPLE_HALF: i32 = 1 << (SAMPLE_SHIFT - 1);

/// `v` in fixed point.
fn fixed(v: f64) -> i32 {
    (v * f64::from(1u32 << FRACTION_BITS)).round() as i32
}

/// A fixed-point sum (its rounding half already added) back to a code value.
#[inline]
pub(super) fn to_u8(v: i32) -> u8 {
    (v >> FRACTION_BITS).clamp(0, 255) as u8
}

/// A fixed-point sum (its rounding half already added) to an encoder sample.
#[inline]
fn to_sample(v: i32) -> u16 {
    (v >> SAMPLE_SHIFT).clamp(0, i32::from(TOP)) as u16
}

pub(super) fn table(f: impl Fn(u8) -> i32) -> [i32; 256] {
    let mut t = [0; 256];
    for (v, slot) in (0..=255u8).zip(t.iter_mut()) {
        *slot = f(v);
    }
    t
}

/// A table of encoder samples: `f` in code values, kept to [`FRACTION`] bits.
fn table_sample(f: impl Fn(u8) -> f64) -> [u16; 256] {
    let scale = f64::from(1u32 << FRACTION);
    let mut t = [0; 256];
    for (v, slot) in (0..=255u8).zip(t.iter_mut()) {
        *slot = (f(v) * scale).round().clamp(0.0, f64::from(TOP)) as u16;
    }
    t
}

/// `t[v]`: a `u8` always indexes a 256-entry table, so the fallback is never taken and the
/// optimiser drops it.
#[inline(always)]
pub(super) fn at<T: Copy + Default>(t: &[T; 256], v: u8) -> T {
    t.get(usize::from(v)).copied().unwrap_or_default()
}

/// Normalised (Y, Pb, Pr) → normalised (R, G, B) for a matrix, rows R, G, B.
fn ypbpr_to_rgb(matrix: YuvMatrix) -> [[f64; 3]; 3] {
    let (kr, kb) = matrix.weights();
    let kg = 1.0 - kr - kb;
    let r_pr = 2.0 * (1.0 - kr);
    let b_pb = 2.0 * (1.0 - kb);
    [
        [1.0, 0.0, r_pr],
        [1.0, -b_pb * kb / kg, -r_pr * kr / kg],
        [1.0, b_pb, 0.0],
    ]
}

/// Normalised (R, G, B) → normalised (Y, Pb, Pr) for a matrix, rows Y, Pb, Pr.
fn rgb_to_ypbpr(matrix: YuvMatrix) -> [[f64; 3]; 3] {
    let (kr, kb) = matrix.weights();
    let kg = 1.0 - kr - kb;
    let pb = 2.0 * (1.0 - kb);
    let pr = 2.0 * (1.0 - kr);
    [
        [kr, kg, kb],
        [-kr / pb, -kg / pb, (1.0 - kb) / pb],
        [(1.0 - kr) / pr, -kg / pr, -kb / pr],
    ]
}

fn multiply(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut m = [[0.0; 3]; 3];
    for (row, a_row) in m.iter_mut().zip(a) {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = a_row
                .iter()
                .zip(b)
                .map(|(x, b_row)| x * b_row.get(j).copied().unwrap_or(0.0))
                .sum();
        }
    }
    m
}

// --- YUV → JFIF YCbCr ----------------------------------------------------------------------

/// One chroma sample mapped to the encoder's samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Mapped {
    pub(super) cb: u16,
    pub(super) cr: u16,
    /// What the chroma adds to each luma of the sample (0 where luma stands alone).
    pub(super) term: i32,
    /// The chroma lies more than half a level beyond JFIF's 0–255, so `cb` and `cr` are
    /// clamped and would change the colour: the sample's pixels are taken as the browser draws
    /// them instead ([`Drawing`](super::gamut::Drawing)).
    pub(super) far: bool,
}

/// Maps one 4:2:0 sample to the encoder's samples: its chroma once, then each of the (one or
/// two) luma values that share it in a row.
pub(super) trait SampleMap {
    /// Output luma depends on input luma only (`chroma` always gives a term of 0).
    const LUMA_ALONE: bool;
    fn chroma(&self, cb: u8, cr: u8) -> Mapped;
    fn luma(&self, y: u8, chroma_term: i32) -> u16;
    /// A row of luma, for a map whose luma stands alone ([`Self::LUMA_ALONE`]).
    #[inline]
    fn luma_row(&self, src: &[u8], out: &mut [u16]) {
        for (o, &y) in out.iter_mut().zip(src) {
            *o = self.luma(y, 0);
        }
    }
    /// A row of planar chroma as a 4:2:0 file's cells: each sample times 4 (the sum over the
    /// cell's four pixels, which share it). Whether any sample is far ([`Mapped::far`]).
    #[inline]
    fn chroma_cells(&self, u: &[u8], v: &[u8], cb: &mut [u16], cr: &mut [u16]) -> bool {
        chroma_cells(self, u.iter().copied().zip(v.iter().copied()), cb, cr)
    }
}

/// [`SampleMap::chroma_cells`] from any (Cb, Cr) pairs.
#[inline]
pub(super) fn chroma_cells<M: SampleMap + ?Sized>(
    map: &M,
    chroma: impl Iterator<Item = (u8, u8)>,
    cb: &mut [u16],
    cr: &mut [u16],
) -> bool {
    let mut far = false;
    for ((b, r), (u, v)) in cb.iter_mut().zip(cr.iter_mut()).zip(chroma) {
        let c = map.chroma(u, v);
        far |= c.far;
        (*b, *r) = (c.cb * 4, c.cr * 4);
    }
    far
}

/// Whether a fixed-point JFIF chroma value (its rounding half already added) is more than
/// half a level outside 0–255.
#[inline]
fn beyond_jfif(v: i32) -> bool {
    let v = v - SAMPLE_HALF;
    !(-HALF..=(255 << FRACTION_BITS) + HALF).contains(&v)
}

/// Full-range BT.601 is JFIF already.
pub(super) struct Identity;

impl SampleMap for Identity {
    const LUMA_ALONE: bool = true;
    #[inline]
    fn chroma(&self, cb: u8, cr: u8) -> Mapped {
        Mapped {
            cb: u16::from(cb) << FRACTION,
            cr: u16::from(cr) << FRACTION,
            term: 0,
            far: false,
        }
    }
    #[inline]
    fn luma(&self, y: u8, _: i32) -> u16 {
        u16::from(y) << FRACTION
    }
}

/// Limited-range BT.601: each channel stretched on its own.
pub(super) struct RangeTables {
    y: [u16; 256],
    c: [u16; 256],
    /// Chroma codes that stretch beyond JFIF's range (below 16 and above 240).
    far: [bool; 256],
}

impl SampleMap for RangeTables {
    const LUMA_ALONE: bool = true;
    #[inline]
    fn chroma(&self, cb: u8, cr: u8) -> Mapped {
        Mapped {
            cb: at(&self.c, cb),
            cr: at(&self.c, cr),
            term: 0,
            far: at(&self.far, cb) | at(&self.far, cr),
        }
    }
    #[inline]
    fn luma(&self, y: u8, _: i32) -> u16 {
        at(&self.y, y)
    }
    #[inline]
    fn luma_row(&self, src: &[u8], out: &mut [u16]) {
        limited_luma_row(src, out);
    }
    #[inline]
    fn chroma_cells(&self, u: &[u8], v: &[u8], cb: &mut [u16], cr: &mut [u16]) -> bool {
        limited_chroma_cells(u, cb) | limited_chroma_cells(v, cr)
    }
}

/// Limited-range luma codes as encoder samples, as many as both slices hold: what the range
/// map's table holds (a test checks every code). 16 · 255 · (y − 16) / 219 rounded is
/// computed as a multiply and a shift, so that the loop vectorises (a table lookup per
/// sample does not): 0.2–0.6 ms less for a 1080p frame in wasm. (Explicit SIMD in floats,
/// `floor` and a saturating conversion, measured 3.7 ms slower.)
#[inline]
pub(super) fn limited_luma_row(src: &[u8], out: &mut [u16]) {
    for (o, &y) in out.iter_mut().zip(src) {
        let d = i32::from(y) - 16;
        *o = ((d * 76_309 + 2032) >> 12).clamp(0, i32::from(TOP)) as u16;
    }
}

/// Limited-range chroma codes as a 4:2:0 file's cells (each sample times 4), as many as both
/// slices hold, and whether any code is far (beyond 16–240). The range map's table by a
/// multiply and a shift, which vectorise (a test checks every code from 16 to 240): for
/// c ≥ 16, 16 · (128 + 255 · (c − 128) / 224) rounded is ⌊(255c − 3961) / 14⌋, and ⌊n / 14⌋
/// is ((n >> 1) · 18725) >> 17 for n < 61066 (no single 32-bit multiplier is exact there). A
/// far code's value is not used: its pixels are read one by one.
#[inline]
pub(super) fn limited_chroma_cells(src: &[u8], out: &mut [u16]) -> bool {
    let mut far = false;
    for (o, &c) in out.iter_mut().zip(src) {
        far |= !(16..=240).contains(&c);
        let n = (255 * i32::from(c) - 3961).max(0) as u32;
        *o = (((n >> 1) * 18_725) >> 17).min(u32::from(TOP)) as u16 * 4;
    }
    far
}

/// BT.709: output luma takes a little of the chroma, output chroma mixes both inputs.
pub(super) struct MixTables {
    y_y: [i32; 256],
    y_cb: [i32; 256],
    y_cr: [i32; 256],
    cb_cb: [i32; 256],
    cb_cr: [i32; 256],
    cr_cb: [i32; 256],
    cr_cr: [i32; 256],
}

impl SampleMap for MixTables {
    const LUMA_ALONE: bool = false;
    #[inline]
    fn chroma(&self, cb: u8, cr: u8) -> Mapped {
        let blue = at(&self.cb_cb, cb) + at(&self.cb_cr, cr);
        let red = at(&self.cr_cb, cb) + at(&self.cr_cr, cr);
        Mapped {
            cb: to_sample(blue),
            cr: to_sample(red),
            term: at(&self.y_cb, cb) + at(&self.y_cr, cr),
            far: beyond_jfif(blue) | beyond_jfif(red),
        }
    }
    #[inline]
    fn luma(&self, y: u8, chroma_term: i32) -> u16 {
        to_sample(at(&self.y_y, y) + chroma_term)
    }
}

pub(super) enum ToJfif {
    Identity,
    Range(Box<RangeTables>),
    Mix(Box<MixTables>),
}

impl ToJfif {
    pub(super) fn new(color: YuvColor) -> ToJfif {
        match (color.matrix, color.full_range) {
            (YuvMatrix::Bt601, true) => ToJfif::Identity,
            (YuvMatrix::Bt601, false) => {
                let chroma = |v| 128.0 + 255.0 * color.normalise_chroma(v);
                let mut far = [false; 256];
                for (v, slot) in (0..=255u8).zip(far.iter_mut()) {
                    *slot = beyond_jfif(fixed(chroma(v)) + SAMPLE_HALF);
                }
                ToJfif::Range(Box::new(RangeTables {
                    y: table_sample(|v| 255.0 * color.normalise_luma(v)),
                    c: table_sample(chroma),
                    far,
                }))
            }
            (YuvMatrix::Bt709, _) => {
                // Source (Y, Pb, Pr) → RGB → JFIF's (Y, Pb, Pr); then to code values.
                let m = multiply(&rgb_to_ypbpr(YuvMatrix::Bt601), &ypbpr_to_rgb(color.matrix));
                let [[yy, yb, yr], [_, bb, br], [_, rb, rr]] = m;
                let luma = |k: f64| table(move |v| fixed(255.0 * k * color.normalise_luma(v)));
                let chroma = |k: f64| table(move |v| fixed(255.0 * k * color.normalise_chroma(v)));
                let with = |mut t: [i32; 256], add: i32| {
                    for x in t.iter_mut() {
                        *x += add;
                    }
                    t
                };
                let offset = fixed(128.0) + SAMPLE_HALF;
                ToJfif::Mix(Box::new(MixTables {
                    y_y: with(luma(yy), SAMPLE_HALF),
                    y_cb: chroma(yb),
                    y_cr: chroma(yr),
                    cb_cb: with(chroma(bb), offset),
                    cb_cr: chroma(br),
                    cr_cb: chroma(rb),
                    cr_cr: with(chroma(rr), offset),
                }))
            }
        }
    }

    /// [`Mapped::far`] of a chroma sample.
    #[inline]
    pub(super) fn far(&self, cb: u8, cr: u8) -> bool {
        match self {
            ToJfif::Identity => false,
            ToJfif::Range(t) => t.chroma(cb, cr).far,
            ToJfif::Mix(t) => t.chroma(cb, cr).far,
        }
    }
}

// --- YUV → RGB (for RGBA) ------------------------------------------------------------------

/// Fixed-point tables of the source matrix's YUV → RGB.
pub(super) struct RgbTables {
    pub(super) y: [i32; 256],
    pub(super) r_cr: [i32; 256],
    pub(super) g_cb: [i32; 256],
    pub(super) g_cr: [i32; 256],
    pub(super) b_cb: [i32; 256],
}

impl RgbTables {
    pub(super) fn new(color: YuvColor) -> RgbTables {
        let [[_, _, r_pr], [_, g_pb, g_pr], [_, b_pb, _]] = ypbpr_to_rgb(color.matrix);
        let chroma = |k: f64| table(move |v| fixed(255.0 * k * color.normalise_chroma(v)));
        RgbTables {
            y: table(|v| fixed(255.0 * color.normalise_luma(v)) + HALF),
            r_cr: chroma(r_pr),
            g_cb: chroma(g_pb),
            g_cr: chroma(g_pr),
            b_cb: chroma(b_pb),
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
    fn bt709_grey_stays_grey_and_white_stays_white() {
        let ToJfif::Mix(t) = ToJfif::new(YuvColor::from_video_frame(Some("bt709"), None)) else {
            panic!("BT.709 is a mix");
        };
        let grey = t.chroma(128, 128);
        assert_eq!(
            (grey.cb, grey.cr, grey.far),
            (128 << FRACTION, 128 << FRACTION, false)
        );
        assert_eq!(t.luma(16, grey.term), 0);
        assert_eq!(t.luma(235, grey.term), TOP);
    }

    #[test]
    fn limited_bt601_stretches_to_full_range() {
        let ToJfif::Range(t) = ToJfif::new(YuvColor::default()) else {
            panic!("limited BT.601 is a range map");
        };
        assert_eq!((t.luma(16, 0), t.luma(235, 0), t.luma(0, 0)), (0, TOP, 0));
        // 128 ∓ 127.5: JFIF's chroma is centred on 128, so its extremes are 0.5 and 255.5,
        // kept to a sixteenth (255.5 is past the samples' top).
        let c = t.chroma(16, 240);
        assert_eq!((c.cb, c.cr, c.term, c.far), (8, TOP, 0, false));
        let c = t.chroma(128, 128);
        assert_eq!(
            (c.cb, c.cr, c.far),
            (128 << FRACTION, 128 << FRACTION, false)
        );
        // Only codes beyond 16–240 stretch more than half a level past JFIF's 0–255.
        assert!(t.chroma(15, 128).far && t.chroma(128, 241).far);
        assert!(!t.chroma(16, 128).far && !t.chroma(240, 240).far);
        // Limited range's steps are finer than whole full-range code values: 17 → 1.164.
        assert_eq!(t.luma(17, 0), 19);
        // The row's multiply-and-shift is the table, for every code.
        let codes: Vec<u8> = (0..=255).collect();
        let mut row = vec![0u16; 256];
        limited_luma_row(&codes, &mut row);
        for (&y, &v) in codes.iter().zip(&row) {
            assert_eq!(v, t.luma(y, 0), "code {y}");
        }
        // So are the chroma cells' multiply and shift, and their far codes.
        for c in 0..=255u8 {
            let mut cell = [0u16];
            let far = limited_chroma_cells(&[c], &mut cell);
            let m = t.chroma(c, c);
            assert_eq!(far, m.far, "code {c}");
            if !far {
                assert_eq!(cell[0], m.cb * 4, "code {c}");
            }
        }
    }
}
