import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPythonServerImage, dockerArchiveToOciLayout, EXAMPLE_MODEL, saveImage } from '../../examples/python-v2-server/build.js';
import { defaultCacheDir } from '../../src/paths.js';
import { freePort } from '../../src/platforms/host/ports.js';
import type { RunRecord } from '../../src/results/run-record.js';
import { buildImageArtifact } from '../../src/workload/build/image/build-image.js';
import { identifyImage } from '../../src/workload/build/image/source.js';

/**
 * Bring your own server on the real Docker Engine: the independent example
 * server (Python + numpy, built here from Debian packages) as an image in
 * the engine, as its `docker save` archive and as an OCI layout — the same
 * image and the same artifact each way; `bench check-server` passes it and
 * fails a deliberately broken variant with one line per failed check; and
 * `bench run` measures it from the archive, protocol check first. No VM
 * here (a TCG boot costs ≈ 70 s): the QEMU side is the recorded run of
 * scenarios/byo-python-server.yaml and bench/byo-e2e.sh.
 */

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'vmbench-byo-'));
const docker = new Dockerode();
const cacheDir = defaultCacheDir();
const testLabel = `vmbench.test.byo=${process.pid}`;
const archive = join(tmp, 'server.tar');
const layout = join(tmp, 'server-oci');
let image = '';
let imageId = '';

function bench(args: string[]) {
  return execa('node', [bin, ...args], { cwd: root, reject: false, timeout: 300_000, env: { CI: '1', VMBENCH_CACHE_DIR: cacheDir } });
}

/** Containers this test (or a check-server it started since `since`) may have left. */
async function leftovers(since: number): Promise<string[]> {
  const mine = await docker.listContainers({ all: true, filters: { label: [testLabel] } });
  const checks = (await docker.listContainers({ all: true, filters: { label: ['vmbench.run'] } })).filter(
    (c) => c.Created * 1000 >= since - 1000 && (c.Labels['vmbench.run'] ?? '').startsWith('check-'),
  );
  return [...mine, ...checks].map((c) => `${c.Names.join(',')} (${c.Image})`);
}

beforeAll(async () => {
  const built = await buildPythonServerImage(docker, cacheDir);
  image = built.image;
  imageId = built.imageId;
  await saveImage(docker, image, archive);
  await dockerArchiveToOciLayout(archive, layout);
});

