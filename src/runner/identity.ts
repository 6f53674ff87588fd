import { BenchError } from '../errors.js';
import { measureColdStart } from '../measure/startup.js';
import type { Platform } from '../platforms/platform.js';
import { compareOutputs, OUTPUT_TOLERANCE, topK, type InferenceOutput } from './output-agreement.js';
import type { IdentityCheck } from './run-record.js';
import { waitFailure, type RunSession } from './session.js';

/**
 * Before measuring: one instance per platform answers the run's fixed input;
 * each output is compared with the first platform's (top-5 per row and max
 * |Δ| ≤ tolerance), and each server reports the rootfs digest it reads inside.
 */
export async function verifyIdentity(session: RunSession, platforms: Platform[], timeoutMs: number): Promise<IdentityCheck> {
  const outputs: Array<{ platform: string; digest: string; output: InferenceOutput }> = [];
  for (const platform of platforms) {
    const answer = await session.withInstance(platform, `${platform.name}-identity`, async (instance) => {
      const options = { intervalMs: session.pollIntervalMs, requestTimeoutMs: 200, timeoutMs, signal: session.signal };
      const res = await measureColdStart(instance, session.modelName, session.input, options).catch((cause: unknown) => {
        throw waitFailure(session, `${platform.name}: identity check: no inference answer within ${timeoutMs} ms`, cause);
      });
      const output = (JSON.parse(res.poll.response.body.toString()) as { outputs?: InferenceOutput[] }).outputs?.[0];
      if (!output) throw new BenchError('infrastructure', `${platform.name}: the inference answer has no outputs`);
      return { platform: platform.name, digest: await session.digestInside(platform, instance), output };
    });
    outputs.push(answer);
  }
  const reference = outputs[0]!;
  const rows = outputs.map((o) => {
    const a = compareOutputs(reference.output, o.output);
    const n = o.output.shape[0] ?? 1;
    const width = o.output.data.length / n;
    const top5 = Array.from({ length: n }, (_, r) => topK(o.output.data.slice(r * width, (r + 1) * width), 5));
    return { platform: o.platform, rootfsDigestInside: o.digest, outputShape: o.output.shape, top5, maxAbsDiff: a.maxAbsDiff, agree: a.agree, detail: a.detail };
  });
  return { reference: reference.platform, tolerance: OUTPUT_TOLERANCE, agreed: rows.every((r) => r.agree), platforms: rows };
}
