"""ZeroCloud's object-server filter: runs one node with zvm next to its input.

The proxy filter (proxyquery) POSTs to this server, with `X-Zerovm-Execute`, a tar stream:
`node.json` (the node's plan), then the files the proxy fetched for it (`program`, `in.<device>`).
The request path is `/<device>/<partition>/<account>/<container>/<object>` when the node reads an
object stored here (the plan marks that channel `local`: zvm reads the object's own data file), or
`/<device>/<partition>` when it does not.

Everything the session needs lives in one directory under `<devices>/<device>/tmp/` (the same
file system as the objects, so the local input is hard-linked, not copied) and is removed when the
answer has been sent or the request failed.  The answer is a tar stream: `result.json` (status,
error, zvm's report, wall time), then `out.<device>` for every writable channel.

A node of a connected job has network channels in its plan: `in/<src>` channels it listens on and
`out/<dst>` channels it connects to (token given by the proxy).  For each `in/` channel this server
binds a socket on a free port of its own address and passes it to zvm (tcp-listen://fd:N/TOKEN: no
race for the port); the ports go back at once in the `X-Zerocloud-Listen` header (and a
`ports.json` member), while the request stays open: after its tar, the proxy sends
{"out/<dst>": "ip:port", ...} once every node of the job listens, and only then does zvm run (the
rest of the answer as above).  A node waits for these addresses at most zerovm_timeout +
zerovm_kill_timeout seconds, and does not run if the proxy closes the request instead.  Such a
node never queues: all nodes of a connected job must run at once (they wait on each other), so it
takes one of `zerovm_maxpool_connected` slots at once or is answered 503.

Configuration ([filter:zerovm] in object-server.conf, 2014 names):
  zerovm_path = zvm                      the zvm binary
  zerovm_sysimage_devices = python /path/to/python.tar [name path ...]
  zerovm_timeout = 10                    seconds a session may run (manifest Timeout)
  zerovm_kill_timeout = 5                grace after which a session zvm did not stop is stopped:
                                         SIGTERM (zvm ends it cleanly, reports, writes nothing
                                         back), then SIGKILL if it is still there 2 s later
  zerovm_maxnexemem = 4294967296         guest memory (manifest Memory)
  zerovm_maxiops = 1073741824            reads or writes per channel
  zerovm_maxinput = 1073741824           bytes read per channel (and size of a streamed input)
  zerovm_maxoutput = 1073741824          bytes written per channel
  zerovm_maxnexe = 268435456             size of the program
  zerovm_maxpool = 10                    sessions running at once on this server
  zerovm_maxqueue = 100                  sessions waiting for a slot; beyond that: 503
  zerovm_maxpool_connected = 100         nodes of connected jobs running at once (no queue)
  zerovm_channel_bind_ip = <bind_ip>     the address network channels listen on
  zerovm_cache = <recon_cache_path>/zvm  zvm's cache (zvm --cache): snapshots, and the programs and
                                         images they depend on (zerocloud.cache); made 0700, and
                                         not used unless owned by this server's user and private
                                         (default recon_cache_path: /var/cache/swift)
  zerovm_snapshots = yes                 no: sessions neither resume nor write snapshots
                                         (zvm --no-snapshot); programs are still kept
  zerovm_cache_size = 4294967296         bound of the cache: zvm keeps snapshots and programs
                                         under it (zvm --cache-size), this server programs and
                                         images (the least recently used go first)
"""

import gzip
import json
import os
import re
import shutil
import socket
import tarfile
import time
import uuid

import eventlet
from eventlet.green import subprocess
from eventlet.semaphore import Semaphore
from swift.common.constraints import check_drive
from swift.common.exceptions import DiskFileDeviceUnavailable, DiskFileError, DiskFileNotExist
from swift.common.request_helpers import get_name_and_placement
from swift.common.swob import HTTPException, Request, Response, wsgi_to_str
from swift.common.utils import config_true_value, get_logger
from swift.obj.diskfile import DiskFileRouter

