//! Capture only on change: the luma thumbnail from RGBA, BGRA, I420 and NV12 frames, and the
//! difference of two (0 for the same picture, 100 for black against white, small for a small
//! shift).
#![cfg(not(target_arch = "wasm32"))]

use tracksnap::core::change::{unchanged, Thumb, THUMB_HEIGHT, THUMB_LEN, THUMB_WIDTH};
use tracksnap::core::protocol::Pixels;
use tracksnap::core::yuv::{YuvColor, YuvMatrix};

/// A picture: RGB at (x, y) of a `w × h` frame.
type Picture = dyn Fn(u32, u32, u32, u32) -> [u8; 3];

fn rgba(w: u32, h: u32, picture: &Picture) -> Vec<u8> {
    let mut out = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h {
        for x in 0..w {
            out.extend_from_slice(&picture(x, y, w, h));
            out.push(255);
        }
    }
    out
}

/// The picture as a 4:2:0 frame: a BT.601 Y plane (limited range unless `full`), then grey
/// chroma laid out as I420 (the thumbnail reads only Y).
fn yuv(w: u32, h: u32, full: bool, picture: &Picture) -> Vec<u8> {
    let mut out = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let [r, g, b] = picture(x, y, w, h).map(f64::from);
            let luma = 0.299 * r + 0.587 * g + 0.114 * b;
            let code = if full {
                luma
            } else {
                16.0 + luma * 219.0 / 255.0
            };
            out.push(code.round() as u8);
        }
    }
    let chroma = (w.div_ceil(2) * h.div_ceil(2) * 2) as usize;
    out.resize(out.len() + chroma, 128);
    out
}

fn solid(v: u8) -> impl Fn(u32, u32, u32, u32) -> [u8; 3] {
    move |_, _, _, _| [v, v, v]
}

/// A slide: white, with a dark title bar and coloured blocks, `dx` pixels to the right.
fn slide(dx: u32) -> impl Fn(u32, u32, u32, u32) -> [u8; 3] {
    move |x, y, w, h| {
        let x = x.saturating_sub(dx);
        if y < h / 6 {
            [30, 40, 90]
        } else if x > w / 10 && x < w / 2 && y > h / 3 && y < h * 2 / 3 {
            [200, 40, 40]
        } else if (x / 7 + y / 5) % 9 == 0 {
            [20, 20, 20]
        } else {
            [250, 250, 245]
        }
    }
}

const LIMITED: YuvColor = YuvColor {
    matrix: YuvMatrix::Bt601,
    full_range: false,
};
const FULL: YuvColor = YuvColor {
    matrix: YuvMatrix::Bt601,
    full_range: true,
};

fn of_rgba(w: u32, h: u32, picture: &Picture) -> Thumb {
    Thumb::from_rgba(&rgba(w, h, picture), w, h, false).expect("a thumbnail")
}

#[test]
fn identical_is_0_and_black_against_white_is_100() {
    let black = of_rgba(64, 36, &solid(0));
    let white = of_rgba(64, 36, &solid(255));
    assert_eq!(black.difference(&black), 0.0);
    assert_eq!(white.difference(&black), 100.0);
    assert_eq!(black.difference(&white), 100.0);
    let grey = of_rgba(64, 36, &solid(128));
    assert!((grey.difference(&black) - 128.0 / 2.55).abs() < 1e-9);
    assert_eq!(black.as_bytes(), &[0; THUMB_LEN][..]);
    assert_eq!(white.as_bytes(), &[255; THUMB_LEN][..]);
    let pic = slide(0);
    assert_eq!(
        of_rgba(640, 360, &pic).difference(&of_rgba(640, 360, &pic)),
        0.0
    );
}

#[test]
fn cells_are_the_means_of_their_boxes() {
    // Left half black, right half white: the cells split the same way.
    let half = |x: u32, _: u32, w: u32, _: u32| if x < w / 2 { [0; 3] } else { [255; 3] };
    let t = of_rgba(320, 180, &half);
    for row in t.as_bytes().chunks(THUMB_WIDTH) {
        assert_eq!(row[..16], [0; 16]);
        assert_eq!(row[16..], [255; 16]);
    }
    // A cell of 10×10 pixels, one of which is white: its mean, rounded.
    let dot = |x: u32, y: u32, _: u32, _: u32| if x == 0 && y == 0 { [255; 3] } else { [0; 3] };
    let t = of_rgba(320, 180, &dot);
    assert_eq!(t.as_bytes()[0], 3, "255 / 100 rounded");
    assert!(t.as_bytes()[1..].iter().all(|&v| v == 0));
}

