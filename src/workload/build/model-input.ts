import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { BenchError } from '../../errors.js';
import type { FileHashCache } from './file-hash.js';

/** The model going into /app/model.onnx. */
export interface ModelInput {
  /** Host path of the .onnx file. */
  path: string;
  name: string;
  /** 'generated:resnet18', or the user's file path. */
  source: string;
  sha256: string;
  bytes: number;
}

/** Resolves a model spec ('resnet18' | 'resnet50' | path) to a file; the model generator's ensureModel by default. */
export type ModelResolver = (spec: string, cacheDir: string) => Promise<unknown>;

/** Whether a spec names a file rather than a generated model. */
export function isModelPath(spec: string): boolean {
  return spec.includes('/') || spec.endsWith('.onnx');
}

// Imported lazily through a variable so this module does not need the model generator to type-check.
const MODEL_CACHE_MODULE = '../model/model-cache.js';

async function defaultResolver(spec: string, cacheDir: string): Promise<unknown> {
  let mod: { ensureModel?: ModelResolver };
  try {
    mod = (await import(MODEL_CACHE_MODULE)) as { ensureModel?: ModelResolver };
  } catch (err) {
    throw new BenchError('internal', 'the model generator (src/workload/model/model-cache.ts) cannot be loaded', { cause: err });
  }
  if (typeof mod.ensureModel !== 'function') throw new BenchError('internal', 'model-cache.ts exports no ensureModel()');
  return mod.ensureModel(spec, cacheDir);
}

function pickString(o: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) if (typeof o[k] === 'string' && o[k]) return o[k];
  return undefined;
}

/**
 * The model file for `spec`: an existing .onnx path is used as is; anything
 * else goes to ensureModel(spec, cacheDir), whose answer may be a path or an
 * object with path/file (+ optional sha256, name, source).
 */
export async function resolveModelInput(
  spec: string,
  cacheDir: string,
  hashes: FileHashCache,
  resolver: ModelResolver = defaultResolver,
): Promise<ModelInput> {
  let path: string | undefined;
  let name: string | undefined;
  let source: string | undefined;
  let sha256: string | undefined;
  if (isModelPath(spec) && existsSync(spec)) {
    path = resolve(spec);
    source = path;
  } else if (isModelPath(spec)) {
    throw new BenchError('input', `model file not found: ${spec}`, { hint: "use 'resnet18', 'resnet50' or the path of an .onnx file" });
  } else {
    const got = await resolver(spec, cacheDir);
    if (typeof got === 'string') path = got;
    else if (got && typeof got === 'object') {
      const o = got as Record<string, unknown>;
      path = pickString(o, 'path', 'file', 'onnxPath');
      name = pickString(o, 'name');
      source = pickString(o, 'source');
      sha256 = pickString(o, 'sha256');
    }
    if (!path) throw new BenchError('internal', `ensureModel(${JSON.stringify(spec)}) returned no file path`);
    source ??= `generated:${spec}`;
    name ??= spec;
  }
  name ??= basename(path).replace(/\.onnx$/, '');
  const h = await hashes.hash(path);
  if (sha256 && sha256 !== h.sha256) {
    throw new BenchError('infrastructure', `model ${path} does not match its recorded sha256`, {
      hint: 'delete the model cache entry and re-run',
    });
  }
  return { path, name, source: source ?? path, sha256: h.sha256, bytes: h.size };
}
