// @ts-check
/**
 * HTTP plumbing of the vmbench workload server (see server.mjs): the error type
 * that carries a status, JSON / status-only / error responses, the body reader
 * with its size limit, and header and method checks.
 */
import { log, messageOf } from './log.mjs';

/** @typedef {import('node:http').IncomingMessage} IncomingMessage */
/** @typedef {import('node:http').ServerResponse} ServerResponse */

// ---------------------------------------------------------------------------
// Errors and responses
// ---------------------------------------------------------------------------

export class HttpError extends Error {
  /** @param {number} status @param {string} message @param {Record<string, string>} [headers] */
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

/**
 * @param {ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 */
export function sendJson(res, status, body, headers = {}) {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length, ...headers });
  res.end(data);
}

/**
 * Health endpoints: the status says it all, the body is empty (as the v2 protocol asks).
 * @param {ServerResponse} res @param {boolean} ok
 */
export function sendStatus(res, ok) {
  res.writeHead(ok ? 200 : 503, { 'Content-Length': 0 });
  res.end();
}

/** @param {ServerResponse} res @param {unknown} err */
export function sendError(res, err) {
  if (err instanceof HttpError) {
    sendJson(res, err.status, { error: err.message }, err.headers);
  } else {
    log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    sendJson(res, 500, { error: `internal server error: ${messageOf(err)}` });
  }
}

// ---------------------------------------------------------------------------
// Request bodies and headers
// ---------------------------------------------------------------------------

/**
 * Read the whole body, refusing more than `limit` bytes (413; reading stops),
 * and more than `maxPending` bytes held by all requests together (503): the
 * body's bytes are counted in `pending` while it is read and stay counted
 * until the caller releases them.
 * @param {IncomingMessage} req @param {number} limit
 * @param {{ bytes: number }} pending @param {number} maxPending
 * @returns {Promise<Buffer>}
 */
export function readBody(req, limit, pending = { bytes: 0 }, maxPending = Infinity) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    let settled = false;
    /** @param {Error | null} err @param {Buffer} [body] */
    const settle = (err, body) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      if (err) {
        pending.bytes -= size;
        reject(err);
      } else resolve(/** @type {Buffer} */ (body));
    };
    /** @param {Buffer} chunk */
    const onData = (chunk) => {
      size += chunk.length;
      pending.bytes += chunk.length;
      if (size > limit) {
        req.pause();
        settle(tooLarge(limit));
        return;
      }
      if (pending.bytes > maxPending) {
        req.pause();
        settle(new HttpError(503, `too many request bytes held at once (more than ${maxPending}, VMBENCH_MAX_PENDING_BYTES); retry later`, { 'Retry-After': '1', Connection: 'close' }));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => settle(null, chunks.length === 1 ? /** @type {Buffer} */ (chunks[0]) : Buffer.concat(chunks, size)));
    req.on('error', (err) => settle(err));
    req.on('close', () => settle(new Error('client closed the connection before sending the whole body')));
  });
}

/** @param {number} limit */
export function tooLarge(limit) {
  return new HttpError(413, `request body exceeds the limit of ${limit} bytes (VMBENCH_MAX_BODY_BYTES)`, {
    Connection: 'close',
  });
}

/** @param {IncomingMessage} req @param {string} name @param {string} type */
export function headerHas(req, name, type) {
  const v = req.headers[name];
  return typeof v === 'string' && v.toLowerCase().includes(type);
}

/** @param {IncomingMessage} req @param {string[]} allowed */
export function checkMethod(req, allowed) {
  const m = req.method === 'HEAD' ? 'GET' : req.method ?? '';
  if (!allowed.includes(m)) {
    throw new HttpError(405, `method ${req.method} not allowed here; use ${allowed.join(', ')}`, { Allow: allowed.join(', ') });
  }
}
