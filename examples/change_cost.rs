//! What capture-only-on-change costs per tick (`ImageConfig.ChangeThreshold` > 0), on the host
//! (release build): `cargo run --release --example change_cost`.
//!
//! Times the thumbnail of one 1920×1080 frame plus its comparison with the last kept one —
//! the whole of the check, which runs on the pixels already copied for encoding — from RGBA
//! (the page path, and browsers that hand out RGB) and from an I420 frame's Y plane (the
//! camera's own frames in the Worker). Median of 51 runs after one warm-up.

use std::hint::black_box;
use std::time::Instant;

use tracksnap::core::change::{unchanged, Thumb};
use tracksnap::core::yuv::YuvColor;

const RUNS: usize = 51;

fn median_us(mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[RUNS / 2]
}

fn main() {
    let (w, h) = (1920u32, 1080u32);
    let mut seed = 0x9e37_79b9_u32;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as u8
    };
    let rgba: Vec<u8> = (0..w * h * 4).map(|_| noise()).collect();
    let i420: Vec<u8> = (0..w * h * 3 / 2).map(|_| noise()).collect();
    let reference = Thumb::from_rgba(&rgba, w, h, false).expect("a thumbnail");
    let color = YuvColor::default();

    println!("thumbnail + compare of one {w}×{h} frame (median of {RUNS}):");
    let rgba_us = median_us(|| {
        let t = Thumb::from_rgba(black_box(&rgba), w, h, false).expect("a thumbnail");
        black_box(unchanged(&t, Some(&reference), 5.0));
    });
    println!("  RGBA (8.3 MB):        {rgba_us:8.0} µs");
    let yuv_us = median_us(|| {
        let t = Thumb::from_luma(black_box(&i420), w, h, color).expect("a thumbnail");
        black_box(unchanged(&t, Some(&reference), 5.0));
    });
    println!("  I420 Y plane (2.1 MB): {yuv_us:7.0} µs");
    let compare_us = median_us(|| {
        black_box(black_box(&reference).difference(black_box(&reference)));
    });
    println!("  the comparison alone: {compare_us:8.2} µs");
}
