"""The job description: parsing, checking and expanding it into nodes.

A job is a JSON list of node groups (ZeroCloud 2014 "servlet" format):

    [{"name": "sort",
      "exec": {"path": "file://python:python", "args": "sort.py", "name": "sort", "env": {"K": "V"}},
      "devices": [{"name": "stdin", "path": "swift://~/data/in*.txt"},
                  {"name": "stdout", "path": "swift://~/data/out*.txt", "content_type": "text/plain"},
                  {"name": "stderr"}],
      "count": 1, "connect": []}]

This module knows nothing of Swift or HTTP: it turns text into checked Python objects, and expands
wildcards and counts into one Node per zvm session through a listing function it is given.  Every
problem is a JobError with the HTTP status to answer and a message that says what to fix.

`connect` (2014 Servlets) lists the groups (or single nodes, or `*` patterns of node names) a
group's nodes write to: every node of the group gets a channel /dev/out/<dst> to every node it
names, and that node a channel /dev/in/<src> back (a group of one node keeps its name; a larger
one is name-1..name-N, numbered in the container listing's order or 1..count).  The channels may
form any graph, cycles included (two nodes that talk both ways, a ring): the proxy first has every
node listen, then gives every writer its readers' addresses.  Only a node writing to itself is
refused.
"""

import fnmatch
import json
import re


class JobError(Exception):
    """A job we refuse: `status` is the HTTP status to answer (4xx, or 501 for what is not built)."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def not_supported(what):
    return JobError('%s: not supported' % what, status=501)


class DeviceKind:
    """What a device name means: its direction, access pattern and whether it is a mounted image."""

    def __init__(self, readable=False, writable=False, random=False, mounted=False,
                 sysimage=False, network=False):
        self.readable = readable
        self.writable = writable
        self.random = random
        self.mounted = mounted
        self.sysimage = sysimage
        self.network = network


# The 2014 device names (doc/Servlets.md rule 1 and 9).  System images are added from the config.
DEVICES = {
    'stdin': DeviceKind(readable=True),
    'stdout': DeviceKind(writable=True),
    'stderr': DeviceKind(writable=True),
    'input': DeviceKind(readable=True, random=True),
    'output': DeviceKind(writable=True, random=True),
    'image': DeviceKind(readable=True, random=True, mounted=True),
    'script': DeviceKind(readable=True, random=True),
    'db': DeviceKind(readable=True, random=True),       # later 2014 releases: a database input
    'debug': DeviceKind(network=True),
}
SYSIMAGE = DeviceKind(readable=True, random=True, mounted=True, sysimage=True)
MODES = ('file', 'char', 'pipe')
NAME_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$')


def device_kind(name, sysimages):
    if name in DEVICES:
        return DEVICES[name]
    if name in sysimages:
        return SYSIMAGE
    return None


class SwiftPath:
    """swift://<account>/<container>/<object>; `~` or `.` as the account is the caller's."""

    def __init__(self, account, container, obj, listed=False):
        self.account = account
        self.container = container
        self.obj = obj
        self.listed = listed          # found in a container listing: known to exist

    @classmethod
    def parse(cls, url, caller_account, where):
        rest = url[len('swift://'):]
        parts = rest.split('/', 2)
        if len(parts) != 3 or not all(parts):
            raise JobError('%s: "%s" is not swift://<account>/<container>/<object> '
                           '(use ~ for your own account)' % (where, url))
        account, container, obj = parts
        if account in ('~', '.'):
            account = caller_account
        if '*' in account or '*' in container:
            raise JobError('%s: "%s": a wildcard may only appear in the object name' % (where, url))
        return cls(account, container, obj)

    @property
    def has_wildcard(self):
        return '*' in self.obj

    @property
    def url(self):
        return 'swift://%s/%s/%s' % (self.account, self.container, self.obj)

    def with_object(self, obj):
        return SwiftPath(self.account, self.container, obj)

    def __eq__(self, other):
        return isinstance(other, SwiftPath) and self.url == other.url

    def __hash__(self):
        return hash(self.url)

    def __repr__(self):
        return self.url


