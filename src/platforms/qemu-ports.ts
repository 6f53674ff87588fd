import { createServer } from 'node:net';
import { HOST_LOOPBACK } from './qemu-args.js';

/**
 * Host ports on 127.0.0.1. There is a window between picking a port and QEMU
 * binding it; QEMU then exits ("Could not set up host forwarding rule") and the
 * launcher retries with a fresh pick.
 */

/**
 * Ports for SSH forwards come from a range below Linux's ephemeral range
 * (32768–60999), where the runner's own port-0 picks for server ports land,
 * so the two cannot hand out the same port in the window before QEMU binds.
 */
export const SSH_PORT_RANGE = { min: 20000, max: 29999 } as const;

/** A port free on 127.0.0.1 right now, not in `avoid`: random in SSH_PORT_RANGE, else whatever the kernel hands out. */
export async function pickFreePort(avoid: Iterable<number> = []): Promise<number> {
  const skip = new Set(avoid);
  const span = SSH_PORT_RANGE.max - SSH_PORT_RANGE.min + 1;
  for (let i = 0; i < 50; i++) {
    const p = SSH_PORT_RANGE.min + Math.floor(Math.random() * span);
    if (!skip.has(p) && (await isPortFree(p))) return p;
  }
  for (let i = 0; i < 20; i++) {
    const p = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen({ host: HOST_LOOPBACK, port: 0, exclusive: true }, () => {
        const addr = srv.address();
        const port = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(port));
      });
    });
    if (p > 0 && !skip.has(p)) return p;
  }
  throw new Error('could not find a free port on 127.0.0.1');
}

/** Whether something can bind 127.0.0.1:port right now. */
export async function isPortFree(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ host: HOST_LOOPBACK, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}
