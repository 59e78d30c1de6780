"""Unit tests of tarstream: the request tar is read exactly to its end, never past it (a connected
node's request goes on after it with the addresses of its readers)."""

import io
import tarfile
import unittest

from zerocloud.tarstream import end, member, read_members


class Strict(io.BytesIO):
    """A stream that fails a read reaching past `limit`: what waiting on the proxy would be."""

    def __init__(self, data, limit):
        super().__init__(data)
        self.limit = limit

    def read(self, n=-1):
        if n is None or n < 0 or self.tell() + n > self.limit:
            raise AssertionError('read past the tar: %r bytes at %d' % (n, self.tell()))
        return super().read(n)


def tar_of(*members):
    return b''.join(b''.join(member(name, len(data), [data])) for name, data in members) + \
        b''.join(end())


class ReadMembers(unittest.TestCase):
    def test_reads_members_and_stops_at_the_end(self):
        tar = tar_of(('node.json', b'{"a": 1}'), ('in.stdin', b'x' * 70000), ('in.empty', b''))
        src = Strict(tar + b'{"out/b": "127.0.0.1:1"}', len(tar))
        got = [(info.name, data.read()) for info, data in read_members(src)]
        self.assertEqual(got, [('node.json', b'{"a": 1}'), ('in.stdin', b'x' * 70000),
                               ('in.empty', b'')])
        self.assertEqual(src.tell(), len(tar))
        src.limit += 100
        self.assertEqual(src.read(24), b'{"out/b": "127.0.0.1:1"}')

    def test_unread_data_is_skipped(self):
        tar = tar_of(('program', b'p' * 1000), ('in.a', b'abc'))
        src = Strict(tar, len(tar))
        names = [info.name for info, _data in read_members(src)]
        self.assertEqual(names, ['program', 'in.a'])
        self.assertEqual(src.tell(), len(tar))

    def test_a_cut_stream_or_a_bad_header_is_an_error(self):
        tar = tar_of(('in.a', b'abc' * 300))
        with self.assertRaises(EOFError):
            for _info, data in read_members(io.BytesIO(tar[:1200])):
                data.read()
        with self.assertRaises(tarfile.TarError):
            list(read_members(io.BytesIO(b'not a tar header'.ljust(512, b'!'))))


if __name__ == '__main__':
    unittest.main()
