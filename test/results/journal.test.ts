import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, readSamples } from '../../src/results/journal.js';
import type { Sample } from '../../src/results/sample.js';

const sample = (rep: number): Sample => ({
  metric: 'startup', value: 100 + rep, unit: 'ms', platform: 'c', kind: 'docker', rep, warmup: false, timestamp: 1, metadata: { a: 1 },
});

describe('Journal', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('has every sample on disk as soon as append returns', () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    dirs.push(dir);
    const j = new Journal(join(dir, 'run'));
    j.append(sample(0));
    // Read through a separate handle before close: nothing is buffered in memory.
    expect(readSamples(j.samplesPath)).toEqual([sample(0)]);
    j.append(sample(1));
    expect(readSamples(j.samplesPath)).toHaveLength(2);
    j.writeRun({ status: 'running' });
    expect(JSON.parse(readFileSync(j.runPath, 'utf8'))).toEqual({ status: 'running' });
    j.close();
  });

  it('ignores a torn final line left by a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    dirs.push(dir);
    const j = new Journal(dir);
    j.append(sample(0));
    j.close();
    appendFileSync(j.samplesPath, '{"metric":"startup","va');
    expect(readSamples(j.samplesPath)).toEqual([sample(0)]);
  });
});
