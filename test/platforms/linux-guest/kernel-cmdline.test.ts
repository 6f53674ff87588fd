import { describe, expect, it } from 'vitest';
import { BenchError } from '../../../src/errors.js';
import { buildKernelCmdline, kernelCmdlineTemplate } from '../../../src/platforms/linux-guest/kernel-cmdline.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII0qdNs47CH6fcK4hUGD0VlEjr1NptCzGlXZXIRaybsA vmbench-r1-i0';

describe('buildKernelCmdline', () => {
  const base = { guestPort: 8080, threads: 2, modelName: 'model', authorizedKey: KEY };

  it('follows the boot contract (no tsc_early_khz unless given)', () => {
    const c = buildKernelCmdline(base);
    expect(c).toBe(
      `console=ttyS0 root=/dev/vda rw quiet panic=-1 vmbench.port=8080 vmbench.threads=2 vmbench.model_name=model vmbench.authkey=${Buffer.from(KEY).toString('base64')}`,
    );
    expect(c).not.toContain('tsc_early_khz');
  });

  it('passes the host TSC frequency when asked (microvm)', () => {
    expect(buildKernelCmdline({ ...base, tscKhz: 2596124.4 }).split(' ')).toContain('tsc_early_khz=2596124');
  });

  it('authkey decodes to the whole public key line; ip optional', () => {
    const c = buildKernelCmdline({ ...base, ip: '10.0.2.15/24' });
    const b64 = /vmbench\.authkey=(\S+)/.exec(c)![1]!;
    expect(Buffer.from(b64, 'base64').toString()).toBe(KEY);
    expect(c.split(' ')).toContain('vmbench.ip=10.0.2.15/24');
  });

  it('rejects model names, keys and addresses that would break the command line', () => {
    expect(() => buildKernelCmdline({ ...base, modelName: 'a b' })).toThrow(BenchError);
    expect(() => buildKernelCmdline({ ...base, authorizedKey: `${KEY}\nssh-ed25519 AAAA x` })).toThrow(BenchError);
    expect(() => buildKernelCmdline({ ...base, ip: '10.0.2.15/24 init=/bin/sh' })).toThrow(BenchError);
  });

  it('the Vagrantfile template is the same line with the per-instance values left open', () => {
    const t = kernelCmdlineTemplate();
    const filled = t.replace('%{threads}', '2').replace('%{authkey}', Buffer.from(KEY).toString('base64'));
    expect(filled).toBe(buildKernelCmdline(base).replace(' vmbench.model_name=model', ''));
  });
});
