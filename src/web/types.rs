//! TypeScript declarations for the values that cross the boundary as plain objects.
//! wasm-bindgen writes the class itself; its parameters refer to these names.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** NERTC stream types: main = 0 (camera), sub = 1 (screen share or a second camera). */
export type StreamType = "main" | "sub" | 0 | 1;

/** A user id: a non-negative integer or 1–128 characters of A-Z a-z 0-9 _ @ - . ; reported as a string. */
export type Uid = string | number;

export type ImageFormatName = "jpeg" | "png";

/** How a frame fills an output of another aspect ratio. */
export type Fit = "fill" | "contain" | "cover";

/** A turn of the picture in degrees clockwise, applied before the size rules, fit and mirror. */
export type Rotation = 0 | 90 | 180 | 270;

/** The corner a watermark sits in. */
export type WatermarkPosition = "top-left" | "top-right" | "bottom-left" | "bottom-right";

/**
 * Burned into the image at its output size, after the fit and the mirror (which does not
 * mirror it). A text or an image is required.
 */
export interface Watermark {
  /** One line, at most 200 characters, drawn in the browser's fonts (every script) with an
   * outline. Placeholders: {utc} {date} {time} (UTC) {uid} {streamType} {path}. */
  text?: string;
  /** A logo (PNG with alpha), drawn at its own size, scaled down to at most ¼ of the image's
   * width, above the text. A Blob that is not an image fails the snapshot with 30003. */
  image?: Blob | ImageBitmap;
  /** Default "bottom-right". */
  position?: WatermarkPosition;
  /** 0..1, default 1; 0 leaves the picture as it was. */
  opacity?: number;
}

/** How this browser takes frames from tracks (Safari: the processor in the engine's Worker). */
export type FrameReader =
  | "MediaStreamTrackProcessor"
  | "MediaStreamTrackProcessor in a Worker"
  | "video element"
  | "unsupported";

/** Where frames are encoded: a dedicated Worker, or the page's thread. */
export type EncoderPlacement = "worker" | "page";

export interface SnapshotEngineOptions {
  /** Default "jpeg". */
  format?: ImageFormatName;
  /** JPEG quality, a whole number 1..100. Default 85. */
  quality?: number;
  /** Milliseconds a snapshot waits for a frame before failing with 30102. 100..60000, default 3000. */
  frameTimeout?: number;
  /** Upload every image through presigned URLs (never give the page storage secrets). */
  storage?: StorageOptions;
  /**
   * Encode in a dedicated Worker (default true): the page's thread only hands frames over.
   * false encodes on the page's thread. Without Worker support (or with a CSP that forbids
   * `worker-src blob:`) the engine encodes on the page either way; see `encoderPlacement`.
   */
  worker?: boolean;
  /** JPEG: the smallest file (MozJPEG's tables, rate–distortion optimised levels, progressive scans), in about 1.4× the time from call to Blob. Default false. */
  sizeFirst?: boolean;
  /** Turn every snapshot clockwise (a request's or task's own `rotate` wins). Default 0. */
  rotate?: Rotation;
  /** Every snapshot's watermark, a task's too (a request's or task's own wins). Default none. */
  watermark?: Watermark;
}

/** What the engine asks a presigner for. */
export interface PresignRequest {
  key: string;
  contentType: string;
  size: number;
}

/** A presigner's answer: a PUT URL (default), or an S3 POST policy's URL and form fields. */
export interface PresignedUpload {
  url: string;
  method?: "PUT" | "POST";
  headers?: Record<string, string>;
  fields?: Record<string, string>;
}

export type StorageOptions = (
  | { presign: (request: PresignRequest) => PresignedUpload | Promise<PresignedUpload>; presignEndpoint?: never }
  | { presignEndpoint: string; presign?: never }
) & {
  /** Bytes the outbox (IndexedDB) may keep; default 200 MiB; 0 keeps nothing. */
  outboxMaxBytes?: number;
  /** Bytes of images held in memory for upload (waiting for a slot or being sent); past it, or
   * past 64 images, a new image waits in the outbox only and its event comes at once.
   * Default 16 MiB; 0..2^32. */
  uploadQueueBytes?: number;
  /** Ask the browser to keep the outbox under storage pressure (navigator.storage.persist());
   * default true. The answer: `engine.outboxPersisted`. */
  persist?: boolean;
  /** Milliseconds a presigner may take to answer before that attempt fails (100–120000; default 10000). */
  presignTimeout?: number;
};