from zerocloud import EXECUTE_HEADER
from zerocloud.cache import ZvmCache, file_digest, identity
from zerocloud.session import (Channel, RANDOM_READ, RANDOM_WRITE, SEQ_SEQ, Report,
                               build_manifest, build_nvram, outcome, parse_report)
from zerocloud.tarstream import BLOCK, copy_stream, end, file_chunks, member, read_members

MEMBER_RE = re.compile(r'^(program|in\.[A-Za-z0-9_.-]+)$')
DEVICE_RE = re.compile(r'^((in|out)/)?[A-Za-z0-9_][A-Za-z0-9_.-]*$')
TOKEN_RE = re.compile(r'^[A-Za-z0-9_.-]{1,64}$')
ADDRESS_RE = re.compile(r'^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):[0-9]{1,5}$')
MAX_PLAN = 1 << 20


def parse_sysimages(value):
    """'python /path/python.tar other /x.tar' -> {'python': '/path/python.tar', ...}"""
    words = (value or '').split()
    if len(words) % 2:
        raise ValueError('zerovm_sysimage_devices must be pairs of "name path", got %r' % value)
    return dict(zip(words[0::2], words[1::2]))


def http_error(status, message):
    return HTTPException(status=status, body=(message.rstrip('\n') + '\n').encode('utf-8'),
                         content_type='text/plain')


