//! Frames through the pipeline and back through an independent decoder (the `image` crate):
//! dimensions, colours, mirror, fit, formats.
#![cfg(not(target_arch = "wasm32"))]

use image::RgbaImage;
use tracksnap::core::encode::{encode_rgba, ImageFormat, JpegSettings};
use tracksnap::core::error::Code;
use tracksnap::core::rotate::Rotation;
use tracksnap::core::size::Fit;
use tracksnap::core::snapshot::{FrameInfo, Pipeline, SnapshotSpec};

const RED: [u8; 3] = [220, 30, 40];
const GREEN: [u8; 3] = [30, 200, 60];
const BLUE: [u8; 3] = [40, 50, 210];
const BLACK: [u8; 3] = [0, 0, 0];
const YELLOW: [u8; 3] = [230, 210, 40];

/// A frame painted by `paint(x, y)`.
fn frame(pipe: &mut Pipeline, w: u32, h: u32, paint: impl Fn(u32, u32) -> [u8; 3]) -> FrameInfo {
    let buf = pipe.input_mut(w as usize * h as usize * 4);
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) as usize * 4;
            let [r, g, b] = paint(x, y);
            buf[i..i + 4].copy_from_slice(&[r, g, b, 255]);
        }
    }
    FrameInfo::square(w, h)
}

fn run(pipe: &mut Pipeline, info: FrameInfo, spec: &SnapshotSpec) -> (RgbaImage, Vec<u8>) {
    let out = pipe.process(info, spec).expect("pipeline");
    let bytes = out.bytes.to_vec();
    let img = image::load_from_memory(&bytes).expect("decodes").to_rgba8();
    assert_eq!((img.width(), img.height()), (out.width, out.height));
    (img, bytes)
}

fn assert_near(img: &RgbaImage, x: u32, y: u32, want: [u8; 3], tol: u8) {
    let p = img.get_pixel(x, y).0;
    let ok = (0..3).all(|c| p[c].abs_diff(want[c]) <= tol);
    assert!(ok, "pixel ({x},{y}) is {:?}, want {want:?} ±{tol}", &p[..3]);
}

fn jpeg() -> SnapshotSpec {
    SnapshotSpec::default()
}

fn png() -> SnapshotSpec {
    SnapshotSpec {
        format: ImageFormat::Png,
        ..SnapshotSpec::default()
    }
}

#[test]
fn jpeg_round_trip_keeps_size_and_colour() {
    let mut pipe = Pipeline::new();
    for (w, h) in [(1920, 1080), (640, 480), (17, 9), (1, 1)] {
        for colour in [RED, GREEN, BLUE] {
            let info = frame(&mut pipe, w, h, |_, _| colour);
            let (img, bytes) = run(&mut pipe, info, &jpeg());
            assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF], "JPEG SOI marker");
            assert_eq!((img.width(), img.height()), (w, h));
            assert_near(&img, w / 2, h / 2, colour, 6);
        }
    }
}

/// WebKit hands out B, G, R, A bytes: the same picture in that order gives the same file.
#[test]
fn bgra_pixels_give_the_picture_of_their_rgba_twins() {
    let mut pipe = Pipeline::new();
    let paint = |x: u32, y: u32| [(x * 7) as u8, (y * 13) as u8, ((x + y) * 3) as u8];
    for spec in [png(), jpeg()] {
        let info = frame(&mut pipe, 33, 17, paint);
        let want = pipe.process(info, &spec).expect("rgba").bytes.to_vec();
        frame(&mut pipe, 33, 17, paint);
        for px in pipe.input_mut(33 * 17 * 4).chunks_exact_mut(4) {
            px.swap(0, 2);
        }
        let got = pipe.process_bgra(info, &spec).expect("bgra").bytes.to_vec();
        assert_eq!(got, want, "{:?}", spec.format);
    }
}

#[test]
fn png_round_trip_is_lossless() {
    let mut pipe = Pipeline::new();
    let paint = |x: u32, y: u32| [(x * 7) as u8, (y * 13) as u8, ((x + y) * 3) as u8];
    let info = frame(&mut pipe, 320, 240, paint);
    let (img, bytes) = run(&mut pipe, info, &png());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    for (x, y, p) in img.enumerate_pixels() {
        assert_eq!(p.0, [paint(x, y)[0], paint(x, y)[1], paint(x, y)[2], 255]);
    }
}

