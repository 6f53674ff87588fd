// @ts-check
/**
 * vmbench workload server: serves one ONNX model over the KServe / Triton Open
 * Inference Protocol v2 (HTTP/REST), identically in a container and in a VM.
 *
 * Plain JavaScript, node builtins + onnxruntime-node only; copied verbatim, with
 * the other *.mjs modules of this folder, to /app/ (next to /app/node_modules) and
 * run as `node /app/server.mjs`, often as PID 1. Configured only through the
 * environment (see src/workload/contract.ts, SERVER_ENV):
 *
 *   VMBENCH_HOST            address to bind               (default 127.0.0.1)
 *   VMBENCH_PORT            port                          (default 8080)
 *   VMBENCH_THREADS         onnxruntime intra-op threads  (default 1)
 *   VMBENCH_MODEL           path of the .onnx file        (default /app/model.onnx)
 *   VMBENCH_MODEL_NAME      name in /v2/models/{name}     (default model)
 *   VMBENCH_MAX_BODY_BYTES  request body limit            (default 64 MiB)
 *   VMBENCH_DEVICE          cpu | gpu (CUDA execution provider, see gpu.mjs)  (default cpu)
 *   VMBENCH_FALLBACK        cpu: run on CPU when the GPU session fails (default: fail)
 *   VMBENCH_UID, VMBENCH_GID  started as root (a VM's init), drop to this uid/gid before serving
 *   VMBENCH_MAX_QUEUE       inferences waiting at most    (default 64; more: 503 with Retry-After)
 *   VMBENCH_MAX_PENDING_BYTES  request bodies held at once (default 256 MiB; more: 503)
 *   VMBENCH_MAX_CONNECTIONS open connections at most      (default 256; more are closed at once)
 *   VMBENCH_HEADERS_TIMEOUT_MS  a client must send its headers within this (default 10000)
 *   VMBENCH_REQUEST_TIMEOUT_MS  … and its whole request within this (default 60000)
 *
 * Every bound is there so that a misbehaving client — one that never finishes
 * its headers or body, opens thousands of idle connections, or floods the
 * queue — gets an answer or a closed connection in bounded time, and cannot
 * make the server's memory grow without bound while others are served.
 *
 * Endpoints:
 *   GET  /v2/health/live              200 as soon as the server listens (empty body)
 *   GET  /v2/health/ready             200 once the model is loaded and warmed up, else 503
 *   GET  /v2                          server metadata
 *   GET  /v2/models/{name}            model metadata (read from the onnxruntime session; -1 = dynamic dim)
 *   GET  /v2/models/{name}/ready      200 / 503
 *   POST /v2/models/{name}/infer      v2 JSON request, or a raw little-endian float32 body with
 *                                     Content-Type: application/octet-stream (single-input models;
 *                                     the batch is inferred from the length, or give X-Input-Shape: 2,3,224,224).
 *                                     Response: v2 JSON, or with Accept: application/octet-stream the first
 *                                     requested output's raw little-endian bytes, shape in X-Output-Shape.
 *   GET  /vmbench/info                ServerInfo (rootfs digest, versions, pid, model, threads, device and GPU timings)
 *   GET  /vmbench/isolation           what the server sees of its isolation (isolation.mjs)
 *   GET  /vmbench/syscalls?calls=N    µs per system call, timed in-process (isolation.mjs)
 *
 * Errors are JSON {"error": "..."} with 400/404/405/413/503 (500 for inference failures).
 *
 * Readiness phases go to stdout, one line each: VMBENCH_PHASE <phase> <epoch-ms>
 *   process_start  when the node process started (performance.timeOrigin)
 *   listening      the HTTP server accepts connections (health/live answers 200)
 *   model_loaded   the onnxruntime session exists
 *   gpu_context    (device gpu) the CUDA context exists and the CUDA provider is loaded (gpu.mjs)
 *   ready          one warm-up inference has run (batch 1 of zeros, when the input shape allows);
 *                  health/ready and inference answer from here on
 * Other diagnostics go to stderr.
 *
 * Inference runs in one worker thread (infer-worker.mjs), one request at a time,
 * in arrival order. A crashed worker is restarted; its in-flight request gets a 500.
 * SIGTERM / SIGINT close the server and exit 0 within about a second.
 *
 * Modules (relative imports; all run from /app):
 *   server.mjs         configuration, routing, request handling, shutdown (this file, the entry point)
 *   engine.mjs         the inference engine: worker, warm-up, FIFO queue, v2 datatypes
 *   gpu.mjs            the session on CPU or on the GPU (CUDA provider), fallback, GPU cold-start timings
 *   infer-worker.mjs   the worker thread that owns the onnxruntime session
 *   request-codec.mjs  JSON / raw request decoding, shape checks, output selection, JSON output data
 *   http-util.mjs      HttpError, JSON / status / error responses, body reader, header and method checks
 *   isolation.mjs      isolation facts and the system-call microbenchmark
 *   log.mjs            VMBENCH_PHASE lines and stderr diagnostics
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { Engine, v2Tensor, v2Type } from './engine.mjs';
import { checkMethod, headerHas, HttpError, readBody, sendError, sendJson, sendStatus, tooLarge } from './http-util.mjs';
import { log, messageOf, phase, SERVER_NAME } from './log.mjs';
import { isolationFacts, timeSyscalls } from './isolation.mjs';
import { decodeJsonRequest, decodeRawRequest, jsonData } from './request-codec.mjs';

/** @typedef {import('./engine.mjs').Feed} Feed */
/** @typedef {import('./engine.mjs').OutTensor} OutTensor */

