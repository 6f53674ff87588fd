import { createHash } from 'node:crypto';
import { BenchError } from '../errors.js';
import type { IdentityCheck } from '../results/run-record.js';
import { compareOutputs, OUTPUT_TOLERANCE, topK, type InferenceOutput } from './output-agreement.js';

/** One platform's answer as kept on disk (identity-answers.json), so a resumed run compares with answers taken before. */
export interface Answer {
  platform: string;
  digest: string;
  /** The v2 answer's first output, or the sha256 of an answer that is not v2 JSON. */
  output: InferenceOutput | { sha256: string; bytes: number };
}

function answerOutput(body: Buffer): Answer['output'] {
  try {
    const o = (JSON.parse(body.toString()) as { outputs?: Array<{ shape?: unknown; data?: unknown }> }).outputs?.[0];
    if (o && Array.isArray(o.shape) && Array.isArray(o.data)) {
      const data = (o.data as unknown[]).flat(Infinity as 1);
      if (data.every((v) => typeof v === 'number')) return { shape: o.shape as number[], data: data as number[] };
    }
  } catch {
    // not JSON: compared as bytes
  }
  return { sha256: createHash('sha256').update(body).digest('hex'), bytes: body.length };
}

function compareAnswers(ref: Answer['output'], o: Answer['output']): { agree: boolean; maxAbsDiff: number; detail: string } {
  if ('sha256' in ref || 'sha256' in o) {
    const same = 'sha256' in ref && 'sha256' in o && ref.sha256 === o.sha256;
    const show = (x: Answer['output']) => ('sha256' in x ? `${x.bytes} bytes sha256 ${x.sha256.slice(0, 12)}` : 'a v2 JSON answer');
    return { agree: same, maxAbsDiff: same ? 0 : Infinity, detail: same ? `the same answer, byte for byte (${show(o)})` : `answers differ: ${show(o)} vs ${show(ref)}` };
  }
  return compareOutputs(ref, o);
}

/**
 * The identity proof, collected as the run goes: each platform's answer to
 * the run's fixed input (taken on an instance a measurement launched anyway,
 * see plan.ts) and the rootfs digest its server reads inside. Each output is
 * compared with the reference platform's (the scenario's first; top-5 per row
 * and max |Δ| ≤ tolerance) as soon as both exist, so a substrate that
 * computes something else stops the run at its first answer.
 */
export class IdentityCollector {
  private readonly answers = new Map<string, Answer>();

  constructor(
    /** The platforms in scenario order; the first is the reference. */
    private readonly platforms: readonly string[],
  ) {}

  get reference(): string {
    return this.platforms[0]!;
  }

  has(platform: string): boolean {
    return this.answers.has(platform);
  }

  /**
   * Adds one platform's answer (the raw body of the response to the run's
   * inference request); throws on a mismatch. A v2 JSON answer is compared
   * numerically (its first output); any other answer must be byte for byte
   * the reference's.
   */
  add(platform: string, digest: string, body: Buffer): void {
    this.answers.set(platform, { platform, digest, output: answerOutput(body) });
    const record = this.record();
    const bad = record?.platforms.filter((p) => !p.agree && this.answers.has(p.platform)) ?? [];
    if (bad.length) {
      throw new BenchError(
        'mismatch',
        `outputs differ between substrates for the same input: ${bad.map((p) => `${p.platform} vs ${this.reference}: ${p.detail}`).join('; ')}`,
        { hint: 'the substrates do not compute the same thing; see identity in run.json' },
      );
    }
  }

  /** The proof so far (null until the reference platform has answered). */
  record(): IdentityCheck | null {
    const ref = this.answers.get(this.reference);
    if (!ref) return null;
    const rows = this.platforms.flatMap((name) => {
      const o = this.answers.get(name);
      if (!o) return [];
      const a = compareAnswers(ref.output, o.output);
      const out = o.output;
      if ('sha256' in out) return [{ platform: o.platform, rootfsDigestInside: o.digest, outputShape: [], top5: [], maxAbsDiff: a.maxAbsDiff, agree: a.agree, detail: a.detail }];
      const n = out.shape[0] ?? 1;
      const width = out.data.length / n;
      const top5 = Array.from({ length: n }, (_, r) => topK(out.data.slice(r * width, (r + 1) * width), 5));
      return [{ platform: o.platform, rootfsDigestInside: o.digest, outputShape: out.shape, top5, maxAbsDiff: a.maxAbsDiff, agree: a.agree, detail: a.detail }];
    });
    return { reference: this.reference, tolerance: OUTPUT_TOLERANCE, agreed: rows.length === this.platforms.length && rows.every((r) => r.agree), platforms: rows };
  }

  /** Every answer so far (for the run directory). */
  saved(): Answer[] {
    return [...this.answers.values()];
  }

  /** Answers a resumed run took before (they were compared when they were added). */
  restore(answers: readonly Answer[]): void {
    for (const a of answers) if (this.platforms.includes(a.platform)) this.answers.set(a.platform, a);
  }

  /** Platforms that never answered (nothing in the plan launched an instance for them). */
  missing(): string[] {
    return this.platforms.filter((p) => !this.answers.has(p));
  }
}