#[test]
fn scaling_follows_the_size_rules() {
    let mut pipe = Pipeline::new();
    let cases = [
        ((1920, 1080), (640, 0), (640, 360)),
        ((1920, 1080), (0, 270), (480, 270)),
        ((1920, 1080), (200, 300), (300, 200)), // swapped: the stream is landscape
        ((1920, 1080), (2560, 1440), (2560, 1440)), // upscaling works too
    ];
    for ((w, h), (aw, ah), want) in cases {
        let info = frame(&mut pipe, w, h, |_, _| GREEN);
        let spec = SnapshotSpec {
            width: aw,
            height: ah,
            ..png()
        };
        let (img, _) = run(&mut pipe, info, &spec);
        assert_eq!((img.width(), img.height()), want);
        assert_near(&img, want.0 / 2, want.1 / 2, GREEN, 1);
        assert_near(&img, 0, 0, GREEN, 1);
    }
}

#[test]
fn mirror_flips_left_and_right() {
    let mut pipe = Pipeline::new();
    let halves = |x: u32, _| if x < 320 { RED } else { BLUE };
    let info = frame(&mut pipe, 640, 360, halves);
    let (plain, _) = run(&mut pipe, info, &png());
    assert_near(&plain, 10, 180, RED, 0);
    assert_near(&plain, 630, 180, BLUE, 0);

    let info = frame(&mut pipe, 640, 360, halves);
    let spec = SnapshotSpec {
        mirror: true,
        ..png()
    };
    let (mirrored, _) = run(&mut pipe, info, &spec);
    assert_near(&mirrored, 10, 180, BLUE, 0);
    assert_near(&mirrored, 630, 180, RED, 0);
    // Exact for a lossless path: column x of the mirror is column 639−x of the original.
    for x in [0, 1, 319, 320, 639] {
        assert_eq!(mirrored.get_pixel(x, 5), plain.get_pixel(639 - x, 5));
    }

    // Mirroring while scaling.
    let info = frame(&mut pipe, 640, 360, halves);
    let spec = SnapshotSpec {
        mirror: true,
        width: 64,
        ..png()
    };
    let (small, _) = run(&mut pipe, info, &spec);
    assert_eq!((small.width(), small.height()), (64, 36));
    assert_near(&small, 2, 18, BLUE, 0);
    assert_near(&small, 61, 18, RED, 0);
}

/// Green on the left fifth, blue on the right fifth, red between.
fn bands(x: u32, _: u32) -> [u8; 3] {
    if x < 384 {
        GREEN
    } else if x >= 1536 {
        BLUE
    } else {
        RED
    }
}

#[test]
fn each_fit_fills_a_square_differently() {
    let mut pipe = Pipeline::new();
    let square = |fit| SnapshotSpec {
        width: 300,
        height: 300,
        fit,
        ..png()
    };

    let info = frame(&mut pipe, 1920, 1080, bands);
    let (fill, _) = run(&mut pipe, info, &square(Fit::Fill));
    assert_near(&fill, 5, 5, GREEN, 2);
    assert_near(&fill, 150, 150, RED, 2);
    assert_near(&fill, 295, 295, BLUE, 2);

    let info = frame(&mut pipe, 1920, 1080, bands);
    let (contain, _) = run(&mut pipe, info, &square(Fit::Contain));
    // 300·9/16 = 168.75 → 169 rows of picture, 65 rows of black above, 66 below.
    assert_near(&contain, 150, 10, BLACK, 0);
    assert_near(&contain, 150, 290, BLACK, 0);
    assert_near(&contain, 150, 64, BLACK, 0);
    assert_near(&contain, 150, 66, RED, 2);
    assert_near(&contain, 2, 150, GREEN, 2);
    assert_near(&contain, 297, 150, BLUE, 2);

    let info = frame(&mut pipe, 1920, 1080, bands);
    let (cover, _) = run(&mut pipe, info, &square(Fit::Cover));
    // The centre 1080 columns (420..1500) are all red.
    for x in [0, 150, 299] {
        for y in [0, 150, 299] {
            assert_near(&cover, x, y, RED, 2);
        }
    }
}

#[test]
fn non_square_pixels_are_shown_at_their_display_size() {
    let mut pipe = Pipeline::new();
    let mut info = frame(&mut pipe, 720, 576, |_, _| BLUE);
    info.display_width = 1024;
    let (img, _) = run(&mut pipe, info, &png());
    assert_eq!((img.width(), img.height()), (1024, 576));
}

#[test]
fn quality_trades_bytes() {
    let mut pipe = Pipeline::new();
    let noise = |x: u32, y: u32| {
        let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40503)) >> 7;
        [v as u8, (v >> 8) as u8, (v >> 16) as u8]
    };
    let mut sizes = Vec::new();
    for q in [20, 60, 95] {
        let info = frame(&mut pipe, 320, 240, noise);
        let spec = SnapshotSpec {
            quality: q,
            ..jpeg()
        };
        sizes.push(run(&mut pipe, info, &spec).1.len());
    }
    assert!(sizes[0] < sizes[1] && sizes[1] < sizes[2], "{sizes:?}");
}

