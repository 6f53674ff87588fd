import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BenchError, messageOf } from '../../../errors.js';
import type { Artifact } from '../../../workload/artifact.js';
import { SERVER_PORT_INSIDE } from '../../../workload/contract.js';
import { parsePhaseLines } from '../../../workload/phase-lines.js';
import { LOOPBACK } from '../../host/ports.js';
import { ConsolePhaseRecorder, followConsolePhases, qemuStartupPhases, stopConsolePhases } from '../../linux-guest/console-phases.js';
import { ConsoleTail, waitForLine } from '../../linux-guest/console.js';
import { sshTrueRoundTrips } from '../../linux-guest/guest.js';
import { buildKernelCmdline } from '../../linux-guest/kernel-cmdline.js';
import { stopGuestGracefully } from '../../linux-guest/graceful-stop.js';
import { writeSshKeyPair } from '../../linux-guest/ssh.js';
import type { MemoryReading } from '../../memory-reading.js';
import { type Instance, type InstanceSpec, type Lifecycle, type PlatformFacts } from '../../platform.js';
import type { ResolvedAccel } from '../../qemu/accel.js';
import { buildQemuArgs, hostCpuKhz, resolveMachine, TCG_TB_SIZE_MIB, type Accel, type Machine } from '../../qemu/args.js';
import { checkId, consoleExcerpt, MARKER_FILE } from '../../qemu/instance.js';
import { readQemuMemory } from '../../qemu/memory.js';
import type { QemuPlatformConfig } from '../../qemu/qemu-platform.js';
import { QmpClient } from '../../qemu/qmp.js';
import { vmName } from '../../qemu/procs.js';
import type { PhaseTimeline } from '../../timeline.js';
import { RemoteGuestPlatform } from '../remote-guest-platform.js';
import type { RemoteHost } from '../remote-host.js';
import { shellLine, shq } from '../ssh-connection.js';
import { cleanupRemoteRun } from './remote-gc.js';
import { resolveRemoteAccelerator } from './remote-accel.js';
import { mirrorFile, spawnTied, waitChild, type RemoteChild } from './remote-child.js';

/**
 * QEMU on another host, run over SSH: the artifact's disk, kernel and
 * initramfs copied there once (remote-cache.ts), a per-instance overlay in
 * <work_dir>/runs/<runId>/<instanceId>/ (the local layout, see
 * qemu/instance.ts), qemu-system-x86_64 started by an exec channel and tied to
 * the connection (remote-child.ts), QMP through a unix-socket forward of
 * that connection, the serial console mirrored here by `tail -F`, the guest's
 * sshd through a TCP forward to 127.0.0.1 there. Readiness and load come
 * from the helper on that host; memory from its /proc.
 */

export interface RemoteQemuInstance extends Instance {
  readonly kind: 'qemu';
  readonly facts: Record<string, string | number | boolean>;
  readonly pid: number;
  readonly sshPort: number;
  readonly hostPort: number;
  readonly remoteDir: string;
  readonly qmpSocket: string;
  /** Local: the SSH key for the guest and the console mirror. */
  readonly localDir: string;
  readonly privateKeyPath: string;
}

interface Live {
  child: RemoteChild;
  qmp: QmpClient | null;
  mirror: { stop(): void } | null;
}

const GRACEFUL_STOP_MS = 3000;
const live = new WeakMap<RemoteQemuInstance, Live>();

interface Prepared {
  qemuSystem: string;
  qemuImg: string;
  version: string;
  versionLine: string;
  pdeathsig: boolean;
  accel: ResolvedAccel;
  machine: Machine;
  hostKhz: number | null;
  files: { disk: string; kernel: string; initrd: string };
  workDir: string;
}

export class RemoteQemuPlatform extends RemoteGuestPlatform<RemoteQemuInstance> {
  readonly kind = 'qemu' as const;
  get cpus(): number {
    return this.config.cpus;
  }
  private prepared: Prepared | undefined;

  constructor(
    name: string,
    readonly config: QemuPlatformConfig,
    host: RemoteHost,
    ctx: { cacheDir: string; log?: (line: string) => void },
  ) {
    super(name, host, ctx);
  }

  private need(): Prepared {
    if (!this.prepared) throw new BenchError('internal', `RemoteQemuPlatform ${this.name} used before prepare()`);
    return this.prepared;
  }

