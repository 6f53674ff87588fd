/**
 * The scenario file format (scenarios/*.yaml), as one zod schema.
 *
 * The input side is what people write (durations and sizes as strings, snake
 * case keys); the output side is what the harness uses: the same keys, with
 * defaults filled in, durations in milliseconds and sizes in bytes. Objects are
 * strict, so a misspelt key is an error rather than silently ignored. Keys may
 * be added over time but are never renamed.
 *
 * Cross-field rules (unique platform names, rates for open-loop throughput)
 * live in scenarioSemanticIssues(), which works on raw, unvalidated data so
 * that the loader can report them alongside every other problem.
 */
import { z } from 'zod';
import { describeValue, durationSchema, sizeSchema } from './units.js';
import { parseGateKey, parsePercent } from './gate-key.js';
import { capacitySchema } from './capacity.js';
import { hostsSchema, platformHostSchema } from './hosts.js';
import { decisionSchema } from './decision.js';
import { LIMITS } from './limits.js';
import { applyResources, resourcesSchema, type WithResources } from './resources.js';
import { scenarioSemanticIssues } from './semantic-rules.js';
import { workloadSchema } from './workload.js';
import { dockerGpusSchema, fallbackSchema, gpuMeasurementSchema, qemuVfioSchema, vagrantPciSchema, workloadGpuSchema } from './gpu.js';

export { LIMITS } from './limits.js';

export const SLUG_PATTERN = '^[a-z0-9][a-z0-9_-]*$';
const SLUG_RE = new RegExp(SLUG_PATTERN);
const SLUG_MAX = 63;

function slug(what: string, example: string) {
  const problem = (input: unknown) =>
    `expected ${what} made of lower-case letters, digits, "-" and "_", starting with a letter or digit (e.g. "${example}"), got ${describeValue(input)}`;
  return z
    .string({ error: (iss) => problem(iss.input) })
    .regex(SLUG_RE, { error: (iss) => problem(iss.input) })
    .max(SLUG_MAX, { error: (iss) => `expected at most ${SLUG_MAX} characters, got ${describeValue(iss.input)}` });
}

function count(min: number, max?: number) {
  const schema = z.number().int().min(min);
  return max === undefined ? schema : schema.max(max);
}

// ---------------------------------------------------------------- workload

export { BUILTIN_MODELS, isBuiltinModel, workloadSchema, type BuiltinModel, type WorkloadConfig } from './workload.js';

// ---------------------------------------------------------------- platforms

const platformName = slug('a platform name', 'vm').meta({ description: 'Unique name of this platform in the scenario.' });
// cpus and memory may be left to the scenario's `resources:` block (resources.ts fills them in).
const containerMemory = sizeSchema({ min: LIMITS.minContainerMemoryBytes, max: LIMITS.maxMemoryBytes }).optional().meta({
  description: 'Memory limit of the container, no swap (Docker needs at least 6MiB): a size such as "512MiB" or "2GiB" (default: resources.memory).',
});
const vmMemory = sizeSchema({ min: LIMITS.minVmMemoryBytes, max: LIMITS.maxMemoryBytes }).optional().meta({
  description: 'Guest RAM, at least 64MiB (the guest kernel, init and the server must fit): a size such as "512MiB" or "2GiB" (default: resources.memory).',
});
const vcpus = count(1, LIMITS.maxCpus).optional().meta({ description: 'Guest vCPUs (a whole number, at most 1024; default: resources.cpus).' });

export const dockerPlatformSchema = z
  .strictObject({
    name: platformName,
    kind: z.literal('docker'),
    cpus: z.number().positive().max(LIMITS.maxCpus).optional().meta({ description: 'CPU quota (docker --cpus); fractions allowed (default: resources.cpus).' }),
    memory: containerMemory,
    network: z.enum(['host', 'bridge']).default('host'),
    runtime: z
      .string({ error: (iss) => `expected an OCI runtime name such as "runc", "crun" or "runsc", got ${describeValue(iss.input)}` })
      .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, { error: (iss) => `expected an OCI runtime name such as "runc", "crun" or "runsc", got ${describeValue(iss.input)}` })
      .default('runc')
      .meta({
        description:
          'The OCI runtime the engine starts the container with: runc (default), crun, runsc (gVisor), or any runtime registered with the engine (e.g. kata-runtime on a KVM host). bench doctor lists them.',
      }),
    gpus: dockerGpusSchema,
    host: platformHostSchema,
  })
  .meta({ description: 'The workload in a Docker container.' });

