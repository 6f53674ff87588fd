import { resolve } from 'node:path';
import type { Command } from 'commander';
import Dockerode from 'dockerode';
import pc from 'picocolors';
import { messageOf } from '../../errors.js';
import { probeAccelerator } from '../../platforms/qemu/accel.js';
import { listArtifacts } from '../../workload/build/artifact-store.js';
import type { CliContext } from '../context.js';
import { BenchError } from '../../errors.js';
import { runHostCommand } from '../../platforms/host/command-runner.js';
import { bindToVfio } from '../../platforms/host/vfio-bind.js';
import { loadScenarioFile } from '../../scenario/load.js';
import { gatherGpuFindings } from './gpu-gather.js';
import { gpuDoctorChecks, gpuProblems, gpuWantsOf, type GpuWants } from './gpu-readiness.js';
import {
  buildToolChecks,
  dockerChecks,
  memoryFeatureChecks,
  qemuChecks,
  vagrantChecks,
  type CheckResult,
} from './checks.js';
import { action, paint } from '../output.js';

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

/**
 * The GPU section: what the host offers, and with --scenario a GPU scenario's
 * problems as failures, worded as `bench run` words them.
 */
async function gpuChecks(docker: Dockerode, scenarioFile: string | undefined): Promise<CheckResult[]> {
  // Resolved as bench run resolves it, so both print the same file:line:column.
  const loaded = scenarioFile ? await loadScenarioFile(resolve(scenarioFile)) : undefined;
  const scenario = loaded?.scenario;
  const gpuScenario = scenario?.workload.device === 'gpu' ? scenario : undefined;
  const wants: GpuWants = gpuScenario ? gpuWantsOf(gpuScenario) : { containers: [], vms: [] };
  const findings = await gatherGpuFindings(wants, { docker, withDocker: true });
  // Placed and ordered as bench run's preflight prints them (file:line:column, by position).
  const located = loaded && gpuScenario
    ? gpuProblems(findings, wants)
        .map((p) => ({ ...p, place: loaded.locate(p.path) }))
        .sort((a, b) => a.place.line - b.place.line || a.place.column - b.place.column)
        .map(({ place, ...p }) => ({ ...p, at: `${loaded.file}:${place.line}:${place.column}` }))
    : null;
  const checks = gpuDoctorChecks(findings, located);
  if (scenario && !gpuScenario) checks.push({ section: 'gpu', name: 'scenario', status: 'info', detail: `${scenarioFile} runs on CPU (workload.device: ${scenario.workload.device})` });
  return checks;
}

const MARK: Record<CheckResult['status'], string> = { ok: '✓', warn: '!', fail: '✗', info: '·' };
const COLOR: Record<CheckResult['status'], (s: string) => string> = { ok: pc.green, warn: pc.yellow, fail: pc.red, info: pc.dim };

export function registerDoctor(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('check what this host can run: Docker, QEMU, KVM, build tools, Vagrant, GPU — each with a fix')
    .option('--json', 'print the checks as JSON')
    .option('--no-probe', 'skip the KVM probe boot (a few seconds)')
    .option('--scenario <file>', "also check what this scenario needs (a GPU scenario's problems fail, as `bench run` reports them)")
    .option('--bind-vfio <pci-address>', 'hand this GPU (and every function of its IOMMU group) to vfio-pci for VM passthrough — it leaves the host driver; vmbench never does this unasked')
    .addHelpText(
      'after',
      `
Examples:
  $ npx bench doctor
  $ npx bench doctor --scenario scenarios/gpu-resnet.yaml
  $ npx bench doctor --bind-vfio 0000:65:00.0

Exit codes: 0 everything needed for \`bench run\` is present · 3 something required is missing.`,
    )
    .action(
      action(async (opts: { json?: boolean; probe: boolean; scenario?: string; bindVfio?: string }) => {
        const docker = new Dockerode();
        if (opts.bindVfio) {
          if (process.getuid?.() !== 0) throw new BenchError('unsupported', '--bind-vfio writes to /sys: run it as root');
          const r = await bindToVfio('/', opts.bindVfio, runHostCommand);
          process.stderr.write(`bound ${opts.bindVfio} to vfio-pci:\n${r.done.map((c) => `  ${c}`).join('\n')}\n`);
        }
        const checks = (
          await Promise.all([dockerChecks(docker), qemuChecks(), buildToolChecks(), vagrantChecks(ctx.cacheDir), gpuChecks(docker, opts.scenario), memoryFeatureChecks()])
        ).flat();
        if (opts.probe) checks.push(await kvmCheck(ctx, docker));
        const order = ['containers', 'virtual machines', 'image build', 'vagrant', 'gpu', 'host'];
        checks.sort((a, b) => order.indexOf(a.section) - order.indexOf(b.section));
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
