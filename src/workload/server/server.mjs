// @ts-check
/**
 * vmbench workload server: serves one ONNX model over the KServe / Triton Open
 * Inference Protocol v2 (HTTP/REST), identically in a container and in a VM.
 *
 * Plain JavaScript, node builtins + onnxruntime-node only; copied verbatim to
 * /app/server.mjs (next to /app/infer-worker.mjs and /app/node_modules) and run
 * as `node /app/server.mjs`, often as PID 1. Configured only through the
 * environment (see src/workload/contract.ts, SERVER_ENV):
 *
 *   VMBENCH_HOST            address to bind               (default 127.0.0.1)
 *   VMBENCH_PORT            port                          (default 8080)
 *   VMBENCH_THREADS         onnxruntime intra-op threads  (default 1)
 *   VMBENCH_MODEL           path of the .onnx file        (default /app/model.onnx)
 *   VMBENCH_MODEL_NAME      name in /v2/models/{name}     (default model)
 *   VMBENCH_MAX_BODY_BYTES  request body limit            (default 64 MiB)
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
 *   GET  /vmbench/info                ServerInfo (rootfs digest, versions, pid, model, threads)
 *
 * Errors are JSON {"error": "..."} with 400/404/405/413/503 (500 for inference failures).
 *
 * Readiness phases go to stdout, one line each: VMBENCH_PHASE <phase> <epoch-ms>
 *   process_start  when the node process started (performance.timeOrigin)
 *   listening      the HTTP server accepts connections (health/live answers 200)
 *   model_loaded   the onnxruntime session exists
 *   ready          one warm-up inference has run (batch 1 of zeros, when the input shape allows);
 *                  health/ready and inference answer from here on
 * Other diagnostics go to stderr.
 *
 * Inference runs in one worker thread (infer-worker.mjs), one request at a time,
 * in arrival order. A crashed worker is restarted; its in-flight request gets a 500.
 * SIGTERM / SIGINT close the server and exit 0 within about a second.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const PROCESS_START_MS = Math.round(performance.timeOrigin);
const SERVER_NAME = 'vmbench-server';
const SERVER_VERSION = '1';
const DIGEST_FILE = '/etc/vmbench/rootfs.sha256';
const MIB = 1024 * 1024;

/** @param {string} phase @param {number} [ms] */
function phase(phase, ms = Date.now()) {
  process.stdout.write(`VMBENCH_PHASE ${phase} ${ms}\n`);
}

/** @param {string} msg */
function log(msg) {
  process.stderr.write(`${SERVER_NAME}: ${msg}\n`);
}

/** @param {unknown} err */
function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

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
 * @typedef {{ host: string, port: number, threads: number, modelPath: string, modelName: string, maxBodyBytes: number }} Config
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

/** The onnxruntime-node version, from its package.json (the worker reports it too). */
function ortVersionFromPackage() {
  try {
    let dir = dirname(fileURLToPath(import.meta.resolve('onnxruntime-node')));
    for (let i = 0; i < 6; i++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
        if (pkg.name === 'onnxruntime-node' && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // not here; go up
      }
      dir = dirname(dir);
    }
  } catch {
    // unresolvable: the worker will report it, or the load fails loudly
  }
  return 'unknown';
}

function readRootfsDigest() {
  try {
    const v = readFileSync(DIGEST_FILE, 'utf8').trim();
    return v === '' ? null : v;
  } catch {
    return null;
  }
}

let ortVersion = ortVersionFromPackage();
const rootfsDigest = readRootfsDigest();

// ---------------------------------------------------------------------------
// Errors and responses
// ---------------------------------------------------------------------------

