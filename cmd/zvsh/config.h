/*
 * config.h — zvsh.cfg: the defaults zvsh puts into every manifest and nvram it writes.
 *
 * Files are read in this order, each overriding the keys the previous ones set (nearest wins):
 *   /etc/zvsh.cfg, ~/.zvsh.cfg, ./zvsh.cfg  (or only $ZVSH_CONFIG when it is set)
 * Sections: [manifest] Version Memory Node Timeout; [limits] reads rbytes writes wbytes;
 * [env] NAME = value; [fstab] /host/image.tar = /mountpoint ro|wo.
 */
#ifndef ZVSH_CONFIG_H
#define ZVSH_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct zvsh_pair {
    char *key, *value;
};

struct zvsh_config {
    int64_t version, memory, node, timeout;
    int64_t reads, rbytes, writes, wbytes;
    struct zvsh_pair *env;        /* in the order first set */
    size_t nenv;
    struct zvsh_pair *fstab;      /* image path -> "mountpoint access" */
    size_t nfstab;
};

/* Fills cfg with the defaults of man/zvsh.1 (CONFIGURATION), then reads the config files.  On a bad file: -1 and
 * "FILE:LINE: what" in err. */
int zvsh_config_load(struct zvsh_config *cfg, char *err, size_t errsize);
/* Sets (or replaces) NAME in the env list. */
void zvsh_config_set_env(struct zvsh_config *cfg, const char *name, const char *value);
void zvsh_config_free(struct zvsh_config *cfg);

#endif
