"""Unit tests of the pure parts of ZeroCloud: the job description, manifest/nvram text, the report.

Run: PYTHONPATH=share/zerocloud /usr/bin/python3 -m unittest discover -s share/zerocloud/tests
(test/bats/zerocloud.bats runs them; the filters themselves are tested against a real Swift there).
"""

import json
import unittest

from zerocloud.job import JobError, SwiftPath, ImagePath, expand_job, parse_job, parse_shebang
from zerocloud.session import (Channel, RANDOM_READ, build_manifest, build_nvram, nvram_escape,
                               outcome, parse_report)

SYS = {'python'}


def job(*nodes):
    return json.dumps(list(nodes))


def node(name='n', path='file://python:python', devices=(), **kw):
    d = {'name': name, 'exec': {'path': path}, 'devices': list(devices)}
    d.update(kw)
    return d


def lister(objects):
    def list_objects(account, container, prefix):
        return [o for o in objects.get((account, container), []) if o.startswith(prefix)]
    return list_objects


class ParseJob(unittest.TestCase):
    def refuses(self, text, status, *words):
        with self.assertRaises(JobError) as cm:
            parse_job(text, SYS, 'AUTH_me')
        self.assertEqual(cm.exception.status, status, str(cm.exception))
        for w in words:
            self.assertIn(w, str(cm.exception))

    def test_minimal_node_mounts_its_system_image(self):
        g, = parse_job(job(node()), SYS, 'AUTH_me')
        self.assertIsInstance(g.program, ImagePath)
        self.assertEqual((g.program.image, g.program.member), ('python', 'python'))
        self.assertEqual([d.name for d in g.devices], ['python'])

    def test_caller_account_and_args(self):
        g, = parse_job(job(node(devices=[{'name': 'stdin', 'path': 'swift://~/c/o'}],
                                exec={'path': 'swift://./bin/prog', 'args': 'a  b', 'env': {'K': 'V'}})),
                       SYS, 'AUTH_me')
        self.assertEqual(g.program.url, 'swift://AUTH_me/bin/prog')
        self.assertEqual(g.devices[0].path.url, 'swift://AUTH_me/c/o')
        self.assertEqual(g.args, ['a', 'b'])
        self.assertEqual(g.env, {'K': 'V'})

    def test_args_string_is_zpms_escaped_form(self):
        # zpm writes exec.args as nvram does: each word's spaces, commas, quotes, backslashes as \xHH
        g, = parse_job(job(node(exec={'path': 'file://python:python',
                                      'args': r'two\x20words a\x2cb c\x5cd'})), SYS, 'AUTH_me')
        self.assertEqual(g.args, ['two words', 'a,b', 'c\\d'])

    def test_bad_jobs(self):
        self.refuses('[{"name": ', 400, 'malformed JSON')
        self.refuses('{}', 400, 'name')
        self.refuses('[]', 400, 'list of nodes')
        self.refuses(job(node(devices=[{'name': 'tape'}])), 400, 'unknown device', 'tape')
        self.refuses(job(node(path='file://java:java')), 400, 'unknown system image "java"', 'python')
        self.refuses(job(node(path='/bin/sh')), 400, 'host paths')
        self.refuses(job(node(path='hello.wasm')), 400, 'no "image" device')
        self.refuses(job(node(devices=[{'name': 'stdin'}])), 400, 'needs a "path"')
        self.refuses(job(node(devices=[{'name': 'stdin', 'path': 'swift://a/c'}])), 400,
                     'swift://<account>/<container>/<object>')
        self.refuses(job(node(devices=[{'name': 'stdin', 'path': 'swift://a/c*/o'}])), 400,
                     'only appear in the object name')
        self.refuses(job(node(devices=[{'name': 'stdout'}, {'name': 'stdout'}])), 400, 'twice')
        self.refuses(job(node(), node()), 400, 'used twice')
        self.refuses(job(node(count=0)), 400, 'count')
        self.refuses(job(node(devices=[{'name': 'stdout', 'mode': 'block'}])), 400, 'mode')
        self.refuses(job(node(devices=[{'name': 'python', 'path': 'swift://a/c/o'}])), 400,
                     'takes no path')

    def test_network_devices_are_not_supported(self):
        self.refuses(job(node(devices=[{'name': 'debug', 'path': 'tcp://h:1'}])), 501,
                     'not supported')
        self.refuses(job(node(connect='reduce')), 400, 'list of node names')


