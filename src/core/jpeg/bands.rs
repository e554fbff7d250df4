//! Spectral selection for the progressive file: a component's AC coefficients in more than
//! one scan (bands of zig-zag positions), each with its own Huffman table. Most blocks of a
//! smooth area have a few low-frequency levels and nothing above: with a band of the high
//! frequencies on its own, those blocks join one end-of-band run there instead of each paying
//! an end of block.

use super::Scan;

/// The bands (first, last zig-zag position) of a component's AC scans, split after `split`
/// (0 or 63 and above: one band, 1..=63).
pub fn bands(split: u8) -> impl Iterator<Item = (u8, u8)> {
    let one = split == 0 || split >= 63;
    let first = if one { (1, 63) } else { (1, split) };
    let second = (!one).then_some((split + 1, 63));
    core::iter::once(first).chain(second)
}

impl Scan {
    /// A block's levels in the band `first..=last` of a progressive AC scan; `mask` is the
    /// block's [`super::quantise::ac_mask`]. As [`Scan::ac`] with a run, but the zero runs
    /// count from the band's start and no end of band is needed after a level at its end.
    pub(super) fn ac_band(
        &mut self,
        table: u32,
        block: &[i16; 64],
        mask: u64,
        (first, last): (u8, u8),
        run: &mut Option<u32>,
    ) {
        let width = u32::from(last.saturating_sub(first)) + 1;
        let band = if width >= 64 {
            u64::MAX
        } else {
            ((1u64 << width) - 1) << first
        };
        let mut mask = mask & band;
        if mask != 0 {
            self.end_run(table, run);
        }
        let mut prev = u32::from(first).saturating_sub(1);
        while mask != 0 {
            let i = mask.trailing_zeros();
            mask &= mask - 1;
            let mut zeros = i - prev - 1;
            prev = i;
            while zeros >= 16 {
                self.push(table, 0xF0, 0, 0);
                zeros -= 16;
            }
            let v = block.get(i as usize).copied().unwrap_or(0);
            let (size, extra) = super::magnitude(v.clamp(-1023, 1023));
            self.push(table, ((zeros as u8) << 4) | size, extra, size);
        }
        if prev == u32::from(last) {
            return;
        }
        match run {
            Some(n) => {
                *n += 1;
                // EOBRUN's longest run.
                if *n == 0x7FFF {
                    self.end_run(table, run);
                }
            }
            None => self.push(table, 0x00, 0, 0),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::super::{encode_rgba_with, Tuning};
    use super::*;

    #[test]
    fn split_bands_store_the_same_levels() {
        // Bands change only how the levels are coded: the same pixels decode, at every split.
        let (w, h) = (83usize, 61usize);
        let rgba: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                let v = ((x * 7 + y * 3) % 256) as u8 ^ ((x * y) % 17) as u8;
                [v, 255 - v / 2, (x * 4) as u8, 255]
            })
            .collect();
        let decode = |jpeg: &[u8]| {
            image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)
                .unwrap()
                .to_rgba8()
                .into_raw()
        };
        for q in [40u8, 85, 95] {
            let mut one = Vec::new();
            let whole = Tuning {
                split: [0, 0],
                ..Tuning::default()
            };
            encode_rgba_with(&rgba, w as u16, h as u16, q, &whole, &mut one).unwrap();
            for split in [[1, 1], [9, 0], [5, 2], [62, 62]] {
                let mut out = Vec::new();
                let t = Tuning { split, ..whole };
                encode_rgba_with(&rgba, w as u16, h as u16, q, &t, &mut out).unwrap();
                assert_eq!(decode(&out), decode(&one), "q{q} split {split:?}");
            }
        }
    }

    #[test]
    fn bands_cover_1_to_63() {
        assert_eq!(bands(0).collect::<Vec<_>>(), [(1, 63)]);
        assert_eq!(bands(63).collect::<Vec<_>>(), [(1, 63)]);
        assert_eq!(bands(5).collect::<Vec<_>>(), [(1, 5), (6, 63)]);
    }
}
