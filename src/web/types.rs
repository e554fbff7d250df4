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

/** How this browser takes frames from tracks. */
export type CapturePath = "MediaStreamTrackProcessor" | "video element" | "unsupported";

export interface SnapshotEngineOptions {
  /** Default "jpeg". */
  format?: ImageFormatName;
  /** JPEG quality, a whole number 1..100. Default 85. */
  quality?: number;
  /** Milliseconds a snapshot waits for a frame before failing with 30102. 100..60000, default 3000. */
  frameTimeout?: number;
}

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
  /** Flip left and right. Default false. */
  mirror?: boolean;
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

export interface SnapshotEngineEventMap {
  takesnapshotresult: CustomEvent<SnapshotResult>;
}
"#;
