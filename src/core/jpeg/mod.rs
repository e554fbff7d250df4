//! tracksnap's JPEG encoder: JFIF, YCbCr, Huffman tables fitted to each file; baseline (one
//! interleaved scan) or progressive. Two presets (see [`super::encode`]):
//!
//! - **Plain** ([`Tuning::PLAIN`], the default for snapshots): the steps libjpeg — and so the
//!   browsers' `canvas.toBlob` — uses at the same quality number (the standard's Annex K
//!   tables, levels rounded), 4:2:0 below 90 and 4:4:4 from 90 (`toBlob` stays 4:2:0), and
//!   fitted Huffman tables.
//!   Built for speed: chroma is subsampled while the pixels are converted, the DCT is Arai,
//!   Agui and Nakajima's with its scale folded into the quantiser, and the blocks become the
//!   scan's symbols in one pass (counted for the tables, then written).
//! - **Size first** ([`Tuning::default`], `sizeFirst: true`): spends time on fewer bytes at the
//!   same quality: N. Robidoux's quantisation table for luma and chroma (MozJPEG's default),
//!   MozJPEG's overshoot deringing of white (and here black) samples ([`dering`]),
//!   rate–distortion optimised quantisation ([`quantise::Trellis`]) priced with Huffman code
//!   lengths measured on every sixteenth MCU row first, and a progressive file (one DC scan,
//!   luma's AC in two bands, 1–9 and 10–63, one AC scan per chroma component, runs of empty
//!   blocks as one symbol). Chroma as the plain preset: 4:2:0 below 90, 4:4:4 from 90, so it
//!   never stores more chroma than the plain file. Against `@jsquash/jpeg` (MozJPEG, q85
//!   defaults: progressive, trellis), bytes at equal PSNR / SSIM / SSIMULACRA2
//!   over the rate–quality curves (`cargo run --release --example rate_quality`, see
//!   docs/performance.md): ×0.92 / ×0.98 / ×0.98 on the 1080p photo-like picture,
//!   ×0.96 / ×0.99 / ×0.98 on a fake-camera frame, ×0.86 / ×0.96 / ×0.98 on a shared screen
//!   with text. Its knobs were chosen on those pictures; adaptive quantisation (a per-block
//!   weight of the trellis's error from luma activity) measured worse on all of them.
//!
//! Stages, one file each: [`planes`] (pixels → planes at each component's resolution → 8×8
//! blocks), [`dct`], [`quantise`] (tables, rounding, trellis), [`huffman`] (counts, code
//! lengths, prices), [`bitstream`] (markers, bits).

pub mod bands;
pub mod bitstream;
pub mod dct;
pub mod dering;
pub mod huffman;
pub mod planes;
pub mod quantise;

use super::error::{Code, Error, Result};
use bitstream::{BitWriter, FrameComponent};
use huffman::{Counts, RateModel, Table};
use planes::YccRows;
use quantise::{TableSet, Trellis};

/// Chroma subsampling: luma's sampling factors against chroma's 1×1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subsampling {
    S444,
    S422,
    S420,
}

impl Subsampling {
    fn factors(self) -> (usize, usize) {
        match self {
            Subsampling::S444 => (1, 1),
            Subsampling::S422 => (2, 1),
            Subsampling::S420 => (2, 2),
        }
    }
}

