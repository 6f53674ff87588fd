/**
 * The generator against local servers that misbehave on purpose. Bounds are
 * generous: the machine has 2 cores and other test files may run alongside.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runClosedLoop } from '../../src/loadgen/closed-loop.js';
import { runOpenLoop } from '../../src/loadgen/open-loop.js';
import { findMaxSustainableRate } from '../../src/loadgen/max-rate.js';
import { LatencyHistogram } from '../../src/loadgen/histogram.js';
import { flakyServer, hangingServer, rawServer, slowServer, type Running } from './fake-servers.js';

const running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});
async function start(p: Promise<Running>): Promise<Running> {
  const s = await p;
  running.push(s);
  return s;
}

describe('open vs closed loop against a server that serves one request at a time, 20 ms each', () => {
  it('open loop above capacity shows the queueing delay (coordinated omission corrected)', async () => {
    const s = await start(slowServer(20));
    const r = await runOpenLoop({ target: { url: s.url }, rate: 80, durationMs: 2000, timeoutMs: 3000 });
    expect(r.mode).toBe('open');
    expect(r.rate).toBe(80);
    expect(r.sent).toBe(160);
    expect(r.requests).toBeGreaterThan(100);
    // Capacity ≈ 50 req/s: the backlog grows ≈ 30 req/s, so late requests wait ~1 s.
    expect(r.latencyMs.p99).toBeGreaterThan(200);
    expect(r.latencyMs.max).toBeGreaterThan(500);
    expect(r.reqPerSec).toBeLessThan(60);
    expect(r.requests + r.timeouts + (r.dropped ?? 0)).toBe(160);
    expect(LatencyHistogram.decode(r.histogram).count).toBe(r.requests);
  });

  it('closed loop with one connection sees only the service time', async () => {
    const s = await start(slowServer(20));
    const r = await runClosedLoop({ target: { url: s.url }, connections: 1, durationMs: 1000, warmupMs: 100, timeoutMs: 1000 });
    expect(r.mode).toBe('closed');
    expect(r.connections).toBe(1);
    expect(r.latencyMs.p50).toBeGreaterThan(19);
    expect(r.latencyMs.p50).toBeLessThan(35);
    expect(r.reqPerSec).toBeGreaterThan(25);
    expect(r.reqPerSec).toBeLessThan(52);
    expect(r.durationMs).toBeGreaterThan(950);
    expect(r.durationMs).toBeLessThan(1100);
    expect(r.timeouts).toBe(0);
    expect(r.errors).toEqual({});
  });

  it('open loop below capacity keeps latency near the service time', async () => {
    const s = await start(slowServer(20));
    const r = await runOpenLoop({ target: { url: s.url }, rate: 20, durationMs: 1000, timeoutMs: 1000 });
    expect(r.requests).toBe(20);
    expect(r.latencyMs.p50).toBeGreaterThan(19);
    expect(r.latencyMs.p50).toBeLessThan(40);
    expect(r.dropped).toBe(0);
  });
});

describe('errors and timeouts', () => {
  it('counts a 500 for every 3rd request as errors, not latencies', async () => {
    const s = await start(flakyServer(3));
    const r = await runClosedLoop({ target: { url: s.url }, connections: 4, durationMs: 500, timeoutMs: 1000 });
    const errors = r.errors['http_500'] ?? 0;
    expect(Object.keys(r.errors)).toEqual(['http_500']);
    expect(r.requests).toBeGreaterThan(100);
    const share = errors / (errors + r.requests);
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.37);
    expect(LatencyHistogram.decode(r.histogram).count).toBe(r.requests);

    const o = await runOpenLoop({ target: { url: s.url }, rate: 300, durationMs: 500, timeoutMs: 1000 });
    expect(o.requests + (o.errors['http_500'] ?? 0)).toBe(150);
    expect(o.errors['http_500']).toBeGreaterThanOrEqual(49);
    expect(o.errors['http_500']).toBeLessThanOrEqual(51);
  });

  it('closed loop counts requests the server never answers as timeouts and still ends on time', async () => {
    const s = await start(hangingServer(4));
    const t0 = performance.now();
    const r = await runClosedLoop({ target: { url: s.url }, connections: 4, durationMs: 1000, timeoutMs: 100 });
    const wall = performance.now() - t0;
    expect(wall).toBeLessThan(1300);
    expect(r.timeouts).toBeGreaterThan(5);
    expect(r.requests).toBeGreaterThan(r.timeouts);
    expect(r.latencyMs.max).toBeLessThan(100);
    expect(r.stoppedBy).toBe('duration');
  });

  it('open loop counts timeouts and ends within duration + timeout', async () => {
    const s = await start(hangingServer(4));
    const t0 = performance.now();
    const r = await runOpenLoop({ target: { url: s.url }, rate: 100, durationMs: 1000, timeoutMs: 200 });
    const wall = performance.now() - t0;
    expect(wall).toBeLessThan(1000 + 200 + 300);
    expect(r.timeouts + (r.dropped ?? 0)).toBe(25);
    expect(r.timeouts).toBeGreaterThanOrEqual(20);
    expect(r.requests).toBe(75);
  });

  it('a refused connection is an error, not a hang', async () => {
    const s = await start(flakyServer(1000));
    const url = s.url;
    await s.close();
    running.length = 0;
    const r = await runClosedLoop({ target: { url }, connections: 2, durationMs: 300, timeoutMs: 100 });
    expect(r.requests).toBe(0);
    expect(r.errors['ECONNREFUSED']).toBeGreaterThan(0);
  });
});

describe('stopping', () => {
  it('closed loop stops after maxRequests', async () => {
    const s = await start(flakyServer(1_000_000));
    const r = await runClosedLoop({ target: { url: s.url }, connections: 3, durationMs: 10_000, timeoutMs: 1000, maxRequests: 50 });
    expect(r.stoppedBy).toBe('maxRequests');
    expect(r.requests).toBe(50);
    expect(r.durationMs).toBeLessThan(2000);
  });

  it('both loops stop on the signal and return what they measured', async () => {
    const s = await start(slowServer(5));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const t0 = performance.now();
    const [c, o] = await Promise.all([
      runClosedLoop({ target: { url: s.url }, connections: 1, durationMs: 10_000, timeoutMs: 1000, signal: ac.signal }),
      runOpenLoop({ target: { url: s.url }, rate: 10, durationMs: 10_000, timeoutMs: 1000, signal: ac.signal }),
    ]);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(c.stoppedBy).toBe('signal');
    expect(o.stoppedBy).toBe('signal');
    expect(c.requests).toBeGreaterThan(0);
  });
});

describe('raw HTTP framing', () => {
  it('reads chunked, split, 1xx and read-until-close responses', async () => {
    const s = await start(
      rawServer((n) => {
        switch (n % 4) {
          case 1:
            return ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n', '5;x=y\r\nde', 'fgh\r\n0\r\nX-T: 1\r\n\r\n'];
          case 2:
            return ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 20', '1 Created\r\nCONTENT-LENGTH: 4\r\n\r\nab', 'cd'];
          case 3:
            return ['HTTP/1.1 204 No Content\r\n\r\n'];
          default:
            return ['HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'];
        }
      }),
    );
    const r = await runClosedLoop({ target: { url: s.url }, connections: 1, durationMs: 400, timeoutMs: 200 });
    expect(r.timeouts).toBe(0);
    expect(Object.keys(r.errors)).toEqual(['http_404']);
    expect(r.requests).toBeGreaterThan(10);

    const closing = await start(rawServer(() => ['HTTP/1.0 200 OK\r\n\r\nbody until close', Buffer.alloc(0)]));
    // The raw server does not close by itself: a response without framing times out…
    const r2 = await runClosedLoop({ target: { url: closing.url }, connections: 1, durationMs: 300, timeoutMs: 50 });
    expect(r2.requests).toBe(0);
    expect(r2.timeouts).toBeGreaterThan(0);
  });

  it('counts garbage as a protocol error', async () => {
    const s = await start(rawServer(() => ['SSH-2.0-nope\r\n\r\n']));
    const r = await runClosedLoop({ target: { url: s.url }, connections: 1, durationMs: 200, timeoutMs: 100 });
    expect(r.errors['protocol']).toBeGreaterThan(0);
    expect(r.requests).toBe(0);
  });
});

describe('findMaxSustainableRate', () => {
  it('converges near the capacity of the one-at-a-time server (≈ 50 req/s)', async () => {
    const s = await start(slowServer(20));
    const r = await findMaxSustainableRate({
      target: { url: s.url },
      sloP99Ms: 100,
      startRate: 20,
      maxRate: 400,
      stepDurationMs: 1000,
      timeoutMs: 2000,
      tolerance: 0.1,
      maxSteps: 8,
    });
    expect(r.steps.length).toBeLessThanOrEqual(8);
    expect(r.rate).toBeGreaterThanOrEqual(30);
    expect(r.rate).toBeLessThanOrEqual(62);
    expect(r.failedAt).toBeDefined();
    expect(r.failedAt!).toBeLessThanOrEqual(100);
    for (const st of r.steps) expect(st.pass).toBe(st.rate <= r.rate);
  });
});
