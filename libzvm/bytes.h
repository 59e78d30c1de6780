/*
 * bytes.h — building and reading flat byte records: what the snapshot layers (wasm/suspend.c,
 * guest/guest_snapshot.c, session/snapshot.c) write their state as.  A writer grows as it goes
 * and remembers running out of memory; a reader never reads past its end and remembers it
 * tried, so a caller checks once at the end instead of after every field.  Numbers are in the
 * host's byte order: a snapshot is only ever read by the engine build that wrote it.
 */
#ifndef ZVM_BYTES_H
#define ZVM_BYTES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct bytes_out {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} bytes_out;

typedef struct bytes_in {
    const uint8_t *p;
    size_t n, at;
    bool bad;                    /* a read went past the end */
} bytes_in;

static inline void bytes_put(bytes_out *o, const void *v, size_t n)
{
    if (o->oom || n == 0)
        return;
    if (n > o->cap - o->n) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap - o->n < n)
            cap *= 2;
        uint8_t *p = realloc(o->p, cap);
        if (!p) {
            o->oom = true;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->n, v, n);
    o->n += n;
}

static inline void bytes_put32(bytes_out *o, uint32_t v)
{
    bytes_put(o, &v, sizeof v);
}

static inline void bytes_put64(bytes_out *o, uint64_t v)
{
    bytes_put(o, &v, sizeof v);
}

/* A length-prefixed string. */
static inline void bytes_put_str(bytes_out *o, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    bytes_put32(o, n);
    bytes_put(o, s, n);
}

/* n bytes at the reader, or NULL (and bad) when fewer are left. */
static inline const uint8_t *bytes_take(bytes_in *i, size_t n)
{
    if (i->bad || i->n - i->at < n) {
        i->bad = true;
        return NULL;
    }
    const uint8_t *p = i->p + i->at;
    i->at += n;
    return p;
}

static inline uint32_t bytes_get32(bytes_in *i)
{
    uint32_t v = 0;
    const uint8_t *p = bytes_take(i, sizeof v);
    if (p)
        memcpy(&v, p, sizeof v);
    return v;
}

static inline uint64_t bytes_get64(bytes_in *i)
{
    uint64_t v = 0;
    const uint8_t *p = bytes_take(i, sizeof v);
    if (p)
        memcpy(&v, p, sizeof v);
    return v;
}

/* A length-prefixed string into buf (NUL-terminated); false if it does not fit or is cut. */
static inline bool bytes_get_str(bytes_in *i, char *buf, size_t size)
{
    uint32_t n = bytes_get32(i);
    const uint8_t *p = bytes_take(i, n);
    if (!p || n >= size || memchr(p, 0, n)) {
        i->bad = true;
        return false;
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    return true;
}

#endif
