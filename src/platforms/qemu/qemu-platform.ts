import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { BenchError, messageOf } from '../../errors.js';
import type { Artifact } from '../../workload/artifact.js';
import { SERVER_PORT_INSIDE, WORKLOAD_USER } from '../../workload/contract.js';
import { parsePhaseLines } from '../../workload/phase-lines.js';
import { isPortFree, LOOPBACK, pickFreePort } from '../host/ports.js';
import { pinProcess } from '../host/pin.js';
import { ConsolePhaseRecorder, followConsolePhases, qemuStartupPhases, stopConsolePhases } from '../linux-guest/console-phases.js';
import { ConsoleTail, waitForLine } from '../linux-guest/console.js';
import { assertVmArtifactFiles, sshTrueRoundTrips } from '../linux-guest/guest.js';
import { buildKernelCmdline } from '../linux-guest/kernel-cmdline.js';
import { stopGuestGracefully } from '../linux-guest/graceful-stop.js';
import { connectSsh, type SshSession, writeSshKeyPair } from '../linux-guest/ssh.js';
import type { MemoryReading } from '../memory-reading.js';
import { Platform, type InstanceSpec, type Lifecycle, type PlatformFacts, type PostMortem } from '../platform.js';
import type { Snapshot, SnapshotVariant } from '../snapshot.js';
import type { PhaseTimeline } from '../timeline.js';
import { resolveAccelerator, type ResolvedAccel } from './accel.js';
import { buildQemuArgs, hostCpuKhz, type Machine, QEMU_SANDBOX, resolveMachine, TCG_TB_SIZE_MIB } from './args.js';
import { removeQemuRunDir } from './gc.js';
import { handOver, QEMU_USER, resolveQemuIdentity, type QemuIdentity } from './run-as.js';
import { attachChild, checkId, childOf, consoleExcerpt, killQemu, MARKER_FILE, type QemuInstance, spawnQemu, waitExit } from './instance.js';
import { readQemuMemory } from './memory.js';
import { removeQemuSnapshot, restoreQemuSnapshot, takeQemuSnapshot } from './migrate-snapshot.js';
import { belongsToRun, isAlive, killPids, listVmbenchQemuProcesses, vmName } from './procs.js';
import { QmpClient } from './qmp.js';
import { findQemuTools, type QemuTools } from './tools.js';
import { machineForVfio, readVfioHostState, resolvePassthrough, type VfioHostState } from './vfio.js';
import { readGuestGpu } from '../linux-guest/guest-gpu.js';
import type { GpuReading } from '../gpu-reading.js';

export type { QemuInstance } from './instance.js';

/**
 * QEMU/KVM-or-TCG substrate: one VM per instance, booted directly from the
 * artifact's kernel + initramfs with a per-instance qcow2 overlay on the
 * artifact's disk and QEMU user networking forwarding 127.0.0.1 ports (the
 * scratch layout is in instance.ts). The scenario's values arrive validated
 * (src/scenario/schema.ts): nothing here re-checks them.
 */

export type QemuPlatformConfig = {
  cpus: number;
  memoryBytes: number;
  accel: 'auto' | 'kvm' | 'tcg';
  machine: 'auto' | 'microvm' | 'pc' | 'q35';
  bootTimeoutMs: number;
  /** device: gpu — the PCI devices to pass through, and whether CPU may stand in when they cannot be. */
  gpu?: { vfio: string[]; fallback: boolean };
};

export interface QemuPlatformContext {
  cacheDir: string;
  log?: (line: string) => void;
}

const GRACEFUL_STOP_MS = 3000;
const CONSOLE_TAIL_LINES = 20;

/** What prepare() learnt; launch() and restore() need all of it. */
interface Prepared {
  artifact: Artifact;
  tools: QemuTools;
  accel: ResolvedAccel;
  machine: Machine;
  /** Devices actually passed through (none when fallback: cpu had to stand in). */
  vfio: string[];
  /** Who QEMU runs as (null: as the harness). */
  runAs: QemuIdentity | null;
}

export class QemuPlatform extends Platform<QemuInstance> {
  readonly kind = 'qemu' as const;
  get cpus(): number {
    return this.config.cpus;
  }
  private prepared: Prepared | undefined;
  private readonly hostKhz: number | null;
  private readonly cacheDir: string;

  constructor(
    name: string,
    readonly config: QemuPlatformConfig,
    private readonly ctx: QemuPlatformContext,
    /** How the host's IOMMU and PCI state is read (tests pass a fixture tree). */
    private readonly vfioHost: (addresses: string[]) => Promise<VfioHostState> = (a) => readVfioHostState(a),
  ) {
    super(name);
    this.cacheDir = resolve(ctx.cacheDir);
    this.hostKhz = hostCpuKhz();
  }

