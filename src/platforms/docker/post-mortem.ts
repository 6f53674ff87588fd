import type Dockerode from 'dockerode';
import { failureCategoryOf, messageOf } from '../../errors.js';
import type { PostMortem } from '../platform.js';

/**
 * What became of a container after a failed step, from the Engine's own
 * record (docker inspect): OOM-killed, exited (with its code and the end of
 * its log), removed behind the harness's back, or the engine itself gone.
 */
export async function containerPostMortem(docker: Dockerode, containerId: string): Promise<PostMortem | null> {
  let state: Dockerode.ContainerInspectInfo['State'];
  try {
    state = (await docker.getContainer(containerId).inspect()).State;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return { category: 'instance_died', detail: `container ${containerId} no longer exists` };
    if (failureCategoryOf(err) === 'engine_unavailable') return { category: 'engine_unavailable', detail: messageOf(err) };
    return null;
  }
  if (state.OOMKilled) return { category: 'oom_killed', detail: `container ${containerId} was OOM-killed (exit code ${state.ExitCode})` };
  if (state.Running && !state.Restarting) return null;
  const error = state.Error ? `: ${state.Error}` : '';
  return { category: 'instance_died', detail: `container ${containerId} ${state.Status} with exit code ${state.ExitCode}${error}` };
}
