/**
 * Shared by the VM integration tests (direct QEMU, Vagrant): the artifact
 * they boot, and readiness polling as the harness does it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import type { Artifact } from '../../src/workload/artifact.js';
import { ENDPOINTS } from '../../src/workload/contract.js';

/** The newest artifact with a VM disk (resnet18 preferred), or build one (resnet18). */
export async function findOrBuildArtifact(cacheDir: string, log: (line: string) => void): Promise<Artifact> {
  const root = join(cacheDir, 'artifacts');
  const found: Artifact[] = [];
  for (const id of existsSync(root) ? readdirSync(root) : []) {
    const m = join(root, id, 'manifest.json');
    if (!existsSync(m)) continue;
    const a = JSON.parse(readFileSync(m, 'utf8')) as Artifact;
    if ([a.vm.disk, a.vm.kernel, a.vm.initrd].every((f) => existsSync(f))) found.push(a);
  }
  found.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const pick = found.find((a) => a.model.name === 'resnet18') ?? found[0];
  if (pick) return pick;
  log('no artifact found: building one (resnet18)…');
  const { buildArtifact } = await import('../../src/workload/build/build.js');
  return buildArtifact({ cacheDir, model: 'resnet18', docker: new Dockerode() });
}

/** Poll GET /v2/health/ready every 10 ms (200 ms per request) until 200; returns the monotonic time of that answer. */
export async function pollReady(baseUrl: string, timeoutMs: number): Promise<{ at: number; polls: number }> {
  const deadline = performance.now() + timeoutMs;
  let polls = 0;
  while (performance.now() < deadline) {
    polls++;
    try {
      const res = await fetch(baseUrl + ENDPOINTS.ready, { signal: AbortSignal.timeout(200) });
      await res.arrayBuffer();
      if (res.status === 200) return { at: performance.now(), polls };
    } catch {
      /* refused / reset / timed out: not yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`not ready within ${timeoutMs} ms (${polls} polls)`);
}
