/*
 * md5.h — MD5 (RFC 1321), for channel etags and the network channels' end frames.
 *
 * Our own ~100 lines rather than libcrypto: the etag is the only digest zvm computes, and
 * linking OpenSSL's libcrypto (4.7 MB, thousands of relocations) cost every session, with or
 * without an etag, a large part of its start-up.  MD5 is not used for security here (it names
 * content, as 2014's etags did); see RATIONALE.md.
 */
#ifndef ZVM_CHANNEL_MD5_H
#define ZVM_CHANNEL_MD5_H

#include <stddef.h>
#include <stdint.h>

#define CHANNEL_MD5_SIZE 16

typedef struct channel_md5 {
    uint32_t state[4];
    uint64_t length;           /* bytes hashed so far */
    uint8_t block[64];         /* the part of the current block not hashed yet */
} channel_md5;

void channel_md5_init(channel_md5 *m);
void channel_md5_update(channel_md5 *m, const void *data, size_t size);
/* The digest of everything so far; m is unchanged (so the digest can be asked for mid-stream
 * and the hashing go on). */
void channel_md5_digest(const channel_md5 *m, uint8_t digest[CHANNEL_MD5_SIZE]);

#endif
