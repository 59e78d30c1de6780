/*
 * zvm-main.c — python.tar's main, in place of CPython's Programs/python.c: the same command
 * line, but CPython initialises itself before it looks at it, then calls zvm_fork(), so zvm
 * can snapshot the initialised interpreter and later sessions resume from there instead of
 * initialising again (docs/Snapshots.md).
 *
 * Before the fork the interpreter starts as `python` with no options would: reading the
 * environment (a dependency of the snapshot: a session with another environment runs cold),
 * the image, the standard streams' kinds, never the arguments.  After it, the arguments are
 * read and parsed as CPython's own main does.  When they ask for nothing that is fixed at
 * initialisation (-c, -m, a script, -, -i, -q, -O, -B, -P, -x: the common case), the running
 * interpreter takes the new configuration (sys.argv, sys.flags, ...) and runs it.  Otherwise
 * (-I, -E, -S, -s, -u, -v, -W, -X, -b, -d ...) it is finalised and CPython's own main starts
 * over with them: slower, never different.  A cold session and a resumed one take the same
 * path, so their outputs are the same.
 */
/* Built as CPython's own Programs/python.c is (Py_BUILD_CORE, Include/internal on the path), so
 * the interpreter's internals are at hand. */
#include <Python.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#include "pycore_initconfig.h"    /* _PyConfig_AsDict, _PyConfig_Write, _PyWideStringList_Copy */
#include "pycore_interp.h"        /* PyInterpreterState.config */
#include "pycore_pathconfig.h"    /* _PyPathConfig_UpdateGlobal, _PyPathConfig_ClearGlobal */
#include "pycore_pylifecycle.h"   /* _PySys_UpdateConfig */
#include "pycore_runtime.h"       /* _PyRuntime */

/* What Modules/main.c's pymain_free calls (not in a header). */
void _PyImport_Fini2(void);
void _Py_ClearStandardStreamEncoding(void);
void _Py_ClearArgcArgv(void);

__attribute__((import_module("zvm"), import_name("zvm_fork"))) int zvm_fork(void);

/* The configuration fields a running interpreter can take on (Modules/main.c reads them when
 * it runs the command; _PyInterpreterState_SetConfig updates sys from them).  Every other
 * field was used during initialisation. */
static const char *const run_time_fields[] = {
    "argv",
    "orig_argv",
    "run_command",
    "run_module",
    "run_filename",
    "parse_argv",
    "inspect",
    "interactive",
    "quiet",
    "safe_path",
    "optimization_level",
    "write_bytecode",
    "skip_source_first_line",
    /* computed by getpath from the fields compared (home, pythonpath_env, program_name...), which
     * PyConfig_Read leaves to _PyInterpreterState_SetConfig: equal inputs, equal paths */
    "executable",
    "base_executable",
    "prefix",
    "base_prefix",
    "exec_prefix",
    "base_exec_prefix",
    "module_search_paths",
    "module_search_paths_set",
    "stdlib_dir",
    "platlibdir",
    /* derived from the environment and the locale, which a running CPython has set: the
     * environment is compared (and is a dependency of the snapshot itself) */
    "filesystem_encoding",
    "stdio_encoding",
};

/* Whether want differs from the running configuration only in run-time fields. */
static int same_initialisation(const PyConfig *want)
{
    PyObject *a = _PyConfig_AsDict(_Py_GetConfig()), *b = _PyConfig_AsDict(want);
    int same = 0;
    if (a && b) {
        for (size_t i = 0; i < sizeof run_time_fields / sizeof *run_time_fields; i++) {
            PyDict_DelItemString(a, run_time_fields[i]);
            PyDict_DelItemString(b, run_time_fields[i]);
        }
        PyErr_Clear();
        same = PyObject_RichCompareBool(a, b, Py_EQ) == 1;
        if (!same && getenv("ZVM_PYTHON_DEBUG")) {   /* which fields made it start over */
            PyObject *key, *value;
            Py_ssize_t pos = 0;
            while (PyDict_Next(a, &pos, &key, &value)) {
                PyObject *other = PyDict_GetItem(b, key);
                if (!other || PyObject_RichCompareBool(value, other, Py_EQ) != 1)
                    fprintf(stderr, "python: %s differs from the snapshot's configuration\n", PyUnicode_AsUTF8(key));
            }
        }
    }
    PyErr_Clear();
    Py_XDECREF(a);
    Py_XDECREF(b);
    return same;
}

