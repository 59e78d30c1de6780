/*
 * dynlib.h — shared libraries that only some sessions need, loaded on their first use.
 *
 * A plain `zvm hello.wasm` session must not pay for what only other sessions use: mapping and
 * relocating libarchive (with xml2, icu, libstdc++, lzma, zstd... behind it) took more time
 * than running the guest.  So libzvm and the commands reach such a library through a table of
 * function pointers that zvm_dynlib_load fills with dlopen/dlsym the first time a session needs
 * it (an image to mount, a terminal to edit lines on).  The table's types come from the
 * library's own header (`__typeof__`), so the compiler checks every call as if it were linked.
 *
 * Thread-safe; a library that failed to load is not tried again (the same error is returned).
 */
#ifndef ZVM_DYNLIB_H
#define ZVM_DYNLIB_H

#include <stddef.h>

#include "base.h"   /* zvm_error */

/* One function to look up: its name and where its address goes. */
typedef struct zvm_dynlib_sym {
    const char *name;
    void **slot;
} zvm_dynlib_sym;

typedef struct zvm_dynlib {
    const char *soname;        /* "libarchive.so.13" */
    const char *needed_for;    /* "tar images": what cannot work without it */
    const char *package;       /* the Debian package that installs it: "libarchive13" */
    const zvm_dynlib_sym *syms;
    size_t nsyms;
    int state;                 /* 0 not tried, 1 loaded, -1 failed (why says why); under a lock */
    char why[256];
} zvm_dynlib;

/* Loads lib and fills every slot, once.  0, or -1 with err: "cannot load SONAME (needed for
 * NEEDED_FOR): WHY; install Debian's PACKAGE package".  No slot is filled unless all are. */
int zvm_dynlib_load(zvm_dynlib *lib, zvm_error *err);

/* A table of a library's functions from one list of their names, LIST(X, t) expanding to
 * X(t, name) for each name the library's header declares:
 *   #define EDIT_FUNCTIONS(X, t) X(t, el_init) X(t, el_end)
 *   ZVM_DYNLIB_TABLE(edit_api, EDIT_FUNCTIONS);        struct edit_api { typeof(el_init) *el_init; ... }
 *   static struct edit_api edit;
 *   ZVM_DYNLIB_SYMS(edit_syms, edit, EDIT_FUNCTIONS);  static const zvm_dynlib_sym edit_syms[] = { ... } */
#define ZVM_DYNLIB_MEMBER_(t, name) __typeof__(name) *name;
#define ZVM_DYNLIB_TABLE(tag, LIST) \
    struct tag { \
        LIST(ZVM_DYNLIB_MEMBER_, _) \
    }
#define ZVM_DYNLIB_SYM_(table, name) { #name, (void **)&(table).name },
#define ZVM_DYNLIB_SYMS(array, table, LIST) static const zvm_dynlib_sym array[] = { LIST(ZVM_DYNLIB_SYM_, table) }

#endif
