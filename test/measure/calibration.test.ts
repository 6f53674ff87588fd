import { describe, expect, it } from 'vitest';
import { calibrateHost } from '../../src/measure/calibration.js';

describe('calibrateHost', () => {
  it('measures a positive probe round trip and a resolution of at least the poll interval', async () => {
    const c = await calibrateHost(10, 20);
    expect(c.pollRoundTripMs.n).toBe(20);
    expect(c.pollRoundTripMs.median).toBeGreaterThan(0);
    expect(c.timerLatenessMs.median).toBeGreaterThanOrEqual(-1); // timers never fire meaningfully early
    expect(c.resolutionMs).toBeGreaterThanOrEqual(10);
    expect(c.resolutionMs).toBe(10 + c.timerLatenessMs.median + c.pollRoundTripMs.median);
  });
});
