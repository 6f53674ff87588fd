import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchError } from '../../src/errors.js';
import { formatPath, loadScenario, parseScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/schema.js';

const FILE = 'scenarios/x.yaml';
const GiB = 2 ** 30;

const REFERENCE = `# yaml-language-server: $schema=../schemas/scenario.schema.json
name: cpu-resnet
description: ResNet-50 on CPU, Docker container vs QEMU VM
workload:
  model: resnet50            # resnet18 | resnet50 | path to an .onnx file
  batch: 1
  threads: 2
platforms:
  - name: container
    kind: docker
    cpus: 2
    memory: 2GiB
    network: host            # host | bridge
  - name: vm
    kind: qemu
    cpus: 2
    memory: 2GiB
    accel: auto              # auto | kvm | tcg
    machine: auto            # auto | microvm | pc | q35
measurements:
  startup:    { repetitions: 5, warmup: 1, timeout: 180s }
  cold_start: { repetitions: 5, timeout: 180s }
  memory:     { settle: 5s }
  density:    { max_instances: 8, memory_budget: 8GiB, slo_p99: 500ms }
  throughput: { mode: closed, connections: [1, 4], duration: 20s, warmup: 5s }
report:
  formats: [json, markdown, html, decision, charts, exports]
`;

// A small valid scenario; the malformed cases below edit it. Line numbers:
const BASE = [
  'name: t', //                                   1
  'workload:', //                                 2
  '  model: resnet18', //                         3
  'platforms:', //                                4
  '  - name: c', //                               5
  '    kind: docker', //                          6
  '    cpus: 1', //                               7
  '    memory: 1GiB', //                          8
  '  - name: v', //                               9
  '    kind: qemu', //                           10
  '    cpus: 1', //                              11
  '    memory: 1GiB', //                         12
  'measurements:', //                            13
  '  startup: { repetitions: 2 }', //            14
].join('\n');

function lines(edit: (l: string[]) => void): string {
  const l = BASE.split('\n');
  edit(l);
  return `${l.join('\n')}\n`;
}

function errorOf(text: string, file = FILE): BenchError {
  try {
    parseScenario(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(BenchError);
    return err as BenchError;
  }
  throw new Error('expected parseScenario to throw');
}

describe('the reference scenario', () => {
  it('parses to the expected values', () => {
    const s = parseScenario(REFERENCE, 'scenarios/cpu-resnet.yaml');
    const expected: Scenario = {
      name: 'cpu-resnet',
      description: 'ResNet-50 on CPU, Docker container vs QEMU VM',
      workload: { model: 'resnet50', batch: 1, threads: 2, device: 'cpu', seed: 0 },
      platforms: [
        { name: 'container', kind: 'docker', cpus: 2, memory: 2 * GiB, network: 'host', runtime: 'runc' },
        {
          name: 'vm',
          kind: 'qemu',
          cpus: 2,
          memory: 2 * GiB,
          accel: 'auto',
          machine: 'auto',
          boot_timeout: 120_000,
        },
      ],
      measurements: {
        startup: { repetitions: 5, warmup: 1, timeout: 180_000 },
        cold_start: { repetitions: 5, warmup: 0, timeout: 180_000 },
        memory: { settle: 5_000, under_load: false, ksm: false },
        density: { max_instances: 8, memory_budget: 8 * GiB, slo_p99: 500 },
        throughput: { mode: 'closed', connections: [1, 4], duration: 20_000, warmup: 5_000, timeout: 5_000 },
      },
      runner: { order: 'interleaved', seed: 1, poll_interval: 10 },
      report: { formats: ['json', 'markdown', 'html', 'decision', 'charts', 'exports'] },
    };
    expect(s).toEqual(expected);
  });

  it('is in scenarios/cpu-resnet.yaml, line for line, which only adds keys', async () => {
    const { readFile } = await import('node:fs/promises');
    const shipped = (await readFile('scenarios/cpu-resnet.yaml', 'utf8')).split('\n');
    let at = 0;
    for (const line of REFERENCE.split('\n')) {
      const found = shipped.indexOf(line, at);
      expect(found, `reference line missing or out of order: ${line}`).toBeGreaterThanOrEqual(at);
      at = found + 1;
    }
    const s = await loadScenario('scenarios/cpu-resnet.yaml');
    const reference = parseScenario(REFERENCE, 'scenarios/cpu-resnet.yaml');
    expect(s).toMatchObject({ ...reference, measurements: expect.objectContaining(reference.measurements) });
  });

  it('fills defaults for a minimal file', () => {
    const s = parseScenario(BASE, FILE);
    expect(s.workload).toEqual({ model: 'resnet18', batch: 1, threads: 1, device: 'cpu', seed: 0 });
    expect(s.platforms[0]).toEqual({ name: 'c', kind: 'docker', cpus: 1, memory: GiB, network: 'host', runtime: 'runc' });
    expect(s.measurements).toEqual({ startup: { repetitions: 2, warmup: 1, timeout: 180_000 } });
    expect(s.runner).toEqual({ order: 'interleaved', seed: 1, poll_interval: 10 });
    expect(s.report).toEqual({ formats: ['json', 'markdown', 'html', 'decision', 'charts', 'exports'] });
  });

  it('accepts open-loop throughput with rates, fractional docker cpus and vagrant', () => {
    const s = parseScenario(
      lines((l) => {
        l[6] = '    cpus: 0.5';
        l.push('  throughput: { mode: open, rates: [5, 12.5], duration: 10s }');
        l.splice(12, 0, '  - { name: box, kind: vagrant, cpus: 2, memory: 2GB }');
      }),
      FILE,
    );
    expect(s.platforms[0]).toMatchObject({ cpus: 0.5 });
    expect(s.platforms[2]).toEqual({
      name: 'box',
      kind: 'vagrant',
      cpus: 2,
      memory: 2e9,
      provider: 'libvirt',
      accel: 'auto',
      boot_timeout: 300_000,
      tcg_tb_size: 64 * 2 ** 20,
    });
    expect(s.measurements.throughput).toEqual({
      mode: 'open',
      connections: [1],
      rates: [5, 12.5],
      duration: 10_000,
      warmup: 0,
      timeout: 5_000,
    });
  });

  it('accepts warmup >= repetitions', () => {
    const s = parseScenario(lines((l) => (l[13] = '  startup: { repetitions: 1, warmup: 3 }')), FILE);
    expect(s.measurements.startup).toMatchObject({ repetitions: 1, warmup: 3 });
  });
});

describe('shipped scenarios', () => {
  it.each(['scenarios/cpu-resnet.yaml', 'scenarios/smoke.yaml', 'scenarios/gpu-resnet.yaml'])('%s loads', async (file) => {
    const s = await loadScenario(file);
    expect(s.platforms.map((p) => p.kind)).toEqual(['docker', 'qemu']);
  });

  it('network-paths compares docker host, docker bridge and qemu user networking', async () => {
    const s = await loadScenario('scenarios/network-paths.yaml');
    expect(s.platforms.map((p) => (p.kind === 'docker' ? `docker/${p.network}` : p.kind))).toEqual(['docker/host', 'docker/bridge', 'qemu']);
    expect(s.measurements.network).toEqual({ requests: 500, timeout: 2_000 });
  });

  it.each(['scenarios/cpu-resnet.yaml', 'scenarios/smoke.yaml', 'scenarios/gpu-resnet.yaml', 'scenarios/network-paths.yaml'])(
    '%s points editors at the JSON schema',
    async (file) => {
      const { readFile } = await import('node:fs/promises');
      const first = (await readFile(file, 'utf8')).split('\n')[0];
      expect(first).toBe('# yaml-language-server: $schema=../schemas/scenario.schema.json');
    },
  );

  it('smoke is small: resnet18, 2 repetitions, no warm-up', async () => {
    const s = await loadScenario('scenarios/smoke.yaml');
    expect(s.workload).toMatchObject({ model: 'resnet18', threads: 2 });
    expect(s.platforms).toEqual([
      { name: 'container', kind: 'docker', cpus: 2, memory: GiB, network: 'host', runtime: 'runc' },
      { name: 'vm', kind: 'qemu', cpus: 1, memory: GiB, accel: 'auto', machine: 'auto', boot_timeout: 120_000 },
    ]);
    expect(s.measurements).toEqual({
      startup: { repetitions: 2, warmup: 0, timeout: 300_000 },
      cold_start: { repetitions: 2, warmup: 0, timeout: 300_000 },
      memory: { settle: 2_000, under_load: false, ksm: false },
      network: { requests: 200, timeout: 2_000 },
      snapshot: { timeout: 300_000 },
    });
    expect(s.report.formats).toEqual(['json', 'markdown', 'html', 'decision', 'charts', 'exports']);
  });

  it('gpu-resnet asks for a GPU', async () => {
    expect((await loadScenario('scenarios/gpu-resnet.yaml')).workload.device).toBe('gpu');
  });
});

interface Case {
  name: string;
  text: string;
  line: number;
  column: number;
  path: string;
  fragment: string;
}

const CASES: Case[] = [
  {
    name: 'bad YAML syntax (unclosed flow mapping)',
    text: lines((l) => (l[13] = '  startup: { repetitions: 2')),
    line: 15,
    column: 1,
    path: '',
    fragment: 'YAML syntax error: ',
  },
  {
    name: 'tab indentation',
    text: lines((l) => (l[2] = '\tmodel: resnet18')),
    line: 3,
    column: 1,
    path: '',
    fragment: 'YAML syntax error: Tabs are not allowed as indentation (indent with spaces)',
  },
  {
    name: 'duplicate YAML key',
    text: lines((l) => l.splice(1, 0, 'name: u')),
    line: 2,
    column: 1,
    path: '',
    fragment: 'Map keys must be unique',
  },
  {
    name: 'undefined YAML alias',
    text: lines((l) => (l[2] = '  model: *net')),
    line: 3,
    column: 10,
    path: '',
    fragment: 'YAML error: Unresolved alias',
  },
  {
    name: 'unknown top-level key',
    text: lines((l) => l.push('colour: red')),
    line: 15,
    column: 1,
    path: 'colour',
    fragment: 'unknown key "colour"; expected one of: name, description, workload, platforms, measurements, runner, report',
  },
  {
    name: 'unknown nested key, with a suggestion',
    text: lines((l) => l.splice(8, 0, '    netwrok: host')),
    line: 9,
    column: 5,
    path: 'platforms[0].netwrok',
    fragment: 'unknown key "netwrok" (did you mean "network"?)',
  },
  {
    name: 'unknown key in a flow mapping',
    text: lines((l) => (l[13] = '  startup: { repetitions: 2, retries: 3 }')),
    line: 14,
    column: 30,
    path: 'measurements.startup.retries',
    fragment: 'unknown key "retries"; expected one of: repetitions, warmup, timeout',
  },
  {
    name: 'missing name',
    text: lines((l) => l.splice(0, 1)),
    line: 1,
    column: 1,
    path: 'name',
    fragment: 'missing required key "name"',
  },
  {
    name: 'missing platforms',
    text: lines((l) => l.splice(3, 9)),
    line: 1,
    column: 1,
    path: 'platforms',
    fragment: 'missing required key "platforms" (expected a list)',
  },
  {
    name: 'empty platforms',
    text: lines((l) => l.splice(3, 9, 'platforms: []')),
    line: 4,
    column: 12,
    path: 'platforms',
    fragment: 'expected at least 1 item, got an empty list',
  },
  {
    name: 'unknown kind',
    text: lines((l) => (l[5] = '    kind: podman')),
    line: 6,
    column: 11,
    path: 'platforms[0].kind',
    fragment: 'expected kind to be one of "docker", "qemu", "vagrant", got "podman"',
  },
  {
    name: 'missing kind (points at the platform mapping)',
    text: lines((l) => l.splice(9, 1)),
    line: 9,
    column: 5,
    path: 'platforms[1].kind',
    fragment: 'missing required key "kind"',
  },
  {
    name: 'bad memory size',
    text: lines((l) => (l[11] = '    memory: 2 gigs')),
    line: 12,
    column: 13,
    path: 'platforms[1].memory',
    fragment: 'expected a size such as "512MiB" or "2GiB", got "2 gigs"',
  },
  {
    name: 'memory without a unit',
    text: lines((l) => (l[7] = '    memory: 1024')),
    line: 8,
    column: 13,
    path: 'platforms[0].memory',
    fragment: 'got 1024 (a unit is required',
  },
  {
    name: 'empty memory value (points at the key)',
    text: lines((l) => (l[7] = '    memory:')),
    line: 8,
    column: 5,
    path: 'platforms[0].memory',
    fragment: 'expected a size such as "512MiB" or "2GiB", got an empty value',
  },
  {
    name: 'bad duration',
    text: lines((l) => (l[13] = '  startup: { repetitions: 2, timeout: 30 sec }')),
    line: 14,
    column: 39,
    path: 'measurements.startup.timeout',
    fragment: 'expected a duration such as "500ms", "30s" or "2m", got "30 sec"',
  },
  {
    name: 'duration without a unit',
    text: lines((l) => (l[13] = '  startup: { repetitions: 2, timeout: 30 }')),
    line: 14,
    column: 39,
    path: 'measurements.startup.timeout',
    fragment: 'got 30 (a unit is required: ms, s, m or h',
  },
  {
    name: 'negative repetitions',
    text: lines((l) => (l[13] = '  startup: { repetitions: -1 }')),
    line: 14,
    column: 27,
    path: 'measurements.startup.repetitions',
    fragment: 'expected a number of at least 1, got -1',
  },
  {
    name: 'non-integer cpus for qemu',
    text: lines((l) => (l[10] = '    cpus: 1.5')),
    line: 11,
    column: 11,
    path: 'platforms[1].cpus',
    fragment: 'expected a whole number, got 1.5',
  },
  {
    name: 'cpus as a string',
    text: lines((l) => (l[6] = '    cpus: two')),
    line: 7,
    column: 11,
    path: 'platforms[0].cpus',
    fragment: 'expected a number, got "two"',
  },
  {
    name: 'bad accel enum',
    text: lines((l) => l.splice(12, 0, '    accel: xen')),
    line: 13,
    column: 12,
    path: 'platforms[1].accel',
    fragment: 'expected one of "auto", "kvm", "tcg", got "xen"',
  },
  {
    name: 'duplicate platform names',
    text: lines((l) => (l[8] = '  - name: c')),
    line: 9,
    column: 11,
    path: 'platforms[1].name',
    fragment: 'expected unique platform names, got "c" again (already used by platforms[0])',
  },
  {
    name: 'platform name not a slug',
    text: lines((l) => (l[4] = '  - name: My Container')),
    line: 5,
    column: 11,
    path: 'platforms[0].name',
    fragment: 'got "My Container"',
  },
  {
    name: 'open throughput without rates (points at the throughput mapping)',
    text: lines((l) => l.push('  throughput: { mode: open, duration: 10s }')),
    line: 15,
    column: 15,
    path: 'measurements.throughput.rates',
    fragment: 'missing required key "rates": open mode needs a list of request rates',
  },
  {
    name: 'rates in closed mode',
    text: lines((l) => l.push('  throughput: { rates: [10], duration: 10s }')),
    line: 15,
    column: 24,
    path: 'measurements.throughput.rates',
    fragment: 'expected no "rates" in closed mode',
  },
  {
    name: 'connections not an array',
    text: lines((l) => l.push('  throughput: { connections: 4, duration: 10s }')),
    line: 15,
    column: 30,
    path: 'measurements.throughput.connections',
    fragment: 'expected a list, got 4',
  },
  {
    name: 'throughput without duration',
    text: lines((l) => l.push('  throughput:', '    connections: [1, 2]')),
    line: 16,
    column: 5,
    path: 'measurements.throughput.duration',
    fragment: 'missing required key "duration" (expected a duration such as "500ms", "30s" or "2m")',
  },
  {
    name: 'report format unknown',
    text: lines((l) => l.push('report:', '  formats: [json, pdf]')),
    line: 16,
    column: 19,
    path: 'report.formats[1]',
    fragment: 'expected one of "json", "markdown", "html", "decision", "charts", "exports", got "pdf"',
  },
  {
    name: 'model path not .onnx',
    text: lines((l) => (l[2] = '  model: ./models/net.pt')),
    line: 3,
    column: 10,
    path: 'workload.model',
    fragment: 'expected "resnet18", "resnet50" or a path to an .onnx file, got "./models/net.pt"',
  },
  {
    name: 'threads out of range',
    text: lines((l) => l.splice(3, 0, '  threads: 0')),
    line: 4,
    column: 12,
    path: 'workload.threads',
    fragment: 'expected a number of at least 1, got 0',
  },
  {
    name: 'a VM with less memory than a guest needs (the schema, not the platform, refuses it)',
    text: lines((l) => (l[11] = '    memory: 32MiB')),
    line: 12,
    column: 13,
    path: 'platforms[1].memory',
    fragment: 'expected a size of at least 64MiB, got "32MiB"',
  },
  {
    name: 'more vCPUs than any host has',
    text: lines((l) => (l[10] = '    cpus: 4096')),
    line: 11,
    column: 11,
    path: 'platforms[1].cpus',
    fragment: 'expected a number of at most 1024, got 4096',
  },
  {
    name: 'no measurement at all',
    text: lines((l) => l.splice(12, 2, 'measurements: {}')),
    line: 13,
    column: 15,
    path: 'measurements',
    fragment: 'expected at least one of startup, cold_start, memory, density, throughput, network, snapshot, isolation, neighbors, gpu, got none',
  },
  {
    name: 'poll interval above 10ms',
    text: lines((l) => l.push('runner: { poll_interval: 50ms }')),
    line: 15,
    column: 26,
    path: 'runner.poll_interval',
    fragment: 'expected a duration of at most 10ms, got "50ms"',
  },
  {
    name: 'workload is a list',
    text: lines((l) => l.splice(1, 2, 'workload: [resnet18]')),
    line: 2,
    column: 11,
    path: 'workload',
    fragment: 'expected a mapping, got a list',
  },
  {
    name: 'empty file',
    text: '# nothing here\n',
    line: 1,
    column: 1,
    path: '',
    fragment: 'got an empty file',
  },
  {
    name: 'the file is a list',
    text: '- name: t\n',
    line: 1,
    column: 1,
    path: '',
    fragment: 'expected a mapping, got a list',
  },
];

describe('malformed scenarios', () => {
  it('has enough cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(15);
  });

  it.each(CASES)('$name', ({ text, line, column, path, fragment }) => {
    const err = errorOf(text);
    expect(err.kind).toBe('input');
    expect(err.location).toEqual({ file: FILE, line, column, path });
    const prefix = `${FILE}:${line}:${column}: ${path === '' ? '' : `${path}: `}`;
    expect(err.message.startsWith(prefix), err.message).toBe(true);
    expect(err.message).toContain(fragment);
    // One problem: the message is exactly one line.
    expect(err.message.split('\n')).toHaveLength(1);
  });

  it('a typo in a platform\'s kind names the unknown key and the key it probably meant', () => {
    const err = errorOf(lines((l) => (l[5] = '    kimd: docker')));
    const msgs = err.message.split('\n');
    expect(msgs).toContain(`${FILE}:6:5: platforms[0].kimd: unknown key "kimd" (did you mean "kind"?); expected one of: name, kind, cpus, memory, network, runtime, gpus, accel, machine, boot_timeout, vfio, provider, tcg_tb_size, pci`);
    expect(msgs.some((m) => m.includes('platforms[0].kind: missing required key "kind"'))).toBe(true);
  });

  it('reports every problem, one per line, sorted by position', () => {
    const text = lines((l) => {
      l[0] = 'name: Bad Name';
      l[7] = '    memory: 2 gigs';
      l[8] = '  - name: c';
      l[10] = '    cpus: 1.5';
      l[13] = '  startup: { repetitions: 0, timeout: 30 }';
      l.push('extra: 1');
    });
    const err = errorOf(text);
    const lines_ = err.message.split('\n');
    expect(lines_[0]).toBe(`${FILE}: 7 problems`);
    expect(lines_.slice(1).map((m) => m.split(': ')[0])).toEqual([
      `${FILE}:1:7`,
      `${FILE}:8:13`,
      `${FILE}:9:11`,
      `${FILE}:11:11`,
      `${FILE}:14:27`,
      `${FILE}:14:39`,
      `${FILE}:15:1`,
    ]);
    expect(err.message).toContain('platforms[0].memory: expected a size');
    expect(err.message).toContain('platforms[1].name: expected unique platform names');
    expect(err.message).toContain('platforms[1].cpus: expected a whole number, got 1.5');
    expect(err.message).toContain('measurements.startup.repetitions: expected a number of at least 1, got 0');
    expect(err.message).toContain('measurements.startup.timeout: expected a duration');
    expect(err.message).toContain('extra: unknown key "extra"');
    expect(err.location).toEqual({ file: FILE, line: 1, column: 7, path: 'name' });
  });

  it('reports several syntax errors together', () => {
    const err = errorOf('name: t\nworkload:\n\tmodel: a\nplatforms:\n\t- x\n');
    expect(err.message.split('\n').filter((m) => m.includes('Tabs are not allowed'))).toHaveLength(2);
  });
});

describe('files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmbench-scenario-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a missing file is an input error naming the path', async () => {
    const file = join(dir, 'nope.yaml');
    const err = await loadScenario(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BenchError);
    expect((err as BenchError).kind).toBe('input');
    expect((err as BenchError).message).toBe(`cannot read scenario file ${file}: no such file`);
  });

  it('resolves a relative model path against the scenario directory', () => {
    const text = lines((l) => (l[2] = '  model: models/net.onnx'));
    const s = parseScenario(text, join(dir, 'sub', 's.yaml'));
    expect(s.workload.model).toBe(join(dir, 'sub', 'models', 'net.onnx'));
    expect(parseScenario(text, 'scenarios/s.yaml').workload.model).toBe(resolve('scenarios/models/net.onnx'));
  });

  it('loadScenario checks that the model file exists', async () => {
    const file = join(dir, 's.yaml');
    await writeFile(file, lines((l) => (l[2] = '  model: net.onnx')));
    const err = (await loadScenario(file).catch((e: unknown) => e)) as BenchError;
    expect(err).toBeInstanceOf(BenchError);
    expect(err.location).toEqual({ file, line: 3, column: 10, path: 'workload.model' });
    expect(err.message).toContain(`expected an existing .onnx file, got "net.onnx" (not found: ${join(dir, 'net.onnx')})`);

    await writeFile(join(dir, 'net.onnx'), 'not really a model');
    expect((await loadScenario(file)).workload.model).toBe(join(dir, 'net.onnx'));
  });
});

describe('formatPath', () => {
  it('writes dotted paths with indices', () => {
    expect(formatPath(['platforms', 1, 'memory'])).toBe('platforms[1].memory');
    expect(formatPath(['report', 'formats', 0])).toBe('report.formats[0]');
    expect(formatPath([])).toBe('');
  });
});