/// The encoder's knobs (the defaults are what `size_first` uses; the rate–quality example
/// tries others).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tuning {
    /// λ as a multiple of the squared quantiser step of the table's DC entry
    /// (0 = no trellis: plain rounding). Larger: smaller files, lower quality at the same
    /// setting; 0.1–0.2 give the same bytes-at-equal-quality within 2 %.
    pub lambda: f32,
    /// How much a chroma sample's squared error counts against luma's (before the factor of
    /// the area each chroma sample covers, which is applied too). Below 1, chroma detail is
    /// dropped sooner: 0.25 measured better than 1 at equal PSNR over RGB (by 1 %) and at
    /// equal luma SSIM (by 3 %).
    pub chroma_weight: f32,
    /// How many non-zero candidates a run may skip in the trellis.
    pub window: usize,
    /// Qualities from which 4:2:2 and 4:4:4 are used (4:2:0 below). 4:2:2 from 80 measured
    /// 6 % fewer bytes at equal PSNR on the test picture (4:2:0 stops gaining PSNR there), but
    /// 1 % more at equal luma SSIM, 17 % more time, and larger files than the plain encoder's
    /// on a camera's smooth frames; the presets do not use it.
    pub s422_from: u8,
    pub s444_from: u8,
    /// The prices come from every `sample_every`-th MCU row.
    pub sample_every: usize,
    /// The quantisation tables.
    pub tables: TableSet,
    /// Progressive (one DC scan, then one AC scan per component with runs of empty blocks
    /// coded as one symbol, each with its own Huffman table) rather than one baseline scan.
    pub progressive: bool,
    /// Progressive only: the last zig-zag position of the first AC band of luma and of chroma
    /// (0: one AC scan per component), see [`bands`].
    pub split: [u8; 2],
    /// Overshoot deringing before the DCT ([`dering`]): 1 for white as MozJPEG, 2 for black
    /// too, 0 off.
    pub dering: u8,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            lambda: 0.2,
            chroma_weight: 0.25,
            window: 4,
            s422_from: 90,
            s444_from: 90,
            sample_every: 16,
            tables: TableSet::Robidoux,
            progressive: true,
            split: [9, 0],
            dering: 2,
        }
    }
}

impl Tuning {
    /// The plain encoder: the steps of libjpeg, and so of the browsers' `toBlob`, at the same
    /// quality number (Annex K tables, levels rounded), 4:2:0 below 90 and 4:4:4 from 90, and
    /// Huffman tables fitted to the file.
    pub const PLAIN: Tuning = Tuning {
        lambda: 0.0,
        chroma_weight: 1.0,
        window: 1,
        s422_from: 90,
        s444_from: 90,
        sample_every: 16,
        tables: TableSet::AnnexK,
        progressive: false,
        split: [0, 0],
        dering: 0,
    };
}

impl Tuning {
    /// These knobs with 4:2:0 at every quality.
    pub fn at_most_420(self) -> Tuning {
        Tuning {
            s422_from: u8::MAX,
            s444_from: u8::MAX,
            ..self
        }
    }

    pub fn subsampling(&self, quality: u8) -> Subsampling {
        if quality >= self.s444_from {
            Subsampling::S444
        } else if quality >= self.s422_from {
            Subsampling::S422
        } else {
            Subsampling::S420
        }
    }
}

/// Encodes `width × height` RGBA pixels (alpha ignored) into `out`, replacing its contents.
pub fn encode_rgba(
    rgba: &[u8],
    width: u16,
    height: u16,
    quality: u8,
    out: &mut Vec<u8>,
) -> Result<()> {
    encode_rgba_with(rgba, width, height, quality, &Tuning::default(), out)
}

/// [`encode_rgba`] with other knobs.
pub fn encode_rgba_with(
    rgba: &[u8],
    width: u16,
    height: u16,
    quality: u8,
    tuning: &Tuning,
    out: &mut Vec<u8>,
) -> Result<()> {
    if usize::from(width) * usize::from(height) * 4 != rgba.len() {
        return Err(failed(format!(
            "{} bytes of pixels do not make a {width}×{height} RGBA image",
            rgba.len()
        )));
    }
    out.clear();
    check_sides(width, height)?;
    let layout = Layout::new(width, height, quality, tuning);
    encode_planes(&mut planes::Rgba(rgba), &layout, tuning, out);
    Ok(())
}

fn check_sides(width: u16, height: u16) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(failed(format!("JPEG cannot hold {width}×{height}")));
    }
    Ok(())
}

/// The frame's geometry for a quality.
struct Layout {
    width: u16,
    height: u16,
    quality: u8,
    hs: usize,
    vs: usize,
    mcus_x: usize,
    mcus_y: usize,
}

