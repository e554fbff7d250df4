//! The snapshot pipeline: small RGBA, I420 and NV12 frames of any size and content (and
//! buffers of the wrong length), any asked size, fit, mirror, rotation, format and quality.
//!
//! Properties: a wrong-length or zero-sized frame is `ERR_CAPTURE_FAILED`, a size the rules
//! refuse is `ERR_INVALID_PARAM`, and anything else is an image that decodes (the `image`
//! crate) at exactly the promised size — never another error. A PNG of a frame kept at its own
//! size has the frame's pixels (turned and mirrored when asked). A pipeline that has made another image
//! before gives the same bytes as a fresh one.
#![no_main]

use arbitrary::Arbitrary;
use image::ImageFormat as Decoded;
use libfuzzer_sys::fuzz_target;
use tracksnap::core::encode::ImageFormat;
use tracksnap::core::error::Code;
use tracksnap::core::rotate::Rotation;
use tracksnap::core::size::{output_size, Fit};
use tracksnap::core::snapshot::{FrameInfo, Pipeline, SnapshotSpec};
use tracksnap::core::yuv::{yuv420_len, yuv420_to_rgba, ChromaLayout, Yuv420, YuvColor, YuvMatrix};
use tracksnap_fuzz::FitChoice;

/// Outputs above this many pixels are skipped: they test nothing new and slow the run.
const MAX_OUT_PIXELS: u64 = 1 << 18;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    kind: Kind,
    bt709: bool,
    full_range: bool,
    /// Pixel size, each side taken modulo 48.
    width: u8,
    height: u8,
    /// A display size that differs from the pixel size (non-square pixels), modulo 64.
    display: Option<(u8, u8)>,
    /// Asked size, each side modulo 130 (0 = not given).
    asked: (u8, u8),
    fit: FitChoice,
    png: bool,
    quality: u8,
    mirror: bool,
    size_first: bool,
    /// Quarter turns clockwise, modulo 4.
    turns: u8,
    /// Repeat `pixels` to the frame's exact length (else they are given as they are).
    exact_len: bool,
    /// Make another image with the same pipeline first.
    warm_up: bool,
    pixels: &'a [u8],
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Kind {
    Rgba,
    I420,
    Nv12,
}

