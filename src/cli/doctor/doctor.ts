import type { Command } from 'commander';
import Dockerode from 'dockerode';
import pc from 'picocolors';
import { messageOf } from '../../errors.js';
import { probeAccelerator } from '../../platforms/qemu/accel.js';
import { listArtifacts } from '../../workload/build/artifact-store.js';
import type { CliContext } from '../context.js';
import {
  buildToolChecks,
  dockerChecks,
  gpuChecks,
  memoryFeatureChecks,
  qemuChecks,
  vagrantChecks,
  type CheckResult,
} from './checks.js';
import { action, paint } from '../output.js';
import { hostChecks } from '../hosts/doctor-host.js';
import { collectHost, namedHosts, withHosts } from '../hosts/host-flags.js';

/** Boots the built kernel under KVM for real: /dev/kvm existing is not proof a guest runs. */
async function kvmCheck(ctx: CliContext, docker: Dockerode): Promise<CheckResult> {
  const section = 'virtual machines';
  try {
    const artifacts = await listArtifacts(ctx.cacheDir, docker);
    const latest = artifacts.find((a) => a.diskExists);
    if (!latest) {
      return { section, name: 'KVM boots a guest', status: 'info', detail: 'not probed: no guest kernel built yet', fix: 'run `npx bench images build`, then `bench doctor` again' };
    }
    const res = await probeAccelerator({ cacheDir: ctx.cacheDir, kernel: latest.artifact.vm.kernel, force: true });
    return res.accel === 'kvm'
      ? { section, name: 'KVM boots a guest', status: 'ok', detail: res.reason }
      : { section, name: 'KVM boots a guest', status: 'warn', detail: `no: ${res.reason}; VMs will run under TCG emulation (numbers not representative)`, fix: 'use a host where KVM works (nested virtualization enabled, kvm module loaded)' };
  } catch (err) {
    return { section, name: 'KVM boots a guest', status: 'warn', detail: `probe failed: ${messageOf(err)}` };
  }
}

const MARK: Record<CheckResult['status'], string> = { ok: '✓', warn: '!', fail: '✗', info: '·' };
const COLOR: Record<CheckResult['status'], (s: string) => string> = { ok: pc.green, warn: pc.yellow, fail: pc.red, info: pc.dim };

export function registerDoctor(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('check what this host can run: Docker, QEMU, KVM, build tools, Vagrant, GPU — each with a fix')
    .option('--json', 'print the checks as JSON')
    .option('--no-probe', 'skip the KVM probe boot (a few seconds)')
    .option('--host <NAME[=URL]>', 'check a remote host instead (NAME=ssh://user@host, or NAME from --scenario); repeatable', collectHost, [])
    .option('--scenario <file>', 'where bare --host names are defined (its hosts:)')
    .addHelpText('after', '\nExample: bench doctor --host kvm-box=ssh://bench@kvm-box.lan\nExit codes: 0 everything needed for `bench run` is present · 3 something required is missing.')
    .action(
      action(async (opts: { json?: boolean; probe: boolean; host: string[]; scenario?: string }) => {
        const docker = new Dockerode();
        let checks: CheckResult[];
        if (opts.host.length) {
          const named = await namedHosts(opts.host, opts.scenario);
          checks = await withHosts(named, { cacheDir: ctx.cacheDir }, async (r) => {
            const all: CheckResult[] = [];
            for (const h of r.all()) all.push(...(await hostChecks(h, { probe: opts.probe, cacheDir: ctx.cacheDir, localDocker: docker })));
            return all;
          });
        } else {
          checks = (
            await Promise.all([dockerChecks(docker), qemuChecks(), buildToolChecks(), vagrantChecks(ctx.cacheDir), gpuChecks(), memoryFeatureChecks()])
          ).flat();
          if (opts.probe) checks.push(await kvmCheck(ctx, docker));
          const order = ['containers', 'virtual machines', 'image build', 'vagrant', 'gpu', 'host'];
          checks.sort((a, b) => order.indexOf(a.section) - order.indexOf(b.section));
        }
        if (opts.json) {
          process.stdout.write(JSON.stringify(checks, null, 2) + '\n');
        } else {
          let section = '';
          for (const c of checks) {
            if (c.section !== section) {
              section = c.section;
              process.stdout.write(`\n${paint(pc.bold, section)}\n`);
            }
            process.stdout.write(`  ${paint(COLOR[c.status], MARK[c.status])} ${c.name}: ${c.detail}\n`);
            if (c.fix && c.status !== 'ok') process.stdout.write(`      ${paint(pc.dim, `fix: ${c.fix}`)}\n`);
          }
          process.stdout.write('\n');
        }
        return checks.some((c) => c.status === 'fail') ? 3 : 0;
      }),
    );
}