impl Layout {
    fn new(width: u16, height: u16, quality: u8, tuning: &Tuning) -> Layout {
        let quality = quality.clamp(1, 100);
        let (hs, vs) = tuning.subsampling(quality).factors();
        Layout {
            width,
            height,
            quality,
            hs,
            vs,
            mcus_x: usize::from(width).div_ceil(8 * hs),
            mcus_y: usize::from(height).div_ceil(8 * vs),
        }
    }

    fn geometry(&self) -> planes::Geometry {
        planes::Geometry {
            width: usize::from(self.width),
            height: usize::from(self.height),
            stride: self.mcus_x * 8 * self.hs,
            rows: self.mcus_y * 8 * self.vs,
            hs: self.hs,
            vs: self.vs,
        }
    }
}

/// Encodes any [`YccRows`] picture into `out`, replacing its contents.
pub fn encode_image(image: &mut impl YccRows, quality: u8, out: &mut Vec<u8>) -> Result<()> {
    encode_image_with(image, quality, &Tuning::default(), out)
}

fn failed(message: String) -> Error {
    Error::new(Code::EncodeFailed, message)
}

/// [`encode_image`] with other knobs.
pub fn encode_image_with(
    image: &mut impl YccRows,
    quality: u8,
    tuning: &Tuning,
    out: &mut Vec<u8>,
) -> Result<()> {
    out.clear();
    let (width, height) = (image.width(), image.height());
    check_sides(width, height)?;
    let layout = Layout::new(width, height, quality, tuning);
    encode_planes(&mut planes::Rows::new(image), &layout, tuning, out);
    Ok(())
}