export const qemuPlatformSchema = z
  .strictObject({
    name: platformName,
    kind: z.literal('qemu'),
    cpus: vcpus,
    memory: vmMemory,
    accel: z.enum(['auto', 'kvm', 'tcg']).default('auto').meta({
      description: 'auto tries a short KVM probe boot and falls back to TCG emulation if the guest does not boot.',
    }),
    machine: z.enum(['auto', 'microvm', 'pc', 'q35']).default('auto'),
    boot_timeout: durationSchema({ positive: true }).prefault('120s'),
    vfio: qemuVfioSchema,
    host: platformHostSchema,
  })
  .meta({ description: 'The workload in a QEMU virtual machine.' });

export const vagrantPlatformSchema = z
  .strictObject({
    name: platformName,
    kind: z.literal('vagrant'),
    cpus: vcpus,
    memory: vmMemory,
    provider: z.enum(['libvirt']).default('libvirt').meta({
      description: 'Vagrant provider: libvirt (vagrant-libvirt against a private libvirtd in the cache dir).',
    }),
    accel: z.enum(['auto', 'kvm', 'tcg']).default('auto').meta({
      description: 'libvirt domain type: kvm, or qemu (TCG emulation); auto probes KVM like the QEMU platform.',
    }),
    boot_timeout: durationSchema({ positive: true }).prefault('300s').meta({
      description: "How long `vagrant up` may wait for the guest's SSH (config.vm.boot_timeout).",
    }),
    tcg_tb_size: sizeSchema().prefault('64MiB').meta({
      description: 'TCG translation-cache cap (as the QEMU platform uses); 0 leaves QEMU\'s default. Ignored under KVM.',
    }),
    pci: vagrantPciSchema,
    host: platformHostSchema,
  })
  .meta({ description: 'The workload in a Vagrant-managed VM (provider libvirt) from a box built from the same artifact.' });

export const PLATFORM_KINDS = ['docker', 'qemu', 'vagrant'] as const;
/** A substrate kind as recorded on samples and platforms; 'fake' is the unit tests' in-process stand-in. */
export type PlatformKind = (typeof PLATFORM_KINDS)[number] | 'fake';

export const platformSchema = z.discriminatedUnion(
  'kind',
  [dockerPlatformSchema, qemuPlatformSchema, vagrantPlatformSchema],
  {
    error: (iss) =>
      iss.code === 'invalid_union'
        ? `expected kind to be one of ${PLATFORM_KINDS.map((k) => `"${k}"`).join(', ')}, got ${describeValue(
            isRecord(iss.input) ? iss.input.kind : undefined,
          )}`
        : undefined,
  },
);

// ------------------------------------------------------------- measurements

const repetitions = count(1).default(5).meta({ description: 'Measured samples per platform.' });
const timeout = durationSchema({ positive: true });

export const startupSchema = z
  .strictObject({
    repetitions,
    warmup: count(0).default(1).meta({ description: 'Unmeasured runs before the measured ones.' }),
    timeout: timeout.prefault('180s'),
  })
  .meta({ description: 'Time from the launch call to the first HTTP 200 from GET /v2/health/ready (model loaded).' });

export const coldStartSchema = z
  .strictObject({
    repetitions,
    warmup: count(0).default(0).meta({ description: 'Every sample is a cold start, so warm-up is normally 0.' }),
    timeout: timeout.prefault('180s'),
  })
  .meta({ description: 'Time from the launch call to the first successful inference on a fresh instance.' });

export const memorySchema = z
  .strictObject({
    settle: durationSchema().prefault('5s').meta({ description: 'Wait after readiness before sampling memory: a duration such as "5s".' }),
    under_load: z.boolean().default(false),
    ksm: z.boolean().default(false).meta({
      description: 'Also read memory with kernel same-page merging switched on (restored afterwards); needs root.',
    }),
  })
  .meta({ description: 'Host-side memory footprint of one ready instance.' });

export const densitySchema = z
  .strictObject({
    max_instances: count(1),
    memory_budget: sizeSchema({ positive: true }),
    slo_p99: durationSchema({ positive: true }),
  })
  .meta({ description: 'How many instances fit in a memory budget while meeting a p99 latency SLO.' });

export const throughputSchema = z
  .strictObject({
    mode: z.enum(['closed', 'open']).default('closed').meta({
      description: 'closed: fixed number of connections; open: fixed arrival rates (rates required).',
    }),
    connections: z.array(count(1)).min(1).default([1]).meta({ description: 'Concurrent connections (closed mode).' }),
    rates: z.array(z.number().positive()).min(1).optional().meta({ description: 'Requests per second (open mode).' }),
    duration: durationSchema({ positive: true }),
    warmup: durationSchema().prefault('0s'),
    timeout: durationSchema({ positive: true }).prefault('5s').meta({ description: 'Per-request timeout: a duration such as "5s".' }),
    slo_p99: durationSchema({ positive: true }).optional().meta({
      description: 'When set, also search for the highest open-loop rate whose p99 stays within this (error rate ≤ 1 %).',
    }),
  })
  .meta({ description: 'Requests per second and latency under load.' });

