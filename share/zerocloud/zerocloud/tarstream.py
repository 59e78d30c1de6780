"""A tar stream written as it goes: how the proxy and the object server pass a node's files.

The proxy sends one tar (node.json, then the program, image, script and inputs it fetched) and the
object server answers with one tar (result.json, then the outputs).  Writing is done here because a
member's data arrives as an iterator of chunks (from a Swift GET, or a file), which tarfile cannot
take.  The proxy reads the answer with tarfile's stream mode ('r|'); the object server reads the
request with read_members below, which never reads past the tar's end: a connected job's request
goes on after it (the addresses of the node's readers, sent once every node listens), and tarfile
reads ahead in 10 KiB records, which would wait for bytes the proxy sends only later.
"""

import tarfile
import time

BLOCK = 512
CHUNK = 65536


def header(name, size):
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(time.time())
    info.mode = 0o600
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def member(name, size, chunks):
    """Yields one member: its header, exactly `size` bytes from `chunks`, the padding.

    A source that ends early or runs long is an error (the tar would be corrupt)."""
    yield header(name, size)
    sent = 0
    for chunk in chunks:
        if not chunk:
            continue
        sent += len(chunk)
        if sent > size:
            raise IOError('tar member %s: more than the %d bytes announced' % (name, size))
        yield chunk
    if sent != size:
        raise IOError('tar member %s: %d bytes announced, %d sent' % (name, size, sent))
    if size % BLOCK:
        yield b'\0' * (BLOCK - size % BLOCK)


def end():
    yield b'\0' * (2 * BLOCK)


class MemberData:
    """One member's data, read from the stream: at most `size` bytes."""

    def __init__(self, src, size):
        self.src = src
        self.left = size

    def read(self, n=-1):
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = read_exact(self.src, n) if n else b''
        self.left -= len(data)
        return data

    def skip(self):
        while self.left:
            self.read(CHUNK)


def read_exact(src, n):
    data = src.read(n)
    while len(data) < n:
        more = src.read(n - len(data))
        if not more:
            raise EOFError('the tar stream ended early')
        data += more
    return data


def read_members(src):
    """Yields (TarInfo, MemberData) for each member of a tar written by member() and end(),
    reading exactly up to the end of the archive (its two zero blocks)."""
    while True:
        block = read_exact(src, BLOCK)
        if block == b'\0' * BLOCK:
            read_exact(src, BLOCK)
            return
        info = tarfile.TarInfo.frombuf(block, 'utf-8', 'surrogateescape')
        data = MemberData(src, info.size if info.isfile() else 0)
        yield info, data
        data.skip()
        if info.isfile() and info.size % BLOCK:
            read_exact(src, BLOCK - info.size % BLOCK)


def file_chunks(path, chunk_size=CHUNK):
    with open(path, 'rb') as f:
        while True:
            data = f.read(chunk_size)
            if not data:
                return
            yield data


def copy_stream(src, dst, limit=None, chunk_size=CHUNK):
    """Copies file-like src to dst; returns the byte count.  Raises IOError past `limit` bytes."""
    total = 0
    while True:
        data = src.read(chunk_size)
        if not data:
            return total
        total += len(data)
        if limit is not None and total > limit:
            raise IOError('more than %d bytes' % limit)
        dst.write(data)