#[test]
fn buffers_are_reused_for_frames_of_changing_size() {
    let mut pipe = Pipeline::new();
    for (w, h, c) in [
        (1920, 1080, RED),
        (64, 48, GREEN),
        (1280, 720, BLUE),
        (2, 2, RED),
    ] {
        let info = frame(&mut pipe, w, h, |_, _| c);
        let (img, _) = run(&mut pipe, info, &png());
        assert_eq!((img.width(), img.height()), (w, h));
        assert_near(&img, w - 1, h - 1, c, 0);
    }
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let mut pipe = Pipeline::new();
    pipe.input_mut(100);
    let e = pipe
        .process(FrameInfo::square(10, 10), &jpeg())
        .unwrap_err();
    assert_eq!(e.code, Code::CaptureFailed);
    let e = pipe.process(FrameInfo::square(0, 10), &jpeg()).unwrap_err();
    assert_eq!(e.code, Code::CaptureFailed);

    let mut out = Vec::new();
    let mut scratch = Vec::new();
    let jpeg85 = JpegSettings {
        quality: 85,
        size_first: false,
    };
    let e = encode_rgba(
        &[0; 12],
        2,
        2,
        ImageFormat::Jpeg,
        jpeg85,
        &mut out,
        &mut scratch,
    )
    .unwrap_err();
    assert_eq!(e.code, Code::EncodeFailed);
    let e = encode_rgba(&[], 0, 0, ImageFormat::Png, jpeg85, &mut out, &mut scratch).unwrap_err();
    assert_eq!(e.code, Code::EncodeFailed);

    // A frame asked to grow past 7680 is a parameter error.
    frame(&mut pipe, 1080, 1920, |_, _| RED);
    let spec = SnapshotSpec {
        width: 7680,
        ..jpeg()
    };
    let e = pipe
        .process(FrameInfo::square(1080, 1920), &spec)
        .unwrap_err();
    assert_eq!(e.code, Code::InvalidParam);
}

/// Red top left, green top right, blue bottom left, yellow bottom right.
fn quadrants(w: u32, h: u32) -> impl Fn(u32, u32) -> [u8; 3] {
    move |x, y| match (x < w / 2, y < h / 2) {
        (true, true) => RED,
        (false, true) => GREEN,
        (true, false) => BLUE,
        (false, false) => YELLOW,
    }
}

fn turned(rotate: Rotation) -> SnapshotSpec {
    SnapshotSpec { rotate, ..png() }
}

/// The colours of the four quadrants' centres: top left, top right, bottom left, bottom right.
fn quadrant_colours(img: &RgbaImage) -> [[u8; 3]; 4] {
    let (w, h) = (img.width(), img.height());
    let at = |x: u32, y: u32| {
        let p = img.get_pixel(x, y).0;
        [p[0], p[1], p[2]]
    };
    [
        at(w / 4, h / 4),
        at(w * 3 / 4, h / 4),
        at(w / 4, h * 3 / 4),
        at(w * 3 / 4, h * 3 / 4),
    ]
}

#[test]
fn rotation_moves_every_pixel_clockwise() {
    let mut pipe = Pipeline::new();
    let paint = |x: u32, y: u32| [(x * 7) as u8, (y * 13) as u8, ((x + y) * 3) as u8];
    for (w, h) in [(320, 240), (33, 17), (1, 5)] {
        for r in Rotation::ALL {
            let info = frame(&mut pipe, w, h, paint);
            let (img, _) = run(&mut pipe, info, &turned(r));
            assert_eq!((img.width(), img.height()), r.size((w, h)), "{w}×{h} {r:?}");
            for (x, y, p) in img.enumerate_pixels() {
                let (sx, sy) = r.source_of((w, h), (x, y));
                let [r_, g, b] = paint(sx, sy);
                assert_eq!(p.0, [r_, g, b, 255], "{w}×{h} {r:?}: ({x}, {y})");
            }
        }
    }
}