export const networkSchema = z
  .strictObject({
    requests: count(1, 100_000).default(200).meta({ description: 'Sequential GET /v2/health/live requests, one keep-alive connection.' }),
    timeout: durationSchema({ positive: true }).prefault('2s').meta({ description: 'Per-request timeout.' }),
  })
  .meta({ description: 'Round-trip time of a no-inference endpoint at low load: the network path alone.' });

export const snapshotSchema = z
  .strictObject({
    timeout: durationSchema({ positive: true }).prefault('180s').meta({ description: 'Launch or restore → first inference must happen within this.' }),
  })
  .meta({ description: 'Snapshot a ready instance and restore a new one from it: time to take it, its size, restore → first inference, memory.' });

export const isolationSchema = z
  .strictObject({
    calls: count(1000, 2_000_000).default(200_000).meta({
      description: 'getuid() calls timed inside the instance (stat() calls: a tenth of it).',
    }),
  })
  .meta({
    description:
      'Isolation facts read from inside one ready instance (kernel shared with the host or not, capabilities, seccomp, no_new_privs, user namespace, host devices) and the cost of the boundary: µs per system call, timed by the workload itself.',
  });

export const neighborsSchema = z
  .strictObject({
    counts: z.array(count(1, 16)).min(1).default([1, 2]).meta({
      description: 'Neighbour counts K to measure beside the victim (K = 0, the victim alone, is always measured first).',
    }),
    load: z.number().gt(0).max(1).default(0.5).meta({
      description: "The victim's open-loop rate as a fraction of its own one-connection throughput, measured alone first.",
    }),
    connections: count(1, 64).default(2).meta({ description: 'Closed-loop connections per neighbour: enough to keep its CPU quota busy.' }),
    duration: durationSchema({ positive: true }).prefault('20s').meta({ description: 'Measured window of each K.' }),
    warmup: durationSchema().prefault('3s'),
    timeout: durationSchema({ positive: true, max: 60_000 }).prefault('30s').meta({ description: 'Per-request timeout (at most 60s).' }),
  })
  .meta({
    description:
      'Noisy neighbours: a victim instance at a fixed open-loop rate, alone and then with K instances of the same substrate saturating their CPU with inference load; the victim p50/p99 and throughput per K.',
  });

export const MEASUREMENT_KINDS = ['startup', 'cold_start', 'memory', 'density', 'throughput', 'network', 'snapshot', 'isolation', 'neighbors', 'gpu'] as const;

export const measurementsSchema = z
  .strictObject({
    startup: startupSchema.optional(),
    cold_start: coldStartSchema.optional(),
    memory: memorySchema.optional(),
    density: densitySchema.optional(),
    throughput: throughputSchema.optional(),
    network: networkSchema.optional(),
    snapshot: snapshotSchema.optional(),
    isolation: isolationSchema.optional(),
    neighbors: neighborsSchema.optional(),
    gpu: gpuMeasurementSchema.optional(),
  })
  .superRefine((value, ctx) => {
    if (!MEASUREMENT_KINDS.some((k) => value[k] !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: `expected at least one of ${MEASUREMENT_KINDS.join(', ')}, got none`,
        input: value,
      });
    }
  })
  .meta({ description: 'What to measure; a missing section is not measured.' });

// ------------------------------------------------------------ runner, report

export const runnerSchema = z
  .strictObject({
    order: z.enum(['interleaved', 'random']).default('interleaved').meta({
      description: 'How samples of different platforms are ordered.',
    }),
    seed: count(0).default(1).meta({ description: 'Seed for random order and anything else random.' }),
    poll_interval: durationSchema({ positive: true, max: 10 }).prefault('10ms').meta({
      description: 'Readiness polling interval, a duration of at most "10ms" (it bounds the timing resolution).',
    }),
  })
  .meta({ description: 'How the runner schedules samples.' });

/**
 * json = results/<id>/run.json; markdown = results/<id>/summary.md; and, in
 * report.out (default reports/<run-id>): html = report.html, decision =
 * decision.md, charts = charts/*.vl.json|svg|png, exports = results.json,
 * samples.csv, summary-table.md.
 */
