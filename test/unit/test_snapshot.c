/* test_snapshot.c — the engine's side of snapshots (wasm/suspend.c) and the digests they use:
 * saving a call stack from a host function, resuming it in a new runtime from a memory file,
 * with the same result as running on; a damaged state refused; SHA-256 test vectors.
 * Fixture: test/fixtures/x_suspend.wat. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../tools/read_file.h"
#include "digest/digest.h"
#include "wasm/wasm.h"

static uint8_t *read_fixture(const char *name, size_t *size)
{
    char path[256];
    snprintf(path, sizeof path, "build/fixtures/%s.wasm", name);
    uint8_t *b = read_file(path, size);
    assert_non_null(b);
    return b;
}

/* What the save host function does and keeps. */
struct saver {
    int32_t result;           /* what save returns */
    bool keep;                /* save the state (and the memory, into fd) */
    int fd;
    uint8_t *state;
    size_t size;
    int rc;
    char msg[512];
};

static int host_save(zvm_call *call, void *user, const zvm_val *args, zvm_val *results)
{
    struct saver *s = user;
    if (s->keep) {
        zvm_error err;
        s->rc = zvm_call_save_state(call, &s->state, &s->size, &err);
        snprintf(s->msg, sizeof s->msg, "%s", err.msg);
        uint64_t size;
        uint8_t *mem = zvm_call_memory(call, &size);
        assert_int_equal(pwrite(s->fd, mem, size, 0), (ssize_t)size);
    }
    results[0] = (uint32_t)s->result;
    return 0;
}

struct world {
    zvm_runtime *rt;
    zvm_module *m;
    zvm_instance *inst;
};

/* A runtime with the module and its two host imports (made in the same order every time, as
 * a resumed runtime must). */
static void make_world(struct world *w, struct saver *s, bool unstarted)
{
    size_t size;
    uint8_t *bytes = read_fixture("x_suspend", &size);
    zvm_error err;
    assert_int_equal(zvm_runtime_new(NULL, &w->rt, &err), 0);
    assert_int_equal(zvm_module_load(bytes, size, &w->m, &err), 0);
    free(bytes);
    static const uint8_t i[] = { ZVM_I32 };
    zvm_functype t = { 0, 1, NULL, i };
    zvm_extern imports[2] = { { .kind = ZVM_EXTERN_FUNC }, { .kind = ZVM_EXTERN_FUNC } };
    assert_int_equal(zvm_func_new_host(w->rt, &t, host_save, s, &imports[0].u.func, &err), 0);
    assert_int_equal(zvm_func_new_host(w->rt, &t, host_save, s, &imports[1].u.func, &err), 0);
    if (unstarted)
        assert_int_equal(zvm_instance_new_unstarted(w->rt, w->m, imports, 2, &w->inst, &err), 0);
    else
        assert_int_equal(zvm_instance_new(w->rt, w->m, imports, 2, &w->inst, NULL, &err), 0);
}

static void free_world(struct world *w)
{
    zvm_runtime_free(w->rt);
    zvm_module_free(w->m);
}

static uint32_t result_of(struct world *w)
{
    zvm_extern mem;
    assert_true(zvm_instance_export(w->inst, "memory", &mem));
    uint32_t v;
    memcpy(&v, zvm_memory_data(mem.u.memory, NULL), sizeof v);
    return v;
}

static uint32_t run_export(struct world *w, const char *name, uint32_t n)
{
    zvm_extern f;
    zvm_trap trap;
    zvm_val arg = n;
    assert_true(zvm_instance_export(w->inst, name, &f));
    assert_int_equal(zvm_func_call(w->rt, f.u.func, &arg, NULL, &trap), 0);
    return result_of(w);
}

static uint32_t run(struct world *w, uint32_t n)
{
    return run_export(w, "run", n);
}

/* Saves at the bottom of export(n), with save returning s->result there. */
static void save_in(struct saver *s, const char *export, uint32_t n, uint32_t *cold)
{
    struct world w;
    char path[] = "/tmp/zvm-test-snapshot-XXXXXX";
    s->fd = mkstemp(path);
    assert_true(s->fd >= 0);
    unlink(path);
    s->keep = true;
    make_world(&w, s, false);
    *cold = run_export(&w, export, n);
    assert_int_equal(s->rc, 0);
    free_world(&w);
}

static void save_at_bottom(struct saver *s, uint32_t n, uint32_t *cold)
{
    save_in(s, "run", n, cold);
}

/* Resumes the saved state (save returning result there); -1 and msg when it is refused. */
static int resume(struct saver *s, const uint8_t *state, size_t size, int32_t result, uint32_t *out, char *msg)
{
    struct world w;
    struct saver quiet = { 0 };
    make_world(&w, &quiet, true);
    zvm_extern mem;
    zvm_error err;
    assert_true(zvm_instance_export(w.inst, "memory", &mem));
    assert_int_equal(zvm_memory_map_file(mem.u.memory, s->fd, 0, 65536, &err), 0);
    int rc = zvm_instance_restore(w.inst, state, size, &err);
    if (rc == 0) {
        zvm_val r = (uint32_t)result;
        zvm_trap trap;
        assert_int_equal(zvm_instance_resume(w.inst, &r, NULL, &trap), 0);
        *out = result_of(&w);
    } else if (msg) {
        snprintf(msg, 512, "%s", err.msg);
    }
    free_world(&w);
    return rc;
}

