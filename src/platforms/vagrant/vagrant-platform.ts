import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { BenchError, messageOf } from '../../errors.js';
import type { PhaseTimeline } from '../timeline.js';
import type { Artifact, VagrantBox } from '../../workload/artifact.js';
import { readProcessMemory } from '../host/proc-memory.js';
import { readQemuMemory } from '../qemu/memory.js';
import { pinProcess } from '../host/pin.js';
import { assertVmArtifactFiles, sshTrueRoundTrips } from '../linux-guest/guest.js';
import type { MemoryReading } from '../memory-reading.js';
import { ConsolePhaseRecorder, FOLLOW_INTERVAL_MS, followConsolePhases, qemuStartupPhases, stopConsolePhases } from '../linux-guest/console-phases.js';
import { Platform, type Instance, type InstanceSpec, type Lifecycle, type PlatformFacts, type PlatformKind } from '../platform.js';
import { resolveAccelerator, type ResolvedAccel } from '../qemu/accel.js';
import { SERVER_PORT_INSIDE } from '../../workload/contract.js';
import { buildKernelCmdline } from '../linux-guest/kernel-cmdline.js';
import { ConsoleTail } from '../linux-guest/console.js';
import { isPortFree, LOOPBACK, pickFreePort } from '../host/ports.js';
import { isAlive, vmName } from '../qemu/procs.js';
import { connectSsh, writeSshKeyPair } from '../linux-guest/ssh.js';
import { ensureBoxAdded } from './box-store.js';
import { ensureVagrantHost, type VagrantPaths, vagrantPaths, vagrantProcessEnv } from './env.js';
import { buildVagrantfile, parseSshConfig, type SshConfig } from './vagrantfile.js';
import { cleanupVagrant, destroyEnvironment } from './cleanup.js';
import { vagrantUp } from './up.js';
import { readVfioHostState, type VfioHostState } from '../qemu/vfio.js';
import { readGuestGpu } from '../linux-guest/guest-gpu.js';
import type { GpuReading } from '../gpu-reading.js';
import { resolvePciPassthrough } from './pci.js';
import { tail, vagrantError, vagrantVersions } from './commands.js';

/**
 * Vagrant substrate (kind: vagrant, provider libvirt): one Vagrant project per
 * instance under <cacheDir>/vagrant/envs/<runId>/<instanceId>/, brought up with
 * `vagrant up` from the box built from the same artifact as the container and
 * the QEMU VM, against vmbench's private libvirtd (see env.ts,
 * scripts/setup-vagrant.sh). The VM boots the same kernel + initramfs + disk
 * as the QEMU platform (machine pc, i440fx), the same kernel command line
 * (SSH key, threads), the same user-net forwards on 127.0.0.1; what differs is
 * what Vagrant and libvirt add: vagrant's own start-up and SSH wait, libvirt's
 * domain definition and device set, libvirtd itself.
 *
 * Lifecycle: launch = `vagrant up` is spawned; created = vagrant printed
 * "Starting domain." (domain defined, volume created); started = vagrant
 * printed "Waiting for domain to get an IP address" (libvirt started QEMU);
 * launch() returns when `vagrant up` exits (it waits for SSH); `vagrant
 * ssh-config` is read at the first SSH use (memory, exec round trips). Stop is
 * `vagrant destroy -f` (falls back to virsh destroy/undefine); the instance's
 * project dir is removed on every path.
 */

export type VagrantPlatformConfig = {
  cpus: number;
  memoryBytes: number;
  provider: 'libvirt';
  accel: 'auto' | 'kvm' | 'tcg';
  bootTimeoutMs: number;
  /** TCG translation-cache cap in MiB (0 = QEMU's default); ignored under KVM. */
  tcgTbSizeMiB: number;
  /** device: gpu — PCI devices for libvirt.pci, and whether CPU may stand in when they cannot be passed through. */
  gpu?: { pci: string[]; fallback: boolean };
};

export interface VagrantPlatformContext {
  cacheDir: string;
  artifact?: Artifact;
  log?: (line: string) => void;
}