export const REPORT_FORMATS = ['json', 'markdown', 'html', 'decision', 'charts', 'exports'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const reportSchema = z
  .strictObject({
    formats: z
      .array(z.enum(REPORT_FORMATS))
      .min(1)
      .default(['json', 'markdown', 'html', 'decision', 'charts', 'exports'])
      .meta({
        description:
          'json: run.json; markdown: summary.md (both in results/<run-id>/); html: report.html; decision: decision.md; charts: charts/*.vl.json, .svg, .png; exports: results.json, samples.csv, summary-table.md (in report.out).',
      }),
    out: z.string().min(1).optional().meta({ description: 'Directory for reports, relative to the working directory (default reports/<run-id>).' }),
    reference: slug('a platform name', 'container').optional().meta({
      description: 'The platform every ratio and claim is taken against (default: the first docker platform on runc, else the first docker platform, else the first platform).',
    }),
  })
  .meta({ description: 'Which reports to write.' });

// -------------------------------------------------------------------- gate

export const gateSchema = z
  .strictObject({
    alpha: z.number().gt(0).lt(1).default(0.05).meta({
      description: 'Significance level of the regression gate (Mann–Whitney U on the raw samples); default 0.05.',
    }),
    correction: z.enum(['holm', 'none']).default('holm').meta({
      description: 'Multiple-comparison correction across gated metrics: holm (family-wise error ≤ alpha; default) or none (alpha per metric).',
    }),
    power: z.number().gt(0).lt(1).optional().meta({
      description: 'Power at which `bench compare` and `bench calibrate-noise` state the minimal detectable change of each metric; default 0.8.',
    }),
    target_change: z
      .string({ error: (iss) => `expected a percentage such as "10%", got ${describeValue(iss.input)}` })
      .superRefine((text, ctx) => {
        const pct = parsePercent(text);
        if (typeof pct === 'string') ctx.addIssue({ code: 'custom', message: pct, input: text });
      })
      .transform((text) => {
        const pct = parsePercent(text);
        return typeof pct === 'number' ? pct : 0;
      })
      .optional()
      .meta({
        description: 'The change the gate should catch, e.g. "10%": `bench compare` says how many runs or samples per run that would take; default 10%.',
      }),
    thresholds: z
      .record(
        z.string(),
        z.string({ error: (iss) => `expected a percentage such as "10%", got ${describeValue(iss.input)}` }),
      )
      .default({})
      .superRefine((value, ctx) => {
        for (const [key, text] of Object.entries(value)) {
          const parsed = parseGateKey(key);
          if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed, path: [key], input: key });
          const pct = parsePercent(text);
          if (typeof pct === 'string') ctx.addIssue({ code: 'custom', message: pct, path: [key], input: text });
        }
      })
      .transform((value) => {
        const out: Record<string, number> = {};
        for (const [key, text] of Object.entries(value)) {
          const parsed = parseGateKey(key);
          const pct = parsePercent(text);
          if (typeof parsed !== 'string' && typeof pct === 'number') out[parsed.pattern] = pct;
        }
        return out;
      })
      .meta({
        description:
          'Regression thresholds per metric: "<metric>.median" (or a pattern with *, e.g. "phase_*", "throughput@*") → a relative change such as "10%", in the metric\'s bad direction (slower/larger, or lower throughput). Unlisted metrics use the defaults (see bench compare --help).',
      }),
  })
  .meta({ description: 'How `bench compare` gates this scenario in CI: significance level and per-metric regression thresholds.' });

// ----------------------------------------------------------------- scenario

export const scenarioSchema = z
  .strictObject({
    name: slug('a scenario name', 'cpu-resnet'),
    description: z.string().optional(),
    workload: workloadSchema,
    platforms: z.array(platformSchema).min(1).meta({ description: 'The substrates to compare (at least one).' }),
    measurements: measurementsSchema,
    runner: runnerSchema.prefault({}),
    report: reportSchema.prefault({}),
    gate: gateSchema.optional(),
    resources: resourcesSchema.optional(),
    decision: decisionSchema.optional(),
    capacity: capacitySchema.optional(),
    hosts: hostsSchema.optional(),
  })
  .superRefine((value, ctx) => {
    for (const issue of scenarioSemanticIssues(value)) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    }
  })
  // Runs only on a valid scenario: every platform then has cpus and memory, its own or the shared block's.
  .transform((value) => ({ ...value, platforms: applyResources(value.platforms, value.resources) }))
  .meta({ title: 'vmbench scenario', description: 'One benchmark: a workload, the platforms to compare and what to measure.' });

export type Scenario = z.output<typeof scenarioSchema>;
/** A platform as the harness uses it: cpus and memory settled (its own, or the scenario's resources). */
export type PlatformConfig = WithResources<z.output<typeof platformSchema>>;
export type DensityConfig = z.output<typeof densitySchema>;
export type ThroughputConfig = z.output<typeof throughputSchema>;
export type NetworkConfig = z.output<typeof networkSchema>;
export type NeighborsConfig = z.output<typeof neighborsSchema>;
export type GpuMeasurementConfig = z.output<typeof gpuMeasurementSchema>;
export type GateConfig = z.output<typeof gateSchema>;

export { scenarioSemanticIssues, type SemanticIssue } from './semantic-rules.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
