//! Size maths: the output size rules, where a frame lands for each fit, and mirroring.
//!
//! Properties: `output_size` refuses exactly a stream with a zero side and an output side
//! above 7680, never overflows, and otherwise keeps the rules (both sides 1..=7680; nothing
//! asked → the stream's size; one side → the other in proportion, rounded; both → those two,
//! turned to the stream's orientation). `placement` puts a non-empty picture inside the
//! output (centred for contain, the whole output for fill and cover) and takes a non-empty part
//! of the source inside the source, with the output's aspect for cover. Mirroring twice gives
//! the pixels back.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tracksnap::core::error::Code;
use tracksnap::core::scale::mirror_rows;
use tracksnap::core::size::{output_size, placement, Fit, MAX_SIDE};
use tracksnap_fuzz::FitChoice;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    /// The stream's (display) size.
    stream: (u32, u32),
    /// The asked size, 0 = not given.
    asked: (u32, u32),
    /// The frame's pixel size, when it differs from the display size (non-square pixels).
    pixels: Option<(u16, u16)>,
    fit: FitChoice,
    /// A few pixels to mirror: the width, then the bytes.
    mirror_width: u8,
    rows: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let Input {
        stream,
        asked,
        pixels,
        fit,
        mirror_width,
        rows,
    } = input;
    let fit = Fit::from(fit);
    assert_eq!(Fit::parse(fit.as_str()), Some(fit));

    match (output_size(stream, asked), expected_size(stream, asked)) {
        (Ok(got), Some(want)) => {
            assert_eq!(got, want, "stream {stream:?} asked {asked:?}");
            let src = match pixels {
                Some((w, h)) if w > 0 && h > 0 => (u32::from(w), u32::from(h)),
                _ => stream,
            };
            check_placement(fit, src, stream, got);
        }
        (Err(e), None) => assert_eq!(e.code, Code::InvalidParam, "{}", e.message),
        (got, want) => panic!("stream {stream:?} asked {asked:?}: got {got:?}, want {want:?}"),
    }

    // Whole rows of a 0–15 pixel wide image (width 0 must leave any buffer alone).
    let w = usize::from(mirror_width % 16);
    let row_bytes = w * 4;
    let whole = rows
        .len()
        .checked_div(row_bytes)
        .map_or(rows.len(), |n| n * row_bytes);
    let original = &rows[..whole];
    let mut once = original.to_vec();
    mirror_rows(&mut once, w as u32);
    if w > 0 {
        for (a, b) in original
            .chunks_exact(row_bytes)
            .zip(once.chunks_exact(row_bytes))
        {
            for x in 0..w {
                let from = &a[x * 4..x * 4 + 4];
                let to = &b[(w - 1 - x) * 4..(w - x) * 4];
                assert_eq!(from, to, "pixel {x} of a {w}-wide row");
            }
        }
    }
    mirror_rows(&mut once, w as u32);
    assert_eq!(once, original, "mirrored twice");
});

/// The size rules, restated in 128-bit integers; `None` for a refusal.
fn expected_size((x, y): (u32, u32), (w, h): (u32, u32)) -> Option<(u32, u32)> {
    if x == 0 || y == 0 {
        return None;
    }
    // round(num·a/b), at least 1.
    let prop = |num: u32, a: u32, b: u32| -> u128 {
        let exact = u128::from(num) * u128::from(a);
        let (q, r) = (exact / u128::from(b), exact % u128::from(b));
        (q + u128::from(2 * r >= u128::from(b))).max(1)
    };
    let (ow, oh): (u128, u128) = match (w, h) {
        (0, 0) => (x.into(), y.into()),
        (w, 0) => (w.into(), prop(w, y, x)),
        (0, h) => (prop(h, x, y), h.into()),
        (w, h) => {
            // Orientation follows the stream; a square on either side changes nothing.
            let turn = (w < h && x > y) || (w > h && x < y);
            if turn {
                (h.into(), w.into())
            } else {
                (w.into(), h.into())
            }
        }
    };
    let max = u128::from(MAX_SIDE);
    (ow <= max && oh <= max).then_some((ow as u32, oh as u32))
}

fn check_placement(fit: Fit, src: (u32, u32), display: (u32, u32), dst: (u32, u32)) {
    let aspect = f64::from(display.0) / f64::from(display.1);
    let p = placement(fit, src, aspect, dst);
    let (x, y, w, h) = p.dst;
    let (dw, dh) = dst;
    let what = || format!("{fit:?} of {src:?} (aspect {aspect}) into {dst:?}: {p:?}");
    assert!(w >= 1 && h >= 1, "an empty picture: {}", what());
    assert!(
        u64::from(x) + u64::from(w) <= u64::from(dw)
            && u64::from(y) + u64::from(h) <= u64::from(dh),
        "outside the output: {}",
        what()
    );
    match fit {
        Fit::Fill | Fit::Cover => assert_eq!(p.dst, (0, 0, dw, dh), "{}", what()),
        Fit::Contain => {
            assert!(w == dw || h == dh, "touches no side: {}", what());
            let (right, bottom) = (dw - x - w, dh - y - h);
            assert!(
                right.abs_diff(x) <= 1 && bottom.abs_diff(y) <= 1,
                "off centre: {}",
                what()
            );
        }
    }
    let s = p.src;
    let (sw, sh) = (f64::from(src.0), f64::from(src.1));
    let eps = 1e-6 * sw.max(sh);
    assert!(
        [s.left, s.top, s.width, s.height]
            .iter()
            .all(|v| v.is_finite()),
        "not finite: {}",
        what()
    );
    assert!(
        s.width > 0.0 && s.height > 0.0,
        "an empty source: {}",
        what()
    );
    assert!(
        s.left >= -eps
            && s.top >= -eps
            && s.left + s.width <= sw + eps
            && s.top + s.height <= sh + eps,
        "outside the source: {}",
        what()
    );
    match fit {
        Fit::Fill | Fit::Contain => {
            assert_eq!(
                (s.left, s.top, s.width, s.height),
                (0.0, 0.0, sw, sh),
                "{}",
                what()
            )
        }
        Fit::Cover => {
            // The part taken, at display aspect, has the output's aspect.
            let taken =
                (s.width / sw) * f64::from(display.0) / ((s.height / sh) * f64::from(display.1));
            let want = f64::from(dw) / f64::from(dh);
            assert!(
                (taken / want - 1.0).abs() < 1e-9,
                "cover takes aspect {taken}, not {want}: {}",
                what()
            );
        }
    }
}
