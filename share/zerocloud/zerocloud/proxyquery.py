"""ZeroCloud's proxy filter: takes a job, places its nodes next to their data, merges the results.

`POST /v1/<account>[/<container>/<object>]` with `X-Zerovm-Execute: 1.0` is a job; by Content-Type:
  application/json                         a job description (zerocloud.job)
  application/x-tar, x-gtar, x-ustar, x-gzip   a bundle: its boot/system.map is the job, the bundle
                                           itself is every node's `image` device
  anything else                            a script whose shebang names the program
                                           (`#!file://python:python`), run as `<program> /dev/script`
A POST to an object gives that object as stdin to every node that does not name one.

For each request the filter: parses and checks the job (4xx with a message when it is wrong, 501 for
what is not built: network devices); expands wildcards through container
listings; checks that every input exists and may be read, and that every output's container exists
and may be written (the caller's own credentials: every read and write is a subrequest through the
rest of the pipeline, which calls `swift.authorize`); then sends each node to an object server
holding its input (the object ring's primary for that object; any object server when the node has no
object input), streaming the program and the other inputs with it. When all nodes are done, it PUTs
the `swift://` outputs (ETag = the MD5 zvm computed for the channel, so Swift checks what it stores)
and answers with the path-less outputs as the body, the X-Nexe-* headers merged over the nodes, and
the worst status.

A connected job (`connect`, see zerocloud.job) runs all its nodes at once, wired by network
channels, in two phases, so that its channels may form any graph (cycles included): each channel
gets a secret token; every node is sent to its object server, which binds a socket per channel the
node reads and answers at once with their ports (X-Zerocloud-Listen) but leaves the request open;
once every node listens, each node's request is ended with the addresses of the nodes it writes to,
and only then does its zvm start (ObjectQuery binds, zvm listens on the passed socket; channels
connect at their first transfer, so the order in which the zvm processes start does not matter).
If a node cannot be started, no node runs.  Its outputs are held (spooled) until every node has
ended `ok` with return code 0, and stored only then.

Configuration ([filter:zerovm] in proxy-server.conf):
  zerovm_sysimage_devices = python /path/to/python.tar   names accepted in jobs (paths matter on
                                                         the object servers)
  zerovm_timeout = 10        session timeout (the object servers enforce theirs; used for waiting)
  zerovm_kill_timeout = 5    grace the object servers add before killing zvm
  zerovm_maxconfig = 65536   largest job description or script, bytes
  zerovm_maxinput = 1073741824   largest bundle, bytes
  zerovm_maxnodes = 1000     nodes one job may expand to
  zerovm_default_content_type = application/octet-stream   for outputs stored without one
"""

import json
import os
import random
import secrets
import tarfile
import tempfile
import time
from urllib.parse import quote, urlencode

from eventlet import GreenPile, Timeout
from swift.common.bufferedhttp import http_connect
from swift.common.exceptions import ChunkReadTimeout, ChunkWriteTimeout, ConnectionTimeout
from swift.common.storage_policy import POLICIES
from swift.common.swob import HTTPException, Request, Response, str_to_wsgi, wsgi_to_str
from swift.common.utils import get_logger
from swift.common.wsgi import make_subrequest
from swift.proxy.controllers.base import get_container_info

from zerocloud import EXECUTE_HEADER
from zerocloud.job import (DEVICES, Device, Group, ImagePath, JobError, SwiftPath, SYSIMAGE,
                           expand_job, parse_job, parse_program, parse_shebang)
from zerocloud.objectquery import parse_sysimages
from zerocloud.session import Report
from zerocloud.tarstream import CHUNK, end, member

TAR_TYPES = ('application/x-tar', 'application/x-gtar', 'application/x-ustar', 'application/x-gzip',
             'application/gzip')
SPOOL = 1 << 20


def text_response(status, message, headers=None):
    return Response(status=status, body=(message.rstrip('\n') + '\n').encode('utf-8'),
                    content_type='text/plain', headers=headers or {})


