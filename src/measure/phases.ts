import { PHASE_NAMES, type PhaseName, type PhaseTimeline } from '../platforms/timeline.js';

/**
 * Startup phases as samples: one `phase_<name>` value per phase the platform's
 * timeline has (see src/platforms/timeline.ts for what each phase means).
 */

export interface PhaseSampleValue {
  metric: `phase_${PhaseName}`;
  value: number;
  unit: 'ms';
  metadata: Record<string, string | number | boolean | null>;
}

/** One value per PRESENT phase (metric `phase_<name>`), in phase order; absent phases produce nothing. */
export function phaseSampleValues(timeline: PhaseTimeline): PhaseSampleValue[] {
  const common: Record<string, string | number | boolean | null> = {
    phase_source: timeline.source,
    phase_resolution_ms: timeline.resolutionMs,
  };
  for (const [k, v] of Object.entries(timeline.guestUptimeS ?? {})) {
    if (v !== undefined) common[`guest_${k}_uptime_s`] = v;
  }
  if (timeline.duplicates?.length) common.phase_duplicates = timeline.duplicates.join(',');
  const out: PhaseSampleValue[] = [];
  for (const name of PHASE_NAMES) {
    const value = timeline.phases[name];
    if (value === undefined) continue;
    const metadata = { ...common };
    if (name === 'process_start' && timeline.processStartEstimateMs !== undefined) {
      metadata.process_start_guest_interval_estimate_ms = timeline.processStartEstimateMs;
    }
    out.push({ metric: `phase_${name}`, value, unit: 'ms', metadata });
  }
  return out;
}
