// @ts-check
/**
 * The inference engine of the vmbench workload server (see server.mjs): the model
 * metadata, the KServe v2 datatype table, and one inference worker thread
 * (./infer-worker.mjs, which owns the onnxruntime session) fed from a FIFO queue,
 * one request at a time. Loading the model and one warm-up inference emit the
 * model_loaded and ready phases; a crashed worker is restarted and its in-flight
 * request gets a 500.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HttpError } from './http-util.mjs';
import { log, messageOf, phase } from './log.mjs';

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
export function v2Type(t) {
  return V2_TYPES[t] ?? t.toUpperCase();
}

/** @param {IOMeta} m */
export function v2Tensor(m) {
  return { name: m.name, datatype: v2Type(m.type), shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
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

export class Engine {
  /** @param {string} modelPath @param {number} threads @param {{ device: 'cpu' | 'gpu', fallback: boolean }} [want] @param {number} [maxQueue] */
  constructor(modelPath, threads, want = { device: 'cpu', fallback: false }, maxQueue = Infinity) {
    this.modelPath = modelPath;
    this.threads = threads;
    this.want = want;
    /** Where inference actually runs (gpu.mjs), known once loaded. @type {'cpu' | 'gpu'} */
    this.device = want.device;
    /** Why not on the GPU although asked (fallback: cpu). @type {string | null} */
    this.deviceReason = null;
    /** @type {import('./gpu.mjs').GpuTimings | null} */
    this.gpuTimings = null;
    /** Inferences that may wait at once; one more is refused (503) rather than queued without bound. */
    this.maxQueue = maxQueue;
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
    /** The onnxruntime-node version, from its package.json until the worker reports it. */
    this.ortVersion = ortVersionFromPackage();
  }

  start() {
    const worker = new Worker(new URL('./infer-worker.mjs', import.meta.url), {
      workerData: { modelPath: this.modelPath, threads: this.threads, device: this.want.device, fallback: this.want.fallback },
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
      case 'phase':
        if (!this.everLoaded && typeof msg.phase === 'string') phase(msg.phase, msg.epochMs);
        return;
      case 'loaded': {
        this.meta = { inputs: msg.inputs, outputs: msg.outputs };
        if (msg.device === 'cpu' || msg.device === 'gpu') this.device = msg.device;
        this.deviceReason = typeof msg.deviceReason === 'string' ? msg.deviceReason : null;
        if (!this.everLoaded) this.gpuTimings = msg.gpuTimings ?? null;
        if (this.deviceReason !== null) log(`asked for the GPU, running on CPU: ${this.deviceReason}`);
        if (typeof msg.ortVersion === 'string' && msg.ortVersion !== 'unknown') this.ortVersion = msg.ortVersion;
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
      if (this.gpuTimings !== null) this.gpuTimings.firstInferenceMs = r.runMs;
      log(`warm-up inference: ${r.runMs.toFixed(1)} ms on ${this.device}`);
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
      if (this.queue.length >= this.maxQueue) {
        reject(new HttpError(503, `${this.queue.length} inferences are already waiting (VMBENCH_MAX_QUEUE); retry later`, { 'Retry-After': '1' }));
        return;
      }
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