export interface VagrantInstance extends Instance {
  readonly kind: 'vagrant';
  readonly facts: Record<string, string | number | boolean>;
  readonly domain: string;
  /** PID of the libvirt-started QEMU process. */
  readonly pid: number;
  readonly sshPort: number;
  readonly privateKeyPath: string;
  readonly hostPort: number;
  readonly envDir: string;
  readonly consoleLog: string;
}

const MARKER_FILE = 'vagrant-instance.json';
const sshConfigs = new WeakMap<VagrantInstance, SshConfig>();

function checkId(what: string, v: string): void {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(v) || v.length > 60) {
    throw new BenchError('internal', `${what} ${JSON.stringify(v)} must match [a-z0-9][a-z0-9-]* (≤ 60 chars)`);
  }
}

export class VagrantPlatform extends Platform<VagrantInstance> {
  readonly kind: PlatformKind = 'vagrant';
  get cpus(): number {
    return this.config.cpus;
  }
  private readonly cacheDir: string;
  private paths: VagrantPaths;
  private artifact: Artifact | undefined;
  private box: VagrantBox | undefined;
  private accel: ResolvedAccel | undefined;
  private versions: { vagrant: string; plugin: string; libvirtd: string } | undefined;
  /** Devices actually passed through (none when fallback: cpu had to stand in). */
  private pci: string[] = [];

  constructor(
    name: string,
    readonly config: VagrantPlatformConfig,
    private readonly ctx: VagrantPlatformContext,
    /** How the host's IOMMU and PCI state is read (tests pass a fixture tree). */
    private readonly vfioHost: (addresses: string[]) => Promise<VfioHostState> = (a) => readVfioHostState(a),
  ) {
    super(name);
    this.cacheDir = resolve(ctx.cacheDir);
    this.paths = vagrantPaths(this.cacheDir);
    this.artifact = ctx.artifact;
  }

  private log(line: string): void {
    this.ctx.log?.(`[${this.name}] ${line}`);
  }

  get memoryMiB(): number {
    return Math.floor(this.config.memoryBytes / 2 ** 20);
  }

  private env(): Record<string, string> {
    return vagrantProcessEnv(this.paths);
  }

  /** Private libvirtd + pool (setup script when needed), the box built and added, the accelerator resolved. */
  async prepare(artifact: Artifact): Promise<PlatformFacts> {
    this.artifact = artifact;
    this.paths = await ensureVagrantHost(this.cacheDir, (l) => this.log(l));
    await assertVmArtifactFiles(artifact);
    if (!artifact.vagrant) {
      throw new BenchError('internal', `vagrant platform ${this.name}: the artifact was built without its Vagrant box (buildArtifact({ vagrantBox: true }))`);
    }
    this.box = artifact.vagrant;
    const added = await ensureBoxAdded(this.paths, this.box, (l) => this.log(l));
    this.accel = await resolveAccelerator(this.config.accel, {
      kernel: artifact.vm.kernel,
      cacheDir: this.cacheDir,
      machine: 'pc',
      log: (l) => this.log(l),
    });
    this.versions = await vagrantVersions(this.paths);
    this.log(`vagrant ${this.versions.vagrant}, vagrant-libvirt ${this.versions.plugin}, libvirtd ${this.versions.libvirtd}, box ${this.box.name} (${added}), domain type ${this.driver()}`);
    const facts: PlatformFacts = {
      vagrantVersion: this.versions.vagrant,
      vagrantLibvirtVersion: this.versions.plugin,
      libvirtdVersion: this.versions.libvirtd,
      provider: this.config.provider,
      libvirtUri: this.paths.uri,
      box: this.box.name,
      boxBytes: this.box.bytes,
      accel: this.accel.accel,
      accelReason: this.accel.reason,
      domainType: this.driver(),
      machine: 'pc',
      cpuModel: 'maximum',
      kernelVersion: artifact.vm.kernelVersion,
      cpus: this.config.cpus,
      memoryMiB: this.memoryMiB,
      network: 'user-hostfwd (qemuargs) + udp-tunnel nic',
    };
    if (this.accel.accel === 'tcg') facts.tcgTbSizeMiB = this.config.tcgTbSizeMiB;
    const gpu = await resolvePciPassthrough(this.config.gpu, this.accel.accel, this.vfioHost);
    this.pci = gpu.pci;
    return { ...facts, ...gpu.facts };
  }