  private log(line: string): void {
    this.ctx.log?.(`[${this.name}] ${line}`);
  }

  get memoryMiB(): number {
    return Math.floor(this.config.memoryBytes / 2 ** 20);
  }

  private need(): Prepared {
    if (!this.prepared) throw new BenchError('internal', `QemuPlatform ${this.name} used before prepare()`);
    return this.prepared;
  }

  async prepare(artifact: Artifact): Promise<PlatformFacts> {
    const tools = await findQemuTools();
    await assertVmArtifactFiles(artifact);
    const requested = machineForVfio(this.config.machine, this.config.gpu?.vfio ?? []);
    const probeMachine: Machine = requested === 'auto' ? 'microvm' : requested;
    const accel = await resolveAccelerator(this.config.accel, {
      kernel: artifact.vm.kernel,
      cacheDir: this.cacheDir,
      machine: probeMachine,
      qemuSystem: tools.qemuSystem,
      qemuVersion: tools.versionLine,
      log: (l) => this.log(l),
    });
    const gpu = this.config.gpu
      ? await resolvePassthrough({ addresses: this.config.gpu.vfio, fallback: this.config.gpu.fallback }, accel.accel, this.vfioHost, 'qemu', 'vfio-pci')
      : { addresses: [], facts: {} };
    if (gpu.facts.gpuPassthrough === 'none') this.log(`GPU passthrough not possible, running without it: ${gpu.facts.gpuPassthroughDetail}`);
    const machine = resolveMachine(machineForVfio(this.config.machine, gpu.addresses), accel.accel);
    const who = await resolveQemuIdentity([artifact.vm.kernel, artifact.vm.initrd, artifact.vm.disk]);
    this.prepared = { artifact, tools, accel, machine, vfio: gpu.addresses, runAs: who.identity };
    this.log(`qemu ${tools.version}, accel ${accel.accel} (${accel.reason}), machine ${machine}`);
    const facts: PlatformFacts = {
      qemuVersion: tools.version,
      qemuVersionLine: tools.versionLine,
      accel: accel.accel,
      accelReason: accel.reason,
      accelProbeCached: accel.probe?.cached ?? null,
      accelProbeMs: accel.probe ? Math.round(accel.probe.durationMs) : null,
      cpuModel: accel.cpu,
      machine,
      kernelVersion: artifact.vm.kernelVersion,
      cpus: this.config.cpus,
      memoryMiB: this.memoryMiB,
      hostKhz: this.hostKhz,
      network: 'user-hostfwd',
      security: `qemu -sandbox ${QEMU_SANDBOX}; ${who.describe}; guest server uid ${WORKLOAD_USER.uid} with no_new_privs; forwards on 127.0.0.1 only`,
      qemuUser: who.identity ? QEMU_USER : 'harness',
    };
    if (accel.accel === 'tcg') facts.tcgTbSizeMiB = TCG_TB_SIZE_MIB;
    return { ...facts, ...gpu.facts };
  }


  scratchDirOf(runId: string, instanceId: string): string {
    return join(this.cacheDir, 'runs', runId, instanceId);
  }

