import { BenchError } from '../errors.js';
import type { IdentityCheck } from '../results/run-record.js';
import { compareOutputs, OUTPUT_TOLERANCE, topK, type InferenceOutput } from './output-agreement.js';

/** One platform's answer as kept on disk (identity-answers.json), so a resumed run compares with answers taken before. */
export interface Answer {
  platform: string;
  digest: string;
  output: InferenceOutput;
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

  /** Adds one platform's answer (the raw JSON body of an inference response); throws on a mismatch. */
  add(platform: string, digest: string, body: Buffer): void {
    const output = (JSON.parse(body.toString()) as { outputs?: InferenceOutput[] }).outputs?.[0];
    if (!output) throw new BenchError('infrastructure', `${platform}: the inference answer has no outputs`);
    this.answers.set(platform, { platform, digest, output });
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
      const a = compareOutputs(ref.output, o.output);
      const n = o.output.shape[0] ?? 1;
      const width = o.output.data.length / n;
      const top5 = Array.from({ length: n }, (_, r) => topK(o.output.data.slice(r * width, (r + 1) * width), 5));
      return [{ platform: o.platform, rootfsDigestInside: o.digest, outputShape: o.output.shape, top5, maxAbsDiff: a.maxAbsDiff, agree: a.agree, detail: a.detail }];
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