class HttpError extends Error {
  /** @param {number} status @param {string} message @param {Record<string, string>} [headers] */
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

/**
 * @param {http.ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 */
function sendJson(res, status, body, headers = {}) {
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
 * @param {http.ServerResponse} res @param {boolean} ok
 */
function sendStatus(res, ok) {
  res.writeHead(ok ? 200 : 503, { 'Content-Length': 0 });
  res.end();
}

/** @param {http.ServerResponse} res @param {unknown} err */
function sendError(res, err) {
  if (err instanceof HttpError) {
    sendJson(res, err.status, { error: err.message }, err.headers);
  } else {
    log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    sendJson(res, 500, { error: `internal server error: ${messageOf(err)}` });
  }
}

// ---------------------------------------------------------------------------
// Model metadata and the inference engine (one worker, FIFO, one at a time)
// ---------------------------------------------------------------------------

/** @typedef {{ name: string, isTensor: boolean, type: string, shape: (number | string)[] }} IOMeta */
/** @typedef {{ name: string, dims: number[], data: Float32Array }} Feed */
/** @typedef {{ name: string, type: string, dims: number[], data: ArrayLike<unknown> & { buffer?: ArrayBufferLike, byteOffset?: number, byteLength?: number } }} OutTensor */
/**
 * @typedef {{ id: number, feeds: Feed[], outputs: string[] | null,
 *   resolve: (r: { outputs: OutTensor[], runMs: number }) => void, reject: (e: Error) => void }} Job
 */

/** onnxruntime tensor type → v2 datatype */
const V2_TYPES = /** @type {Record<string, string>} */ ({
  float32: 'FP32',
  float64: 'FP64',
  float16: 'FP16',
  bfloat16: 'BF16',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  bool: 'BOOL',
  string: 'BYTES',
});

/** @param {string} t */
function v2Type(t) {
  return V2_TYPES[t] ?? t.toUpperCase();
}

/** @param {IOMeta} m */
function v2Tensor(m) {
  return { name: m.name, datatype: v2Type(m.type), shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
}

class Engine {
  /** @param {string} modelPath @param {number} threads */
  constructor(modelPath, threads) {
    this.modelPath = modelPath;
    this.threads = threads;
    /** @type {'loading' | 'loaded' | 'ready'} */
    this.state = 'loading';
    /** @type {{ inputs: IOMeta[], outputs: IOMeta[] } | null} */
    this.meta = null;
    /** @type {Job[]} */
    this.queue = [];
    /** @type {Job | null} */
    this.inflight = null;
    /** @type {Worker | null} */
    this.worker = null;
    this.nextId = 1;
    this.restarts = 0;
    this.everLoaded = false;
    this.stopping = false;
  }

  start() {
    const worker = new Worker(new URL('./infer-worker.mjs', import.meta.url), {
      workerData: { modelPath: this.modelPath, threads: this.threads },
    });
    this.worker = worker;
    worker.on('message', (msg) => this.onMessage(worker, msg));
    worker.on('error', (err) => log(`inference worker error: ${err.stack ?? err.message}`));
    worker.on('exit', (code) => this.onExit(worker, code));
  }

  /** @param {Worker} worker @param {any} msg */
  onMessage(worker, msg) {
    if (worker !== this.worker || msg === null || typeof msg !== 'object') return;
    switch (msg.type) {
      case 'loaded': {
        this.meta = { inputs: msg.inputs, outputs: msg.outputs };
        if (typeof msg.ortVersion === 'string' && msg.ortVersion !== 'unknown') ortVersion = msg.ortVersion;
        this.state = 'loaded';
        if (!this.everLoaded) {
          this.everLoaded = true;
          phase('model_loaded');
          log(`model loaded in ${Math.round(msg.loadMs)} ms: ${this.describe()}`);
          void this.warmUp().finally(() => {
            this.state = 'ready';
            phase('ready');
            this.pump();
          });
        } else {
          log(`inference worker restarted (restart #${this.restarts}); model reloaded`);
          this.state = 'ready';
          this.pump();
        }
        return;
      }
      case 'load_error':
        log(`cannot load model ${this.modelPath}: ${msg.message}`);
        this.stopping = true;
        process.exit(1);
        return;
      case 'result':
      case 'error': {
        const job = this.inflight;
        if (job === null || job.id !== msg.id) return;
        this.inflight = null;
        if (msg.type === 'result') job.resolve({ outputs: msg.outputs, runMs: msg.runMs });
        else job.reject(new HttpError(500, `inference failed: ${msg.message}`));
        this.pump();
        return;
      }
    }
  }

  /** @param {Worker} worker @param {number} code */
  onExit(worker, code) {
    if (worker !== this.worker || this.stopping) return;
    this.worker = null;
    this.state = 'loading';
    const job = this.inflight;
    this.inflight = null;
    if (job !== null) job.reject(new HttpError(500, `inference worker crashed (exit code ${code}); it is being restarted`));
    this.restarts++;
    const delay = Math.min(50 * 2 ** Math.min(this.restarts - 1, 6), 3000);
    log(`inference worker exited with code ${code}; restarting in ${delay} ms`);
    setTimeout(() => {
      if (!this.stopping) this.start();
    }, delay).unref();
  }

  describe() {
    if (this.meta === null) return '(not loaded)';
    /** @param {IOMeta} m */
    const d = (m) => `${m.name} ${m.type} [${m.shape.join(',')}]`;
    return `inputs ${this.meta.inputs.map(d).join('; ')}; outputs ${this.meta.outputs.map(d).join('; ')}`;
  }

  /** One batch-1 inference of zeros, when every input is float32 with static non-batch dims. */
  async warmUp() {
    const inputs = this.meta?.inputs ?? [];
    /** @type {Feed[]} */
    const feeds = [];
    for (const m of inputs) {
      const rest = m.shape.slice(1);
      if (!m.isTensor || m.type !== 'float32' || m.shape.length === 0 || !rest.every((d) => typeof d === 'number')) {
        log(`no warm-up inference: cannot make an input for ${m.name} ${m.type} [${m.shape.join(',')}]`);
        return;
      }
      const dims = [typeof m.shape[0] === 'number' ? m.shape[0] : 1, .../** @type {number[]} */ (rest)];
      feeds.push({ name: m.name, dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) });
    }
    try {
      const r = await this.run(feeds, null);
      log(`warm-up inference: ${r.runMs.toFixed(1)} ms`);
    } catch (err) {
      log(`warm-up inference failed (serving anyway): ${messageOf(err)}`);
    }
  }

  /**
   * Queue an inference; resolves with the outputs.
   * @param {Feed[]} feeds @param {string[] | null} outputs
   * @returns {Promise<{ outputs: OutTensor[], runMs: number }>}
   */
  run(feeds, outputs) {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, feeds, outputs, resolve, reject });
      this.pump();
    });
  }

  pump() {
    if (this.inflight !== null || this.state === 'loading' || this.worker === null) return;
    const job = this.queue.shift();
    if (job === undefined) return;
    this.inflight = job;
    try {
      this.worker.postMessage(
        { type: 'infer', id: job.id, feeds: job.feeds, outputs: job.outputs },
        job.feeds.map((f) => /** @type {ArrayBuffer} */ (f.data.buffer)),
      );
    } catch (err) {
      this.inflight = null;
      job.reject(new HttpError(500, `cannot hand the request to the inference worker: ${messageOf(err)}`));
      this.pump();
    }
  }

  async stop() {
    this.stopping = true;
    const w = this.worker;
    this.worker = null;
    for (const job of this.queue.splice(0)) job.reject(new HttpError(503, 'server is shutting down'));
    if (w !== null) await w.terminate();
  }
}

