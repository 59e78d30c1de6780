/*
 * fuzz_manifest.c — libFuzzer target: the manifest parser on arbitrary text.
 *
 * Every input must end in a parsed manifest or an error with a message; a parsed one must
 * hold what the parser promises (the std channels first, distinct aliases of at most
 * /dev/ + 255 bytes, a positive Memory and Timeout), and freeing it must leak nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zvm_manifest m;
    zvm_error err = { { 0 } };
    int rc = zvm_manifest_parse((const char *)data, size, &m, &err);
    if (rc != 0) {
        if (!err.msg[0] || (rc != ZVM_EXIT_MANIFEST && rc != ZVM_EXIT_TOO_MANY))
            abort();   /* every failure says why, with a manifest exit code */
        return 0;
    }
    if (m.nchannels < 3 || m.nchannels > ZVM_MANIFEST_MAX_CHANNELS || m.memory < 1 || m.timeout < 1 || !m.program)
        abort();
    if (strcmp(m.channels[0].alias, "/dev/stdin") || strcmp(m.channels[1].alias, "/dev/stdout") ||
        strcmp(m.channels[2].alias, "/dev/stderr"))
        abort();
    for (size_t i = 0; i < m.nchannels; i++) {
        if (strlen(m.channels[i].alias) > 5 + ZVM_MANIFEST_ALIAS_NAME_MAX || m.channels[i].uri[0] != '/')
            abort();
        if (i > 3 && strcmp(m.channels[i - 1].alias, m.channels[i].alias) >= 0)
            abort();   /* sorted after the std three, and distinct */
    }
    for (size_t i = 0; i < m.nwarnings; i++)
        if (!m.warnings[i].msg[0] || m.warnings[i].line < 1)
            abort();
    zvm_manifest_free(&m);
    return 0;
}
