"""The object server's zvm cache (zerocloud.cache): private, keyed by what the server computed,
written whole or not at all, bounded."""
import os
import shutil
import tempfile
import unittest

from zerocloud.cache import ZvmCache, file_digest, private_dir


def writer(data):
    return lambda f: f.write(data)


class CacheTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.root = os.path.join(self.dir, 'cache')

    def tearDown(self):
        shutil.rmtree(self.dir)

    def read(self, fd):
        try:
            return os.pread(fd, 1 << 20, 0)
        finally:
            os.close(fd)

    def test_made_private_and_refused_when_open_to_others(self):
        ZvmCache(self.root, 1 << 20)
        self.assertEqual(os.stat(self.root).st_mode & 0o777, 0o700)
        shared = os.path.join(self.dir, 'shared')
        os.mkdir(shared, 0o755)
        os.chmod(shared, 0o755)
        with self.assertRaisesRegex(ValueError, 'not private'):
            ZvmCache(shared, 1 << 20)
        open(os.path.join(self.dir, 'file'), 'w').close()
        with self.assertRaisesRegex(ValueError, 'not a directory'):
            private_dir(os.path.join(self.dir, 'file'))

    def test_an_entry_is_made_once_and_keeps_its_identity(self):
        cache = ZvmCache(self.root, 1 << 20)
        calls = []

        def fill(f):
            calls.append(1)
            f.write(b'program')
        fd1 = cache.open('programs', ('sysimage', (1, 2), 'python'), fill)
        fd2 = cache.open('programs', ('sysimage', (1, 2), 'python'), fill)
        self.assertEqual(len(calls), 1)
        st1, st2 = os.fstat(fd1), os.fstat(fd2)
        self.assertEqual((st1.st_ino, st1.st_ctime_ns), (st2.st_ino, st2.st_ctime_ns))
        self.assertEqual(self.read(fd1), b'program')
        os.close(fd2)
        other = cache.open('programs', ('sysimage', (1, 3), 'python'), writer(b'other'))
        self.assertEqual(self.read(other), b'other')

    def test_a_failed_fill_leaves_nothing(self):
        cache = ZvmCache(self.root, 1 << 20)

        def fail(f):
            f.write(b'half')
            raise ValueError('no such member')
        with self.assertRaises(ValueError):
            cache.open('programs', ('x',), fail)
        self.assertEqual(os.listdir(os.path.join(self.root, 'programs')), [])

    def test_adopt_moves_a_file_in_by_its_digest(self):
        cache = ZvmCache(self.root, 1 << 20)
        src = os.path.join(self.dir, 'image.tar')
        with open(src, 'wb') as f:
            f.write(b'tar bytes')
        digest = file_digest(src)
        fd = cache.adopt('images', (digest,), src)
        self.assertFalse(os.path.exists(src))
        self.assertEqual(self.read(fd), b'tar bytes')
        self.assertEqual(os.listdir(os.path.join(self.root, 'images')),
                         [os.path.basename(cache.path('images', digest))])

    def test_trim_removes_the_least_recently_used_but_not_the_new_entry(self):
        cache = ZvmCache(self.root, 25)
        for name in ('a', 'b'):
            os.close(cache.open('programs', (name,), writer(b'x' * 10)))
        for name, used in (("a", 2), ("b", 1)):                 # made long ago; b used longest ago
            os.utime(cache.path("programs", name), (1, 1))
            cache.used[cache.path('programs', name)] = used
        os.close(cache.open('programs', ('c',), writer(b'x' * 10)))
        self.assertFalse(os.path.exists(cache.path('programs', 'b')))
        self.assertTrue(os.path.exists(cache.path('programs', 'a')))
        self.assertTrue(os.path.exists(cache.path('programs', 'c')))
        # an entry larger than the whole limit is still kept: the session needs it
        fd = cache.open('programs', ('big',), writer(b'x' * 100))
        self.assertEqual(len(self.read(fd)), 100)


if __name__ == '__main__':
    unittest.main()


class ServerCacheTest(unittest.TestCase):
    """The object server's configuration of the cache, and what it passes to zvm."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def server(self, **conf):
        from zerocloud.objectquery import ObjectQueryMiddleware
        conf.setdefault('devices', self.dir)
        conf.setdefault('mount_check', 'false')
        conf.setdefault('log_name', 'test')
        return ObjectQueryMiddleware(None, conf)

    def test_the_default_is_under_recon_cache_path(self):
        server = self.server(recon_cache_path=self.dir)
        root = os.path.join(self.dir, 'zvm')
        self.assertEqual(server.cache.root, root)
        self.assertEqual(server.cache_options(), ['--cache', root, '--cache-size', '4294967296'])

    def test_configured_off_and_sized(self):
        root = os.path.join(self.dir, 'c')
        server = self.server(zerovm_cache=root, zerovm_snapshots='no', zerovm_cache_size='1000')
        self.assertEqual(server.cache_options(), ['--cache', root, '--cache-size', '1000',
                                                  '--no-snapshot'])

    def test_a_cache_open_to_others_is_not_used(self):
        shared = os.path.join(self.dir, 'shared')
        os.mkdir(shared)
        os.chmod(shared, 0o755)
        server = self.server(zerovm_cache=shared)
        self.assertIsNone(server.cache)
        self.assertEqual(server.cache_options(), ['--no-snapshot'])
