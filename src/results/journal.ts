import { BenchError } from '../errors.js';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Sample } from './sample.js';

/**
 * The on-disk record of a run: samples.jsonl is appended and fsync'ed after
 * every sample, and run.json is rewritten atomically (write + rename) whenever
 * the run's state changes, so a crash or Ctrl-C loses nothing already measured.
 */
export class Journal {
  readonly samplesPath: string;
  readonly runPath: string;
  private fd: number | null;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.samplesPath = join(dir, 'samples.jsonl');
    this.runPath = join(dir, 'run.json');
    this.fd = openSync(this.samplesPath, 'a');
  }

  append(sample: Sample): void {
    if (this.fd === null) throw new BenchError('internal', 'journal is closed');
    writeSync(this.fd, JSON.stringify(sample) + '\n');
    fsyncSync(this.fd);
  }

  writeRun(run: unknown): void {
    const tmp = `${this.runPath}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(run, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.runPath);
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}

/** Reads a samples.jsonl back; a torn last line (crash mid-write) is ignored. */
export function readSamples(path: string): Sample[] {
  const text = readFileSync(path, 'utf8');
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Sample);
    } catch {
      // only a torn final line can fail to parse
    }
  }
  return out;
}