fn encode_planes(
    source: &mut dyn planes::Source,
    layout: &Layout,
    tuning: &Tuning,
    out: &mut Vec<u8>,
) {
    let Layout {
        width,
        height,
        quality,
        hs,
        vs,
        mcus_x,
        mcus_y,
    } = *layout;
    let tables = tuning.tables.tables(quality);
    let [luma_table, chroma_table] = &tables;
    let steps = [
        quantise::Steps::new(luma_table),
        quantise::Steps::new(chroma_table),
    ];
    let [luma_steps, chroma_steps] = &steps;
    let steps_of = |c: usize| if c == 0 { luma_steps } else { chroma_steps };

    // The blocks of one MCU: (component, block column, block row) in the component's plane,
    // in the order the scan interleaves them.
    let mcu_blocks = |mx: usize, my: usize| {
        let luma =
            (0..vs).flat_map(move |v| (0..hs).map(move |h| (0usize, mx * hs + h, my * vs + v)));
        luma.chain([(1usize, mx, my), (2, mx, my)])
    };
    // A plain baseline file takes its blocks in order, one MCU row at a time: the planes of
    // one row stay in the cache. The trellis's sample and a progressive file come back to
    // rows, so they read the whole picture first.
    let strip = tuning.lambda == 0.0 && !tuning.progressive;
    let mut window = planes::Window::new(source, layout.geometry(), !strip);
    let mut transform = |c: usize, bx: usize, by: usize| {
        let mut block = window.block(c, bx, by);
        if tuning.dering > 0 {
            dering::apply(&mut block, steps_of(c).step[0], tuning.dering > 1);
        }
        dct::forward_transposed(&block)
    };

    // 1. With a trellis, its prices: the AC symbols of plainly rounded blocks on every
    //    `sample_every`-th MCU row.
    let mut trellis = None;
    if tuning.lambda > 0.0 {
        let mut sample = Scan::default();
        for my in (0..mcus_y).step_by(tuning.sample_every.max(1)) {
            for mx in 0..mcus_x {
                for (c, bx, by) in mcu_blocks(mx, my) {
                    let levels = quantise::round_scaled(&transform(c, bx, by), steps_of(c));
                    let mask = quantise::ac_mask(&levels);
                    sample.ac(2 + u32::from(c > 0), &levels, mask, &mut None);
                }
            }
            // Only the counts are wanted.
            sample.tokens.clear();
        }
        let [_, _, luma_ac, chroma_ac] = &sample.counts;
        let step = f32::from(luma_table.first().copied().unwrap_or(1));
        let lambda_luma = tuning.lambda * step * step;
        let lambda_chroma = lambda_luma / (tuning.chroma_weight.max(1e-3) * (hs * vs) as f32);
        trellis = Some([
            Trellis::new(
                luma_steps,
                &RateModel::from_counts(luma_ac),
                lambda_luma,
                tuning.window,
            ),
            Trellis::new(
                chroma_steps,
                &RateModel::from_counts(chroma_ac),
                lambda_chroma,
                tuning.window,
            ),
        ]);
    }

    // 2. Levels: by the trellis, or rounded.
    let mut levels = |c: usize, bx: usize, by: usize| {
        let raw = transform(c, bx, by);
        match &mut trellis {
            Some([luma, _]) if c == 0 => luma.quantise(&quantise::zigzag(&raw, luma_steps)),
            Some([_, chroma]) => chroma.quantise(&quantise::zigzag(&raw, chroma_steps)),
            None => {
                let levels = quantise::round_scaled(&raw, steps_of(c));
                (levels, quantise::ac_mask(&levels))
            }
        }
    };

    // 3. The file.
    bitstream::start(out);
    // One DQT table when luma and chroma share it.
    let chroma_id = u8::from(luma_table != chroma_table);
    if chroma_id == 0 {
        bitstream::quant_tables(out, &[(0, luma_table)]);
    } else {
        bitstream::quant_tables(out, &[(0, luma_table), (1, chroma_table)]);
    }
    let component = |id: u8, h: usize, v: usize, table: u8| FrameComponent {
        id,
        h: h as u8,
        v: v as u8,
        table,
    };
    let comps = [
        component(1, hs, vs, 0),
        component(2, 1, 1, chroma_id),
        component(3, 1, 1, chroma_id),
    ];
    bitstream::frame(out, width, height, &comps, tuning.progressive);

    let mut pred = [0i16; 3];
    if !tuning.progressive {
        // One scan: the blocks' symbols are made and counted in one pass, then written with
        // tables fitted to those counts.
        let mut scan = Scan::default();
        scan.tokens.reserve(mcus_x * mcus_y * (hs * vs + 2) * 8);
        for my in 0..mcus_y {
            for mx in 0..mcus_x {
                for (c, bx, by) in mcu_blocks(mx, my) {
                    let (block, mask) = levels(c, bx, by);
                    let chroma = u32::from(c > 0);
                    scan.dc(chroma, &block, &mut pred, c);
                    scan.ac(2 + chroma, &block, mask, &mut None);
                }
            }
        }
        let tables = scan.counts.each_ref().map(Table::optimal);
        let [dc0, dc1, ac0, ac1] = &tables;
        bitstream::huffman_tables(out, &[(0, 0, dc0), (0, 1, dc1), (1, 0, ac0), (1, 1, ac1)]);
        bitstream::scan(out, &[(1, 0, 0), (2, 1, 1), (3, 1, 1)], 0, 63);
        scan.write(&tables, out);
        bitstream::end(out);
        return;
    }

    // Progressive: every block's levels kept, by component in raster order over that
    // component's grid of MCU-padded blocks, while the interleaved DC scan is made.
    let grid = |c: usize| {
        if c == 0 {
            (mcus_x * hs, mcus_y * vs)
        } else {
            (mcus_x, mcus_y)
        }
    };
    let mut stored: [Vec<([i16; 64], u64)>; 3] = [0, 1, 2].map(|c| {
        let (gw, gh) = grid(c);
        vec![([0i16; 64], 0u64); gw * gh]
    });
    let mut scan = Scan::default();
    for my in 0..mcus_y {
        for mx in 0..mcus_x {
            for (c, bx, by) in mcu_blocks(mx, my) {
                let gw = grid(c).0;
                if let Some(slot) = stored.get_mut(c).and_then(|s| s.get_mut(by * gw + bx)) {
                    *slot = levels(c, bx, by);
                    scan.dc(u32::from(c > 0), &slot.0, &mut pred, c);
                }
            }
        }
    }
    let [dc0, dc1, _, _] = scan.counts.each_ref().map(Table::optimal);
    bitstream::huffman_tables(out, &[(0, 0, &dc0), (0, 1, &dc1)]);
    bitstream::scan(out, &[(1, 0, 0), (2, 1, 0), (3, 1, 0)], 0, 0);
    scan.write(&[dc0, dc1, Table::empty(), Table::empty()], out);
    // One AC scan per component, over the blocks the picture covers (a component's own
    // scan leaves out the MCU padding), empty blocks as end-of-band runs.
    for (c, blocks) in stored.iter().enumerate() {
        let (gw, _) = grid(c);
        let (h, v) = if c == 0 { (hs, vs) } else { (1, 1) };
        let cols = (usize::from(width) * h).div_ceil(hs).div_ceil(8);
        let rows = (usize::from(height) * v).div_ceil(vs).div_ceil(8);
        let split = tuning.split.get(c.min(1)).copied().unwrap_or(0);
        for band in bands::bands(split) {
            let mut scan = Scan::default();
            let mut run = Some(0u32);
            for row in blocks.chunks(gw).take(rows) {
                for (block, mask) in row.iter().take(cols) {
                    scan.ac_band(2, block, *mask, band, &mut run);
                }
            }
            scan.end_run(2, &mut run);
            let ac = Table::optimal(scan.counts.get(2).unwrap_or(&Counts::default()));
            bitstream::huffman_tables(out, &[(1, 0, &ac)]);
            bitstream::scan(out, &[(c as u8 + 1, 0, 0)], band.0, band.1);
            scan.write(&[Table::empty(), Table::empty(), ac, Table::empty()], out);
        }
    }
    bitstream::end(out);
}

