//! Overshoot deringing (MozJPEG's `preprocess_deringing`): in a block with samples at the
//! brightest value (white text background, a window on a screen), those samples are raised
//! above it along a smooth curve before the DCT. Decoders clamp to 255, so the picture is
//! the same where it was white, but the step at the edge is gentler: fewer high-frequency
//! levels to store and less ringing around the edge after quantisation. Black is treated the
//! same way, below 0.

use super::quantise::ZIGZAG;

/// White, level-shifted.
const MAX: f32 = 127.0;

/// Deringing of one level-shifted block (as [`super::planes::Plane::block`] gives it), for a
/// component whose DC quantiser step is `dc_step`: for white, and with `black` for black too
/// (as white after negation: 0 level-shifted is −128).
pub fn apply(block: &mut [[f32; 8]; 8], dc_step: f32, black: bool) {
    let flat = block.as_flattened_mut();
    overshoot(flat, dc_step, MAX);
    if black {
        flat.iter_mut().for_each(|v| *v = -*v);
        overshoot(flat, dc_step, MAX + 1.0);
        flat.iter_mut().for_each(|v| *v = -*v);
    }
}

/// MozJPEG's curve, for the samples at `extreme`: runs of them along the zig-zag order are
/// replaced by a Catmull–Rom curve through their neighbours' slopes, limited so that the
/// block's mean (the DC) stays within range.
fn overshoot(data: &mut [f32], dc_step: f32, extreme: f32) {
    const N: usize = 64;
    let at = |data: &[f32], k: usize| {
        let k = k.min(N - 1);
        data.get(usize::from(ZIGZAG.get(k).copied().unwrap_or(0)))
            .copied()
            .unwrap_or(0.0)
    };
    let max = extreme - 0.5;
    let (sum, count) = data.iter().fold((0.0f32, 0usize), |(s, c), &v| {
        (s + v, c + usize::from(v >= max))
    });
    if count == 0 || count == N {
        return;
    }
    let limit = extreme
        + (2.0 * dc_step)
            .min(31.0)
            .min((extreme * N as f32 - sum) / count as f32);
    let mut n = 0;
    while n < N {
        if at(data, n) < max {
            n += 1;
            continue;
        }
        let start = n;
        while n < N && at(data, n) >= max {
            n += 1;
        }
        let end = n;
        let (f1, f2) = (
            at(data, start.saturating_sub(1)),
            at(data, start.saturating_sub(2)),
        );
        let (l1, l2) = (at(data, end), at(data, end + 1));
        let mut first_slope = (f1 - f2).max(extreme - f1);
        let mut last_slope = (l1 - l2).max(extreme - l1);
        if start == 0 {
            first_slope = last_slope;
        }
        if end == N {
            last_slope = first_slope;
        }
        let length = (end - start) as f32;
        let step = 1.0 / (length + 1.0);
        for (i, k) in (start..end).enumerate() {
            let t = step * (i + 1) as f32;
            let v = catmull_rom(
                extreme - first_slope,
                extreme,
                extreme,
                extreme - last_slope,
                t,
                length,
            );
            if let Some(o) = ZIGZAG.get(k).and_then(|&z| data.get_mut(usize::from(z))) {
                *o = v.ceil().min(limit);
            }
        }
        n += 1;
    }
}

fn catmull_rom(v1: f32, v2: f32, v3: f32, v4: f32, t: f32, size: f32) -> f32 {
    let tan1 = (v3 - v1) * size;
    let tan2 = (v4 - v2) * size;
    let (t2, t3) = (t * t, t * t * t);
    let f1 = 2.0 * t3 - 3.0 * t2 + 1.0;
    let f2 = -2.0 * t3 + 3.0 * t2;
    let f3 = t3 - 2.0 * t2 + t;
    let f4 = t3 - t2;
    v2 * f1 + tan1 * f3 + v3 * f2 + tan2 * f4
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn white_samples_rise_and_the_rest_stay() {
        let mut block = [[0.0f32; 8]; 8];
        for row in block.iter_mut() {
            for (x, v) in row.iter_mut().enumerate() {
                *v = if x < 4 { MAX } else { -40.0 };
            }
        }
        let before = block;
        apply(&mut block, 8.0, true);
        for (a, b) in block.as_flattened().iter().zip(before.as_flattened()) {
            if *b == MAX {
                assert!(*a >= MAX && *a <= MAX + 16.0, "{a}");
            } else {
                assert_eq!(a, b);
            }
        }
        assert!(block.as_flattened().iter().any(|&v| v > MAX));
    }
}
