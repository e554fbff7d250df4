//! The encoder Worker's job: the one definition the page (`web::encoder`), the Worker's
//! script (`web/encoder_worker.js`) and its wasm exports (`web::encoder_abi`) share.
//!
//! The page sends a job's spec as [`spec_words`], which the Worker hands to wasm unread. The
//! Worker describes the frame to wasm in WebCodecs' own words ([`read_frame`]), so the script
//! holds no numbers: a failure it reports itself carries no code, and the page gives it the
//! request's own (`ERR_ENCODE_FAILED` for a job, `ERR_CAPTURE_FAILED` for a read).

use super::encode::ImageFormat;
use super::error::{Code, Error, Result};
use super::rotate::Rotation;
use super::size::Fit;
use super::snapshot::SnapshotSpec;
use super::yuv::YuvColor;

/// How a frame's pixels lie in the input buffer, named as WebCodecs names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pixels {
    Rgba,
    I420,
    Nv12,
    /// RGBA with red and blue swapped (WebKit's own frames).
    Bgra,
}

impl Pixels {
    pub const ALL: [Pixels; 4] = [Pixels::Rgba, Pixels::I420, Pixels::Nv12, Pixels::Bgra];

    pub fn name(self) -> &'static str {
        match self {
            Pixels::Rgba => "RGBA",
            Pixels::I420 => "I420",
            Pixels::Nv12 => "NV12",
            Pixels::Bgra => "BGRA",
        }
    }

    pub fn from_name(name: &str) -> Option<Pixels> {
        Pixels::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The numbers of a spec's enums: a value's index in its list.
const FORMATS: [ImageFormat; 2] = [ImageFormat::Jpeg, ImageFormat::Png];
const FITS: [Fit; 3] = [Fit::Fill, Fit::Contain, Fit::Cover];
const ROTATIONS: [Rotation; 4] = Rotation::ALL;

/// How many words [`spec_words`] makes.
pub const SPEC_WORDS: usize = 8;

/// `spec` as the page sends it.
pub fn spec_words(spec: &SnapshotSpec) -> [u32; SPEC_WORDS] {
    [
        number(&FORMATS, spec.format),
        u32::from(spec.quality),
        spec.width,
        spec.height,
        number(&FITS, spec.fit),
        u32::from(spec.mirror),
        u32::from(spec.size_first),
        number(&ROTATIONS, spec.rotate),
    ]
}

/// The spec the page sent as `words`; numbers out of range read as the defaults.
pub fn spec_from_words(words: [u32; SPEC_WORDS]) -> SnapshotSpec {
    let [format, quality, width, height, fit, mirror, size_first, rotate] = words;
    SnapshotSpec {
        format: item(&FORMATS, format),
        quality: quality.clamp(1, 100) as u8,
        width,
        height,
        fit: item(&FITS, fit),
        mirror: mirror != 0,
        size_first: size_first != 0,
        rotate: item(&ROTATIONS, rotate),
    }
}

/// The frame the Worker describes: `"<layout> <colorSpace.matrix> <colorSpace.fullRange>"`,
/// each as JavaScript prints it (`"I420 bt709 false"`, `"RGBA undefined undefined"`).
pub fn read_frame(names: &str) -> Result<(Pixels, YuvColor)> {
    let mut names = names.split(' ');
    let layout = names.next().unwrap_or_default();
    let pixels = Pixels::from_name(layout)
        .ok_or_else(|| Error::new(Code::EncodeFailed, format!("unknown pixel layout {layout}")))?;
    let matrix = names.next();
    let full_range = names.next().map(|s| s == "true");
    Ok((pixels, YuvColor::from_video_frame(matrix, full_range)))
}

fn number<T: PartialEq>(list: &[T], value: T) -> u32 {
    list.iter().position(|v| *v == value).unwrap_or(0) as u32
}

fn item<T: Copy + Default>(list: &[T], number: u32) -> T {
    list.get(number as usize).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_comes_back_from_its_words() {
        for format in FORMATS {
            for (fit, rotate) in FITS.into_iter().flat_map(|f| ROTATIONS.map(|r| (f, r))) {
                for (mirror, size_first) in [(false, true), (true, false)] {
                    let spec = SnapshotSpec {
                        format,
                        quality: 77,
                        width: 1920,
                        height: 1080,
                        fit,
                        mirror,
                        rotate,
                        size_first,
                    };
                    assert_eq!(spec_from_words(spec_words(&spec)), spec);
                }
            }
        }
        let odd = spec_from_words([9, 0, 0, 0, 9, 0, 0, 9]);
        assert_eq!(
            (odd.format, odd.fit, odd.quality, odd.rotate),
            (ImageFormat::Jpeg, Fit::Fill, 1, Rotation::None)
        );
    }

    #[test]
    fn frames_are_read_from_their_names() {
        for p in Pixels::ALL {
            let names = format!("{} bt709 true", p.name());
            assert_eq!(
                read_frame(&names),
                Ok((p, YuvColor::from_video_frame(Some("bt709"), Some(true))))
            );
        }
        let unlabelled = read_frame("NV12 undefined undefined");
        assert_eq!(unlabelled, Ok((Pixels::Nv12, YuvColor::default())));
        assert_eq!(
            read_frame("I420 null null"),
            unlabelled.map(|(_, c)| (Pixels::I420, c))
        );
        assert_eq!(
            read_frame("YUY2 bt709 true").map_err(|e| e.code),
            Err(Code::EncodeFailed)
        );
    }
}
