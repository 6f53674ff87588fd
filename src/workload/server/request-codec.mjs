// @ts-check
/**
 * Request and response encoding of the vmbench workload server (see server.mjs):
 * a v2 JSON inference request or a raw little-endian float32 body becomes the
 * worker's feeds (every shape checked against the model's inputs, and against the
 * body limit before anything is allocated); requested outputs are checked against
 * the model's; output tensors become JSON data.
 */
import { HttpError } from './http-util.mjs';
import { v2Type } from './engine.mjs';
import { messageOf } from './log.mjs';

/** @typedef {import('node:http').IncomingMessage} IncomingMessage */
/** @typedef {import('./engine.mjs').IOMeta} IOMeta */
/** @typedef {import('./engine.mjs').Feed} Feed */
/** @typedef {import('./engine.mjs').OutTensor} OutTensor */

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
 * @param {IOMeta} m @param {unknown} shape @param {number} maxBodyBytes
 * @returns {number[]}
 */
function checkShape(m, shape, maxBodyBytes) {
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
  if (!Number.isSafeInteger(n) || n > maxBodyBytes) {
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
 * @param {Buffer} body @param {{ inputs: IOMeta[], outputs: IOMeta[] }} meta @param {number} maxBodyBytes
 * @returns {{ id: string | undefined, feeds: Feed[], outputs: string[] | null }}
 */
export function decodeJsonRequest(body, meta, maxBodyBytes) {
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
    const dims = checkShape(m, input.shape, maxBodyBytes);
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
 * @param {Buffer} body @param {IncomingMessage} req @param {{ inputs: IOMeta[] }} meta @param {number} maxBodyBytes
 * @returns {Feed}
 */
export function decodeRawRequest(body, req, meta, maxBodyBytes) {
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
    dims = checkShape(m, parsed.some(Number.isNaN) ? /** @type {unknown} */ (header) : parsed, maxBodyBytes);
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
export function jsonData(t) {
  const d = t.data;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Array.from(d, (v) => Number(v));
  if (t.type === 'bool' && d instanceof Uint8Array) return Array.from(d, (v) => v !== 0);
  return Array.from(/** @type {ArrayLike<unknown>} */ (d));
}
