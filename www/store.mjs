// The demo's object store: s3s-fs (an S3-compatible server from crates.io that checks SigV4
// signatures for real) on loopback, and a SigV4 presigner for PUT URLs and POST policies.
// The dev server (serve.mjs) presigns and sits in front of the store; the page never sees
// the keys below.

import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';

export const ACCESS_KEY = 'tracksnap-dev';
export const SECRET_KEY = 'tracksnap-dev-secret';
export const REGION = 'us-east-1';
export const BUCKET = 'snapshots';

const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const hmac = (key, s) => createHmac('sha256', key).update(s).digest();

/** AWS's URI encoding: everything but A-Z a-z 0-9 - _ . ~ (and / in paths). */
function awsEncode(s, keepSlash = false) {
  return [...Buffer.from(s, 'utf8')]
    .map((b) => {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) return c;
      return `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

function stamp(date) {
  const iso = date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return { amzDate: iso, day: iso.slice(0, 8) };
}

function signingKey(day) {
  return hmac(hmac(hmac(hmac(`AWS4${SECRET_KEY}`, day), REGION), 's3'), 'aws4_request');
}

/**
 * A presigned URL for `method` on `key`, at `host` (the dev server's own host:port: the browser
 * sends there, the dev server passes the request on with the Host header unchanged). With a
 * `contentType`, the Content-Type is signed: the request must send exactly it.
 */
export function presign({ method = 'PUT', host, key, contentType, expires = 300, signedAt = new Date() }) {
  const { amzDate, day } = stamp(signedAt);
  const scope = `${day}/${REGION}/s3/aws4_request`;
  const path = `/${BUCKET}/${awsEncode(key, true)}`;
  const signed = contentType === undefined ? ['host'] : ['content-type', 'host'];
  const query = {
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${ACCESS_KEY}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': String(expires),
    'X-Amz-SignedHeaders': signed.join(';'),
  };
  const canonicalQuery = Object.keys(query)
    .sort()
    .map((k) => `${awsEncode(k)}=${awsEncode(query[k])}`)
    .join('&');
  const canonicalHeaders = signed.map((h) => `${h}:${h === 'host' ? host : contentType}\n`).join('');
  const canonicalRequest = [method, path, canonicalQuery, canonicalHeaders, signed.join(';'), 'UNSIGNED-PAYLOAD'].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const signature = hmac(signingKey(day), toSign).toString('hex');
  return {
    url: `http://${host}${path}?${canonicalQuery}&X-Amz-Signature=${signature}`,
    method,
    headers: contentType === undefined ? {} : { 'content-type': contentType },
  };
}

/** An S3 POST policy for `key`: the form fields to send before the file. */
export function presignPost({ host, key, contentType, size, expires = 300, signedAt = new Date() }) {
  const { amzDate, day } = stamp(signedAt);
  const credential = `${ACCESS_KEY}/${day}/${REGION}/s3/aws4_request`;
  const policy = Buffer.from(JSON.stringify({
    expiration: new Date(signedAt.getTime() + expires * 1000).toISOString(),
    conditions: [
      { bucket: BUCKET },
      { key },
      { 'Content-Type': contentType },
      ['content-length-range', 0, Math.max(size, 1)],
      { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
      { 'x-amz-credential': credential },
      { 'x-amz-date': amzDate },
    ],
  })).toString('base64');
  return {
    url: `http://${host}/${BUCKET}`,
    method: 'POST',
    fields: {
      key,
      'Content-Type': contentType,
      'x-amz-algorithm': 'AWS4-HMAC-SHA256',
      'x-amz-credential': credential,
      'x-amz-date': amzDate,
      policy,
      'x-amz-signature': hmac(signingKey(day), policy).toString('hex'),
    },
  };
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
