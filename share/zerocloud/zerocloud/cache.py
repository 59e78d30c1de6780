"""The object server's zvm cache: where zvm keeps its snapshots, and where this server keeps the
programs and images they depend on.

zvm resumes a snapshot only for the same program and images *by file identity* (device, inode,
size, mtime, ctime: a file replaced or changed is a new identity).  A program extracted from an
image, or an image the proxy streamed, lands in a new file for every session, so no snapshot would
ever match.  So this server keeps them here, each under a name that says what it is:

  <root>/programs/<sha256>.wasm   a program taken from a system image (key: the image's file
                                  identity and the member), from the job's image (key: the image's
                                  content digest and the member), or sent as a file (key: its
                                  content digest)
  <root>/images/<sha256>.tar      the job's image (key: its content digest, as a plain tar)
  <root>/snapshots/, validated/   zvm's own (see zvm(1))

Every key is computed here, from content this server read or from a file it was configured with;
nothing in a request names an entry, so a job cannot plant a program, an image or a snapshot for
another.  Entries are written to a temporary name and renamed into place, never changed after; the
directory is the server's own, 0700 (zvm refuses anything else).  The programs and images are
bounded by a size: past it the least recently used go first (zvm bounds its snapshots and the
programs the same way when it writes a snapshot; names starting with '.' are files being written,
which neither counts).  A session holds each entry it uses
open (zvm opens it as /proc/<server>/fd/<n>), so an entry removed meanwhile stays readable to it.
"""

import hashlib
import os
import stat
import tempfile
import time

KINDS = {'programs': '.wasm', 'images': '.tar'}


def private_dir(path):
    """Makes path (0700, parents too) unless it exists; raises ValueError saying why it cannot be
    the cache: not a directory, not owned by this server's user, or open to others."""
    try:
        if not os.path.lexists(path):
            os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
    except OSError as e:
        raise ValueError('cannot make %s: %s' % (path, e.strerror or e))
    if not stat.S_ISDIR(st.st_mode):
        raise ValueError('%s is not a directory' % path)
    if st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise ValueError('%s is not private: it must be owned by uid %d (this server) with mode '
                         '0700 (it is uid %d, mode %04o)' % (path, os.geteuid(), st.st_uid,
                                                            stat.S_IMODE(st.st_mode)))


def identity(st):
    """What zvm takes for a file's identity (os.stat_result)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def file_digest(path, chunk=1 << 20):
    """SHA-256 (hex) of a file's content."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        while True:
            block = f.read(chunk)
            if not block:
                return h.hexdigest()
            h.update(block)


class ZvmCache:
    """The cache directory; `limit` bounds the bytes of programs and images kept."""

    def __init__(self, root, limit):
        self.root = root
        self.limit = limit
        self.used = {}               # entry path -> when a session of this server last took it
        private_dir(root)
        for kind in KINDS:
            private_dir(os.path.join(root, kind))

    def path(self, kind, *key):
        """The entry of `kind` for a key made of strings and numbers."""
        h = hashlib.sha256()
        for part in (kind,) + key:
            h.update(repr(part).encode('utf-8') + b'\0')
        return os.path.join(self.root, kind, h.hexdigest() + KINDS[kind])

    def open(self, kind, key, fill):
        """An open descriptor of the entry for key, made first when missing by fill(file object)
        (which may raise: nothing is kept then)."""
        path = self.path(kind, *key)
        fd = self._open(path)
        if fd is None:
            self._write(path, fill)
            fd = self._open(path)
            if fd is None:
                raise OSError('the cache entry %s vanished as it was made' % path)
        self.used[path] = time.time()
        return fd

    def adopt(self, kind, key, source):
        """Like open(), the entry made by moving the file `source` in (copying it when the cache
        is on another file system); source is gone afterwards either way."""
        def fill(f):
            with open(source, 'rb') as src:
                while True:
                    block = src.read(1 << 20)
                    if not block:
                        break
                    f.write(block)
        path = self.path(kind, *key)
        try:
            if not os.path.exists(path):
                try:
                    os.chmod(source, 0o600)
                    os.rename(source, path)
                    self.trim(keep=path)
                except OSError:
                    pass
            return self.open(kind, key, fill)
        finally:
            if os.path.exists(source):
                os.unlink(source)

    @staticmethod
    def _open(path):
        """The entry open, or None when there is none (or it is not a regular file we own)."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except FileNotFoundError:
            return None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            os.close(fd)
            return None
        return fd

    def _write(self, path, fill):
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.tmp-')
        try:
            with os.fdopen(fd, 'wb') as f:
                fill(f)
            os.rename(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        self.trim(keep=path)

    def trim(self, keep=None):
        """Removes the least recently used programs and images until they fit in the limit (never
        `keep`, the entry just made).  Last use is what this server saw, else when it was made: an
        entry is never touched, as that would change its identity."""
        entries, total = [], 0
        for kind in KINDS:
            folder = os.path.join(self.root, kind)
            for name in os.listdir(folder):
                p = os.path.join(folder, name)
                try:
                    st = os.lstat(p)
                except FileNotFoundError:
                    continue
                total += st.st_size
                if p != keep and not name.startswith('.tmp-'):
                    entries.append((max(st.st_mtime, self.used.get(p, 0)), st.st_size, p))
        for _when, size, p in sorted(entries):
            if total <= self.limit:
                break
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
            self.used.pop(p, None)
            total -= size
