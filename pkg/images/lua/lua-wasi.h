/*
 * lua-wasi.h — what Lua 5.4 needs to know about WASI, included before every file of the lua
 * image (pkg/images/lua/Makefile).  Lua is built as plain ISO C (no LUA_USE_POSIX: WASI has no
 * processes, signals masks or mkstemp), so these are the few hooks luaconf.h and loslib.c offer:
 *
 *   os.tmpname   WASI has no tmpnam: it fails ("unable to generate a unique filename").
 *
 * io.popen fails with Lua's own "'popen' not supported"; os.execute and io.tmpfile are in
 * wasi-missing.c.
 */
#ifndef ZVM_LUA_WASI_H
#define ZVM_LUA_WASI_H

#define LUA_TMPNAMBUFSIZE 32
#define lua_tmpnam(b, e) \
    { \
        (void)(b); \
        e = 1; \
    }

#endif