export interface SnapshotRequest {
  /** Absent (or the local uid): the local stream. */
  uid?: Uid;
  streamType: StreamType;
  /** The name reported back; a default name when absent. No "." or ".." segments, no control characters. */
  path?: string;
  format?: ImageFormatName;
  quality?: number;
  /** Output width, 0..7680; 0 or absent = from the stream and `height`. */
  width?: number;
  /** Output height, 0..7680; 0 or absent = from the stream and `width`. */
  height?: number;
  /** Default "fill". */
  fit?: Fit;
  /** Flip left and right (of the turned picture). Default false. */
  mirror?: boolean;
  /** Turn clockwise first: 90 or 270 of a 320×240 stream gives 240×320, and width, height and fit apply to that. Default: the engine's option. */
  rotate?: Rotation;
  /** JPEG only: the smallest file (MozJPEG's tables, rate–distortion optimised levels, progressive scans), in about 1.4× the time from call to Blob. Default: the engine's option. */
  sizeFirst?: boolean;
  /** Default: the engine's option; null: none for this snapshot. */
  watermark?: Watermark | null;
}

export interface SnapshotResult {
  /** 0 on success, else one of the codes in the README. */
  code: number;
  /** Why it failed; "" on success. */
  message: string;
  path: string;
  /** The stream owner's uid; "" for the local user before joining. */
  uid: string;
  streamType: "main" | "sub";
  width: number;
  height: number;
  format: ImageFormatName;
  mimeType: "image/jpeg" | "image/png";
  /** Bytes in `blob`. */
  size: number;
  /** The image; null only when code != 0. */
  blob: Blob | null;
  /** Milliseconds since the epoch when the frame was captured (or when it failed). */
  timestamp: number;
  /** The uploaded object's URL (without the query string); null without storage or when the upload failed. */
  url: string | null;
}

export interface SnapshotEventHandler {
  onTakeSnapshotResult?(code: number, path: string, result: SnapshotResult): void;
}

/** An Error thrown or rejected by the engine. */
export interface TrackSnapError extends Error {
  name: "TrackSnapError";
  code: number;
  codeName: string;
  /** For a snapshot that was accepted and then failed. */
  result?: SnapshotResult;
}

export interface TrackSnapErrorInfo {
  call: string;
  code: number;
  codeName: string;
  message: string;
}

/** `AppId` + `RoomId` + `TaskId` identify a task. Each: 1–128 characters of A-Z a-z 0-9 _ @ - . */
export interface TaskKeyRequest {
  AppId: string;
  RoomId: string;
  TaskId: string;
}

export interface TargetStreams {
  /** Empty or absent: every stream in the room, now and later. At most 17. */
  StreamList?: { Index?: number; UserId: string; StreamType?: 0 | 1 }[];
}

