// A photo-like test picture, drawn procedurally and deterministically (the same pixels every
// run, up to the fonts of the machine): smooth gradients (sky, sun, haze), fractal value noise
// with detail down to a few pixels (clouds, terrain texture, fine grain), shapes with sharp
// edges (a house, a checkerboard, discs, thin lines) and text in several sizes.
// Coordinates are relative, so every size shows the same scene.

function hash(ix, iy, seed) {
  let h = Math.imul(ix, 374761393) + Math.imul(iy, 668265263) + Math.imul(seed, 1442695041);
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

function valueNoise(x, y, seed) {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  const fx = x - ix;
  const fy = y - iy;
  const u = fx * fx * (3 - 2 * fx);
  const v = fy * fy * (3 - 2 * fy);
  const a = hash(ix, iy, seed);
  const b = hash(ix + 1, iy, seed);
  const c = hash(ix, iy + 1, seed);
  const d = hash(ix + 1, iy + 1, seed);
  return a + (b - a) * u + (c - a) * v + (a - b - c + d) * u * v;
}

/** Fractal (fBm) value noise in [0, 1). */
function fbm(x, y, octaves, seed) {
  let sum = 0;
  let amp = 0.5;
  let norm = 0;
  for (let o = 0; o < octaves; o++) {
    sum += amp * valueNoise(x, y, seed + o * 31);
    norm += amp;
    amp *= 0.55;
    x *= 2.03;
    y *= 2.03;
  }
  return sum / norm;
}

const mix = (a, b, t) => a + (b - a) * t;
const clamp = (v) => (v < 0 ? 0 : v > 255 ? 255 : v);

/** Draws the picture into `canvas` (its size decides the resolution). */
export function drawPicture(canvas) {
  const w = canvas.width;
  const h = canvas.height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const img = ctx.createImageData(w, h);
  const px = img.data;
  const horizon = 0.55;
  // Octaves down to a cell of ~3 px at this width: the finest detail scales with the size.
  const octaves = Math.max(4, Math.round(Math.log2(w / 8 / 3) / Math.log2(2.03)) + 1);
  for (let y = 0; y < h; y++) {
    const ny = y / h;
    for (let x = 0; x < w; x++) {
      const nx = x / w;
      let r;
      let g;
      let b;
      if (ny < horizon) {
        // Sky: a vertical gradient, a sun glow, soft clouds from noise.
        const t = ny / horizon;
        r = mix(40, 250, t * t);
        g = mix(90, 190, t);
        b = mix(200, 170, t);
        const dx = nx - 0.78;
        const dy = (ny - 0.18) * (h / w);
        const sun = Math.exp(-(dx * dx + dy * dy) * 180);
        r += 90 * sun;
        g += 80 * sun;
        b += 40 * sun;
        const cloud = fbm(nx * 6, ny * 14, octaves - 1, 7);
        const c = Math.max(0, cloud - 0.48) * 2.6;
        r = mix(r, 250, Math.min(1, c));
        g = mix(g, 250, Math.min(1, c));
        b = mix(b, 252, Math.min(1, c));
      } else {
        // Ground: hills with a textured surface and fine grain.
        const t = (ny - horizon) / (1 - horizon);
        const n = fbm(nx * 8, ny * 8, octaves, 101);
        const fine = valueNoise(nx * w / 2.5, ny * h / 2.5, 999) - 0.5;
        r = mix(70, 120, n) + mix(0, 60, t) + 30 * fine;
        g = mix(110, 160, n) - mix(0, 30, t) + 30 * fine;
        b = mix(40, 70, n) + 25 * fine;
        const haze = Math.exp(-t * 6) * 0.5;
        r = mix(r, 200, haze);
        g = mix(g, 200, haze);
        b = mix(b, 210, haze);
      }
      const i = (y * w + x) * 4;
      px[i] = clamp(r);
      px[i + 1] = clamp(g);
      px[i + 2] = clamp(b);
      px[i + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);

  // Sharp edges on top.
  const s = w / 1920;
  ctx.save();
  ctx.fillStyle = '#b8412f';
  ctx.beginPath();
  ctx.moveTo(260 * s, 640 * s);
  ctx.lineTo(420 * s, 520 * s);
  ctx.lineTo(580 * s, 640 * s);
  ctx.closePath();
  ctx.fill();
  ctx.fillStyle = '#efe6d0';
  ctx.fillRect(290 * s, 640 * s, 260 * s, 200 * s);
  ctx.fillStyle = '#3b5b8c';
  ctx.fillRect(320 * s, 680 * s, 60 * s, 60 * s);
  ctx.fillRect(460 * s, 680 * s, 60 * s, 60 * s);
  ctx.fillStyle = '#5a3a22';
  ctx.fillRect(395 * s, 730 * s, 50 * s, 110 * s);
  // A checkerboard: edges at every cell.
  const cell = Math.max(2, Math.round(12 * s));
  for (let j = 0; j < 10; j++) {
    for (let i = 0; i < 16; i++) {
      ctx.fillStyle = (i + j) % 2 ? '#111' : '#f4f4f4';
      ctx.fillRect(1500 * s + i * cell, 820 * s + j * cell, cell, cell);
    }
  }
  const discs = [['#e8c547', 960, 760, 70], ['#2f9e8f', 1120, 860, 45], ['#8c3b8c', 1250, 700, 30]];
  for (const [color, x, y, r] of discs) {
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.arc(x * s, y * s, r * s, 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.strokeStyle = '#202020';
  ctx.lineWidth = Math.max(1, 2 * s);
  for (let k = 0; k < 12; k++) {
    ctx.beginPath();
    ctx.moveTo(700 * s, (900 + k * 12) * s);
    ctx.lineTo(1400 * s, (880 + k * 14) * s);
    ctx.stroke();
  }
  // Text, large and small.
  ctx.fillStyle = '#ffffff';
  ctx.strokeStyle = '#000000';
  ctx.lineWidth = Math.max(1, 3 * s);
  ctx.font = `bold ${Math.round(84 * s)}px sans-serif`;
  ctx.strokeText('tracksnap bench', 80 * s, 150 * s);
  ctx.fillText('tracksnap bench', 80 * s, 150 * s);
  ctx.fillStyle = '#101010';
  ctx.font = `${Math.round(26 * s)}px serif`;
  ctx.fillText(`${w}×${h} · the quick brown fox jumps over the lazy dog 0123456789`, 80 * s, 975 * s);
  ctx.font = `${Math.max(9, Math.round(14 * s))}px monospace`;
  for (let k = 0; k < 4; k++) {
    ctx.fillText(`line ${k + 1}: Sphinx of black quartz, judge my vow. ${'#'.repeat(k + 3)}`, 80 * s, (1000 + k * 16) * s);
  }
  ctx.restore();
  return ctx.getImageData(0, 0, w, h);
}

/**
 * RGBA pixels as I420 planes (Y, then U, then V) in BT.601, chroma averaged over each 2×2
 * cell. `fullRange`: Y and chroma over 0–255, the JFIF identity (what a JPEG stores, and what
 * libjpeg-turbo compresses from RGB); otherwise limited range (Y 16–235, chroma 16–240), as a
 * camera hands its frames over. `width` and `height` must be even.
 */
export function i420FromRgba(rgba, width, height, { fullRange }) {
  const cw = width >> 1;
  const ch = height >> 1;
  const planes = new Uint8Array(width * height + 2 * cw * ch);
  const [y0, yScale, cScale] = fullRange ? [0, 1, 1] : [16, 219 / 255, 224 / 255];
  const luma = (i) => 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2];
  // Clamped: full-range chroma of a saturated cell rounds to 256 (limited range never leaves 16–240).
  const byte = (v) => Math.min(255, Math.max(0, Math.round(v)));
  for (let i = 0; i < width * height; i++) planes[i] = byte(y0 + yScale * luma(i * 4));
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      let cb = 0;
      let cr = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        const i = ((2 * y + dy) * width + 2 * x + dx) * 4;
        const l = luma(i);
        cb += (rgba[i + 2] - l) / 1.772 / 4;
        cr += (rgba[i] - l) / 1.402 / 4;
      }
      planes[width * height + y * cw + x] = byte(128 + cScale * cb);
      planes[width * height + cw * ch + y * cw + x] = byte(128 + cScale * cr);
    }
  }
  return planes;
}
