"""A tar stream written as it goes: how the proxy and the object server pass a node's files.

The proxy sends one tar (node.json, then the program, image, script and inputs it fetched) and the
object server answers with one tar (result.json, then the outputs).  Both are read with tarfile's
stream mode ('r|'), so nothing is held in memory; writing is done here because a member's data
arrives as an iterator of chunks (from a Swift GET, or a file), which tarfile cannot take.
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
