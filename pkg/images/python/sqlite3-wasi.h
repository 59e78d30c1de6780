/* sqlite3-wasi.h — force-included (-include) when compiling Debian's SQLite 3.40
 * amalgamation for wasm32-wasi.
 *
 * Why: SQLite's unix VFS lists every system call it might use in one table, so
 * it must compile even against calls WASI does not have.  wasi-libc hides
 * fchmod, fchown and geteuid (WASI has no permissions and no users) and the
 * POSIX lock constants (WASI has no fcntl locking).  SQLite 3.41 later added
 * the same shims to os_unix.c under __wasi__; 3.40 predates them.
 *
 * The build selects the "unix-none" VFS (no file locking): a guest runs alone
 * in its sandbox, and dot-file locks would outlive a killed guest.  So the
 * lock constants below are never handed to fcntl by the default VFS; if a
 * guest asks for a locking VFS by name, wasi-libc's fcntl rejects them and
 * SQLite reports SQLITE_IOERR_LOCK — a clean error, not a silent success.
 */
#ifndef ZVM_SQLITE3_WASI_H
#define ZVM_SQLITE3_WASI_H

#include <errno.h>
#include <fcntl.h>
#include <sys/types.h>

#ifndef F_RDLCK
#define F_RDLCK 0
#define F_WRLCK 1
#define F_UNLCK 2
#define F_GETLK 5
#define F_SETLK 6
#define F_SETLKW 7
#endif

/* No permissions in WASI: changing a mode or an owner cannot be done. */
static int fchmod(int fd, mode_t mode)
{
    (void)fd;
    (void)mode;
    errno = ENOSYS;
    return -1;
}

static int fchown(int fd, uid_t uid, gid_t gid)
{
    (void)fd;
    (void)uid;
    (void)gid;
    errno = ENOSYS;
    return -1;
}

/* No users in WASI.  SQLite only asks in order to skip fchown when not root;
 * answering "not root" makes it skip the call that cannot work anyway. */
static uid_t geteuid(void)
{
    return 1;
}

#endif
