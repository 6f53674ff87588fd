import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { BenchError, messageOf } from '../../../errors.js';

/**
 * The host helper as something to ship: agent.js and every compiled module
 * it imports (followed from its import statements), plus the npm packages
 * those import (hdr-histogram-js and its dependencies), in one tarball named
 * by the digest of its contents — so a host receives it once per version
 * (remote-cache.ts) and unpacks it to <work_dir>/agent/<digest>/.
 */

/** The project's root (the directory holding dist/ and node_modules/), from wherever this module runs. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'node_modules'))) return dir;
    dir = dirname(dir);
  }
  throw new BenchError('internal', 'cannot find the vmbench project root (package.json + node_modules) above the host helper');
}

/** The relative module specifiers and bare package names a compiled module imports. */
export function importsOf(source: string): { relative: string[]; packages: string[] } {
  const rel: string[] = [];
  const pkgs: string[] = [];
  for (const m of source.matchAll(/(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)) {
    const spec = (m[1] ?? m[2] ?? m[3])!;
    if (spec.startsWith('.')) rel.push(spec);
    else if (!spec.startsWith('node:')) pkgs.push(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
  }
  return { relative: rel, packages: pkgs };
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Every file of the helper, relative to the project root: the import closure of dist/…/agent.js and its packages. */
export async function agentFiles(root = projectRoot()): Promise<string[]> {
  const entry = join(root, 'dist', 'platforms', 'remote', 'agent', 'agent.js');
  if (!existsSync(entry)) {
    throw new BenchError('infrastructure', `the host helper is not built (${entry} is missing)`, { hint: 'run `npm run build`' });
  }
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    const imports = importsOf(await readFile(f, 'utf8'));
    for (const r of imports.relative) todo.push(resolve(dirname(f), r));
    for (const p of imports.packages) packages.add(p);
  }
  const pkgTodo = [...packages];
  const pkgDirs = new Set<string>();
  while (pkgTodo.length) {
    const name = pkgTodo.pop()!;
    const dir = join(root, 'node_modules', name);
    if (pkgDirs.has(dir)) continue;
    if (!existsSync(join(dir, 'package.json'))) throw new BenchError('internal', `host helper: package ${name} is not installed in ${root}/node_modules`);
    pkgDirs.add(dir);
    const pj = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    pkgTodo.push(...Object.keys(pj.dependencies ?? {}));
  }
  const all = [...files];
  for (const d of pkgDirs) all.push(...(await listFiles(d)));
  // package.json beside dist/ makes the .js files ES modules there, as here.
  return ['package.json', ...all.map((f) => relative(root, f)).sort()];
}

export interface AgentBundle {
  /** sha256 over every file's path and content. */
  digest: string;
  tarball: string;
  /** Where agent.js lies inside the unpacked bundle. */
  entry: string;
  files: number;
}

/** The helper's tarball in <cacheDir>/agent/, made once per content digest. */
export async function agentBundle(cacheDir: string, root = projectRoot()): Promise<AgentBundle> {
  const files = await agentFiles(root);
  const h = createHash('sha256');
  for (const f of files) {
    h.update(`${f}\0`);
    h.update(await readFile(join(root, f)));
    h.update('\0');
  }
  const digest = h.digest('hex');
  const dir = join(resolve(cacheDir), 'agent');
  const tarball = join(dir, `vmbench-agent-${digest.slice(0, 16)}.tar`);
  const entry = 'dist/platforms/remote/agent/agent.js';
  if (await stat(tarball).then((s) => s.size > 0, () => false)) return { digest, tarball, entry, files: files.length };
  await mkdir(dir, { recursive: true });
  const tmp = `${tarball}.${process.pid}.tmp`;
  try {
    await execa('tar', ['-cf', tmp, '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', ...files], { cwd: root });
    await rename(tmp, tarball);
  } catch (err) {
    throw new BenchError('infrastructure', `cannot pack the host helper: ${messageOf(err)}`, { cause: err });
  }
  return { digest, tarball, entry, files: files.length };
}