export interface StartSnapshotRequest extends TaskKeyRequest {
  BusinessId?: string;
  TargetStreams?: TargetStreams;
  /** [1, 86400] s, default 180; outside the range → 180. */
  MaxIdleTime?: number;
  ImageConfig?: {
    /** 0 JPEG (default), 1 PNG. */
    Format?: 0 | 1;
    /** [0, 1920], 0 = from the stream (size rules as for snapshot()). */
    Width?: number;
    Height?: number;
    /** [1, 600] s, default 2. */
    Interval?: number;
    /** Degrees clockwise, before Width/Height apply; default: the engine's `rotate`. */
    Rotate?: Rotation;
    /** [0, 100] percent, default 0 (every tick is an image). Above 0, a tick whose picture
     * differs from its stream's last kept image by less (mean absolute difference of a 32×18
     * luma thumbnail) is not kept: it is counted in `unchanged`, with no image and no event.
     * A stream's first image, and its first after it resumes or gets a new track, is kept. */
    ChangeThreshold?: number;
    /** As the engine's `watermark`, text only; its Text has the task's {TaskId} {RoomId}
     * {UserId} {AppId} {BusinessId} too ({path} is empty: a key is made after the capture).
     * Default: the engine's watermark; null: none. */
    Watermark?: TaskWatermark | null;
  };
  /** A template with {placeholders}, or a preset: "agora" (the default layout) or "tencent". */
  FileNameTemplate?: string;
  /** Each image's metadata is POSTed here as JSON (https, or http on loopback). */
  CallbackUrl?: string;
  /** Upload every image; no PresignEndpoint: the engine's storage. LatestKey: a template
   * (FileNameTemplate's placeholders, need not change per image) each uploaded image is also
   * written to, overwriting the last, e.g. "{RoomId}/{UserId}_{video}/latest.jpg". */
  StorageConfig?: { Type: "presigned"; PresignEndpoint?: string; LatestKey?: string };
}

export interface TaskWatermark {
  Text: string;
  Position?: WatermarkPosition;
  Opacity?: number;
}

export interface UpdateSnapshotRequest extends TaskKeyRequest {
  ImageConfig?: { Interval?: number };
  TargetStreams?: TargetStreams;
  MaxIdleTime?: number;
}

export interface SnapshotResponse {
  /** "ok"; the already-started text for a repeated start; "" on failure. */
  Result: string;
  ResponseMetadata: {
    RequestId: string;
    Action: "StartSnapshot" | "UpdateSnapshot" | "StopSnapshot";
    Version: "2023-11-01";
    /** Code: "InvalidParameter", "TaskNotFound" or "InvalidOperation" (after destroy()). */
    Error?: { Code: string; Message: string };
  };
  /** StopSnapshot only: the task's images not yet in the store (being sent, or waiting in the
   * outbox), counted when the stop resolves. A stop waits at most 2 s for uploads; the rest
   * go on from the outbox and their periodicsnapshot events come later. */
  ImagesInOutbox?: number;
}

export interface TaskInfo {
  AppId: string;
  RoomId: string;
  TaskId: string;
  BusinessId?: string;
  MaxIdleTime: number;
  ImageConfig: {
    Format: 0 | 1; Width: number; Height: number; Interval: number; Rotate: Rotation; ChangeThreshold: number;
    /** The watermark in effect (the task's or the engine's; `Image`: the engine's logo), or null. */
    Watermark: { Text?: string; Image?: true; Position: WatermarkPosition; Opacity: number } | null;
  };
  TargetStreams: TargetStreams;
  FileNameTemplate?: string;
  CallbackUrl?: string;
  state: "running" | "stopped";
  /** n when this run recovers a run whose page died (its names start with bak<n>_); else null. */
  recovery: number | null;
  stopReason?: TaskStopReason;
  /** Images produced. */
  images: number;
  /** Ticks that produced no capture: the stream was stopped or still busy, or the timer fired too late. */
  skipped: number;
  /** Captures that failed (see the image events' codes). */
  failed: number;
  /** Ticks not kept because the picture had not changed (ImageConfig.ChangeThreshold): no
   * image, so no event and nothing to upload. */
  unchanged: number;
}

export type TaskStopReason = "stopped" | "idle" | "left" | "destroyed";

/** One periodic image (or a failed capture, with code != 0 and blob null). */
export interface PeriodicSnapshotDetail {
  code: number;
  message: string;
  TaskId: string;
  AppId: string;
  RoomId: string;
  BusinessId: string | null;
  UserId: string;
  StreamType: 0 | 1;
  Index: number | null;
  width: number;
  height: number;
  format: ImageFormatName;
  size: number;
  blob: Blob | null;
  /** The file name (object key). */
  key: string;
  /** Set once uploaded; null without storage. */
  url: string | null;
  /** Capture time, ms since the epoch. */
  timestamp: number;
  /** The Tencent CSS callback fields. */
  create_time: number;
  event_type: 200;
  stream_id: string;
  channel_id: string;
  file_size: number;
  pic_url: string;
  pic_full_url: string | null;
  /** n when the task was recovered after its page died (names start with bak<n>_); else null. */
  recovery: number | null;
  /** StorageConfig.LatestKey rendered for this image: set once the image is uploaded; the
   * copy's own outcome is a `latestupload` event. */
  latestKey?: string;
}

