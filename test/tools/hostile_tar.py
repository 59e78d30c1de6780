#!/usr/bin/env python3
"""hostile_tar.py KIND OUT — writes a tar image a careless or hostile user could hand to zvm,
for test/bats/hostile.bats.  Everything is made here, at test time.

  million    1,000,000 empty members d/f0999999 .. d/f0000000 (reverse order), then d/last
             holding "last\\n"; gzip level 1 (about 8 MB, 512 MB inflated)
  bomb       one member of 1 GiB of zeros, gzip (about 1 MB)
  dotdot     a member ../x                       absolute   a member /abs/x
  symlinks   out1 -> ../../../etc/passwd, out2 -> /etc/passwd, loop1 <-> loop2, ok -> x, and x
  emptylink  a symlink with an empty target
  hardout    a hard link to ../x                 hardmissing  a hard link to a member not there
  hardloop   a hard link to itself
  sparse     a GNU sparse member (by GNU tar)    truncated  a member cut short
  nvram      a member dev/nvram (the path of a channel when mounted at /)
  longname   a member whose name is 300 bytes    longpath   a readable member, 40 parts of 100 bytes
"""
import gzip
import io
import os
import subprocess
import sys
import tarfile
import tempfile


def member(t, name, data=b'', **kw):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in kw.items():
        setattr(info, k, v)
    t.addfile(info, io.BytesIO(data))


def million(out):
    # Raw ustar headers, patched: tarfile takes minutes for a million members.
    template = bytearray(tarfile.TarInfo('d/f0000000').tobuf(tarfile.USTAR_FORMAT))
    template[148:156] = b'        '
    base = sum(template) - 7 * ord('0')       # the seven digits' share added back per name
    with gzip.open(out, 'wb', compresslevel=1) as z:
        chunk = []
        for i in range(999999, -1, -1):
            digits = b'%07d' % i
            h = template[:]
            h[3:10] = digits
            h[148:156] = b'%06o\0 ' % (base + sum(digits))
            chunk.append(bytes(h))
            if len(chunk) == 10000:
                z.write(b''.join(chunk))
                chunk = []
        z.write(b''.join(chunk))
        last = io.BytesIO()
        with tarfile.open(fileobj=last, mode='w', format=tarfile.USTAR_FORMAT) as t:
            member(t, 'd/last', b'last\n')
        z.write(last.getvalue())


class Zeros(io.RawIOBase):
    def __init__(self, n):
        self.left = n

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def bomb(out):
    with tarfile.open(out, 'w:gz', compresslevel=9) as t:
        info = tarfile.TarInfo('zeros')
        info.size = 1 << 30
        t.addfile(info, io.BufferedReader(Zeros(info.size), 1 << 20))


def sparse(out):
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, 'holes'), 'wb') as f:
            f.seek(1 << 20)
            f.write(b'end\n')
            f.seek(4 << 20)
            f.write(b'end\n')
        subprocess.run(['tar', '--format=gnu', '--sparse', '-C', d, '-cf', out, 'holes'], check=True)


def simple(kind, out):
    with tarfile.open(out, 'w', format=tarfile.PAX_FORMAT) as t:
        if kind == 'dotdot':
            member(t, '../x', b'escaped\n')
        elif kind == 'absolute':
            member(t, '/abs/x', b'inside after all\n')
        elif kind == 'symlinks':
            member(t, 'x', b'x\n')
            member(t, 'ok', type=tarfile.SYMTYPE, linkname='x')
            member(t, 'out1', type=tarfile.SYMTYPE, linkname='../../../etc/passwd')
            member(t, 'out2', type=tarfile.SYMTYPE, linkname='/etc/passwd')
            member(t, 'loop1', type=tarfile.SYMTYPE, linkname='loop2')
            member(t, 'loop2', type=tarfile.SYMTYPE, linkname='loop1')
        elif kind == 'emptylink':
            member(t, 'empty', type=tarfile.SYMTYPE, linkname='')
        elif kind == 'hardout':
            member(t, 'h', type=tarfile.LNKTYPE, linkname='../x')
        elif kind == 'hardmissing':
            member(t, 'h', type=tarfile.LNKTYPE, linkname='nothere')
        elif kind == 'hardloop':
            member(t, 'h', type=tarfile.LNKTYPE, linkname='h')
        elif kind == 'nvram':
            member(t, 'dev/nvram', b'[args]\nargs = evil\n')
        elif kind == 'longname':
            member(t, 'n' * 300, b'long\n')
        elif kind == 'longpath':
            member(t, '/'.join(['p' * 100] * 40), b'deep inside\n')
        else:
            sys.exit('hostile_tar.py: unknown kind ' + kind)


def truncated(out):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.USTAR_FORMAT) as t:
        member(t, 'cut', b'y' * 100000)
    with open(out, 'wb') as f:
        f.write(buf.getvalue()[:60000])


if __name__ == '__main__':
    kind, out = sys.argv[1], sys.argv[2]
    {'million': million, 'bomb': bomb, 'sparse': sparse, 'truncated': truncated}.get(
        kind, lambda o: simple(kind, o))(out)
