import { BenchError } from '../errors.js';
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, truncateSync, writeSync } from 'node:fs';
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
    this.moveTornTail();
    this.fd = openSync(this.samplesPath, 'a');
  }

  /**
   * Reopening a journal (a resumed run) whose last line was cut off by a crash
   * mid-write: that fragment moves to samples.jsonl.torn, so the next sample
   * starts on a line of its own and nothing is silently dropped.
   */
  private moveTornTail(): void {
    if (!existsSync(this.samplesPath)) return;
    const text = readFileSync(this.samplesPath, 'utf8');
    if (text === '' || text.endsWith('\n')) return;
    const keep = text.lastIndexOf('\n') + 1;
    appendFileSync(`${this.samplesPath}.torn`, text.slice(keep) + '\n');
    truncateSync(this.samplesPath, Buffer.byteLength(text.slice(0, keep)));
  }

  append(sample: Sample): void {
    if (this.fd === null) throw new BenchError('internal', 'journal is closed');
    writeSync(this.fd, JSON.stringify(sample) + '\n');
    fsyncSync(this.fd);
  }

  writeRun(run: unknown): void {
    this.writeJson(this.runPath, run);
  }

  /** Any JSON file of the run, replaced atomically (write + fsync + rename). */
  writeJson(path: string, value: unknown): void {
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(value, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}

/** Reads a samples.jsonl back; a torn last line (crash mid-write) is left out (readJournal says so). */
export function readSamples(path: string): Sample[] {
  return readJournal(path).samples;
}

/**
 * samples.jsonl with what could not be read: a torn last line (a crash mid-
 * write) is tolerated and counted; an unreadable line elsewhere means the file
 * was damaged, and is an error naming the line.
 */
export function readJournal(path: string): { samples: Sample[]; tornLastLine: boolean } {
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: Sample[] = [];
  let tornLastLine = false;
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line) as Sample);
    } catch (err) {
      const last = lines.slice(i + 1).every((l) => !l.trim());
      if (!last) throw new BenchError('input', `${path}:${i + 1}: not a JSON sample (${(err as Error).message}): the journal is damaged`);
      tornLastLine = true;
    }
  });
  return { samples: out, tornLastLine };
}
