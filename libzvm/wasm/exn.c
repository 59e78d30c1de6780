/*
 * exn.c — exceptions (the exception-handling proposal): the runtime's store of exceptions and
 * the search for the catch clause that takes one.  The interpreter (interp.c) does the rest:
 * walking its frame stack and resuming at the clause.  docs/Interpreter.md "Exceptions" tells
 * the whole story.
 *
 * The store is a stack of records (tag, payload).  A record is made when an exception is
 * thrown (or rethrown); once a clause catches it, it moves down to its place, keyed by who
 * caught it: (entry into the guest, frame depth, try level).  Clauses end without telling
 * anyone (a br leaves them), but lexical nesting means that when a clause of key k catches, every
 * record of key >= k belongs to a clause that has ended: so the store stays sorted by key, is
 * trimmed at each catch, and a record a live clause holds never moves.  The guest holds only the
 * record's index (in its clause's hidden slot, for rethrow), never an address.
 */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "wasm/exec.h"

struct exn_rec {
    const zvm_tag *tag;
    size_t at;                           /* payload: vals[at .. at + n) */
    uint32_t n;
    struct exn_key key;                  /* IN_FLIGHT until caught */
};

struct exn_store {
    struct exn_rec *recs;
    uint32_t nrecs, recs_cap;
    uint64_t *vals;
    size_t nvals, vals_cap;
};

static const struct exn_key IN_FLIGHT = { UINT32_MAX, UINT32_MAX, UINT32_MAX };

/* A guest that keeps this many exceptions caught at once (or payload values) is refused. */
#define EXN_MAX_RECORDS (1u << 20)
#define EXN_MAX_VALUES ((size_t)1 << 24)

static int key_cmp(struct exn_key a, struct exn_key b)
{
    if (a.nesting != b.nesting)
        return a.nesting < b.nesting ? -1 : 1;
    if (a.depth != b.depth)
        return a.depth < b.depth ? -1 : 1;
    return a.level < b.level ? -1 : a.level > b.level;
}

static bool grow(void **p, size_t *cap, size_t need, size_t size, size_t limit)
{
    return need <= limit && wasm_grow(p, cap, need, size);
}

int wasm_exn_throw(zvm_runtime *rt, const zvm_tag *tag, const void *payload, uint64_t from)
{
    struct exn_store *s = rt->exns;
    if (!s && !(s = rt->exns = calloc(1, sizeof *s)))
        return -1;
    size_t recs_cap = s->recs_cap;
    if (!grow((void **)&s->recs, &recs_cap, (size_t)s->nrecs + 1, sizeof *s->recs, EXN_MAX_RECORDS))
        return -1;
    s->recs_cap = (uint32_t)recs_cap;
    if (!tag) {                          /* rethrow: a copy of a caught record */
        tag = s->recs[from].tag;
        payload = NULL;
    }
    uint32_t n = tag->type->nparams;
    if (!grow((void **)&s->vals, &s->vals_cap, s->nvals + n, sizeof *s->vals, EXN_MAX_VALUES))
        return -1;
    if (n)
        memcpy(s->vals + s->nvals, payload ? payload : s->vals + s->recs[from].at, n * sizeof *s->vals);
    s->recs[s->nrecs++] = (struct exn_rec){ tag, s->nvals, n, IN_FLIGHT };
    s->nvals += n;
    return 0;
}

const zvm_tag *wasm_exn_tag(const zvm_runtime *rt)
{
    return rt->exns->recs[rt->exns->nrecs - 1].tag;
}

bool wasm_exn_valid(const zvm_runtime *rt, uint64_t index)
{
    const struct exn_store *s = rt->exns;
    return s && index < s->nrecs && key_cmp(s->recs[index].key, IN_FLIGHT) != 0;
}

uint64_t wasm_exn_catch(zvm_runtime *rt, struct exn_key k, uint64_t *payload)
{
    struct exn_store *s = rt->exns;
    struct exn_rec r = s->recs[s->nrecs - 1];
    uint32_t i = 0;                      /* the first record whose clause has ended */
    while (i < s->nrecs - 1 && key_cmp(s->recs[i].key, k) < 0)
        i++;
    size_t at = i ? s->recs[i - 1].at + s->recs[i - 1].n : 0;
    if (r.n)
        memmove(s->vals + at, s->vals + r.at, r.n * sizeof *s->vals);
    r.at = at;
    r.key = k;
    s->recs[i] = r;
    s->nrecs = i + 1;
    s->nvals = at + r.n;
    if (r.n)
        memcpy(payload, s->vals + at, r.n * sizeof *payload);
    return i;
}

void wasm_exn_reset(zvm_runtime *rt)
{
    if (rt->exns) {
        rt->exns->nrecs = 0;
        rt->exns->nvals = 0;
    }
}