static void test_resume_gives_the_result_of_running_on(void **state)
{
    for (uint32_t n = 0; n <= 9; n++) {
        struct saver s = { .result = 3 };
        uint32_t cold, warm = 0;
        save_at_bottom(&s, n, &cold);
        assert_int_equal(resume(&s, s.state, s.size, 3, &warm, NULL), 0);
        assert_int_equal(warm, cold);
        /* the host call's result is what the resumed run sees: another one, another result */
        struct saver other = { .result = 10 };
        struct world w;
        make_world(&w, &other, false);
        uint32_t expect = run(&w, n);
        free_world(&w);
        assert_int_equal(resume(&s, s.state, s.size, 10, &warm, NULL), 0);
        assert_int_equal(warm, expect);
        free(s.state);
        close(s.fd);
    }
}

/* A frame whose function was replaced by a tail call resumes (the call names another function). */
static void test_a_frame_after_a_tail_call_resumes(void **state)
{
    struct saver s = { .result = 5 };
    uint32_t cold, warm = 0;
    save_in(&s, "run_tail", 4, &cold);
    assert_int_equal(cold, 4 * 3 + 5 + 1);
    assert_int_equal(resume(&s, s.state, s.size, 5, &warm, NULL), 0);
    assert_int_equal(warm, cold);
    free(s.state);
    close(s.fd);
}

static void test_damaged_states_are_refused(void **state)
{
    struct saver s = { .result = 1 };
    uint32_t cold, warm;
    char msg[512];
    save_at_bottom(&s, 6, &cold);
    /* every truncation */
    for (size_t cut = 0; cut < s.size; cut += 1 + cut / 8)
        assert_int_equal(resume(&s, s.state, cut, 1, &warm, msg), -1);
    /* every single byte of the header part changed: refused, or (a value, not a structure)
     * resumed; never a crash (the ASan build runs this too) */
    uint8_t *copy = malloc(s.size);
    int refused = 0;
    for (size_t at = 0; at < s.size; at++) {
        memcpy(copy, s.state, s.size);
        copy[at] ^= 0x5a;
        refused += resume(&s, copy, s.size, 1, &warm, msg) != 0;
    }
    assert_true(refused > 0);
    free(copy);
    free(s.state);
    close(s.fd);
}

static void test_a_tail_call_cannot_be_saved(void **state)
{
    struct saver s = { .keep = true };
    struct world w;
    char path[] = "/tmp/zvm-test-snapshot-XXXXXX";
    s.fd = mkstemp(path);
    unlink(path);
    make_world(&w, &s, false);
    zvm_extern f;
    zvm_trap trap;
    zvm_val r;
    assert_true(zvm_instance_export(w.inst, "tail", &f));
    assert_int_equal(zvm_func_call(w.rt, f.u.func, NULL, &r, &trap), 0);
    assert_int_equal(s.rc, -1);
    assert_non_null(strstr(s.msg, "tail position"));
    free_world(&w);
    close(s.fd);
}

static void test_sha256_vectors(void **state)
{
    static const struct {
        const char *in, *hex;
    } v[] = {
        { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        uint8_t d[DIGEST_SHA256_SIZE];
        char hex[65];
        digest_sha256(v[i].in, strlen(v[i].in), d);
        digest_hex(d, sizeof d, hex);
        assert_string_equal(hex, v[i].hex);
    }
    /* a million 'a's, fed in uneven pieces */
    digest_sha256_ctx s;
    uint8_t d[DIGEST_SHA256_SIZE];
    char hex[65], chunk[997];
    memset(chunk, 'a', sizeof chunk);
    digest_sha256_init(&s);
    for (size_t left = 1000000; left > 0;) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        digest_sha256_update(&s, chunk, n);
        left -= n;
    }
    digest_sha256_final(&s, d);
    digest_hex(d, sizeof d, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_checksum_sees_one_bit(void **state)
{
    uint8_t page[4096] = { 0 };
    uint64_t a = digest_checksum64(page, sizeof page, 0);
    for (size_t bit = 0; bit < 8 * sizeof page; bit += 61) {
        page[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_true(digest_checksum64(page, sizeof page, 0) != a);
        page[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_true(digest_checksum64(page, sizeof page, 1) != a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_gives_the_result_of_running_on),
        cmocka_unit_test(test_a_frame_after_a_tail_call_resumes),
        cmocka_unit_test(test_damaged_states_are_refused),
        cmocka_unit_test(test_a_tail_call_cannot_be_saved),
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_checksum_sees_one_bit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
