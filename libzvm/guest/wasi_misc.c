/*
 * wasi_misc.c — the WASI calls that are not about files: arguments and environment (from
 * nvram), the virtual clocks, poll_oneoff, random_get, process exit, and sockets (absent).
 *
 * Determinism: nothing here reads the host.  The clocks are one counter that moves by
 * GUEST_CLOCK_STEP_NS per reading and by the timeout of a clock subscription; random_get is
 * xoshiro256** seeded from nvram [random] seed= through splitmix64.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/guest_impl.h"
#include "guest/wasi_abi.h"

#define U32(i) ((uint32_t)a[i])

/* ---- args and environ --------------------------------------------------- */

static int32_t sizes_get(zvm_guest *g, char **list, size_t n, uint32_t count_ptr, uint32_t size_ptr)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += strlen(list[i]) + 1;
    int32_t e = guest_store_u32(g, count_ptr, (uint32_t)n);
    return e ? e : guest_store_u32(g, size_ptr, (uint32_t)bytes);
}

static int32_t list_get(zvm_guest *g, char **list, size_t n, uint32_t ptrs, uint32_t buf)
{
    if (!guest_ptr(g, ptrs, 4ull * n))
        return WASI_EFAULT;
    uint64_t at = buf;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(list[i]) + 1;
        uint8_t *dst = guest_ptr(g, at, len);
        if (!dst)
            return WASI_EFAULT;
        memcpy(dst, list[i], len);
        put_u32(g->mem + ptrs + 4 * i, (uint32_t)at);
        at += len;
    }
    return 0;
}

int32_t wasi_args_sizes_get(zvm_guest *g, const zvm_val *a)
{
    return sizes_get(g, g->argv, g->argc, U32(0), U32(1));
}
int32_t wasi_args_get(zvm_guest *g, const zvm_val *a)
{
    return list_get(g, g->argv, g->argc, U32(0), U32(1));
}
int32_t wasi_environ_sizes_get(zvm_guest *g, const zvm_val *a)
{
    return sizes_get(g, g->env, g->nenv, U32(0), U32(1));
}
int32_t wasi_environ_get(zvm_guest *g, const zvm_val *a)
{
    return list_get(g, g->env, g->nenv, U32(0), U32(1));
}

/* ---- clocks -------------------------------------------------------------- */

void guest_clock_advance(zvm_guest *g, uint64_t ns)
{
    g->mono_ns = g->mono_ns + ns < g->mono_ns ? UINT64_MAX - g->wall_base_ns : g->mono_ns + ns;
    g->wall_ns = g->wall_base_ns + g->mono_ns;
}

/* What clock id reads now; false for an unknown clock. */
static bool clock_now(const zvm_guest *g, uint32_t id, uint64_t *now)
{
    switch (id) {
    case WASI_CLOCK_REALTIME: *now = g->wall_ns; return true;
    case WASI_CLOCK_MONOTONIC:
    case WASI_CLOCK_PROCESS_CPUTIME:
    case WASI_CLOCK_THREAD_CPUTIME: *now = g->mono_ns; return true;
    default: return false;
    }
}

int32_t wasi_clock_res_get(zvm_guest *g, const zvm_val *a)
{
    uint64_t now;
    if (!clock_now(g, U32(0), &now))
        return WASI_EINVAL;
    return guest_store_u64(g, U32(1), GUEST_CLOCK_STEP_NS);
}

int32_t wasi_clock_time_get(zvm_guest *g, const zvm_val *a)
{
    uint64_t now;
    if (!clock_now(g, U32(0), &now))
        return WASI_EINVAL;
    if (!guest_ptr(g, U32(2), 8))
        return WASI_EFAULT;
    guest_clock_advance(g, GUEST_CLOCK_STEP_NS);
    clock_now(g, U32(0), &now);
    return guest_store_u64(g, U32(2), now);
}

/* ---- poll_oneoff ----------------------------------------------------------- */

/* When a clock subscription is due, on the monotonic scale, counting relative timeouts
 * from start.  False for an unknown clock. */
static bool clock_deadline(const zvm_guest *g, const uint8_t *sub, uint64_t start, uint64_t *deadline)
{
    uint32_t id = get_u32(sub + 16);
    uint64_t timeout = get_u64(sub + 24), now;
    if (!clock_now(g, id, &now))
        return false;
    if (get_u16(sub + 40) & WASI_SUBCLOCK_ABSTIME) {
        uint64_t base = id == WASI_CLOCK_REALTIME ? g->wall_base_ns : 0;
        *deadline = timeout > base ? timeout - base : 0;
    } else {
        *deadline = start + timeout < start ? UINT64_MAX : start + timeout;
    }
    return true;
}

/*
 * Channels and files never block here: every fd subscription is ready at once.  When none
 * is, nothing could wake the guest but a clock, so the clock jumps to the earliest deadline
 * and the subscriptions due by then fire: a sleep takes no host time.
 */