  private driver(): 'kvm' | 'qemu' {
    return this.accel?.accel === 'kvm' ? 'kvm' : 'qemu';
  }

  private envDir(runId: string, instanceId: string): string {
    return join(this.paths.envs, runId, instanceId);
  }

  protected async doLaunch(spec: InstanceSpec, lifecycle: Lifecycle): Promise<VagrantInstance> {
    const artifact = this.artifact;
    const box = this.box;
    const accel = this.accel;
    if (!artifact || !box || !accel) throw new BenchError('internal', 'VagrantPlatform.launch() called before prepare()');
    checkId('runId', spec.runId);
    checkId('instanceId', spec.instanceId);
    if (!(await isPortFree(spec.port))) throw new BenchError('infrastructure', `host port ${LOOPBACK}:${spec.port} is already in use`);

    const domain = vmName(spec.runId, spec.instanceId);
    const envDir = this.envDir(spec.runId, spec.instanceId);
    await rm(envDir, { recursive: true, force: true });
    await mkdir(envDir, { recursive: true });
    await writeFile(
      join(envDir, MARKER_FILE),
      `${JSON.stringify({ platform: 'vagrant', name: this.name, runId: spec.runId, instanceId: spec.instanceId, domain, createdAt: new Date().toISOString() })}\n`,
    );
    const consoleLog = join(envDir, 'console.log');
    let recorder: ConsolePhaseRecorder | undefined;
    try {
      const keys = await writeSshKeyPair(envDir, 'id_ed25519', domain);
      const cmdline = buildKernelCmdline({
        guestPort: SERVER_PORT_INSIDE,
        threads: spec.threads,
        modelName: spec.modelName,
        authorizedKey: keys.publicKeyLine,
        ...(this.config.gpu ? { device: 'gpu' as const, fallback: this.config.gpu.fallback } : {}),
      });
      const sshPort = await pickFreePort([spec.port]);
      const tunnelLocalPort = await pickFreePort([spec.port, sshPort]);
      const tunnelRemotePort = await pickFreePort([spec.port, sshPort, tunnelLocalPort]);
      const vagrantfile = buildVagrantfile({
        machineName: domain,
        boxName: box.name,
        uri: this.paths.uri,
        storagePool: this.paths.pool,
        driver: this.driver(),
        cpus: this.config.cpus,
        memoryMiB: this.memoryMiB,
        cmdline,
        consoleLog,
        hostPort: spec.port,
        guestPort: SERVER_PORT_INSIDE,
        sshPort,
        tunnelLocalPort,
        tunnelRemotePort,
        privateKeyPath: keys.privateKeyPath,
        emulatorPath: this.paths.qemuTbWrapper,
        tcgTbSizeMiB: accel.accel === 'tcg' ? this.config.tcgTbSizeMiB : 0,
        bootTimeoutS: this.config.bootTimeoutMs / 1000,
        pci: this.pci,
      });
      await writeFile(join(envDir, 'Vagrantfile'), vagrantfile);

      // Console phases are timed on arrival from the moment vagrant up starts.
      const tailer = new ConsoleTail(consoleLog);
      recorder = new ConsolePhaseRecorder(tailer);
      recorder.follow(FOLLOW_INTERVAL_MS, () => false);

      this.log(`${domain}: vagrant up (ssh ${sshPort}, server ${spec.port})`);
      const up = await vagrantUp(envDir, this.env(), this.config.bootTimeoutMs + 120_000, {
        created: () => this.mark(lifecycle, 'created'),
        started: () => this.mark(lifecycle, 'started'),
      });
      const upMs = up.ms;
      if (up.exitCode !== 0) {
        await recorder.stop();
        await tailer.poll().catch(() => undefined);
        const consoleLines = tailer.lastLines(10).map((l) => `  | ${l}`).join('\n');
        throw new BenchError(
          'infrastructure',
          `vagrant up ${domain} failed (exit ${up.exitCode ?? '?'}${up.timedOut ? ', timed out' : ''}) after ${(upMs / 1000).toFixed(1)} s: ${vagrantError(up.output)}` +
            (consoleLines ? `\nLast console lines:\n${consoleLines}` : ''),
          { hint: `QEMU's log: ${join(this.paths.qemuLogDir, `${domain}.log`)}; libvirtd's: ${this.paths.libvirtdLog}` },
        );
      }
      if (lifecycle.created === undefined) this.mark(lifecycle, 'created');
      if (lifecycle.started === undefined) this.mark(lifecycle, 'started');
      const pid = await this.qemuPid(domain);
      // SSH details: `vagrant ssh-config` is asked (and checked against these) at the first SSH use,
      // not here, so its ≈ 1 s never delays launch() and the readiness polling after it.
      const ssh = { port: sshPort, identityFile: keys.privateKeyPath };

      const facts: Record<string, string | number | boolean> = {
        pid,
        domain,
        vmName: domain,
        box: box.name,
        accel: accel.accel,
        domainType: this.driver(),
        runtime: `vagrant-libvirt (qemu-${accel.accel})`,
        machine: 'pc',
        cpus: this.config.cpus,
        memoryMiB: this.memoryMiB,
        sshPort: ssh.port,
        hostPort: spec.port,
        guestPort: SERVER_PORT_INSIDE,
        consoleLog,
        envDir,
        network: 'user-hostfwd',
        vagrantUpMs: Math.round(upMs),
      };
      if (accel.accel === 'tcg') facts.tcgTbSizeMiB = this.config.tcgTbSizeMiB;
      const inst: VagrantInstance = {
        id: spec.instanceId,
        platformName: this.name,
        kind: 'vagrant',
        baseUrl: `http://${LOOPBACK}:${spec.port}`,
        lifecycle,
        facts,
        runId: spec.runId,
        domain,
        pid,
        sshPort: ssh.port,
        privateKeyPath: ssh.identityFile,
        hostPort: spec.port,
        envDir,
        consoleLog,
      };
      followConsolePhases(inst, recorder, () => !isAlive(pid));
      this.log(`${domain}: up in ${(upMs / 1000).toFixed(1)} s (qemu pid ${pid}, ssh ${ssh.port})`);
      return inst;
    } catch (err) {
      await recorder?.stop();
      // Whatever failed, nothing of this instance may stay.
      await this.destroyEnv(envDir, domain).catch((e: unknown) => this.log(`${domain}: cleanup after failed launch: ${messageOf(e)}`));
      await this.removeRunDirIfEmpty(spec.runId);
      throw err;
    }
  }

