import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QmpClient } from '../../../src/platforms/qemu/qmp.js';

const dir = mkdtempSync(join(tmpdir(), 'vmbench-qmp-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fake QMP server: greeting, capabilities, query-status, an event, errors. */
function fakeQmp(path: string, seen: string[]): Promise<Server> {
  const srv = createServer((sock) => {
    sock.write('{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}}, "capabilities": ["oob"]}}\r\n');
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as { execute: string; id?: string };
        buf = buf.slice(nl + 1);
        if (sock.writableEnded) return;
        seen.push(msg.execute);
        const id = msg.id;
        if (msg.execute === 'qmp_capabilities') sock.write(`{"return": {}, "id": "${id}"}\r\n`);
        else if (msg.execute === 'query-status') {
          sock.write('{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RESUME"}\r\n');
          sock.write(`{"return": {"status": "running", "singlestep": false, "running": true}, "id": "${id}"}\r\n`);
        } else if (msg.execute === 'quit') {
          sock.write(`{"return": {}, "id": "${id}"}\r\n`);
          sock.end();
        } else sock.write(`{"id": "${id}", "error": {"class": "CommandNotFound", "desc": "The command ${msg.execute} has not been found"}}\r\n`);
      }
    });
  });
  return new Promise((r) => srv.listen(path, () => r(srv)));
}

describe('QmpClient', () => {
  it('negotiates, queries status, reports errors and survives quit', async () => {
    const path = join(dir, 'a.sock');
    const seen: string[] = [];
    const srv = await fakeQmp(path, seen);
    try {
      const q = await QmpClient.connect(path);
      expect(await q.queryStatus()).toMatchObject({ running: true, status: 'running' });
      expect(q.events.map((e) => e.event)).toEqual(['RESUME']);
      await expect(q.execute('nope')).rejects.toThrow(/CommandNotFound/);
      await q.execute('quit');
      await new Promise((r) => setTimeout(r, 50)); // let the close arrive
      await expect(q.execute('query-status')).rejects.toThrow(/closed/);
      expect(seen).toEqual(['qmp_capabilities', 'query-status', 'nope', 'quit']);
      q.close();
    } finally {
      srv.close();
    }
  });

  it('connectWithRetry waits for the socket to appear, and stops when the process is gone', async () => {
    const path = join(dir, 'b.sock');
    let srv: Server | undefined;
    setTimeout(() => void fakeQmp(path, []).then((s) => (srv = s)), 200);
    const q = await QmpClient.connectWithRetry(path, 5000);
    expect((await q.queryStatus()).running).toBe(true);
    q.close();
    srv?.close();
    const t0 = performance.now();
    await expect(QmpClient.connectWithRetry(join(dir, 'never.sock'), 5000, () => false)).rejects.toThrow(/did not answer/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
