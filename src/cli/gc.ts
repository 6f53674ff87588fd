import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import Dockerode from 'dockerode';
import { BenchError } from '../errors.js';
import { removeRunLeftovers, scanLeftovers, type RunLeftovers } from '../platforms/leftovers.js';
import { sweepDeadBuildScratch } from '../workload/build/build-lock.js';
import type { CliContext } from './context.js';
import { action } from './output.js';

function describe(r: RunLeftovers): string {
  const parts = [
    r.containers ? `${r.containers} container(s)` : '',
    r.images ? `${r.images} snapshot image(s)` : '',
    r.qemuProcesses.length ? `${r.qemuProcesses.length} qemu process(es)` : '',
    r.dirs.length ? `${r.dirs.length} dir(s)` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'nothing but its owner marker';
}

function ownerText(r: RunLeftovers): string {
  if (r.ownership === 'alive') return `in progress (pid ${r.owner?.pid})`;
  if (r.ownership === 'dead') return `its process ${r.owner && r.owner.pid > 0 ? `(pid ${r.owner.pid}) ` : ''}is gone`;
  return 'no owner marker (an older vmbench, or another cache dir)';
}

/**
 * Removes what dead runs left. The same sweep (dead owners only, quietly)
 * runs at the start of every `bench run`.
 */
export async function collectDeadRuns(
  docker: Dockerode,
  cacheDir: string,
  opts: { unowned?: boolean; run?: string; dryRun?: boolean; log?: (line: string) => void } = {},
): Promise<{ removed: RunLeftovers[]; kept: RunLeftovers[]; notes: string[] }> {
  const scan = await scanLeftovers(docker, cacheDir);
  const removed: RunLeftovers[] = [];
  const kept: RunLeftovers[] = [];
  for (const r of scan.runs) {
    const chosen = opts.run ? r.runId === opts.run : true;
    const removable = r.ownership === 'dead' || (r.ownership === 'unknown' && (opts.unowned || opts.run === r.runId));
    if (!chosen) continue;
    if (!removable) {
      kept.push(r);
      continue;
    }
    if (!opts.dryRun) await removeRunLeftovers(docker, cacheDir, r.runId, opts.log);
    removed.push(r);
  }
  return { removed, kept, notes: scan.notes };
}

export function registerGc(program: Command, ctx: CliContext): void {
  program
    .command('gc')
    .description('remove what crashed or killed runs left: containers, snapshot images, qemu processes, scratch disks, Vagrant environments and libvirt domains')
    .option('--dry-run', 'list what would be removed, remove nothing')
    .option('--run <run-id>', 'only this run (also one without an owner marker)')
    .option('--unowned', 'also remove leftovers whose run has no owner marker (left by an older vmbench)')
    .addHelpText(
      'after',
      `
Every container, VM, scratch dir and Vagrant project carries its run's id, and
each run records its owner process in <cache>/owners/<run-id>.json. gc removes
a run's leftovers only when that process is gone (pid, start time and boot id
checked), so it is safe while other runs are in progress; the start of every
\`bench run\` does the same sweep. The scratch of an artifact build killed mid-way
(<cache>/tmp) goes too, unless a live build holds the build lock. Built artifacts are kept (see \`bench images rm\`).

Examples:
  $ npx bench gc --dry-run
  $ npx bench gc
  $ npx bench gc --run 20261201-101500-smoke-ab12`,
    )
    .action(
      action(async (opts: { dryRun?: boolean; run?: string; unowned?: boolean }) => {
        if (opts.run !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(opts.run)) {
          throw new BenchError('usage', `--run ${JSON.stringify(opts.run)}: not a run id`, { hint: 'run ids look like 20261201-101500-smoke-ab12 (see results/)' });
        }
        const docker = new Dockerode();
        const { removed, kept, notes } = await collectDeadRuns(docker, ctx.cacheDir, { ...opts, log: (l) => process.stderr.write(`gc: ${l}\n`) });
        const probes = opts.dryRun ? 0 : await removeProbeDirs(ctx.cacheDir);
        // A build killed mid-way leaves its scratch (a half-made rootfs) under <cache>/tmp; no run id, but the build lock says whether its builder lives.
        const scratch = await sweepDeadBuildScratch(ctx.cacheDir, opts.dryRun === true);
        if (scratch.length) process.stdout.write(`${opts.dryRun ? 'would remove' : 'removed'} the scratch of a dead artifact build: ${scratch.join(', ')}\n`);
        for (const n of notes) process.stderr.write(`gc: ${n}\n`);
        for (const r of removed) process.stdout.write(`${opts.dryRun ? 'would remove' : 'removed'} ${r.runId}: ${describe(r)} (${ownerText(r)})\n`);
        for (const r of kept) process.stdout.write(`kept ${r.runId}: ${describe(r)} (${ownerText(r)})${r.ownership === 'unknown' ? '; --unowned or --run to remove' : ''}\n`);
        const count = (f: (r: RunLeftovers) => number) => removed.reduce((a, r) => a + f(r), 0);
        process.stdout.write(
          `${opts.dryRun ? 'would remove' : 'removed'} ${removed.length} run(s): ${count((r) => r.containers)} container(s), ${count((r) => r.images)} snapshot image(s), ` +
            `${count((r) => r.qemuProcesses.length)} qemu process(es), ${count((r) => r.dirs.length) + probes + scratch.length} dir(s); kept ${kept.length} run(s)\n`,
        );
        return 0;
      }),
    );
}

const PROBE_MAX_AGE_MS = 10 * 60_000;

/** KVM-probe temp dirs (<cache>/accel-probe-*): a probe runs for a second or two, so any left is a crash's. */
async function removeProbeDirs(cacheDir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(cacheDir).catch(() => [] as string[])) {
    if (!e.startsWith('accel-probe-')) continue;
    const age = Date.now() - (await stat(join(cacheDir, e)).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (age < PROBE_MAX_AGE_MS) continue; // maybe a probe of a run starting right now
    await rm(join(cacheDir, e), { recursive: true, force: true });
    n += 1;
  }
  return n;
}
