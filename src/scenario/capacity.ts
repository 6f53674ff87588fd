/**
 * The scenario's `capacity:` block: the load a fleet must serve and the host
 * it would run on, for the report's capacity and cost projection (also
 * settable per report with `bench report` flags). Every key is optional:
 * the SLO defaults to the scenario's throughput or density SLO, the host to
 * the one that measured.
 */
import { z } from 'zod';
import { durationSchema, sizeSchema } from './units.js';

export const capacityHostSchema = z
  .strictObject({
    cores: z.number().positive().max(100_000).optional().meta({ description: 'CPU cores of one host (default: the measuring host\'s).' }),
    memory: sizeSchema({ positive: true }).optional().meta({ description: 'Memory of one host, e.g. "256GiB" (default: the measuring host\'s).' }),
    price_per_hour: z.number().min(0).optional().meta({ description: 'What one host costs per hour (no price: no cost figures).' }),
    currency: z.string().min(1).max(8).default('USD').meta({ description: 'The unit of price_per_hour, shown with every cost (default USD).' }),
  })
  .meta({ description: 'The host a fleet would run on.' });

export const capacitySchema = z
  .strictObject({
    target_rate: z.number().positive().optional().meta({ description: 'Requests per second the fleet must serve (no target: per-host figures only).' }),
    slo_p99: durationSchema({ positive: true }).optional().meta({
      description: 'p99 latency every instance must stay within (default: measurements.throughput.slo_p99, else measurements.density.slo_p99).',
    }),
    host: capacityHostSchema.optional(),
  })
  .meta({ description: 'Capacity and cost projection: instances per host, hosts needed for a target load at a p99 SLO, cost per million inferences.' });

export type CapacityConfig = z.output<typeof capacitySchema>;
