import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pollUntil, PollTimeout, probe } from '../../src/loadgen/probe.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe('probe / pollUntil', () => {
  it('retries 503s until the server says ready', async () => {
    let calls = 0;
    const base = await serve((_req, res) => {
      calls += 1;
      res.statusCode = calls < 4 ? 503 : 200;
      res.end();
    });
    const r = await pollUntil(() => probe({ url: base + '/ready', timeoutMs: 200 }), (x) => x.status === 200, {
      intervalMs: 5,
      deadline: performance.now() + 5_000,
    });
    expect(r.attempts).toBe(4);
  });

  it('times out a hanging server per request and gives up at the deadline', async () => {
    const base = await serve(() => {
      /* never answers */
    });
    const t0 = performance.now();
    await expect(
      pollUntil(() => probe({ url: base, timeoutMs: 50 }), () => true, { intervalMs: 5, deadline: performance.now() + 300 }),
    ).rejects.toBeInstanceOf(PollTimeout);
    expect(performance.now() - t0).toBeLessThan(2_000);
  });

  it('refuses any address but 127.0.0.1', async () => {
    await expect(probe({ url: 'http://10.0.0.1:80/', timeoutMs: 50 })).rejects.toThrow(/only 127.0.0.1/);
  });
});
