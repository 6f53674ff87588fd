/**
 * The JSON objects of the Open Inference Protocol (KServe v2) REST API and
 * what makes one well-formed (kserve docs/predict-api/v2/required_api.md):
 *
 *   server metadata  {name: string, version: string, extensions: [string]}
 *   model metadata   {name: string, versions?: [string], platform: string,
 *                     inputs: [tensor], outputs: [tensor]}
 *   tensor metadata  {name: string, datatype: string, shape: [int ≥ -1]}  (-1: variable)
 *   inference resp.  {model_name: string, model_version?: string, id?: string,
 *                     outputs: [{name, shape, datatype, data}]}
 *   error            {error: string} with a 4xx status (typically 400)
 *
 * Each check returns what is wrong, in words ([] when nothing is). Pure.
 */

export const V2_DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
export type V2Datatype = (typeof V2_DATATYPES)[number];

export interface TensorMetadata {
  name: string;
  datatype: V2Datatype;
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export interface ResponseOutput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v)?.slice(0, 80) ?? String(v));

/** The body as JSON, or why it is not. */
export function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false; problem: string } {
  const text = body.toString('utf8');
  if (text.trim() === '') return { ok: false, problem: 'an empty body' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, problem: `a body that is not JSON: ${JSON.stringify(text.slice(0, 60))}` };
  }
}

export function serverMetadataProblems(v: unknown): string[] {
  if (!isObj(v)) return [`expected a JSON object, got ${show(v)}`];
  const out: string[] = [];
  if (!isStr(v.name)) out.push(`"name" must be a string, got ${show(v.name)}`);
  if (!isStr(v.version)) out.push(`"version" must be a string, got ${show(v.version)}`);
  if (!Array.isArray(v.extensions) || !v.extensions.every(isStr)) out.push(`"extensions" must be an array of strings, got ${show(v.extensions)}`);
  return out;
}

function tensorProblems(v: unknown, where: string): string[] {
  if (!isObj(v)) return [`${where} must be an object, got ${show(v)}`];
  const out: string[] = [];
  if (!isStr(v.name)) out.push(`${where}.name must be a string, got ${show(v.name)}`);
  if (!isStr(v.datatype) || !(V2_DATATYPES as readonly string[]).includes(v.datatype)) {
    out.push(`${where}.datatype must be one of ${V2_DATATYPES.join(', ')}, got ${show(v.datatype)}`);
  }
  if (!Array.isArray(v.shape) || !v.shape.every((d) => Number.isInteger(d) && (d as number) >= -1)) {
    out.push(`${where}.shape must be an array of integers (-1 for a variable dimension), got ${show(v.shape)}`);
  }
  return out;
}

export function modelMetadataProblems(v: unknown, expectedName: string): string[] {
  if (!isObj(v)) return [`expected a JSON object, got ${show(v)}`];
  const out: string[] = [];
  if (v.name !== expectedName) out.push(`"name" must be ${JSON.stringify(expectedName)}, got ${show(v.name)}`);
  if (v.versions !== undefined && (!Array.isArray(v.versions) || !v.versions.every(isStr))) out.push(`"versions" must be an array of strings, got ${show(v.versions)}`);
  if (!isStr(v.platform)) out.push(`"platform" must be a string, got ${show(v.platform)}`);
  for (const key of ['inputs', 'outputs'] as const) {
    const list = v[key];
    if (!Array.isArray(list) || list.length === 0) out.push(`"${key}" must be a non-empty array of tensor metadata, got ${show(list)}`);
    else list.forEach((t, i) => out.push(...tensorProblems(t, `${key}[${i}]`)));
  }
  return out;
}

/** Flattens nested tensor data ("natural" multi-dimensional form) into row-major order. */
export function flattenData(data: unknown): unknown[] {
  return Array.isArray(data) ? data.flatMap((d) => flattenData(d)) : [data];
}

export function inferResponseProblems(v: unknown, o: { model: string; id?: string; outputs?: readonly TensorMetadata[] }): string[] {
  if (!isObj(v)) return [`expected a JSON object, got ${show(v)}`];
  const out: string[] = [];
  if (v.model_name !== o.model) out.push(`"model_name" must be ${JSON.stringify(o.model)}, got ${show(v.model_name)}`);
  if (o.id !== undefined && v.id !== o.id) out.push(`"id" must echo the request's ${JSON.stringify(o.id)}, got ${show(v.id)}`);
  if (!Array.isArray(v.outputs) || v.outputs.length === 0) return [...out, `"outputs" must be a non-empty array, got ${show(v.outputs)}`];
  v.outputs.forEach((t: unknown, i) => {
    const where = `outputs[${i}]`;
    const shapeOk = isObj(t) && Array.isArray(t.shape) && t.shape.every((d) => Number.isInteger(d) && (d as number) >= 0);
    if (!isObj(t) || !isStr(t.name)) return void out.push(`${where}.name must be a string`);
    if (!shapeOk) out.push(`${where}.shape must be an array of integers ≥ 0, got ${show(t.shape)}`);
    if (!isStr(t.datatype) || !(V2_DATATYPES as readonly string[]).includes(t.datatype)) out.push(`${where}.datatype must be a v2 datatype, got ${show(t.datatype)}`);
    if (!Array.isArray(t.data)) return void out.push(`${where}.data must be an array, got ${show(t.data)}`);
    const declared = o.outputs?.find((m) => m.name === t.name);
    if (o.outputs && !declared) out.push(`${where}: "${t.name}" is not an output in the model metadata (${o.outputs.map((m) => m.name).join(', ')})`);
    if (shapeOk) {
      const shape = t.shape as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      const have = flattenData(t.data).length;
      if (have !== n) out.push(`${where}: shape [${shape.join(', ')}] holds ${n} elements, data has ${have}`);
      if (declared && (declared.shape.length !== shape.length || declared.shape.some((d, k) => d !== -1 && d !== shape[k]))) {
        out.push(`${where}: shape [${shape.join(', ')}] does not match the metadata's [${declared.shape.join(', ')}]`);
      }
    }
  });
  return out;
}

export function errorBodyProblems(status: number, body: Buffer): string[] {
  const out: string[] = [];
  if (status < 400 || status > 499) out.push(`expected a 4xx status, got ${status}`);
  const parsed = parseJson(body);
  if (!parsed.ok) return [...out, `expected {"error": "<message>"}, got ${parsed.problem}`];
  if (!isObj(parsed.value) || !isStr(parsed.value.error)) out.push(`expected {"error": "<message>"}, got ${show(parsed.value)}`);
  return out;
}

/** The model metadata, assuming modelMetadataProblems() found nothing. */
export function asModelMetadata(v: unknown): ModelMetadata {
  return v as ModelMetadata;
}
