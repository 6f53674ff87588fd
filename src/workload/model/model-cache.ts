/**
 * Resolve a model spec to an .onnx file on disk: a generated ResNet (cached
 * under <cacheDir>/models/, keyed by arch, seed and generator version) or a
 * user-supplied file (validated, never modified).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { BenchError, messageOf } from '../../errors.js';
import { describeTensorIO, readModelIO, type ModelIO } from './model-io.js';
import { ProtoDecodeError } from './onnx-encoder.js';
import { GENERATOR_VERSION, RESNET_ARCHS, generateResnet, type ResnetArch } from './resnet.js';

export type ModelSpecString = ResnetArch | (string & {});

export const DEFAULT_MODEL_SEED = 0;

export interface EnsureModelOptions {
  /** Seed for generated models (unsigned 32-bit); default DEFAULT_MODEL_SEED. Ignored for files. */
  seed?: number;
}

export interface ResolvedModel {
  /** Absolute path of the .onnx file. */
  path: string;
  /** Hex sha256 of the file. */
  sha256: string;
  bytes: number;
  /** 'resnet18' / 'resnet50', or the file's base name without .onnx. */
  name: string;
  /** Where it came from: 'generated:resnet50:seed=0:gen=1', or the file's absolute path. */
  source: string;
  kind: 'generated' | 'file';
  arch?: ResnetArch;
  seed?: number;
  io: ModelIO;
}

export function isResnetArch(spec: string): spec is ResnetArch {
  return (RESNET_ARCHS as readonly string[]).includes(spec);
}

function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Cache file name for a generated model: <arch>-seed<seed>-<hash12>.onnx. */
export function generatedModelFileName(arch: ResnetArch, seed: number): string {
  const key = sha256Hex(JSON.stringify({ generator: 'vmbench-resnet', version: GENERATOR_VERSION, arch, seed }));
  return `${arch}-seed${seed}-${key.slice(0, 12)}.onnx`;
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function readIfExists(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function ensureGenerated(arch: ResnetArch, seed: number, cacheDir: string): Promise<ResolvedModel> {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new BenchError('input', `model seed must be an integer in [0, 4294967295], got ${seed}`);
  }
  const dir = join(resolve(cacheDir), 'models');
  const path = join(dir, generatedModelFileName(arch, seed));
  const sidecar = `${path}.sha256`;
  const source = `generated:${arch}:seed=${seed}:gen=${GENERATOR_VERSION}`;
  const base = { path, name: arch, source, kind: 'generated' as const, arch, seed };
  try {
    // Cached: the file's hash must match the sidecar written after it (catches truncation).
    const [file, recorded] = await Promise.all([readIfExists(path), readIfExists(sidecar)]);
    if (file !== null && recorded !== null) {
      const sha256 = sha256Hex(file);
      if (sha256 === recorded.toString('utf8').trim()) {
        return { ...base, sha256, bytes: file.length, io: readModelIO(file) };
      }
    }
    const model = generateResnet({ arch, seed });
    const sha256 = sha256Hex(model);
    await mkdir(dir, { recursive: true });
    await writeAtomic(path, model);
    await writeAtomic(sidecar, `${sha256}\n`);
    return { ...base, sha256, bytes: model.length, io: readModelIO(model) };
  } catch (err) {
    if (err instanceof BenchError) throw err;
    throw new BenchError('infrastructure', `cannot write the generated ${arch} model under ${dir}: ${messageOf(err)}`, {
      hint: 'check that the cache directory (VMBENCH_CACHE_DIR) is writable and has ~100 MB free',
      cause: err,
    });
  }
}

async function ensureFile(spec: string): Promise<ResolvedModel> {
  const path = resolve(spec);
  const hint = `a model is 'resnet18', 'resnet50' or the path to an .onnx file`;
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new BenchError('input', `model path is not a regular file: ${path}`, { hint });
    size = st.size;
  } catch (err) {
    if (err instanceof BenchError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new BenchError(
      'input',
      code === 'ENOENT' ? `model file not found: ${path}` : `cannot read model file ${path}: ${messageOf(err)}`,
      { hint, cause: err },
    );
  }
  if (size === 0) throw new BenchError('input', `model file is empty: ${path}`, { hint });
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw new BenchError('input', `cannot read model file ${path}: ${messageOf(err)}`, { hint, cause: err });
  }
  let io: ModelIO;
  try {
    io = readModelIO(data);
  } catch (err) {
    const why = err instanceof ProtoDecodeError ? err.message : `decoder error: ${messageOf(err)}`;
    throw new BenchError('input', `not a valid ONNX model: ${path} (${why})`, {
      hint: 'the file must be a serialized onnx ModelProto (.onnx)',
      cause: err,
    });
  }
  if (io.inputs.length === 0) {
    throw new BenchError('input', `ONNX model ${path} has no graph inputs (other than initializers)`, { hint });
  }
  if (io.outputs.length === 0) throw new BenchError('input', `ONNX model ${path} has no graph outputs`, { hint });
  if (io.externalInitializers.length > 0) {
    throw new BenchError(
      'input',
      `ONNX model ${path} keeps ${io.externalInitializers.length} tensor(s) in external data files (e.g. ${io.externalInitializers[0]}), which vmbench cannot ship`,
      { hint: 'save the model with all tensors inside the .onnx file (onnx.save(model, path, save_as_external_data=False))' },
    );
  }
  const ext = extname(path);
  return {
    path,
    sha256: sha256Hex(data),
    bytes: data.length,
    name: basename(path, ext.toLowerCase() === '.onnx' ? ext : ''),
    source: path,
    kind: 'file',
    io,
  };
}

/**
 * Resolve `spec` to a model file: 'resnet18' / 'resnet50' are generated (once,
 * then cached under <cacheDir>/models/); anything else is a path to an .onnx file,
 * validated (exists, decodes, has ≥1 input and output). Errors are BenchError
 * kind 'input' (bad spec/file) or 'infrastructure' (cache not writable).
 */
export async function ensureModel(
  spec: ModelSpecString,
  cacheDir: string,
  options: EnsureModelOptions = {},
): Promise<ResolvedModel> {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new BenchError('input', 'empty model spec', { hint: `use 'resnet18', 'resnet50' or the path to an .onnx file` });
  }
  if (isResnetArch(spec)) return ensureGenerated(spec, options.seed ?? DEFAULT_MODEL_SEED, cacheDir);
  return ensureFile(spec);
}

/** One line per input/output, for logs and reports. */
export function describeModel(m: ResolvedModel): string {
  const io = [...m.io.inputs.map((i) => `in ${describeTensorIO(i)}`), ...m.io.outputs.map((o) => `out ${describeTensorIO(o)}`)];
  return `${m.name} (${m.source}, ${m.bytes} bytes, sha256 ${m.sha256.slice(0, 12)}): ${io.join('; ')}`;
}
