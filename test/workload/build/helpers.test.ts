import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchIds } from '../../../src/workload/build/artifact-store.js';
import { canonicalJson, sha256Json } from '../../../src/workload/build/file-hash.js';
import { hostPathIn } from '../../../src/workload/build/rootfs/guest-path.js';
import { parseAptShowVersion, parseMetapackageDepends } from '../../../src/workload/build/vm/kernel.js';
import { editGroup, editPasswd, editShadow } from '../../../src/workload/build/rootfs/rootfs.js';

describe('build helpers', () => {
  it('resolves the real kernel package behind the metapackage', () => {
    expect(parseMetapackageDepends('linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-56-cloud-amd64\n')).toBe('linux-image-6.1.0-56-cloud-amd64');
    expect(parseAptShowVersion('Package: linux-image-6.1.0-56-cloud-amd64\nSource: linux-signed-amd64 (6.1.192+2)\nVersion: 6.1.192-2\n')).toBe('6.1.192-2');
  });

  it('makes root usable by key only', () => {
    expect(editPasswd('root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n')).toBe(
      'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n' +
        'vmbench:x:10001:10001:vmbench workload:/nonexistent:/usr/sbin/nologin\n',
    );
    // Rebuilding over an edited file keeps one workload account, not two.
    const once = editPasswd('root:x:0:0:root:/root:/bin/bash\n');
    expect(editPasswd(once)).toBe(once);
    expect(editGroup('root:x:0:\nvmbench:x:1:\n\n')).toBe('root:x:0:\nvmbench:x:10001:\n');
    expect(editShadow('root::19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n')).toBe('root:*:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n');
  });

  it('never follows a link out of the rootfs', async () => {
    const root = await mkdtemp(join(tmpdir(), 'guest-path-test-'));
    try {
      await mkdir(join(root, 'usr/sbin'), { recursive: true });
      await mkdir(join(root, 'run'));
      await symlink('usr/sbin', join(root, 'sbin'));
      await symlink('/run/resolv.conf', join(root, 'resolv'));
      await symlink('/etc', join(root, 'hostetc'));
      expect(await hostPathIn(root, '/sbin/poweroff')).toBe(join(root, 'usr/sbin/poweroff'));
      expect(await hostPathIn(root, '/resolv')).toBe(join(root, 'run/resolv.conf'));
      expect(await hostPathIn(root, '/resolv', false)).toBe(join(root, 'resolv'));
      expect(await hostPathIn(root, '/hostetc/passwd')).toBe(join(root, 'etc/passwd'));
      expect(await hostPathIn(root, '/../../etc/passwd')).toBe(join(root, 'etc/passwd'));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('hashes inputs independently of key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: 3 } })).toBe('{"a":{"c":3,"d":[2,1]},"b":1}');
    expect(sha256Json({ x: 1, y: 2 })).toBe(sha256Json({ y: 2, x: 1 }));
  });

  it('matches artifact ids by unique prefix', () => {
    const ids = ['aa11' + '0'.repeat(60), 'aa22' + '0'.repeat(60), 'bb33' + '0'.repeat(60)];
    expect(matchIds(ids, ['bb', 'aa1'])).toEqual([ids[2], ids[0]]);
    expect(() => matchIds(ids, ['aa'])).toThrow(/ambiguous/);
    expect(() => matchIds(ids, ['cc'])).toThrow(/no artifact/);
  });
});