  async prepare(artifact: Artifact): Promise<PlatformFacts> {
    const conn = await this.host.connection();
    const tools = await conn.exec('command -v qemu-system-x86_64; command -v qemu-img; command -v setpriv; qemu-system-x86_64 --version | head -n 1');
    const [qemuSystem, qemuImg, setpriv, versionLine] = tools.stdout.trim().split('\n');
    if (!qemuSystem?.startsWith('/') || !qemuImg?.startsWith('/')) {
      throw new BenchError('unsupported', `host ${this.host.name}: QEMU is not installed there (qemu-system-x86_64 and qemu-img on the PATH of ${this.host.config.user})`, {
        hint: 'install qemu-system-x86 and qemu-utils on that host (`bench doctor --host` checks it)',
      });
    }
    const pdeathsig = !!setpriv?.startsWith('/');
    if (!pdeathsig) this.log('setpriv (util-linux) is missing: QEMU is not tied to the connection; `bench gc --host` reaps what a lost controller leaves');
    const cpuinfo = await this.host.fs.readFile('/proc/cpuinfo').catch(() => '');
    const hostKhz = hostCpuKhz((p) => {
      if (p === '/proc/cpuinfo' && cpuinfo) return cpuinfo;
      throw new Error('not read');
    });
    const t0 = performance.now();
    const [disk, kernel, initrd] = [
      await this.host.ensureFile(artifact.vm.disk, 'disk.qcow2'),
      await this.host.ensureFile(artifact.vm.kernel, 'vmlinuz'),
      await this.host.ensureFile(artifact.vm.initrd, 'initrd.img'),
    ];
    const copied = [disk, kernel, initrd].filter((f) => f.uploaded);
    const probeMachine: Machine = this.config.machine === 'auto' ? 'microvm' : this.config.machine;
    const accel = await resolveRemoteAccelerator(this.host, this.config.accel, {
      qemuSystem, kernel: kernel.path, machine: probeMachine, hostKhz, cacheDir: this.ctx.cacheDir, log: (l) => this.log(l),
    });
    const machine = resolveMachine(this.config.machine, accel.accel);
    const version = /version\s+([0-9][0-9.]*)/.exec(versionLine ?? '')?.[1] ?? versionLine ?? '?';
    this.prepared = { qemuSystem, qemuImg, version, versionLine: versionLine ?? '', pdeathsig, accel, machine, hostKhz, files: { disk: disk.path, kernel: kernel.path, initrd: initrd.path }, workDir: await this.host.workDir() };
    this.log(`qemu ${version} on ${this.host.name}, accel ${accel.accel} (${accel.reason}), machine ${machine}`);
    const facts: PlatformFacts = {
      host: this.host.name,
      qemuVersion: version,
      qemuVersionLine: versionLine ?? '',
      accel: accel.accel,
      accelReason: accel.reason,
      cpuModel: accel.cpu,
      machine,
      kernelVersion: artifact.vm.kernelVersion,
      cpus: this.config.cpus,
      memoryMiB: Math.floor(this.config.memoryBytes / 2 ** 20),
      hostKhz,
      network: 'user-hostfwd',
      tiedToConnection: pdeathsig,
      artifactOnHost: copied.length ? `copied ${copied.length} file(s), verified by sha256 on arrival, in ${((performance.now() - t0) / 1000).toFixed(1)} s` : 'present (verified on an earlier arrival)',
      diskSha256: disk.sha256,
    };
    if (accel.accel === 'tcg') facts.tcgTbSizeMiB = TCG_TB_SIZE_MIB;
    return facts;
  }

  private remoteDirOf(runId: string, instanceId: string): string {
    return `${this.need().workDir}/runs/${runId}/${instanceId}`;
  }

  /** QMP lives in the instance dir unless that path is too long for a unix socket (108 bytes), then in /tmp. */
  private qmpPathFor(dir: string): string {
    const p = `${dir}/qmp.sock`;
    return p.length <= 100 ? p : `/tmp/vmbench-qmp-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}.sock`;
  }

