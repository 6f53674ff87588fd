import type Dockerode from 'dockerode';
import { BenchError, messageOf } from '../../errors.js';
import { parsePhaseLines } from '../../workload/phase-lines.js';
import { timelineFromHostEpochLines, type PhaseTimeline } from '../timeline.js';
import type { Lifecycle } from '../platform.js';

/**
 * Startup phases of a container: created/started from the lifecycle, the
 * server's phase lines from the container's logs. A container shares the
 * host's clock, so the epoch ms the server printed convert exactly to
 * offsets from launchEpochMs (resolution 1 ms). Must run before the
 * container is removed (i.e. before stop()).
 */

export const DOCKER_PHASE_SOURCE = 'docker-logs:server-epoch';

/**
 * Demultiplex a non-TTY `docker logs` body: frames of an 8-byte header
 * ([stream, 0, 0, 0, size uint32 BE]) + payload. A body that does not start
 * with a valid header (a TTY container) is returned whole as stdout.
 */
export function demuxDockerLogs(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const validHeader = (o: number) =>
    o + 8 <= buf.length && buf[o]! <= 2 && buf[o + 1] === 0 && buf[o + 2] === 0 && buf[o + 3] === 0;
  if (buf.length > 0 && !validHeader(0)) return { stdout: buf.toString('utf8'), stderr: '' };
  let o = 0;
  while (validHeader(o)) {
    const size = buf.readUInt32BE(o + 4);
    const payload = buf.subarray(o + 8, Math.min(buf.length, o + 8 + size));
    (buf[o] === 2 ? err : out).push(payload);
    o += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** The container's logs so far (stdout and stderr, demultiplexed). */
export async function containerLogText(docker: Dockerode, containerId: string): Promise<{ stdout: string; stderr: string }> {
  let body: Buffer | string;
  try {
    body = await docker.getContainer(containerId).logs({ stdout: true, stderr: true, follow: false });
  } catch (cause) {
    throw new BenchError('infrastructure', `docker: cannot read logs of ${containerId.slice(0, 12)}: ${messageOf(cause)}`, { cause });
  }
  return demuxDockerLogs(Buffer.isBuffer(body) ? body : Buffer.from(String(body), 'utf8'));
}

export interface DockerPhaseOptions {
  /** How long to wait for the `ready` line to reach the log driver (default 2000 ms). */
  waitReadyMs?: number;
  intervalMs?: number;
}

/**
 * Read the server's phase lines from the container's logs and build the
 * timeline. The log driver may lag the HTTP answer slightly, so the logs are
 * re-read until `ready` is there or waitReadyMs passes (then the timeline
 * holds whatever was printed).
 */
export async function dockerStartupPhases(
  docker: Dockerode,
  containerId: string,
  lifecycle: Lifecycle,
  opts: DockerPhaseOptions = {},
): Promise<PhaseTimeline> {
  const deadline = performance.now() + (opts.waitReadyMs ?? 2000);
  for (;;) {
    const { stdout } = await containerLogText(docker, containerId);
    const lines = parsePhaseLines(stdout);
    if (lines.some((l) => l.phase === 'ready') || performance.now() >= deadline) {
      return timelineFromHostEpochLines(lifecycle, lines, DOCKER_PHASE_SOURCE);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 25));
  }
}
