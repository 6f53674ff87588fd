import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BenchError, messageOf } from '../../../errors.js';
import type { Artifact, VagrantBox } from '../../../workload/artifact.js';
import { SERVER_PORT_INSIDE } from '../../../workload/contract.js';
import { LOOPBACK } from '../../host/ports.js';
import { ConsolePhaseRecorder, FOLLOW_INTERVAL_MS, followConsolePhases, qemuStartupPhases, stopConsolePhases } from '../../linux-guest/console-phases.js';
import { ConsoleTail } from '../../linux-guest/console.js';
import { assertVmArtifactFiles, sshTrueRoundTrips } from '../../linux-guest/guest.js';
import { buildKernelCmdline } from '../../linux-guest/kernel-cmdline.js';
import { writeSshKeyPair } from '../../linux-guest/ssh.js';
import type { MemoryReading } from '../../memory-reading.js';
import { type Instance, type InstanceSpec, type Lifecycle, type PlatformFacts, type PlatformKind } from '../../platform.js';
import type { ResolvedAccel } from '../../qemu/accel.js';
import { readQemuMemory } from '../../qemu/memory.js';
import { checkId, MARKER_FILE as HOST_DIR_MARKER } from '../../qemu/instance.js';
import { vmName } from '../../qemu/procs.js';
import type { PhaseTimeline } from '../../timeline.js';
import { ensureBoxAdded } from '../../vagrant/box-store.js';
import { cleanupVagrant, destroyEnvironment } from '../../vagrant/cleanup.js';
import { vagrantError, vagrantVersions } from '../../vagrant/commands.js';
import { vagrantPaths, vagrantProcessEnv, virsh, type VagrantPaths } from '../../vagrant/env.js';
import type { VagrantPlatformConfig } from '../../vagrant/vagrant-platform.js';
import { buildVagrantfile } from '../../vagrant/vagrantfile.js';
import { vagrantUp } from '../../vagrant/up.js';
import { RemoteGuestPlatform } from '../remote-guest-platform.js';
import type { RemoteHost } from '../remote-host.js';
import { shq } from '../ssh-connection.js';
import { resolveRemoteAccelerator } from '../qemu/remote-accel.js';
import { mirrorFile } from '../qemu/remote-child.js';
import { remoteLibvirt, type RemoteLibvirt } from './libvirt-uri.js';

/**
 * Vagrant against a remote host's libvirt (kind: vagrant with host: NAME):
 * Vagrant, its box store and the per-instance projects stay on this
 * machine; vagrant-libvirt talks to libvirtd there over the qemu+ssh:// URI
 * (libvirt-uri.ts) — it uploads the box volume into that host's pool once,
 * defines the domain, and libvirtd starts QEMU there. The kernel and
 * initramfs are copied to the host's cache (by digest) because libvirt reads
 * them on its side; the console file is written there and mirrored here;
 * the guest's SSH and server forwards listen on that host's 127.0.0.1,
 * reached through the SSH connection (Vagrant: a ProxyCommand), and
 * readiness, load and memory come from the helper there, like every remote
 * platform. A domain is not tied to the SSH connection (libvirtd keeps it):
 * stop, the end of a run and `bench gc` (the projects here name the URI)
 * destroy it.
 */

export interface RemoteVagrantInstance extends Instance {
  readonly kind: 'vagrant';
  readonly facts: Record<string, string | number | boolean>;
  readonly domain: string;
  readonly pid: number;
  readonly sshPort: number;
  readonly hostPort: number;
  readonly privateKeyPath: string;
  readonly envDir: string;
  readonly remoteDir: string;
}

interface Prepared {
  box: VagrantBox;
  accel: ResolvedAccel;
  libvirt: RemoteLibvirt;
  paths: VagrantPaths;
  files: { kernel: string; initrd: string };
  workDir: string;
  versions: { vagrant: string; plugin: string; libvirtd: string };
}

const MARKER_FILE = 'vagrant-instance.json';
// The scratch dir on the host carries the remote QEMU platform's marker, so `bench gc --host` finds it after a crash.
const mirrors = new WeakMap<RemoteVagrantInstance, { stop(): void }>();

export class RemoteVagrantPlatform extends RemoteGuestPlatform<RemoteVagrantInstance> {
  readonly kind: PlatformKind = 'vagrant';
  get cpus(): number {
    return this.config.cpus;
  }
  private prepared: Prepared | undefined;

  constructor(
    name: string,
    readonly config: VagrantPlatformConfig,
    host: RemoteHost,
    ctx: { cacheDir: string; log?: (line: string) => void },
  ) {
    super(name, host, ctx);
  }