/// One scan's symbols, in order, and how often each occurs in each table (0 luma DC, 1 chroma
/// DC, 2 luma or band AC, 3 chroma AC). A symbol is kept as
/// `extra bits' count << 26 | table << 24 | symbol << 16 | extra bits`.
#[derive(Default)]
struct Scan {
    tokens: Vec<u32>,
    counts: [Counts; 4],
}

impl Scan {
    #[inline(always)]
    fn push(&mut self, table: u32, symbol: u8, extra: u32, n: u8) {
        let counts = self.counts.get_mut((table & 3) as usize);
        if let Some(c) = counts.and_then(|t| t.0.get_mut(usize::from(symbol))) {
            // No overflow: a scan has fewer than 2³² symbols.
            *c = c.wrapping_add(1);
        }
        self.tokens
            .push(u32::from(n) << 26 | table << 24 | u32::from(symbol) << 16 | extra);
    }

    /// A block's DC, as the difference from the component's previous one.
    #[inline]
    fn dc(&mut self, table: u32, block: &[i16; 64], pred: &mut [i16; 3], c: usize) {
        let (Some(&dc), Some(p)) = (block.first(), pred.get_mut(c)) else {
            return;
        };
        let dc = dc.clamp(-2047, 2047);
        let (size, extra) = magnitude(dc - *p);
        *p = dc;
        self.push(table, size, extra, size);
    }

