import { describe, expect, it } from 'vitest';
import { BenchError, failureCategoryOf } from '../src/errors.js';

describe('failureCategoryOf', () => {
  const sys = (code: string, message: string) => Object.assign(new Error(message), { code });

  it('takes the category an error carries, also through its causes', () => {
    expect(failureCategoryOf(new BenchError('infrastructure', 'x', { category: 'boot_timeout' }))).toBe('boot_timeout');
    expect(failureCategoryOf(new BenchError('infrastructure', 'wrapped', { cause: new BenchError('infrastructure', 'inner', { category: 'oom_killed' }) }))).toBe('oom_killed');
  });

  it('reads system-call codes and the engines’ own words', () => {
    expect(failureCategoryOf(sys('ENOSPC', 'ENOSPC: no space left on device, write'))).toBe('disk_full');
    expect(failureCategoryOf(new Error('write /var/lib/docker/tmp: no space left on device'))).toBe('disk_full');
    expect(failureCategoryOf(sys('EADDRINUSE', 'listen EADDRINUSE: address already in use 127.0.0.1:18080'))).toBe('port_conflict');
    expect(failureCategoryOf(new Error('(HTTP code 500) server error - driver failed programming external connectivity: Bind for 127.0.0.1:18080 failed: port is already allocated'))).toBe('port_conflict');
    expect(failureCategoryOf(sys('ECONNREFUSED', 'connect ECONNREFUSED /var/run/docker.sock'))).toBe('engine_unavailable');
    expect(failureCategoryOf(sys('ENOENT', 'connect ENOENT /var/run/docker.sock'))).toBe('engine_unavailable');
  });

  it('falls back on the error kind', () => {
    expect(failureCategoryOf(new BenchError('mismatch', 'outputs differ'))).toBe('mismatch');
    expect(failureCategoryOf(new BenchError('interrupted', 'run interrupted'))).toBe('interrupted');
    expect(failureCategoryOf(new TypeError('x is undefined'))).toBe('internal');
    expect(failureCategoryOf(sys('ECONNRESET', 'socket hang up'))).toBe('infrastructure');
  });
});
