// @ts-check
/**
 * vmbench inference worker: owns the onnxruntime session so that model loading
 * and `session.run` (which block their thread) never block the HTTP event loop.
 * Started by engine.mjs (server.mjs) with workerData { modelPath, threads, device, fallback }; plain JavaScript,
 * node builtins + onnxruntime-node only (copied verbatim to /app/ in the rootfs).
 *
 * Protocol (parentPort messages):
 *   worker → main  { type: 'loaded', inputs, outputs, ortVersion, loadMs, device, deviceReason, gpuTimings }
 *                  { type: 'load_error', message }
 *                  { type: 'phase', phase, epochMs }   (gpu_context: see gpu.mjs)
 *   main → worker  { type: 'infer', id, feeds: [{ name, dims, data: Float32Array }], outputs: string[] | null }
 *   worker → main  { type: 'result', id, runMs, outputs: [{ name, type, dims, data }] }   (buffers transferred)
 *                  { type: 'error', id, message }
 */
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { createDeviceSession } from './gpu.mjs';

/**
 * @typedef {{ name: string, isTensor: boolean, type: string, shape: (number | string)[] }} IOMeta
 * @typedef {{ name: string, dims: number[], data: Float32Array }} Feed
 * @typedef {{ type: 'infer', id: number, feeds: Feed[], outputs: string[] | null }} InferMessage
 */

const port = parentPort;
if (port === null) throw new Error('infer-worker.mjs must run as a worker thread');

/** @type {{ modelPath: string, threads: number, device: 'cpu' | 'gpu', fallback: boolean }} */
const config = workerData;

/**
 * @param {readonly import('onnxruntime-node').InferenceSession.ValueMetadata[]} list
 * @returns {IOMeta[]}
 */
function describe(list) {
  return list.map((m) =>
    m.isTensor
      ? { name: m.name, isTensor: true, type: String(m.type), shape: [...m.shape] }
      : { name: m.name, isTensor: false, type: 'non-tensor', shape: [] },
  );
}

/** @param {unknown} err */
function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

/** @type {import('onnxruntime-node').InferenceSession | null} */
let session = null;

async function load() {
  const t0 = performance.now();
  /** @type {import('./gpu.mjs').DeviceSession} */
  let made;
  try {
    made = await createDeviceSession(ort, config.modelPath, { device: config.device ?? 'cpu', fallback: config.fallback === true }, {
      intraOpNumThreads: config.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      // Becomes the config entries session.intra_op.allow_spinning / session.inter_op.allow_spinning:
      // spinning pool threads gave the worst tail latency under CPU contention.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    }, (phase, epochMs) => port?.postMessage({ type: 'phase', phase, epochMs }));
    session = made.session;
  } catch (err) {
    port?.postMessage({ type: 'load_error', message: messageOf(err) });
    return;
  }
  port?.postMessage({
    type: 'loaded',
    inputs: describe(session.inputMetadata),
    outputs: describe(session.outputMetadata),
    ortVersion: ort.env.versions.node ?? ort.env.versions.common ?? 'unknown',
    loadMs: performance.now() - t0,
    device: made.device,
    deviceReason: made.reason,
    gpuTimings: made.timings,
  });
}

/**
 * Copy a result tensor's data into a fresh, transferable buffer.
 * @param {import('onnxruntime-node').Tensor} t
 */
function tensorData(t) {
  const d = t.data;
  if (ArrayBuffer.isView(d) && 'slice' in d && typeof d.slice === 'function') return d.slice();
  return d;
}

/** @param {InferMessage} msg */
async function infer(msg) {
  const s = session;
  if (s === null) {
    port?.postMessage({ type: 'error', id: msg.id, message: 'model is not loaded' });
    return;
  }
  try {
    /** @type {Record<string, import('onnxruntime-node').Tensor>} */
    const feeds = {};
    for (const f of msg.feeds) feeds[f.name] = new ort.Tensor('float32', f.data, f.dims);
    const t0 = performance.now();
    const results = msg.outputs === null ? await s.run(feeds) : await s.run(feeds, msg.outputs);
    const runMs = performance.now() - t0;
    const names = msg.outputs ?? s.outputNames;
    /** @type {ArrayBuffer[]} */
    const transfer = [];
    const outputs = names.map((name) => {
      const t = results[name];
      if (t === undefined) throw new Error(`onnxruntime returned no tensor for output '${name}'`);
      const data = tensorData(t);
      if (ArrayBuffer.isView(data) && data.buffer instanceof ArrayBuffer) transfer.push(data.buffer);
      return { name, type: t.type, dims: [...t.dims], data };
    });
    port?.postMessage({ type: 'result', id: msg.id, runMs, outputs }, transfer);
  } catch (err) {
    port?.postMessage({ type: 'error', id: msg.id, message: messageOf(err) });
  }
}

port.on('message', (/** @type {InferMessage} */ msg) => {
  if (msg && msg.type === 'infer') void infer(msg);
});

void load();
