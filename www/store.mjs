// The demo's object store: s3s-fs (an S3-compatible server from crates.io that checks SigV4
// signatures for real) on loopback, and presigning with the AWS SDK v3, path-style, as a
// backend does it against any S3-compatible store. The dev server (serve.mjs) presigns and
// sits in front of the store; the page never sees the keys below.

import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

export const ACCESS_KEY = 'tracksnap-dev';
export const SECRET_KEY = 'tracksnap-dev-secret';
export const REGION = 'us-east-1';
export const BUCKET = 'snapshots';

/**
 * An S3 client for the store at `endpoint` (`http://host:port`), path-style. `clockOffsetMs`
 * shifts its clock (a test's already-expired POST policy). Checksums only when S3 requires
 * them: otherwise the SDK signs a CRC32 of an empty body into every presigned URL.
 */
export function storeClient(endpoint, clockOffsetMs = 0) {
  return new S3Client({
    region: REGION,
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    systemClockOffset: clockOffsetMs,
  });
}

/**
 * A presigned PUT of `key` at `endpoint` (the dev server's own origin: the browser sends
 * there, the dev server passes the request on with the Host header unchanged). The
 * Content-Type and Content-Length are signed: the upload must send exactly them.
 */
export async function presignPut({ endpoint, key, contentType, size, expires = 300, signedAt = new Date() }) {
  const command = new PutObjectCommand({ Bucket: BUCKET, Key: key, ContentType: contentType, ContentLength: size });
  const url = await getSignedUrl(storeClient(endpoint), command, {
    expiresIn: expires,
    signingDate: signedAt,
    signableHeaders: new Set(['content-type']),
  });
  return { url, method: 'PUT', headers: { 'content-type': contentType } };
}

/** An S3 POST policy for `key` of exactly `size` bytes: the form fields to send before the file. */
export async function presignPost({ endpoint, key, contentType, size, expires = 300, signedAt = new Date() }) {
  const { url, fields } = await createPresignedPost(storeClient(endpoint, signedAt.getTime() - Date.now()), {
    Bucket: BUCKET,
    Key: key,
    Conditions: [['content-length-range', size, size], { 'Content-Type': contentType }],
    Fields: { 'Content-Type': contentType },
    Expires: expires,
  });
  return { url, method: 'POST', fields };
}

/** An object as the store at `port` holds it: { status, type, bytes }. */
export async function readObject(port, key) {
  try {
    const o = await storeClient(`http://127.0.0.1:${port}`).send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return { status: 200, type: o.ContentType ?? 'application/octet-stream', bytes: Buffer.from(await o.Body.transformToByteArray()) };
  } catch (e) {
    return { status: e.$metadata?.httpStatusCode ?? 502, type: 'application/json', bytes: Buffer.from(JSON.stringify({ error: e.name ?? String(e) })) };
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts s3s-fs on a free loopback port with `dir` as its root (the bucket is a folder in it).
 * Resolves with { port, dir, stop }; rejects when s3s-fs is not installed (scripts/setup.sh
 * installs it) or does not answer.
 */
export async function startStore(dir) {
  await mkdir(`${dir}/${BUCKET}`, { recursive: true });
  const port = await freePort();
  const child = spawn('s3s-fs', [
    '--host', '127.0.0.1', '--port', String(port),
    '--access-key', ACCESS_KEY, '--secret-key', SECRET_KEY, dir,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const failed = new Promise((_, reject) => {
    child.once('error', (e) => reject(new Error(`s3s-fs: ${e.message} (run scripts/setup.sh)`)));
    child.once('exit', (code) => reject(new Error(`s3s-fs exited with ${code}: ${stderr}`)));
  });
  for (let i = 0; i < 100; i++) {
    const up = await Promise.race([
      fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false),
      failed,
    ]);
    if (up) return { port, dir, stop: () => child.kill() };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error(`s3s-fs did not answer on port ${port}`);
}
