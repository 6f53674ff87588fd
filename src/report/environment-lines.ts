import { failureLine, standingFailures } from '../results/failure.js';
import type { StoredRun } from '../results/read-run.js';

/** The environment fingerprint of a run as plain lines (pure; shared by the HTML and Markdown reports). */
export function environmentLines(run: StoredRun): string[] {
  const r = run.record;
  const e = r.environment;
  const mib = (n: number | null | undefined) => (n == null ? '—' : `${(n / 2 ** 20).toFixed(0)} MiB`);
  const lines = [
    `run ${r.runId} · scenario ${r.scenarioFile} · status ${r.status} · started ${r.startedAt}${r.finishedAt ? ` · finished ${r.finishedAt}` : ''}`,
    `host: ${e.os}, kernel ${e.kernel}, ${e.cpuModel} × ${e.cores} cores, ${mib(e.memoryBytes)} RAM`,
    `node ${e.node}, vmbench ${e.vmbenchVersion}, git ${e.git?.commit?.slice(0, 12) ?? 'unknown'}${e.git?.dirty ? ' (dirty)' : ''}`,
  ];
  for (const [name, facts] of Object.entries(e.platforms ?? {})) {
    const keys = Object.keys(facts).filter((k) => !['qemuVersionLine', 'accelReason', 'security'].includes(k));
    lines.push(`${name}: ${keys.map((k) => `${k}=${String(facts[k])}`).join(', ')}`);
    if (facts.accelReason != null) lines.push(`${name} accelerator reason: ${String(facts.accelReason)}`);
    if (facts.security != null) lines.push(`${name} security: ${String(facts.security)}`);
  }
  if (r.artifact) {
    lines.push(`artifact: rootfs ${r.artifact.rootfsDigest.slice(0, 16)}…, model ${r.artifact.model.name} (sha256 ${r.artifact.model.sha256.slice(0, 16)}…)`);
  }
  lines.push(`plan: order ${r.plan.order}, seed ${r.plan.seed}, readiness polled every ${r.plan.pollIntervalMs} ms`);
  if (r.calibration) lines.push(`timing resolution ≈ ${r.calibration.resolutionMs.toFixed(1)} ms (poll interval + timer lateness + probe round trip)`);
  const segments = r.segments ?? [];
  if (segments.length > 1) {
    lines.push(`segments: ${segments.length} (${segments.map((g) => `${g.status} after ${g.stepsRun} step(s)`).join('; ')}): resumed with bench run --resume`);
  }
  const failed = standingFailures(r.failures ?? [], r.completed ?? {});
  if (failed.length) lines.push(`${failureLine(failed)} — their samples are not counted`);
  for (const n of run.readNotes ?? []) lines.push(`note: ${n}`);
  if (r.identity) lines.push(`identity check: ${r.identity.agreed ? 'passed' : 'FAILED'} (same artifact and same answer on every substrate)`);
  return lines;
}