afterAll(async () => {
  for (const c of await docker.listContainers({ all: true, filters: { label: [testLabel] } })) {
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('bring your own server (real Docker Engine)', () => {
  it('an image in the engine, its docker save archive and its OCI layout are one image and one artifact', async () => {
    const ids = await Promise.all([
      identifyImage({ format: 'engine', ref: image }, docker),
      identifyImage({ format: 'docker-archive', ref: archive }, docker),
      identifyImage({ format: 'oci-layout', ref: layout }, docker),
    ]);
    expect(ids.map((i) => i.imageId)).toEqual([imageId, imageId, imageId]);
    const fromArchive = await buildImageArtifact({ cacheDir, docker, workload: { source: { format: 'docker-archive', ref: archive }, overrides: {} }, modelName: EXAMPLE_MODEL });
    const steps: string[] = [];
    const fromLayout = await buildImageArtifact({
      cacheDir,
      docker,
      workload: { source: { format: 'oci-layout', ref: layout }, overrides: {} },
      modelName: EXAMPLE_MODEL,
      onProgress: (e) => steps.push(`${e.step}:${e.status}`),
    });
    expect(fromLayout.id).toBe(fromArchive.id);
    expect(fromLayout.rootfsDigest).toBe(fromArchive.rootfsDigest);
    expect(steps).toContain('artifact:cached');
    // What the container starts is what the VM's init starts: the image's own CMD, user, workdir, port.
    expect(fromArchive.image?.launch).toMatchObject({ cmd: ['python3', '-B', '/srv/server.py'], workingDir: '/srv', user: 'model', port: 8000 });
    expect(fromArchive.image?.user).toMatchObject({ uid: 1000, gid: 1000 });
    const inspect = await docker.getImage(fromArchive.docker.image).inspect();
    expect(inspect.Config.Labels?.['vmbench.image']).toBe(imageId);
  });

  it('bench check-server passes the docker save archive with one line per check', async () => {
    const since = Date.now();
    const r = await bench(['check-server', archive, '--model', EXAMPLE_MODEL]);
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => /^\s+[✓✗] /.test(l));
    expect(lines.map((l) => l.trim().split(/\s+/)[1])).toEqual(['live', 'ready', 'server_metadata', 'model_metadata', 'model_ready', 'infer', 'error_bad_request', 'error_unknown_model']);
    expect(lines.every((l) => l.trim().startsWith('✓'))).toBe(true);
    expect(r.stdout).toContain('all 8 checks passed');
    expect(await leftovers(since)).toEqual([]);
  });

  it('bench check-server fails a deliberately broken variant, saying per failed check what it expected', async () => {
    const port = await freePort();
    const artifact = await buildImageArtifact({ cacheDir, docker, workload: { source: { format: 'engine', ref: image }, overrides: {} }, modelName: EXAMPLE_MODEL });
    const c = await docker.createContainer({
      Image: artifact.docker.image,
      Env: ['V2_BREAK=model_ready,infer_id,error_json'],
      ExposedPorts: { '8000/tcp': {} },
      Labels: { [testLabel.split('=')[0]!]: String(process.pid) },
      HostConfig: { PortBindings: { '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] }, AutoRemove: false },
    });
    try {
      await c.start();
      const r = await bench(['check-server', `http://127.0.0.1:${port}`, '--model', EXAMPLE_MODEL]);
      expect(r.exitCode, r.stdout + r.stderr).toBe(1);
      const failed = r.stdout.split('\n').filter((l) => l.trim().startsWith('✗'));
      expect(failed.map((l) => l.trim().split(/\s+/)[1])).toEqual(['model_ready', 'infer', 'error_bad_request', 'error_unknown_model']);
      expect(failed[0]).toContain('expected 200, got 404');
      expect(failed[1]).toMatch(/"id" must echo the request's/);
      expect(failed[2]).toContain('got a body that is not JSON');
      expect(r.stdout).toContain('4 of 8 checks failed');
      expect(r.stdout).toMatch(/✓ live/);
    } finally {
      await c.remove({ force: true });
    }
  });

  it('bench run measures the archive on Docker, checking the server first, and the decision record names it', async () => {
    const since = Date.now();
    const scenario = join(tmp, 'byo-docker.yaml');
    const reports = join(tmp, 'reports');
    writeFileSync(
      scenario,
      [
        'name: byo-docker-only',
        'workload: { image: ./server.tar, model_name: dense }',
        'resources: { cpus: 1, memory: 1GiB }',
        'platforms:',
        '  - { name: container, kind: docker, network: bridge }',
        'measurements:',
        '  startup: { repetitions: 2, warmup: 0, timeout: 120s }',
        '  cold_start: { repetitions: 1, timeout: 120s }',
        `report: { formats: [json, decision], out: ${reports} }`,
        '',
      ].join('\n'),
    );
    const results = join(tmp, 'results');
    const r = await bench(['run', scenario, '--results', results]);
    expect(r.exitCode, r.stderr.slice(-2000)).toBe(0);
    const [runId] = readdirSync(results);
    const run = JSON.parse(readFileSync(join(results, runId!, 'run.json'), 'utf8')) as RunRecord;
    expect(run.status).toBe('completed');
    expect(run.server).toMatchObject({ protocol: 'v2', modelName: 'dense', checked: true, passed: true });
    expect(run.server?.checks?.length).toBe(8);
    expect(run.identity?.agreed).toBe(true);
    expect(run.identity?.platforms[0]?.rootfsDigestInside).toBe(run.artifact?.rootfsDigest);
    const startup = run.summaries.find((s) => s.metric === 'startup');
    expect(startup?.summary?.n).toBe(2);
    expect(startup?.unit).toBe('ms');
    expect(startup?.summary?.median).toBeGreaterThan(0);
    expect(run.summaries.find((s) => s.metric === 'cold_start')?.summary?.n).toBe(1);
    const decision = readFileSync(join(reports, 'decision.md'), 'utf8');
    expect(decision).toContain(`own server (image \`${archive}\`)`);
    expect(decision).toMatch(/8 of 8 checks passed/);
    expect(await leftovers(since)).toEqual([]);
  });

  it('protocol: none measures a server unchecked with its own readiness path and request file, and says so', async () => {
    const since = Date.now();
    const scenario = join(tmp, 'byo-none.yaml');
    const reports = join(tmp, 'reports-none');
    const results = join(tmp, 'results-none');
    const body = { id: 'fixed', inputs: [{ name: 'input', shape: [1, 256], datatype: 'FP32', data: Array.from({ length: 256 }, (_, i) => (i % 7) / 7) }] };
    writeFileSync(join(tmp, 'request.json'), JSON.stringify(body));
    writeFileSync(
      scenario,
      [
        'name: byo-unchecked',
        'workload:',
        `  image: ${image}`,
        '  protocol: none',
        '  readiness: /v2/health/ready',
        '  live: /v2/health/live',
        '  request: { path: /v2/models/dense/infer, body: request.json }',
        'resources: { cpus: 1, memory: 1GiB }',
        'platforms:',
        '  - { name: container, kind: docker, network: bridge }',
        'measurements:',
        '  cold_start: { repetitions: 1, timeout: 120s }',
        '  network: { requests: 50 }',
        `report: { formats: [json, decision], out: ${reports} }`,
        '',
      ].join('\n'),
    );
    const r = await bench(['run', scenario, '--results', results]);
    expect(r.exitCode, r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toContain('not checked against the Open Inference Protocol');
    const [runId] = readdirSync(results);
    const run = JSON.parse(readFileSync(join(results, runId!, 'run.json'), 'utf8')) as RunRecord;
    expect(run.server).toMatchObject({ protocol: 'none', checked: false, passed: null, checks: [], readyPath: '/v2/health/ready', livePath: '/v2/health/live' });
    expect(run.server?.request).toMatchObject({ method: 'POST', path: '/v2/models/dense/infer', source: 'file', bytes: Buffer.byteLength(JSON.stringify(body)) });
    expect(run.summaries.find((s) => s.metric === 'cold_start')?.summary?.n).toBe(1);
    expect(run.summaries.find((s) => s.metric === 'network_rtt_p50')?.summary?.median).toBeGreaterThan(0);
    expect(readFileSync(join(reports, 'decision.md'), 'utf8')).toContain('**not checked** against the Open Inference Protocol');
    expect(await leftovers(since)).toEqual([]);
  });
});