// ---------------------------------------------------------------------------
// Request decoding
// ---------------------------------------------------------------------------

/**
 * Read the whole body, refusing more than `limit` bytes (413; reading stops).
 * @param {http.IncomingMessage} req @param {number} limit
 * @returns {Promise<Buffer>}
 */
function readBody(req, limit) {
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
      if (err) reject(err);
      else resolve(/** @type {Buffer} */ (body));
    };
    /** @param {Buffer} chunk */
    const onData = (chunk) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        settle(tooLarge(limit));
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
function tooLarge(limit) {
  return new HttpError(413, `request body exceeds the limit of ${limit} bytes (VMBENCH_MAX_BODY_BYTES)`, {
    Connection: 'close',
  });
}

/** @param {unknown} v @returns {v is Record<string, unknown>} */
function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** @param {readonly number[]} dims */
function product(dims) {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/**
 * Check a requested shape against the model's declared input shape.
 * @param {IOMeta} m @param {unknown} shape
 * @returns {number[]}
 */
function checkShape(m, shape) {
  if (!Array.isArray(shape) || shape.length === 0) {
    throw new HttpError(400, `input '${m.name}': 'shape' must be a non-empty array of integers`);
  }
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1) {
      throw new HttpError(400, `input '${m.name}': shape ${JSON.stringify(shape)} must contain positive integers`);
    }
  }
  const dims = /** @type {number[]} */ (shape);
  const want = m.shape.map((d) => (typeof d === 'number' && d >= 0 ? String(d) : typeof d === 'string' && d !== '' ? d : '?'));
  if (m.shape.length > 0) {
    if (dims.length !== m.shape.length) {
      throw new HttpError(400, `input '${m.name}': shape [${dims.join(',')}] has rank ${dims.length}; the model expects [${want.join(',')}]`);
    }
    m.shape.forEach((d, i) => {
      if (typeof d === 'number' && d >= 0 && dims[i] !== d) {
        throw new HttpError(400, `input '${m.name}': shape [${dims.join(',')}] does not match the model's [${want.join(',')}] at dimension ${i}`);
      }
    });
  }
  // Every value takes at least one byte of body, so a larger shape cannot be satisfied:
  // refuse it before allocating anything.
  const n = product(dims);
  if (!Number.isSafeInteger(n) || n > config.maxBodyBytes) {
    throw new HttpError(400, `input '${m.name}': shape [${dims.join(',')}] is larger than any body this server accepts`);
  }
  return dims;
}

