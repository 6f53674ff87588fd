import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installGuestBits, parseLdd, passwdWithRootShell, rootHome, shadowWithoutBlankRoot, toolBundle } from '../../../../src/workload/build/image/guest-bits.js';
import { serverCommand } from '../../../../src/workload/build/image/image-init.js';
import { hostStaticBusybox } from '../../../../src/workload/build/rootfs/busybox.js';

const LDD = `\tlinux-vdso.so.1 (0x00007ffd)
\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f1)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f3)
`;

describe('guest bits: pure parts', () => {
  it('parseLdd finds the libraries and the loader, skipping the vDSO', () => {
    expect(parseLdd(LDD)).toEqual({
      libs: [
        { name: 'libz.so.1', path: '/lib/x86_64-linux-gnu/libz.so.1' },
        { name: 'libc.so.6', path: '/lib/x86_64-linux-gnu/libc.so.6' },
      ],
      loader: '/lib64/ld-linux-x86-64.so.2',
    });
  });

  it("root's shell becomes the bundled one; a passwd without root gets one; other users are untouched", () => {
    expect(passwdWithRootShell('root:x:0:0:root:/root:/bin/bash\nmodel:x:1000:1000::/srv:/usr/sbin/nologin\n')).toBe(
      'root:x:0:0:root:/root:/.vmbench/bin/sh\nmodel:x:1000:1000::/srv:/usr/sbin/nologin\n',
    );
    expect(passwdWithRootShell(null)).toBe('root:x:0:0:root:/root:/.vmbench/bin/sh\n');
    expect(shadowWithoutBlankRoot('root::19000:0:99999:7:::\nx::1:::::')).toBe('root:*:19000:0:99999:7:::\nx::1:::::');
    expect(shadowWithoutBlankRoot('root:$y$hash:1::::::')).toBe('root:$y$hash:1::::::');
    expect(rootHome('root:x:0:0::/var/root:/bin/sh\n')).toBe('/var/root');
    expect(rootHome('')).toBe('/root');
  });
});

/**
 * The claim "any libc or none": guest bits installed into an image that has
 * nothing at all (no /bin/sh, no libc, no passwd), then run from inside it
 * with chroot — the bundled dropbear through its own loader, and the
 * server's command line exactly as the VM's init runs it (user, groups,
 * env, working directory). Needs root (chroot, setpriv), as artifact
 * builds do.
 */
describe.skipIf(process.getuid?.() !== 0)('guest bits in an empty image (chroot, real binaries)', () => {
  let work: string;
  let root: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'guest-bits-test-'));
    root = join(work, 'root');
    await mkdir(join(root, 'srv'), { recursive: true });
    const key = join(work, 'hostkey');
    await writeFile(key, 'not a real key: only copied');
    await installGuestBits(root, { busybox: await hostStaticBusybox(), hostKey: key, tools: await toolBundle(), init: '#!/.vmbench/bin/busybox sh\n' });
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('adds root with the bundled shell, the mount points, /tmp sticky, and nothing of the host outside /.vmbench but those', async () => {
    expect(await readFile(join(root, 'etc/passwd'), 'utf8')).toBe('root:x:0:0:root:/root:/.vmbench/bin/sh\n');
    expect(await readFile(join(root, 'etc/shells'), 'utf8')).toBe('/.vmbench/bin/sh\n');
    expect((await stat(join(root, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect((await stat(join(root, '.vmbench/dropbear_ed25519_host_key'))).mode & 0o777).toBe(0o600);
  });

  it('the bundled dropbear runs inside an image with no libc of its own', () => {
    expect(() => execFileSync('chroot', [root, '/bin/sh', '-c', 'true'], { stdio: 'ignore' })).toThrow(); // really nothing of its own
    const r = spawnSync('chroot', [root, '/.vmbench/bin/dropbear', '-V'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^Dropbear v\d/m);
  });

  it("the server's command line runs as the image's user, with only the image's env, in its working directory", () => {
    const launch = {
      entrypoint: ['/.vmbench/bin/busybox', 'sh', '-c'],
      cmd: ['echo "$(id -u) $(id -g) $(id -G) $(pwd) A=$A HOME=$HOME LEAK=${LEAK:-none}"'],
      env: ['PATH=/.vmbench/bin', 'A=x y'],
      workingDir: '/srv',
      user: '1000',
      port: 8000,
      stopSignal: 'SIGTERM',
    };
    const cmd = `cd /srv && ${serverCommand(launch, { uid: 1000, gid: 1001, groups: [29, 44], home: '/srv' })}`;
    const out = execFileSync('chroot', [root, '/.vmbench/bin/sh', '-c', cmd], { encoding: 'utf8', env: { LEAK: 'host', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } }).trim();
    expect(out).toBe('1000 1001 1001 29 44 /srv A=x y HOME=/srv LEAK=none');
  });
});
