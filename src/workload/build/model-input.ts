import { ensureModel, type ResolvedModel } from '../model/model-cache.js';

/** The model going into /app/model.onnx. */
export interface ModelInput {
  /** Host path of the .onnx file. */
  path: string;
  /** 'resnet18' / 'resnet50', or the file's base name. */
  name: string;
  /** 'generated:resnet18:seed=0:gen=1', or the user's file path. */
  source: string;
  sha256: string;
  bytes: number;
}

/** Resolves a model spec ('resnet18' | 'resnet50' | path) to a file; ensureModel() of the model generator by default. */
export type ModelResolver = (spec: string, cacheDir: string, options: { seed?: number }) => Promise<ResolvedModel>;

/**
 * The model file for `spec` via ensureModel (generated and cached, or a
 * validated user file); it hashes the file itself, so the sha256 is the file's.
 */
export async function resolveModelInput(
  spec: string,
  cacheDir: string,
  seed: number | undefined,
  resolver: ModelResolver = ensureModel,
): Promise<ModelInput> {
  const m = await resolver(spec, cacheDir, seed === undefined ? {} : { seed });
  return { path: m.path, name: m.name, source: m.source, sha256: m.sha256, bytes: m.bytes };
}
