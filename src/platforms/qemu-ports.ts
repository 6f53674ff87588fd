import { createServer } from 'node:net';
import { HOST_LOOPBACK } from './qemu-args.js';

/**
 * Host ports on 127.0.0.1. There is a window between picking a port and QEMU
 * binding it; QEMU then exits ("Could not set up host forwarding rule") and the
 * launcher retries with a fresh pick.
 */

/** A port the kernel hands out as free on 127.0.0.1 right now, not in `avoid`. */
export async function pickFreePort(avoid: Iterable<number> = []): Promise<number> {
  const skip = new Set(avoid);
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