  /**
   * `vagrant ssh-config` of the instance (once; cached), checked against the
   * port and key the instance was launched with: SSH goes where Vagrant says.
   */
  async sshConfig(inst: VagrantInstance): Promise<SshConfig> {
    const have = sshConfigs.get(inst);
    if (have) return have;
    const t0 = performance.now();
    const r = await execa('vagrant', ['ssh-config'], { cwd: inst.envDir, env: this.env(), reject: false, timeout: 60_000 });
    if (r.exitCode !== 0) throw new BenchError('infrastructure', `vagrant ssh-config failed: ${tail(String(r.stderr ?? ''))}`);
    const cfg = parseSshConfig(String(r.stdout));
    inst.facts.vagrantSshConfigMs = Math.round(performance.now() - t0);
    if (cfg.host !== LOOPBACK || cfg.port !== inst.sshPort || resolve(cfg.identityFile) !== resolve(inst.privateKeyPath)) {
      throw new BenchError(
        'infrastructure',
        `vagrant ssh-config says ${cfg.user}@${cfg.host}:${cfg.port} with ${cfg.identityFile}; expected ${LOOPBACK}:${inst.sshPort} with ${inst.privateKeyPath}`,
      );
    }
    sshConfigs.set(inst, cfg);
    return cfg;
  }

