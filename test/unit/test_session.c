/* test_session.c — the session API as zvsh uses it: manifest text in, report out.
 * Runs real guests from build/fixtures (make check builds them first). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "session/internal.h"   /* the Timeout's own functions, for the tests at the end */
#include "session/session.h"

static char dir[64];

static int make_dir(void **state)
{
    strcpy(dir, "/tmp/test_session.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A manifest running fixture NAME with Timeout seconds, stdout into dir/out. */
static char *manifest_for(const char *name, int timeout)
{
    static char text[2048];
    char cwd[512];
    if (!getcwd(cwd, sizeof cwd))
        fail_msg("getcwd");
    snprintf(text, sizeof text,
             "Version = 20130611\nProgram = %s/build/fixtures/%s.wasm\nMemory = 67108864,0\nTimeout = %d\n"
             "Channel = /dev/null,/dev/stdin,0,0,10,1000,0,0\n"
             "Channel = %s/out,/dev/stdout,0,1,0,0,100,10000\n"
             "Channel = /dev/null,/dev/stderr,0,0,0,0,100,10000\n",
             cwd, name, timeout, dir);
    return text;
}

static void test_report_text_is_the_seven_lines(void **state)
{
    zvm_report r = { .validator_state = 0,
                     .user_rc = 3,
                     .sys_seconds = 0.004,
                     .user_seconds = 1.235,
                     .local_reads = 1,
                     .local_read_bytes = 2,
                     .local_writes = 3,
                     .local_write_bytes = 4,
                     .net_reads = 5,
                     .net_read_bytes = 6,
                     .net_writes = 7,
                     .net_write_bytes = 8 };
    strcpy(r.state, "trap: two\nlines");
    char *text = zvm_report_text(&r);
    assert_string_equal(text, "0\n0\n3\ndisable\n0.00 1.24 1 2 3 4 5 6 7 8\ntrap: two lines\n\n");
    free(text);
    r.etags = strdup("/dev/stdout d41d8cd98f00b204e9800998ecf8427e");
    text = zvm_report_text(&r);
    assert_non_null(strstr(text, "\n3\n/dev/stdout d41d8cd98f00b204e9800998ecf8427e\n"));
    free(text);
    zvm_report_free(&r);
    assert_null(r.etags);
}

static void test_bad_manifest_still_gives_a_report(void **state)
{
    zvm_report r;
    const char *text = "Version = 20130611\n";
    assert_int_equal(zvm_session_run_text(text, strlen(text), NULL, &r), ZVM_EXIT_MANIFEST);
    assert_int_equal(r.exit_code, ZVM_EXIT_MANIFEST);
    assert_int_equal(r.validator_state, 2);
    assert_string_equal(r.state, "MANIFEST 0: no Program key; add a line 'Program = /path/to/program.wasm'");
    char *report = zvm_report_text(&r);
    assert_non_null(strstr(report, "\ndisable\n"));
    free(report);
    zvm_report_free(&r);
}

static void test_hello_runs_and_is_accounted(void **state)
{
    zvm_report r;
    const char *text = manifest_for("hello", 10);
    assert_int_equal(zvm_session_run_text(text, strlen(text), NULL, &r), 0);
    assert_string_equal(r.state, "ok");
    assert_int_equal(r.validator_state, 0);
    assert_int_equal(r.local_writes, 1);
    assert_int_equal(r.local_write_bytes, 40);
    assert_int_equal(r.local_reads, 0);
    assert_non_null(r.etags);
    assert_int_equal(strncmp(r.etags, "/dev/stdout ", 12), 0);
    assert_int_equal(strlen(r.etags), 12 + 32);
    zvm_report_free(&r);
}

static void test_check_only_runs_nothing(void **state)
{
    zvm_report r;
    char out[128];
    snprintf(out, sizeof out, "%s/out", dir);
    unlink(out);
    const char *text = manifest_for("hello", 10);
    zvm_session_options opt = { .check_only = true, .skip_validation = true };
    assert_int_equal(zvm_session_run_text(text, strlen(text), &opt, &r), 0);
    assert_string_equal(r.state, "ok");
    assert_int_equal(r.validator_state, 2);
    assert_int_equal(r.local_writes, 0);
    FILE *f = fopen(out, "r");
    assert_non_null(f);   /* opened (created) ... */
    assert_int_equal(fgetc(f), EOF);   /* ... but nothing written */
    fclose(f);
    zvm_report_free(&r);
}

static void test_timeout_stops_a_loop_within_100ms(void **state)
{
    zvm_report r;
    const char *text = manifest_for("s_loop", 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(zvm_session_run_text(text, strlen(text), NULL, &r), ZVM_EXIT_TRAP);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_string_equal(r.state, "session timeout");
    assert_true(elapsed >= 1.0);
    assert_true(elapsed < 1.5);   /* the precise bound (100 ms) is checked from the trace in bats */
    assert_true(r.user_seconds + r.sys_seconds > 0.01);   /* it really ran, on this thread */
    zvm_report_free(&r);
}

static void test_trace_names_the_stages(void **state)
{
    char trace_path[128];
    snprintf(trace_path, sizeof trace_path, "%s/trace", dir);
    FILE *trace = fopen(trace_path, "w+");
    assert_non_null(trace);
    zvm_session_options opt = { .trace = trace };
    zvm_report r;
    const char *text = manifest_for("s_exit", 10);
    assert_int_equal(zvm_session_run_text(text, strlen(text), &opt, &r), 0);
    assert_int_equal(r.user_rc, 3);
    rewind(trace);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, trace);
    buf[n] = '\0';
    fclose(trace);
    assert_non_null(strstr(buf, "zvm: call _start\n"));
    assert_non_null(strstr(buf, "zvm: guest exited with 3\n"));
    zvm_report_free(&r);
}

/* A stop flag already set when the session starts: the guest never gets to exit by itself. */
static void test_a_set_stop_flag_stops_the_session(void **state)
{
    static volatile sig_atomic_t stop = SIGTERM;
    zvm_session_options opt = { .stop = &stop };
    zvm_report r;
    const char *text = manifest_for("s_exit", 10);
    assert_int_equal(zvm_session_run_text(text, strlen(text), &opt, &r), ZVM_EXIT_TRAP);
    assert_string_equal(r.state, "stopped by SIGTERM");
    zvm_report_free(&r);
}

static void *raise_flag_soon(void *flag)
{
    struct timespec pause = { 0, 200 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    *(volatile sig_atomic_t *)flag = SIGINT;   /* what the signal handler does */
    return NULL;
}

/* Set while the guest loops (Timeout 20 s): the session stops as stopped by the signal, not by
 * the Timeout. */
static void test_the_stop_flag_stops_a_running_loop(void **state)
{
    static volatile sig_atomic_t stop;
    stop = 0;
    zvm_session_options opt = { .stop = &stop };
    pthread_t raiser;
    assert_int_equal(pthread_create(&raiser, NULL, raise_flag_soon, (void *)&stop), 0);
    zvm_report r;
    const char *text = manifest_for("s_loop", 20);
    assert_int_equal(zvm_session_run_text(text, strlen(text), &opt, &r), ZVM_EXIT_TRAP);
    pthread_join(raiser, NULL);
    assert_string_equal(r.state, "stopped by SIGINT");
    zvm_report_free(&r);
}

/* The Timeout thread is detached and shares a heap block with the session: whichever lets go
 * last frees it.  Many timers stopped at once (the thread still starting, or just woken) must
 * neither leak nor touch freed memory (ASan checks both in make check's asan suite), and a
 * stopped timer keeps what it knew. */
static void test_timer_stopped_at_any_moment(void **state)
{
    zvm_error err;
    for (int i = 0; i < 500; i++) {
        session_timer t;
        assert_int_equal(session_timer_start(&t, 10, NULL, &err), 0);
        assert_false(session_timer_fired(&t));
        if (i % 2)
            sched_yield();   /* sometimes the thread gets to wait first */
        assert_false(session_timer_stop(&t));
        assert_false(session_timer_fired(&t));
        assert_int_equal(session_timer_signal(&t), 0);
    }
}

/* A Timeout of 0 has passed at once: the thread fires (waited for here without a clock: it sends
 * SIGURG, whose handler the timer installed), and after stop the timer still says so. */
static void test_timer_fired_is_kept_after_stop(void **state)
{
    zvm_error err;
    session_timer t;
    assert_int_equal(session_timer_start(&t, 0, NULL, &err), 0);
    while (!session_timer_fired(&t))
        sched_yield();
    assert_true(session_timer_stop(&t));
    assert_true(session_timer_fired(&t));
    assert_true(session_timer_overrun_ms(&t) >= 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_text_is_the_seven_lines),
        cmocka_unit_test(test_bad_manifest_still_gives_a_report),
        cmocka_unit_test(test_hello_runs_and_is_accounted),
        cmocka_unit_test(test_check_only_runs_nothing),
        cmocka_unit_test(test_timeout_stops_a_loop_within_100ms),
        cmocka_unit_test(test_trace_names_the_stages),
        cmocka_unit_test(test_a_set_stop_flag_stops_the_session),
        cmocka_unit_test(test_the_stop_flag_stops_a_running_loop),
        cmocka_unit_test(test_timer_stopped_at_any_moment),
        cmocka_unit_test(test_timer_fired_is_kept_after_stop),
    };
    return cmocka_run_group_tests_name("session", tests, make_dir, remove_dir);
}
