import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { commandResult, NOT_FOUND, type CommandResult, type CommandRunner } from '../../../src/platforms/host/command-runner.js';
import { gpuProbePath } from '../../../src/platforms/host/gpu-probe.js';
import { APPS_QUERY_ARGS, GPU_QUERY_ARGS } from '../../../src/platforms/host/nvidia-smi.js';

/**
 * A GPU host from test/fixtures/gpu/hosts/<name>.json, made real enough for
 * the detection code: its files and sysfs-style symlinks under a temporary
 * root, and a command runner that answers nvidia-smi, ldconfig and the probe
 * as the fixture says (everything else: not found).
 */

export const GPU_FIXTURES = resolve(__dirname, '../../fixtures/gpu');

interface CommandFixture {
  file?: string;
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  fixture?: string;
}

interface HostFixture {
  comment: string;
  files: Record<string, string>;
  links: Record<string, string>;
  dirs: string[];
  commands: Record<string, CommandFixture>;
}

export interface FixtureHost {
  root: string;
  run: CommandRunner;
  /** Every command line the runner was asked, in order. */
  asked: string[];
  probePath: string;
  cleanup(): Promise<void>;
}

async function answer(c: CommandFixture, base: string): Promise<CommandResult> {
  if (c.fixture) {
    const rec = JSON.parse(await readFile(join(base, c.fixture), 'utf8')) as { stdout: string; stderr: string; exitCode: number };
    return commandResult(rec.stdout, rec.exitCode, rec.stderr);
  }
  const stdout = c.file ? await readFile(join(base, c.file), 'utf8') : (c.stdout ?? '');
  return commandResult(stdout, c.exitCode ?? 0, c.stderr ?? '');
}

export async function fixtureHost(name: string): Promise<FixtureHost> {
  const base = join(GPU_FIXTURES, 'hosts');
  const spec = JSON.parse(await readFile(join(base, `${name}.SYNTHETIC.json`), 'utf8')) as HostFixture;
  const root = await mkdtemp(join(tmpdir(), `vmbench-gpu-${name}-`));
  for (const d of spec.dirs) await mkdir(join(root, d), { recursive: true });
  for (const [p, text] of Object.entries(spec.files)) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    await writeFile(join(root, p), text);
  }
  for (const [p, target] of Object.entries(spec.links)) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    await symlink(target, join(root, p));
  }
  const probePath = gpuProbePath({ VMBENCH_GPU_PROBE: '/fixture/vmbench-gpu-probe' });
  const table: Record<string, CommandFixture | undefined> = {
    [['nvidia-smi', ...GPU_QUERY_ARGS].join(' ')]: spec.commands['nvidia-smi:gpus'],
    [['nvidia-smi', ...APPS_QUERY_ARGS].join(' ')]: spec.commands['nvidia-smi:apps'] ?? (spec.commands['nvidia-smi:gpus'] ? { stdout: '', exitCode: 0 } : undefined),
    'ldconfig -p': spec.commands.ldconfig,
    [probePath]: spec.commands.probe,
  };
  const asked: string[] = [];
  const run: CommandRunner = async (cmd, args) => {
    const line = [cmd, ...args].join(' ');
    asked.push(line);
    const c = table[line];
    return c ? answer(c, base) : NOT_FOUND;
  };
  return { root, run, asked, probePath, cleanup: () => rm(root, { recursive: true, force: true }) };
}