  /** PID of the domain's QEMU from libvirt's pidfile (<state>/run/qemu/<domain>.pid). */
  private async qemuPid(domain: string): Promise<number> {
    const file = join(this.paths.qemuRunDir, `${domain}.pid`);
    const text = (await readFile(file, 'utf8').catch(() => '')).trim();
    if (!/^[0-9]+$/.test(text) || !isAlive(Number(text))) {
      throw new BenchError('infrastructure', `no live QEMU for domain ${domain} (pidfile ${file}: ${text || 'missing'})`);
    }
    return Number(text);
  }

  private destroyEnv(envDir: string, domain: string): Promise<{ method: string; destroyMs: number }> {
    return destroyEnvironment(this.paths, envDir, domain, (l) => this.log(l));
  }

  protected async doStop(inst: VagrantInstance): Promise<void> {
    await stopConsolePhases(inst);
    try {
      const r = await this.destroyEnv(inst.envDir, inst.domain);
      inst.facts.stopMethod = r.method;
      inst.facts.vagrantDestroyMs = Math.round(r.destroyMs);
    } finally {
      await this.removeRunDirIfEmpty(inst.runId);
    }
  }

  private async removeRunDirIfEmpty(runId: string): Promise<void> {
    await rmdir(join(this.paths.envs, runId)).catch(() => undefined);
  }

  /**
   * QEMU's PSS (the libvirt-started process, as memory_host: the same
   * definition as the QEMU platform) and the server inside over SSH; libvirtd's
   * own PSS is recorded apart (host.info.libvirtdPss), not counted: one
   * libvirtd serves every domain on the host.
   */
  override async memoryReading(instance: VagrantInstance): Promise<MemoryReading> {
    await this.sshConfig(instance);
    const r = await readQemuMemory(instance);
    const libvirtdPid = Number((await readFile(this.paths.libvirtdPidfile, 'utf8').catch(() => '')).trim());
    const libvirtd = Number.isInteger(libvirtdPid) && libvirtdPid > 0 ? await readProcessMemory(libvirtdPid) : null;
    const notes = [...r.notes];
    if (libvirtd) {
      r.host.info.libvirtdPss = libvirtd.pssBytes;
      r.host.info.libvirtdRss = libvirtd.rssBytes;
      r.host.processes.push(libvirtd);
      // Facts go into every sample's metadata: the memory samples carry libvirtd's share at the time of the reading.
      instance.facts.libvirtdPssMiB = Math.round((libvirtd.pssBytes / 2 ** 20) * 10) / 10;
      instance.facts.libvirtdRssMiB = Math.round((libvirtd.rssBytes / 2 ** 20) * 10) / 10;
    } else notes.push('libvirtd not read (no pidfile or gone)');
    return {
      ...r,
      kind: 'vagrant',
      method: `${r.method}; qemu started by libvirt (pid from ${this.paths.qemuRunDir}/${instance.domain}.pid); libvirtd /proc/${libvirtdPid}/smaps_rollup Pss recorded apart as metadata libvirtdPssMiB, not counted (one libvirtd serves all domains)`,
      notes,
    };
  }

  override async pinCpus(instance: VagrantInstance, cpus: string): Promise<void> {
    await pinProcess(instance.pid, cpus);
  }

  /** nvidia-smi inside the guest over SSH (its passed-through GPUs are its own). */
  override async gpuReading(instance: VagrantInstance): Promise<GpuReading> {
    return readGuestGpu(await connectSsh({ port: (await this.sshConfig(instance), instance.sshPort), privateKeyPath: instance.privateKeyPath, timeoutMs: 30_000 }));
  }

  override async execRoundTripMs(instance: VagrantInstance, count: number): Promise<number[]> {
    await this.sshConfig(instance);
    return sshTrueRoundTrips(await connectSsh({ port: instance.sshPort, privateKeyPath: instance.privateKeyPath, timeoutMs: 30_000 }), count);
  }

  override async startupPhases(instance: VagrantInstance): Promise<PhaseTimeline> {
    return qemuStartupPhases(instance);
  }

  /** Destroy every Vagrant environment, domain, volume and QEMU process of one run. */
  async cleanupRun(runId: string): Promise<void> {
    checkId('runId', runId);
    await cleanupVagrant(this.cacheDir, { runId, log: (l) => this.log(l) });
  }
}