  private need(): Prepared {
    if (!this.prepared) throw new BenchError('internal', `RemoteVagrantPlatform ${this.name} used before prepare()`);
    return this.prepared;
  }

  private get memoryMiB(): number {
    return Math.floor(this.config.memoryBytes / 2 ** 20);
  }

  async prepare(artifact: Artifact): Promise<PlatformFacts> {
    await assertVmArtifactFiles(artifact);
    if (!artifact.vagrant) throw new BenchError('internal', `vagrant platform ${this.name}: the artifact was built without its Vagrant box`);
    if (this.config.gpu) throw new BenchError('unsupported', `${this.name}: PCI passthrough on a remote libvirt is not built (host ${this.host.name})`);
    const box = artifact.vagrant;
    const h = this.host.config;
    const libvirt = await remoteLibvirt(h, this.ctx.cacheDir);
    const local = vagrantPaths(this.ctx.cacheDir);
    const paths: VagrantPaths = { ...local, uri: libvirt.uri, pool: h.libvirt.pool };
    const t0 = performance.now();
    const answer = await virsh(paths, ['version', '--daemon'], 30_000);
    if (answer.exitCode !== 0) {
      throw new BenchError('infrastructure', `host ${this.host.name}: libvirt does not answer at ${libvirt.uri}: ${answer.stderr.trim().split('\n').slice(-2).join(' / ')}`, {
        hint: `check it by hand: virsh -c '${libvirt.uri}' version --daemon (the SSH user needs access to libvirtd's socket there${h.libvirt.socket ? ', and nc on that host for ?socket=' : ''})`,
        category: 'host_unreachable',
      });
    }
    const pool = await virsh(paths, ['pool-info', paths.pool], 30_000);
    if (pool.exitCode !== 0 || !/State:\s+running/.test(pool.stdout)) {
      throw new BenchError('unsupported', `host ${this.host.name}: libvirt storage pool "${paths.pool}" is not running there`, {
        hint: 'name a running pool with hosts.<name>.libvirt.pool (virsh pool-list there)',
      });
    }
    const added = await ensureBoxAdded(local, box, (l) => this.log(l));
    const kernel = await this.host.ensureFile(artifact.vm.kernel, 'vmlinuz');
    const initrd = await this.host.ensureFile(artifact.vm.initrd, 'initrd.img');
    const conn = await this.host.connection();
    const qemuSystem = (await conn.exec('command -v qemu-system-x86_64')).stdout.trim();
    const accel = await resolveRemoteAccelerator(this.host, this.config.accel, {
      qemuSystem: qemuSystem || 'qemu-system-x86_64', kernel: kernel.path, machine: 'pc', hostKhz: null, cacheDir: this.ctx.cacheDir, log: (l) => this.log(l),
    });
    const versions = await vagrantVersions(paths);
    this.prepared = { box, accel, libvirt, paths, files: { kernel: kernel.path, initrd: initrd.path }, workDir: await this.host.workDir(), versions };
    this.log(`vagrant ${versions.vagrant}, vagrant-libvirt ${versions.plugin} here; libvirtd ${versions.libvirtd} on ${this.host.name} (${libvirt.uri}), box ${box.name} (${added}), accel ${accel.accel}`);
    return {
      host: this.host.name,
      vagrantVersion: versions.vagrant,
      vagrantLibvirtVersion: versions.plugin,
      libvirtdVersion: versions.libvirtd,
      provider: this.config.provider,
      libvirtUri: libvirt.uri,
      libvirtPool: paths.pool,
      libvirtConnectMs: Math.round(performance.now() - t0),
      box: box.name,
      boxBytes: box.bytes,
      accel: accel.accel,
      accelReason: accel.reason,
      domainType: accel.accel === 'kvm' ? 'kvm' : 'qemu',
      machine: 'pc',
      cpuModel: 'maximum',
      kernelVersion: artifact.vm.kernelVersion,
      cpus: this.config.cpus,
      memoryMiB: this.memoryMiB,
      network: 'user-hostfwd (qemuargs) + udp-tunnel nic, on the host',
      artifactOnHost: [kernel, initrd].some((f) => f.uploaded) ? 'kernel/initramfs copied, verified by sha256 on arrival' : 'present (verified on an earlier arrival)',
    };
  }

