/*
 * commands.c — what each wast2json command means, and whether the engine did it.
 *
 * Every command counts once: passed, failed (with one line saying why) or skipped (text
 * modules from "module quote", which only a text parser could judge, and v128 values).
 * "register" counts only when it fails: it tests the runner's bookkeeping, not the engine.
 *
 * Rejections are judged by phase, not by message: assert_malformed and assert_invalid pass
 * when zvm_module_load refuses the module (the API does not tell a decoding error from a
 * validation error, and engines word them differently); assert_unlinkable passes when
 * instantiation fails without a trap.  Traps are judged by message too, as the spec's
 * reference interpreter does: the expected text must be in the engine's message, or the
 * engine's message a prefix of it ("uninitialized element" for "uninitialized element 2").
 * -v prints the engine's message for every rejection and trap, to compare wording.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

void report_failure(runner *r, int line, const char *command, const char *fmt, ...)
{
    va_list ap;
    printf("%s:%d: %s: ", r->source, line, command);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    r->failed++;
}

static void note(const runner *r, int line, const char *command, const char *what, const char *msg)
{
    if (r->verbose)
        printf("%s:%d: %s: %s: %s\n", r->source, line, command, what, msg);
}

static const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static bool is_text_module(const json_t *cmd)
{
    const char *type = str(cmd, "module_type");
    return type && strcmp(type, "text") == 0;
}

/* ---- actions --------------------------------------------------------------- */

typedef enum { ACTION_DONE, ACTION_TRAPPED, ACTION_ERROR, ACTION_SKIP } action_status;

typedef struct action_result {
    action_status status;
    uint32_t nresults;
    uint8_t types[64];
    zvm_val values[64];
    zvm_trap trap;
    char why[512];              /* ACTION_ERROR and ACTION_SKIP: the reason */
} action_result;

static zvm_instance *target_instance(runner *r, const json_t *action, action_result *res)
{
    const char *module = str(action, "module");
    zvm_instance *inst = module ? find_instance(r->defined, module) : r->current;
    if (!inst)
        snprintf(res->why, sizeof res->why,
                 module ? "no instance of module %s (did it fail to load?)"
                        : "no current module (did the last one fail to load?)",
                 module);
    return inst;
}

/* Export names cross wasm.h as C strings: a name with a NUL byte in it cannot be asked for. */
static bool name_has_nul(const json_t *action, action_result *res)
{
    const json_t *field = json_object_get(action, "field");
    if (!json_is_string(field) || json_string_length(field) == strlen(json_string_value(field)))
        return false;
    res->status = ACTION_SKIP;
    snprintf(res->why, sizeof res->why, "an export name with a NUL byte, which wasm.h cannot express");
    return true;
}

static void invoke(runner *r, zvm_instance *inst, const json_t *action, action_result *res)
{
    const char *field = str(action, "field");
    zvm_extern ext;
    if (name_has_nul(action, res))
        return;
    if (!field || !zvm_instance_export(inst, field, &ext) || ext.kind != ZVM_EXTERN_FUNC) {
        snprintf(res->why, sizeof res->why, "no exported function \"%s\"", field ? field : "?");
        return;
    }
    const zvm_functype *type = zvm_func_type(ext.u.func);
    const json_t *args = json_object_get(action, "args");
    size_t nargs = json_array_size(args);
    if (nargs != type->nparams) {
        snprintf(res->why, sizeof res->why, "\"%s\" takes %u arguments, the script gives %zu", field, type->nparams,
                 nargs);
        return;
    }
    if (type->nresults > sizeof res->values / sizeof res->values[0]) {
        res->status = ACTION_SKIP;
        snprintf(res->why, sizeof res->why, "\"%s\" has %u results, more than the runner handles", field,
                 type->nresults);
        return;
    }
    zvm_val *argv = calloc(nargs ? nargs : 1, sizeof *argv);
    if (!argv) {
        snprintf(res->why, sizeof res->why, "out of memory");
        return;
    }
    for (size_t i = 0; i < nargs; i++) {
        spec_value v;
        char why[256];
        int rc = value_parse(json_array_get(args, i), &v, why, sizeof why);
        if (rc == 0 && v.kind != EXPECT_BITS) {
            rc = 1;
            snprintf(why, sizeof why, "argument %zu is not a value the runner can make", i);
        }
        if (rc == 0 && v.type != type->params[i]) {
            rc = -1;
            snprintf(why, sizeof why, "argument %zu is %s, \"%s\" wants %s", i, zvm_valtype_name(v.type), field,
                     zvm_valtype_name(type->params[i]));
        }
        if (rc != 0) {
            res->status = rc > 0 ? ACTION_SKIP : ACTION_ERROR;
            snprintf(res->why, sizeof res->why, "%s", why);
            free(argv);
            return;
        }
        argv[i] = v.bits;
    }

    res->nresults = type->nresults;
    memcpy(res->types, type->results, type->nresults);
    guard_begin(r);
    int rc = zvm_func_call(r->rt, ext.u.func, argv, res->values, &res->trap);
    guard_end(r);
    free(argv);
    res->status = rc == 0 ? ACTION_DONE : ACTION_TRAPPED;
}

