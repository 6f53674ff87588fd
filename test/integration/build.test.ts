import Dockerode from 'dockerode';
import { execa, type ResultPromise } from 'execa';
import { NodeSSH } from 'node-ssh';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCacheDir, serverSourceDir } from '../../src/paths.js';
import { freePort } from '../../src/platforms/host/ports.js';
import type { Artifact } from '../../src/workload/artifact.js';
import { ENDPOINTS, GUEST_DIGEST_FILE } from '../../src/workload/contract.js';
import { listArtifacts, removeArtifacts } from '../../src/workload/build/artifact-store.js';
import { buildArtifact, type BuildProgressEvent } from '../../src/workload/build/build.js';
import { buildKernelCmdline } from '../../src/platforms/linux-guest/kernel-cmdline.js';

// Real debootstrap, real Docker, real QEMU (TCG only: KVM hangs on this host).
// The first run takes about a minute (debootstrap, kernel download); later runs hit the cache.
const docker = new Dockerode();
const testLabel = `vmbench.test=build-${process.pid}`;
let artifact: Artifact;

async function waitReady(base: string, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    try {
      const res = await fetch(base + ENDPOINTS.ready, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - t0;
    } catch {
      // not up yet
    }
    if (performance.now() - t0 > timeoutMs) throw new Error(`${base}${ENDPOINTS.ready} not 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function info(base: string): Promise<{ rootfsDigest: string | null }> {
  const res = await fetch(base + ENDPOINTS.info, { signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  return (await res.json()) as { rootfsDigest: string | null };
}

beforeAll(async () => {
  const events: BuildProgressEvent[] = [];
  const t0 = performance.now();
  artifact = await buildArtifact({ cacheDir: defaultCacheDir(), model: 'resnet18', docker, onProgress: (e) => events.push(e) });
  console.log(`build: ${(performance.now() - t0).toFixed(0)} ms; ${events.filter((e) => e.status !== 'start').map((e) => `${e.step} ${e.status}${e.ms === undefined ? '' : ` ${e.ms} ms`}`).join(', ')}`);
  // Unchanged inputs: the cached artifact comes back in well under 2 s.
  const t1 = performance.now();
  const again = await buildArtifact({ cacheDir: defaultCacheDir(), model: 'resnet18', docker });
  const hitMs = performance.now() - t1;
  console.log(`cache hit: ${hitMs.toFixed(0)} ms`);
  expect(again.id).toBe(artifact.id);
  expect(again.rootfsDigest).toBe(artifact.rootfsDigest);
  expect(hitMs).toBeLessThan(2000);
});

afterAll(async () => {
  const left = await docker.listContainers({ all: true, filters: { label: [testLabel] } });
  for (const c of left) await docker.getContainer(c.Id).remove({ force: true });
});

describe('workload artifact', () => {
  it('has a manifest that describes both substrates', () => {
    expect(artifact.id).toMatch(/^[0-9a-f]{64}$/);
    expect(artifact.rootfsDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(artifact.docker.image).toBe(`vmbench/workload:${artifact.id.slice(0, 12)}`);
    expect(artifact.docker.sizeBytes).toBeGreaterThan(50 * 2 ** 20);
    expect(artifact.vm.kernelVersion).toMatch(/cloud-amd64$/);
    expect(artifact.vm.diskBytes).toBeGreaterThan(50 * 2 ** 20);
    expect(artifact.vm.initrdBytes).toBeLessThan(4 * 2 ** 20);
    expect(artifact.model.name).toBe('resnet18');
    console.log(
      `sizes: image ${(artifact.docker.sizeBytes! / 2 ** 20).toFixed(1)} MiB, qcow2 ${(artifact.vm.diskBytes / 2 ** 20).toFixed(1)} MiB, ` +
        `kernel ${(artifact.vm.kernelBytes / 2 ** 20).toFixed(1)} MiB, initrd ${(artifact.vm.initrdBytes / 2 ** 20).toFixed(2)} MiB`,
    );
  });

  it('runs in Docker (host network) and reports the manifest digest', async () => {
    const port = await freePort();
    const [key, value] = testLabel.split('=') as [string, string];
    const container = await docker.createContainer({
      Image: artifact.docker.image,
      Env: ['VMBENCH_HOST=127.0.0.1', `VMBENCH_PORT=${port}`, 'VMBENCH_THREADS=1'],
      Labels: { [key]: value },
      HostConfig: { NetworkMode: 'host', AutoRemove: false },
    });
    try {
      const t0 = performance.now();
      await container.start();
      const ms = await waitReady(`http://127.0.0.1:${port}`, 60_000);
      console.log(`docker: start→ready ${(performance.now() - t0).toFixed(0)} ms (poll ${ms.toFixed(0)} ms)`);
      expect((await info(`http://127.0.0.1:${port}`)).rootfsDigest).toBe(artifact.rootfsDigest);
    } finally {
      await container.remove({ force: true });
    }
  });

  it('boots as a VM (TCG), serves, accepts SSH/SFTP with the key from the command line, and powers off', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmbench-build-test-'));
    let qemu: ResultPromise | undefined;
    const ssh = new NodeSSH();
    try {
      const overlay = join(dir, 'overlay.qcow2');
      const log = join(dir, 'serial.log');
      const keyFile = join(dir, 'id_ed25519');
      await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', artifact.vm.disk, overlay]);
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'vmbench-test', '-f', keyFile]);
      const pub = (await readFile(`${keyFile}.pub`, 'utf8')).trim();
      const [port, sshPort] = [await freePort(), await freePort()];
      const append = buildKernelCmdline({ guestPort: 8080, threads: 1, modelName: 'model', authorizedKey: pub });
      expect(append).toBe(
        `console=ttyS0 root=/dev/vda rw quiet panic=-1 vmbench.port=8080 vmbench.threads=1 vmbench.model_name=model vmbench.authkey=${Buffer.from(pub).toString('base64')}`,
      );
      const t0 = performance.now();
      qemu = execa('qemu-system-x86_64', [
        '-M', 'pc', '-accel', 'tcg,tb-size=64', '-cpu', 'max', '-smp', '1', '-m', '1024',
        '-display', 'none', '-monitor', 'none', '-no-reboot',
        '-kernel', artifact.vm.kernel, '-initrd', artifact.vm.initrd, '-append', append,
        '-drive', `file=${overlay},if=virtio,format=qcow2`,
        '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:8080,hostfwd=tcp:127.0.0.1:${sshPort}-:22`,
        '-device', 'virtio-net-pci,netdev=n0',
        '-serial', `file:${log}`,
      ], { stdin: 'ignore', reject: false });
      const exited = qemu.then((r) => r);
      const ms = await Promise.race([
        waitReady(`http://127.0.0.1:${port}`, 120_000),
        exited.then((r) => {
          throw new Error(`qemu exited early (${r.exitCode}): ${r.stderr}`);
        }),
      ]);
      console.log(`vm: launch→ready ${ms.toFixed(0)} ms (since spawn ${(performance.now() - t0).toFixed(0)} ms)`);
      expect((await info(`http://127.0.0.1:${port}`)).rootfsDigest).toBe(artifact.rootfsDigest);

      const serial = await readFile(log, 'utf8');
      const phases = serial.split('\n').filter((l) => l.startsWith('VMBENCH_PHASE'));
      console.log(`serial phases:\n  ${phases.join('\n  ')}`);
      for (const p of ['initramfs', 'init', 'network', 'sshd', 'listening', 'ready']) {
        expect(phases.some((l) => l.split(' ')[1] === p), `phase ${p} on the serial console`).toBe(true);
      }

      const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
        try {
          return await fn();
        } catch (err) {
          throw new Error(`${name}: ${(err as Error).message}`, { cause: err });
        }
      };
      const connect = async () => {
        await ssh.connect({ host: '127.0.0.1', port: sshPort, username: 'root', privateKeyPath: keyFile, readyTimeout: 30_000 });
        ssh.connection?.on('error', () => undefined); // the guest going away resets the socket
      };
      // Dropbear 2022.83 (bookworm) closes a session channel opened while another channel's
      // child is exiting (mkj/dropbear#220), e.g. right after an SFTP transfer — sometimes the
      // whole connection with it: retry such an exec, reconnecting when the connection is gone.
      const exec = async (cmd: string) => {
        for (let i = 0; ; i++) {
          try {
            return await ssh.execCommand(cmd);
          } catch (err) {
            const message = (err as Error).message;
            if (i >= 3 || !/Unable to exec|Not connected|ECONNRESET|closed/i.test(message)) throw err;
            await new Promise((r) => setTimeout(r, 300));
            if (!ssh.isConnected()) await connect();
          }
        }
      };
      await connect();
      const cat = await step('ssh cat', () => exec(`cat ${GUEST_DIGEST_FILE}`));
      expect(cat.stdout.trim()).toBe(artifact.rootfsDigest);
      const probe = join(dir, 'probe.txt');
      await writeFile(probe, 'sftp works\n');
      await step('sftp put', () => ssh.putFile(probe, '/tmp/probe.txt'));
      expect((await step('ssh cat probe', () => exec('cat /tmp/probe.txt'))).stdout).toBe('sftp works');
      const t1 = performance.now();
      // poweroff only signals PID 1, so the command returns before dropbear is stopped.
      expect((await step('ssh poweroff', () => exec('poweroff'))).code).toBe(0);
      ssh.dispose();
      const res = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 30_000))]);
      expect(res, 'qemu exits after poweroff').toBeDefined();
      console.log(`vm: poweroff→qemu exit ${(performance.now() - t1).toFixed(0)} ms`);
      expect(await readFile(log, 'utf8')).toContain('VMBENCH_PHASE shutdown');
    } finally {
      ssh.dispose();
      if (qemu && qemu.exitCode === null && qemu.pid !== undefined) {
        qemu.kill('SIGKILL');
        await qemu.catch(() => undefined);
      }
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rebuilds rootfs, image and disk (never debootstrap) when a server file changes; removes exactly that artifact', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmbench-build-server-'));
    let otherId: string | undefined;
    try {
      await cp(serverSourceDir(), dir, { recursive: true });
      await writeFile(join(dir, 'server.mjs'), `${await readFile(join(dir, 'server.mjs'), 'utf8')}\n// changed by build.test.ts\n`);
      const events: BuildProgressEvent[] = [];
      const t0 = performance.now();
      const other = await buildArtifact({ cacheDir: defaultCacheDir(), model: 'resnet18', docker, serverDir: dir, onProgress: (e) => events.push(e) });
      otherId = other.id;
      console.log(`rebuild after a server change: ${(performance.now() - t0).toFixed(0)} ms`);
      expect(other.id).not.toBe(artifact.id);
      expect(other.rootfsDigest).not.toBe(artifact.rootfsDigest);
      const steps = new Set(events.filter((e) => e.status === 'done').map((e) => e.step));
      expect(steps.has('rootfs') && steps.has('docker-image') && steps.has('disk')).toBe(true);
      expect(steps.has('debootstrap')).toBe(false);

      const removed = await removeArtifacts(defaultCacheDir(), docker, [other.id.slice(0, 12)]);
      expect(removed).toEqual([other.id]);
      await expect(docker.getImage(other.docker.image).inspect()).rejects.toMatchObject({ statusCode: 404 });
      expect(await stat(other.dir).catch(() => null)).toBeNull();
      // The first artifact and the caches are untouched.
      const left = await listArtifacts(defaultCacheDir(), docker);
      const mine = left.find((e) => e.id === artifact.id);
      expect(mine?.dockerImageExists && mine.diskExists).toBe(true);
      otherId = undefined;
    } finally {
      if (otherId) await removeArtifacts(defaultCacheDir(), docker, [otherId]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
