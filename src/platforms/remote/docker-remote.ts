import http from 'node:http';
import type { Duplex } from 'node:stream';
import Dockerode from 'dockerode';
import { BenchError, messageOf } from '../../errors.js';
import type { HostFs } from '../host/host-fs.js';
import type { LoadSite } from '../load-site.js';
import type { RemoteHost } from './remote-host.js';

/**
 * The Docker Engine of a remote host, through its own remote interface: the
 * Engine API over SSH with `DOCKER_HOST=ssh://` semantics — every HTTP
 * connection is a `docker system dial-stdio` on the host (as the docker CLI
 * does it), so nothing but the docker CLI and the engine's socket access
 * (the docker group) is needed there. Unlike dockerode's own ssh transport,
 * which makes a new SSH handshake for every request, the channels ride on the
 * host's one connection and are kept alive between requests, so an API call
 * costs a round trip, not a handshake (startup times stay honest).
 */

/** What the Docker platform needs of the host it runs on, when that is not this machine. */
export interface DockerRemote {
  readonly name: string;
  readonly fs: HostFs;
  readonly site: LoadSite;
  freePort(avoid?: number[]): Promise<number>;
  /** Host Date.now() − controller Date.now() (the server's epoch stamps are the host's). */
  wallOffsetMs(): Promise<number>;
  /** Make `image` exist on the host's engine with the same image ID as here; facts for the record. */
  syncImage(image: string): Promise<Record<string, string | number | boolean>>;
  lostSince(sinceMono: number): string | null;
}

/** ssh2 channels lack the few socket methods http.Agent calls on a kept-alive socket. */
function socketLike(stream: Duplex): Duplex {
  const s = stream as Duplex & Record<string, unknown>;
  let timer: NodeJS.Timeout | undefined;
  s.setKeepAlive ??= () => s;
  s.setNoDelay ??= () => s;
  s.ref ??= () => s;
  s.unref ??= () => s;
  s.setTimeout ??= (ms: number, cb?: () => void) => {
    if (timer) clearTimeout(timer);
    if (cb) s.once('timeout', cb);
    if (ms > 0) timer = setTimeout(() => s.emit('timeout'), ms);
    return s;
  };
  s.once('close', () => timer && clearTimeout(timer));
  return s;
}

/** A dockerode client whose every connection is `docker system dial-stdio` on the host. */
export function remoteDockerClient(host: Pick<RemoteHost, 'connection' | 'name'>): Dockerode {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32, maxFreeSockets: 4 });
  agent.createConnection = ((_options: unknown, callback: (err: Error | null, socket?: Duplex) => void) => {
    host
      .connection()
      .then((c) => c.spawn('docker system dial-stdio'))
      .then((channel) => callback(null, socketLike(channel)))
      .catch((err: unknown) => callback(err instanceof Error ? err : new Error(messageOf(err))));
    return undefined;
  }) as unknown as typeof agent.createConnection;
  return new Dockerode({ protocol: 'http', host: `${host.name}.docker.invalid`, port: 2375, agent } as Dockerode.DockerOptions);
}

/**
 * The artifact's image on the host's engine: there already with the same
 * image ID (a content digest), or `docker save` here → `docker load` there,
 * then checked to have arrived with that ID.
 */
export async function syncImage(local: Dockerode, remote: Dockerode, image: string, hostName: string): Promise<Record<string, string | number | boolean>> {
  const want = (await local.getImage(image).inspect()).Id;
  const have = await remote.getImage(image).inspect().then((i) => i.Id, () => null);
  if (have === want) return { imageOnHost: 'present', imageId: want.slice(0, 19) };
  const t0 = performance.now();
  try {
    const tar = (await local.getImage(image).get()) as NodeJS.ReadableStream;
    const res = (await remote.loadImage(tar, { quiet: true })) as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => {
      res.on('error', reject);
      res.on('end', () => resolve());
      res.resume();
    });
  } catch (err) {
    throw new BenchError('infrastructure', `host ${hostName}: cannot copy image ${image} to its Docker Engine: ${messageOf(err)}`, { cause: err });
  }
  const arrived = await remote.getImage(image).inspect().then((i) => i.Id, () => null);
  if (arrived !== want) {
    throw new BenchError('infrastructure', `host ${hostName}: image ${image} arrived as ${arrived ?? 'nothing'}, expected ${want}`, { hint: 'another image took the tag there? `docker images` on that host' });
  }
  return { imageOnHost: 'copied', imageId: want.slice(0, 19), imageCopyMs: Math.round(performance.now() - t0) };
}

/** The DockerRemote of a host, with this machine's engine as the image source. */
export function dockerRemote(host: RemoteHost, local: Dockerode, remote: Dockerode): DockerRemote {
  return {
    name: host.name,
    fs: host.fs,
    site: host.site,
    freePort: (avoid) => host.freePort(avoid),
    wallOffsetMs: () => host.wallOffsetMs(),
    syncImage: (image) => syncImage(local, remote, image, host.name),
    lostSince: (t) => host.lostSince(t),
  };
}