static void get(zvm_instance *inst, const json_t *action, action_result *res)
{
    const char *field = str(action, "field");
    zvm_extern ext;
    if (name_has_nul(action, res))
        return;
    if (!field || !zvm_instance_export(inst, field, &ext) || ext.kind != ZVM_EXTERN_GLOBAL) {
        snprintf(res->why, sizeof res->why, "no exported global \"%s\"", field ? field : "?");
        return;
    }
    res->nresults = 1;
    res->types[0] = zvm_global_type(ext.u.global);
    res->values[0] = zvm_global_get(ext.u.global);
    res->status = ACTION_DONE;
}

static void run_action(runner *r, const json_t *action, action_result *res)
{
    memset(res, 0, sizeof *res);
    res->status = ACTION_ERROR;
    const char *type = str(action, "type");
    zvm_instance *inst = target_instance(r, action, res);
    if (!inst)
        return;
    if (type && strcmp(type, "invoke") == 0)
        invoke(r, inst, action, res);
    else if (type && strcmp(type, "get") == 0)
        get(inst, action, res);
    else
        snprintf(res->why, sizeof res->why, "unknown action \"%s\"", type ? type : "?");
}

static void describe_trap(const runner *r, const zvm_trap *trap, char *buf, size_t size)
{
    if (trap->kind == ZVM_TRAP_INTERRUPTED)
        snprintf(buf, size, "no answer within %u s (interrupted)", r->timeout_seconds);
    else
        snprintf(buf, size, "trap \"%s\" in function %u%s%s at byte 0x%x", trap->msg, trap->func_index,
                 trap->func_name ? " " : "", trap->func_name ? trap->func_name : "", trap->offset);
}

static bool trap_message_matches(const char *expected, const char *got)
{
    if (strstr(got, expected))
        return true;
    size_t n = strlen(got);
    return n > 0 && strncmp(expected, got, n) == 0;
}

/* Handles the outcomes every action-based command treats alike; returns true when it did
 * (the command is then counted). */
static bool action_settled(runner *r, int line, const char *command, const action_result *res)
{
    if (res->status == ACTION_SKIP) {
        note(r, line, command, "skipped", res->why);
        r->skipped++;
        return true;
    }
    if (res->status == ACTION_ERROR) {
        report_failure(r, line, command, "%s", res->why);
        return true;
    }
    return false;
}

/* ---- the commands ------------------------------------------------------------ */

static void cmd_module(runner *r, int line, const json_t *cmd)
{
    if (is_text_module(cmd)) {
        r->current = NULL;
        note(r, line, "module", "skipped", "a text module");
        r->skipped++;
        return;
    }
    load_result res = load_and_instantiate(r, str(cmd, "filename"));
    r->current = res.status == LOAD_OK ? res.inst : NULL;
    if (res.status != LOAD_OK) {
        const char *phase = res.status == LOAD_FAILED   ? "load failed"
                            : res.status == LINK_FAILED ? "link failed"
                                                        : "start function trapped";
        report_failure(r, line, "module", "%s: %s", phase, res.err.msg);
        return;
    }
    const char *name = str(cmd, "name");
    if (name)
        name_instance(&r->defined, name, res.inst);
    r->passed++;
}

