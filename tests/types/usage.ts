// Type-checked by scripts/test.sh (tsc --noEmit, strict): the package's public types as an app
// uses them. Each @ts-expect-error line must fail to compile, or tsc reports it unused.
import init, {
  SnapshotEngine,
  type PeriodicSnapshotDetail,
  type OutboxEntry,
  type SnapshotResponse,
  type SnapshotResult,
  type StartSnapshotRequest,
  type TaskInfo,
  type TrackSnapError,
} from 'tracksnap';

export async function classroom(camera: MediaStreamTrack, screen: MediaStreamTrack, remote: MediaStreamTrack): Promise<void> {
  await init();
  const engine = new SnapshotEngine({
    format: 'jpeg',
    quality: 85,
    frameTimeout: 2000,
    rotate: 90,
    watermark: { text: '课堂 {uid} {utc}', image: new Blob([], { type: 'image/png' }), position: 'top-left', opacity: 0.8 },
    storage: { presignEndpoint: '/presign', outboxMaxBytes: 50_000_000, uploadQueueBytes: 8_000_000, persist: true, presignTimeout: 5000 },
  });
  const codes: number[] = [
    engine.startVideoPreview('main', camera),
    engine.joinChannel('class-7b', 1001),
    engine.enableLocalVideo(0, true),
    engine.startScreenCapture(screen),
    engine.onUserVideoStart('2002', remote),
    engine.takeLocalSnapshot('sub'),
    engine.takeRemoteSnapshot(2002, 'main', 'notes/board.jpg'),
  ];
  // @ts-expect-error: "side" is no stream type
  engine.takeLocalSnapshot('side');
  // @ts-expect-error: a track is needed
  engine.onUserVideoStart('2002');

  engine.setEventHandler({
    onTakeSnapshotResult(code: number, path: string, result: SnapshotResult) {
      const blob: Blob | null = result.blob;
      const url: string | null = result.url;
      console.log(code, path, blob?.size, url, result.streamType satisfies 'main' | 'sub');
    },
  });
  engine.addEventListener('takesnapshotresult', (e) => {
    const r: SnapshotResult = e.detail;
    console.log(r.width, r.height, r.mimeType satisfies 'image/jpeg' | 'image/png');
  });
  engine.addEventListener('periodicsnapshot', (e) => {
    const d: PeriodicSnapshotDetail = e.detail;
    console.log(d.key, d.event_type satisfies 200, d.pic_full_url, d.recovery);
  });
  engine.addEventListener('snapshottaskstop', (e) => console.log(e.detail.reason satisfies 'stopped' | 'idle' | 'left' | 'destroyed'));
  engine.addEventListener('outboxupload', (e) => console.log(e.detail.url));
  engine.addEventListener('outboxfull', (e) => console.log(e.detail.outboxMaxBytes));
  engine.addEventListener('outboxstuck', (e) => console.log(e.detail.attempts, e.detail.lastStatus satisfies number | null));
  engine.addEventListener('latestupload', (e) => {
    const d = e.detail;
    console.log(d.key, d.imageKey, 'url' in d ? d.url : `${d.code} ${d.message}`);
  });
  engine.addEventListener('error', (e) => console.log(e.detail.code satisfies 30001, e.detail.message));
  const persisted: boolean | null = await engine.outboxPersisted;
  console.log(persisted);
  const ready: Promise<void> = engine.ready;
  await ready;
  const path: 'worker' | 'page' = engine.encoderPlacement;
  const capture: 'MediaStreamTrackProcessor' | 'MediaStreamTrackProcessor in a Worker' | 'video element' | 'unsupported' = engine.frameReader;
  console.log(path, capture);
  // @ts-expect-error: a snapshot result has no TaskId
  engine.addEventListener('takesnapshotresult', (e) => console.log(e.detail.TaskId));

  try {
    const r: SnapshotResult = await engine.snapshot({ streamType: 'main', width: 640, fit: 'cover', mirror: true, format: 'png' });
    console.log(r.size);
  } catch (e) {
    const err = e as TrackSnapError;
    console.log(err.code, err.codeName, err.result?.blob);
  }
  // @ts-expect-error: fit must be fill, contain or cover
  await engine.snapshot({ streamType: 'main', fit: 'stretch' });
  const turned: SnapshotResult = await engine.snapshot({ streamType: 'main', rotate: 270, width: 120, height: 160, fit: 'contain' });
  console.log(turned.width);
  // @ts-expect-error: a rotation is 0, 90, 180 or 270 degrees, a number
  await engine.snapshot({ streamType: 'main', rotate: 45 });
  // @ts-expect-error: not the string "90"
  await engine.snapshot({ streamType: 'main', rotate: '90' });
  await engine.snapshot({ streamType: 'main', watermark: null });
  await engine.snapshot({ streamType: 'main', watermark: { text: 'evidence', position: 'bottom-left' } });
  // @ts-expect-error: a watermark sits in a corner
  await engine.snapshot({ streamType: 'main', watermark: { text: 'x', position: 'center' } });
  // @ts-expect-error: a logo is a Blob or an ImageBitmap, not a URL
  await engine.snapshot({ streamType: 'main', watermark: { image: 'logo.png' } });

  const task: StartSnapshotRequest = {
    AppId: 'app', RoomId: 'class-7b', TaskId: 'moderation',
    TargetStreams: { StreamList: [{ UserId: '1001', StreamType: 0, Index: 0 }] },
    ImageConfig: { Format: 0, Width: 640, Interval: 2, Rotate: 180, ChangeThreshold: 2.5, Watermark: { Text: '{TaskId} {utc}', Position: 'top-right' } },
    MaxIdleTime: 60,
    FileNameTemplate: 'tencent',
    CallbackUrl: 'https://example.com/hook',
    StorageConfig: { Type: 'presigned', LatestKey: '{RoomId}/{UserId}_{video}/latest.jpg' },
  };
  const started: SnapshotResponse = await engine.startSnapshot(task);
  console.log(started.Result, started.ResponseMetadata.Error?.Code);
  await engine.updateSnapshot({ AppId: 'app', RoomId: 'class-7b', TaskId: 'moderation', ImageConfig: { Interval: 5 } });
  const info: TaskInfo | null = engine.getSnapshotTask({ AppId: 'app', RoomId: 'class-7b', TaskId: 'moderation' });
  console.log(info?.images, info?.state satisfies 'running' | 'stopped' | undefined);
  console.log(info?.ImageConfig.Rotate satisfies 0 | 90 | 180 | 270 | undefined);
  // @ts-expect-error: UpdateSnapshot changes only the Interval
  await engine.updateSnapshot({ AppId: 'app', RoomId: 'class-7b', TaskId: 'moderation', ImageConfig: { Rotate: 90 } });
  console.log(info?.ImageConfig.Watermark?.Text, info?.ImageConfig.Watermark?.Position satisfies 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right' | undefined);
  // @ts-expect-error: a task's watermark has a Text
  await engine.startSnapshot({ ...task, ImageConfig: { Watermark: { Position: 'top-left' } } });
  const unchanged: number | undefined = info?.unchanged;
  const threshold: number | undefined = info?.ImageConfig.ChangeThreshold;
  console.log(unchanged, threshold);
  // @ts-expect-error: Format is 0 or 1
  await engine.startSnapshot({ ...task, ImageConfig: { Format: 2 } });
  const stopped = await engine.stopSnapshot({ AppId: 'app', RoomId: 'class-7b', TaskId: 'moderation' });
  console.log(stopped.ImagesInOutbox);

  const entries: OutboxEntry[] = await engine.outboxEntries();
  for (const entry of entries.filter((e) => e.stuck)) {
    const kept: Blob | null = await engine.readOutboxEntry(entry.key);
    const removed: boolean = await engine.removeOutboxEntry(entry.key);
    console.log(kept?.size, removed, entry.attempts, entry.createdAt, entry.meta);
  }

  const left: number = await engine.flushUploads();
  console.log(left, engine.pendingUploads(), engine.lastError?.message, engine.frameReader, codes);
  engine.destroy();
}

// The presign callback form.
export const withCallback = new SnapshotEngine({
  storage: {
    presign: async ({ key, contentType, size }) => {
      const r = await fetch('/presign', { method: 'POST', body: JSON.stringify({ key, contentType, size }) });
      return (await r.json()) as { url: string };
    },
  },
});