def header_value(text):
    """A value safe inside a comma-separated header: no commas, no line breaks, ASCII only
    (non-ASCII, e.g. in an object name, percent-encoded as in a URL)."""
    text = ' '.join(str(text).replace(',', ';').split())
    return quote(text, safe=''.join(chr(c) for c in range(0x20, 0x7f)))


class RequestData:
    """The POST body a node reads (a script, a bundle): kept in an unnamed temp file, read by
    offset so that nodes sending at the same time do not share a file position."""

    def __init__(self, wsgi_input, limit, what):
        self.file = tempfile.TemporaryFile()
        self.size = 0
        while True:
            chunk = wsgi_input.read(CHUNK)
            if not chunk:
                break
            self.size += len(chunk)
            if self.size > limit:
                self.file.close()
                raise JobError('%s is larger than the %d bytes this cluster takes' % (what, limit),
                               status=413)
            self.file.write(chunk)
        self.file.flush()

    def read_all(self):
        return os.pread(self.file.fileno(), self.size, 0)

    def chunks(self):
        offset = 0
        while offset < self.size:
            data = os.pread(self.file.fileno(), min(CHUNK, self.size - offset), offset)
            if not data:
                raise IOError('the request body shrank')
            offset += len(data)
            yield data

    def close(self):
        self.file.close()


class TimedReader:
    """The object server's answer, each read bounded by node_timeout (a stalled server is an
    error, however long the outputs being stored take)."""

    def __init__(self, resp, timeout):
        self.resp = resp
        self.timeout = timeout

    def read(self, size=-1):
        with ChunkReadTimeout(self.timeout):
            return self.resp.read(size)


class NodeResult:
    def __init__(self, name, status, error=None, report=None, elapsed=0.0):
        self.name = name
        self.status = status
        self.error = error
        self.report = report
        self.elapsed = elapsed
        self.server = None             # "ip:port" of the object server that ran it
        self.body = []                 # [(spooled file, content type)] for path-less outputs
        self.held = []                 # connected jobs: [(device, size, spooled file)] to store

    @property
    def ended_well(self):
        return self.status == 200 and self.report is not None and self.report.status == 'ok' \
            and self.report.retcode == 0


class Started:
    """A node its object server has taken: the connection, and the answer's headers read."""

    def __init__(self, node, conn, resp, server, where):
        self.node = node
        self.conn = conn
        self.resp = resp
        self.server = server          # "ip:port"
        self.where = where            # "ip:port/device", for messages

    def ports(self):
        """A connected node's listening ports: {"in/<src>": port} (X-Zerocloud-Listen)."""
        try:
            ports = json.loads(self.resp.getheader('X-Zerocloud-Listen') or '{}')
        except ValueError:
            ports = None
        return ports if isinstance(ports, dict) else {}


def spool(source):
    """A readable file's content in a spooled temporary file, rewound."""
    f = tempfile.SpooledTemporaryFile(max_size=SPOOL)
    while True:
        chunk = source.read(CHUNK)
        if not chunk:
            break
        f.write(chunk)
    f.seek(0)
    return f