class ImagePath:
    """A program inside a tar image: file://<image>:<path>, or a relative path inside `image`."""

    def __init__(self, image, member):
        self.image = image
        self.member = member

    @property
    def url(self):
        return 'file://%s:%s' % (self.image, self.member)

    def __repr__(self):
        return self.url


class Device:
    def __init__(self, name, kind, path=None, content_type=None, mode=None, meta=None,
                 from_request=False):
        self.name = name
        self.kind = kind
        self.path = path              # SwiftPath, or None
        self.content_type = content_type
        self.mode = mode
        self.meta = meta or {}
        self.from_request = from_request    # its data is the POST body (a script, a bundle)

    def copy(self, path):
        return Device(self.name, self.kind, path, self.content_type, self.mode, self.meta,
                      self.from_request)


class Group:
    """One element of the job list, checked but not yet expanded."""

    def __init__(self, name, program, argv0, args, env, devices, count, attach, connect=()):
        self.name = name
        self.program = program        # SwiftPath or ImagePath
        self.argv0 = argv0
        self.args = args
        self.env = env
        self.devices = devices
        self.count = count
        self.attach = attach
        self.connect = list(connect)  # names or patterns of the nodes this group's nodes write to


class Node:
    """One zvm session: a Group with its wildcards and count resolved."""

    def __init__(self, name, group, devices):
        self.name = name
        self.group = group
        self.program = group.program
        self.argv = [group.argv0 or name] + group.args
        self.env = group.env
        self.devices = devices
        self.connect_out = []         # names of the nodes it writes to: /dev/out/<name>
        self.connect_in = []          # names of the nodes it reads from: /dev/in/<name>

    @property
    def connected(self):
        return bool(self.connect_out or self.connect_in)

    def device(self, name):
        for d in self.devices:
            if d.name == name:
                return d
        return None

    @property
    def placement(self):
        """The readable swift:// device whose object this node runs next to (or None)."""
        if self.group.attach:
            d = self.device(self.group.attach)
            return d if d is not None and d.path is not None and d.kind.readable else None
        for d in self.devices:
            if d.path is not None and d.kind.readable and not d.kind.mounted and d.name != 'script':
                return d
        return None


def parse_program(path, sysimages, caller_account, where):
    if not isinstance(path, str) or not path:
        raise JobError('%s: "exec" needs a "path" (swift://..., file://<image>:<path>, '
                       'or a path inside the job\'s image)' % where)
    if path.startswith('swift://'):
        p = SwiftPath.parse(path, caller_account, where + ' exec.path')
        if p.has_wildcard:
            raise JobError('%s: exec.path "%s" may not contain a wildcard' % (where, path))
        return p
    if path.startswith('file://'):
        image, sep, member = path[len('file://'):].partition(':')
        if not sep:
            image, member = 'image', image
        member = member.lstrip('/')
        if not member:
            raise JobError('%s: exec.path "%s" names no file inside the image' % (where, path))
        if image != 'image' and image not in sysimages:
            raise JobError('%s: exec.path "%s": unknown system image "%s" (this cluster has: %s)'
                           % (where, path, image, ', '.join(sorted(sysimages)) or 'none'))
        return ImagePath(image, member)
    if '://' in path:
        raise JobError('%s: exec.path "%s": unknown scheme (use swift:// or file://)' % (where, path))
    if path.startswith('/'):
        raise JobError('%s: exec.path "%s": host paths are not allowed; name a program in an image '
                       '(file://<image>:<path>) or in Swift (swift://...)' % (where, path))
    return ImagePath('image', path)


