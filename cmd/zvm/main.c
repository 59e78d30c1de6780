/*
 * zvm — runs a ZeroVM manifest: loads and validates the program, opens its channels, runs it
 * under the manifest's limits, and prints the 7-line report.  The session itself is libzvm's
 * (session/session.h); this file is the command line.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "session/session.h"
#include "version.h"

static const char usage_text[] =
    "usage: zvm [options] MANIFEST\n"
    "Runs the WebAssembly program a ZeroVM manifest names, with only the manifest's channels for I/O,\n"
    "then prints the report (7 lines) on stdout.  Options may come before or after MANIFEST.\n"
    "\n"
    "  -s         skip validation (reported as validator state 2; the engine still validates)\n"
    "  -F         check the manifest, validate the program, open the channels, then stop\n"
    "  -t 0|1     send the report to stdout (0, default) or to syslog (1)\n"
    "  -v N       verbosity: 2 adds the session's steps (manifest warnings are always shown)\n"
    "  -T FILE    write a trace of the session and of every host call to FILE\n"
    "  -P         accepted for compatibility (zvm never preallocates write channels)\n"
    "  -Q         accepted for compatibility (no platform qualification to skip)\n"
    "  -M         accepted for compatibility (2014 zvm's platform switch; nothing to switch)\n"
    "  --cache DIR       the snapshot cache (default $ZVM_CACHE_DIR, else $XDG_CACHE_HOME/zvm,\n"
    "                    else ~/.cache/zvm); created 0700, and refused unless private\n"
    "  --cache-size N    the most bytes its snapshots may take (default 4 GiB)\n"
    "  --no-snapshot     neither resume nor write a snapshot (see zvm_fork in zvm(1))\n"
    "  --help     this text\n"
    "  --version  the version\n"
    "\n"
    "Exit status: 0, or the errno of the first failure: 2 missing file, 4 trap or timeout, 5 I/O,\n"
    "8 invalid program, 12 memory, 14 manifest, 22 bad command line, 23 too many channels;\n"
    "128+N when signal N (SIGINT, SIGTERM, SIGHUP, SIGPIPE) stopped the session.\n"
    "See zvm(1) and zvm-manifest(5).\n";

static int bad_usage(const char *fmt, const char *arg)
{
    fputs("zvm: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("; see 'zvm --help'\n", stderr);
    return ZVM_EXIT_USAGE;
}

/* A small non-negative decimal, or -1. */
static int small_number(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 1000)
        return -1;
    return (int)v;
}

/* -t 1: one syslog message with the six report lines as fields. */
static void report_to_syslog(const zvm_report *r, const char *manifest)
{
    openlog("zvm", LOG_PID, LOG_USER);
    syslog(r->exit_code ? LOG_ERR : LOG_INFO,
           "manifest=%s validator=%d daemon=%d rc=%d etags=%s "
           "accounting=%.2f %.2f %lld %lld %lld %lld %lld %lld %lld %lld state=%s",
           manifest, r->validator_state, r->daemon, r->user_rc, r->etags && r->etags[0] ? r->etags : "disable",
           r->sys_seconds, r->user_seconds, (long long)r->local_reads, (long long)r->local_read_bytes,
           (long long)r->local_writes, (long long)r->local_write_bytes, (long long)r->net_reads,
           (long long)r->net_read_bytes, (long long)r->net_writes, (long long)r->net_write_bytes, r->state);
    closelog();
}

int main(int argc, char **argv)
{
    static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },        { "version", no_argument, NULL, 'V' },
        { "cache", required_argument, NULL, 'C' }, { "cache-size", required_argument, NULL, 'Z' },
        { "no-snapshot", no_argument, NULL, 'N' }, { NULL, 0, NULL, 0 },
    };
    zvm_session_options opt = { .log = stderr };
    int to_syslog = 0, c;
    const char *trace_path = NULL;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":sFt:v:T:PQM", long_options, NULL)) != -1) {
        switch (c) {
        case 's': opt.skip_validation = true; break;
        case 'F': opt.check_only = true; break;
        case 'P':
        case 'Q':
        case 'M': break;
        case 't':
            if (strcmp(optarg, "0") != 0 && strcmp(optarg, "1") != 0)
                return bad_usage("-t takes 0 (report on stdout) or 1 (report to syslog), not '%s'", optarg);
            to_syslog = optarg[0] == '1';
            break;
        case 'v':
            if ((opt.verbosity = small_number(optarg)) < 0)
                return bad_usage("-v takes a verbosity level 0 to 1000, not '%s'", optarg);
            break;
        case 'T': trace_path = optarg; break;
        case 'C': opt.cache_dir = optarg; break;
        case 'N': opt.no_snapshots = true; break;
        case 'Z': {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-')
                return bad_usage("--cache-size takes a number of bytes, not '%s'", optarg);
            opt.cache_bytes = n ? n : 1;
            break;
        }
        case 'h': fputs(usage_text, stdout); return 0;
        case 'V': printf("zvm %s\n", zvm_version()); return 0;
        case ':': {
            char o[3] = { '-', (char)optopt, 0 };
            return bad_usage("option %s needs a value", o);
        }
        default: {
            if (optopt) {
                char o[3] = { '-', (char)optopt, 0 };
                return bad_usage("unknown option %s", o);
            }
            return bad_usage("unknown option %s", argv[optind - 1]);
        }
        }
    }
    if (optind == argc)
        return bad_usage("%s", "no manifest given: usage is 'zvm [options] MANIFEST'");
    if (optind + 1 < argc)
        return bad_usage("one manifest at a time; '%s' is one too many", argv[optind + 1]);
    const char *manifest = argv[optind];
    char cache[4096];
    if (!opt.cache_dir)
        opt.cache_dir = zvm_default_cache_dir(cache, sizeof cache);

    if (trace_path && !(opt.trace = fopen(trace_path, "we"))) {
        char what[600];
        snprintf(what, sizeof what, "cannot write the trace file %s: %s", trace_path, strerror(errno));
        return bad_usage("%s", what);
    }
    /* SIGINT, SIGTERM, SIGHUP stop the session as a Timeout does; SIGPIPE too (a reader of an
     * output went away), and the report going to a closed pipe is then an error, never a death. */
    opt.stop = zvm_stop_on_signals();

    zvm_report report;
    int rc = zvm_session_run_file(manifest, &opt, &report);
    if (to_syslog) {
        report_to_syslog(&report, manifest);
    } else {
        char *text = zvm_report_text(&report);
        if (text)
            fputs(text, stdout);
        free(text);
        fflush(stdout);
    }
    int sig = *opt.stop;
    if (sig && rc == 0)
        fprintf(stderr, "zvm: %s came after the session ended; its outputs are complete\n", zvm_signal_name(sig));
    else if (rc != 0)
        fprintf(stderr, "zvm: %s%s\n", report.state, sig ? "; no wo image was written back" : "");
    zvm_report_free(&report);
    if (opt.trace)
        fclose(opt.trace);
    return sig ? 128 + sig : rc;
}