#[test]
fn luma_uses_bt601_weights_and_bgra_swaps_red_and_blue() {
    for (rgb, luma) in [([255, 0, 0], 77), ([0, 255, 0], 149), ([0, 0, 255], 29)] {
        let t = of_rgba(32, 18, &move |_, _, _, _| rgb);
        assert!(
            t.as_bytes().iter().all(|&v| v.abs_diff(luma) <= 1),
            "{rgb:?}: {}",
            t.as_bytes()[0]
        );
        let [r, g, b] = rgb;
        let bgra = rgba(32, 18, &move |_, _, _, _| [b, g, r]);
        assert_eq!(
            Thumb::from_rgba(&bgra, 32, 18, true).as_ref(),
            Some(&t),
            "{rgb:?} as BGRA"
        );
    }
}

#[test]
fn yuv_frames_give_the_thumbnail_of_the_same_picture_in_rgb() {
    let (w, h) = (640, 360);
    let pic = slide(0);
    let from_rgb = of_rgba(w, h, &pic);
    let limited = yuv(w, h, false, &pic);
    let full = yuv(w, h, true, &pic);
    for (what, data, color) in [("limited", &limited, LIMITED), ("full", &full, FULL)] {
        let t = Thumb::from_luma(data, w, h, color).expect("a thumbnail");
        let d = t.difference(&from_rgb);
        assert!(d < 0.5, "{what} range: {d} % from the RGB picture's");
        for layout in [Pixels::I420, Pixels::Nv12] {
            assert_eq!(
                Thumb::of_frame(data, layout, color, w, h).as_ref(),
                Some(&t)
            );
        }
    }
    // Read without the stretch, limited range would differ by several percent.
    let unstretched = Thumb::from_luma(&limited, w, h, FULL).expect("a thumbnail");
    assert!(unstretched.difference(&from_rgb) > 3.0);
    assert_eq!(
        Thumb::of_frame(&rgba(w, h, &pic), Pixels::Rgba, LIMITED, w, h).as_ref(),
        Some(&from_rgb),
        "RGBA ignores the YUV colour"
    );
}

#[test]
fn a_small_shift_is_a_small_difference_and_a_new_slide_a_large_one() {
    let (w, h) = (1280, 720);
    let base = of_rgba(w, h, &slide(0));
    let shifted = of_rgba(w, h, &slide(2)).difference(&base);
    assert!(
        shifted > 0.0 && shifted < 1.0,
        "2 px to the right: {shifted} %"
    );
    let moved = of_rgba(w, h, &slide(w / 5)).difference(&base);
    assert!(moved > 5.0, "a fifth of the width: {moved} %");
    let grey = of_rgba(w, h, &solid(128)).difference(&base);
    assert!(grey > 30.0, "another picture: {grey} %");
}

#[test]
fn tiny_odd_and_short_frames() {
    // Fewer pixels than cells: each cell takes the pixel under its start.
    for (w, h) in [(1, 1), (7, 3), (33, 19), (31, 17), (1921, 1081)] {
        let t = of_rgba(w, h, &solid(200));
        assert!(t.as_bytes().iter().all(|&v| v == 200), "{w}×{h}");
        let y = Thumb::from_luma(&vec![200; (w * h) as usize], w, h, FULL).unwrap();
        assert_eq!(y, t, "{w}×{h} luma");
    }
    assert_eq!(
        Thumb::from_rgba(&[0; 15], 2, 2, false),
        None,
        "too few bytes"
    );
    assert_eq!(Thumb::from_rgba(&[], 0, 0, false), None, "no pixels");
    assert_eq!(Thumb::from_luma(&[0; 3], 2, 2, FULL), None);
    assert_eq!(Thumb::from_rgba(&[0; 16], u32::MAX, u32::MAX, false), None);
    assert_eq!(Thumb::from_bytes(&[0; THUMB_LEN - 1]), None);
    assert_eq!(
        Thumb::from_bytes(&[7; THUMB_LEN]).map(|t| t.as_bytes()[THUMB_LEN - 1]),
        Some(7)
    );
    assert_eq!(THUMB_LEN, THUMB_WIDTH * THUMB_HEIGHT);
}

#[test]
fn a_tick_is_unchanged_only_below_a_threshold_above_0_with_a_reference() {
    let black = of_rgba(32, 18, &solid(0));
    let dim = of_rgba(32, 18, &solid(13)); // 13 / 2.55 = 5.1 %
    assert!(!unchanged(&black, None, 5.0), "the first image is kept");
    assert!(!unchanged(&black, Some(&black), 0.0), "0 keeps every tick");
    assert!(unchanged(&black, Some(&black), 0.001));
    assert!(unchanged(&dim, Some(&black), 5.2));
    assert!(
        !unchanged(&dim, Some(&black), 5.0),
        "a difference at or above it is kept"
    );
    assert!(unchanged(
        &of_rgba(32, 18, &solid(255)),
        Some(&black),
        100.5
    ));
}
