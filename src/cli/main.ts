#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { defaultCacheDir, projectRoot } from '../paths.js';
import type { CliContext } from './context.js';
import { registerBaseline } from './baseline.js';
import { registerCalibrateNoise } from './calibrate-noise.js';
import { registerCheckServer } from './check-server/check-server.js';
import { registerCompare } from './compare.js';
import { registerDoctor } from './doctor/doctor.js';
import { registerGc } from './gc.js';
import { registerHistory } from './history.js';
import { registerImages } from './images.js';
import { registerReport } from './report.js';
import { registerRun } from './run.js';
import { registerValidate } from './validate.js';

const projectDir = projectRoot();
const version = (JSON.parse(readFileSync(join(projectDir, 'package.json'), 'utf8')) as { version: string }).version;
const ctx: CliContext = { projectDir, cacheDir: defaultCacheDir(), version };

const program = new Command('bench')
  .version(version, '-V, --version')
  .description(
    'vmbench: run the same model-serving workload in Docker containers and QEMU VMs (directly or through Vagrant/libvirt) and compare ' +
      'startup, cold start, memory, density, image size and throughput — with the numbers to back it, as reports and CI gates.',
  )
  .addHelpText(
    'after',
    `
Quick start:
  $ npx bench doctor                       # what this host can run, with fixes
  $ npx bench validate scenarios/smoke.yaml
  $ npx bench run scenarios/smoke.yaml     # builds images on first use; writes results/ and reports/
  $ npx bench report results/<run-id>      # re-render report.html, decision.md and charts
  $ npx bench compare baselines/ results/<run-id>   # CI gate: exit 1 on a regression

Environment: VMBENCH_CACHE_DIR (default .bench/), NO_COLOR, CI (plain progress), VMBENCH_DEBUG=1 (stack traces).`,
  )
  .showHelpAfterError('(run with --help for usage)');

registerRun(program, ctx);
registerValidate(program, ctx);
registerDoctor(program, ctx);
registerImages(program, ctx);
registerGc(program, ctx);
registerCompare(program, ctx);
registerBaseline(program, ctx);
registerCalibrateNoise(program, ctx);
registerHistory(program, ctx);
registerReport(program, ctx);
registerCheckServer(program, ctx);

program.exitOverride((err) => {
  // commander's own usage errors (unknown option, missing argument) exit 2 like every input error.
  process.exit(err.exitCode === 0 ? 0 : 2);
});

await program.parseAsync(process.argv);
