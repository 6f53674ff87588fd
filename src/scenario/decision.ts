/**
 * The scenario's `decision:` block: what the user requires of the chosen
 * option (hard requirements that eliminate options) and how much each
 * measured decision driver weighs among the options that remain. Without
 * the block every driver weighs 1 and nothing is required.
 */
import { z } from 'zod';
import { parseRequirement } from './requirement.js';
import { describeValue } from './units.js';

/**
 * The measured decision drivers (the containers-vs-VMs claims re-derived by
 * the decision record), by the ids `weights` uses. src/report/claims.ts
 * defines one claim per id.
 */
export const DRIVER_IDS = ['startup', 'image-size', 'memory-overhead', 'density', 'cold-start', 'snapshot', 'network'] as const;
export type DriverId = (typeof DRIVER_IDS)[number];

export const decisionSchema = z
  .strictObject({
    require: z
      .record(z.string(), z.string({ error: (iss) => `expected a requirement such as "<= 2s", "<= 100ms at 20 req/s" or "own-kernel", got ${describeValue(iss.input)}` }))
      .default({})
      .superRefine((value, ctx) => {
        for (const [key, text] of Object.entries(value)) {
          const parsed = parseRequirement(key, text);
          if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed, path: [key], input: text });
        }
      })
      .meta({
        description:
          'Hard requirements; an option that does not meet one (or where it was not measured) is eliminated. "isolation: own-kernel" (the workload must not share the host kernel), or a metric with an optional statistic and a limit: "cold_start_p95: <= 2s", "startup: < 1s", "p99: <= 100ms at 20 req/s", "density_max_instances: >= 10".',
      }),
    weights: z
      .record(z.string(), z.number({ error: (iss) => `expected a weight (a number of at least 0), got ${describeValue(iss.input)}` }).min(0))
      .default({})
      .superRefine((value, ctx) => {
        for (const key of Object.keys(value)) {
          if (!(DRIVER_IDS as readonly string[]).includes(key)) {
            ctx.addIssue({ code: 'custom', message: `expected a decision driver, one of ${DRIVER_IDS.join(', ')}, got "${key}"`, path: [key], input: key });
          }
        }
      })
      .meta({
        description: `How much each measured driver counts among the options that meet the requirements (default 1 each; 0 ignores one): ${DRIVER_IDS.join(', ')}.`,
      }),
  })
  .meta({ description: 'What the decision record requires of the chosen option and how it weighs the measured drivers (default: nothing required, equal weights).' });

export type DecisionConfig = z.output<typeof decisionSchema>;