class Connect(unittest.TestCase):
    """connect: /dev/out/<dst> on the writers, /dev/in/<src> on the readers, any graph."""

    def expand(self, *nodes, objects=None):
        return expand_job(parse_job(job(*nodes), SYS, 'a'), lister(objects or {}))

    def test_mappers_to_one_reducer_in_listing_order(self):
        nodes = self.expand(
            node('map', devices=[{'name': 'stdin', 'path': 'swift://a/data/*.txt'}],
                 connect=['reduce']),
            node('reduce', devices=[{'name': 'stdout'}]),
            objects={('a', 'data'): ['b.txt', 'a.txt', 'c.txt']})
        self.assertEqual([n.name for n in nodes], ['map-1', 'map-2', 'map-3', 'reduce'])
        self.assertEqual(nodes[0].device('stdin').path.obj, 'b.txt')   # the listing's order
        self.assertEqual(nodes[0].connect_out, ['reduce'])
        self.assertEqual(nodes[3].connect_in, ['map-1', 'map-2', 'map-3'])
        self.assertEqual(nodes[3].connect_out, [])
        self.assertTrue(all(n.connected for n in nodes))

    def test_fan_out_and_fan_in_with_count_and_patterns(self):
        nodes = self.expand(node('split', connect=['work']), node('work', count=3, connect=['merge*']),
                            node('merge'))
        split, w1, w2, w3, merge = nodes
        self.assertEqual(split.connect_out, ['work-1', 'work-2', 'work-3'])
        self.assertEqual(w2.connect_in, ['split'])
        self.assertEqual(w2.connect_out, ['merge'])
        self.assertEqual(merge.connect_in, ['work-1', 'work-2', 'work-3'])

    def test_two_nodes_that_talk_both_ways(self):
        a, b = self.expand(node('a', connect=['b']), node('b', connect=['a']))
        self.assertEqual((a.connect_out, a.connect_in), (['b'], ['b']))
        self.assertEqual((b.connect_out, b.connect_in), (['a'], ['a']))

    def test_a_ring_of_three_single_nodes(self):
        nodes = self.expand(node('r1', connect=['r2']), node('r2', connect=['r3']),
                            node('r3', connect=['r1']))
        self.assertEqual([(n.name, n.connect_out, n.connect_in) for n in nodes],
                         [('r1', ['r2'], ['r3']), ('r2', ['r3'], ['r1']), ('r3', ['r1'], ['r2'])])

    def test_a_cycle_through_groups_keeps_every_edge_once(self):
        # workers report to a master that also feeds them: a cycle through a group of 2
        master, w1, w2 = self.expand(node('master', connect=['work']),
                                     node('work', count=2, connect=['master']))
        self.assertEqual(master.connect_out, ['work-1', 'work-2'])
        self.assertEqual(master.connect_in, ['work-1', 'work-2'])
        self.assertEqual((w1.connect_out, w1.connect_in), (['master'], ['master']))
        self.assertEqual((w2.connect_out, w2.connect_in), (['master'], ['master']))

    def test_a_single_node_can_be_named(self):
        nodes = self.expand(node('a', connect=['b-2']), node('b', count=2))
        self.assertEqual(nodes[0].connect_out, ['b-2'])
        self.assertEqual(nodes[1].connect_in, [])

    def test_refusals(self):
        with self.assertRaises(JobError) as cm:
            self.expand(node('a', connect=['nobody']))
        self.assertEqual(cm.exception.status, 400)
        self.assertIn('"nobody", which is no node of this job', str(cm.exception))
        with self.assertRaises(JobError) as cm:
            self.expand(node('a', count=2, connect=['a']))
        self.assertEqual(cm.exception.status, 400)
        self.assertIn('a-1 write to itself', str(cm.exception))


