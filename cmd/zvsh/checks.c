/* checks.c — host-side checks before a session (see checks.h). */
#include "checks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest/manifest.h"   /* zvm's exit codes, which zvsh's own errors use too */

int zvsh_check_writable(const char *what, const char *path, char *err, size_t errsize)
{
    struct stat st;
    bool existed = stat(path, &st) == 0;
    if (existed && S_ISDIR(st.st_mode)) {
        snprintf(err, errsize, "%s: cannot write %s: it is a directory", what, path);
        return ZVM_EXIT_IO;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
    if (fd < 0) {
        snprintf(err, errsize, "%s: cannot write %s: %s", what, path, strerror(errno));
        return ZVM_EXIT_IO;
    }
    close(fd);
    if (!existed)
        unlink(path);
    return 0;
}

int zvsh_check_wo_target(const char *path, bool overwrite, char *err, size_t errsize)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && !overwrite) {
        snprintf(err, errsize,
                 "image %s (wo): the file exists and is not empty; the session would replace it "
                 "with the tar of what the guest writes: name another file, remove it, or add --zvm-overwrite",
                 path);
        return ZVSH_EXIT_EXISTS;
    }
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        snprintf(err, errsize, "image %s (wo): not a regular file; a wo image is written as a tar file", path);
        return ZVM_EXIT_IO;
    }
    return zvsh_check_writable("image (wo)", path, err, errsize);
}

int zvsh_prepare_file_arg(const char *arg, const char *path, bool *created, char *err, size_t errsize)
{
    struct stat st;
    *created = false;
    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return 0;
        snprintf(err, errsize, "argument %s: %s is a directory; a channel must be a file, device or FIFO", arg, path);
        return ZVM_EXIT_USAGE;
    }
    if (errno != ENOENT) {
        snprintf(err, errsize, "argument %s: cannot use %s: %s", arg, path, strerror(errno));
        return ZVM_EXIT_IO;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errsize, "argument %s: %s does not exist and cannot be created: %s", arg, path, strerror(e));
        return e == ENOENT ? ZVM_EXIT_NOENT : ZVM_EXIT_IO;
    }
    close(fd);
    *created = true;
    fprintf(stderr,
            "zvsh: note: %s did not exist; created it empty for the guest to write (a typo? it stays, empty, "
            "if the guest writes nothing)\n",
            path);
    return 0;
}
