/**
 * Preloaded into the loopback S3 server (node --require): checks the signature of presigned
 * requests (SigV4 query auth), which s3rver 3.7 parses and checks for expiry but never verifies,
 * so an altered URL, or one signed for another object or method, is refused as by S3 and R2.
 * Header-signed and unsigned requests pass as s3rver has them (it checks neither).
 */
'use strict';
const { createHash, createHmac, timingSafeEqual } = require('node:crypto');
const S3rver = require('s3rver');
const AWSAccount = require('s3rver/lib/models/account');

const encode = (value) =>
  encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
const hmac = (key, data) => createHmac('sha256', key).update(data, 'utf8').digest();

/** The signature the request should carry, or null when it is not a presigned request we can check. */
function expectedSignature(req) {
  const raw = req.url ?? '/';
  const at = raw.indexOf('?');
  const path = at < 0 ? raw : raw.slice(0, at);
  const pairs = (at < 0 ? '' : raw.slice(at + 1))
    .split('&')
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = decodeURIComponent((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, ' '));
      const value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
      return [name, value];
    });
  const query = new Map(pairs);
  if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return null;
  const credential = query.get('X-Amz-Credential') ?? '';
  const [accessKeyId, day, region, service] = credential.split('/');
  const secret = AWSAccount.registry.get(accessKeyId)?.accessKeys.get(accessKeyId);
  if (!secret || !day || !region) return { signature: '' };
  const signed = (query.get('X-Amz-SignedHeaders') ?? '').split(';');
  const canonical = [
    req.method,
    path,
    pairs
      .filter(([name]) => name !== 'X-Amz-Signature')
      .map(([name, value]) => `${encode(name)}=${encode(value)}`)
      .sort()
      .join('&'),
    signed.map((name) => `${name}:${String(req.headers[name] ?? '').trim()}\n`).join(''),
    signed.join(';'),
    query.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
  ].join('\n');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    query.get('X-Amz-Date') ?? '',
    credential.slice(accessKeyId.length + 1),
    createHash('sha256').update(canonical, 'utf8').digest('hex'),
  ].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service ?? 's3'), 'aws4_request');
  return {
    signature: hmac(key, stringToSign).toString('hex'),
    given: query.get('X-Amz-Signature') ?? '',
  };
}

async function presignedSignatures(ctx, next) {
  const expected = expectedSignature(ctx.req);
  if (expected !== null) {
    const given = Buffer.from(expected.given ?? '');
    const wanted = Buffer.from(expected.signature);
    if (wanted.length === 0 || given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      // Read what the client sends first, so it gets the answer rather than a closed socket.
      await new Promise((resolve) => {
        ctx.req.on('end', resolve).on('error', resolve).resume();
      });
      ctx.status = 403;
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>' +
        '<Message>The request signature we calculated does not match the signature you provided.</Message></Error>';
      return;
    }
  }
  return next();
}

const callback = S3rver.prototype.callback;
S3rver.prototype.callback = function () {
  if (!this.middleware.includes(presignedSignatures)) this.middleware.unshift(presignedSignatures);
  return callback.call(this);
};