int32_t wasi_poll_oneoff(zvm_guest *g, const zvm_val *a)
{
    uint32_t in = U32(0), out = U32(1), n = U32(2), nevents_ptr = U32(3);
    if (n == 0)
        return WASI_EINVAL;
    uint8_t *subs = guest_ptr(g, in, (uint64_t)n * WASI_SUBSCRIPTION_SIZE);
    uint8_t *events = guest_ptr(g, out, (uint64_t)n * WASI_EVENT_SIZE);
    if (!subs || !events || !guest_ptr(g, nevents_ptr, 4))
        return WASI_EFAULT;
    if (in < out ? (uint64_t)in + (uint64_t)n * WASI_SUBSCRIPTION_SIZE > out
                 : (uint64_t)out + (uint64_t)n * WASI_EVENT_SIZE > in)
        return WASI_EINVAL;                          /* the arrays overlap */

    /* Pass 1: is any fd subscription there (all are ready), and the earliest deadline. */
    uint64_t start = g->mono_ns, earliest = UINT64_MAX, deadline;
    bool any_fd = false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = subs + (size_t)i * WASI_SUBSCRIPTION_SIZE;
        if (s[8] == WASI_EVENTTYPE_FD_READ || s[8] == WASI_EVENTTYPE_FD_WRITE)
            any_fd = true;
        else if (s[8] == WASI_EVENTTYPE_CLOCK && clock_deadline(g, s, start, &deadline) && deadline < earliest)
            earliest = deadline;
    }
    if (!any_fd && earliest != UINT64_MAX && earliest > g->mono_ns)
        guest_clock_advance(g, earliest - g->mono_ns);

    /* Pass 2: the events, in subscription order. */
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = subs + (size_t)i * WASI_SUBSCRIPTION_SIZE;
        uint8_t tag = s[8];
        uint16_t error = 0;
        uint64_t nbytes = 0;
        if (tag == WASI_EVENTTYPE_CLOCK) {
            if (!clock_deadline(g, s, start, &deadline))
                error = WASI_EINVAL;
            else if (deadline > g->mono_ns)
                continue;          /* not due yet */
        } else if (tag == WASI_EVENTTYPE_FD_READ || tag == WASI_EVENTTYPE_FD_WRITE) {
            guest_fd *f = guest_fd_get(g, get_u32(s + 16));
            if (!f) {
                error = WASI_EBADF;
            } else if (tag == WASI_EVENTTYPE_FD_READ && f->node->kind == VFS_FILE) {
                nbytes = f->node->size > f->pos ? f->node->size - f->pos : 0;
            } else if (tag == WASI_EVENTTYPE_FD_READ && f->node->kind == VFS_DEVICE) {
                int64_t size = zvm_channel_size(guest_node_channel(f->node)->ch);
                nbytes = size > 0 && (uint64_t)size > f->pos ? (uint64_t)size - f->pos : 1;
            }
        } else {
            error = WASI_EINVAL;
            tag = 0;
        }
        uint8_t *ev = events + (size_t)count * WASI_EVENT_SIZE;
        memset(ev, 0, WASI_EVENT_SIZE);
        put_u64(ev, get_u64(s));
        put_u16(ev + 8, error);
        put_u8(ev + 10, tag);
        put_u64(ev + 16, nbytes);
        count++;
    }
    put_u32(g->mem + nevents_ptr, count);
    return 0;
}

/* ---- random ------------------------------------------------------------------ */

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next_random(zvm_guest *g)
{
    uint64_t *s = g->rng;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

int32_t wasi_random_get(zvm_guest *g, const zvm_val *a)
{
    uint8_t *buf = guest_ptr(g, U32(0), U32(1));
    if (!buf)
        return WASI_EFAULT;
    for (uint32_t i = 0; i < U32(1); i += 8) {
        uint64_t r = next_random(g);
        for (uint32_t j = 0; j < 8 && i + j < U32(1); j++)
            buf[i + j] = (uint8_t)(r >> (8 * j));
    }
    return 0;
}

/* ---- process ------------------------------------------------------------------- */

int32_t wasi_proc_exit(zvm_guest *g, const zvm_val *a)
{
    g->exit_requested = true;
    g->exit_code = (int)U32(0);
    return 0;
}

/* No signals in a sandbox: raising one ends the guest as a trap that names it. */
int32_t wasi_proc_raise(zvm_guest *g, const zvm_val *a)
{
    if (U32(0) == 0)
        return 0;
    if (U32(0) > 64)
        return WASI_EINVAL;
    snprintf(g->trap, sizeof g->trap, "proc_raise: the guest raised signal %u", U32(0));
    return 0;
}

int32_t wasi_sched_yield(zvm_guest *g, const zvm_val *a)
{
    return 0;
}

/* ---- sockets: a guest has none (its network, when there is one, is channels) ---- */

static int32_t no_sockets(zvm_guest *g, uint32_t fd)
{
    return guest_fd_get(g, fd) ? WASI_ENOTSUP : WASI_EBADF;
}
int32_t wasi_sock_accept(zvm_guest *g, const zvm_val *a)
{
    return no_sockets(g, U32(0));
}
int32_t wasi_sock_recv(zvm_guest *g, const zvm_val *a)
{
    return no_sockets(g, U32(0));
}
int32_t wasi_sock_send(zvm_guest *g, const zvm_val *a)
{
    return no_sockets(g, U32(0));
}
int32_t wasi_sock_shutdown(zvm_guest *g, const zvm_val *a)
{
    return no_sockets(g, U32(0));
}
