import type { StoredRun } from '../../results/read-run.js';

/**
 * What the decision record says about the server that was measured: the
 * built-in server's ONNX model, or your own server's image, and whether it
 * was checked against the Open Inference Protocol before anything was
 * measured (run.json → server; absent in records written before it existed,
 * which then read as before).
 */

function imageOf(run: StoredRun): string | null {
  const w = run.record.server?.workload;
  return w && w !== 'builtin' ? w : null;
}

/** "an ONNX model (resnet18)" or "a model (dense) with our own server, image …". */
export function servedModelPhrase(runs: readonly StoredRun[], modelOf: (r: StoredRun) => string): string {
  const models = [...new Set(runs.map(modelOf))].join(', ');
  const images = [...new Set(runs.map(imageOf).filter((i): i is string => i !== null))];
  if (images.length === 0) return `an ONNX model (${models})`;
  return `a model (${models}) with our own server (image ${images.map((i) => `\`${i}\``).join(', ')})`;
}

/** One line per run that recorded its server check. */
export function serverCheckLines(runs: readonly StoredRun[]): string[] {
  const out: string[] = [];
  for (const r of runs) {
    const s = r.record.server;
    if (!s) continue;
    const who = s.workload === 'builtin' ? "vmbench's built-in server" : `\`${s.workload}\``;
    const req = `${s.request.method} ${s.request.path} (${s.request.source === 'generated' ? 'generated from the model metadata' : s.request.source === 'file' ? 'from a request file' : 'the fixed input'}, ${s.request.bytes} bytes)`;
    if (!s.checked) out.push(`- Server ${who}: **not checked** against the Open Inference Protocol (${s.reason ?? 'protocol: none'}); measured with readiness ${s.readyPath} and ${req}.`);
    else {
      const passed = s.checks.filter((c) => c.ok).length;
      out.push(`- Server ${who}: Open Inference Protocol (KServe v2 REST) checked first on ${s.platform ?? '?'}, ${passed} of ${s.checks.length} checks passed; every measurement sent ${req}.`);
    }
  }
  return out.length ? [...out, ''] : [];
}
