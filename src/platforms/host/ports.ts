import { createServer } from 'node:net';
import { BenchError } from '../../errors.js';

/**
 * TCP ports on the host's loopback, the only address anything of vmbench ever
 * binds or connects to. There is a window between picking a port and the
 * instance binding it; a launch that then fails to bind retries with a fresh
 * pick.
 */
export const LOOPBACK = '127.0.0.1';

/**
 * Ports for SSH forwards come from a range below Linux's ephemeral range
 * (32768–60999), where freePort()'s port-0 picks for server ports land, so
 * the two cannot hand out the same port in the window before QEMU binds.
 */
export const SSH_PORT_RANGE = { min: 20000, max: 29999 } as const;

/** A port on 127.0.0.1 that was free a moment ago (the kernel's pick: bind to 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', (err) => reject(new BenchError('infrastructure', `cannot bind a port on ${LOOPBACK}: ${err.message}`, { cause: err })));
    srv.listen({ host: LOOPBACK, port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A port free on 127.0.0.1 right now, not in `avoid`: random in SSH_PORT_RANGE, else whatever the kernel hands out. */
export async function pickFreePort(avoid: Iterable<number> = []): Promise<number> {
  const skip = new Set(avoid);
  const span = SSH_PORT_RANGE.max - SSH_PORT_RANGE.min + 1;
  for (let i = 0; i < 50; i++) {
    const p = SSH_PORT_RANGE.min + Math.floor(Math.random() * span);
    if (!skip.has(p) && (await isPortFree(p))) return p;
  }
  for (let i = 0; i < 20; i++) {
    const p = await freePort();
    if (p > 0 && !skip.has(p)) return p;
  }
  throw new BenchError('infrastructure', `no free TCP port on ${LOOPBACK} (tried 50 in ${SSH_PORT_RANGE.min}–${SSH_PORT_RANGE.max} and 20 kernel picks)`, {
    hint: 'something holds most local ports; see `ss -ltn`',
  });
}

/** Whether something can bind 127.0.0.1:port right now. */
export async function isPortFree(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ host: LOOPBACK, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}
