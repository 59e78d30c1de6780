/*
 * manifest.c — reads a ZeroVM manifest line by line and checks it against man/zvm-manifest.5.
 *
 * The parser works in two passes: the first takes each line apart (key = value, the channel's
 * eight fields) and catches what one line alone can get wrong; the second checks the manifest
 * as a whole (required keys, the std channels, unique aliases) and puts the channels in the
 * order the guest sees them.
 */
#include "manifest/manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The keys a manifest may have; the first four are required. */
static const char *const known_keys[] = { "Version", "Program", "Memory",     "Timeout",
                                          "Channel", "Node",    "NameServer", "Job" };
enum { REQUIRED_KEYS = 4, KNOWN_KEYS = sizeof known_keys / sizeof *known_keys };

/* An unknown key that looks like a required one: where, and as written (for "no X key"). */
typedef struct near_miss {
    int line;
    char text[40];
} near_miss;

/* Where in the manifest each single key was seen (0 = not yet), for "given twice" messages. */
typedef struct seen_keys {
    int version, program, memory, timeout, node, name_server, job;
    near_miss near[REQUIRED_KEYS];   /* the first line that looked like each required key */
} seen_keys;

/* A slice of the input text. */
typedef struct span {
    const char *p;
    size_t n;
} span;

static int fail(zvm_error *err, int code, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(zvm_error *err, int code, int line, const char *fmt, ...)
{
    int n = snprintf(err->msg, sizeof err->msg, "MANIFEST %d: ", line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static span trim(span s)
{
    while (s.n > 0 && is_blank(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && is_blank(s.p[s.n - 1]))
        s.n--;
    return s;
}

static bool span_is(span s, const char *word)
{
    return s.n == strlen(word) && memcmp(s.p, word, s.n) == 0;
}

/* A NUL-terminated copy, or NULL when out of memory. */
static char *span_dup(span s)
{
    char *c = malloc(s.n + 1);
    if (c) {
        memcpy(c, s.p, s.n);
        c[s.n] = '\0';
    }
    return c;
}

/* For messages: the span, cut to a readable length. */
static const char *span_show(span s, char *buf, size_t size)
{
    size_t n = s.n < size - 4 ? s.n : size - 4;
    memcpy(buf, s.p, n);
    strcpy(buf + n, s.n > n ? "..." : "");
    return buf;
}

/* What parse_int made of a value. */
enum number { NUMBER_OK, NUMBER_BAD, NUMBER_RANGE };

/* An integer as the 2014 manifests wrote them: decimal, 0x hex, or octal with a leading 0.
 * NUMBER_RANGE: a number, but beyond what 64 signed bits hold (INT64_MIN..INT64_MAX). */
static enum number parse_int(span s, int64_t *out)
{
    char buf[64];
    span digits = s.n && s.p[0] == '-' ? (span){ s.p + 1, s.n - 1 } : s;
    if (digits.n == 0 || digits.p[0] < '0' || digits.p[0] > '9')   /* strtoll would also take blanks and '+' */
        return NUMBER_BAD;
    if (s.n >= sizeof buf) {   /* too long for any int64 (leading zeros aside): a number only if all digits */
        for (size_t i = 0; i < digits.n; i++)
            if (!strchr("0123456789abcdefABCDEFxX", digits.p[i]))
                return NUMBER_BAD;
        return NUMBER_RANGE;
    }
    memcpy(buf, s.p, s.n);
    buf[s.n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 0);
    if (*end != '\0')
        return NUMBER_BAD;
    if (errno == ERANGE)
        return NUMBER_RANGE;
    *out = v;
    return NUMBER_OK;
}

/* Reads a whole number of at least min into *out, or fails with a message that says which
 * rule the value broke: rule says what is wanted ("a whole number of seconds, 1 or more"),
 * unit what the maximum counts. */
static int parse_count(span s, const char *key, const char *rule, int64_t min, const char *unit, int line, int64_t *out,
                       zvm_error *err)
{
    char show[120];
    switch (parse_int(s, out)) {
    case NUMBER_BAD:
        return fail(err, ZVM_EXIT_MANIFEST, line, "%s '%s' is not a number: it must be %s (decimal, 0x hex or 0 octal)",
                    key, span_show(s, show, sizeof show), rule);
    case NUMBER_RANGE:
        return fail(err, ZVM_EXIT_MANIFEST, line, "%s '%s' is out of range: the most is %lld %s", key,
                    span_show(s, show, sizeof show), (long long)INT64_MAX, unit);
    case NUMBER_OK: break;
    }
    if (*out < min)
        return fail(err, ZVM_EXIT_MANIFEST, line, "%s '%s' must be %s", key, span_show(s, show, sizeof show), rule);
    return 0;
}

/* Splits value at commas into at most max fields (each trimmed); returns how many there were. */
static size_t split_fields(span value, span *fields, size_t max)
{
    size_t n = 0;
    const char *p = value.p, *end = value.p + value.n;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (n < max)
            fields[n] = trim((span){ p, (size_t)(stop - p) });
        n++;
        if (!comma)
            return n;
        p = comma + 1;
    }
}

static void warn(zvm_manifest *m, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn(zvm_manifest *m, int line, const char *fmt, ...)
{
    zvm_manifest_warning *w = realloc(m->warnings, (m->nwarnings + 1) * sizeof *w);
    if (!w)
        return;   /* a lost warning is not worth failing the session */
    m->warnings = w;
    w += m->nwarnings++;
    w->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->msg, sizeof w->msg, fmt, ap);
    va_end(ap);
}

/* An alias is the guest's /dev/NAME: one path component, printable, no blanks (the report's
 * etag line separates aliases from digests by spaces).  /dev/in/NAME and /dev/out/NAME are the
 * ends of a connected job's channels (2014's names), so those two directories are allowed. */
static const char *alias_problem(span a)
{
    if (a.n <= 5 || memcmp(a.p, "/dev/", 5) != 0)
        return "must be /dev/NAME";
    span name = { a.p + 5, a.n - 5 };
    if (name.n > 3 && memcmp(name.p, "in/", 3) == 0)
        name = (span){ name.p + 3, name.n - 3 };
    else if (name.n > 4 && memcmp(name.p, "out/", 4) == 0)
        name = (span){ name.p + 4, name.n - 4 };
    if (span_is(name, ".") || span_is(name, ".."))
        return "must name a file, not . or ..";
    if (name.n > ZVM_MANIFEST_ALIAS_NAME_MAX)
        return "is too long: the NAME after /dev/ is a guest file name, at most 255 bytes";
    for (size_t i = 0; i < name.n; i++) {
        unsigned char c = (unsigned char)name.p[i];
        if (c == '/')
            return "must be /dev/NAME with no further '/' (only /dev/in/NAME and /dev/out/NAME have one)";
        if (c <= ' ' || c == 0x7f)
            return "must not contain blanks or control characters";
    }
    return NULL;
}

static const char *const limit_names[4] = { "gets", "get_size", "puts", "put_size" };

static int parse_channel(zvm_manifest *m, int line, span value, zvm_error *err)
{
    char show[120];
    span f[8];
    size_t n = split_fields(value, f, 8);
    if (n != 8)
        return fail(err, ZVM_EXIT_MANIFEST, line,
                    "Channel has %zu field%s, needs exactly 8: uri,alias,type,etag,gets,get_size,puts,put_size", n,
                    n == 1 ? "" : "s");
    if (m->nchannels >= ZVM_MANIFEST_MAX_CHANNELS)
        return fail(err, ZVM_EXIT_TOO_MANY, line, "more than %d channels; merge some, or split the job",
                    ZVM_MANIFEST_MAX_CHANNELS);

    span uri = f[0], alias = f[1];
    char *uri_text = span_dup(uri);
    bool network = uri_text && zvm_channel_uri_is_network(uri_text);
    const char *net_problem = network ? zvm_channel_network_uri_problem(uri_text) : NULL;
    free(uri_text);
    if (net_problem)
        return fail(err, ZVM_EXIT_MANIFEST, line, "network channel '%s': %s", span_show(uri, show, sizeof show),
                    net_problem);
    if (uri.n == 0)
        return fail(err, ZVM_EXIT_MANIFEST, line, "Channel has an empty uri; give an absolute host path");
    if (uri.p[0] != '/' && !network)
        return fail(err, ZVM_EXIT_MANIFEST, line, "channel uri '%s' is not an absolute path; write it from /",
                    span_show(uri, show, sizeof show));
    const char *why = alias_problem(alias);
    if (why)
        return fail(err, ZVM_EXIT_MANIFEST, line, "channel alias '%s' %s", span_show(alias, show, sizeof show), why);

    int64_t type, etag, limits[4];
    if (parse_int(f[2], &type) != NUMBER_OK || type < 0 || type > 3)
        return fail(err, ZVM_EXIT_MANIFEST, line, "channel type '%s' must be 0, 1, 2 or 3",
                    span_show(f[2], show, sizeof show));
    if (parse_int(f[3], &etag) != NUMBER_OK || (etag != 0 && etag != 1))
        return fail(err, ZVM_EXIT_MANIFEST, line, "channel etag '%s' must be 0 or 1",
                    span_show(f[3], show, sizeof show));
    for (int i = 0; i < 4; i++) {
        char key[32];
        snprintf(key, sizeof key, "channel %s", limit_names[i]);
        int rc = parse_count(f[4 + i], key, "0 or more", 0, i % 2 ? "bytes" : "calls", line, &limits[i], err);
        if (rc)
            return rc;
    }

    zvm_channel_spec spec = { .type = (enum zvm_channel_type)type, .etag = etag == 1, .line = line };
    memcpy(spec.limits, limits, sizeof limits);
    bool readable = zvm_channel_spec_readable(&spec), writable = zvm_channel_spec_writable(&spec);
    if (!readable && !writable)
        return fail(err, ZVM_EXIT_MANIFEST, line,
                    "channel %s can be neither read nor written: make gets and get_size, or puts and put_size, above 0",
                    span_show(alias, show, sizeof show));
    if (network && (type != ZVM_CH_SEQ_SEQ || readable == writable || span_is(alias, "/dev/nvram")))
        return fail(err, ZVM_EXIT_MANIFEST, line,
                    "network channel %s must be type 0 and either read or written, not both (and not /dev/nvram)",
                    span_show(alias, show, sizeof show));
    if (readable && writable && type == ZVM_CH_SEQ_SEQ)
        return fail(err, ZVM_EXIT_MANIFEST, line,
                    "channel %s is type 0 (sequential) and cannot be both read and written; use type 1, 2 or 3",
                    span_show(alias, show, sizeof show));

    /* The array holds the next power of two: it grows when nchannels reaches one. */
    if ((m->nchannels & (m->nchannels - 1)) == 0) {
        zvm_channel_spec *grown = realloc(m->channels, (m->nchannels ? m->nchannels * 2 : 1) * sizeof *grown);
        if (!grown)
            return fail(err, ZVM_EXIT_MANIFEST, line, "out of memory");
        m->channels = grown;
    }
    spec.uri = span_dup(uri);
    spec.alias = span_dup(alias);
    m->channels[m->nchannels++] = spec;
    if (!spec.uri || !spec.alias)
        return fail(err, ZVM_EXIT_MANIFEST, line, "out of memory");
    return 0;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Levenshtein distance between a and b, ignoring case; SIZE_MAX when a is too long to be a key. */
static size_t key_distance(span a, const char *b)
{
    enum { LONGEST = 32 };
    size_t nb = strlen(b), row[LONGEST + 1];
    if (a.n > LONGEST || nb > LONGEST)
        return SIZE_MAX;
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= a.n; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t above = row[j];
            size_t best = diagonal + (lower(a.p[i - 1]) != lower(b[j - 1]));
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[nb];
}

/* The known key an unknown one was probably meant to be: the same but for case, or one or two
 * letters off (one for short keys); -1 when none is that close. */
static int meant_key(span key)
{
    int best = -1;
    size_t best_distance = SIZE_MAX;
    for (int i = 0; i < KNOWN_KEYS; i++) {
        size_t d = key_distance(key, known_keys[i]), allowed = strlen(known_keys[i]) >= 6 ? 2 : 1;
        if (d <= allowed && d < best_distance) {
            best = i;
            best_distance = d;
        }
    }
    return best;
}

/* An unknown key: a warning, with "did you mean" for a near miss (remembered for check_whole). */
static void unknown_key(zvm_manifest *m, seen_keys *seen, int line, span key)
{
    char show[120];
    int meant = meant_key(key);
    if (meant < 0) {
        warn(m, line, "unknown key '%s' skipped (the keys are %s, %s, %s, %s, %s, %s, %s and %s)",
             span_show(key, show, sizeof show), known_keys[0], known_keys[1], known_keys[2], known_keys[3],
             known_keys[4], known_keys[5], known_keys[6], known_keys[7]);
        return;
    }
    bool case_only = key.n == strlen(known_keys[meant]) && key_distance(key, known_keys[meant]) == 0;
    warn(m, line, "unknown key '%s' skipped; did you mean %s?%s", span_show(key, show, sizeof show), known_keys[meant],
         case_only ? " (keys are case-sensitive)" : "");
    if (meant < REQUIRED_KEYS && !seen->near[meant].line) {
        seen->near[meant].line = line;
        span_show(key, seen->near[meant].text, sizeof seen->near[meant].text);
    }
}

/* Marks a single key as seen; an error if it was seen before. */
static int once(int *seen, const char *key, int line, zvm_error *err)
{
    if (*seen)
        return fail(err, ZVM_EXIT_MANIFEST, line, "%s given twice (first on line %d); keep one", key, *seen);
    *seen = line;
    return 0;
}

static int set_string(char **field, int *seen, const char *key, int line, span value, zvm_error *err)
{
    int rc = once(seen, key, line, err);
    if (rc)
        return rc;
    if (value.n == 0)
        return fail(err, ZVM_EXIT_MANIFEST, line, "%s is empty", key);
    if (!(*field = span_dup(value)))
        return fail(err, ZVM_EXIT_MANIFEST, line, "out of memory");
    return 0;
}

static int parse_line(zvm_manifest *m, seen_keys *seen, int line, span key, span value, zvm_error *err)
{
    char show[120];
    int rc;
    if (span_is(key, "Channel"))
        return parse_channel(m, line, value, err);
    if (span_is(key, "Program"))
        return set_string(&m->program, &seen->program, "Program", line, value, err);
    if (span_is(key, "Node"))
        return set_string(&m->node, &seen->node, "Node", line, value, err);
    if (span_is(key, "NameServer"))
        return set_string(&m->name_server, &seen->name_server, "NameServer", line, value, err);
    if (span_is(key, "Job"))
        return set_string(&m->job, &seen->job, "Job", line, value, err);
    if (span_is(key, "Version")) {
        if ((rc = once(&seen->version, "Version", line, err)))
            return rc;
        if (parse_int(value, &m->version) != NUMBER_OK || m->version != ZVM_MANIFEST_VERSION)
            return fail(err, ZVM_EXIT_MANIFEST, line, "Version is '%s'; zvm reads only Version = %d",
                        span_show(value, show, sizeof show), ZVM_MANIFEST_VERSION);
        return 0;
    }
    if (span_is(key, "Timeout")) {
        if ((rc = once(&seen->timeout, "Timeout", line, err)))
            return rc;
        return parse_count(value, "Timeout", "a whole number of seconds, 1 or more", 1, "seconds", line, &m->timeout,
                           err);
    }
    if (span_is(key, "Memory")) {
        if ((rc = once(&seen->memory, "Memory", line, err)))
            return rc;
        span f[2];
        int64_t bytes, etag;
        if (split_fields(value, f, 2) != 2)
            return fail(err, ZVM_EXIT_MANIFEST, line, "Memory '%s' must be <bytes>,<etag 0|1>",
                        span_show(value, show, sizeof show));
        if ((rc = parse_count(f[0], "Memory size", "a number of bytes above 0", 1, "bytes", line, &bytes, err)))
            return rc;
        if (parse_int(f[1], &etag) != NUMBER_OK || (etag != 0 && etag != 1))
            return fail(err, ZVM_EXIT_MANIFEST, line, "Memory etag '%s' must be 0 or 1",
                        span_show(f[1], show, sizeof show));
        m->memory = (uint64_t)bytes;
        m->memory_etag = etag == 1;
        return 0;
    }
    unknown_key(m, seen, line, key);
    return 0;
}

/* The guest's order: stdin, stdout, stderr, then the others sorted by alias. */
static int std_rank(const char *alias)
{
    static const char *const std[] = { "/dev/stdin", "/dev/stdout", "/dev/stderr" };
    for (int i = 0; i < 3; i++)
        if (strcmp(alias, std[i]) == 0)
            return i;
    return 3;
}

static int guest_order(const void *a, const void *b)
{
    const zvm_channel_spec *x = a, *y = b;
    int rx = std_rank(x->alias), ry = std_rank(y->alias);
    if (rx != ry)
        return rx - ry;
    return strcmp(x->alias, y->alias);
}

static int check_whole(zvm_manifest *m, const seen_keys *seen, zvm_error *err)
{
    static const char *const hints[4][2] = {
        { "Version", "Version = 20130611" },
        { "Program", "Program = /path/to/program.wasm" },
        { "Memory", "Memory = <bytes>,0" },
        { "Timeout", "Timeout = <seconds>" },
    };
    const int lines[4] = { seen->version, seen->program, seen->memory, seen->timeout };
    for (int i = 0; i < REQUIRED_KEYS; i++) {
        if (lines[i])
            continue;
        const near_miss *near = &seen->near[i];
        if (near->line)   /* point at the line that was probably meant */
            return fail(err, ZVM_EXIT_MANIFEST, near->line,
                        "no %s key, and '%s' on this line looks like a misspelling of it; write it '%s'", hints[i][0],
                        near->text, hints[i][0]);
        return fail(err, ZVM_EXIT_MANIFEST, 0, "no %s key; add a line '%s'", hints[i][0], hints[i][1]);
    }

    if (m->nchannels)   /* qsort wants an array, even of nothing */
        qsort(m->channels, m->nchannels, sizeof *m->channels, guest_order);
    for (size_t i = 1; i < m->nchannels; i++) {
        const zvm_channel_spec *a = &m->channels[i - 1], *b = &m->channels[i];
        if (strcmp(a->alias, b->alias) == 0) {
            const zvm_channel_spec *later = a->line > b->line ? a : b, *first = a->line > b->line ? b : a;
            return fail(err, ZVM_EXIT_MANIFEST, later->line,
                        "channel alias %s used twice (first on line %d); aliases must be unique", later->alias,
                        first->line);
        }
    }
    static const char *const std[] = { "/dev/stdin", "/dev/stdout", "/dev/stderr" };
    for (int i = 0; i < 3; i++)
        if ((size_t)i >= m->nchannels || strcmp(m->channels[i].alias, std[i]) != 0)
            return fail(err, ZVM_EXIT_MANIFEST, 0,
                        "no %s channel; every manifest declares /dev/stdin, /dev/stdout and /dev/stderr", std[i]);
    return 0;
}

int zvm_manifest_parse(const char *text, size_t size, zvm_manifest *out, zvm_error *err)
{
    zvm_manifest m = { 0 };
    seen_keys seen = { 0 };
    int line = 0, rc = 0;
    const char *p = text, *end = text + size;
    while (p < end && rc == 0) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        span s = trim((span){ p, (size_t)((nl ? nl : end) - p) });
        p = nl ? nl + 1 : end;
        if (s.n == 0 || s.p[0] == '#')
            continue;   /* blank lines and comments */
        if (memchr(s.p, '\0', s.n)) {
            rc = fail(err, ZVM_EXIT_MANIFEST, line, "contains a NUL byte; a manifest is text");
            break;
        }
        const char *eq = memchr(s.p, '=', s.n);
        char show[120];
        if (!eq) {
            warn(&m, line, "no '=' in '%s'; line skipped", span_show(s, show, sizeof show));
            continue;
        }
        if (memchr(eq + 1, '=', (size_t)(s.p + s.n - eq - 1))) {
            warn(&m, line, "more than one '=' in '%s'; line skipped", span_show(s, show, sizeof show));
            continue;
        }
        span key = trim((span){ s.p, (size_t)(eq - s.p) });
        span value = trim((span){ eq + 1, (size_t)(s.p + s.n - eq - 1) });
        rc = parse_line(&m, &seen, line, key, value, err);
    }
    if (rc == 0)
        rc = check_whole(&m, &seen, err);
    if (rc != 0) {
        zvm_manifest_free(&m);
        return rc;
    }
    *out = m;
    return 0;
}

int zvm_manifest_load(const char *path, zvm_manifest *out, zvm_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        snprintf(err->msg, sizeof err->msg, "cannot open manifest %s: %s", path, strerror(errno));
        return errno == ENOENT ? ZVM_EXIT_NOENT : ZVM_EXIT_IO;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err->msg, sizeof err->msg, "manifest %s is not a regular file; give the path of a manifest", path);
        close(fd);
        return ZVM_EXIT_IO;
    }
    /* Manifests are a few lines; refuse anything absurd rather than read gigabytes. */
    if (st.st_size > 64 * 1024 * 1024) {
        snprintf(err->msg, sizeof err->msg, "manifest %s is %lld bytes; that is not a manifest", path,
                 (long long)st.st_size);
        close(fd);
        return ZVM_EXIT_MANIFEST;
    }
    size_t size = (size_t)st.st_size, got = 0;
    char *text = malloc(size + 1);
    if (!text) {
        close(fd);
        snprintf(err->msg, sizeof err->msg, "out of memory reading manifest %s", path);
        return ZVM_EXIT_MEMORY;
    }
    while (got < size) {
        ssize_t n = read(fd, text + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err->msg, sizeof err->msg, "cannot read manifest %s: %s", path,
                     n < 0 ? strerror(errno) : "it shrank");
            free(text);
            close(fd);
            return ZVM_EXIT_IO;
        }
        got += (size_t)n;
    }
    close(fd);
    int rc = zvm_manifest_parse(text, size, out, err);
    free(text);
    return rc;
}

void zvm_manifest_free(zvm_manifest *m)
{
    for (size_t i = 0; i < m->nchannels; i++) {
        free(m->channels[i].uri);
        free(m->channels[i].alias);
    }
    free(m->channels);
    free(m->warnings);
    free(m->program);
    free(m->node);
    free(m->name_server);
    free(m->job);
    memset(m, 0, sizeof *m);
}
