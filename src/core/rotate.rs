//! Quarter turns of a frame, clockwise: the first step of a snapshot, before the size rules,
//! the fit and the mirror, so those all see the turned picture.
//!
//! A turn moves whole pixels (4-byte RGBA, or one plane's samples), so it loses nothing.

use super::error::{Code, Error, Result};

/// How far a frame is turned, clockwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rotation {
    #[default]
    None,
    Cw90,
    Cw180,
    Cw270,
}

impl Rotation {
    pub const ALL: [Rotation; 4] = [
        Rotation::None,
        Rotation::Cw90,
        Rotation::Cw180,
        Rotation::Cw270,
    ];

    /// Degrees clockwise: 0, 90, 180 or 270.
    pub fn degrees(self) -> u32 {
        match self {
            Rotation::None => 0,
            Rotation::Cw90 => 90,
            Rotation::Cw180 => 180,
            Rotation::Cw270 => 270,
        }
    }

    /// The turn of `degrees` clockwise, for exactly 0, 90, 180 or 270.
    pub fn from_degrees(degrees: f64) -> Option<Rotation> {
        Rotation::ALL
            .into_iter()
            .find(|r| f64::from(r.degrees()) == degrees)
    }

    /// A quarter turn (90 or 270): width and height trade places.
    pub fn swaps_sides(self) -> bool {
        matches!(self, Rotation::Cw90 | Rotation::Cw270)
    }

    /// The pixel of a `(width, height)` picture that lands on `(x, y)` of the turned one: the
    /// turn's definition, which the tests check every turn against (at 90° the source's left
    /// column becomes the top row).
    pub fn source_of(self, (w, h): (u32, u32), (x, y): (u32, u32)) -> (u32, u32) {
        let (last_x, last_y) = (w.saturating_sub(1), h.saturating_sub(1));
        match self {
            Rotation::None => (x, y),
            Rotation::Cw90 => (y, last_y.saturating_sub(x)),
            Rotation::Cw180 => (last_x.saturating_sub(x), last_y.saturating_sub(y)),
            Rotation::Cw270 => (last_x.saturating_sub(y), x),
        }
    }

    /// The size of a `(width, height)` picture once turned.
    pub fn size(self, (width, height): (u32, u32)) -> (u32, u32) {
        if self.swaps_sides() {
            (height, width)
        } else {
            (width, height)
        }
    }
}

/// Output rows made together by a quarter turn: each output pixel column then reads `BAND`
/// neighbouring pixels of one source row, so reads run along rows and the band's rows stay in
/// the cache while they are written.
const BAND: usize = 16;

/// Turns a `width × height` image of `N`-byte pixels (rows tightly packed) into `out`, which is
/// resized to hold the turned image (`rotation.size((width, height))`).
///
/// Output pixel (x, y) is source pixel [`Rotation::source_of`]: (y, h−1−x) at 90°,
/// (w−1−x, h−1−y) at 180°, (w−1−y, x) at 270°.
pub fn rotate_pixels<const N: usize>(
    src: &[u8],
    size: (u32, u32),
    rotation: Rotation,
    out: &mut Vec<u8>,
) -> Result<()> {
    out.clear();
    out.resize(src.len(), 0);
    rotate_into::<N>(src, size, rotation, out)
}

/// [`rotate_pixels`] into `out`, a slice as long as `src` (a plane of a larger buffer).
pub fn rotate_into<const N: usize>(
    src: &[u8],
    (width, height): (u32, u32),
    rotation: Rotation,
    out: &mut [u8],
) -> Result<()> {
    let (w, h) = (width as usize, height as usize);
    let fits = w
        .checked_mul(h)
        .and_then(|n| n.checked_mul(N))
        .is_some_and(|len| len == src.len() && len == out.len() && len > 0);
    if !fits {
        return Err(Error::new(
            Code::EncodeFailed,
            format!(
                "cannot turn {} bytes as a {width}×{height} image of {N} bytes a pixel",
                src.len()
            ),
        ));
    }
    match rotation {
        Rotation::None => out.copy_from_slice(src),
        Rotation::Cw180 => {
            for (o, s) in out.chunks_exact_mut(N).zip(src.chunks_exact(N).rev()) {
                o.copy_from_slice(s);
            }
        }
        Rotation::Cw90 | Rotation::Cw270 => {
            quarter::<N>(src, (w, h), rotation == Rotation::Cw90, out);
        }
    }
    Ok(())
}

