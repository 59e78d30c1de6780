"""The zvm side of a node: manifest and nvram text, and the report zvm prints (man/zvm-manifest.5, man/zvm.1).

Pure functions, no I/O: objectquery writes what these return and reads what zvm prints.
"""

MANIFEST_VERSION = 20130611

# Channel types (man/zvm-manifest.5, CHANNELS): sequential/random read, sequential/random write.
SEQ_SEQ, RANDOM_READ, RANDOM_WRITE, RANDOM_RANDOM = 0, 1, 2, 3

# zvm's exit codes that mean "the guest ran and this is how it ended": it did (0), it trapped or
# timed out (4), it was not a valid program (8), it went past its memory (12), a network channel
# broke because its peer (another node of the job) failed (32).  Anything else (missing file, I/O,
# manifest, command line, too many channels) means the middleware or the host failed, and the
# node is answered with a 5xx.
GUEST_OUTCOMES = (0, 4, 8, 12, 32)


def nvram_escape(value):
    """Escapes a value for nvram: the separators and quotes as \\xHH (man/zvm-manifest.5, NVRAM)."""
    out = []
    for ch in value:
        if ch in ', "\\\n':
            out.append('\\x%02x' % ord(ch))
        else:
            out.append(ch)
    return ''.join(out)


def build_nvram(argv, env, mounts, mappings):
    """argv: list; env: dict; mounts: [channel alias]; mappings: [(channel alias, mode)]."""
    lines = ['[args]', 'args = ' + ' '.join(nvram_escape(a) for a in argv)]
    if env:
        lines.append('[env]')
        for k in sorted(env):
            lines.append('name=%s, value=%s' % (nvram_escape(k), nvram_escape(env[k])))
    if mounts:
        lines.append('[fstab]')
        for alias in mounts:
            lines.append('channel=%s, mountpoint=/, access=ro, removable=no' % alias)
    if mappings:
        lines.append('[mapping]')
        for alias, mode in mappings:
            lines.append('channel=%s, mode=%s' % (alias, mode))
    return '\n'.join(lines) + '\n'


class Channel:
    """One manifest Channel line."""

    def __init__(self, uri, alias, kind, readable=False, writable=False, etag=False):
        self.uri = uri
        self.alias = alias
        self.kind = kind
        self.readable = readable
        self.writable = writable
        self.etag = etag

    def line(self, maxiops, maxinput, maxoutput):
        gets, get_size = (maxiops, maxinput) if self.readable else (0, 0)
        puts, put_size = (maxiops, maxoutput) if self.writable else (0, 0)
        return 'Channel = %s,%s,%d,%d,%d,%d,%d,%d' % (
            self.uri, self.alias, self.kind, 1 if self.etag else 0, gets, get_size, puts, put_size)


def build_manifest(program, memory, timeout, channels, maxiops, maxinput, maxoutput, node=1):
    for ch in channels:
        if ',' in ch.uri:
            raise ValueError('channel path %r contains a comma' % ch.uri)
    lines = ['Version = %d' % MANIFEST_VERSION,
             'Program = %s' % program,
             'Memory = %d,0' % memory,
             'Timeout = %d' % timeout,
             'Node = %d' % node]
    lines += [ch.line(maxiops, maxinput, maxoutput) for ch in channels]
    return '\n'.join(lines) + '\n'


class Report:
    """zvm's 7-line report: validator state, daemon, user return code, etags, accounting, exit state."""

    def __init__(self, validation, daemon, retcode, etags, cdr, status):
        self.validation = validation
        self.daemon = daemon
        self.retcode = retcode
        self.etags = etags
        self.cdr = cdr
        self.status = status

    def etag_of(self, alias):
        """The MD5 zvm computed for a channel, or None."""
        words = self.etags.split()
        for i in range(0, len(words) - 1, 2):
            if words[i] == alias:
                return words[i + 1]
        return None

    def to_dict(self):
        return dict(validation=self.validation, daemon=self.daemon, retcode=self.retcode,
                    etags=self.etags, cdr=self.cdr, status=self.status)

    @classmethod
    def from_dict(cls, d):
        return cls(d['validation'], d['daemon'], d['retcode'], d['etags'], d['cdr'], d['status'])


def parse_report(text):
    """The Report in zvm's stdout, or None when it is not a well-formed report."""
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    lines = text.split('\n')
    if len(lines) < 6:
        return None
    try:
        validation = int(lines[0])
        daemon = int(lines[1])
        retcode = int(lines[2])
    except ValueError:
        return None
    cdr = lines[4].strip()
    if len(cdr.split()) != 10:
        return None
    return Report(validation, daemon, retcode, lines[3].strip(), cdr, lines[5].strip())


def outcome(exit_code, report):
    """(HTTP status, error message or None) of one node from zvm's exit code and report."""
    if report is None:
        return 500, 'zvm failed (exit code %s) without a report' % exit_code
    if exit_code not in GUEST_OUTCOMES:
        return 500, 'zvm failed (exit code %d): %s' % (exit_code, report.status)
    if report.status != 'ok':
        return 200, report.status
    return 200, None