#[test]
fn rotation_comes_before_the_size_rules_the_fit_and_the_mirror() {
    let mut pipe = Pipeline::new();
    let (w, h) = (320, 240);
    let mut shot = |spec: SnapshotSpec| {
        let info = frame(&mut pipe, w, h, quadrants(w, h));
        run(&mut pipe, info, &spec).0
    };
    // Clockwise: the left edge (red over blue) goes to the top (blue, red).
    let cases = [
        (Rotation::None, (320, 240), [RED, GREEN, BLUE, YELLOW]),
        (Rotation::Cw90, (240, 320), [BLUE, RED, YELLOW, GREEN]),
        (Rotation::Cw180, (320, 240), [YELLOW, BLUE, GREEN, RED]),
        (Rotation::Cw270, (240, 320), [GREEN, YELLOW, RED, BLUE]),
    ];
    for (r, size, colours) in cases {
        let img = shot(turned(r));
        assert_eq!((img.width(), img.height()), size, "{r:?}");
        assert_eq!(quadrant_colours(&img), colours, "{r:?}");
        // A JPEG too, near the colours.
        let img = shot(SnapshotSpec {
            rotate: r,
            ..jpeg()
        });
        assert_eq!((img.width(), img.height()), size, "{r:?} JPEG");
        for (got, want) in quadrant_colours(&img).into_iter().zip(colours) {
            assert!(max_diff(got, want) <= 8, "{r:?} JPEG: {got:?} for {want:?}");
        }
        // Mirrored: of the turned picture, left and right swap.
        let img = shot(SnapshotSpec {
            mirror: true,
            ..turned(r)
        });
        let [tl, tr, bl, br] = colours;
        assert_eq!(quadrant_colours(&img), [tr, tl, br, bl], "{r:?} mirrored");
    }
    let ninety = |width, height, fit| SnapshotSpec {
        width,
        height,
        fit,
        ..turned(Rotation::Cw90)
    };
    // The size rules see a 240×320 stream: a width alone keeps its shape, a landscape ask of
    // a portrait stream is swapped.
    for (asked, want) in [
        ((120, 0), (120, 160)),
        ((0, 160), (120, 160)),
        ((160, 120), (120, 160)),
    ] {
        let img = shot(ninety(asked.0, asked.1, Fit::Fill));
        assert_eq!((img.width(), img.height()), want, "asked {asked:?}");
        assert_eq!(
            quadrant_colours(&img),
            [BLUE, RED, YELLOW, GREEN],
            "asked {asked:?}"
        );
    }
    // Contain in a square: the 240×320 picture is 180 wide with 30-pixel bars each side.
    let img = shot(ninety(240, 240, Fit::Contain));
    assert_near(&img, 10, 120, BLACK, 0);
    assert_near(&img, 229, 120, BLACK, 0);
    assert_near(&img, 30 + 45, 60, BLUE, 0);
    assert_near(&img, 30 + 135, 60, RED, 0);
    assert_near(&img, 30 + 45, 180, YELLOW, 0);
    assert_near(&img, 30 + 135, 180, GREEN, 0);
    // Cover: rows 40..280 of the turned picture; no bars, the corners are the quadrants'.
    let img = shot(ninety(240, 240, Fit::Cover));
    for ((x, y), want) in [
        ((2, 2), BLUE),
        ((237, 2), RED),
        ((2, 237), YELLOW),
        ((237, 237), GREEN),
    ] {
        assert_near(&img, x, y, want, 0);
    }
    // Contain, then mirror: the bars stay, the picture flips.
    let img = shot(SnapshotSpec {
        mirror: true,
        ..ninety(240, 240, Fit::Contain)
    });
    assert_near(&img, 10, 120, BLACK, 0);
    assert_near(&img, 30 + 45, 60, RED, 0);
    assert_near(&img, 30 + 135, 180, YELLOW, 0);
}

#[test]
fn a_turned_frame_of_non_square_pixels_keeps_its_display_shape() {
    let mut pipe = Pipeline::new();
    let cases = [
        (Rotation::None, [RED, GREEN, BLUE, YELLOW]),
        (Rotation::Cw90, [BLUE, RED, YELLOW, GREEN]),
        (Rotation::Cw180, [YELLOW, BLUE, GREEN, RED]),
        (Rotation::Cw270, [GREEN, YELLOW, RED, BLUE]),
    ];
    for (r, colours) in cases {
        let mut info = frame(&mut pipe, 720, 576, quadrants(720, 576));
        info.display_width = 1024;
        let (img, _) = run(&mut pipe, info, &turned(r));
        assert_eq!((img.width(), img.height()), r.size((1024, 576)), "{r:?}");
        assert_eq!(quadrant_colours(&img), colours, "{r:?}");
    }
}

fn max_diff(a: [u8; 3], b: [u8; 3]) -> u8 {
    (0..3).map(|c| a[c].abs_diff(b[c])).max().unwrap_or(0)
}