    /// A block's AC levels; `mask` is its [`quantise::ac_mask`]. With `run` (a progressive
    /// band), the end of the block is counted in the run of ended blocks instead of written.
    #[inline]
    fn ac(&mut self, table: u32, block: &[i16; 64], mask: u64, run: &mut Option<u32>) {
        if mask != 0 {
            self.end_run(table, run);
        }
        // At most 63 symbols and an end of block: one capacity check per block, not per symbol.
        self.tokens.reserve(64);
        // Non-zero AC positions as bits: runs of zeros are the gaps between them.
        let mut mask = mask;
        let mut prev = 0u32;
        while mask != 0 {
            let i = mask.trailing_zeros();
            mask &= mask - 1;
            let mut zeros = i - prev - 1;
            prev = i;
            while zeros >= 16 {
                self.push(table, 0xF0, 0, 0);
                zeros -= 16;
            }
            let v = block.get((i & 63) as usize).copied().unwrap_or(0);
            let (size, extra) = magnitude(v.clamp(-1023, 1023));
            self.push(table, ((zeros as u8) << 4) | size, extra, size);
        }
        if prev == 63 {
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

    /// Writes a pending run of ended blocks: EOBn, n = ⌊log2 run⌋, and n bits.
    fn end_run(&mut self, table: u32, run: &mut Option<u32>) {
        if let Some(n) = run {
            if *n > 0 {
                let bits = 31 - n.leading_zeros();
                let extra = *n - (1 << bits);
                *n = 0;
                self.push(table, (bits as u8) << 4, extra, bits as u8);
            }
        }
    }

    /// The entropy-coded segment, with `tables` by table index.
    fn write(&self, tables: &[Table; 4], out: &mut Vec<u8>) {
        // (code << 5 | length) by `table << 8 | symbol`, the token's bits 16..26.
        let mut codes = [0u32; 1024];
        for (c, t) in codes.chunks_exact_mut(256).zip(tables) {
            for ((o, &code), &len) in c.iter_mut().zip(t.code.iter()).zip(t.len.iter()) {
                *o = u32::from(code) << 5 | u32::from(len);
            }
        }
        // A symbol takes at most 16 + 14 bits: four bytes each, but for 0xFF's stuffing.
        out.reserve(self.tokens.len() * 4);
        let mut bits = BitWriter::new(out);
        for &t in &self.tokens {
            let code = codes.get((t >> 16) as usize & 1023).copied().unwrap_or(0);
            let n = t >> 26;
            bits.put((code >> 5) << n | (t & 0xFFFF), (code & 31) + n);
        }
        bits.finish();
    }
}

/// A value's magnitude category and its extra bits (negative values as one's complement),
/// without a branch on the sign (which a JPEG's levels make unpredictable).
#[inline(always)]
fn magnitude(v: i16) -> (u8, u32) {
    let v = i32::from(v);
    let sign = v >> 31;
    let size = 32 - ((v ^ sign) - sign).leading_zeros();
    let extra = (v + sign) as u32 & ((1u32 << size) - 1);
    (size as u8, extra)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]
mod tests {
    use super::*;

    fn picture(w: usize, h: usize) -> Vec<u8> {
        let mut seed = 0x1234_5678u32;
        let mut out = Vec::with_capacity(w * h * 4);
        for y in 0..h {
            for x in 0..w {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let n = (seed % 13) as f64 - 6.0;
                let (u, v) = (x as f64 / w as f64, y as f64 / h as f64);
                let mut rgb = [40.0 + 180.0 * u, 60.0 + 150.0 * v, 200.0 - 120.0 * u * v];
                if (0.3..0.6).contains(&u) && (0.2..0.5).contains(&v) {
                    rgb = [220.0, 30.0, 40.0];
                }
                if (x / 3 + y / 5) % 7 == 0 {
                    rgb = [250.0, 250.0, 250.0];
                }
                for c in rgb {
                    out.push((c + n).round().clamp(0.0, 255.0) as u8);
                }
                out.push(255);
            }
        }
        out
    }

    fn psnr(a: &[u8], b: &[u8]) -> f64 {
        let mut sum = 0.0;
        for (x, y) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
            for c in 0..3 {
                let d = f64::from(x[c]) - f64::from(y[c]);
                sum += d * d;
            }
        }
        let mse = sum / (a.len() / 4 * 3) as f64;
        10.0 * (255.0 * 255.0 / mse).log10()
    }

    fn decode(jpeg: &[u8]) -> (u32, u32, Vec<u8>) {
        let img =
            image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).expect("decodes");
        (img.width(), img.height(), img.to_rgba8().into_raw())
    }