  protected async doLaunch(spec: InstanceSpec, lifecycle: Lifecycle): Promise<RemoteVagrantInstance> {
    const p = this.need();
    checkId('runId', spec.runId);
    checkId('instanceId', spec.instanceId);
    const domain = vmName(spec.runId, spec.instanceId);
    const envDir = join(p.paths.envs, spec.runId, spec.instanceId);
    const remoteDir = `${p.workDir}/runs/${spec.runId}/${spec.instanceId}`;
    const consoleLog = `${remoteDir}/console.log`;
    const conn = await this.host.connection();
    await rm(envDir, { recursive: true, force: true });
    await mkdir(envDir, { recursive: true });
    const marker = { platform: 'vagrant', name: this.name, host: this.host.name, runId: spec.runId, instanceId: spec.instanceId, domain, createdAt: new Date().toISOString() };
    await writeFile(join(envDir, MARKER_FILE), `${JSON.stringify(marker)}\n`);
    let recorder: ConsolePhaseRecorder | undefined;
    let mirror: { stop(): void } | undefined;
    try {
      await conn.run(`rm -rf ${shq(remoteDir)} && mkdir -p ${shq(remoteDir)} && printf '%s\\n' ${shq(JSON.stringify(marker))} > ${shq(`${remoteDir}/${HOST_DIR_MARKER}`)}`);
      const keys = await writeSshKeyPair(envDir, 'id_ed25519', domain);
      const cmdline = buildKernelCmdline({ guestPort: SERVER_PORT_INSIDE, threads: spec.threads, modelName: spec.modelName, authorizedKey: keys.publicKeyLine });
      const hostPort = await this.host.freePort();
      const sshPort = await this.host.freePort([hostPort]);
      const tunnelLocalPort = await this.host.freePort([hostPort, sshPort]);
      const tunnelRemotePort = await this.host.freePort([hostPort, sshPort, tunnelLocalPort]);
      const emulator = this.host.config.libvirt.emulator;
      await writeFile(
        join(envDir, 'Vagrantfile'),
        buildVagrantfile({
          machineName: domain, boxName: p.box.name, uri: p.libvirt.uri, storagePool: p.paths.pool, driver: p.accel.accel === 'kvm' ? 'kvm' : 'qemu',
          cpus: this.config.cpus, memoryMiB: this.memoryMiB, cmdline, consoleLog, hostPort, guestPort: SERVER_PORT_INSIDE, sshPort, tunnelLocalPort, tunnelRemotePort,
          privateKeyPath: keys.privateKeyPath, bootTimeoutS: this.config.bootTimeoutMs / 1000, proxyCommand: p.libvirt.proxyCommand(sshPort),
          kernel: p.files.kernel, initrd: p.files.initrd,
          ...(emulator ? { emulatorPath: emulator, tcgTbSizeMiB: p.accel.accel === 'tcg' ? this.config.tcgTbSizeMiB : 0 } : {}),
        }),
      );
      // The console arrives here through `tail -F` over the connection once QEMU runs; phases are timed on arrival.
      const mirrorPath = join(envDir, 'console.log');
      await writeFile(mirrorPath, '');
      const tailer = new ConsoleTail(mirrorPath);
      recorder = new ConsolePhaseRecorder(tailer);
      recorder.follow(FOLLOW_INTERVAL_MS, () => false);
      let pid = 0;
      const startMirror = async (): Promise<void> => {
        pid = await this.qemuPid(domain).catch(() => 0);
        if (pid > 0 && !mirror) mirror = await mirrorFile(conn, consoleLog, mirrorPath, pid).catch(() => undefined);
      };
      this.log(`${domain}: vagrant up against ${this.host.name} (ssh ${sshPort}, server ${hostPort} on its ${LOOPBACK})`);
      const up = await vagrantUp(envDir, vagrantProcessEnv(p.paths), this.config.bootTimeoutMs + 180_000, {
        created: () => this.mark(lifecycle, 'created'),
        started: () => {
          this.mark(lifecycle, 'started');
          void startMirror();
        },
      });
      if (up.exitCode !== 0) {
        await startMirror();
        await new Promise((r) => setTimeout(r, 500));
        await tailer.poll().catch(() => undefined);
        const lines = tailer.lastLines(10).map((l) => `  | ${l}`).join('\n');
        throw new BenchError(
          'infrastructure',
          `vagrant up ${domain} on ${this.host.name} failed (exit ${up.exitCode ?? '?'}${up.timedOut ? ', timed out' : ''}) after ${(up.ms / 1000).toFixed(1)} s: ${vagrantError(up.output)}` +
            (lines ? `\nLast console lines:\n${lines}` : ''),
          conn.lost !== null ? { category: 'host_unreachable' } : {},
        );
      }
      if (lifecycle.created === undefined) this.mark(lifecycle, 'created');
      if (lifecycle.started === undefined) this.mark(lifecycle, 'started');
      if (!mirror) await startMirror();
      if (pid <= 0) throw new BenchError('infrastructure', `no QEMU process for domain ${domain} on ${this.host.name} after vagrant up`);
      const facts: Record<string, string | number | boolean> = {
        host: this.host.name, pid, domain, vmName: domain, box: p.box.name, accel: p.accel.accel, domainType: p.accel.accel === 'kvm' ? 'kvm' : 'qemu',
        runtime: `vagrant-libvirt (qemu-${p.accel.accel}) on ${this.host.name}`, machine: 'pc', cpus: this.config.cpus, memoryMiB: this.memoryMiB,
        sshPort, hostPort, guestPort: SERVER_PORT_INSIDE, consoleLog, envDir, remoteDir, network: 'user-hostfwd', vagrantUpMs: Math.round(up.ms),
        libvirtUri: p.libvirt.uri, consoleSource: 'tail -F over ssh (arrival here, late by half a round trip)',
      };
      const inst: RemoteVagrantInstance = {
        id: spec.instanceId, runId: spec.runId, platformName: this.name, kind: 'vagrant', baseUrl: `http://${LOOPBACK}:${hostPort}`, lifecycle, facts,
        loadSite: this.host.site, domain, pid, sshPort, hostPort, privateKeyPath: keys.privateKeyPath, envDir, remoteDir,
      };
      if (mirror) mirrors.set(inst, mirror);
      followConsolePhases(inst, recorder, () => false);
      this.log(`${domain}: up on ${this.host.name} in ${(up.ms / 1000).toFixed(1)} s (qemu pid ${pid} there)`);
      return inst;
    } catch (err) {
      await recorder?.stop();
      mirror?.stop();
      await this.destroy(envDir, domain, remoteDir).catch((e: unknown) => this.log(`${domain}: cleanup after failed launch: ${messageOf(e)}`));
      throw err;
    }
  }