class SessionBody:
    """The answer's tar stream; ends the session (end(session_dir): its directory and the cache
    entries it held) when done, whatever happens."""

    def __init__(self, result, outputs, session_dir, end):
        self.result = json.dumps(result).encode('utf-8')
        self.outputs = outputs               # [(member name, host path)]
        self.session_dir = session_dir
        self.end = end
        self.length = 2 * BLOCK + BLOCK + -(-len(self.result) // BLOCK) * BLOCK
        self.sizes = []
        for _name, path in outputs:
            size = os.path.getsize(path)
            self.sizes.append(size)
            self.length += BLOCK + -(-size // BLOCK) * BLOCK

    def __iter__(self):
        try:
            yield from member('result.json', len(self.result), [self.result])
            for (name, path), size in zip(self.outputs, self.sizes):
                yield from member(name, size, file_chunks(path))
            yield from end()
        finally:
            self.close()

    def close(self):
        if self.session_dir:
            self.end(self.session_dir)
            self.session_dir = None


def refuse_late(sock, until):
    """After its session: accepts and drops whatever still connects to a listening socket, so a
    writer that comes after its reader ended fails at once (EPIPE) instead of retrying a refused
    connect until its own Timeout; then closes it."""
    try:
        while True:
            left = until - time.time()
            if left <= 0:
                break
            sock.settimeout(left)
            conn, _addr = sock.accept()
            conn.close()
    except (OSError, socket.timeout):
        pass
    finally:
        sock.close()


class ConnectedBody:
    """The answer of a connected job's node, in two phases.  First `ports.json` (which sends the
    headers, with the ports this node listens on, on their way); then it reads the rest of the
    request: the addresses of the nodes it writes to, which the proxy sends once every node of
    the job listens (so any connection graph, cycles included, can be wired).  Then zvm runs, and
    result.json and the outputs follow as in SessionBody.  A proxy that gives up on the job
    closes the request instead: the session ends without running zvm."""

    def __init__(self, server, req, plan, session, session_dir, outputs, listeners):
        self.server = server
        self.req = req
        self.plan = plan
        self.session = session               # (program, channels) for write_manifest
        self.session_dir = session_dir
        self.outputs = outputs
        self.listeners = listeners
        self.slot = True

    def __iter__(self):
        try:
            ports = json.dumps({d: s.getsockname()[1] for d, s in self.listeners.items()})
            yield from member('ports.json', len(ports), [ports.encode('utf-8')])
            addresses = self.server.read_addresses(self.req, self.plan.get('name'))
            if addresses is None:
                return
            started = time.time()
            try:
                manifest_path = self.server.write_manifest(*self.session, self.session_dir,
                                                           addresses)
                exit_code, out, err, killed = self.server.run_zvm(manifest_path,
                                                                  self.session_dir, self.listeners)
            except HTTPException as e:
                exit_code, out, err, killed = None, b'', (e.body or b''), False
            for sock in self.listeners.values():
                eventlet.spawn_n(refuse_late, sock, time.time() + self.server.timeout)
            self.listeners = {}
            result = self.server.result(self.plan, exit_code, out, err, killed,
                                        time.time() - started)
            self.release()
            rest = SessionBody(result, self.outputs, self.session_dir, self.server.end_session)
            self.session_dir = None             # rest removes it
            yield from rest
        finally:
            self.close()

    def release(self):
        if self.slot:
            self.slot = False
            self.server.connected_slots.release()

    def close(self):
        self.release()
        for sock in self.listeners.values():
            sock.close()
        self.listeners = {}
        if self.session_dir:
            self.server.end_session(self.session_dir)
            self.session_dir = None


class Held:
    """What one session holds: the cache entries it keeps open, its image (path, digest)."""

    def __init__(self):
        self.fds = []
        self.image = None
        self.image_digest = None


class ObjectQueryMiddleware:
    def __init__(self, app, conf):
        self.app = app
        self.logger = get_logger(conf, log_route='zerocloud-object')
        self.zerovm_path = conf.get('zerovm_path', 'zvm')
        self.sysimages = parse_sysimages(conf.get('zerovm_sysimage_devices', ''))
        self.timeout = max(1, int(conf.get('zerovm_timeout', 10)))
        self.kill_timeout = float(conf.get('zerovm_kill_timeout', 5))
        self.maxnexemem = int(conf.get('zerovm_maxnexemem', 4294967296))
        self.maxiops = int(conf.get('zerovm_maxiops', 1073741824))
        self.maxinput = int(conf.get('zerovm_maxinput', 1073741824))
        self.maxoutput = int(conf.get('zerovm_maxoutput', 1073741824))
        self.maxnexe = int(conf.get('zerovm_maxnexe', 268435456))
        self.maxpool = max(1, int(conf.get('zerovm_maxpool', 10)))
        self.maxqueue = max(0, int(conf.get('zerovm_maxqueue', 100)))
        self.devices = conf.get('devices', '/srv/node')
        self.mount_check = config_true_value(conf.get('mount_check', 'true'))
        self.slots = Semaphore(self.maxpool)
        self.waiting = 0
        self.connected_slots = Semaphore(max(1, int(conf.get('zerovm_maxpool_connected', 100))))
        self.channel_bind_ip = conf.get('zerovm_channel_bind_ip', conf.get('bind_ip', '0.0.0.0'))
        self.df_router = DiskFileRouter(conf, self.logger)
        self.snapshots = config_true_value(conf.get('zerovm_snapshots', 'yes'))
        self.cache_size = int(conf.get('zerovm_cache_size', 4294967296))
        self.cache = self.open_cache(conf.get('zerovm_cache') or os.path.join(
            conf.get('recon_cache_path', '/var/cache/swift'), 'zvm'))
        self.held = {}          # session directory -> its Held

    def open_cache(self, root):
        """The cache, or None (logged) when the directory cannot be ours and private: sessions
        then run cold, each extracting its program."""
        try:
            return ZvmCache(os.path.abspath(root), self.cache_size)
        except (ValueError, OSError) as e:
            self.logger.error('zerocloud: no zvm cache, so no snapshots (sessions start cold): '
                              '%s; set zerovm_cache in the [filter:zerovm] section' % e)
            return None

    def keep(self, session_dir, method, kind, key, arg):
        """A cache entry (self.cache.open or adopt), held open by the session until it ends: the
        path zvm opens it by."""
        try:
            fd = method(kind, key, arg)
        except OSError as e:
            raise http_error(500, 'zerocloud: cannot keep a %s in the zvm cache %s: %s'
                             % (kind[:-1], self.cache.root, e.strerror or e))
        self.held.setdefault(session_dir, Held()).fds.append(fd)
        return '/proc/%d/fd/%d' % (os.getpid(), fd)

    def end_session(self, session_dir):
        """Removes the session's directory and lets go of the cache entries it held."""
        for fd in self.held.pop(session_dir, Held()).fds:
            os.close(fd)
        shutil.rmtree(session_dir, ignore_errors=True)

    def __call__(self, env, start_response):
        if 'HTTP_' + EXECUTE_HEADER.upper().replace('-', '_') not in env:
            return self.app(env, start_response)
        req = Request(env)
        try:
            resp = self.execute(req)
        except HTTPException as e:
            resp = e
        except Exception:
            self.logger.exception('zerocloud: session failed')
            resp = http_error(500, 'zerocloud object server: internal error (see its log)')
        return resp(env, start_response)

    # --- the request -------------------------------------------------------------------------

    def execute(self, req):
        if req.method != 'POST':
            raise http_error(405, 'zerocloud: a session is started with POST')
        parts = req.split_path(2, 5, True)
        device = parts[0]
        try:
            dev_path = check_drive(self.devices, device, self.mount_check)
        except ValueError:
            raise http_error(507, 'zerocloud: device %s is not available' % device)
        tmp = os.path.join(dev_path, 'tmp')
        os.makedirs(tmp, exist_ok=True)
        session_dir = os.path.join(tmp, 'zerocloud-%s' % uuid.uuid4().hex)
        os.mkdir(session_dir, 0o700)
        try:
            plan = self.receive(req, session_dir)
            local = None
            if any(ch.get('source') == 'local' for ch in plan['channels']):
                if len(parts) < 5 or parts[4] is None:
                    raise http_error(400, 'zerocloud: a local channel needs an object path')
                local = self.link_local(req, session_dir)
            if any(ch.get('network') for ch in plan['channels']):
                return self.start_connected(req, plan, session_dir, local)
            result, outputs = self.run(plan, session_dir, local)
            body = SessionBody(result, outputs, session_dir, self.end_session)
        except BaseException:
            self.end_session(session_dir)
            raise
        return Response(app_iter=body, content_length=body.length,
                        content_type='application/x-tar', request=req)

    def start_connected(self, req, plan, session_dir, local):
        """A node with network channels: bind its listening sockets, answer their ports at once,
        then wait for its writers' addresses and run zvm as the answer streams (ConnectedBody)."""
        listeners = {}
        try:
            program, channels, outputs = self.session_parts(plan, session_dir, local, listeners)
            if not self.connected_slots.acquire(blocking=False):
                raise http_error(503, 'zerocloud: this server runs as many connected-job nodes as '
                                 'it may (zerovm_maxpool_connected); retry later')
        except BaseException:
            for sock in listeners.values():
                sock.close()
            raise
        ports = {device: sock.getsockname()[1] for device, sock in listeners.items()}
        body = ConnectedBody(self, req, plan, (program, channels), session_dir, outputs, listeners)
        # eventlet holds back small writes (4 KiB) and with them the headers: not here, the
        # proxy waits for these ports before it sends any node of the job its addresses
        req.environ['eventlet.minimum_write_chunk_size'] = 0
        return Response(app_iter=body, content_type='application/x-tar', request=req,
                        headers={'X-Zerocloud-Listen': json.dumps(ports, separators=(',', ':'))})

    def read_addresses(self, req, name):
        """The rest of a connected node's request: {"out/<dst>": "ip:port"}, sent by the proxy
        once every node of the job listens.  Waits at most the session timeout; None when the
        proxy gave up on the job (closed the request) or did not send them in time."""
        try:
            with eventlet.Timeout(self.timeout + self.kill_timeout):
                text = req.environ['wsgi.input'].read(MAX_PLAN + 1)
            if len(text) > MAX_PLAN:
                raise ValueError('more than %d bytes of addresses' % MAX_PLAN)
            addresses = json.loads(text.decode('utf-8'))
            if not isinstance(addresses, dict):
                raise ValueError('not a JSON object of addresses')
            return addresses
        except eventlet.Timeout:
            self.logger.warning('zerocloud: node %s: the job\'s other nodes were not wired within '
                                '%d s; not run' % (name, self.timeout + self.kill_timeout))
        except (OSError, ValueError) as e:
            self.logger.info('zerocloud: node %s: the proxy ended the job before it ran (%s)'
                             % (name, e))
        return None

    def receive(self, req, session_dir):
        """Reads the request's tar into the session directory; returns the plan (node.json)."""
        plan = None
        try:
            for info, data in read_members(req.environ['wsgi.input']):
                if info.name == 'node.json' and info.isfile() and info.size <= MAX_PLAN:
                    plan = json.loads(data.read().decode('utf-8'))
                    continue
                if not info.isfile() or not MEMBER_RE.match(info.name):
                    raise http_error(400, 'zerocloud: unexpected member %r in the request' % info.name)
                limit = self.maxnexe if info.name == 'program' else self.maxinput
                if info.size > limit:
                    raise http_error(413, 'zerocloud: %s is %d bytes; this server takes at most %d'
                                     % (info.name, info.size, limit))
                with open(os.path.join(session_dir, info.name), 'wb') as f:
                    copy_stream(data, f)
        except (tarfile.TarError, ValueError, IOError, EOFError) as e:
            raise http_error(400, 'zerocloud: unreadable session request: %s' % e)
        if not isinstance(plan, dict) or not isinstance(plan.get('channels'), list):
            raise http_error(400, 'zerocloud: the session request has no node.json')
        return plan

    def link_local(self, req, session_dir):
        """Hard-links the data file of the object named by the path into the session directory."""
        device, partition, account, container, obj, policy = \
            get_name_and_placement(req, 5, 5, True)
        where = 'swift://%s/%s/%s' % (wsgi_to_str(account), wsgi_to_str(container), wsgi_to_str(obj))
        try:
            df = self.df_router[policy].get_diskfile(device, partition, account, container, obj,
                                                     policy=policy)
            with df.open():
                data_file = df._data_file
                target = os.path.join(session_dir, 'local')
                try:
                    os.link(data_file, target)
                except OSError:
                    shutil.copyfile(data_file, target)
        except DiskFileNotExist:
            raise http_error(404, '%s: object not found' % where)
        except DiskFileDeviceUnavailable:
            raise http_error(507, 'zerocloud: device %s is not available' % device)
        except DiskFileError as e:
            raise http_error(500, '%s: cannot read the object here: %s' % (where, e))
        return target

    # --- the session -------------------------------------------------------------------------

    def program(self, plan, session_dir):
        """The host path of the node's .wasm, extracted from an image when it lives in one; kept
        in the cache (zerocloud.cache) so that its file identity, which snapshots depend on,
        stays the same from one session to the next."""
        prog = plan.get('program') or {}
        source = prog.get('from')
        if source == 'member':
            path = os.path.join(session_dir, 'program')
            if not os.path.isfile(path):
                raise http_error(400, 'zerocloud: the program was not sent')
            if self.cache is None:
                return path
            return self.keep(session_dir, self.cache.adopt, 'programs', ('sent', file_digest(path)),
                             path)
        if source == 'sysimage':
            image = prog.get('image')
            if image not in self.sysimages:
                raise http_error(400, 'unknown system image "%s" (this server has: %s)'
                                 % (image, ', '.join(sorted(self.sysimages)) or 'none'))
            tar_path, what = self.sysimages[image], 'system image "%s"' % image
            try:
                key = ('sysimage', identity(os.stat(tar_path)))
            except OSError as e:
                raise http_error(500, 'system image "%s" is missing on this server (%s: %s); '
                                 'check zerovm_sysimage_devices' % (image, tar_path,
                                                                     os.strerror(e.errno)))
        elif source == 'image':
            tar_path, what = self.image_tar(session_dir), 'the job\'s image'
            key = ('image', self.held[session_dir].image_digest if self.cache else None)
        else:
            raise http_error(400, 'zerocloud: the plan names no program')
        name = str(prog.get('member', '')).lstrip('/')

        def extract(f):
            self.extract_program(tar_path, name, what, f)
        if self.cache is None:
            target = os.path.join(session_dir, 'program')
            with open(target, 'wb') as f:
                extract(f)
            return target
        # a program already kept is not looked for again: reading a large image's index
        # (python.tar's thousands of members) costs more than the rest of the session
        return self.keep(session_dir, self.cache.open, 'programs', key + (name,), extract)

    def extract_program(self, tar_path, name, what, f):
        """Copies the program's member of an image (a regular file no larger than
        zerovm_maxnexe) to file object f."""
        try:
            with tarfile.open(tar_path, 'r:') as tar:
                info = None
                for candidate in (name, './' + name):
                    try:
                        info = tar.getmember(candidate)
                        break
                    except KeyError:
                        pass
                if info is None or not info.isfile():
                    raise http_error(400, 'program "%s" not found in %s' % (name, what))
                if info.size > self.maxnexe:
                    raise http_error(413, 'program "%s" in %s is %d bytes; at most %d'
                                     % (name, what, info.size, self.maxnexe))
                copy_stream(tar.extractfile(info), f)
        except (tarfile.TarError, OSError) as e:
            raise http_error(400, '%s is not a readable tar: %s' % (what, e))

    def image_tar(self, session_dir):
        """The job's image as a plain tar (zvm indexes tars in place): gunzips a .zapp.  Kept in
        the cache by its content digest (so a snapshot of a job that mounts it can match)."""
        held = self.held.setdefault(session_dir, Held())
        if held.image:
            return held.image
        raw = os.path.join(session_dir, 'in.image')
        if not os.path.isfile(raw):
            raise http_error(400, 'zerocloud: the job\'s image was not sent')
        with open(raw, 'rb') as f:
            gzipped = f.read(2) == b'\x1f\x8b'
        plain = os.path.join(session_dir, 'image.tar')
        if not gzipped:
            os.rename(raw, plain)
        else:
            try:
                with gzip.open(raw, 'rb') as src, open(plain, 'wb') as dst:
                    copy_stream(src, dst, limit=self.maxinput)
            except (OSError, EOFError) as e:
                raise http_error(400, 'the job\'s image is not a valid gzip/tar: %s' % e)
            os.unlink(raw)
        held.image = plain
        if self.cache is not None:
            held.image_digest = file_digest(plain)
            held.image = self.keep(session_dir, self.cache.adopt, 'images', (held.image_digest,),
                                   plain)
        return held.image

    def network_channel(self, ch, device, listeners):
        """A connected job's channel: listen for in/<src> (on a socket bound here, passed to zvm),
        connect for out/<dst> (its address is filled in by write_manifest)."""
        token, network = str(ch.get('token', '')), ch.get('network')
        if not TOKEN_RE.match(token):
            raise http_error(400, 'zerocloud: channel %s has a bad token' % device)
        if network == 'listen' and device.startswith('in/'):
            sock = socket.socket(socket.AF_INET6 if ':' in self.channel_bind_ip else socket.AF_INET)
            listeners[device] = sock
            sock.bind((self.channel_bind_ip, 0))
            sock.listen(16)
            sock.set_inheritable(True)
            return Channel('tcp-listen://fd:%d/%s' % (sock.fileno(), token), '/dev/' + device,
                           SEQ_SEQ, readable=True, etag=True)
        if network == 'connect' and device.startswith('out/'):
            channel = Channel(None, '/dev/' + device, SEQ_SEQ, writable=True, etag=True)
            channel.token = token
            return channel
        raise http_error(400, 'zerocloud: bad network channel %s in the plan' % device)

    def channels(self, plan, session_dir, local, listeners=None):
        """Manifest channels, nvram mounts and mappings, and the outputs to send back."""
        channels, mounts, mappings, outputs = [], [], [], []
        seen = set()
        for ch in plan['channels']:
            device = str(ch.get('device', ''))
            if not DEVICE_RE.match(device) or device in seen:
                raise http_error(400, 'zerocloud: bad channel %r in the plan' % device)
            seen.add(device)
            alias = '/dev/' + device
            source = ch.get('source')
            if ch.get('network') and listeners is not None:
                channels.append(self.network_channel(ch, device, listeners))
                continue
            if '/' in device:
                raise http_error(400, 'zerocloud: channel %s must be a network channel' % device)
            if ch.get('writable'):
                uri = os.path.join(session_dir, 'out.' + device) if ch.get('return') else '/dev/null'
                kind = RANDOM_WRITE if ch.get('random') else SEQ_SEQ
                channels.append(Channel(uri, alias, kind, writable=True, etag=uri != '/dev/null'))
                if uri != '/dev/null':
                    outputs.append(('out.' + device, uri))
            else:
                if source == 'local':
                    uri = local
                elif source == 'member':
                    uri = self.image_tar(session_dir) if device == 'image' else \
                        os.path.join(session_dir, 'in.' + device)
                    if not os.path.isfile(uri):
                        raise http_error(400, 'zerocloud: input %s was not sent' % device)
                elif source == 'sysimage':
                    if device not in self.sysimages:
                        raise http_error(400, 'unknown system image "%s" (this server has: %s)'
                                         % (device, ', '.join(sorted(self.sysimages)) or 'none'))
                    uri = self.sysimages[device]
                else:
                    raise http_error(400, 'zerocloud: channel %s has no source' % device)
                kind = RANDOM_READ if ch.get('random') else SEQ_SEQ
                channels.append(Channel(uri, alias, kind, readable=True))
            if ch.get('mounted'):
                mounts.append(alias)
            if ch.get('mode'):
                if ch['mode'] not in ('file', 'char', 'pipe'):
                    raise http_error(400, 'zerocloud: bad mode %r for %s' % (ch['mode'], device))
                mappings.append((alias, ch['mode']))
        for device, writable in (('stdin', False), ('stdout', True), ('stderr', True)):
            if device not in seen:
                channels.append(Channel('/dev/null', '/dev/' + device, SEQ_SEQ,
                                        readable=not writable, writable=writable))
        # The user's image goes last: mounted over the system images, its files win.
        mounts.sort(key=lambda alias: alias == '/dev/image')
        return channels, mounts, mappings, outputs

    def prepare(self, plan, session_dir, local):
        """Writes the nvram and the manifest; returns the manifest's path and the outputs."""
        program, channels, outputs = self.session_parts(plan, session_dir, local)
        return self.write_manifest(program, channels, session_dir, {}), outputs

    def session_parts(self, plan, session_dir, local, listeners=None):
        """Writes the nvram; returns the program, the manifest's channels and the outputs."""
        program = self.program(plan, session_dir)
        channels, mounts, mappings, outputs = self.channels(plan, session_dir, local, listeners)
        argv = [str(a) for a in plan.get('argv') or ['program']]
        env = {str(k): str(v) for k, v in (plan.get('env') or {}).items()}
        nvram_path = os.path.join(session_dir, 'nvram')
        with open(nvram_path, 'w') as f:
            f.write(build_nvram(argv, env, mounts, mappings))
        channels.append(Channel(nvram_path, '/dev/nvram', RANDOM_READ, readable=True))
        for _name, path in outputs:     # zvm creates them; a session that fails early still answers
            open(path, 'ab').close()
        return program, channels, outputs

    def write_manifest(self, program, channels, session_dir, addresses):
        """Writes the manifest, each out/<dst> channel connecting to addresses["out/<dst>"]."""
        for ch in channels:
            if ch.uri is None:
                device = ch.alias[len('/dev/'):]
                address = addresses.get(device)
                if not isinstance(address, str) or not ADDRESS_RE.match(address):
                    raise http_error(400, 'zerocloud: no valid address for channel %s' % device)
                ch.uri = 'tcp://%s/%s' % (address, ch.token)
        manifest_path = os.path.join(session_dir, 'manifest')
        try:
            manifest = build_manifest(program, self.maxnexemem, self.timeout, channels,
                                      self.maxiops, self.maxinput, self.maxoutput)
        except ValueError as e:
            raise http_error(500, 'zerocloud: %s' % e)
        with open(manifest_path, 'w') as f:
            f.write(manifest)
        return manifest_path

    def run(self, plan, session_dir, local):
        manifest_path, outputs = self.prepare(plan, session_dir, local)
        started = time.time()
        exit_code, out, err, killed = self.spawn(manifest_path, session_dir)
        return self.result(plan, exit_code, out, err, killed, time.time() - started), outputs

    def result(self, plan, exit_code, out, err, killed, elapsed):
        """result.json's content: the node's status, error and report."""
        report = parse_report(out)
        if killed:
            status, error = 500, ('session timeout: zvm did not end the session within %d s; '
                                  'stopped it with %s' % (self.timeout + self.kill_timeout, killed))
            if report is None:
                report = Report(2, 0, 0, 'disable', '0.00 0.00 0 0 0 0 0 0 0 0', 'session timeout')
        else:
            status, error = outcome(exit_code, report)
        if status >= 500:
            detail = err.decode('utf-8', 'replace').strip().replace('\n', ' ')[:300]
            self.logger.error('zerocloud: node %s: %s; zvm stderr: %s'
                              % (plan.get('name'), error, detail))
            if detail and report is None:
                error = '%s: %s' % (error, detail)
        return dict(name=plan.get('name'), status=status, error=error, exit=exit_code,
                    report=report.to_dict() if report else None, time=round(elapsed, 3))

    def spawn(self, manifest_path, session_dir):
        """Runs zvm under the session cap; (exit code, stdout, stderr, killed by us)."""
        if self.slots.locked() and self.waiting >= self.maxqueue:
            raise http_error(503, 'zerocloud: this server is busy (%d sessions running, %d waiting);'
                             ' retry later' % (self.maxpool, self.waiting))
        self.waiting += 1
        try:
            self.slots.acquire()
        finally:
            self.waiting -= 1
        try:
            return self.run_zvm(manifest_path, session_dir)
        finally:
            self.slots.release()

    def cache_options(self):
        """zvm's options for the cache: with none usable, no snapshots at all (zvm would fall
        back on its default cache, in this server's home)."""
        if self.cache is None:
            return ['--no-snapshot']
        return ['--cache', self.cache.root, '--cache-size', str(self.cache_size)] + \
            ([] if self.snapshots else ['--no-snapshot'])

    def run_zvm(self, manifest_path, session_dir, listeners=None):
        """zvm on the manifest, with the listening sockets passed down; (exit code, stdout,
        stderr, killed by us).  The sockets stay open here until zvm ends (see refuse_late)."""
        fds = tuple(sock.fileno() for sock in (listeners or {}).values())
        try:
            proc = subprocess.Popen([self.zerovm_path] + self.cache_options() + [manifest_path],
                                    cwd=session_dir,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, close_fds=True, pass_fds=fds)
        except OSError as e:
            raise http_error(500, 'zerocloud: cannot run zvm (%s): %s; set zerovm_path in '
                             'the [filter] section' % (self.zerovm_path, os.strerror(e.errno)
                                                       if e.errno else e))
        killed = False
        try:
            with eventlet.Timeout(self.timeout + self.kill_timeout):
                out, err = proc.communicate()
        except eventlet.Timeout:
            killed, out, err = stop_session(proc)
        return proc.returncode, out, err, killed


def stop_session(proc, grace=2.0):
    """Stops a zvm that outlived its session: SIGTERM first, which zvm handles like its own
    Timeout (the session ends, no wo image is written back, the report is printed, exit 143),
    then SIGKILL if it is still running after `grace` seconds.  Returns (the signal that ended
    it, stdout, stderr)."""
    proc.terminate()
    try:
        with eventlet.Timeout(grace):
            out, err = proc.communicate()
        return 'SIGTERM', out, err
    except eventlet.Timeout:
        proc.kill()
        out, err = proc.communicate()
        return 'SIGKILL', out, err


def filter_factory(global_conf, **local_conf):
    conf = global_conf.copy()
    conf.update(local_conf)

    def factory(app):
        return ObjectQueryMiddleware(app, conf)
    return factory