    #[test]
    fn decodes_at_every_subsampling_and_odd_sizes() {
        // Both presets, and 4:2:2 (which neither picks) in both kinds of file.
        let s422 = Tuning {
            s422_from: 80,
            ..Tuning::default()
        };
        let tunings = [
            ("size first", Tuning::default()),
            ("plain", Tuning::PLAIN),
            ("4:2:2 progressive", s422),
            (
                "4:2:2 baseline",
                Tuning {
                    progressive: false,
                    ..s422
                },
            ),
        ];
        for (name, tuning) in tunings {
            for (w, h) in [(1usize, 1usize), (17, 9), (64, 48), (333, 101)] {
                let rgba = picture(w, h);
                for q in [30u8, 75, 85, 95] {
                    let mut out = Vec::new();
                    encode_rgba_with(&rgba, w as u16, h as u16, q, &tuning, &mut out).unwrap();
                    let (dw, dh, px) = decode(&out);
                    assert_eq!((dw as usize, dh as usize), (w, h), "{name}");
                    if w * h > 1000 {
                        // A hard picture (noise, one-pixel stripes): bounds by quality, and
                        // against jpeg-encoder (Annex K tables, rounding, standard Huffman
                        // tables) at the same setting.
                        let p = psnr(&rgba, &px);
                        let mut other = Vec::new();
                        jpeg_encoder::Encoder::new(&mut other, q)
                            .encode(&rgba, w as u16, h as u16, jpeg_encoder::ColorType::Rgba)
                            .unwrap();
                        let theirs = psnr(&rgba, &decode(&other).2);
                        let bound = match q {
                            95.. => 34.0,
                            85.. => 26.0,
                            75.. => 24.0,
                            _ => 20.0,
                        };
                        assert!(p > bound, "{name} {w}×{h} q{q}: PSNR {p:.2}");
                        assert!(
                            p > theirs - 2.0,
                            "{name} {w}×{h} q{q}: {p:.2} dB against {theirs:.2}"
                        );
                        assert!(
                            out.len() < other.len() * 11 / 10,
                            "{name} {w}×{h} q{q}: {} B against {}",
                            out.len(),
                            other.len()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_plain_preset_is_jpeg_encoders_picture_in_fewer_bytes() {
        // The same tables, subsampling and rounding as a libjpeg-style encoder: the same
        // picture within the DCTs' arithmetic, and fewer bytes from the fitted Huffman tables.
        let (w, h) = (320u16, 240u16);
        let rgba = picture(usize::from(w), usize::from(h));
        for q in [50u8, 85, 95] {
            let mut ours = Vec::new();
            encode_rgba_with(&rgba, w, h, q, &Tuning::PLAIN, &mut ours).unwrap();
            let mut theirs = Vec::new();
            let mut encoder = jpeg_encoder::Encoder::new(&mut theirs, q);
            encoder.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
            encoder
                .encode(&rgba, w, h, jpeg_encoder::ColorType::Rgba)
                .unwrap();
            let (a, b) = (decode(&ours).2, decode(&theirs).2);
            let (pa, pb) = (psnr(&rgba, &a), psnr(&rgba, &b));
            assert!(psnr(&a, &b) > 38.0, "q{q}: {:.2} dB apart", psnr(&a, &b));
            assert!(pa > pb - 0.1, "q{q}: {pa:.2} dB against {pb:.2}");
            assert!(
                ours.len() < theirs.len(),
                "q{q}: {} B against {}",
                ours.len(),
                theirs.len()
            );
        }
    }

    #[test]
    fn progressive_files_code_empty_blocks_as_runs() {
        // A flat picture with one small square: 33 280 luma blocks, nearly all without AC, so
        // the luma band's run passes EOBRUN's longest (32 767) and must be split.
        let (w, h) = (2048usize, 1040usize);
        let mut rgba = vec![0u8; w * h * 4];
        for (i, px) in rgba.chunks_exact_mut(4).enumerate() {
            let (x, y) = (i % w, i / w);
            let square = (1000..1040).contains(&x) && (500..540).contains(&y);
            px.copy_from_slice(if square {
                &[200, 40, 30, 255]
            } else {
                &[90, 120, 150, 255]
            });
        }
        let baseline = Tuning {
            progressive: false,
            ..Tuning::default()
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        encode_rgba_with(&rgba, w as u16, h as u16, 85, &Tuning::default(), &mut a).unwrap();
        encode_rgba_with(&rgba, w as u16, h as u16, 85, &baseline, &mut b).unwrap();
        let (pa, pb) = (decode(&a).2, decode(&b).2);
        assert_eq!(pa, pb, "the same levels in both kinds of file");
        assert!(psnr(&rgba, &pa) > 40.0, "{:.2} dB", psnr(&rgba, &pa));
        // Baseline pays an end-of-block code for each of the 49 920 blocks besides its DC
        // (here 6 780 B against 12 933 B).
        assert!(
            a.len() * 10 < b.len() * 6,
            "{} B against {} B",
            a.len(),
            b.len()
        );
    }

    #[test]
    fn trellis_makes_smaller_files_at_close_quality() {
        let (w, h) = (320, 240);
        let rgba = picture(w, h);
        let mut plain = Vec::new();
        let mut rdo = Vec::new();
        let off = Tuning {
            lambda: 0.0,
            ..Tuning::default()
        };
        encode_rgba_with(&rgba, w as u16, h as u16, 75, &off, &mut plain).unwrap();
        encode_rgba(&rgba, w as u16, h as u16, 75, &mut rdo).unwrap();
        assert!(rdo.len() < plain.len(), "{} vs {}", rdo.len(), plain.len());
        let (p0, p1) = (psnr(&rgba, &decode(&plain).2), psnr(&rgba, &decode(&rdo).2));
        assert!(p1 > p0 - 1.0, "{p1:.2} vs {p0:.2}");
    }

    /// A picture given row by row (as the camera path's planes are), each pixel converted on
    /// its own in floating point.
    struct Rows<'a>(&'a [u8], u16, u16);

    impl YccRows for Rows<'_> {
        fn width(&self) -> u16 {
            self.1
        }
        fn height(&self) -> u16 {
            self.2
        }
        fn row(&mut self, y: u16, out: planes::YccRow<'_>) {
            let w = usize::from(self.1) * 4;
            let row = &self.0[usize::from(y) * w..][..w];
            let fixed = |v: f64| (v * 16.0).round().clamp(0.0, 4080.0) as u16;
            for (i, px) in row.chunks_exact(4).enumerate() {
                let [r, g, b] = [px[0], px[1], px[2]].map(f64::from);
                let luma = 0.299 * r + 0.587 * g + 0.114 * b;
                out.y[i] = fixed(luma);
                out.cb[i] = fixed(128.0 + (b - luma) / 1.772);
                out.cr[i] = fixed(128.0 + (r - luma) / 1.402);
            }
        }
    }

    #[test]
    fn rows_give_the_same_file_as_rgba() {
        let (w, h) = (97u16, 45u16);
        let rgba = picture(usize::from(w), usize::from(h));
        // From RGBA, chroma is converted from each cell's summed colour in fixed point; from
        // rows, each pixel's chroma is summed: the same picture within rounding.
        for tuning in [Tuning::default(), Tuning::PLAIN] {
            for q in [60u8, 85, 92] {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                encode_rgba_with(&rgba, w, h, q, &tuning, &mut a).unwrap();
                encode_image_with(&mut Rows(&rgba, w, h), q, &tuning, &mut b).unwrap();
                let (pa, pb) = (decode(&a).2, decode(&b).2);
                assert!(psnr(&pa, &pb) > 45.0, "q{q}: {:.1} dB", psnr(&pa, &pb));
                assert!(a.len().abs_diff(b.len()) * 100 < a.len(), "q{q}");
            }
        }
        let mut out = vec![1, 2, 3];
        let e = encode_image(&mut Rows(&[], 0, 0), 80, &mut out);
        assert!(e.is_err() && out.is_empty());
    }

    #[test]
    fn broken_input_is_an_error() {
        let mut out = Vec::new();
        assert!(encode_rgba(&[0; 10], 2, 2, 80, &mut out).is_err());
        assert!(encode_rgba(&[], 0, 0, 80, &mut out).is_err());
        assert!(encode_rgba(&[0; 16], 4, 0, 80, &mut out).is_err());
    }
}
