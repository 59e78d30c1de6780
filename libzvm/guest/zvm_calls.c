/*
 * zvm_calls.c — import module "zvm": ZeroVM's own calls, straight onto the channels.
 *
 * Channels are numbered in the guest's order (stdin, stdout, stderr, then by alias).
 * Results are a count or a negative errno of the host's numbering (-EDQUOT is -122), as
 * ZeroVM's zvm_pread/zvm_pwrite returned them.  As in ZeroVM, the offset of a sequential
 * direction is ignored: the channel's own position is used.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "guest/guest_impl.h"

#define U32(i) ((uint32_t)a[i])

static guest_channel *channel(zvm_guest *g, uint32_t i)
{
    return i < g->nchannels ? &g->channels[i] : NULL;
}

static int32_t transfer(zvm_guest *g, const zvm_val *a, bool writing)
{
    guest_channel *c = channel(g, U32(0));
    if (!c)
        return -EBADF;
    uint32_t size = U32(2) > INT32_MAX ? INT32_MAX : U32(2);
    uint8_t *buf = guest_ptr(g, U32(1), size);
    if (!buf)
        return -EFAULT;
    int64_t offset = (int64_t)a[3];
    enum zvm_channel_type t = zvm_channel_type(c->ch);
    bool random = writing ? (t == ZVM_CH_SEQ_RND || t == ZVM_CH_RND_RND) : (t == ZVM_CH_RND_SEQ || t == ZVM_CH_RND_RND);
    if (!random)
        offset = -1;
    else if (offset < 0)
        return -EINVAL;
    int64_t r = guest_channel_io(g, c, buf, size, offset, writing);
    return (int32_t)r;
}

int32_t zvm_call_pread(zvm_guest *g, const zvm_val *a)
{
    return transfer(g, a, false);
}
int32_t zvm_call_pwrite(zvm_guest *g, const zvm_val *a)
{
    return transfer(g, a, true);
}

int32_t zvm_call_exit_(zvm_guest *g, const zvm_val *a)
{
    g->exit_requested = true;
    g->exit_code = (int)U32(0);
    return 0;
}

int32_t zvm_call_channel_count(zvm_guest *g, const zvm_val *a)
{
    return (int32_t)g->nchannels;
}

/* struct zvm_channel_info (pkg/sdk/include/zvm.h): limits[4] @0, size @32, type @40,
 * flags @44 (1 readable, 2 writable), name_len @48, reserved @52; 56 bytes. */
int32_t zvm_call_channel_info(zvm_guest *g, const zvm_val *a)
{
    guest_channel *c = channel(g, U32(0));
    if (!c)
        return -EBADF;
    uint8_t *p = guest_ptr(g, U32(1), 56);
    if (!p)
        return -EFAULT;
    for (int i = 0; i < 4; i++)
        put_u64(p + 8 * i, (uint64_t)zvm_channel_limit(c->ch, (enum zvm_channel_limit)i));
    put_u64(p + 32, (uint64_t)zvm_channel_size(c->ch));
    put_u32(p + 40, (uint32_t)zvm_channel_type(c->ch));
    put_u32(p + 44, (zvm_channel_readable(c->ch) ? 1u : 0u) | (zvm_channel_writable(c->ch) ? 2u : 0u));
    put_u32(p + 48, (uint32_t)strlen(zvm_channel_alias(c->ch)));
    put_u32(p + 52, 0);
    return 0;
}

/* Copies the alias (with its NUL when it fits) and returns its length without the NUL. */
int32_t zvm_call_channel_name(zvm_guest *g, const zvm_val *a)
{
    guest_channel *c = channel(g, U32(0));
    if (!c)
        return -EBADF;
    const char *name = zvm_channel_alias(c->ch);
    size_t len = strlen(name);
    uint32_t copy = len + 1 < U32(2) ? (uint32_t)len + 1 : U32(2);
    uint8_t *p = guest_ptr(g, U32(1), copy);
    if (!p)
        return -EFAULT;
    memcpy(p, name, copy);
    return (int32_t)len;
}