def parse_device(d, sysimages, caller_account, where):
    if not isinstance(d, dict):
        raise JobError('%s: every device must be an object like {"name": "stdout"}' % where)
    name = d.get('name', d.get('device'))          # "device" is the deprecated 2014 key
    if not isinstance(name, str):
        raise JobError('%s: a device has no "name"' % where)
    kind = device_kind(name, sysimages)
    where = '%s device "%s"' % (where, name)
    if kind is None:
        raise JobError('%s: unknown device (known: %s)'
                       % (where, ', '.join(sorted(DEVICES) + sorted(sysimages))))
    if kind.network:
        raise not_supported(where + ' (a network device)')
    path = d.get('path')
    if path is not None:
        if kind.sysimage:
            raise JobError('%s: a system image takes no path; the cluster configures it' % where)
        if not isinstance(path, str) or not path.startswith('swift://'):
            raise JobError('%s: path "%s" must be swift://<account>/<container>/<object>'
                           % (where, path))
        path = SwiftPath.parse(path, caller_account, where)
    elif kind.readable and not kind.sysimage:
        raise JobError('%s: a readable device needs a "path" (swift://...)' % where)
    content_type = d.get('content_type')
    if content_type is not None and not isinstance(content_type, str):
        raise JobError('%s: "content_type" must be a string' % where)
    mode = d.get('mode')
    if mode is not None and mode not in MODES:
        raise JobError('%s: mode "%s" is not one of %s' % (where, mode, ', '.join(MODES)))
    meta = d.get('meta') or {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                             for k, v in meta.items()):
        raise JobError('%s: "meta" must be an object of strings' % where)
    return Device(name, kind, path, content_type, mode, meta)


def unescape_arg(word):
    """One word of an nvram-escaped command line back to the argument it stands for."""
    return re.sub(r'\\x([0-9a-fA-F]{2})', lambda m: chr(int(m.group(1), 16)), word)