/* The running interpreter takes want's run-time fields and sys is updated from them: what
 * _PyInterpreterState_SetConfig does, without computing the paths again (getpath.py, run by
 * the interpreter: they are the same, same_initialisation says so) and without resetting
 * sys.path to them (site has added to it since, as in any run). */
static int take_run_time_fields(const PyConfig *want)
{
    PyThreadState *tstate = PyThreadState_Get();
    PyConfig *config = &tstate->interp->config;
    if (_PyWideStringList_Copy(&config->argv, &want->argv) < 0 ||
        _PyWideStringList_Copy(&config->orig_argv, &want->orig_argv) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    PyStatus status = PyConfig_SetString(config, &config->run_command, want->run_command);
    if (!PyStatus_Exception(status))
        status = PyConfig_SetString(config, &config->run_module, want->run_module);
    if (!PyStatus_Exception(status))
        status = PyConfig_SetString(config, &config->run_filename, want->run_filename);
    if (PyStatus_Exception(status)) {
        _PyErr_SetFromPyStatus(status);
        return -1;
    }
    config->parse_argv = want->parse_argv;
    config->inspect = want->inspect;
    config->interactive = want->interactive;
    config->quiet = want->quiet;
    config->safe_path = want->safe_path;
    config->optimization_level = want->optimization_level;
    config->write_bytecode = want->write_bytecode;
    config->skip_source_first_line = want->skip_source_first_line;
    status = _PyConfig_Write(config, &_PyRuntime);
    if (PyStatus_Exception(status)) {
        _PyErr_SetFromPyStatus(status);
        return -1;
    }
    int search_paths_set = config->module_search_paths_set;
    config->module_search_paths_set = 0;         /* keep sys.path as site left it */
    int rc = _PySys_UpdateConfig(tstate);
    config->module_search_paths_set = search_paths_set;
    return rc;
}

/* This session's arguments, read from the host only now (after the fork). */
static char **read_arguments(int *argc)
{
    __wasi_size_t n, size;
    if (__wasi_args_sizes_get(&n, &size) != 0)
        return NULL;
    char **argv = calloc(n + 1, sizeof *argv);
    char *buf = malloc(size ? size : 1);
    if (!argv || !buf || __wasi_args_get((uint8_t **)argv, (uint8_t *)buf) != 0) {
        free(argv);
        free(buf);
        return NULL;
    }
    *argc = (int)n;
    return argv;
}

/* Everything Py_BytesMain set up, taken down, so it can start again from nothing
 * (Modules/main.c: pymain_free). */
static void start_over(void)
{
    Py_FinalizeEx();
    _PyImport_Fini2();
    _PyPathConfig_ClearGlobal();
    _Py_ClearStandardStreamEncoding();
    _Py_ClearArgcArgv();
    _PyRuntime_Finalize();
}

static void initialise_without_arguments(void)
{
    static char *none[] = { "python", NULL };
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    PyStatus status = PyConfig_SetBytesArgv(&config, 1, none);
    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status))
        Py_ExitStatusException(status);
}

/* gc.freeze(): what initialisation made moves to the collector's permanent generation, so
 * no collection (the one at exit included) walks it again: it would only find it alive, and
 * walking it writes to every object's header, which copies every page of a resumed snapshot.
 * CPython made it for exactly this: before a fork, to keep pages shared. */
static void freeze_what_initialisation_made(void)
{
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *r = gc ? PyObject_CallMethod(gc, "freeze", NULL) : NULL;
    if (!r)
        PyErr_Clear();
    Py_XDECREF(r);
    Py_XDECREF(gc);
}

int main(void)
{
    initialise_without_arguments();
    freeze_what_initialisation_made();
    zvm_fork();

    int argc = 0;
    char **argv = read_arguments(&argc);
    if (!argv || argc < 1) {
        fprintf(stderr, "python: cannot read the command line\n");
        return 1;
    }
    PyConfig want;
    PyConfig_InitPythonConfig(&want);
    PyStatus status = PyConfig_SetBytesArgv(&want, argc, argv);
    if (!PyStatus_Exception(status))
        status = PyConfig_Read(&want);
    if (!PyStatus_Exception(status) && same_initialisation(&want)) {
        int rc = take_run_time_fields(&want);
        PyConfig_Clear(&want);
        if (rc < 0) {
            PyErr_Print();
            return 1;
        }
        return Py_RunMain();
    }
    PyConfig_Clear(&want);
    /* Options fixed at initialisation, --help, --version, or a mistake: CPython's own main,
     * from the start, says and does what it always does. */
    start_over();
    return Py_BytesMain(argc, argv);
}
