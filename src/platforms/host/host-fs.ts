import { readdir, readFile } from 'node:fs/promises';

/**
 * Reading the files of the host an instance runs on: this machine's, or a
 * target host's through the helper there (remote/agent/client.ts). Memory
 * readings (/proc, cgroups) and host facts go through it, so a remote
 * platform's figures are that host's. A missing file rejects, as fs does.
 */
export interface HostFs {
  /** Which host this is ('local' or the scenario's host name), for messages. */
  readonly host: string;
  readFile(path: string): Promise<string>;
  readdir(path: string): Promise<string[]>;
}

export const localFs: HostFs = {
  host: 'local',
  readFile: (path) => readFile(path, 'utf8'),
  readdir: (path) => readdir(path),
};