  /** A fresh scratch dir with its marker, so a crash leaves something `bench gc` recognises. */
  async makeScratchDir(runId: string, instanceId: string): Promise<string> {
    const dir = this.scratchDirOf(runId, instanceId);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, MARKER_FILE),
      `${JSON.stringify({ platform: 'qemu', name: this.name, runId, instanceId, createdAt: new Date().toISOString() })}\n`,
    );
    await handOver(this.prepared?.runAs ?? null, dir); // QEMU writes its console log, pidfile, QMP socket, snapshots here
    return dir;
  }

  protected async doLaunch(spec: InstanceSpec, lifecycle: Lifecycle): Promise<QemuInstance> {
    const { artifact, tools, accel, machine, vfio } = this.need();
    checkId('runId', spec.runId);
    checkId('instanceId', spec.instanceId);
    if (!(await isPortFree(spec.port))) {
      throw new BenchError('infrastructure', `host port ${LOOPBACK}:${spec.port} is already in use`);
    }
    const scratchDir = await this.makeScratchDir(spec.runId, spec.instanceId);
    const name = vmName(spec.runId, spec.instanceId);
    const overlay = join(scratchDir, 'overlay.qcow2');
    const consoleLog = join(scratchDir, 'console.log');
    const qmpSocket = join(scratchDir, 'qmp.sock');
    const pidfile = join(scratchDir, 'qemu.pid');
    // The built-in server listens on 8080 inside; an image's server on its own port.
    const guestPort = artifact.image?.launch.port ?? SERVER_PORT_INSIDE;

    try {
      const keys = await writeSshKeyPair(scratchDir, 'id_ed25519', name);
      const cmdline = buildKernelCmdline({
        guestPort,
        threads: spec.threads,
        modelName: spec.modelName,
        authorizedKey: keys.publicKeyLine,
        // microvm under TCG with contended CPUs cannot calibrate its clock without it.
        tscKhz: machine === 'microvm' ? this.hostKhz : null,
        ...(this.config.gpu ? { device: 'gpu' as const, fallback: this.config.gpu.fallback } : {}),
      });
      const failures: string[] = [];
      for (let attempt = 1; attempt <= 2; attempt++) {
        for (const f of [overlay, consoleLog, qmpSocket, pidfile]) await rm(f, { force: true });
        await this.createOverlay(tools, artifact.vm.disk, overlay);
        await handOver(this.need().runAs, overlay);
        const sshPort = await pickFreePort([spec.port]);
        const args = buildQemuArgs({
          name, machine, accel: accel.accel, cpu: accel.cpu, cpus: this.config.cpus, memoryMiB: this.memoryMiB,
          kernel: artifact.vm.kernel, initrd: artifact.vm.initrd, cmdline, disk: overlay, consoleLog, qmpSocket, pidfile,
          hostPort: spec.port, guestPort, sshPort, vfio,
        });
        this.log(`${name}: attempt ${attempt}: ${tools.qemuSystem} ${args.join(' ')}`);
        const bootT0 = performance.now();
        const child = await spawnQemu(tools.qemuSystem, args, this.need().runAs);
        this.mark(lifecycle, 'created');
        const tail = new ConsoleTail(consoleLog);
        const phaseRecorder = new ConsolePhaseRecorder(tail); // arrival times of phase lines
        let failure: string | null = null;
        let pid = child.child.pid ?? 0;
        try {
          child.qmp = await QmpClient.connectWithRetry(qmpSocket, this.config.bootTimeoutMs, () => !child.exited);
          const st = await child.qmp.queryStatus();
          if (!st.running) throw new BenchError('infrastructure', `QEMU status is '${st.status}', not running`);
          pid = await readPid(pidfile, pid);
          this.mark(lifecycle, 'started');
          const left = this.config.bootTimeoutMs - (performance.now() - bootT0);
          const seen = await waitForLine(tail, (l) => (parsePhaseLines([l])[0]?.phase === 'init' ? true : null), {
            timeoutMs: Math.max(0, left),
            abort: () => (child.exited ? `qemu exited (${child.exitInfo ?? '?'})` : null),
          });
          if (!seen.ok) {
            const last = tail.lastLines(1)[0];
            const printed = last === undefined ? 'guest printed nothing' : `last console line: ${last.slice(0, 160)}`;
            failure = child.exited
              ? `${seen.reason} before VMBENCH_PHASE init; ${printed}`
              : `no VMBENCH_PHASE init within the ${(this.config.bootTimeoutMs / 1000).toFixed(1)} s boot timeout; ${printed}`;
          }
        } catch (err) {
          failure = child.exited ? `qemu exited (${child.exitInfo ?? '?'})` : messageOf(err);
        }
        if (failure === null) {
          const initLine = parsePhaseLines(tail.lastLines(200)).find((p) => p.phase === 'init');
          const facts: Record<string, string | number | boolean> = {
            pid, accel: accel.accel, cpuModel: accel.cpu, machine, cpus: this.config.cpus, memoryMiB: this.memoryMiB,
            sshPort, hostPort: spec.port, guestPort, consoleLog, overlay, scratchDir,
            network: 'user-hostfwd', bootAttempts: attempt, qemuVersion: tools.version, vmName: name,
            runtime: `qemu-${accel.accel}`, runtimeVersion: tools.versionLine,
          };
          if (this.config.gpu) facts.gpuPassthrough = vfio.length ? vfio.join(',') : 'none';
          if (failures.length) facts.firstAttemptFailure = failures.join(' | ');
          if (initLine?.uptimeS !== undefined) facts.initUptimeS = initLine.uptimeS;
          const inst: QemuInstance = {
            id: spec.instanceId, platformName: this.name, kind: 'qemu', baseUrl: `http://${LOOPBACK}:${spec.port}`, lifecycle, facts,
            runId: spec.runId, pid, accel: accel.accel, machine, sshPort, hostPort: spec.port, guestPort,
            consoleLog, overlay, scratchDir, privateKeyPath: keys.privateKeyPath, qmpSocket,
          };
          attachChild(inst, child);
          followConsolePhases(inst, phaseRecorder, () => child.exited);
          this.log(`${name}: started (pid ${pid}, ssh ${sshPort}, attempt ${attempt})`);
          return inst;
        }

        // Failed attempt: gather evidence, kill, maybe retry.
        await tail.poll();
        const lines = tail.lastLines(CONSOLE_TAIL_LINES);
        const stderr = child.stderr.trim().split('\n').slice(-5).join(' / ');
        failures.push(`attempt ${attempt}: ${failure}${stderr ? ` [qemu stderr: ${stderr}]` : ''}`);
        this.log(`${name}: boot attempt ${attempt} failed: ${failure}`);
        // Killed from outside (kill -9, the OOM killer) before we killed it: not a boot that hung, so not retried.
        const killed = child.exited && /signal SIG(KILL|TERM)/.test(child.exitInfo ?? '');
        await killQemu(child);
        if (attempt === 2 || killed) {
          throw new BenchError(
            'infrastructure',
            `VM ${name} did not boot (${failures.join('; ')}). Last ${CONSOLE_TAIL_LINES} console lines:\n${consoleExcerpt(lines)}`,
            { hint: "the boot timeout is the platform's boot_timeout; under TCG with contended CPUs boots are slower", category: killed ? 'instance_died' : 'boot_timeout' },
          );
        }
      }
      throw new BenchError('internal', 'unreachable');
    } catch (err) {
      await rm(scratchDir, { recursive: true, force: true }).catch(() => undefined);
      await this.removeRunDirIfEmpty(spec.runId);
      throw err;
    }
  }

  private async createOverlay(tools: QemuTools, base: string, overlay: string): Promise<void> {
    try {
      await execa(tools.qemuImg, ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', resolve(base), overlay], { timeout: 30_000 });
    } catch (err) {
      throw new BenchError('infrastructure', `qemu-img create overlay on ${base} failed: ${messageOf(err)}`, { cause: err });
    }
  }

  protected async doStop(inst: QemuInstance): Promise<void> {
    const child = childOf(inst);
    let method = 'gone';
    await stopConsolePhases(inst);
    try {
      // Killed from outside (cleanupRun): let the exit be reaped before deciding.
      if (child && !child.exited && !isAlive(inst.pid)) await waitExit(child, 2000);
      if (child && !child.exited && inst.restored) {
        method = await killQemu(child);
      } else if (child && !child.exited) {
        const stop = await stopGuestGracefully({
          vmName: String(inst.facts.vmName),
          ssh: (timeoutMs) => connectSsh({ port: inst.sshPort, privateKeyPath: inst.privateKeyPath, timeoutMs, attemptTimeoutMs: timeoutMs }),
          qmp: child.qmp,
          exited: (ms) => waitExit(child, ms),
          graceMs: GRACEFUL_STOP_MS,
          log: (l) => this.log(l),
        });
        // What was asked of the guest; stopMethod below says how it actually ended.
        inst.facts.stopRequest = method = stop.request;
        if (!stop.graceful) method = await killQemu(child);
      } else if (!child && isAlive(inst.pid)) {
        // Not launched by this process (should not happen): kill by pid.
        await killPids([inst.pid]);
        method = 'kill';
      }
    } finally {
      child?.qmp?.close();
      inst.facts.stopMethod = method;
      await rm(inst.scratchDir, { recursive: true, force: true });
      await this.removeRunDirIfEmpty(inst.runId);
    }
  }

  private async removeRunDirIfEmpty(runId: string): Promise<void> {
    await rmdir(join(this.cacheDir, 'runs', runId)).catch(() => undefined);
  }

  /** The QEMU process exited (killed, crashed, the guest powered off or panicked with -no-reboot). */
  override async postMortem(instance: QemuInstance): Promise<PostMortem | null> {
    const child = childOf(instance);
    if (child && !child.exited && isAlive(instance.pid)) await waitExit(child, 500); // an exit not yet reaped
    if (child ? !child.exited : isAlive(instance.pid)) return null;
    return { category: 'instance_died', detail: `qemu (pid ${instance.pid}) ended: ${child?.exitInfo ?? 'process gone'}` };
  }

  /** QEMU's PSS on the host, the server's smaps_rollup inside the guest over SSH: see memory.ts. */
  override async memoryReading(instance: QemuInstance): Promise<MemoryReading> {
    return readQemuMemory(instance);
  }

  /** nvidia-smi inside the guest over SSH: the passed-through GPUs are the VM's alone. */
  override async gpuReading(instance: QemuInstance): Promise<GpuReading> {
    return readGuestGpu(await connectInstanceSsh(instance));
  }

  /** taskset on every thread of the QEMU process (vCPUs, I/O threads). */
  override async pinCpus(instance: QemuInstance, cpus: string): Promise<void> {
    await pinProcess(instance.pid, cpus);
  }

  /** `true` over one SSH connection into the guest, `count` times (connection set-up not included). */
  override async execRoundTripMs(instance: QemuInstance, count: number): Promise<number[]> {
    return sshTrueRoundTrips(await connectInstanceSsh(instance), count);
  }

  /** A file inside the guest, over one SSH connection (`cat`: the built-in rootfs's, or an image workload's bundled busybox as root's shell). */
  override async readFileInside(instance: QemuInstance, path: string): Promise<string> {
    const ssh = await connectInstanceSsh(instance);
    try {
      const r = await ssh.exec(`cat '${path.replaceAll("'", `'\\''`)}'`, { timeoutMs: 30_000 });
      if (r.code !== 0) throw new BenchError('infrastructure', `cat ${path} inside ${instance.facts.vmName} failed (exit ${r.code}): ${r.stderr.trim().slice(0, 200)}`);
      return r.stdout;
    } finally {
      ssh.dispose();
    }
  }

  /** A VM with a device passed through cannot be migrated to a file (QEMU blocks migration of VFIO devices). */
  override get canSnapshot(): boolean {
    return !this.config.gpu?.vfio.length && super.canSnapshot;
  }

  /** Stop the vCPUs and migrate the VM's state to a file: see migrate-snapshot.ts. */
  override async snapshot(instance: QemuInstance): Promise<Snapshot> {
    const qmp = childOf(instance)?.qmp;
    if (!qmp) throw new BenchError('internal', `snapshot: ${instance.id} has no QMP connection (not launched by this process)`);
    const dir = await this.makeScratchDir(instance.runId, `${instance.id}-snap`);
    return takeQemuSnapshot(this.name, instance, qmp, dir, (l) => this.log(l));
  }

  /** The same argv with `-incoming` from the snapshot's file: see migrate-snapshot.ts. */
  protected override async doRestore(snapshot: Snapshot, variant: SnapshotVariant, spec: InstanceSpec, lifecycle: Lifecycle): Promise<QemuInstance> {
    checkId('instanceId', spec.instanceId);
    const scratchDir = await this.makeScratchDir(spec.runId, spec.instanceId);
    try {
      return await restoreQemuSnapshot({ platformName: this.name, snapshot, variant, spec, lifecycle, scratchDir, runAs: this.need().runAs, log: (l) => this.log(l) });
    } catch (err) {
      await rm(scratchDir, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
  }

  override async removeSnapshot(snapshot: Snapshot): Promise<void> {
    await removeQemuSnapshot(snapshot);
    await this.removeRunDirIfEmpty(snapshot.runId);
  }

  /** Console arrival times of the phase lines (host monotonic, ≤ 20 ms late): see linux-guest/console-phases.ts. */
  override async startupPhases(instance: QemuInstance): Promise<PhaseTimeline> {
    return qemuStartupPhases(instance);
  }

  async cleanupRun(runId: string): Promise<void> {
    checkId('runId', runId);
    const procs = (await listVmbenchQemuProcesses()).filter((p) => belongsToRun(p, runId));
    if (procs.length) {
      this.log(`cleanup ${runId}: killing ${procs.map((p) => `${p.name}(${p.pid})`).join(', ')}`);
      const left = await killPids(procs.map((p) => p.pid));
      if (left.length) throw new BenchError('infrastructure', `could not kill qemu process(es) ${left.join(', ')}`);
    }
    await removeQemuRunDir(join(this.cacheDir, 'runs', runId));
  }
}

/** The pid QEMU wrote to its pidfile (the spawned pid otherwise). */
export async function readPid(pidfile: string, fallback: number): Promise<number> {
  const text = (await readFile(pidfile, 'utf8').catch(() => '')).trim();
  return /^[0-9]+$/.test(text) ? Number(text) : fallback;
}

/** An SSH session to the instance's guest (root, its per-instance key). */
export async function connectInstanceSsh(instance: Pick<QemuInstance, 'sshPort' | 'privateKeyPath'>, timeoutMs = 30_000): Promise<SshSession> {
  return connectSsh({ port: instance.sshPort, privateKeyPath: instance.privateKeyPath, timeoutMs });
}