static void cmd_register(runner *r, int line, const json_t *cmd)
{
    const char *name = str(cmd, "name"), *as = str(cmd, "as");
    zvm_instance *inst = name ? find_instance(r->defined, name) : r->current;
    if (!inst || !as) {
        report_failure(r, line, "register", "nothing to register as \"%s\": module %s did not load", as ? as : "?",
                       name ? name : "(current)");
        return;
    }
    name_instance(&r->registered, as, inst);
}

static void cmd_action(runner *r, int line, const json_t *cmd)
{
    action_result res;
    run_action(r, json_object_get(cmd, "action"), &res);
    if (action_settled(r, line, "action", &res))
        return;
    if (res.status == ACTION_TRAPPED) {
        char trap[512];
        describe_trap(r, &res.trap, trap, sizeof trap);
        report_failure(r, line, "action", "expected no trap, got %s", trap);
        return;
    }
    r->passed++;
}

static void cmd_assert_return(runner *r, int line, const json_t *cmd)
{
    const json_t *expected = json_object_get(cmd, "expected");
    size_t nexpected = json_array_size(expected);
    spec_value want[64];
    if (nexpected > sizeof want / sizeof want[0]) {
        note(r, line, "assert_return", "skipped", "too many results");
        r->skipped++;
        return;
    }
    for (size_t i = 0; i < nexpected; i++) {
        char why[256];
        int rc = value_parse(json_array_get(expected, i), &want[i], why, sizeof why);
        if (rc > 0) {
            note(r, line, "assert_return", "skipped", why);
            r->skipped++;
            return;
        }
        if (rc < 0) {
            report_failure(r, line, "assert_return", "%s", why);
            return;
        }
    }

    action_result res;
    run_action(r, json_object_get(cmd, "action"), &res);
    if (action_settled(r, line, "assert_return", &res))
        return;
    if (res.status == ACTION_TRAPPED) {
        char trap[512];
        describe_trap(r, &res.trap, trap, sizeof trap);
        report_failure(r, line, "assert_return", "expected a result, got %s", trap);
        return;
    }
    if (res.nresults != nexpected) {
        report_failure(r, line, "assert_return", "expected %zu results, got %u", nexpected, res.nresults);
        return;
    }
    for (size_t i = 0; i < nexpected; i++)
        if (!value_matches(&want[i], res.types[i], res.values[i])) {
            char e[128], g[128];
            expect_format(&want[i], e, sizeof e);
            value_format(res.types[i], res.values[i], g, sizeof g);
            report_failure(r, line, "assert_return", "result %zu: expected %s, got %s", i, e, g);
            return;
        }
    r->passed++;
}

/* assert_trap and assert_exhaustion on an action. */
static void cmd_assert_trap(runner *r, int line, const json_t *cmd, const char *command)
{
    const char *text = str(cmd, "text");
    action_result res;
    run_action(r, json_object_get(cmd, "action"), &res);
    if (action_settled(r, line, command, &res))
        return;
    if (res.status == ACTION_DONE) {
        char g[128] = "no results";
        if (res.nresults > 0)
            value_format(res.types[0], res.values[0], g, sizeof g);
        report_failure(r, line, command, "expected trap \"%s\", got a return (%s)", text ? text : "", g);
        return;
    }
    note(r, line, command, "trap", res.trap.msg);
    if (res.trap.kind == ZVM_TRAP_INTERRUPTED || !trap_message_matches(text ? text : "", res.trap.msg)) {
        char trap[512];
        describe_trap(r, &res.trap, trap, sizeof trap);
        report_failure(r, line, command, "expected trap \"%s\", got %s", text ? text : "", trap);
        return;
    }
    r->passed++;
}

/* assert_exception (the exception-handling proposal): the action ends with an exception no
 * handler caught. */
static void cmd_assert_exception(runner *r, int line, const json_t *cmd)
{
    action_result res;
    run_action(r, json_object_get(cmd, "action"), &res);
    if (action_settled(r, line, "assert_exception", &res))
        return;
    if (res.status == ACTION_DONE) {
        report_failure(r, line, "assert_exception", "expected an uncaught exception, got a return");
        return;
    }
    note(r, line, "assert_exception", "trap", res.trap.msg);
    if (res.trap.kind != ZVM_TRAP_UNCAUGHT_EXCEPTION) {
        char trap[512];
        describe_trap(r, &res.trap, trap, sizeof trap);
        report_failure(r, line, "assert_exception", "expected an uncaught exception, got %s", trap);
        return;
    }
    r->passed++;
}

