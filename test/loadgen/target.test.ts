import { describe, expect, it } from 'vitest';
import { resolveTarget } from '../../src/loadgen/target.js';
import { runClosedLoop } from '../../src/loadgen/closed-loop.js';
import { runOpenLoop } from '../../src/loadgen/open-loop.js';
import { findMaxSustainableRate } from '../../src/loadgen/max-rate.js';
import { BenchError } from '../../src/errors.js';

describe('resolveTarget', () => {
  it('serialises the request once', () => {
    const t = resolveTarget({ url: 'http://127.0.0.1:8080/v2/models/m/infer?x=1', method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([1, 2, 3]) });
    expect(t.port).toBe(8080);
    expect(t.path).toBe('/v2/models/m/infer?x=1');
    const text = t.request.toString('latin1');
    expect(text.startsWith('POST /v2/models/m/infer?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\ncontent-type: application/octet-stream\r\nContent-Length: 3\r\n\r\n')).toBe(true);
    expect([...t.request.subarray(-3)]).toEqual([1, 2, 3]);
    expect(resolveTarget({ url: 'http://127.0.0.1:9/' }).request.toString()).toBe('GET / HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n');
  });

  it.each([
    ['http://localhost:8080/', /target\.url: "http:\/\/localhost:8080\/" is not allowed: load is only ever sent to 127\.0\.0\.1/],
    ['http://10.0.0.1:8080/', /target\.url: "http:\/\/10\.0\.0\.1:8080\/" is not allowed/],
    ['http://example.com/', /is not allowed/],
    ['http://127.0.0.2:80/', /is not allowed/],
    ['http://[::1]:80/', /is not allowed/],
    ['https://127.0.0.1:8443/', /only plain http/],
    ['not a url', /is not a valid URL/],
    ['http://u:p@127.0.0.1:1/', /credentials/],
  ])('refuses %s', (url, message) => {
    expect(() => resolveTarget({ url })).toThrow(message);
    try {
      resolveTarget({ url });
    } catch (err) {
      expect(err).toBeInstanceOf(BenchError);
      expect((err as BenchError).kind).toBe('input');
    }
  });

  it('names the option and value of other mistakes', () => {
    expect(() => resolveTarget({ url: 'http://127.0.0.1:1/', method: 'get' })).toThrow(/target\.method: "get" is not one of GET/);
    expect(() => resolveTarget({ url: 'http://127.0.0.1:1/', headers: { Host: 'x' } })).toThrow(/target\.headers: "Host" is set by the load generator/);
    expect(() => resolveTarget({ url: 'http://127.0.0.1:1/', headers: { a: 'x\r\nb: y' } })).toThrow(/target\.headers\["a"\]/);
    expect(() => resolveTarget({ url: 'http://127.0.0.1:1/', body: 'x' })).toThrow(/target\.method: "GET" cannot carry a body/);
  });

  it('loops refuse non-loopback targets and bad options before sending anything', async () => {
    await expect(runClosedLoop({ target: { url: 'http://192.168.1.1:80/' }, connections: 1, durationMs: 100, timeoutMs: 100 })).rejects.toThrow(/not allowed/);
    await expect(runOpenLoop({ target: { url: 'http://8.8.8.8:80/' }, rate: 10, durationMs: 100, timeoutMs: 100 })).rejects.toThrow(/not allowed/);
    await expect(
      findMaxSustainableRate({ target: { url: 'http://example.com/' }, sloP99Ms: 10, startRate: 1, maxRate: 10, stepDurationMs: 100 }),
    ).rejects.toThrow(/not allowed/);
    await expect(runClosedLoop({ target: { url: 'http://127.0.0.1:1/' }, connections: 0, durationMs: 100, timeoutMs: 100 })).rejects.toThrow(/connections: 0 is not an integer/);
    await expect(runClosedLoop({ target: { url: 'http://127.0.0.1:1/' }, connections: 1, durationMs: Infinity, timeoutMs: 100 })).rejects.toThrow(/durationMs/);
    await expect(runOpenLoop({ target: { url: 'http://127.0.0.1:1/' }, rate: -1, durationMs: 100, timeoutMs: 100 })).rejects.toThrow(/rate: -1/);
  });
});
