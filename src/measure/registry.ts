import { execRoundTripMeasurement } from './calibration.js';
import { densityMeasurement } from './density.js';
import { imageSizeMeasurement } from './image-size.js';
import { isolationMeasurement } from './isolation.js';
import { BenchError } from '../errors.js';
import type { Measurement, MeasurementName } from './measurement.js';
import { memoryMeasurement } from './memory.js';
import { neighborsMeasurement } from './neighbors.js';
import { networkMeasurement } from './network.js';
import { snapshotMeasurement } from './snapshot.js';
import { coldStartMeasurement, startupMeasurement } from './startup.js';
import { throughputMeasurement } from './throughput.js';
import { gpuMeasurement } from './gpu.js';

/**
 * Every measurement, in the order the plan takes them: a new measurement is
 * one module with a Measurement and one line here. Steps sharing an instance
 * run in this order on it (calibration, memory, network, isolation, throughput), the
 * snapshot last, since it consumes the instance.
 */
export const MEASUREMENTS: readonly Measurement[] = [
  imageSizeMeasurement,
  startupMeasurement,
  coldStartMeasurement,
  execRoundTripMeasurement,
  memoryMeasurement,
  networkMeasurement,
  isolationMeasurement,
  throughputMeasurement,
  gpuMeasurement,
  densityMeasurement,
  neighborsMeasurement,
  snapshotMeasurement,
];

export function measurementNamed(name: MeasurementName): Measurement {
  const m = MEASUREMENTS.find((x) => x.name === name);
  if (!m) throw new BenchError('internal', `no measurement named ${name}`);
  return m;
}