fuzz_target!(|input: Input<'_>| {
    let (w, h) = (u32::from(input.width % 48), u32::from(input.height % 48));
    let frame = match input.display {
        Some((dw, dh)) => FrameInfo {
            width: w,
            height: h,
            display_width: u32::from(dw % 64),
            display_height: u32::from(dh % 64),
        },
        None => FrameInfo::square(w, h),
    };
    let spec = SnapshotSpec {
        format: if input.png {
            ImageFormat::Png
        } else {
            ImageFormat::Jpeg
        },
        quality: input.quality,
        width: u32::from(input.asked.0 % 130),
        height: u32::from(input.asked.1 % 130),
        fit: Fit::from(input.fit),
        mirror: input.mirror,
        rotate: Rotation::ALL[usize::from(input.turns % 4)],
        size_first: input.size_first,
    };
    let color = YuvColor {
        matrix: if input.bt709 {
            YuvMatrix::Bt709
        } else {
            YuvMatrix::Bt601
        },
        full_range: input.full_range,
    };
    let layout = match input.kind {
        Kind::Rgba => None,
        Kind::I420 => Some(ChromaLayout::I420),
        Kind::Nv12 => Some(ChromaLayout::Nv12),
    };
    let expected_len = match layout {
        None => (w * h * 4) as usize,
        Some(l) => yuv420_len(w, h, l).unwrap_or(0),
    };
    let pixels: Vec<u8> = if input.exact_len {
        let source: &[u8] = if input.pixels.is_empty() {
            &[128]
        } else {
            input.pixels
        };
        source.iter().copied().cycle().take(expected_len).collect()
    } else {
        input.pixels.to_vec()
    };
    // The size rules see the turned frame.
    let turned = frame.rotated(spec.rotate);
    let size = output_size(
        (turned.display_width, turned.display_height),
        (spec.width, spec.height),
    );
    if let Ok((ow, oh)) = size {
        if u64::from(ow) * u64::from(oh) > MAX_OUT_PIXELS {
            return;
        }
    }
    let want: Result<(u32, u32), Code> = if w == 0 || h == 0 || pixels.len() != expected_len {
        Err(Code::CaptureFailed)
    } else {
        size.map_err(|e| e.code)
    };

    let mut pipe = Pipeline::new();
    if input.warm_up {
        // Another frame of the same pixels, another format and size: leaves buffers behind.
        let other = SnapshotSpec {
            format: if input.png {
                ImageFormat::Jpeg
            } else {
                ImageFormat::Png
            },
            width: spec.height,
            height: spec.width,
            mirror: !spec.mirror,
            ..spec.clone()
        };
        let _ = run(&mut pipe, &pixels, frame, layout, color, &other);
    }
    let got = run(&mut pipe, &pixels, frame, layout, color, &spec);
    match (&got, want) {
        (Ok((size, _)), Ok(want)) => assert_eq!(*size, want),
        (Err(code), Err(want)) => assert_eq!(*code, want),
        (got, want) => panic!(
            "{frame:?} {layout:?} {} bytes, {spec:?}: got {:?}, want {want:?}",
            pixels.len(),
            got.as_ref().map(|(s, _)| *s)
        ),
    }
    let Ok(((ow, oh), bytes)) = got else {
        return;
    };
    if input.warm_up {
        let fresh = run(&mut Pipeline::new(), &pixels, frame, layout, color, &spec);
        assert!(
            matches!(&fresh, Ok((_, b)) if *b == bytes),
            "a used pipeline and a fresh one disagree for {spec:?}"
        );
    }
    let decoded = image::load_from_memory_with_format(
        &bytes,
        if input.png {
            Decoded::Png
        } else {
            Decoded::Jpeg
        },
    )
    .unwrap_or_else(|e| panic!("{:?} of {ow}×{oh} does not decode: {e}", spec.format));
    assert_eq!(
        (decoded.width(), decoded.height()),
        (ow, oh),
        "decoded size"
    );

    // A PNG of the whole frame at its own (turned) size holds the frame's own pixels. (Not a
    // turned 4:2:0 frame with an odd side: its chroma cells are regrouped on the turned grid.)
    let regrouped = layout.is_some() && spec.rotate != Rotation::None && (w % 2 == 1 || h % 2 == 1);
    let whole = spec.fit == Fit::Fill
        && !regrouped
        && (ow, oh) == (turned.width, turned.height)
        && (turned.display_width, turned.display_height) == (ow, oh);
    if input.png && whole {
        let mut rgba = Vec::new();
        let source: &[u8] = match layout {
            None => &pixels,
            Some(l) => {
                let planes = Yuv420::new(&pixels, w, h, l).expect("checked above");
                yuv420_to_rgba(planes, color, &mut rgba).expect("small frame");
                &rgba
            }
        };
        let rgb = decoded.to_rgb8();
        for (ox, oy, out) in rgb.enumerate_pixels() {
            // Mirrored last, turned first: undo them in the other order.
            let mx = if spec.mirror { ow - 1 - ox } else { ox };
            let (x, y) = match spec.rotate {
                Rotation::None => (mx, oy),
                Rotation::Cw90 => (oy, h - 1 - mx),
                Rotation::Cw180 => (w - 1 - mx, h - 1 - oy),
                Rotation::Cw270 => (w - 1 - oy, mx),
            };
            let at = (y * w + x) as usize * 4;
            assert_eq!(
                out.0[..],
                source[at..at + 3],
                "pixel ({x}, {y}) of {frame:?} {layout:?} at ({ox}, {oy})"
            );
        }
    }
});

/// One snapshot: (size, bytes) or the error's code.
fn run(
    pipe: &mut Pipeline,
    pixels: &[u8],
    frame: FrameInfo,
    layout: Option<ChromaLayout>,
    color: YuvColor,
    spec: &SnapshotSpec,
) -> Result<((u32, u32), Vec<u8>), Code> {
    pipe.input_mut(pixels.len()).copy_from_slice(pixels);
    let out = match layout {
        None => pipe.process(frame, spec),
        Some(l) => pipe.process_yuv420(frame, l, color, spec),
    };
    out.map(|e| ((e.width, e.height), e.bytes.to_vec()))
        .map_err(|e| e.code)
}