def parse_group(g, index, sysimages, caller_account, bundle=False):
    if not isinstance(g, dict):
        raise JobError('job node %d: must be an object with "name" and "exec"' % (index + 1))
    name = g.get('name')
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise JobError('job node %d: "name" must be 1-64 letters, digits, "_", "-" or "."'
                       % (index + 1))
    where = 'node "%s"' % name
    connect = g.get('connect') or []
    if not isinstance(connect, list) or not all(isinstance(c, str) and c for c in connect):
        raise JobError('%s: "connect" must be a list of node names, like ["reduce"]' % where)
    if g.get('replicate', 1) not in (0, 1):
        raise not_supported(where + ': "replicate"')
    ex = g.get('exec')
    if not isinstance(ex, dict):
        raise JobError('%s: needs "exec": {"path": ...}' % where)
    program = parse_program(ex.get('path'), sysimages, caller_account, where)
    args = ex.get('args', g.get('args', ''))
    if isinstance(args, str):
        # the string is the nvram form zpm writes: words split by spaces, each word's own
        # spaces, commas, quotes and backslashes as \xHH (2014 ZeroCloud passed it on as is)
        args = [unescape_arg(a) for a in args.split()]
    elif not (isinstance(args, list) and all(isinstance(a, str) for a in args)):
        raise JobError('%s: exec.args must be a string (or a list of strings)' % where)
    env = ex.get('env') or {}
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                            for k, v in env.items()):
        raise JobError('%s: exec.env must be an object of strings' % where)
    for k in env:
        if not re.match(r'^[A-Za-z_][A-Za-z0-9_]*$', k):
            raise JobError('%s: exec.env name "%s" is not a valid variable name' % (where, k))
    argv0 = ex.get('name')
    if argv0 is not None and not isinstance(argv0, str):
        raise JobError('%s: exec.name must be a string' % where)

    raw = g.get('devices', g.get('file_list', []))
    if not isinstance(raw, list):
        raise JobError('%s: "devices" must be a list' % where)
    devices = []
    for d in raw:
        dev = parse_device(d, sysimages, caller_account, where)
        if any(x.name == dev.name for x in devices):
            raise JobError('%s: device "%s" is listed twice' % (where, dev.name))
        devices.append(dev)
    if bundle and not any(d.name == 'image' for d in devices):
        devices.append(Device('image', DEVICES['image'], from_request=True))
    # A program in a system image mounts that image too; a program inside the job's image needs one.
    if isinstance(program, ImagePath):
        if program.image == 'image' and not any(d.name == 'image' for d in devices):
            raise JobError('%s: exec.path "%s" is inside the job\'s image, but the job has no '
                           '"image" device (POST a bundle, or add {"name": "image", "path": '
                           '"swift://..."})' % (where, ex.get('path')))
        if program.image != 'image' and not any(d.name == program.image for d in devices):
            devices.append(Device(program.image, SYSIMAGE))

    count = g.get('count', 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise JobError('%s: "count" must be a whole number >= 1' % where)
    attach = g.get('attach')
    if attach not in (None, 'default'):
        if not any(d.name == attach for d in devices):
            raise JobError('%s: "attach" names device "%s", which the node does not have'
                           % (where, attach))
    else:
        attach = None
    return Group(name, program, argv0, args, env, devices, count, attach, connect)


def parse_job(text, sysimages=(), caller_account='', where='job', bundle=False):
    """Parses the job JSON (bytes or str) into checked Groups.  With `bundle`, the job came in a
    bundle, which is the `image` device of every node that does not name another."""
    if isinstance(text, bytes):
        try:
            text = text.decode('utf-8')
        except UnicodeDecodeError:
            raise JobError('%s: not UTF-8 text' % where)
    try:
        data = json.loads(text)
    except ValueError as e:
        raise JobError('%s: malformed JSON: %s' % (where, e))
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise JobError('%s: must be a JSON list of nodes like [{"name": ..., "exec": {...}}]'
                       % where)
    groups = [parse_group(g, i, set(sysimages), caller_account, bundle)
              for i, g in enumerate(data)]
    names = [g.name for g in groups]
    for n in names:
        if names.count(n) > 1:
            raise JobError('%s: node name "%s" is used twice' % (where, n))
    return groups


def wildcard_regex(pattern):
    return re.compile('^' + '(.*)'.join(re.escape(p) for p in pattern.split('*')) + '$', re.S)


def fill_wildcards(pattern, values, where):
    parts = pattern.split('*')
    if len(parts) - 1 > len(values):
        raise JobError('%s: "%s" has more wildcards than its input' % (where, pattern))
    out = parts[0]
    for value, part in zip(values, parts[1:]):
        out += value + part
    return out


def expand_group(group, lister, max_nodes):
    """Turns a Group into Nodes: one per object matching the readable wildcard, or `count`."""
    where = 'node "%s"' % group.name
    wild_in = [d for d in group.devices if d.kind.readable and d.path and d.path.has_wildcard]
    wild_out = [d for d in group.devices if d.kind.writable and d.path and d.path.has_wildcard]
    plain_out = [d for d in group.devices if d.kind.writable and d.path and not d.path.has_wildcard]
    if len(wild_in) > 1:
        raise JobError('%s: only one readable device may have a wildcard (%s)'
                       % (where, ', '.join(d.name for d in wild_in)))
    if wild_in:
        src = wild_in[0]
        if plain_out:
            raise JobError('%s: device "%s" has a wildcard, so every output path needs one too '
                           '(%s would be written by every node)' % (where, src.name, plain_out[0].name))
        rx = wildcard_regex(src.path.obj)
        prefix = src.path.obj.split('*', 1)[0]
        matches = []
        for obj in lister(src.path.account, src.path.container, prefix):
            m = rx.match(obj)
            if m:
                matches.append((obj, m.groups()))
        if not matches:
            raise JobError('%s: no object matches %s' % (where, src.path.url), status=404)
        instances = []
        for obj, values in matches:
            devs = []
            for d in group.devices:
                if d is src:
                    devs.append(d.copy(SwiftPath(d.path.account, d.path.container, obj,
                                                 listed=True)))
                elif d in wild_out:
                    devs.append(d.copy(d.path.with_object(
                        fill_wildcards(d.path.obj, values, where + ' device "%s"' % d.name))))
                else:
                    devs.append(d)
            instances.append(devs)
    else:
        n = group.count
        if n > 1 and plain_out:
            raise JobError('%s: "count" is %d, so output paths need a "*" (replaced by the node '
                           'number); %s would be written by every node' % (where, n, plain_out[0].name))
        if n == 1 and wild_out:
            raise JobError('%s: output "%s" has a wildcard but no input or count to fill it'
                           % (where, wild_out[0].name))
        instances = []
        for i in range(n):
            instances.append([d.copy(d.path.with_object(
                fill_wildcards(d.path.obj, [str(i + 1)], where + ' device "%s"' % d.name)))
                if d in wild_out else d for d in group.devices])
    if len(instances) > max_nodes:
        raise JobError('%s expands to %d nodes; this cluster runs at most %d per job'
                       % (where, len(instances), max_nodes))
    if len(instances) == 1:
        return [Node(group.name, group, instances[0])]
    return [Node('%s-%d' % (group.name, i + 1), group, devs) for i, devs in enumerate(instances)]


def expand_job(groups, lister, max_nodes=1000):
    nodes = []
    for g in groups:
        nodes.extend(expand_group(g, lister, max_nodes - len(nodes)))
    names = [n.name for n in nodes]
    for n in names:
        if names.count(n) > 1:
            raise JobError('job: two nodes are both named "%s" after expansion; rename one' % n)
    wire(groups, nodes)
    return nodes


def connect_targets(pattern, groups, nodes, where):
    """The nodes one `connect` entry names: a group (all its nodes), a node, or a `*` pattern."""
    group = next((g for g in groups if g.name == pattern), None)
    if group is not None:
        return [n for n in nodes if n.group is group]
    found = [n for n in nodes if fnmatch.fnmatchcase(n.name, pattern)]
    if not found:
        raise JobError('%s: "connect" names "%s", which is no node of this job (nodes: %s)'
                       % (where, pattern, ', '.join(n.name for n in nodes)))
    return found


def wire(groups, nodes):
    """Fills connect_out/connect_in from the groups' `connect`: any graph but a node's loop to
    itself."""
    for g in groups:
        where = 'node "%s"' % g.name
        targets = []
        for pattern in g.connect:
            for t in connect_targets(pattern, groups, nodes, where):
                if t not in targets:
                    targets.append(t)
        for src in (n for n in nodes if n.group is g):
            for dst in targets:
                if dst is src:
                    raise JobError('%s: "connect" makes %s write to itself; name the other '
                                   'nodes only' % (where, src.name))
                src.connect_out.append(dst.name)
                dst.connect_in.append(src.name)


def parse_shebang(script, sysimages):
    """The program a script names on its first line, as a one-node Group's exec: (path, args)."""
    first = script.split(b'\n', 1)[0].rstrip(b'\r')
    if not first.startswith(b'#!'):
        raise JobError('script: the first line must be a shebang naming the program, '
                       'e.g. "#!file://python:python"')
    try:
        words = first[2:].decode('utf-8').split()
    except UnicodeDecodeError:
        raise JobError('script: the shebang line is not UTF-8')
    if not words:
        raise JobError('script: the shebang names no program, e.g. "#!file://python:python"')
    path = words[0]
    if not path.startswith(('file://', 'swift://')):
        raise JobError('script: shebang "%s": name a program in a system image, like '
                       '"#!file://python:python" (this cluster has: %s)'
                       % (path, ', '.join(sorted(sysimages)) or 'none'))
    return path, words[1:]
