import { describe, expect, it } from 'vitest';
import { importsOf } from '../../../src/platforms/remote/agent/bundle.js';
import { parseSha256sum } from '../../../src/platforms/remote/remote-cache.js';
import { shellLine, shq } from '../../../src/platforms/remote/ssh-connection.js';
import { stepCategory } from '../../../src/runner/step-loop.js';
import { BenchError } from '../../../src/errors.js';

describe('remote helpers', () => {
  it('quotes every argument for the remote shell', () => {
    expect(shq('/a/b-c_d.e')).toBe('/a/b-c_d.e');
    expect(shq("it's $HOME; rm -rf /")).toBe(`'it'\\''s $HOME; rm -rf /'`);
    expect(shellLine(['qemu', '-append', 'console=ttyS0 root=/dev/vda'])).toBe("qemu -append 'console=ttyS0 root=/dev/vda'");
  });

  it('reads sha256sum output', () => {
    const h = 'a'.repeat(64);
    expect(parseSha256sum(`${h}  /x/disk.qcow2\n`)).toBe(h);
    expect(parseSha256sum('sha256sum: /x: No such file')).toBeNull();
  });

  it('follows a compiled module\'s imports (relative files and packages)', () => {
    const src = `import { a } from './a.js';\nexport { b } from "../b.js";\nimport x from 'hdr-histogram-js';\nimport '@scope/pkg/sub';\nimport os from 'node:os';\nconst m = await import('./lazy.js');`;
    expect(importsOf(src)).toEqual({ relative: ['./a.js', '../b.js', './lazy.js'], packages: ['hdr-histogram-js', '@scope/pkg'] });
  });

  it('files a step as host_unreachable when its error says so or the host connection was lost meanwhile', () => {
    const local = { hostLostSince: () => null };
    const lost = { hostLostSince: (t: number) => (t <= 10 ? 'the SSH connection to kvm was lost' : null) };
    expect(stepCategory(new BenchError('infrastructure', 'x', { category: 'host_unreachable' }), local, 0)).toBe('host_unreachable');
    expect(stepCategory(new Error('socket hang up'), lost, 5)).toBe('host_unreachable');
    expect(stepCategory(new Error('socket hang up'), lost, 20)).not.toBe('host_unreachable');
    expect(stepCategory(new Error('socket hang up'), local, 0)).not.toBe('host_unreachable');
    // These stop the run whatever became of the connection.
    expect(stepCategory(new BenchError('mismatch', 'outputs differ'), lost, 0)).toBe('mismatch');
    expect(stepCategory(new BenchError('interrupted', 'ctrl-c'), lost, 0)).toBe('interrupted');
  });
});