  protected async doLaunch(spec: InstanceSpec, lifecycle: Lifecycle): Promise<RemoteQemuInstance> {
    const p = this.need();
    checkId('runId', spec.runId);
    checkId('instanceId', spec.instanceId);
    const conn = await this.host.connection();
    const name = vmName(spec.runId, spec.instanceId);
    const dir = this.remoteDirOf(spec.runId, spec.instanceId);
    const localDir = join(resolve(this.ctx.cacheDir), 'remote-runs', spec.runId, spec.instanceId);
    const qmpSocket = this.qmpPathFor(dir);
    const consoleLog = `${dir}/console.log`;
    const pidfile = `${dir}/qemu.pid`;
    const overlay = `${dir}/overlay.qcow2`;
    await rm(localDir, { recursive: true, force: true });
    await mkdir(localDir, { recursive: true });
    const marker = JSON.stringify({ platform: 'qemu', name: this.name, runId: spec.runId, instanceId: spec.instanceId, createdAt: new Date().toISOString(), controller: `${process.pid}` });
    await conn.run(`rm -rf ${shq(dir)} && mkdir -p ${shq(dir)} && printf '%s\\n' ${shq(marker)} > ${shq(`${dir}/${MARKER_FILE}`)}`);
    try {
      const keys = await writeSshKeyPair(localDir, 'id_ed25519', name);
      const cmdline = buildKernelCmdline({
        guestPort: SERVER_PORT_INSIDE, threads: spec.threads, modelName: spec.modelName, authorizedKey: keys.publicKeyLine,
        tscKhz: p.machine === 'microvm' ? p.hostKhz : null,
      });
      const failures: string[] = [];
      for (let attempt = 1; attempt <= 2; attempt++) {
        await conn.run(`rm -f ${[overlay, consoleLog, qmpSocket, pidfile].map(shq).join(' ')} && ${shellLine([p.qemuImg, 'create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', p.files.disk, overlay])}`, { timeoutMs: 60_000 });
        const hostPort = await this.host.freePort();
        const sshPort = await this.host.freePort([hostPort]);
        const args = buildQemuArgs({
          name, machine: p.machine, accel: p.accel.accel, cpu: p.accel.cpu, cpus: this.config.cpus, memoryMiB: Math.floor(this.config.memoryBytes / 2 ** 20),
          kernel: p.files.kernel, initrd: p.files.initrd, cmdline, disk: overlay, consoleLog, qmpSocket, pidfile, hostPort, guestPort: SERVER_PORT_INSIDE, sshPort,
        });
        this.log(`${name}: attempt ${attempt}: ${p.qemuSystem} ${args.join(' ')}`);
        const bootT0 = performance.now();
        const child = await spawnTied(conn, [p.qemuSystem, ...args], { cwd: dir, pdeathsig: p.pdeathsig });
        this.mark(lifecycle, 'created');
        const held: Live = { child, qmp: null, mirror: null };
        const mirrorPath = join(localDir, `console-${attempt}.log`);
        const tail = new ConsoleTail(mirrorPath);
        const recorder = new ConsolePhaseRecorder(tail);
        let failure: string | null = null;
        let pid = 0;
        try {
          held.qmp = await this.connectQmp(qmpSocket, this.config.bootTimeoutMs, () => !child.exited);
          const st = await held.qmp.queryStatus();
          if (!st.running) throw new BenchError('infrastructure', `QEMU status is '${st.status}', not running`);
          pid = Number((await this.host.fs.readFile(pidfile)).trim());
          if (!Number.isInteger(pid) || pid <= 0) throw new BenchError('infrastructure', `no pid in ${pidfile}`);
          this.mark(lifecycle, 'started');
          held.mirror = await mirrorFile(conn, consoleLog, mirrorPath, pid);
          const left = this.config.bootTimeoutMs - (performance.now() - bootT0);
          const seen = await waitForLine(tail, (l) => (parsePhaseLines([l])[0]?.phase === 'init' ? true : null), {
            timeoutMs: Math.max(0, left),
            abort: () => (child.exited ? `qemu exited (${child.exitInfo ?? '?'})` : null),
          });
          if (!seen.ok) {
            const last = tail.lastLines(1)[0];
            failure = `${seen.reason} before VMBENCH_PHASE init; ${last === undefined ? 'guest printed nothing' : `last console line: ${last.slice(0, 160)}`}`;
          }
        } catch (err) {
          failure = child.exited ? `qemu exited (${child.exitInfo ?? '?'})` : messageOf(err);
        }
        if (failure === null) {
          const facts: Record<string, string | number | boolean> = {
            host: this.host.name, pid, accel: p.accel.accel, cpuModel: p.accel.cpu, machine: p.machine, cpus: this.config.cpus, sshPort, hostPort,
            guestPort: SERVER_PORT_INSIDE, network: 'user-hostfwd', bootAttempts: attempt, qemuVersion: p.version, vmName: name,
            memoryMiB: Math.floor(this.config.memoryBytes / 2 ** 20), runtime: `qemu-${p.accel.accel}`, runtimeVersion: p.versionLine, remoteDir: dir,
            consoleSource: 'tail -F over ssh (arrival here, late by half a round trip)',
          };
          if (failures.length) facts.firstAttemptFailure = failures.join(' | ');
          const inst: RemoteQemuInstance = {
            id: spec.instanceId, runId: spec.runId, platformName: this.name, kind: 'qemu', baseUrl: `http://${LOOPBACK}:${hostPort}`, lifecycle, facts,
            loadSite: this.host.site, pid, sshPort, hostPort, remoteDir: dir, qmpSocket, localDir, privateKeyPath: keys.privateKeyPath,
          };
          live.set(inst, held);
          followConsolePhases(inst, recorder, () => child.exited);
          this.log(`${name}: started on ${this.host.name} (pid ${pid}, attempt ${attempt})`);
          return inst;
        }
        await tail.poll();
        const lines = tail.lastLines(20);
        failures.push(`attempt ${attempt}: ${failure}${child.stderr.trim() ? ` [qemu stderr: ${child.stderr.trim().split('\n').slice(-3).join(' / ')}]` : ''}`);
        this.log(`${name}: boot attempt ${attempt} failed: ${failure}`);
        await this.kill(held, pid);
        if (conn.lost !== null || attempt === 2) {
          throw new BenchError('infrastructure', `VM ${name} on ${this.host.name} did not boot (${failures.join('; ')}). Last console lines:\n${consoleExcerpt(lines)}`, {
            ...(conn.lost !== null ? { category: 'host_unreachable' as const } : {}),
          });
        }
      }
      throw new BenchError('internal', 'unreachable');
    } catch (err) {
      await conn.exec(`rm -rf ${shq(dir)} ${shq(qmpSocket)}`).catch(() => undefined);
      await rm(localDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** QMP through a unix-socket forward, retried while the socket does not exist yet. */
  private async connectQmp(path: string, timeoutMs: number, alive: () => boolean): Promise<QmpClient> {
    const deadline = performance.now() + timeoutMs;
    let last: unknown;
    while (performance.now() < deadline && alive()) {
      try {
        const stream = await (await this.host.connection()).openUnix(path);
        return await QmpClient.over(stream, Math.max(100, Math.min(3000, deadline - performance.now())));
      } catch (err) {
        last = err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new BenchError('infrastructure', `QMP socket ${path} on ${this.host.name} did not answer: ${messageOf(last ?? 'process exited')}`, { cause: last });
  }

  /** quit over QMP, else SIGKILL by pid on the host; resolves when the channel has ended. */
  private async kill(held: Live, pid: number): Promise<'quit' | 'kill' | 'gone'> {
    held.mirror?.stop();
    if (held.child.exited) return 'gone';
    if (held.qmp) {
      await held.qmp.execute('quit', undefined, 1000).catch(() => undefined);
      if (await waitChild(held.child, 1500)) return 'quit';
    }
    if (pid > 0) await (await this.host.connection()).exec(`kill -KILL ${pid}`).catch(() => undefined);
    held.child.channel.close();
    await waitChild(held.child, 5000);
    return 'kill';
  }


  protected async doStop(inst: RemoteQemuInstance): Promise<void> {
    const held = live.get(inst);
    let method = 'gone';
    await stopConsolePhases(inst);
    try {
      if (held && !held.child.exited) {
        const stop = await stopGuestGracefully({
          vmName: String(inst.facts.vmName),
          ssh: (timeoutMs) => this.guestSsh(inst, timeoutMs),
          qmp: held.qmp,
          exited: (ms) => waitChild(held.child, ms),
          graceMs: GRACEFUL_STOP_MS,
          log: (l) => this.log(l),
        });
        inst.facts.stopRequest = method = stop.request;
        if (!stop.graceful) method = await this.kill(held, inst.pid);
      }
    } finally {
      held?.mirror?.stop();
      held?.qmp?.close();
      inst.facts.stopMethod = method;
      await rm(inst.localDir, { recursive: true, force: true });
      const conn = await this.host.connection().catch(() => null);
      await conn?.exec(`rm -rf ${shq(inst.remoteDir)} ${shq(inst.qmpSocket)}; rmdir ${shq(`${this.need().workDir}/runs/${inst.runId}`)} 2>/dev/null; true`).catch(() => undefined);
    }
  }

  /** QEMU's PSS from the host's /proc (through the helper), the server's inside the guest over a forwarded SSH. */
  override async memoryReading(inst: RemoteQemuInstance): Promise<MemoryReading> {
    return readQemuMemory(inst, { fs: this.host.fs, guestSock: async () => (await this.host.connection()).openLoopback(inst.sshPort) });
  }

  override async startupPhases(inst: RemoteQemuInstance): Promise<PhaseTimeline> {
    return qemuStartupPhases(inst);
  }

  override async execRoundTripMs(inst: RemoteQemuInstance, count: number): Promise<number[]> {
    return sshTrueRoundTrips(await this.guestSsh(inst, 30_000), count);
  }


  async cleanupRun(runId: string): Promise<void> {
    checkId('runId', runId);
    await rm(join(resolve(this.ctx.cacheDir), 'remote-runs', runId), { recursive: true, force: true });
    if (!this.prepared) return;
    const r = await cleanupRemoteRun(this.host, runId, (l) => this.log(l));
    if (r.left.length) throw new BenchError('infrastructure', `host ${this.host.name}: could not kill qemu process(es) ${r.left.join(', ')}`);
  }
}

export type { Accel };