/** A copy to StorageConfig.LatestKey has ended: `url` once written, else `code` and
 * `message` (retried as uploads are; never kept in the outbox, the next image replaces it). */
export type LatestUploadDetail =
  | { key: string; imageKey: string; url: string }
  | { key: string; imageKey: string; code: number; message: string };

/** An image from the outbox that has now been uploaded. */
export interface OutboxUploadDetail {
  key: string;
  url: string;
  size: number;
  contentType: string;
  /** What the image's event said when it failed (its metadata without the Blob). */
  meta: Record<string, unknown>;
}

/** An image that could not be uploaded and did not fit in the outbox (its event still has the Blob). */
export interface OutboxFullDetail {
  key: string;
  size: number;
  outboxBytes: number;
  outboxMaxBytes: number;
}

/** An outbox image that keeps failing: it stays kept, automatic retries skip it, and
 * `flushUploads()` tries it again. */
export interface OutboxStuckDetail {
  key: string;
  size: number;
  /** Failed rounds (an upload's retries, or a flush's). */
  attempts: number;
  /** The last HTTP status of the store or presign endpoint; null when the network failed. */
  lastStatus: number | null;
  lastError: string;
}

/** What keeping one image in the outbox before its first upload attempt cost. */
export interface WriteAheadTime {
  /** The image's bytes. */
  size: number;
  /** Milliseconds our code held the page's thread: building the record, its share of the transaction. */
  pageMs: number;
  /** Milliseconds from the upload's start to the committed transaction. */
  totalMs: number;
}

/** An image in the outbox, as `outboxEntries()` lists it. */
export interface OutboxEntry {
  key: string;
  size: number;
  contentType: string;
  /** When it was kept (ms since the epoch). */
  createdAt: number;
  attempts: number;
  stuck: boolean;
  /** What the image's event said (its metadata without the Blob). */
  meta: Record<string, unknown>;
}

export interface TaskStopDetail {
  TaskId: string;
  AppId: string;
  RoomId: string;
  reason: TaskStopReason;
}

export interface StreamStateDetail {
  TaskId: string;
  AppId: string;
  RoomId: string;
  UserId: string;
  StreamType: 0 | 1;
  state: "stopped" | "resumed";
}

/** The engine's DOM events, typed per event (merged into the class below). */
export interface SnapshotEngine {
  /** Adds a listener; `event.detail` is typed by the event's name. Throws (code 30003) for a bad type or listener. */
  addEventListener<K extends keyof SnapshotEngineEventMap>(
    type: K,
    listener: (event: SnapshotEngineEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  /** Removes a listener added with addEventListener. */
  removeEventListener<K extends keyof SnapshotEngineEventMap>(
    type: K,
    listener: (event: SnapshotEngineEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

export interface SnapshotEngineEventMap {
  takesnapshotresult: CustomEvent<SnapshotResult>;
  periodicsnapshot: CustomEvent<PeriodicSnapshotDetail>;
  snapshottaskstop: CustomEvent<TaskStopDetail>;
  snapshotstreamstate: CustomEvent<StreamStateDetail>;
  outboxupload: CustomEvent<OutboxUploadDetail>;
  outboxfull: CustomEvent<OutboxFullDetail>;
  outboxstuck: CustomEvent<OutboxStuckDetail>;
  latestupload: CustomEvent<LatestUploadDetail>;
  /** tracksnap itself failed (a bug): reload the page to use it again. */
  error: CustomEvent<EngineErrorDetail>;
}

export interface EngineErrorDetail {
  code: 30001;
  codeName: "ERR_FATAL";
  message: string;
}
"#;
