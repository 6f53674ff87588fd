import { describe, expect, it } from 'vitest';
import { parseDeb822Sources, parseOneLineSources, parseOsReleaseCodename, pickMirror } from '../../../../src/workload/build/rootfs/apt-sources.js';

const DEB822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

describe('apt sources', () => {
  it('reads the host codename from os-release', () => {
    expect(parseOsReleaseCodename('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n')).toBe('bookworm');
    expect(parseOsReleaseCodename('VERSION_CODENAME="trixie"\n')).toBe('trixie');
    expect(parseOsReleaseCodename('ID=debian\n')).toBeUndefined();
  });

  it('parses deb822 .sources and picks the mirror for the exact suite', () => {
    const s = parseDeb822Sources(DEB822);
    expect(s).toHaveLength(2);
    expect(s[0]).toMatchObject({ uris: ['http://deb.debian.org/debian'], suites: ['bookworm', 'bookworm-updates'], components: ['main'] });
    expect(pickMirror(s, 'bookworm')).toBe('http://deb.debian.org/debian');
    expect(pickMirror(s, 'trixie')).toBeUndefined();
  });

  it('skips disabled stanzas, deb-src and other components', () => {
    const text = `Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main

Types: deb deb-src
URIs: https://mirror.example/debian/
Suites: bookworm
Components: main contrib
`;
    expect(pickMirror(parseDeb822Sources(text), 'bookworm')).toBe('https://mirror.example/debian');
  });

  it('parses one-line sources.list, with [options] and comments', () => {
    const text = `# main mirror
deb-src http://src.example/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://ftp.example.org/debian/ bookworm main contrib non-free-firmware
deb http://security.debian.org/debian-security bookworm-security main
deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main
`;
    const s = parseOneLineSources(text);
    expect(s).toHaveLength(3);
    expect(s[0]).toMatchObject({ uris: ['http://ftp.example.org/debian/'], suites: ['bookworm'], components: ['main', 'contrib', 'non-free-firmware'] });
    expect(pickMirror(s, 'bookworm')).toBe('http://ftp.example.org/debian');
  });

  it('prefers http(s) over file: and cdrom: sources', () => {
    const s = parseOneLineSources('deb file:/srv/debian bookworm main\ndeb cdrom:[Debian]/ bookworm main\ndeb http://m.example/debian bookworm main\n');
    expect(pickMirror(s, 'bookworm')).toBe('http://m.example/debian');
    expect(pickMirror(parseOneLineSources('deb file:/srv/debian bookworm main\n'), 'bookworm')).toBe('file:/srv/debian');
  });
});