/**
 * Flatten (possibly nested) JSON tensor data into `out`; returns the element count
 * seen (stops counting at out.length + 1).
 * @param {unknown[]} data @param {Float32Array} out @param {string} name
 */
function flattenInto(data, out, name) {
  let n = 0;
  /** @param {unknown[]} arr @param {number} depth */
  const walk = (arr, depth) => {
    if (depth > 32) throw new HttpError(400, `input '${name}': 'data' is nested too deeply`);
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      if (typeof v === 'number') {
        if (n < out.length) out[n] = v;
        n++;
        if (n > out.length) return;
      } else if (Array.isArray(v)) {
        walk(v, depth + 1);
        if (n > out.length) return;
      } else {
        throw new HttpError(400, `input '${name}': 'data' must contain only numbers for FP32, found ${v === null ? 'null' : typeof v}`);
      }
    }
  };
  walk(data, 0);
  return n;
}

/**
 * @param {Buffer} body @param {{ inputs: IOMeta[], outputs: IOMeta[] }} meta
 * @returns {{ id: string | undefined, feeds: Feed[], outputs: string[] | null }}
 */
function decodeJsonRequest(body, meta) {
  /** @type {unknown} */
  let doc;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `malformed JSON body: ${messageOf(err)}`);
  }
  if (!isObject(doc)) throw new HttpError(400, 'the request body must be a JSON object (a v2 inference request)');
  if (doc.id !== undefined && typeof doc.id !== 'string') throw new HttpError(400, "'id' must be a string");
  if (!Array.isArray(doc.inputs) || doc.inputs.length === 0) {
    throw new HttpError(400, "'inputs' must be a non-empty array of {name, shape, datatype, data}");
  }
  const byName = new Map(meta.inputs.map((m) => [m.name, m]));
  /** @type {Map<string, Feed>} */
  const feeds = new Map();
  for (const [k, input] of doc.inputs.entries()) {
    if (!isObject(input)) throw new HttpError(400, `inputs[${k}] must be an object`);
    if (typeof input.name !== 'string') throw new HttpError(400, `inputs[${k}].name must be a string`);
    const m = byName.get(input.name);
    if (m === undefined) {
      throw new HttpError(400, `unknown input '${input.name}'; the model's inputs are: ${meta.inputs.map((i) => i.name).join(', ')}`);
    }
    if (feeds.has(m.name)) throw new HttpError(400, `input '${m.name}' is given twice`);
    if (m.type !== 'float32' || !m.isTensor) {
      throw new HttpError(400, `input '${m.name}' is ${v2Type(m.type)}; this server only feeds FP32 inputs`);
    }
    if (input.datatype !== 'FP32') {
      throw new HttpError(400, `input '${m.name}': datatype ${JSON.stringify(input.datatype)} does not match the model's "FP32"`);
    }
    const dims = checkShape(m, input.shape);
    if (!Array.isArray(input.data)) throw new HttpError(400, `input '${m.name}': 'data' must be an array of numbers`);
    const data = new Float32Array(product(dims));
    const count = flattenInto(input.data, data, m.name);
    if (count !== data.length) {
      throw new HttpError(
        400,
        `input '${m.name}': shape [${dims.join(',')}] needs ${data.length} values, 'data' has ${count > data.length ? 'more' : count}`,
      );
    }
    feeds.set(m.name, { name: m.name, dims, data });
  }
  const missing = meta.inputs.filter((m) => !feeds.has(m.name)).map((m) => m.name);
  if (missing.length > 0) throw new HttpError(400, `missing input(s): ${missing.join(', ')}`);
  return { id: doc.id, feeds: [...feeds.values()], outputs: requestedOutputs(doc.outputs, meta) };
}

