import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { BenchError } from '../../../errors.js';

/** One file copied into the rootfs. */
export interface RuntimeFile {
  src: string;
  /** Guest path, absolute. */
  dest: string;
}

const NODE_MODULES = '/app/node_modules';

/**
 * onnxruntime-node's dist/binding.js loads
 *   ../bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node
 * (which finds libonnxruntime.so.1 through RUNPATH $ORIGIN), so linux/x64 is all
 * a linux-x64 guest needs. dist/ requires only onnxruntime-common, worker_threads
 * and its own files at load time (adm-zip/global-agent are install-script deps).
 */
export const ORT_NATIVE_DIR = 'bin/napi-v6/linux/x64';
export const ORT_NATIVE_FILES = ['libonnxruntime.so.1', 'onnxruntime_binding.node'] as const;

function keepJs(name: string): boolean {
  return /\.(js|cjs|mjs|json)$/.test(name) && !name.endsWith('.map');
}

async function listTree(dir: string, keep: (name: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const ents = (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of ents) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && keep(e.name)) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

/** Directory of an installed package, found by walking node_modules upwards from `fromDir`. */
export function findPackageDir(name: string, fromDir: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    const cand = join(dir, 'node_modules', name);
    if (existsSync(join(cand, 'package.json'))) return cand;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** The installed onnxruntime-node directory (as Node resolves it from this project). */
export function ortNodeDir(): string {
  try {
    const req = createRequire(import.meta.url);
    return dirname(req.resolve('onnxruntime-node/package.json'));
  } catch (err) {
    throw new BenchError('infrastructure', 'onnxruntime-node is not installed', {
      hint: 'run ONNXRUNTIME_NODE_INSTALL=skip npm install',
      cause: err,
    });
  }
}

/** The pruned linux-x64 runtime: onnxruntime-node (package.json, dist JS, linux/x64 binaries) + onnxruntime-common. */
export async function ortRuntimeFiles(nodeDir = ortNodeDir()): Promise<{ files: RuntimeFile[]; version: string }> {
  const pkg = JSON.parse(await readFile(join(nodeDir, 'package.json'), 'utf8')) as { version?: string };
  const commonDir = findPackageDir('onnxruntime-common', nodeDir);
  if (!commonDir) {
    throw new BenchError('infrastructure', `onnxruntime-common not found next to ${nodeDir}`, {
      hint: 'run ONNXRUNTIME_NODE_INSTALL=skip npm install',
    });
  }
  const files: RuntimeFile[] = [];
  const add = (pkgDir: string, guestPkg: string, src: string) =>
    files.push({ src, dest: `${NODE_MODULES}/${guestPkg}/${relative(pkgDir, src)}` });
  add(nodeDir, 'onnxruntime-node', join(nodeDir, 'package.json'));
  for (const f of await listTree(join(nodeDir, 'dist'), keepJs)) add(nodeDir, 'onnxruntime-node', f);
  for (const n of ORT_NATIVE_FILES) {
    const p = join(nodeDir, ORT_NATIVE_DIR, n);
    if (!existsSync(p)) {
      throw new BenchError('infrastructure', `onnxruntime-node has no ${ORT_NATIVE_DIR}/${n}`, {
        hint: 'reinstall it: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node',
      });
    }
    add(nodeDir, 'onnxruntime-node', p);
  }
  add(commonDir, 'onnxruntime-common', join(commonDir, 'package.json'));
  for (const f of await listTree(join(commonDir, 'dist'), keepJs)) add(commonDir, 'onnxruntime-common', f);
  return { files, version: pkg.version ?? 'unknown' };
}