/// A quarter turn of a checked `w × h` image into `out` (`h × w`, the same length).
fn quarter<const N: usize>(src: &[u8], (w, h): (usize, usize), clockwise: bool, out: &mut [u8]) {
    // The output is h wide and w tall: output row y is source column y (clockwise) or
    // w−1−y (anticlockwise); output column x is source row h−1−x, or x.
    let out_row = h * N;
    for (band_no, band) in out.chunks_mut(out_row * BAND).enumerate() {
        let y0 = band_no * BAND;
        let rows = band.len() / out_row;
        // The band's rows come from the source columns x0 .. x0 + rows.
        let x0 = if clockwise { y0 } else { w - y0 - rows };
        for x in 0..h {
            let src_row = if clockwise { h - 1 - x } else { x };
            let at = (src_row * w + x0) * N;
            let Some(run) = src.get(at..at + rows * N) else {
                continue;
            };
            // The band's row k takes source column x0 + k (clockwise) or x0 + rows−1−k. Rows
            // are written in ascending order: descending took twice as long on the host.
            for (k, row) in band.chunks_exact_mut(out_row).enumerate() {
                let i = if clockwise { k } else { rows - 1 - k };
                let (o, px) = (row.get_mut(x * N..x * N + N), run.get(i * N..i * N + N));
                if let (Some(o), Some(px)) = (o, px) {
                    o.copy_from_slice(px);
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// An image whose every pixel names its place: (x, y, x ^ y, 255) for RGBA, x + 16·y for
    /// one byte (sides below 16).
    fn labelled<const N: usize>(w: u32, h: u32) -> Vec<u8> {
        let mut v = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let px = [x as u8, y as u8, (x ^ y) as u8, 255];
                if N == 1 {
                    v.push((x + 16 * y) as u8);
                } else {
                    v.extend_from_slice(&px[..N]);
                }
            }
        }
        v
    }

    fn pixel<const N: usize>(img: &[u8], w: u32, (x, y): (u32, u32)) -> &[u8] {
        let at = (y * w + x) as usize * N;
        &img[at..at + N]
    }

    fn check<const N: usize>(w: u32, h: u32) {
        let src = labelled::<N>(w, h);
        let mut out = vec![7; 3];
        for r in Rotation::ALL {
            rotate_pixels::<N>(&src, (w, h), r, &mut out).unwrap();
            let (ow, oh) = r.size((w, h));
            assert_eq!(out.len(), src.len(), "{w}×{h} at {r:?}");
            for y in 0..oh {
                for x in 0..ow {
                    assert_eq!(
                        pixel::<N>(&out, ow, (x, y)),
                        pixel::<N>(&src, w, r.source_of((w, h), (x, y))),
                        "{w}×{h} at {r:?}: output ({x}, {y})"
                    );
                }
            }
        }
    }

    #[test]
    fn every_pixel_lands_where_the_turn_puts_it() {
        // Odd sides, one-pixel sides, and sides past a band of rows (and not a multiple).
        for (w, h) in [
            (1, 1),
            (3, 2),
            (2, 3),
            (5, 7),
            (15, 1),
            (1, 15),
            (13, 11),
            (16, 15),
        ] {
            check::<1>(w, h);
            check::<2>(w, h);
            check::<4>(w, h);
        }
        for (w, h) in [(40, 17), (17, 40), (33, 34), (120, 90)] {
            check::<4>(w, h);
            check::<2>(w, h);
        }
    }

    #[test]
    fn a_clockwise_quarter_turn_puts_the_left_edge_on_top() {
        // 3×2: a b c / d e f turns into 2×3: d a / e b / f c.
        let src = b"abcdef";
        let mut out = Vec::new();
        rotate_pixels::<1>(src, (3, 2), Rotation::Cw90, &mut out).unwrap();
        assert_eq!(&out, b"daebfc");
        rotate_pixels::<1>(src, (3, 2), Rotation::Cw270, &mut out).unwrap();
        assert_eq!(&out, b"cfbead");
        rotate_pixels::<1>(src, (3, 2), Rotation::Cw180, &mut out).unwrap();
        assert_eq!(&out, b"fedcba");
        // RGBA pixels move whole.
        let rgba = [1, 2, 3, 4, 5, 6, 7, 8];
        rotate_pixels::<4>(&rgba, (2, 1), Rotation::Cw90, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8]);
        rotate_pixels::<4>(&rgba, (2, 1), Rotation::Cw270, &mut out).unwrap();
        assert_eq!(out, [5, 6, 7, 8, 1, 2, 3, 4]);
    }

    #[test]
    fn four_quarter_turns_give_the_image_back() {
        let (w, h) = (37, 19);
        let src = labelled::<4>(w, h);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        rotate_pixels::<4>(&src, (w, h), Rotation::Cw90, &mut a).unwrap();
        rotate_pixels::<4>(&a, (h, w), Rotation::Cw90, &mut b).unwrap();
        rotate_pixels::<4>(&src, (w, h), Rotation::Cw180, &mut a).unwrap();
        assert_eq!(a, b, "two quarter turns are a half turn");
        rotate_pixels::<4>(&b, (w, h), Rotation::Cw180, &mut a).unwrap();
        assert_eq!(a, src);
        rotate_pixels::<4>(&src, (w, h), Rotation::Cw270, &mut a).unwrap();
        rotate_pixels::<4>(&a, (h, w), Rotation::Cw90, &mut b).unwrap();
        assert_eq!(b, src, "270 then 90");
    }

    #[test]
    fn wrong_lengths_are_errors() {
        let mut out = Vec::new();
        for (len, size) in [(11, (2, 2)), (0, (0, 0)), (16, (0, 4)), (16, (u32::MAX, 2))] {
            let e = rotate_pixels::<4>(&vec![0; len], size, Rotation::Cw90, &mut out);
            assert_eq!(
                e.map_err(|e| e.code),
                Err(Code::EncodeFailed),
                "{len} {size:?}"
            );
        }
    }

    #[test]
    fn degrees_name_the_turns() {
        for r in Rotation::ALL {
            assert_eq!(Rotation::from_degrees(f64::from(r.degrees())), Some(r));
        }
        for d in [45.0, -90.0, 360.0, 90.5, f64::NAN, f64::INFINITY] {
            assert_eq!(Rotation::from_degrees(d), None, "{d}");
        }
        assert_eq!(Rotation::Cw90.size((320, 240)), (240, 320));
        assert_eq!(Rotation::Cw180.size((320, 240)), (320, 240));
    }
}