class Expand(unittest.TestCase):
    def test_wildcards_make_one_node_per_object(self):
        groups = parse_job(job(node('sort', devices=[
            {'name': 'stdin', 'path': 'swift://a/data/in*.txt'},
            {'name': 'stdout', 'path': 'swift://a/out/sorted*.txt'}])), SYS, 'a')
        nodes = expand_job(groups, lister({('a', 'data'): ['in1.txt', 'in_x.txt', 'other']}))
        self.assertEqual([n.name for n in nodes], ['sort-1', 'sort-2'])
        self.assertEqual([n.device('stdout').path.obj for n in nodes],
                         ['sorted1.txt', 'sorted_x.txt'])
        self.assertEqual(nodes[1].placement.path, SwiftPath('a', 'data', 'in_x.txt'))
        self.assertEqual(nodes[0].argv, ['sort-1'])

    def test_no_match_is_404(self):
        groups = parse_job(job(node(devices=[{'name': 'stdin', 'path': 'swift://a/c/x*'}])), SYS, 'a')
        with self.assertRaises(JobError) as cm:
            expand_job(groups, lister({}))
        self.assertEqual(cm.exception.status, 404)

    def test_a_shared_output_is_refused(self):
        groups = parse_job(job(node(devices=[{'name': 'stdin', 'path': 'swift://a/c/x*'},
                                             {'name': 'stdout', 'path': 'swift://a/c/out'}])),
                           SYS, 'a')
        with self.assertRaises(JobError) as cm:
            expand_job(groups, lister({('a', 'c'): ['x1']}))
        self.assertIn('every output path needs one', str(cm.exception))

    def test_count_numbers_outputs(self):
        groups = parse_job(job(node('w', count=3, devices=[
            {'name': 'stdout', 'path': 'swift://a/c/part-*'}])), SYS, 'a')
        nodes = expand_job(groups, lister({}))
        self.assertEqual([n.device('stdout').path.obj for n in nodes],
                         ['part-1', 'part-2', 'part-3'])
        self.assertIsNone(nodes[0].placement)

    def test_node_limit(self):
        groups = parse_job(job(node(count=5)), SYS, 'a')
        with self.assertRaises(JobError):
            expand_job(groups, lister({}), max_nodes=4)


class Shebang(unittest.TestCase):
    def test_program_and_arguments(self):
        self.assertEqual(parse_shebang(b'#!file://python:python -u\nprint(1)\n', SYS),
                         ('file://python:python', ['-u']))

    def test_refusals(self):
        for text in (b'print(1)', b'#!\n', b'#!/usr/bin/python\n'):
            with self.assertRaises(JobError):
                parse_shebang(text, SYS)


class Session(unittest.TestCase):
    def test_nvram(self):
        text = build_nvram(['prog', 'a b', 'c,d'], {'K': 'v "q"'}, ['/dev/python'],
                           [('/dev/stdin', 'file')])
        self.assertIn('args = prog a\\x20b c\\x2cd\n', text)
        self.assertIn('name=K, value=v\\x20\\x22q\\x22\n', text)
        self.assertIn('[fstab]\nchannel=/dev/python, mountpoint=/, access=ro, removable=no\n', text)
        self.assertIn('[mapping]\nchannel=/dev/stdin, mode=file\n', text)
        self.assertEqual(nvram_escape('\\\n'), '\\x5c\\x0a')

    def test_manifest(self):
        text = build_manifest('/s/program', 1 << 20, 7, [
            Channel('/s/in', '/dev/stdin', RANDOM_READ, readable=True),
            Channel('/s/out', '/dev/stdout', 0, writable=True, etag=True)], 10, 100, 1000)
        self.assertIn('Version = 20130611\nProgram = /s/program\nMemory = 1048576,0\nTimeout = 7\n',
                      text)
        self.assertIn('Channel = /s/in,/dev/stdin,1,0,10,100,0,0\n', text)
        self.assertIn('Channel = /s/out,/dev/stdout,0,1,0,0,10,1000\n', text)
        with self.assertRaises(ValueError):
            build_manifest('/p', 1, 1, [Channel('/a,b', '/dev/stdin', 0, readable=True)], 1, 1, 1)

    def test_report(self):
        r = parse_report(b'0\n0\n3\n/dev/stdout 0123 /dev/output 4567\n'
                         b'0.01 0.02 1 2 3 4 0 0 0 0\nok\n\n')
        self.assertEqual((r.validation, r.retcode, r.status), (0, 3, 'ok'))
        self.assertEqual(r.etag_of('/dev/output'), '4567')
        self.assertIsNone(r.etag_of('/dev/stderr'))
        self.assertEqual(outcome(0, r), (200, None))
        self.assertIsNone(parse_report('garbage'))
        self.assertEqual(outcome(14, None)[0], 500)

    def test_outcomes(self):
        timeout = parse_report('2\n0\n0\ndisable\n0.00 0.00 0 0 0 0 0 0 0 0\nsession timeout\n\n')
        self.assertEqual(outcome(4, timeout), (200, 'session timeout'))
        self.assertEqual(outcome(5, timeout)[0], 500)


class Headers(unittest.TestCase):
    def test_header_values_are_ascii_without_commas(self):
        from zerocloud.proxyquery import header_value
        self.assertEqual(header_value('a, b\nc'), 'a; b c')
        self.assertEqual(header_value('swift://a/d\u00e4t/o: not found'),
                         'swift://a/d%C3%A4t/o: not found')


if __name__ == '__main__':
    unittest.main()
