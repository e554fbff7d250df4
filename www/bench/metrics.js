// Statistics and image quality: median and p95 (nearest rank), PSNR over RGB, SSIM over luma.

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** The median of PSNR values, where Infinity (identical images) counts as the largest value. */
export function medianWithInfinity(values) {
  const v = [...values].sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Nearest-rank percentile (p95 of fewer than 20 values is their maximum). */
export function percentile(values, p) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
}

/**
 * The page's clock as measured: performance.now()'s least step (of 20 waits for it to move),
 * which browsers coarsen unless the page is cross-origin isolated (Chromium 5 µs / 100 µs).
 */
export function timerText() {
  let step = Infinity;
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    let t1 = t0;
    while (t1 === t0) t1 = performance.now();
    step = Math.min(step, t1 - t0);
  }
  const us = Math.round(step * 1000 * 10) / 10;
  return `performance.now, ${crossOriginIsolated ? '' : 'not '}cross-origin isolated, steps of ${us} µs`;
}

/** PSNR in dB over the R, G and B channels of two RGBA ImageData of the same size. */
export function psnr(a, b) {
  const x = a.data;
  const y = b.data;
  let sum = 0;
  for (let i = 0; i < x.length; i += 4) {
    const dr = x[i] - y[i];
    const dg = x[i + 1] - y[i + 1];
    const db = x[i + 2] - y[i + 2];
    sum += dr * dr + dg * dg + db * db;
  }
  const mse = sum / ((x.length / 4) * 3);
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

function luma(image) {
  const d = image.data;
  const out = new Float32Array(image.width * image.height);
  for (let i = 0, j = 0; j < out.length; i += 4, j++) out[j] = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
  return out;
}

export const SSIM_PARAMS = { window: 8, stride: 4, K1: 0.01, K2: 0.03, L: 255, channel: 'luma (BT.601)' };

/**
 * Mean SSIM over 8×8 windows of luma (uniform weights, stride 4), with the standard constants
 * C1 = (0.01·255)², C2 = (0.03·255)².
 */
export function ssim(a, b) {
  const w = a.width;
  const h = a.height;
  const x = luma(a);
  const y = luma(b);
  const { window: n, stride, K1, K2, L } = SSIM_PARAMS;
  const C1 = (K1 * L) ** 2;
  const C2 = (K2 * L) ** 2;
  const count = n * n;
  let total = 0;
  let windows = 0;
  for (let wy = 0; wy + n <= h; wy += stride) {
    for (let wx = 0; wx + n <= w; wx += stride) {
      let sx = 0;
      let sy = 0;
      let sxx = 0;
      let syy = 0;
      let sxy = 0;
      for (let j = 0; j < n; j++) {
        let k = (wy + j) * w + wx;
        for (let i = 0; i < n; i++, k++) {
          const p = x[k];
          const q = y[k];
          sx += p;
          sy += q;
          sxx += p * p;
          syy += q * q;
          sxy += p * q;
        }
      }
      const mx = sx / count;
      const my = sy / count;
      const vx = sxx / count - mx * mx;
      const vy = syy / count - my * my;
      const cxy = sxy / count - mx * my;
      total += ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
      windows += 1;
    }
  }
  return total / windows;
}

/** Decodes an image Blob to RGBA ImageData. */
export async function decode(blob) {
  const bitmap = await createImageBitmap(blob);
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}
