/** Local misbehaving servers on 127.0.0.1 for the load generator's tests. */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Running {
  url: string;
  /** Requests the server has seen. */
  seen(): number;
  close(): Promise<void>;
}

async function listen(server: http.Server | net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function serveHttp(handler: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void): Promise<Running> {
  let n = 0;
  const server = http.createServer((req, res) => {
    n += 1;
    handler(req, res, n);
  });
  server.keepAliveTimeout = 30_000;
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/`,
    seen: () => n,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Handles ONE request at a time, each taking serviceMs: capacity ≈ 1000/serviceMs req/s. */
export function slowServer(serviceMs = 20): Promise<Running> {
  const queue: Array<() => void> = [];
  let busy = false;
  const pump = (): void => {
    while (!busy) {
      const job = queue.shift();
      if (job === undefined) return;
      job();
    }
  };
  return serveHttp((req, res) => {
    req.resume();
    queue.push(() => {
      if (res.destroyed || req.socket.destroyed) return; // the client gave up: skip, like a real server's queue would not
      busy = true;
      setTimeout(() => {
        res.end('ok');
        busy = false;
        pump();
      }, serviceMs);
    });
    pump();
  });
}

/** Answers 200 "ok", but 500 for every `every`-th request. */
export function flakyServer(every = 3): Promise<Running> {
  return serveHttp((_req, res, n) => {
    res.statusCode = n % every === 0 ? 500 : 200;
    res.end(n % every === 0 ? 'boom' : 'ok');
  });
}

/** Never answers every `every`-th request; answers the others at once. */
export function hangingServer(every = 4): Promise<Running> {
  return serveHttp((_req, res, n) => {
    if (n % every === 0) return;
    res.end('ok');
  });
}

/**
 * A raw TCP server that answers each request with `respond(n)` (raw bytes,
 * written in the given pieces with a short pause between them).
 */
export async function rawServer(respond: (n: number) => Array<string | Buffer>): Promise<Running> {
  let n = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = '';
    s.on('data', async (d) => {
      buf += d.toString('latin1');
      let at: number;
      while ((at = buf.indexOf('\r\n\r\n')) >= 0) {
        buf = buf.slice(at + 4);
        n += 1;
        const pieces = respond(n);
        for (const [i, p] of pieces.entries()) {
          if (i > 0) await new Promise((r) => setTimeout(r, 2));
          if (!s.destroyed) s.write(p);
        }
      }
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/`,
    seen: () => n,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
