/* dynlib.c — loading a shared library on first use (see dynlib.h). */
#include "dynlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

/* dlopen and every dlsym; 0, or -1 with lib->why. */
static int open_and_resolve(zvm_dynlib *lib)
{
    void *handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        snprintf(lib->why, sizeof lib->why, "%s", dlerror());
        return -1;
    }
    for (size_t i = 0; i < lib->nsyms; i++) {
        if (!(*lib->syms[i].slot = dlsym(handle, lib->syms[i].name))) {
            snprintf(lib->why, sizeof lib->why, "it has no function %s (too old a version?)", lib->syms[i].name);
            for (size_t j = 0; j < i; j++)
                *lib->syms[j].slot = NULL;   /* all or nothing */
            dlclose(handle);
            return -1;
        }
    }
    return 0;   /* the handle stays open for the life of the process: the slots point into it */
}

int zvm_dynlib_load(zvm_dynlib *lib, zvm_error *err)
{
    pthread_mutex_lock(&load_lock);
    if (lib->state == 0)
        lib->state = open_and_resolve(lib) == 0 ? 1 : -1;
    int state = lib->state;
    pthread_mutex_unlock(&load_lock);
    if (state > 0)
        return 0;
    snprintf(err->msg, sizeof err->msg, "cannot load %s (needed for %s): %s; install Debian's %s package", lib->soname,
             lib->needed_for, lib->why, lib->package);
    return -1;
}
