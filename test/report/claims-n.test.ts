import { describe, expect, it } from 'vitest';
import { CLAIMS } from '../../src/report/claims.js';
import { DRIVER_IDS } from '../../src/scenario/decision.js';

describe('decision drivers', () => {
  it('are the claims, by id (the scenario validates weights against the same list)', () => {
    expect(CLAIMS.map((c) => c.id)).toEqual([...DRIVER_IDS]);
  });
});
