/*
 * report.c — the seven lines zvm prints at exit (man/zvm.1, REPORT), from the report's values.
 */
#include "session/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void session_report_channels(zvm_report *r, zvm_channel *const *channels, size_t n)
{
    size_t size = 1;
    for (size_t i = 0; i < n; i++)
        if (channels[i])
            size += strlen(zvm_channel_alias(channels[i])) + 34;
    char *etags = malloc(size), *p = etags;
    if (etags)
        *p = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!channels[i])
            continue;   /* not opened: the session failed first */
        zvm_channel_stats st;
        zvm_channel_get_stats(channels[i], &st);
        if (st.network) {
            r->net_reads += st.gets;
            r->net_read_bytes += st.get_bytes;
            r->net_writes += st.puts;
            r->net_write_bytes += st.put_bytes;
        } else {
            r->local_reads += st.gets;
            r->local_read_bytes += st.get_bytes;
            r->local_writes += st.puts;
            r->local_write_bytes += st.put_bytes;
        }
        char md5[33];
        if (etags && zvm_channel_etag(channels[i], md5))
            p += sprintf(p, "%s%s %s", p == etags ? "" : " ", zvm_channel_alias(channels[i]), md5);
    }
    free(r->etags);
    r->etags = etags;
}

char *zvm_report_text(const zvm_report *r)
{
    const char *etags = r->etags && r->etags[0] ? r->etags : "disable";
    char *text = NULL;
    /* The state is one line whatever a message held. */
    char state[sizeof r->state];
    snprintf(state, sizeof state, "%s", r->state[0] ? r->state : "ok");
    for (char *s = state; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
    if (asprintf(&text, "%d\n%d\n%d\n%s\n%.2f %.2f %lld %lld %lld %lld %lld %lld %lld %lld\n%s\n\n", r->validator_state,
                 r->daemon, r->user_rc, etags, r->sys_seconds, r->user_seconds, (long long)r->local_reads,
                 (long long)r->local_read_bytes, (long long)r->local_writes, (long long)r->local_write_bytes,
                 (long long)r->net_reads, (long long)r->net_read_bytes, (long long)r->net_writes,
                 (long long)r->net_write_bytes, state) < 0)
        return NULL;
    return text;
}

void zvm_report_free(zvm_report *r)
{
    free(r->etags);
    r->etags = NULL;
}