const PROCESS_START_MS = Math.round(performance.timeOrigin);
const SERVER_VERSION = '1';
const DIGEST_FILE = '/etc/vmbench/rootfs.sha256';
const MIB = 1024 * 1024;

phase('process_start', PROCESS_START_MS);

// Signal handlers first: as PID 1 in a container, a signal without a handler is ignored,
// and one that arrives before they exist would otherwise kill us with a non-zero status.
/** @type {(signal: NodeJS.Signals) => void} */
let onSignal = () => process.exit(0); // nothing to clean up yet
process.on('SIGTERM', () => onSignal('SIGTERM'));
process.on('SIGINT', () => onSignal('SIGINT'));

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

/**
 * @typedef {{ host: string, port: number, threads: number, modelPath: string, modelName: string, maxBodyBytes: number, maxQueue: number, maxPendingBytes: number, maxConnections: number, headersTimeoutMs: number, requestTimeoutMs: number, device: 'cpu' | 'gpu', fallback: boolean }} Config
 */

/**
 * @param {NodeJS.ProcessEnv} env
 * @returns {Config}
 */
function readConfig(env) {
  /** @param {string} key @param {number} def @param {number} min @param {number} max */
  const int = (key, def, min, max) => {
    const raw = env[key];
    if (raw === undefined || raw.trim() === '') return def;
    const v = Number(raw.trim());
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new Error(`${key}=${JSON.stringify(raw)}: expected an integer in [${min}, ${max}]`);
    }
    return v;
  };
  /**
   * @template {string} T
   * @param {string} key @param {T[]} allowed @param {T} def
   * @returns {T}
   */
  const oneOf = (key, allowed, def) => {
    const raw = (env[key] ?? '').trim();
    if (raw === '') return def;
    const hit = allowed.find((a) => a === raw);
    if (hit === undefined) throw new Error(`${key}=${JSON.stringify(raw)}: expected one of ${allowed.join(', ')}`);
    return hit;
  };
  /** @param {string} key @param {string} def */
  const str = (key, def) => {
    const raw = env[key];
    return raw === undefined || raw.trim() === '' ? def : raw.trim();
  };
  return {
    host: str('VMBENCH_HOST', '127.0.0.1'),
    port: int('VMBENCH_PORT', 8080, 0, 65535),
    threads: int('VMBENCH_THREADS', 1, 1, 1024),
    modelPath: str('VMBENCH_MODEL', '/app/model.onnx'),
    modelName: str('VMBENCH_MODEL_NAME', 'model'),
    maxBodyBytes: int('VMBENCH_MAX_BODY_BYTES', 64 * MIB, 1, 1024 * MIB),
    device: oneOf('VMBENCH_DEVICE', ['cpu', 'gpu'], 'cpu'),
    fallback: oneOf('VMBENCH_FALLBACK', ['cpu', 'none'], 'none') === 'cpu',
    maxQueue: int('VMBENCH_MAX_QUEUE', 64, 1, 100_000),
    maxPendingBytes: int('VMBENCH_MAX_PENDING_BYTES', 256 * MIB, 1, 16 * 1024 * MIB),
    maxConnections: int('VMBENCH_MAX_CONNECTIONS', 256, 1, 100_000),
    headersTimeoutMs: int('VMBENCH_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
    requestTimeoutMs: int('VMBENCH_REQUEST_TIMEOUT_MS', 60_000, 100, 3_600_000),
  };
}

/** @type {Config} */
let config;
try {
  config = readConfig(process.env);
} catch (err) {
  log(`bad configuration: ${messageOf(err)}`);
  process.exit(2);
}

