import { execa } from 'execa';
import { BenchError, messageOf } from '../../errors.js';

/** Restrict every thread of a host process to these CPUs (taskset list syntax, e.g. "0-1"). */
export async function pinProcess(pid: number, cpus: string): Promise<void> {
  try {
    await execa('taskset', ['-a', '-p', '-c', cpus, String(pid)]);
  } catch (err) {
    throw new BenchError('infrastructure', `taskset -a -p -c ${cpus} ${pid} failed: ${messageOf(err).split('\n')[0]}`, { cause: err });
  }
}