/**
 * @param {unknown} outputs @param {{ outputs: IOMeta[] }} meta
 * @returns {string[] | null}
 */
function requestedOutputs(outputs, meta) {
  if (outputs === undefined || outputs === null) return null;
  if (!Array.isArray(outputs)) throw new HttpError(400, "'outputs' must be an array of {name}");
  const known = new Set(meta.outputs.map((o) => o.name));
  /** @type {string[]} */
  const names = [];
  for (const [k, o] of outputs.entries()) {
    if (!isObject(o) || typeof o.name !== 'string') throw new HttpError(400, `outputs[${k}].name must be a string`);
    if (!known.has(o.name)) {
      throw new HttpError(400, `unknown output '${o.name}'; the model's outputs are: ${meta.outputs.map((x) => x.name).join(', ')}`);
    }
    if (!names.includes(o.name)) names.push(o.name);
  }
  return names.length === 0 ? null : names;
}

/**
 * A raw little-endian float32 body for a single-input model.
 * @param {Buffer} body @param {http.IncomingMessage} req @param {{ inputs: IOMeta[] }} meta
 * @returns {Feed}
 */
function decodeRawRequest(body, req, meta) {
  if (meta.inputs.length !== 1) {
    throw new HttpError(400, `a raw application/octet-stream body needs a single-input model; this one has ${meta.inputs.length} inputs (use JSON)`);
  }
  const m = /** @type {IOMeta} */ (meta.inputs[0]);
  if (m.type !== 'float32' || !m.isTensor) throw new HttpError(400, `input '${m.name}' is ${v2Type(m.type)}; raw bodies are FP32 only`);
  if (body.length === 0) throw new HttpError(400, 'empty request body');
  if (body.length % 4 !== 0) {
    throw new HttpError(400, `raw body is ${body.length} bytes, not a whole number of float32 values`);
  }
  /** @type {number[]} */
  let dims;
  const header = req.headers['x-input-shape'];
  if (typeof header === 'string' && header.trim() !== '') {
    const parts = header.split(',').map((s) => s.trim());
    const parsed = parts.map((s) => (/^\d+$/.test(s) ? Number(s) : NaN));
    dims = checkShape(m, parsed.some(Number.isNaN) ? /** @type {unknown} */ (header) : parsed);
    if (product(dims) * 4 !== body.length) {
      throw new HttpError(400, `raw body is ${body.length} bytes; X-Input-Shape [${dims.join(',')}] needs ${product(dims) * 4}`);
    }
  } else {
    const rest = m.shape.slice(1);
    if (m.shape.length === 0 || !rest.every((d) => typeof d === 'number' && d >= 0)) {
      throw new HttpError(
        400,
        `cannot infer the shape of a raw body for input '${m.name}' [${m.shape.join(',')}]: only the first dimension may be dynamic; send X-Input-Shape or use JSON`,
      );
    }
    const sample = product(/** @type {number[]} */ (rest));
    const sampleBytes = sample * 4;
    if (sample === 0 || body.length % sampleBytes !== 0) {
      throw new HttpError(
        400,
        `raw body is ${body.length} bytes, not a multiple of one sample (${rest.join('x')} float32 = ${sampleBytes} bytes)`,
      );
    }
    const batch = body.length / sampleBytes;
    const first = m.shape[0];
    if (typeof first === 'number' && first >= 0 && first !== batch) {
      throw new HttpError(400, `raw body holds ${batch} samples; the model's input '${m.name}' takes exactly ${first}`);
    }
    dims = [batch, .../** @type {number[]} */ (rest)];
  }
  // A fresh, aligned, transferable copy (the body may sit at any offset of a shared pool).
  const data = new Float32Array(body.length / 4);
  new Uint8Array(data.buffer).set(body);
  return { name: m.name, dims, data };
}

