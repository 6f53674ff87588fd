import { failureLine, standingFailures } from '../results/failure.js';
import { METRIC_DESCRIPTIONS, type MetricName } from '../results/sample.js';
import { fairnessWarning } from '../results/fairness.js';
import type { RunRecord } from '../results/run-record.js';
import { formatValue } from './terminal-table.js';

function bytes(n: number | null | undefined): string {
  if (n == null) return '—';
  return `${(n / 2 ** 20).toFixed(1)} MiB`;
}

function cell(v: number | null | undefined, unit: string): string {
  return v == null ? '—' : formatValue(v, unit);
}

/**
 * A short Markdown summary of one run, from run.json alone (pure): the
 * metric table with n and spread, ratios, image sizes, warnings and the
 * environment the numbers came from. The full decision report comes later.
 */
export function renderMarkdownSummary(run: RunRecord): string {
  const out: string[] = [];
  out.push(`# vmbench run ${run.runId}`, '');
  out.push(`Scenario \`${run.scenarioFile}\` · status **${run.status}** · started ${run.startedAt}${run.finishedAt ? ` · finished ${run.finishedAt}` : ''}`, '');
  // The audit recorded when the platforms were prepared (records before it existed have none).
  const unequal = run.fairness ? fairnessWarning(run.fairness) : null;
  const warnings = [...(unequal ? [unequal] : []), ...run.warnings];
  if (warnings.length) {
    out.push('## Warnings', '', ...warnings.map((w) => `- ⚠ ${w}`), '');
  }
  out.push('## Results', '');
  out.push(
    '| metric | platform | kind | n | median | 95 % CI of median | mean | stdev | min | max | outliers (modified z > 3.5) |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
  );
  for (const r of run.summaries) {
    const s = r.summary;
    const ci = s?.ci95 ? `${cell(s.ci95.low, r.unit)} – ${cell(s.ci95.high, r.unit)}` : '—';
    const outliers = s?.outliers.length ? s.outliers.map((o) => cell(o.value, r.unit)).join(', ') : '';
    out.push(
      `| ${r.metric} | ${r.platform} | ${r.kind} | ${s?.n ?? 0} | ${cell(s?.median, r.unit)} | ${ci} | ${cell(s?.mean, r.unit)} | ${cell(s?.stdev, r.unit)} | ${cell(s?.min, r.unit)} | ${cell(s?.max, r.unit)} | ${outliers} |`,
    );
  }
  out.push('');
  const defined = [...new Set(run.summaries.map((r) => r.metric))].filter((m): m is MetricName => m in METRIC_DESCRIPTIONS);
  if (defined.length) {
    out.push(...defined.map((m) => `- **${m}**: ${METRIC_DESCRIPTIONS[m]}`), '');
  }
  if (run.ratios.length) {
    out.push('| metric | ratio of medians | value | 95 % CI | test | p | Cliff\'s δ |', '|---|---|---:|---:|---|---:|---:|');
    for (const r of run.ratios) {
      out.push(
        `| ${r.metric} | ${r.numerator} ÷ ${r.denominator} | ${r.ratio == null ? '—' : `${r.ratio.toFixed(2)}×`} | ${r.ratioCI ? `${r.ratioCI.low.toFixed(2)}× – ${r.ratioCI.high.toFixed(2)}×` : '—'} | ${r.test ?? '—'} | ${r.p == null ? '—' : r.p.toPrecision(3)}${r.significant ? '' : ' (n.s.)'} | ${r.cliffsDelta == null ? '—' : r.cliffsDelta.toFixed(2)} |`,
      );
    }
    out.push('');
  }
  if (run.artifact) {
    const a = run.artifact;
    out.push('## Artifact (identical in every substrate)', '');
    out.push(`- rootfs digest: \`${a.rootfsDigest}\``);
    out.push(`- model: ${a.model.name} (${bytes(a.model.bytes)}, sha256 \`${a.model.sha256.slice(0, 16)}…\`)`);
    out.push(`- Docker image \`${a.dockerImage}\`: ${bytes(a.dockerImageBytes)} (as the engine reports it)`);
    out.push(`- VM: disk ${bytes(a.vmDiskBytes)} (qcow2 on disk) + kernel ${bytes(a.kernelBytes)} (${a.kernelVersion}) + initramfs ${bytes(a.initrdBytes)}`);
    out.push('');
  }
  if (run.identity) {
    const id = run.identity;
    out.push(`## Identity check: ${id.agreed ? 'passed' : 'FAILED'}`, '');
    out.push(`Same fixed input to every platform; outputs compared with ${id.reference}'s (top-5 equal and max |Δ| ≤ ${id.tolerance}).`, '');
    out.push('| platform | rootfs digest read inside | output | top-5 (row 0) | result |', '|---|---|---|---|---|');
    for (const p of id.platforms) {
      out.push(`| ${p.platform} | \`${(p.rootfsDigestInside ?? 'none').slice(0, 16)}…\` | [${p.outputShape.join(', ')}] | ${(p.top5[0] ?? []).join(', ')} | ${p.detail} |`);
    }
    out.push('');
  }
  const failed = standingFailures(run.failures ?? [], run.completed ?? {});
  if (failed.length) {
    out.push(`## Failed steps: ${failureLine(failed)}`, '', '| step | measurement | platform | rep | category | what happened |', '|---|---|---|---|---|---|');
    for (const f of failed) out.push(`| ${f.step + 1} | ${f.measurement} | ${f.platform} | ${f.rep}${f.warmup ? ' (warm-up)' : ''} | ${f.category} | ${f.message.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`);
    out.push('', 'Their samples, if any, stay in samples.jsonl and are not counted. `bench run --resume <run-dir>` retries them.', '');
  }
  const e = run.environment;
  const secured = Object.entries(e.platforms).filter(([, f]) => f.security != null);
  if (secured.length) {
    out.push('## Security settings in force', '', ...secured.map(([name, f]) => `- ${name}: ${String(f.security)}`), '');
  }
  out.push('## Environment', '');
  out.push(`- host: ${e.os}, kernel ${e.kernel}, ${e.cpuModel} × ${e.cores}, ${bytes(e.memoryBytes)} RAM`);
  out.push(`- node ${e.node}, vmbench ${e.vmbenchVersion}, git ${e.git.commit?.slice(0, 12) ?? 'unknown'}${e.git.dirty ? ' (dirty)' : ''}`);
  for (const [name, facts] of Object.entries(e.platforms)) {
    out.push(`- ${name}: ${Object.entries(facts).filter(([k]) => k !== 'security').map(([k, v]) => `${k}=${String(v)}`).join(', ')}`);
  }
  out.push('', `Run order: ${run.plan.order} (seed ${run.plan.seed}); readiness polled every ${run.plan.pollIntervalMs} ms.`);
  if (run.calibration) {
    const c = run.calibration;
    out.push(
      `Timing resolution ≈ ${c.resolutionMs.toFixed(1)} ms: poll interval ${c.pollIntervalMs} ms + timer lateness ${c.timerLatenessMs.median.toFixed(2)} ms (median, n=${c.timerLatenessMs.n}) + one probe round trip ${c.pollRoundTripMs.median.toFixed(2)} ms (median, p99 ${c.pollRoundTripMs.p99.toFixed(2)} ms).`,
    );
  }
  out.push('');
  return out.join('\n');
}