dropPrivileges(process.env);

const engine = new Engine(config.modelPath, config.threads, { device: config.device, fallback: config.fallback }, config.maxQueue);
/** Bytes of request bodies being read or waiting for inference right now (bounded by maxPendingBytes). */
const pending = { bytes: 0 };

/**
 * Started as root with VMBENCH_UID/GID set (a VM's init: a container starts
 * the server as its unprivileged user directly), become that user before the
 * model, the worker or the socket exist. Refuses to serve on as root if it cannot.
 * @param {NodeJS.ProcessEnv} env
 */
function dropPrivileges(env) {
  const uid = env.VMBENCH_UID;
  if (uid === undefined || uid === '' || process.getuid?.() !== 0) return;
  const gid = Number(env.VMBENCH_GID ?? uid);
  try {
    process.setgroups?.([]);
    process.setgid?.(gid);
    process.setuid?.(Number(uid));
  } catch (err) {
    log(`cannot drop privileges to uid ${uid}: ${messageOf(err)}`);
    process.exit(2);
  }
  log(`running as uid ${process.getuid?.()} gid ${process.getgid?.()}`);
}

function readRootfsDigest() {
  try {
    const v = readFileSync(DIGEST_FILE, 'utf8').trim();
    return v === '' ? null : v;
  } catch {
    return null;
  }
}

const rootfsDigest = readRootfsDigest();

// ---------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------

/** @param {string} name */
function checkModel(name) {
  if (name !== config.modelName) {
    throw new HttpError(404, `unknown model '${name}'; this server serves '${config.modelName}'`);
  }
}

function requireMeta() {
  if (engine.state !== 'ready' || engine.meta === null) throw new HttpError(503, 'the model is not ready yet');
  return engine.meta;
}

/** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
async function handle(req, res) {
  const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
  /** @type {string[]} */
  let segs;
  try {
    segs = rawPath
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    throw new HttpError(400, `malformed URL path: ${rawPath}`);
  }
  const path = `/${segs.join('/')}`;

  if (path === '/v2/health/live') {
    checkMethod(req, ['GET']);
    return sendStatus(res, true);
  }
  if (path === '/v2/health/ready') {
    checkMethod(req, ['GET']);
    return sendStatus(res, engine.state === 'ready');
  }
  if (path === '/v2') {
    checkMethod(req, ['GET']);
    return sendJson(res, 200, { name: SERVER_NAME, version: SERVER_VERSION, extensions: [] });
  }
  if (path === '/vmbench/info') {
    checkMethod(req, ['GET']);
    return sendJson(res, 200, {
      rootfsDigest,
      node: process.version,
      onnxruntime: engine.ortVersion,
      pid: process.pid,
      model: {
        name: config.modelName,
        path: config.modelPath,
        inputs: (engine.meta?.inputs ?? []).map((m) => m.name),
        outputs: (engine.meta?.outputs ?? []).map((m) => m.name),
      },
      threads: config.threads,
      device: engine.device,
      requestedDevice: config.device,
      deviceReason: engine.deviceReason,
      gpuTimings: engine.gpuTimings,
    });
  }
  if (path === '/vmbench/isolation') {
    checkMethod(req, ['GET']);
    return sendJson(res, 200, isolationFacts());
  }
  if (path === '/vmbench/syscalls') {
    checkMethod(req, ['GET']);
    return sendJson(res, 200, timeSyscalls(new URL(req.url ?? '/', 'http://127.0.0.1')));
  }
  if (segs[0] === 'v2' && segs[1] === 'models' && segs.length >= 3 && segs.length <= 4) {
    const name = /** @type {string} */ (segs[2]);
    const action = segs[3];
    if (action === undefined) {
      checkMethod(req, ['GET']);
      checkModel(name);
      const meta = requireMeta();
      return sendJson(res, 200, {
        name: config.modelName,
        platform: 'onnxruntime_onnx',
        inputs: meta.inputs.map(v2Tensor),
        outputs: meta.outputs.map(v2Tensor),
      });
    }
    if (action === 'ready') {
      checkMethod(req, ['GET']);
      checkModel(name);
      return sendStatus(res, engine.state === 'ready');
    }
    if (action === 'infer') {
      checkMethod(req, ['POST']);
      checkModel(name);
      return infer(req, res);
    }
  }
  throw new HttpError(404, `unknown route: ${req.method} ${path}`);
}

/** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
async function infer(req, res) {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > config.maxBodyBytes) throw tooLarge(config.maxBodyBytes);
  const meta = requireMeta();
  const body = await readBody(req, config.maxBodyBytes, pending, config.maxPendingBytes);
  res.once('close', () => (pending.bytes -= body.length));
  const raw = headerHas(req, 'content-type', 'application/octet-stream');
  /** @type {string | undefined} */
  let id;
  /** @type {Feed[]} */
  let feeds;
  /** @type {string[] | null} */
  let outputs = null;
  if (raw) {
    feeds = [decodeRawRequest(body, req, meta, config.maxBodyBytes)];
  } else {
    ({ id, feeds, outputs } = decodeJsonRequest(body, meta, config.maxBodyBytes));
  }
  const result = await engine.run(feeds, outputs);
  if (headerHas(req, 'accept', 'application/octet-stream')) {
    const t = /** @type {OutTensor} */ (result.outputs[0]);
    const d = t.data;
    if (!ArrayBuffer.isView(d)) throw new HttpError(400, `output '${t.name}' (${v2Type(t.type)}) has no raw binary form; ask for JSON`);
    const bytes = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': bytes.length,
      'X-Output-Name': t.name,
      'X-Output-Shape': t.dims.join(','),
      'X-Output-Datatype': v2Type(t.type),
      'X-Inference-Ms': result.runMs.toFixed(3),
      'X-Device': engine.device,
    });
    res.end(bytes);
    return;
  }
  sendJson(
    res,
    200,
    {
      model_name: config.modelName,
      ...(id === undefined ? {} : { id }),
      outputs: result.outputs.map((t) => ({ name: t.name, shape: t.dims, datatype: v2Type(t.type), data: jsonData(t) })),
    },
    { 'X-Inference-Ms': result.runMs.toFixed(3), 'X-Device': engine.device },
  );
}

// ---------------------------------------------------------------------------
// Server lifecycle
// ---------------------------------------------------------------------------

let activeRequests = 0;
let shuttingDown = false;

const server = http.createServer(
  {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    // How often node looks for requests past those timeouts (its default, 30 s, would let a stalled client sit that long).
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, config.headersTimeoutMs / 2)),
  },
  (req, res) => {
  activeRequests++;
  res.once('close', () => activeRequests--);
  handle(req, res).catch((err) => {
    try {
      sendError(res, err);
    } catch (e) {
      log(`cannot send an error response: ${messageOf(e)}`);
      res.destroy();
    }
  });
  },
);

server.on('clientError', (err, socket) => {
  const code = /** @type {NodeJS.ErrnoException} */ (err).code;
  if (code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const body = JSON.stringify({ error: `malformed HTTP request: ${err.message}` });
  socket.end(
    `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
});

server.maxConnections = config.maxConnections;
// A connection that never sends a byte holds a slot of maxConnections and no request timeout
// applies to it yet: it gets the headers timeout from the moment it connects.
/** @type {WeakMap<import('node:net').Socket, NodeJS.Timeout>} */
const silentSockets = new WeakMap();
server.on('connection', (socket) => {
  const silent = setTimeout(() => socket.destroy(), config.headersTimeoutMs);
  silent.unref();
  silentSockets.set(socket, silent);
  socket.once('close', () => clearTimeout(silent));
});
server.on('request', (req) => clearTimeout(silentSockets.get(req.socket)));
// Idle keep-alive connections go after 5 s (node's default, said here on purpose).
server.keepAliveTimeout = 5_000;

server.on('error', (err) => {
  log(`cannot listen on ${config.host}:${config.port}: ${err.message}`);
  process.exit(1);
});

server.listen({ host: config.host, port: config.port }, () => {
  phase('listening');
  const addr = server.address();
  const where = addr !== null && typeof addr === 'object' ? `${addr.address}:${addr.port}` : String(addr);
  log(`listening on ${where}; model ${config.modelName} from ${config.modelPath}, ${config.threads} thread(s)`);
  engine.start();
});

/** @param {NodeJS.Signals} signal */
async function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`${signal}: shutting down`);
  const hardStop = setTimeout(() => process.exit(0), 1500);
  hardStop.unref();
  server.close();
  server.closeIdleConnections();
  // Let in-flight requests finish briefly, then cut what remains.
  const deadline = Date.now() + 500;
  while (activeRequests > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  server.closeAllConnections();
  await Promise.race([engine.stop().catch(() => {}), new Promise((r) => setTimeout(r, 300))]);
  process.exit(0);
}

onSignal = (signal) => void shutdown(signal);
process.on('uncaughtException', (err) => log(`uncaught exception (continuing): ${err.stack ?? err.message}`));
process.on('unhandledRejection', (err) => log(`unhandled rejection (continuing): ${messageOf(err)}`));
