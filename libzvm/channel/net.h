/*
 * net.h — the network side of channels (net.c), shared with channel.c and nobody else.
 *
 * A network channel is a one-way byte stream between two sessions over TCP.  One end listens
 * (tcp-listen://HOST:PORT/TOKEN, or tcp-listen://fd:N/TOKEN on a socket zvm inherited already
 * listening), the other connects (tcp://HOST:PORT/TOKEN); either end may be the writer.
 *
 * On the wire (all of it in man/zvm-manifest.5 and RATIONALE.md):
 *   hello   the connector sends "ZVMCHAN1", one byte n (1..64), then the n bytes of the token;
 *           the listener drops a connection whose hello does not match and waits for the next
 *   data    the writer sends frames: a 4-byte big-endian length n (1..2^30), then n bytes
 *   end     length 0, then the 16-byte MD5 of every data byte (or, from a writer whose etag is
 *           off, length 0xffffffff alone): the reader's end of file
 * A stream that stops without its end frame is a writer that failed: the reader gets EIO, never
 * a clean end of file.  The connection is made at the first transfer (or, for a writer that never
 * wrote, when it sends its end frame), so sessions can start in any order and nothing waits on a
 * peer until the guest itself does.  Every wait is a poll() bounded by the channel's deadline.
 */
#ifndef ZVM_CHANNEL_NET_H
#define ZVM_CHANNEL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NET_MD5_SIZE 16

typedef struct channel_net channel_net;

/* Parses the uri and, for a listener, binds and listens (or takes over the inherited socket).
 * Returns 0, or -errno with why filled (-EINVAL a malformed uri, -EADDRINUSE ...). */
int channel_net_open(const char *uri, bool writer, channel_net **out, char *why, size_t why_size);
void channel_net_close(channel_net *n);

/* The absolute CLOCK_MONOTONIC time after which every wait fails with -ETIMEDOUT. */
void channel_net_set_deadline(channel_net *n, const struct timespec *deadline);

/* Up to size bytes of the stream (returns as soon as some arrived), 0 at the end frame, or
 * -errno (-EIO the writer vanished without its end frame, -ETIMEDOUT, -EINTR ...). */
int64_t channel_net_read(channel_net *n, void *buf, size_t size);
/* One data frame of size bytes; size or -errno (-EPIPE the reader is gone). */
int64_t channel_net_write(channel_net *n, const void *buf, size_t size);
/* The writer's end frame, with the MD5 of everything written (NULL: without one). */
int channel_net_finish(channel_net *n, const unsigned char md5[NET_MD5_SIZE]);
/* A writer whose session failed: closes without the end frame, first connecting once (or taking
 * a waiting connection) if it never did, so its reader learns of the failure now, not at its
 * Timeout. */
void channel_net_abort(channel_net *n);
/* After channel_net_read returned 0: the MD5 the writer sent, or NULL when it sent none. */
const unsigned char *channel_net_peer_md5(const channel_net *n);
/* What went wrong last, for messages ("" when nothing did). */
const char *channel_net_error(const channel_net *n);

#endif