/* assert_invalid and assert_malformed: the module must not load. */
static void cmd_assert_rejected(runner *r, int line, const json_t *cmd, const char *command)
{
    const char *text = str(cmd, "text");
    if (is_text_module(cmd)) {
        note(r, line, command, "skipped", "a text module");
        r->skipped++;
        return;
    }
    zvm_error err;
    int rc = load_only(r, str(cmd, "filename"), &err);
    if (rc == -2) {
        report_failure(r, line, command, "%s", err.msg);
        return;
    }
    if (rc == 0) {
        report_failure(r, line, command, "expected rejection \"%s\", but the module loaded", text ? text : "");
        return;
    }
    note(r, line, command, "rejected", err.msg);
    r->passed++;
}

static void cmd_assert_unlinkable(runner *r, int line, const json_t *cmd)
{
    const char *text = str(cmd, "text");
    load_result res = load_and_instantiate(r, str(cmd, "filename"));
    switch (res.status) {
    case LINK_FAILED:
        note(r, line, "assert_unlinkable", "link error", res.err.msg);
        r->passed++;
        return;
    case LOAD_OK:
        report_failure(r, line, "assert_unlinkable", "expected link error \"%s\", but it instantiated",
                       text ? text : "");
        return;
    case LOAD_FAILED:
        report_failure(r, line, "assert_unlinkable", "expected link error \"%s\", but loading failed: %s",
                       text ? text : "", res.err.msg);
        return;
    case START_TRAPPED:
        report_failure(r, line, "assert_unlinkable", "expected link error \"%s\", got trap \"%s\"", text ? text : "",
                       res.trap.msg);
        return;
    }
}

static void cmd_assert_uninstantiable(runner *r, int line, const json_t *cmd)
{
    const char *text = str(cmd, "text");
    load_result res = load_and_instantiate(r, str(cmd, "filename"));
    if (res.status == START_TRAPPED) {
        note(r, line, "assert_uninstantiable", "trap", res.trap.msg);
        if (res.trap.kind != ZVM_TRAP_INTERRUPTED && trap_message_matches(text ? text : "", res.trap.msg)) {
            r->passed++;
            return;
        }
        char trap[512];
        describe_trap(r, &res.trap, trap, sizeof trap);
        report_failure(r, line, "assert_uninstantiable", "expected trap \"%s\", got %s", text ? text : "", trap);
        return;
    }
    if (res.status == LOAD_OK)
        report_failure(r, line, "assert_uninstantiable", "expected trap \"%s\", but it instantiated", text ? text : "");
    else
        report_failure(r, line, "assert_uninstantiable", "expected trap \"%s\", got %s: %s", text ? text : "",
                       res.status == LOAD_FAILED ? "load error" : "link error", res.err.msg);
}

void run_command(runner *r, const json_t *cmd)
{
    const char *type = str(cmd, "type");
    int line = (int)json_integer_value(json_object_get(cmd, "line"));
    if (!type) {
        report_failure(r, line, "?", "a command without a type");
        return;
    }
    if (strcmp(type, "module") == 0)
        cmd_module(r, line, cmd);
    else if (strcmp(type, "register") == 0)
        cmd_register(r, line, cmd);
    else if (strcmp(type, "action") == 0)
        cmd_action(r, line, cmd);
    else if (strcmp(type, "assert_return") == 0)
        cmd_assert_return(r, line, cmd);
    else if (strcmp(type, "assert_trap") == 0 || strcmp(type, "assert_exhaustion") == 0)
        cmd_assert_trap(r, line, cmd, type);
    else if (strcmp(type, "assert_invalid") == 0 || strcmp(type, "assert_malformed") == 0)
        cmd_assert_rejected(r, line, cmd, type);
    else if (strcmp(type, "assert_exception") == 0)
        cmd_assert_exception(r, line, cmd);
    else if (strcmp(type, "assert_unlinkable") == 0)
        cmd_assert_unlinkable(r, line, cmd);
    else if (strcmp(type, "assert_uninstantiable") == 0)
        cmd_assert_uninstantiable(r, line, cmd);
    else {
        note(r, line, type, "skipped", "a command this runner does not know");
        r->skipped++;
    }
}
