/* version.h — the toolchain's version, shared by every command. */
#ifndef ZVM_VERSION_H
#define ZVM_VERSION_H

const char *zvm_version(void);

#endif
