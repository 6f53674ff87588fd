/**
 * Real Vagrant (vagrant-libvirt against vmbench's private libvirtd, TCG on this
 * machine kind): sets the host up when needed (scripts/setup-vagrant.sh: never
 * skipped), builds the box from the artifact, `vagrant up`s one VM, times
 * launch → ready, gets a real inference answer, reads the rootfs digest and
 * memory over SSH, `vagrant destroy`s it and checks that no domain, volume,
 * QEMU process or project dir is left.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCacheDir } from '../../src/paths.js';
import { listVmbenchQemuProcesses } from '../../src/platforms/qemu/procs.js';
import { connectSsh } from '../../src/platforms/linux-guest/ssh.js';
import { listPoolVolumes } from '../../src/platforms/vagrant/box-store.js';
import { ensureVagrantHost, type VagrantPaths } from '../../src/platforms/vagrant/env.js';
import { listDomains } from '../../src/platforms/vagrant/cleanup.js';
import { VagrantPlatform, type VagrantInstance, type VagrantPlatformConfig } from '../../src/platforms/vagrant/vagrant-platform.js';
import { freePort } from '../../src/platforms/host/ports.js';
import type { Artifact } from '../../src/workload/artifact.js';
import { buildVagrantBox } from '../../src/workload/build/vm/vagrant-box.js';
import { findOrBuildArtifact, pollReady } from './vm-test-support.js';
import { ENDPOINTS } from '../../src/workload/contract.js';

const cacheDir = defaultCacheDir();
const log = (line: string) => process.stdout.write(`${line}\n`);
const runTag = `${process.pid.toString(36)}${Date.now().toString(36)}`;

describe('Vagrant platform (real vagrant-libvirt VM)', () => {
  let artifact: Artifact;
  let paths: VagrantPaths;
  const runId = `itest-${runTag}-vagrant`;
  const config: VagrantPlatformConfig = {
    cpus: 1,
    memoryBytes: 512 * 2 ** 20,
    provider: 'libvirt',
    accel: 'auto',
    bootTimeoutMs: 240_000,
    tcgTbSizeMiB: 64,
  };

  beforeAll(async () => {
    // Sets up (or fails loudly) rather than skipping: packages, private libvirtd, pool.
    paths = await ensureVagrantHost(cacheDir, log);
    const found = await findOrBuildArtifact(cacheDir, log);
    // A run builds the box with the artifact when a scenario has a vagrant platform; here, the same.
    artifact = { ...found, vagrant: await buildVagrantBox(found, { log }) };
    log(`artifact ${artifact.id.slice(0, 12)} (${artifact.model.name}); libvirt ${paths.uri}`);
  }, 900_000);

  afterAll(async () => {
    await new VagrantPlatform('cleanup', config, { cacheDir }).cleanupRun(runId);
  }, 300_000);

  it('vagrant up → ready, inference, digest over ssh-config, memory, destroy leaves nothing', async () => {
    const platform = new VagrantPlatform('vagrant', config, { cacheDir, log });
    const facts = await platform.prepare(artifact);
    log(`prepare: ${JSON.stringify(facts)}`);
    expect(facts.box).toMatch(/^vmbench-box-[0-9a-f]{12}$/);
    expect(['kvm', 'qemu']).toContain(facts.domainType);

    const port = await freePort();
    let inst: VagrantInstance | undefined;
    try {
      inst = await platform.launch({ runId, instanceId: 'i0', port, threads: 1, modelName: 'model' });
      const lc = inst.lifecycle;
      const returnedAt = performance.now();
      expect(inst.baseUrl).toBe(`http://127.0.0.1:${port}`);
      expect(lc.created).toBeGreaterThanOrEqual(lc.launch);
      expect(lc.started).toBeGreaterThanOrEqual(lc.created!);
      expect(await listDomains(paths)).toContain(inst.domain);
      const qemu = (await listVmbenchQemuProcesses()).filter((p) => p.name === inst!.domain);
      expect(qemu.map((p) => p.pid)).toEqual([inst.pid]);
      if (facts.domainType === 'qemu') {
        // The tb-size wrapper capped the TCG translation cache as the QEMU platform does.
        expect(qemu[0]!.argv.join(' ')).toContain('tcg,tb-size=64');
      }

      const ready = await pollReady(inst.baseUrl, 180_000);
      lc.ready = ready.at;
      const startupMs = ready.at - lc.launch;
      log(
        `startup ${(startupMs / 1000).toFixed(1)} s (vagrant up ${(Number(inst.facts.vagrantUpMs) / 1000).toFixed(1)} s, created +${(lc.created! - lc.launch).toFixed(0)} ms, started +${(
          lc.started! - lc.launch
        ).toFixed(0)} ms, launch() returned +${(returnedAt - lc.launch).toFixed(0)} ms, ${ready.polls} polls)`,
      );
      expect(startupMs).toBeGreaterThan(0);
      expect(startupMs).toBeGreaterThanOrEqual(Number(inst.facts.vagrantUpMs) - 1);

      const phases = await platform.startupPhases(inst);
      log(`phases: ${JSON.stringify(phases.phases)}`);
      expect(phases.phases.kernel_init).toBeGreaterThan(0);

      const body = Buffer.alloc(1 * 3 * 224 * 224 * 4);
      const t0 = performance.now();
      const res = await fetch(inst.baseUrl + ENDPOINTS.infer('model'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream' },
        body,
        signal: AbortSignal.timeout(120_000),
      });
      const json = (await res.json()) as { outputs: { shape: number[]; data: number[] }[] };
      log(`inference: HTTP ${res.status} in ${(performance.now() - t0).toFixed(0)} ms`);
      expect(res.status).toBe(200);
      expect(json.outputs[0]!.shape).toEqual([1, 1000]);
      expect(json.outputs[0]!.data.every((v) => Number.isFinite(v))).toBe(true);

      // SSH as `vagrant ssh-config` describes it.
      const cfg = await platform.sshConfig(inst);
      expect(cfg).toMatchObject({ host: '127.0.0.1', port: inst.sshPort, user: 'root' });
      const ssh = await connectSsh({ port: cfg.port, privateKeyPath: cfg.identityFile, timeoutMs: 30_000 });
      const digest = await ssh.exec('cat /etc/vmbench/rootfs.sha256');
      ssh.dispose();
      expect(digest.stdout.trim()).toBe(artifact.rootfsDigest);

      const mem = await platform.memoryReading(inst);
      log(`memory: qemu PSS ${(mem.host.attributableBytes / 2 ** 20).toFixed(0)} MiB, libvirtd PSS ${((mem.host.info.libvirtdPss ?? 0) / 2 ** 20).toFixed(0)} MiB, workload PSS ${(mem.workload.pssBytes / 2 ** 20).toFixed(0)} MiB`);
      expect(mem.kind).toBe('vagrant');
      expect(mem.host.counted.qemuPss).toBeGreaterThan(64 * 2 ** 20);
      expect(mem.host.info.libvirtdPss).toBeGreaterThan(0);
      expect(inst.facts.libvirtdPssMiB).toBeGreaterThan(0); // recorded apart in the memory samples' metadata
      expect(mem.workload.pssBytes).toBeGreaterThan(16 * 2 ** 20);
    } finally {
      if (inst) {
        await platform.stop(inst);
        log(`stop: ${(inst.lifecycle.stopped! - inst.lifecycle.stopBegin!).toFixed(0)} ms via ${inst.facts.stopMethod}`);
      }
    }
    expect(inst!.facts.stopMethod).toBe('vagrant-destroy');
    expect((await listDomains(paths)).filter((d) => d.startsWith(`vmbench-${runId}-`))).toEqual([]);
    expect((await listPoolVolumes(paths)).filter((v) => v.startsWith(`vmbench-${runId}-`))).toEqual([]);
    expect((await listVmbenchQemuProcesses()).filter((p) => p.name.startsWith(`vmbench-${runId}-`))).toEqual([]);
    expect(existsSync(inst!.envDir)).toBe(false);
    expect(existsSync(join(paths.envs, runId))).toBe(false);
  }, 600_000);
});
