import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, readJournal, readSamples } from '../../src/results/journal.js';
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

  it('reports a torn final line, and moves it aside when the journal is reopened (a resume)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    dirs.push(dir);
    const j = new Journal(dir);
    j.append(sample(0));
    j.close();
    appendFileSync(j.samplesPath, '{"metric":"startup","va');
    expect(readJournal(j.samplesPath)).toEqual({ samples: [sample(0)], tornLastLine: true });
    const again = new Journal(dir);
    again.append(sample(1));
    again.close();
    expect(readJournal(again.samplesPath)).toEqual({ samples: [sample(0), sample(1)], tornLastLine: false });
    expect(readFileSync(`${again.samplesPath}.torn`, 'utf8')).toBe('{"metric":"startup","va\n');
  });

  it('refuses a journal damaged before its last line, naming the line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    dirs.push(dir);
    const j = new Journal(dir);
    j.append(sample(0));
    j.close();
    appendFileSync(j.samplesPath, 'garbage\n' + JSON.stringify(sample(1)) + '\n');
    expect(() => readJournal(j.samplesPath)).toThrow(/samples\.jsonl:2: not a JSON sample/);
  });
});
