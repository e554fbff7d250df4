// The smallest app: import the package by name, take one snapshot of a canvas track.
import init, { SnapshotEngine } from 'tracksnap';

const out = document.getElementById('result');
try {
  await init();
  const canvas = Object.assign(document.createElement('canvas'), { width: 320, height: 180 });
  const ctx = canvas.getContext('2d');
  const paint = () => {
    ctx.fillStyle = 'rgb(40, 60, 220)';
    ctx.fillRect(0, 0, 320, 180);
  };
  paint();
  setInterval(paint, 40);
  const track = canvas.captureStream().getVideoTracks()[0];
  const engine = new SnapshotEngine();
  engine.startVideoPreview('main', track);
  const r = await engine.snapshot({ streamType: 'main', format: 'png' });
  out.textContent = JSON.stringify({ code: r.code, width: r.width, height: r.height, size: r.size, type: r.blob.type });
} catch (e) {
  out.textContent = `failed: ${e.message}`;
}