/** @param {OutTensor} t */
function jsonData(t) {
  const d = t.data;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Array.from(d, (v) => Number(v));
  if (t.type === 'bool' && d instanceof Uint8Array) return Array.from(d, (v) => v !== 0);
  return Array.from(/** @type {ArrayLike<unknown>} */ (d));
}

/** @param {http.IncomingMessage} req @param {string} name @param {string} type */
function headerHas(req, name, type) {
  const v = req.headers[name];
  return typeof v === 'string' && v.toLowerCase().includes(type);
}

// ---------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------

const engine = new Engine(config.modelPath, config.threads);

/** @param {http.IncomingMessage} req @param {string[]} allowed */
function checkMethod(req, allowed) {
  const m = req.method === 'HEAD' ? 'GET' : req.method ?? '';
  if (!allowed.includes(m)) {
    throw new HttpError(405, `method ${req.method} not allowed here; use ${allowed.join(', ')}`, { Allow: allowed.join(', ') });
  }
}

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
      onnxruntime: ortVersion,
      pid: process.pid,
      model: {
        name: config.modelName,
        path: config.modelPath,
        inputs: (engine.meta?.inputs ?? []).map((m) => m.name),
        outputs: (engine.meta?.outputs ?? []).map((m) => m.name),
      },
      threads: config.threads,
    });
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
  const body = await readBody(req, config.maxBodyBytes);
  const raw = headerHas(req, 'content-type', 'application/octet-stream');
  /** @type {string | undefined} */
  let id;
  /** @type {Feed[]} */
  let feeds;
  /** @type {string[] | null} */
  let outputs = null;
  if (raw) {
    feeds = [decodeRawRequest(body, req, meta)];
  } else {
    ({ id, feeds, outputs } = decodeJsonRequest(body, meta));
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
    { 'X-Inference-Ms': result.runMs.toFixed(3) },
  );
}

// ---------------------------------------------------------------------------
// Server lifecycle
// ---------------------------------------------------------------------------

let activeRequests = 0;
let shuttingDown = false;

const server = http.createServer((req, res) => {
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
});

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
