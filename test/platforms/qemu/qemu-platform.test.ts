import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BenchError } from '../../../src/errors.js';
import { QemuPlatform, type QemuPlatformConfig } from '../../../src/platforms/qemu/qemu-platform.js';
import type { Artifact } from '../../../src/workload/artifact.js';

const dir = mkdtempSync(join(tmpdir(), 'vmbench-qemu-platform-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


const config: QemuPlatformConfig = { cpus: 1, memoryBytes: 512 * 2 ** 20, accel: 'tcg', machine: 'auto', bootTimeoutMs: 60_000 };

function fakeArtifact(files = true): Artifact {
  const p = (n: string) => join(dir, n);
  if (files) for (const n of ['disk.qcow2', 'vmlinuz', 'initrd.img']) writeFileSync(p(n), 'x');
  return {
    id: 'a'.repeat(64),
    rootfsDigest: 'b'.repeat(64),
    dir,
    docker: { image: 'vmbench:test' },
    vm: {
      disk: p('disk.qcow2'),
      kernel: p('vmlinuz'),
      initrd: p('initrd.img'),
      kernelVersion: '6.1.0-test',
      diskBytes: 1,
      kernelBytes: 1,
      initrdBytes: 1,
    },
    model: { name: 'resnet18', source: 'test', sha256: 'c'.repeat(64), bytes: 1 },
    debianSuite: 'bookworm',
    createdAt: new Date(0).toISOString(),
  };
}

describe('QemuPlatform', () => {
  it('prepare (TCG): versions, machine auto → pc, no probe', async () => {
    const p = new QemuPlatform('q', config, { cacheDir: join(dir, 'cache') });
    const facts = await p.prepare(fakeArtifact());
    expect(facts).toMatchObject({
      accel: 'tcg',
      accelReason: 'tcg requested',
      machine: 'pc',
      kernelVersion: '6.1.0-test',
      cpuModel: 'max',
      memoryMiB: 512,
      tcgTbSizeMiB: 64,
    });
    expect(String(facts.qemuVersion)).toMatch(/^\d+\.\d+/);
    expect(existsSync(join(dir, 'cache', 'accel-probe.json'))).toBe(false);
    const micro = new QemuPlatform('q', { ...config, machine: 'microvm' }, { cacheDir: dir });
    expect((await micro.prepare(fakeArtifact())).machine).toBe('microvm');
  });

  it('prepare fails clearly when the artifact files are gone', async () => {
    const a = fakeArtifact(false);
    a.vm.disk = join(dir, 'gone.qcow2');
    const p = new QemuPlatform('q', config, { cacheDir: dir });
    await expect(p.prepare(a)).rejects.toMatchObject({ kind: 'infrastructure', hint: expect.stringMatching(/rebuild/) });
  });

  it('launch before prepare is a bug, and ids are validated', async () => {
    const p = new QemuPlatform('q', config, { cacheDir: dir });
    await expect(p.launch({ runId: 'r', instanceId: 'i', port: 1, threads: 1, modelName: 'model' })).rejects.toMatchObject({
      kind: 'internal',
    });
    await expect(p.cleanupRun('../etc')).rejects.toThrow(BenchError);
  });
});
