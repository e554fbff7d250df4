//! The size rules of seed 004 and how each `fit` places a frame.
#![cfg(not(target_arch = "wasm32"))]

use tracksnap::core::error::Code;
use tracksnap::core::size::{output_size, placement, Fit, Rect, MAX_SIDE};

type Size = (u32, u32);

#[test]
fn size_rules_table() {
    // (stream X×Y, asked W×H) → output
    let table: &[(Size, Size, Size)] = &[
        // nothing asked: the stream's own size
        ((1920, 1080), (0, 0), (1920, 1080)),
        ((480, 640), (0, 0), (480, 640)),
        // only W: H proportional, rounded
        ((1920, 1080), (640, 0), (640, 360)),
        ((1920, 1080), (641, 0), (641, 361)), // 360.56 → 361
        ((1280, 720), (100, 0), (100, 56)),   // 56.25 → 56
        ((640, 480), (3, 0), (3, 2)),         // 2.25 → 2
        ((480, 640), (240, 0), (240, 320)),
        // only H: W proportional
        ((1920, 1080), (0, 360), (640, 360)),
        ((1920, 1080), (0, 101), (180, 101)), // 179.56 → 180
        ((480, 640), (0, 320), (240, 320)),
        // a proportional side never drops to 0
        ((7680, 10), (1, 0), (1, 1)),
        // both: exactly (W, H) when orientations agree (or either is square)
        ((1920, 1080), (640, 480), (640, 480)),
        ((480, 640), (300, 400), (300, 400)),
        ((1920, 1080), (500, 500), (500, 500)),
        ((1000, 1000), (300, 400), (300, 400)),
        ((1000, 1000), (400, 300), (400, 300)),
        // both, orientations disagree: swapped
        ((1920, 1080), (360, 640), (640, 360)),
        ((480, 640), (640, 360), (360, 640)),
        // the largest side allowed
        ((1920, 1080), (MAX_SIDE, 0), (MAX_SIDE, 4320)),
    ];
    for &(stream, asked, want) in table {
        assert_eq!(
            output_size(stream, asked).unwrap(),
            want,
            "stream {stream:?} asked {asked:?}"
        );
    }
}

#[test]
fn sizes_beyond_the_limit_are_invalid_params() {
    for (stream, asked) in [
        ((1080, 1920), (MAX_SIDE, 0)), // 7680 × 13653
        ((1920, 1080), (0, MAX_SIDE)), // 13653 × 7680
        ((1920, 1080), (MAX_SIDE + 1, 0)),
        ((1920, 1080), (100, MAX_SIDE + 1)),
        ((10000, 100), (0, 0)),
    ] {
        let e = output_size(stream, asked).unwrap_err();
        assert_eq!(e.code, Code::InvalidParam, "{stream:?} {asked:?}");
        assert!(e.message.contains("7680"), "{}", e.message);
    }
    assert_eq!(
        output_size((0, 1080), (0, 0)).unwrap_err().code,
        Code::InvalidParam
    );
}

#[test]
fn huge_sides_are_refused_without_overflow() {
    // Found by fuzz/fuzz_targets/size.rs: w·y·2 overflowed 64 bits (a panic with overflow
    // checks) before the side limit was checked.
    for (stream, asked) in [
        ((1, u32::MAX), (u32::MAX, 0)),
        ((u32::MAX, 1), (0, u32::MAX)),
        ((u32::MAX, u32::MAX), (u32::MAX, 0)),
    ] {
        assert_eq!(
            output_size(stream, asked).unwrap_err().code,
            Code::InvalidParam,
            "{stream:?} {asked:?}"
        );
    }
    assert_eq!(
        output_size((u32::MAX, u32::MAX), (7680, 0)).unwrap(),
        (7680, 7680)
    );
}

#[test]
fn fill_uses_the_whole_frame_and_the_whole_output() {
    let p = placement(Fit::Fill, (1920, 1080), 16.0 / 9.0, (500, 500));
    assert_eq!(p.dst, (0, 0, 500, 500));
    assert_eq!(
        p.src,
        Rect {
            left: 0.0,
            top: 0.0,
            width: 1920.0,
            height: 1080.0
        }
    );
}

#[test]
fn contain_letterboxes_and_pillarboxes() {
    // 16:9 into a square: bars above and below.
    let p = placement(Fit::Contain, (1920, 1080), 16.0 / 9.0, (400, 400));
    assert_eq!(p.dst, (0, 87, 400, 225)); // 400·9/16 = 225; the odd pixel of bar goes below
    assert_eq!((p.src.width, p.src.height), (1920.0, 1080.0));
    // 4:3 into 16:9: bars left and right.
    let p = placement(Fit::Contain, (640, 480), 4.0 / 3.0, (1280, 720));
    assert_eq!(p.dst, (160, 0, 960, 720));
    // Same aspect: no bars.
    let p = placement(Fit::Contain, (1280, 720), 16.0 / 9.0, (640, 360));
    assert_eq!(p.dst, (0, 0, 640, 360));
}

#[test]
fn cover_crops_the_centre() {
    // 16:9 into a square: the middle 1080×1080.
    let p = placement(Fit::Cover, (1920, 1080), 16.0 / 9.0, (300, 300));
    assert_eq!(p.dst, (0, 0, 300, 300));
    assert_close(
        p.src,
        Rect {
            left: 420.0,
            top: 0.0,
            width: 1080.0,
            height: 1080.0,
        },
    );
    // 4:3 into 16:9: the middle band, full width.
    let p = placement(Fit::Cover, (640, 480), 4.0 / 3.0, (1280, 720));
    assert_close(
        p.src,
        Rect {
            left: 0.0,
            top: 60.0,
            width: 640.0,
            height: 360.0,
        },
    );
}

#[test]
fn display_aspect_drives_fit_for_non_square_pixels() {
    // 720×576 PAL pixels shown at 16:9: contain into 16:9 needs no bars.
    let p = placement(Fit::Contain, (720, 576), 16.0 / 9.0, (1024, 576));
    assert_eq!(p.dst, (0, 0, 1024, 576));
}

fn assert_close(got: Rect, want: Rect) {
    let d = [
        got.left - want.left,
        got.top - want.top,
        got.width - want.width,
        got.height - want.height,
    ];
    assert!(d.iter().all(|d| d.abs() < 1e-6), "{got:?} != {want:?}");
}
