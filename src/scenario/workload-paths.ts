import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describeValue } from './units.js';
import { isBuiltinModel, type WorkloadConfig } from './workload.js';

/**
 * The workload's file references, resolved against the scenario file's
 * directory (and checked to exist when asked): a model path, a request body
 * file, and an image that is an archive or a layout rather than an engine
 * reference. An image names a path when it starts with `docker-archive:` or
 * `oci:` (skopeo's transport names) or when the path exists; otherwise it is
 * an image in the local engine (`docker-daemon:` says so explicitly).
 * Rewrites the workload in place; returns the problems found.
 */
export function resolveWorkloadPaths(w: WorkloadConfig, scenarioFile: string, checkFiles: boolean): Array<{ path: string[]; message: string }> {
  const out: Array<{ path: string[]; message: string }> = [];
  const dir = dirname(scenarioFile);
  if (w.model !== undefined && !isBuiltinModel(w.model)) {
    const resolved = resolve(dir, w.model);
    if (checkFiles && !existsSync(resolved)) out.push({ path: ['model'], message: `expected an existing .onnx file, got ${describeValue(w.model)} (not found: ${resolved})` });
    w.model = resolved;
  }
  if (w.image !== undefined) {
    const m = /^(docker-archive|oci|docker-daemon):(.+)$/.exec(w.image);
    if (m?.[1] === 'docker-daemon') {
      w.image = m[2]!;
    } else if (m) {
      const resolved = resolve(dir, m[2]!);
      const st = existsSync(resolved) ? statSync(resolved) : undefined;
      const want = m[1] === 'oci' ? 'an OCI image layout directory' : 'a `docker save` archive';
      if (checkFiles && (!st || (m[1] === 'oci' ? !st.isDirectory() : !st.isFile()))) {
        out.push({ path: ['image'], message: `expected ${want}, got ${describeValue(w.image)} (${st ? 'wrong kind of file' : 'not found'}: ${resolved})` });
      }
      w.image = resolved;
    } else if (existsSync(resolve(dir, w.image)) && /[/.]/.test(w.image)) {
      w.image = resolve(dir, w.image);
    }
  }
  if (w.request?.body !== undefined) {
    const resolved = resolve(dir, w.request.body);
    if (checkFiles && !existsSync(resolved)) out.push({ path: ['request', 'body'], message: `expected an existing file with the request body, got ${describeValue(w.request.body)} (not found: ${resolved})` });
    w.request.body = resolved;
  }
  return out;
}