  /** The domain's QEMU on the host, by the `-name guest=<domain>,` libvirt gives it. */
  private async qemuPid(domain: string): Promise<number> {
    const r = await (await this.host.connection()).exec(`pgrep -f -- ${shq(`-name guest=${domain},`)} | head -n 1`);
    const pid = Number(r.stdout.trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new BenchError('infrastructure', `no QEMU for domain ${domain} on ${this.host.name}`);
    return pid;
  }

  private async destroy(envDir: string, domain: string, remoteDir: string): Promise<{ method: string; destroyMs: number }> {
    const p = this.need();
    try {
      return await destroyEnvironment(p.paths, envDir, domain, (l) => this.log(l));
    } finally {
      const conn = await this.host.connection().catch(() => null);
      await conn?.exec(`rm -rf ${shq(remoteDir)}; rmdir ${shq(remoteDir.replace(/\/[^/]+$/, ''))} 2>/dev/null; true`).catch(() => undefined);
      await rmdir(join(p.paths.envs, envDir.split('/').at(-2) ?? '')).catch(() => undefined);
    }
  }

  protected async doStop(inst: RemoteVagrantInstance): Promise<void> {
    await stopConsolePhases(inst);
    mirrors.get(inst)?.stop();
    const r = await this.destroy(inst.envDir, inst.domain, inst.remoteDir);
    inst.facts.stopMethod = r.method;
    inst.facts.vagrantDestroyMs = Math.round(r.destroyMs);
  }

  /** QEMU's PSS from the host's /proc (through the helper: the SSH user must be allowed to read libvirt's QEMU), the server's inside the guest. */
  override async memoryReading(inst: RemoteVagrantInstance): Promise<MemoryReading> {
    const r = await readQemuMemory(inst, { fs: this.host.fs, guestSock: async () => (await this.host.connection()).openLoopback(inst.sshPort) });
    return { ...r, kind: 'vagrant', method: `${r.method}; qemu started by libvirtd on ${this.host.name} (pid by its -name guest=${inst.domain})` };
  }

  override async startupPhases(inst: RemoteVagrantInstance): Promise<PhaseTimeline> {
    return qemuStartupPhases(inst);
  }

  override async execRoundTripMs(inst: RemoteVagrantInstance, count: number): Promise<number[]> {
    return sshTrueRoundTrips(await this.guestSsh(inst, 30_000), count);
  }

  /** Every project of the run here, and every domain of the run on the host's libvirt. */
  async cleanupRun(runId: string): Promise<void> {
    checkId('runId', runId);
    if (!this.prepared) return;
    await cleanupVagrant(resolve(this.ctx.cacheDir), { runId, paths: this.prepared.paths, log: (l) => this.log(l) });
    const conn = await this.host.connection().catch(() => null);
    await conn?.exec(`rm -rf ${shq(`${this.prepared.workDir}/runs/${runId}`)}`).catch(() => undefined);
  }
}
