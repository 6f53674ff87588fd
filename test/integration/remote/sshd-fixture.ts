/**
 * A real OpenSSH server for the remote-host tests: its own sshd_config, host
 * key, port (on 127.0.0.1 only) and a separate user with its own home and
 * work directory, in the docker group (Engine API over ssh) — a stand-in
 * for a remote machine that is really only another user on this one. sshd
 * runs as a child of the test (-D) and is killed afterwards; the user, its
 * home and every process it still has are removed by id.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSshKeyPair } from '../../../src/platforms/linux-guest/ssh.js';

export interface SshdFixture {
  user: string;
  uid: number;
  home: string;
  port: number;
  /** Client private key (authorized for the user) and the known_hosts file listing the server's key. */
  keyPath: string;
  knownHostsPath: string;
  url: string;
  dir: string;
  sshd: ChildProcess;
  log: () => string;
  /** Cut every open connection from the server's side: SIGKILL its per-connection sshd processes (monitor and session). */
  killConnections(): number[];
  /** Pids of every live (non-zombie) process the test user has. */
  userPids(): number[];
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const p = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(p));
    });
  });
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

function pidsOfUser(user: string): number[] {
  try {
    return run('ps', ['-o', 'pid=,stat=', '-u', user])
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter(([pid, stat]) => Number(pid) > 0 && !stat?.startsWith('Z')) // zombies wait for init to reap them
      .map(([pid]) => Number(pid));
  } catch {
    return []; // ps exits 1 when the user has no process
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Children of `pid` (from /proc/<pid>/task/<pid>/children). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * `root: true` logs in as root instead of a new user (a libvirt host's socket
 * is root's, and reading libvirt's QEMU in /proc needs it): the key is
 * authorized by this sshd's own AuthorizedKeysFile, never root's ~/.ssh;
 * `home` is then a scratch directory to use as the host's work_dir.
 */
export async function startSshd(opts: { root?: boolean } = {}): Promise<SshdFixture> {
  if (!existsSync('/usr/sbin/sshd')) throw new Error('openssh-server is not installed (./scripts/setup.sh installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'vmbench-sshd-'));
  chmodSync(dir, 0o755);
  const user = opts.root ? 'root' : `vmbssh${randomBytes(3).toString('hex')}`;
  const home = join(dir, 'home');
  const client = await writeSshKeyPair(dir, 'client_ed25519', 'vmbench-test-controller');
  let uid = 0;
  let authorizedKeys = '.ssh/authorized_keys';
  if (opts.root) {
    mkdirSync(home, { mode: 0o700 });
    authorizedKeys = join(dir, 'authorized_keys');
    writeFileSync(authorizedKeys, `${client.publicKeyLine}\n`, { mode: 0o600 });
  } else {
    run('useradd', ['--create-home', '--home-dir', home, '--shell', '/bin/sh', '--groups', 'docker', '--comment', 'vmbench remote-host test', user]);
    // Without PAM, sshd refuses a locked account ("!" in shadow): "*" is no password, but not locked.
    run('usermod', ['--password', '*', user]);
    uid = Number(run('id', ['-u', user]).trim());
    const sshDir = join(home, '.ssh');
    mkdirSync(sshDir, { mode: 0o700 });
    writeFileSync(join(sshDir, 'authorized_keys'), `${client.publicKeyLine}\n`, { mode: 0o600 });
    chownSync(sshDir, uid, uid);
    chownSync(join(sshDir, 'authorized_keys'), uid, uid);
  }
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'vmbench-test-host', '-f', join(dir, 'host_ed25519')]);
  const port = await freePort();
  const hostPub = readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const knownHostsPath = join(dir, 'known_hosts');
  writeFileSync(knownHostsPath, `[127.0.0.1]:${port} ${hostPub}\n`);
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_ed25519')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AllowUsers ${user}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      `PermitRootLogin ${opts.root ? 'prohibit-password' : 'no'}`,
      'AllowTcpForwarding yes',
      'AllowStreamLocalForwarding yes',
      'StrictModes no',
      'MaxSessions 64',
      'LogLevel VERBOSE',
      'Subsystem sftp /usr/lib/openssh/sftp-server',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory
  const sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  sshd.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-64 * 1024)));
  // Wait until it accepts connections.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (sshd.exitCode !== null) throw new Error(`sshd exited: ${log}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on ${port}: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const fixture: SshdFixture = {
    user, uid, home, port, dir, sshd,
    keyPath: client.privateKeyPath,
    knownHostsPath,
    url: `ssh://${user}@127.0.0.1:${port}`,
    log: () => log,
    killConnections: () => {
      const monitors = childrenOf(sshd.pid!);
      const sessions = monitors.flatMap((m) => childrenOf(m).filter((c) => commOf(c) === 'sshd'));
      for (const pid of [...sessions, ...monitors]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      return [...monitors, ...sessions];
    },
    // For root: the processes of this sshd's sessions (its children's children), not all of root's.
    userPids: () => (opts.root ? childrenOf(sshd.pid!).flatMap((m) => childrenOf(m)) : pidsOfUser(user)),
    async stop() {
      if (sshd.exitCode === null) sshd.kill('SIGTERM');
      await new Promise((r) => (sshd.exitCode !== null ? r(null) : sshd.once('exit', r)));
      if (opts.root) {
        rmSync(dir, { recursive: true, force: true });
        return;
      }
      for (let i = 0; i < 20 && pidsOfUser(user).length; i++) {
        for (const pid of pidsOfUser(user)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      try {
        run('userdel', ['--remove', user]);
      } catch {
        /* home already gone */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}
