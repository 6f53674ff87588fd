import { access, mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { BenchError, messageOf } from '../errors.js';
import type { Artifact } from '../workload/artifact.js';
import {
  Platform,
  type Instance,
  type InstanceSpec,
  type Lifecycle,
  type PlatformFacts,
  type PlatformKind,
} from './platform.js';
import { readQemuMemory } from './memory-qemu.js';
import { assertVmArtifactFiles, pinQemuProcess, sshTrueRoundTrips } from './vm-guest.js';
import type { MemoryReading } from './memory-types.js';
import type { PhaseTimeline } from '../measure/phases.js';
import { ConsolePhaseRecorder, followConsolePhases, qemuStartupPhases, stopConsolePhases } from './phases-qemu.js';
import { resolveAccelerator, type ResolvedAccel } from './qemu-accel.js';
import {
  type Accel,
  buildKernelCmdline,
  buildQemuArgs,
  GUEST_SERVER_PORT,
  HOST_LOOPBACK,
  hostCpuKhz,
  type Machine,
  resolveMachine,
} from './qemu-args.js';
import { ConsoleTail, type ConsolePhase, type ParsedPhase, parseConsolePhase, parseConsolePhases, waitForLine } from './qemu-console.js';
import { findQemuTools, type QemuTools } from './qemu-host.js';
import { isPortFree, pickFreePort } from './qemu-ports.js';
import { belongsToRun, isAlive, killPids, listVmbenchQemuProcesses, vmName } from './qemu-procs.js';
import { QmpClient } from './qemu-qmp.js';
import { qemuSnapshotRestore } from './snapshot-qemu.js';
import type { SnapshotRestoreOptions, SnapshotRestoreResult } from '../measure/snapshot.js';
import { connectSsh, type SshSession, writeSshKeyPair } from './ssh.js';

export { probeAccelerator, resolveAccelerator } from './qemu-accel.js';
export type { AccelProbeResult, ResolvedAccel } from './qemu-accel.js';
export { parseConsolePhase, parseConsolePhases } from './qemu-console.js';
export type { ConsolePhase, ParsedPhase } from './qemu-console.js';
export { qemuMemoryUsage } from './qemu-procs.js';

/**
 * QEMU/KVM-or-TCG substrate: one VM per instance, booted directly from the
 * artifact's kernel + initramfs with a per-instance qcow2 overlay on the
 * artifact's disk and QEMU user networking forwarding 127.0.0.1 ports.
 *
 * Scratch space per instance: <cacheDir>/runs/<runId>/<instanceId>/
 *   qemu-instance.json  marker (what created this directory)
 *   overlay.qcow2       copy-on-write layer over the artifact disk
 *   console.log         the guest's serial console
 *   qmp.sock, qemu.pid  control socket and pidfile
 *   id_ed25519[.pub]    per-instance SSH key (authorized via the kernel cmdline)
 */

export type QemuPlatformConfig = {
  cpus: number;
  memoryBytes: number;
  accel: 'auto' | 'kvm' | 'tcg';
  machine: 'auto' | 'microvm' | 'pc' | 'q35';
  bootTimeoutMs: number;
};

export interface QemuPlatformContext {
  cacheDir: string;
  artifact?: Artifact;
  log?: (line: string) => void;
}

export interface QemuInstance extends Instance {
  readonly kind: 'qemu';
  readonly facts: Record<string, string | number | boolean>;
  readonly runId: string;
  readonly pid: number;
  readonly accel: Accel;
  readonly machine: Machine;
  readonly sshPort: number;
  readonly hostPort: number;
  readonly guestPort: number;
  readonly consoleLog: string;
  readonly overlay: string;
  readonly scratchDir: string;
  readonly privateKeyPath: string;
  readonly qmpSocket: string;
}

const MARKER_FILE = 'qemu-instance.json';
const GRACEFUL_STOP_MS = 3000;
const CONSOLE_TAIL_LINES = 20;

interface Handle {
  child: ResultPromise;
  exited: boolean;
  exitInfo: string | null;
  stderr: string;
  qmp: QmpClient | null;
}

const handles = new WeakMap<QemuInstance, Handle>();

function checkId(what: string, v: string): void {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(v) || v.length > 80) {
    throw new BenchError('internal', `${what} ${JSON.stringify(v)} must match [a-z0-9][a-z0-9-]* (≤ 80 chars)`);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitExit(h: Handle, ms: number): Promise<boolean> {
  if (h.exited) return true;
  await Promise.race([h.child.then(() => undefined, () => undefined), sleep(ms)]);
  return h.exited;
}

function consoleExcerpt(lines: string[]): string {
  return lines.length ? lines.map((l) => `  | ${l}`).join('\n') : '  (console empty)';
}

export class QemuPlatform extends Platform<QemuInstance> {
  readonly kind: PlatformKind = 'qemu';
  private artifact: Artifact | undefined;
  private tools: QemuTools | undefined;
  private accel: ResolvedAccel | undefined;
  private machine: Machine | undefined;
  private readonly hostKhz: number | null;
  private readonly cacheDir: string;

  constructor(
    name: string,
    readonly config: QemuPlatformConfig,
    private readonly ctx: QemuPlatformContext,
  ) {
    super(name);
    const { cpus, memoryBytes, bootTimeoutMs } = config;
    if (!Number.isInteger(cpus) || cpus < 1) throw new BenchError('input', `qemu: cpus must be an integer ≥ 1 (got ${cpus})`);
    if (!Number.isFinite(memoryBytes) || memoryBytes < 64 * 2 ** 20) {
      throw new BenchError('input', `qemu: memory must be at least 64 MiB (got ${memoryBytes} bytes)`);
    }
    if (!Number.isFinite(bootTimeoutMs) || bootTimeoutMs <= 0) {
      throw new BenchError('input', `qemu: bootTimeoutMs must be positive (got ${bootTimeoutMs})`);
    }
    this.cacheDir = resolve(ctx.cacheDir);
    this.artifact = ctx.artifact;
    this.hostKhz = hostCpuKhz();
  }

  private log(line: string): void {
    this.ctx.log?.(`[${this.name}] ${line}`);
  }

  get memoryMiB(): number {
    return Math.floor(this.config.memoryBytes / 2 ** 20);
  }

  async prepare(artifact: Artifact): Promise<PlatformFacts> {
    this.artifact = artifact;
    this.tools = await findQemuTools();
    await assertVmArtifactFiles(artifact);
    const probeMachine: Machine = this.config.machine === 'auto' ? 'microvm' : this.config.machine;
    this.accel = await resolveAccelerator(this.config.accel, {
      kernel: artifact.vm.kernel,
      cacheDir: this.cacheDir,
      machine: probeMachine,
      qemuSystem: this.tools.qemuSystem,
      qemuVersion: this.tools.versionLine,
      log: (l) => this.log(l),
    });
    this.machine = resolveMachine(this.config.machine, this.accel.accel);
    this.log(`qemu ${this.tools.version}, accel ${this.accel.accel} (${this.accel.reason}), machine ${this.machine}`);
    const facts: PlatformFacts = {
      qemuVersion: this.tools.version,
      qemuVersionLine: this.tools.versionLine,
      accel: this.accel.accel,
      accelReason: this.accel.reason,
      accelProbeCached: this.accel.probe?.cached ?? null,
      accelProbeMs: this.accel.probe ? Math.round(this.accel.probe.durationMs) : null,
      cpuModel: this.accel.cpu,
      machine: this.machine,
      kernelVersion: artifact.vm.kernelVersion,
      cpus: this.config.cpus,
      memoryMiB: this.memoryMiB,
      hostKhz: this.hostKhz,
      network: 'user-hostfwd',
    };
    if (this.accel.accel === 'tcg') facts.tcgTbSizeMiB = 64;
    return facts;
  }

  protected async doLaunch(spec: InstanceSpec, lifecycle: Lifecycle): Promise<QemuInstance> {
    const artifact = this.artifact;
    const tools = this.tools;
    const accel = this.accel;
    const machine = this.machine;
    if (!artifact || !tools || !accel || !machine) {
      throw new BenchError('internal', 'QemuPlatform.launch() called before prepare()');
    }
    checkId('runId', spec.runId);
    checkId('instanceId', spec.instanceId);
    if (!(await isPortFree(spec.port))) {
      throw new BenchError('infrastructure', `host port ${HOST_LOOPBACK}:${spec.port} is already in use`);
    }

    const scratchDir = join(this.cacheDir, 'runs', spec.runId, spec.instanceId);
    await rm(scratchDir, { recursive: true, force: true });
    await mkdir(scratchDir, { recursive: true });
    await writeFile(
      join(scratchDir, MARKER_FILE),
      `${JSON.stringify({ platform: 'qemu', name: this.name, runId: spec.runId, instanceId: spec.instanceId, createdAt: new Date().toISOString() })}\n`,
    );
    const name = vmName(spec.runId, spec.instanceId);
    const overlay = join(scratchDir, 'overlay.qcow2');
    const consoleLog = join(scratchDir, 'console.log');
    const qmpSocket = join(scratchDir, 'qmp.sock');
    const pidfile = join(scratchDir, 'qemu.pid');

    try {
      const keys = await writeSshKeyPair(scratchDir, 'id_ed25519', name);
      const cmdline = buildKernelCmdline({
        guestPort: GUEST_SERVER_PORT,
        threads: spec.threads,
        modelName: spec.modelName,
        authorizedKey: keys.publicKeyLine,
        machine,
        accel: accel.accel,
        hostKhz: this.hostKhz,
      });

      const failures: string[] = [];
      for (let attempt = 1; attempt <= 2; attempt++) {
        for (const f of [overlay, consoleLog, qmpSocket, pidfile]) await rm(f, { force: true });
        await this.createOverlay(tools, artifact.vm.disk, overlay);
        const sshPort = await pickFreePort([spec.port]);
        const args = buildQemuArgs({
          name,
          machine,
          accel: accel.accel,
          cpu: accel.cpu,
          cpus: this.config.cpus,
          memoryMiB: this.memoryMiB,
          kernel: artifact.vm.kernel,
          initrd: artifact.vm.initrd,
          cmdline,
          disk: overlay,
          consoleLog,
          qmpSocket,
          pidfile,
          hostPort: spec.port,
          guestPort: GUEST_SERVER_PORT,
          sshPort,
        });
        this.log(`${name}: attempt ${attempt}: ${tools.qemuSystem} ${args.join(' ')}`);
        const bootT0 = performance.now();
        const h = await this.spawn(tools.qemuSystem, args);
        this.mark(lifecycle, 'created');
        const tail = new ConsoleTail(consoleLog);
        const phaseRecorder = new ConsolePhaseRecorder(tail); // arrival times of phase lines
        let failure: string | null = null;
        let pid = h.child.pid ?? 0;
        try {
          h.qmp = await QmpClient.connectWithRetry(qmpSocket, this.config.bootTimeoutMs, () => !h.exited);
          const st = await h.qmp.queryStatus();
          if (!st.running) throw new Error(`QEMU status is '${st.status}', not running`);
          const pidText = (await readFile(pidfile, 'utf8').catch(() => '')).trim();
          if (/^[0-9]+$/.test(pidText)) pid = Number(pidText);
          this.mark(lifecycle, 'started');
          const left = this.config.bootTimeoutMs - (performance.now() - bootT0);
          const seen = await waitForLine(tail, (l) => (parseConsolePhase(l)?.phase === 'init' ? true : null), {
            timeoutMs: Math.max(0, left),
            abort: () => (h.exited ? `qemu exited (${h.exitInfo ?? '?'})` : null),
          });
          if (!seen.ok) {
            const last = tail.lastLines(1)[0];
            const printed = last === undefined ? 'guest printed nothing' : `last console line: ${last.slice(0, 160)}`;
            failure = h.exited
              ? `${seen.reason} before VMBENCH_PHASE init; ${printed}`
              : `no VMBENCH_PHASE init within the ${(this.config.bootTimeoutMs / 1000).toFixed(1)} s boot timeout; ${printed}`;
          }
        } catch (err) {
          failure = h.exited ? `qemu exited (${h.exitInfo ?? '?'})` : messageOf(err);
        }
        if (failure === null) {
          const initLine = parseConsolePhases(tail.lastLines(200).join('\n')).find((p) => p.phase === 'init');
          const facts: Record<string, string | number | boolean> = {
            pid,
            accel: accel.accel,
            cpuModel: accel.cpu,
            machine,
            cpus: this.config.cpus,
            memoryMiB: this.memoryMiB,
            sshPort,
            hostPort: spec.port,
            guestPort: GUEST_SERVER_PORT,
            consoleLog,
            overlay,
            scratchDir,
            network: 'user-hostfwd',
            bootAttempts: attempt,
            qemuVersion: tools.version,
            vmName: name,
          };
          if (failures.length) facts.firstAttemptFailure = failures.join(' | ');
          if (initLine?.uptimeS !== undefined) facts.initUptimeS = initLine.uptimeS;
          const inst: QemuInstance = {
            id: spec.instanceId,
            platformName: this.name,
            kind: 'qemu',
            baseUrl: `http://${HOST_LOOPBACK}:${spec.port}`,
            lifecycle,
            facts,
            runId: spec.runId,
            pid,
            accel: accel.accel,
            machine,
            sshPort,
            hostPort: spec.port,
            guestPort: GUEST_SERVER_PORT,
            consoleLog,
            overlay,
            scratchDir,
            privateKeyPath: keys.privateKeyPath,
            qmpSocket,
          };
          handles.set(inst, h);
          followConsolePhases(inst, phaseRecorder, () => h.exited);
          this.log(`${name}: started (pid ${pid}, ssh ${sshPort}, attempt ${attempt})`);
          return inst;
        }

        // Failed attempt: gather evidence, kill, maybe retry.
        await tail.poll();
        const lines = tail.lastLines(CONSOLE_TAIL_LINES);
        const stderr = h.stderr.trim().split('\n').slice(-5).join(' / ');
        failures.push(`attempt ${attempt}: ${failure}${stderr ? ` [qemu stderr: ${stderr}]` : ''}`);
        this.log(`${name}: boot attempt ${attempt} failed: ${failure}`);
        await this.kill(h);
        if (attempt === 2) {
          throw new BenchError(
            'infrastructure',
            `VM ${name} did not boot (${failures.join('; ')}). Last ${CONSOLE_TAIL_LINES} console lines:\n${consoleExcerpt(lines)}`,
            { hint: 'the boot timeout is the platform\'s bootTimeoutMs; under TCG with contended CPUs boots are slower' },
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
      await execa(tools.qemuImg, ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', resolve(base), overlay], {
        timeout: 30_000,
      });
    } catch (err) {
      throw new BenchError('infrastructure', `qemu-img create overlay on ${base} failed: ${messageOf(err)}`, { cause: err });
    }
  }

  private async spawn(bin: string, args: string[]): Promise<Handle> {
    const child = execa(bin, args, {
      reject: false,
      detached: false,
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
      buffer: false,
      cleanup: true,
    });
    const h: Handle = { child, exited: false, exitInfo: null, stderr: '', qmp: null };
    child.stderr?.on('data', (c: Buffer) => {
      h.stderr += c.toString('utf8');
      if (h.stderr.length > 16 * 1024) h.stderr = h.stderr.slice(-8 * 1024);
    });
    void child.then((res) => {
      h.exited = true;
      h.exitInfo = res.signal ? `signal ${res.signal}` : `exit code ${res.exitCode ?? '?'}`;
      h.qmp?.close();
    });
    await new Promise<void>((resolvePromise, reject) => {
      child.once('spawn', () => resolvePromise());
      child.once('error', (err) => reject(new BenchError('infrastructure', `cannot start ${bin}: ${messageOf(err)}`, { cause: err })));
    });
    return h;
  }

  /** quit over QMP, then SIGKILL; resolves when the process is gone. */
  private async kill(h: Handle): Promise<'quit' | 'kill' | 'gone'> {
    if (h.exited) return 'gone';
    if (h.qmp) {
      await h.qmp.execute('quit', undefined, 1000).catch(() => undefined);
      if (await waitExit(h, 1000)) return 'quit';
    }
    h.child.kill('SIGKILL');
    await waitExit(h, 5000);
    return 'kill';
  }

  protected async doStop(inst: QemuInstance): Promise<void> {
    const h = handles.get(inst);
    let method = 'gone';
    await stopConsolePhases(inst);
    try {
      // Killed from outside (cleanupRun): let the exit be reaped before deciding.
      if (h && !h.exited && !isAlive(inst.pid)) await waitExit(h, 2000);
      if (h && !h.exited) {
        const deadline = performance.now() + GRACEFUL_STOP_MS;
        let ssh: SshSession | null = null;
        try {
          ssh = await connectSsh({
            port: inst.sshPort,
            privateKeyPath: inst.privateKeyPath,
            timeoutMs: 1500,
            attemptTimeoutMs: 1500,
          });
          await ssh.fire('poweroff', 300);
          method = 'ssh-poweroff';
        } catch (err) {
          this.log(`${inst.facts.vmName}: ssh poweroff not possible (${messageOf(err)}); trying ACPI powerdown`);
          await h.qmp?.execute('system_powerdown', undefined, 500).catch(() => undefined);
          method = 'system_powerdown';
        }
        // What was asked of the guest; stopMethod below says how it actually ended.
        inst.facts.stopRequest = method;
        const graceful = await waitExit(h, Math.max(0, deadline - performance.now()));
        ssh?.dispose();
        if (!graceful) method = await this.kill(h);
      } else if (!h && isAlive(inst.pid)) {
        // Not launched by this process (should not happen): kill by pid.
        await killPids([inst.pid]);
        method = 'kill';
      }
    } finally {
      h?.qmp?.close();
      inst.facts.stopMethod = method;
      await rm(inst.scratchDir, { recursive: true, force: true });
      await this.removeRunDirIfEmpty(inst.runId);
    }
  }

  private async removeRunDirIfEmpty(runId: string): Promise<void> {
    await rmdir(join(this.cacheDir, 'runs', runId)).catch(() => undefined);
  }

  /** QEMU's PSS on the host, the server's smaps_rollup inside the guest over SSH: see memory-qemu.ts. */
  override async memoryReading(instance: QemuInstance): Promise<MemoryReading> {
    return readQemuMemory(instance);
  }

  /** taskset on every thread of the QEMU process (vCPUs, I/O threads). */
  override async pinCpus(instance: QemuInstance, cpus: string): Promise<void> {
    await pinQemuProcess(instance.pid, cpus);
  }

  /** `true` over one SSH connection into the guest, `count` times (connection set-up not included). */
  override async execRoundTripMs(instance: QemuInstance, count: number): Promise<number[]> {
    return sshTrueRoundTrips(await connectInstanceSsh(instance), count);
  }

  /** Snapshot by migration to a file, restore with -incoming: see snapshot-qemu.ts. */
  override async snapshotRestore(spec: InstanceSpec, opts: SnapshotRestoreOptions): Promise<SnapshotRestoreResult> {
    return qemuSnapshotRestore(
      { platform: this, cacheDir: this.cacheDir, qmpOf: (i) => handles.get(i)?.qmp ?? null, markerFile: MARKER_FILE, log: (l) => this.log(l) },
      spec,
      opts,
    );
  }

  /** Console arrival times of the phase lines (host monotonic, ≤ 20 ms late): see phases-qemu.ts. */
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

/** Remove QEMU instance dirs (those with the marker file) of one run dir, and the run dir if it is then empty. */
async function removeQemuRunDir(runDir: string): Promise<string[]> {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(runDir);
  } catch {
    return removed;
  }
  for (const e of entries) {
    const d = join(runDir, e);
    try {
      await access(join(d, MARKER_FILE));
    } catch {
      continue;
    }
    await rm(d, { recursive: true, force: true });
    removed.push(d);
  }
  try {
    await rmdir(runDir);
    removed.push(runDir);
  } catch {
    /* not empty: other platforms' files */
  }
  return removed;
}

export interface GcResult {
  /** How many qemu processes were killed. */
  killed: number;
  /** How many scratch/temp directories were removed. */
  removedDirs: number;
  processes: { pid: number; name: string }[];
  paths: string[];
}

/**
 * For `bench gc`: kill every qemu process named vmbench-*, remove every QEMU
 * scratch dir under <cacheDir>/runs (and run dirs left empty) and stale
 * KVM-probe temp dirs. Accepts the cache dir or { cacheDir, log }.
 */
export async function cleanupAllVmbenchVms(
  opts: string | { cacheDir: string; log?: (line: string) => void },
): Promise<GcResult> {
  const { cacheDir: dir, log } = typeof opts === 'string' ? { cacheDir: opts, log: undefined } : opts;
  const procs = await listVmbenchQemuProcesses();
  if (procs.length) {
    log?.(`gc: killing ${procs.map((p) => `${p.name}(${p.pid})`).join(', ')}`);
    const left = await killPids(procs.map((p) => p.pid));
    if (left.length) throw new BenchError('infrastructure', `could not kill qemu process(es) ${left.join(', ')}`);
  }
  const paths: string[] = [];
  const cacheDir = resolve(dir);
  const runsDir = join(cacheDir, 'runs');
  for (const run of await readdir(runsDir).catch(() => [] as string[])) {
    paths.push(...(await removeQemuRunDir(join(runsDir, run))));
  }
  for (const e of await readdir(cacheDir).catch(() => [] as string[])) {
    if (e.startsWith('accel-probe-')) {
      await rm(join(cacheDir, e), { recursive: true, force: true });
      paths.push(join(cacheDir, e));
    }
  }
  const processes = procs.map((p) => ({ pid: p.pid, name: p.name }));
  return { killed: processes.length, removedDirs: paths.length, processes, paths };
}

/**
 * Wait until the guest prints `VMBENCH_PHASE <phase>` on its console (already
 * printed lines count). Throws BenchError('infrastructure') with the last
 * console lines on timeout or when the VM's process is gone.
 */
export async function waitForConsolePhase(
  instance: Pick<QemuInstance, 'consoleLog' | 'pid'>,
  phase: ConsolePhase,
  timeoutMs: number,
): Promise<ParsedPhase & { atMono: number }> {
  const tail = new ConsoleTail(instance.consoleLog);
  const res = await waitForLine(
    tail,
    (l) => {
      const p = parseConsolePhase(l);
      return p && p.phase === phase ? p : null;
    },
    { timeoutMs, intervalMs: 10, abort: () => (isAlive(instance.pid) ? null : `qemu process ${instance.pid} is gone`) },
  );
  if (res.ok) return { ...res.value, atMono: res.atMono };
  throw new BenchError(
    'infrastructure',
    `VMBENCH_PHASE ${phase} not seen on ${instance.consoleLog}: ${res.reason}. Last ${CONSOLE_TAIL_LINES} console lines:\n${consoleExcerpt(tail.lastLines(CONSOLE_TAIL_LINES))}`,
  );
}

/** Every phase line printed on the instance's console so far. */
export async function readConsolePhases(instance: Pick<QemuInstance, 'consoleLog'>): Promise<ParsedPhase[]> {
  return parseConsolePhases(await readFile(instance.consoleLog, 'utf8').catch(() => ''));
}

/** An SSH session to the instance's guest (root, its per-instance key). */
export async function connectInstanceSsh(
  instance: Pick<QemuInstance, 'sshPort' | 'privateKeyPath'>,
  timeoutMs = 30_000,
): Promise<SshSession> {
  return connectSsh({ port: instance.sshPort, privateKeyPath: instance.privateKeyPath, timeoutMs });
}