class ProxyQueryMiddleware:
    def __init__(self, app, conf):
        self.app = app
        self.logger = get_logger(conf, log_route='zerocloud-proxy')
        self.sysimages = set(parse_sysimages(conf.get('zerovm_sysimage_devices', '')))
        self.timeout = int(conf.get('zerovm_timeout', 10))
        self.kill_timeout = float(conf.get('zerovm_kill_timeout', 5))
        self.maxconfig = int(conf.get('zerovm_maxconfig', 65536))
        self.maxinput = int(conf.get('zerovm_maxinput', 1073741824))
        self.maxnodes = int(conf.get('zerovm_maxnodes', 1000))
        self.default_content_type = conf.get('zerovm_default_content_type',
                                             'application/octet-stream')
        self.swift_dir = conf.get('swift_dir', '/etc/swift')
        self.conn_timeout = float(conf.get('conn_timeout', 0.5))
        self.node_timeout = float(conf.get('node_timeout', 10))

    def __call__(self, env, start_response):
        if env.get('REQUEST_METHOD') != 'POST' or \
                'HTTP_' + EXECUTE_HEADER.upper().replace('-', '_') not in env:
            return self.app(env, start_response)
        req = Request(env)
        try:
            resp = self.handle(req)
        except JobError as e:
            resp = text_response(e.status, str(e))
        except HTTPException as e:
            resp = e
        return resp(env, start_response)

    # --- the job -------------------------------------------------------------------------------

    def handle(self, req):
        started = time.time()
        try:
            version, account, container, obj = req.split_path(2, 4, True)
        except ValueError:
            return text_response(400, 'zerocloud: POST a job to /v1/<account> or to an object')
        if container and not obj:
            return text_response(400, 'zerocloud: POST a job to /v1/<account> or to an object, '
                                 'not to a container')
        if 'swift.authorize' in req.environ:
            denied = req.environ['swift.authorize'](req)
            if denied:
                return denied
        caller = wsgi_to_str(account)
        ctype = req.headers.get('Content-Type', '').split(';')[0].strip().lower()
        data = None
        try:
            if ctype == 'application/json':
                text = self.read_small(req, 'the job description')
                groups = parse_job(text, self.sysimages, caller)
            elif ctype in TAR_TYPES:
                data = RequestData(req.environ['wsgi.input'], self.maxinput, 'the bundle')
                groups = self.bundle_job(data, caller)
            else:
                data = RequestData(req.environ['wsgi.input'], self.maxconfig, 'the script')
                groups = [self.script_group(data, caller)]
            if obj:
                stdin = SwiftPath(caller, wsgi_to_str(container), wsgi_to_str(obj))
                for g in groups:
                    if not any(d.name == 'stdin' for d in g.devices):
                        g.devices.insert(0, Device('stdin', DEVICES['stdin'], stdin))
            nodes = expand_job(groups, lambda a, c, p: self.list_objects(req, a, c, p),
                               self.maxnodes)
            self.check_access(req, nodes)
            note = None
            if any(n.connected for n in nodes):
                results = self.run_connected(req, nodes, data)
                note = self.store_held(req, nodes, results)
            else:
                results = self.run_nodes(req, nodes, data)
        finally:
            if data is not None:
                data.close()
        return self.respond(results, time.time() - started, note)

    def read_small(self, req, what):
        body = b''
        while len(body) <= self.maxconfig:
            chunk = req.environ['wsgi.input'].read(self.maxconfig + 1 - len(body))
            if not chunk:
                break
            body += chunk
        if len(body) > self.maxconfig:
            raise JobError('%s is larger than %d bytes (zerovm_maxconfig)' % (what, self.maxconfig),
                           status=413)
        return body

    def bundle_job(self, data, caller):
        """The job of a bundle (boot/system.map); the bundle becomes each node's image."""
        try:
            copy = os.fdopen(os.dup(data.file.fileno()), 'rb')
            copy.seek(0)
            with copy, tarfile.open(fileobj=copy, mode='r:*') as tar:
                if tar.next() is None:
                    raise JobError('the bundle is not a readable tar or gzipped tar (no files in it)')
                info = None
                for name in ('boot/system.map', './boot/system.map'):
                    try:
                        info = tar.getmember(name)
                        break
                    except KeyError:
                        pass
                if info is None or not info.isfile():
                    raise JobError('the bundle has no boot/system.map (the job description); '
                                   'build it with "zpm bundle"')
                if info.size > self.maxconfig:
                    raise JobError('boot/system.map is larger than %d bytes' % self.maxconfig,
                                   status=413)
                text = tar.extractfile(info).read()
        except (tarfile.TarError, EOFError, OSError) as e:
            raise JobError('the bundle is not a readable tar or gzipped tar: %s' % e)
        return parse_job(text, self.sysimages, caller, where='boot/system.map', bundle=True)

    def script_group(self, data, caller):
        script = data.read_all()
        path, extra = parse_shebang(script, self.sysimages)
        program = parse_program(path, self.sysimages, caller, 'script: shebang')
        if isinstance(program, ImagePath) and program.image == 'image':
            raise JobError('script: shebang "%s" names no system image; use '
                           '"#!file://<image>:<path>" (this cluster has: %s)'
                           % (path, ', '.join(sorted(self.sysimages)) or 'none'))
        argv0 = os.path.basename(program.member if isinstance(program, ImagePath) else program.obj)
        devices = [Device('script', DEVICES['script'], from_request=True), Device('stdout', DEVICES['stdout'], content_type='text/plain'),
                   Device('stderr', DEVICES['stderr'])]
        if isinstance(program, ImagePath):
            devices.append(Device(program.image, SYSIMAGE))
        return Group('script', program, argv0, extra + ['/dev/script'], {}, devices, 1, None)

    # --- Swift subrequests, with the caller's credentials ----------------------------------------

    def subrequest(self, req, method, path, headers=None, query=None):
        sub = make_subrequest(req.environ, method=method, path=str_to_wsgi(path), headers=headers,
                              agent='%(orig)s ZeroCloud', swift_source='ZC')
        if query is not None:
            sub.environ['QUERY_STRING'] = query
        return sub

    def list_objects(self, req, account, container, prefix):
        marker = ''
        while True:
            query = urlencode({'format': 'json', 'prefix': prefix, 'marker': marker})
            resp = self.subrequest(req, 'GET', '/v1/%s/%s' % (account, container), query=query) \
                .get_response(self.app)
            where = 'swift://%s/%s' % (account, container)
            if resp.status_int == 404:
                raise JobError('%s: container not found' % where, status=404)
            if resp.status_int in (401, 403):
                raise JobError('%s: you may not list this container' % where, status=403)
            if resp.status_int == 204:
                return
            if not resp.is_success:
                raise JobError('%s: listing failed: %s' % (where, resp.status), status=503)
            items = json.loads(resp.body)
            if not items:
                return
            for item in items:
                yield item['name']
            marker = items[-1]['name']

    def check_access(self, req, nodes):
        """Every input exists and may be read; every output's container exists and may be written."""
        readable, writable = {}, {}
        for node in nodes:
            if isinstance(node.program, SwiftPath):
                readable[node.program.url] = node.program
            for d in node.devices:
                if d.path is None:
                    continue
                if d.kind.readable:
                    readable[d.path.url] = d.path
                elif d.kind.writable:
                    writable[d.path.url] = d.path
        # Objects a wildcard found were just listed (the container may be read, they exist).
        heads = GreenPile(16)
        for url, p in readable.items():
            if not p.listed:
                heads.spawn(self.check_readable, req, url, p)
        for error in heads:
            if error:
                raise error
        containers = {}
        for url, p in writable.items():
            if 'swift.authorize' in req.environ:
                sub = self.subrequest(req, 'PUT', '/v1/%s/%s/%s' % (p.account, p.container, p.obj))
                if req.environ['swift.authorize'](sub):
                    raise JobError('%s: you may not write this object' % url, status=403)
            key = (p.account, p.container)
            if key not in containers:
                env = self.subrequest(req, 'HEAD', '/v1/%s/%s' % key).environ
                containers[key] = get_container_info(env, self.app, swift_source='ZC')
            if not 200 <= containers[key]['status'] < 300:
                raise JobError('%s: container swift://%s/%s does not exist; create it first'
                               % (url, p.account, p.container), status=404)

    def check_readable(self, req, url, p):
        """None if the object exists and the caller may read it, else the JobError to answer."""
        resp = self.subrequest(req, 'HEAD', '/v1/%s/%s/%s' % (p.account, p.container, p.obj)) \
            .get_response(self.app)
        if resp.status_int == 404:
            return JobError('%s: object not found' % url, status=404)
        if resp.status_int in (401, 403):
            return JobError('%s: you may not read this object' % url, status=403)
        if not resp.is_success:
            return JobError('%s: Swift answered %s' % (url, resp.status), status=503)
        return None

    # --- placing and running nodes ---------------------------------------------------------------

    def targets(self, req, node):
        """[(ring node, partition, object path or None, policy index)] to try, best first."""
        place = node.placement
        if place is not None:
            p = place.path
            env = self.subrequest(req, 'HEAD', '/v1/%s/%s' % (p.account, p.container)).environ
            info = get_container_info(env, self.app, swift_source='ZC')
            policy = POLICIES.get_by_index(info.get('storage_policy') or 0)
            if policy is not None and policy.policy_type == 'replication':
                ring = POLICIES.get_object_ring(int(policy), self.swift_dir)
                # native strings, as Swift's own object controller gives the ring and backends
                part, primaries = ring.get_nodes(p.account, p.container, p.obj)
                path = '/%s/%s/%s' % (p.account, p.container, p.obj)
                return [(dev, part, path, int(policy)) for dev in primaries], place
        ring = POLICIES.get_object_ring(int(POLICIES.default), self.swift_dir)
        devs = [d for d in ring.devs if d]
        random.shuffle(devs)
        return [(dev, 0, None, int(POLICIES.default)) for dev in devs[:3]], None

    def plan(self, req, node, local, data, tokens=None):
        """node.json and the members to stream with it: [(name, size, chunk iterator factory)]."""
        members = []
        prog = node.program
        if isinstance(prog, SwiftPath):
            program = {'from': 'member'}
            members.append(('program', prog))
        elif prog.image == 'image':
            program = {'from': 'image', 'member': prog.member}
        else:
            program = {'from': 'sysimage', 'image': prog.image, 'member': prog.member}
        channels = []
        for d in node.devices:
            ch = {'device': d.name, 'random': d.kind.random, 'mounted': d.kind.mounted}
            if d.mode:
                ch['mode'] = d.mode
            elif d.name == 'script':
                ch['mode'] = 'file'        # an interpreter opens it as a regular file
            if d.kind.writable:
                ch.update({'writable': True, 'return': True})
            elif d.kind.sysimage:
                ch['source'] = 'sysimage'
            elif d.from_request:
                ch['source'] = 'member'
                members.append(('in.' + d.name, data))
            elif local is not None and d is local:
                ch['source'] = 'local'
            else:
                ch['source'] = 'member'
                members.append(('in.' + d.name, d.path))
            channels.append(ch)
        for src in node.connect_in:
            channels.append({'device': 'in/' + src, 'network': 'listen',
                             'token': tokens[(src, node.name)]})
        for dst in node.connect_out:      # the addresses follow once every node listens
            channels.append({'device': 'out/' + dst, 'network': 'connect',
                             'token': tokens[(node.name, dst)]})
        plan = {'name': node.name, 'argv': node.argv, 'env': node.env, 'program': program,
                'channels': channels}
        return json.dumps(plan).encode('utf-8'), members

    def stream(self, req, plan, members):
        """The request body for the object server: a tar, inputs fetched as it goes."""
        yield from member('node.json', len(plan), [plan])
        for name, source in members:
            if isinstance(source, RequestData):
                yield from member(name, source.size, source.chunks())
                continue
            p = source
            resp = self.subrequest(req, 'GET', '/v1/%s/%s/%s' % (p.account, p.container, p.obj)) \
                .get_response(self.app)
            try:
                if not resp.is_success or resp.content_length is None:
                    raise JobError('%s: could not read it (%s)' % (p.url, resp.status),
                                   status=resp.status_int if resp.status_int >= 400 else 503)
                yield from member(name, resp.content_length, resp.app_iter)
            finally:
                close = getattr(resp.app_iter, 'close', None)
                if close:
                    close()
        yield from end()

    def run_nodes(self, req, nodes, data):
        pile = GreenPile(min(len(nodes), 64))
        for node in nodes:
            pile.spawn(self.run_node, req, node, data)
        return list(pile)

    def run_node(self, req, node, data):
        started = self.start_node(req, node, data)
        if isinstance(started, NodeResult):
            return started
        try:
            return self.finish(req, started, TimedReader(started.resp, self.node_timeout))
        finally:
            started.conn.close()

    def start_node(self, req, node, data, tokens=None):
        """Sends the node to the first object server of its targets that takes it; a Started,
        or the NodeResult of its failure."""
        try:
            targets, local = self.targets(req, node)
        except JobError as e:
            return NodeResult(node.name, e.status, str(e))
        if not targets:
            return NodeResult(node.name, 503, 'no object server in the ring')
        for dev, part, path, policy_index in targets:
            plan, members = self.plan(req, node, local if path else None, data, tokens)
            started = self.send(req, node, dev, part, path or '', policy_index, plan, members,
                                connected=tokens is not None)
            if started is not None:
                started.server = '%s:%s' % (dev['ip'], dev['port'])
                return started
        return NodeResult(node.name, 503, 'no object server could run the node')

    def finish(self, req, started, reader, held=False):
        """Reads a started node's answer into its NodeResult."""
        try:
            result = self.receive(req, started.node, reader, held)
        except JobError as e:
            result = NodeResult(started.node.name, e.status, str(e))
        except (Exception, Timeout) as e:
            self.logger.exception('zerocloud: node %s on %s failed'
                                  % (started.node.name, started.where))
            result = NodeResult(started.node.name, 503, 'node %s on %s failed: %s'
                                % (started.node.name, started.where, e))
        result.server = started.server
        return result

    # --- connected jobs ----------------------------------------------------------------------

    def run_connected(self, req, nodes, data):
        """Every node at once, in two phases, so that the channels may form any graph (cycles
        included): each node is sent to its object server, which binds a socket per in/ channel
        and answers with their ports before zvm starts; once every node listens, each is sent
        the addresses of the nodes it writes to, and runs.  If any node could not be started,
        none runs: the others' requests are closed unanswered."""
        tokens = {(n.name, dst): secrets.token_hex(16) for n in nodes for dst in n.connect_out}
        pile = GreenPile(len(nodes))
        for node in nodes:
            pile.spawn(self.start_node, req, node, data, tokens)
        started = list(pile)
        failed = [s for s in started if isinstance(s, NodeResult)]
        if failed:
            return [s if isinstance(s, NodeResult) else self.not_run(s, failed) for s in started]
        listening = {}
        for s in started:
            ip = s.server.rsplit(':', 1)[0]
            host = '[%s]' % ip if ':' in ip else ip
            for device, port in s.ports().items():
                if isinstance(port, int):
                    listening[(device[len('in/'):], s.node.name)] = '%s:%d' % (host, port)
        deaf = [NodeResult(s.node.name, 502, 'its object server did not listen for its channels')
                for s in started
                if any((src, s.node.name) not in listening for src in s.node.connect_in)]
        if deaf:
            return [self.not_run(s, deaf) for s in started]
        pile = GreenPile(len(nodes))
        for s in started:
            addresses = {'out/' + dst: listening[(s.node.name, dst)] for dst in s.node.connect_out}
            pile.spawn(self.run_started, req, s, addresses)
        return list(pile)

    def not_run(self, started, failed):
        """A started node's result when the job stops before any zvm runs: the error of the
        node itself if it is among `failed`, else "not run" with the failure's status."""
        started.conn.close()
        result = next((f for f in failed if f.name == started.node.name), None) or \
            NodeResult(started.node.name, max(f.status for f in failed),
                       'not run: node %s of the job could not start'
                       % ', '.join(f.name for f in failed[:5]))
        result.server = started.server
        return result

    def run_started(self, req, started, addresses):
        """Phase two of a connected node: the addresses end its request, then its answer."""
        try:
            body = json.dumps(addresses).encode('utf-8')
            if started.conn.sock is None:
                raise IOError('the object server ended the request before the addresses')
            with ChunkWriteTimeout(self.node_timeout):
                started.conn.send(b'%x\r\n%s\r\n0\r\n\r\n' % (len(body), body))
        except (Exception, ChunkWriteTimeout) as e:
            started.conn.close()
            result = NodeResult(started.node.name, 503, 'node %s on %s failed: %s'
                                % (started.node.name, started.where, e))
            result.server = started.server
            return result
        try:
            # the session runs while we read: wait as long as it may take
            reader = TimedReader(started.resp,
                                 self.timeout + self.kill_timeout + self.node_timeout)
            return self.finish(req, started, reader, held=True)
        finally:
            started.conn.close()

    def store_held(self, req, nodes, results):
        """A connected job's outputs: all stored if every node ended ok with 0, else none.
        Returns a note for X-Nexe-Error when nothing was stored, else None."""
        all_well = all(r.ended_well for r in results)
        for node, r in zip(nodes, results):
            if r.report is not None and r.report.status == 'ok' and r.report.retcode != 0 \
                    and not r.error:
                r.error = 'returned %d' % r.report.retcode
            for d, size, f in r.held:
                try:
                    if all_well:
                        error = self.put_output(req, node, d, size, f, r.report)
                        if error:
                            r.status = max(r.status, 500 if error[0] >= 500 else 409)
                            r.error = error[1] if not r.error else r.error + '; ' + error[1]
                finally:
                    f.close()
            r.held = []
        if all_well or not any(d.path is not None and d.kind.writable
                               for n in nodes for d in n.devices):
            return None
        return 'job: no output was stored, since not every node ended ok with return code 0'

    def send(self, req, node, dev, part, path, policy_index, plan, members, connected=False):
        """One attempt on one object server: a Started once it answered 200 (for a connected
        node: once it listens), the NodeResult of its refusal, or None for "try the next one"."""
        where = '%s:%s/%s' % (dev['ip'], dev['port'], dev['device'])
        headers = {EXECUTE_HEADER: '1.0', 'Transfer-Encoding': 'chunked',
                   'Content-Type': 'application/x-tar',
                   'X-Backend-Storage-Policy-Index': str(policy_index),
                   'X-Trans-Id': req.environ.get('swift.trans_id', ''),
                   'User-Agent': 'zerocloud-proxy %s' % os.getpid()}
        try:
            with ConnectionTimeout(self.conn_timeout):
                conn = http_connect(dev['ip'], dev['port'], dev['device'], part, 'POST', path,
                                    headers=headers)
        except (Exception, ConnectionTimeout) as e:
            self.logger.warning('zerocloud: cannot connect to %s: %s' % (where, e))
            return None
        try:
            for chunk in self.stream(req, plan, members):
                with ChunkWriteTimeout(self.node_timeout):
                    conn.send(b'%x\r\n%s\r\n' % (len(chunk), chunk))
            if not connected:           # a connected node's request ends with its addresses
                with ChunkWriteTimeout(self.node_timeout):
                    conn.send(b'0\r\n\r\n')
            with Timeout(self.timeout + self.kill_timeout + self.node_timeout + 30):
                resp = conn.getresponse()
            if resp.status in (503, 507):
                text = resp.read(1000).decode('utf-8', 'replace').strip()
                self.logger.warning('zerocloud: %s answered %s: %s' % (where, resp.status, text))
                conn.close()
                if resp.status == 503:      # busy: trying elsewhere would not run next to the data
                    return NodeResult(node.name, 503, text or 'object server busy')
                return None
            if resp.status != 200:
                text = resp.read(2000).decode('utf-8', 'replace').strip()
                conn.close()
                return NodeResult(node.name, resp.status, text or 'object server answered %d'
                                  % resp.status)
            return Started(node, conn, resp, None, where)
        except JobError as e:
            conn.close()
            return NodeResult(node.name, e.status, str(e))
        except (Exception, Timeout) as e:
            conn.close()
            self.logger.exception('zerocloud: node %s on %s failed' % (node.name, where))
            return NodeResult(node.name, 503, 'node %s on %s failed: %s' % (node.name, where, e))

    def receive(self, req, node, resp, held=False):
        """Reads the object server's tar: result.json, then the outputs (PUT, or kept for the body;
        with `held`, a connected job's, spooled for store_held)."""
        tar = tarfile.open(fileobj=resp, mode='r|')
        result = None
        for info in tar:
            f = tar.extractfile(info)
            if info.name == 'ports.json' and result is None:
                continue
            if info.name == 'result.json':
                r = json.loads(f.read().decode('utf-8'))
                result = NodeResult(node.name, int(r['status']), r.get('error'),
                                    Report.from_dict(r['report']) if r.get('report') else None,
                                    float(r.get('time') or 0))
                continue
            if result is None or not info.name.startswith('out.'):
                raise IOError('unexpected member %s in the answer' % info.name)
            d = node.device(info.name[4:])
            if d is None:
                continue
            if d.path is None:
                result.body.append((spool(f), d.content_type))
            elif held:
                if result.ended_well:
                    result.held.append((d, info.size, spool(f)))
            elif result.status == 200 and result.report is not None and \
                    result.report.status == 'ok':
                error = self.put_output(req, node, d, info.size, f, result.report)
                if error:
                    result.status = max(result.status, 500 if error[0] >= 500 else 409)
                    result.error = error[1] if not result.error else result.error + '; ' + error[1]
        if result is None:
            raise IOError('the object server sent no result')
        return result

    def put_output(self, req, node, d, size, f, report):
        p = d.path
        headers = {'Content-Type': d.content_type or self.default_content_type,
                   'Content-Length': str(size)}
        etag = report.etag_of('/dev/' + d.name)
        if etag:
            headers['ETag'] = etag
        for k, v in d.meta.items():
            headers['X-Object-Meta-' + k] = v
        sub = self.subrequest(req, 'PUT', '/v1/%s/%s/%s' % (p.account, p.container, p.obj),
                              headers=headers)
        sub.environ['wsgi.input'] = f
        sub.environ['CONTENT_LENGTH'] = str(size)
        resp = sub.get_response(self.app)
        if resp.is_success:
            return None
        self.logger.warning('zerocloud: PUT %s: %s' % (p.url, resp.status))
        return resp.status_int, 'storing %s failed: %s' % (p.url, resp.status)

    # --- the answer -------------------------------------------------------------------------------

    def respond(self, results, total, note=None):
        status = max(r.status for r in results)
        headers = {
            'X-Nexe-System': ','.join(r.name for r in results),
            'X-Nexe-Server': ','.join(r.server or '-' for r in results),
            'X-Nexe-Status': ','.join(header_value(r.report.status if r.report else r.error or '-')
                                      for r in results),
            'X-Nexe-Retcode': ','.join(str(r.report.retcode) if r.report else '-' for r in results),
            'X-Nexe-Etag': ','.join(header_value(r.report.etags) if r.report else '-'
                                    for r in results),
            'X-Nexe-Validation': ','.join(str(r.report.validation) if r.report else '-'
                                          for r in results),
            # 2014's daemon mode, today a resumed snapshot (report line 2): per node
            'X-Nexe-Cached': ','.join(('true' if r.report.daemon else 'false') if r.report else '-'
                                      for r in results),
            'X-Nexe-Cdr-Line': ', '.join(['%.3f' % total] + [
                '%.3f, %s' % (r.elapsed, r.report.cdr if r.report else '0 0 0 0 0 0 0 0 0 0')
                for r in results]),
        }
        errors = ['%s: %s' % (r.name, r.error) for r in results if r.error] + ([note] if note else [])
        if errors:
            headers['X-Nexe-Error'] = ', '.join(header_value(e) for e in errors)
        if status >= 400:
            for r in results:
                for spool, _ct in r.body:
                    spool.close()
            return text_response(status, '\n'.join(errors) or 'zerocloud: the job failed',
                                 headers=headers)
        parts = [(spool, ct) for r in results for spool, ct in r.body]
        content_type = next((ct for _s, ct in parts if ct), 'text/plain')
        length = 0
        for spool, _ct in parts:
            spool.seek(0, os.SEEK_END)
            length += spool.tell()
            spool.seek(0)
        return Response(status=status, app_iter=BodyParts([s for s, _ct in parts]),
                        content_length=length, content_type=content_type, headers=headers)


class BodyParts:
    """The response body: the spooled path-less outputs one after the other, closed at the end."""

    def __init__(self, files):
        self.files = files

    def __iter__(self):
        try:
            for f in self.files:
                while True:
                    chunk = f.read(CHUNK)
                    if not chunk:
                        break
                    yield chunk
        finally:
            self.close()

    def close(self):
        for f in self.files:
            f.close()
        self.files = []


def filter_factory(global_conf, **local_conf):
    conf = global_conf.copy()
    conf.update(local_conf)

    def factory(app):
        return ProxyQueryMiddleware(app, conf)
    return factory