void wasm_exn_free(zvm_runtime *rt)
{
    if (rt->exns) {
        free(rt->exns->recs);
        free(rt->exns->vals);
        free(rt->exns);
        rt->exns = NULL;
    }
}

int wasm_exn_note_function(struct code *c, struct code_func *cf)
{
    size_t cap = c->eh_funcs_cap;
    if (!grow((void **)&c->eh_funcs, &cap, (size_t)c->neh_funcs + 1, sizeof *c->eh_funcs, UINT32_MAX))
        return -1;
    c->eh_funcs_cap = (uint32_t)cap;
    c->eh_funcs[c->neh_funcs++] = cf;
    return 0;
}

/* Few functions have try blocks (in C, only those that call setjmp): a scan of them is cheaper
 * than finding every frame's function among all of the module's. */
const struct code_func *wasm_exn_func_at(const struct code *c, const cell *ip)
{
    for (uint32_t i = 0; i < c->neh_funcs; i++) {
        const struct code_func *cf = c->eh_funcs[i];
        if (cf->cells && ip >= cf->cells && ip < cf->cells + cf->ncells)
            return cf;
    }
    return NULL;
}

/* The innermost try of cf whose body holds cell `at`, or -1.  Tries are sorted by start: the
 * last one starting at or before `at` either holds it or lies inside (by its parents) the
 * innermost one that does. */
static int32_t innermost_try(const struct code_func *cf, uint32_t at)
{
    uint32_t lo = 0, hi = cf->ntries;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (cf->tries[mid].start <= at)
            lo = mid + 1;
        else
            hi = mid;
    }
    int32_t t = (int32_t)lo - 1;
    while (t >= 0 && !(cf->tries[t].start <= at && at < cf->tries[t].end))
        t = cf->tries[t].parent;
    return t;
}

const struct code_catch *wasm_exn_find_catch(const struct code_func *cf, uint32_t at, const zvm_instance *inst,
                                             const zvm_tag *tag, uint32_t *level)
{
    for (int32_t t = innermost_try(cf, at); t >= 0;) {
        const struct code_try *try = &cf->tries[t];
        if (try->delegate != CODE_NO_DELEGATE) {
            t = try->delegate;
            continue;
        }
        for (int32_t k = try->first_catch; k >= 0; k = cf->catches[k].next) {
            const struct code_catch *cc = &cf->catches[k];
            if (cc->tag == CODE_CATCH_ALL || inst->tags[cc->tag] == tag) {
                *level = try->level;
                return cc;
            }
        }
        t = try->parent;
    }
    return NULL;
}

/* ---- snapshots (suspend.c): the exceptions the saved guest's clauses hold ---- */

/* The caught exceptions of the entry into the guest that is being saved: the records of
 * nesting 1, a prefix of the store (deeper entries and exceptions in flight sort after them).
 * A tag is written as its position in inst's tags.  0, or -1 if a tag is not inst's. */
int wasm_exn_save(const zvm_runtime *rt, const zvm_instance *inst, bytes_out *o)
{
    const struct exn_store *s = rt->exns;
    const wasm_module *w = inst->module->w;
    uint32_t n = 0;
    while (s && n < s->nrecs && s->recs[n].key.nesting == 1)
        n++;
    bytes_put32(o, n);
    for (uint32_t i = 0; i < n; i++) {
        const struct exn_rec *r = &s->recs[i];
        uint32_t tag = 0;
        while (tag < w->ntags && inst->tags[tag] != r->tag)
            tag++;
        if (tag == w->ntags)
            return -1;
        bytes_put32(o, tag);
        bytes_put32(o, r->key.depth);
        bytes_put32(o, r->key.level);
        bytes_put(o, s->vals + r->at, r->n * sizeof *s->vals);
    }
    return 0;
}

/* Reads what wasm_exn_save wrote, checking every tag and length against inst; with install,
 * the records also become the runtime's store (as caught by entry 1: zvm_instance_resume runs
 * the guest as the outermost entry).  0, or -1 on a damaged state (or out of memory). */
int wasm_exn_restore(zvm_runtime *rt, const zvm_instance *inst, bytes_in *in, bool install)
{
    const wasm_module *w = inst->module->w;
    uint32_t n = bytes_get32(in);
    if (in->bad || n > EXN_MAX_RECORDS)
        return -1;
    if (install)
        wasm_exn_reset(rt);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t tag = bytes_get32(in);
        struct exn_key k = { 1, bytes_get32(in), bytes_get32(in) };
        if (in->bad || tag >= w->ntags || k.depth > rt->cfg.max_call_depth)
            return -1;
        const uint8_t *payload = bytes_take(in, (size_t)inst->tags[tag]->type->nparams * sizeof(uint64_t));
        if (!payload)
            return -1;
        if (!install)
            continue;
        if (wasm_exn_throw(rt, inst->tags[tag], payload, 0) != 0)
            return -1;
        rt->exns->recs[rt->exns->nrecs - 1].key = k;
    }
    return 0;
}
