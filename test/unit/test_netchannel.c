/* test_netchannel.c — network channels between two ends in one process (a thread each): the
 * stream and its end, the etag carried to the reader, quotas and network accounting, the token
 * that keeps strangers out, a writer that dies, a reader that leaves (EPIPE), a peer that never
 * comes (the deadline), and a connector that starts before its listener. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "channel/channel.h"
#include "manifest/manifest.h"

/* A listening socket on a free loopback port: its descriptor, and the port in *port. */
static int listening_socket(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A free port nobody listens on (bound, then released). */
static int free_port(void)
{
    int port, fd = listening_socket(&port);
    close(fd);
    return port;
}

static zvm_channel *open_net(const char *uri, bool writer, bool etag, int64_t limit_calls, int64_t limit_bytes,
                             int deadline_ms)
{
    zvm_channel_spec s = {
        .uri = (char *)uri, .alias = writer ? "/dev/out" : "/dev/in", .type = ZVM_CH_SEQ_SEQ, .etag = etag, .line = 4
    };
    s.limits[writer ? ZVM_LIMIT_PUTS : ZVM_LIMIT_GETS] = limit_calls;
    s.limits[writer ? ZVM_LIMIT_PUT_SIZE : ZVM_LIMIT_GET_SIZE] = limit_bytes;
    zvm_channel *ch = NULL;
    zvm_error err;
    if (zvm_channel_open(&s, &ch, &err) != 0)
        fail_msg("open %s: %s", uri, err.msg);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += deadline_ms / 1000;
    deadline.tv_nsec += (long)(deadline_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    zvm_channel_set_deadline(ch, &deadline);
    return ch;
}

/* The writer thread: writes its chunks, then ends the stream (or not: a writer that "dies"). */
typedef struct writer_job {
    char uri[128];
    const char *chunks[4];
    bool finish;
    bool no_etag;              /* the writer keeps no digest: its end frame carries none */
    int64_t results[4];
    int finish_rc;
    char etag[33];
    zvm_channel_stats stats;
} writer_job;

static void *writer_main(void *arg)
{
    writer_job *w = arg;
    zvm_channel *ch = open_net(w->uri, true, !w->no_etag, 100, 1 << 20, 10000);
    for (int i = 0; i < 4 && w->chunks[i]; i++)
        w->results[i] = zvm_channel_write(ch, w->chunks[i], strlen(w->chunks[i]), -1);
    zvm_error err;
    if (w->finish)
        w->finish_rc = zvm_channel_finish(ch, &err);
    zvm_channel_etag(ch, w->etag);
    zvm_channel_get_stats(ch, &w->stats);
    zvm_channel_close(ch);
    return NULL;
}

/* Reads the whole stream; returns its bytes (static) and the last call's result in *last. */
static const char *read_all(zvm_channel *ch, int64_t *last)
{
    static char buf[4096];
    size_t n = 0;
    int64_t r;
    while ((r = zvm_channel_read(ch, buf + n, sizeof buf - 1 - n, -1)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    *last = r;
    return buf;
}

static void md5_hex(const char *text, char out[33])
{
    unsigned char d[16];
    unsigned int len;
    EVP_Digest(text, strlen(text), d, &len, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_uri_rules(void **state)
{
    assert_null(zvm_channel_network_uri_problem("tcp://127.0.0.1:80/tok"));
    assert_null(zvm_channel_network_uri_problem("tcp://host.example:65535/a-b_c.9"));
    assert_null(zvm_channel_network_uri_problem("tcp-listen://[::1]:9000/t"));
    assert_null(zvm_channel_network_uri_problem("tcp-listen://fd:3/t"));
    assert_non_null(zvm_channel_network_uri_problem("tcp-listen://fd:x/t"));  /* fd:N names a descriptor */
    assert_non_null(zvm_channel_network_uri_problem("tcp://h:0/t"));         /* port 0 means nothing */
    assert_non_null(zvm_channel_network_uri_problem("tcp://h:80/"));
    assert_non_null(zvm_channel_network_uri_problem("tcp://h:80"));
    assert_non_null(zvm_channel_network_uri_problem("tcp://:80/t"));
    assert_non_null(zvm_channel_network_uri_problem("tcp://h:8x/t"));
    assert_non_null(zvm_channel_network_uri_problem("tcp:h:80"));
    char long_token[80];
    memset(long_token, 'a', sizeof long_token);
    strcpy(long_token, "tcp://h:1/");
    memset(long_token + 10, 'k', 65);
    long_token[75] = '\0';
    assert_non_null(zvm_channel_network_uri_problem(long_token));
    assert_true(zvm_channel_uri_is_network("tcp://h:1/t"));
    assert_true(zvm_channel_uri_is_network("tcp-listen://h:1/t"));
    assert_false(zvm_channel_uri_is_network("/tmp/tcp:x"));

    /* a manifest takes a well-formed network channel */
    const char *text = "Version = 20130611\nProgram = /p\nMemory = 1,0\nTimeout = 1\n"
                       "Channel = /dev/stdin,/dev/stdin,0,0,1,1,0,0\nChannel = /dev/stdout,/dev/stdout,0,0,0,0,1,1\n"
                       "Channel = /dev/stderr,/dev/stderr,0,0,0,0,1,1\nChannel = "
                       "tcp://10.0.0.2:7000/job-1,/dev/out/reduce,0,1,0,0,9,9\n";
    zvm_manifest m;
    zvm_error err;
    assert_int_equal(zvm_manifest_parse(text, strlen(text), &m, &err), 0);
    assert_int_equal(m.nchannels, 4);
    assert_string_equal(m.channels[3].uri, "tcp://10.0.0.2:7000/job-1");
    assert_string_equal(m.channels[3].alias, "/dev/out/reduce");     /* 2014's connect names */
    zvm_manifest_free(&m);
}

static void test_stream_end_and_etag(void **state)
{
    int port, lfd = listening_socket(&port);
    writer_job w = { .chunks = { "hello", ", ", "world" }, .finish = true };
    snprintf(w.uri, sizeof w.uri, "tcp://127.0.0.1:%d/secret-1", port);
    char uri[64];
    snprintf(uri, sizeof uri, "tcp-listen://fd:%d/secret-1", lfd);
    zvm_channel *in = open_net(uri, false, true, 100, 1 << 20, 10000);
    assert_int_equal(zvm_channel_kind(in), 's');
    assert_int_equal(zvm_channel_fd(in), -1);
    pthread_t t;
    pthread_create(&t, NULL, writer_main, &w);
    int64_t last;
    assert_string_equal(read_all(in, &last), "hello, world");
    assert_int_equal(last, 0);                                 /* a clean end of file */
    assert_int_equal(zvm_channel_read(in, (char[4]){ 0 }, 4, -1), 0);   /* and it stays there */
    pthread_join(t, NULL);
    assert_int_equal(w.results[0], 5);
    assert_int_equal(w.results[2], 5);
    assert_int_equal(w.finish_rc, 0);
    char want[33], got[33];
    md5_hex("hello, world", want);
    assert_string_equal(w.etag, want);
    assert_true(zvm_channel_etag(in, got));
    assert_string_equal(got, want);                            /* the reader's etag is the writer's */
    zvm_channel_stats st;
    zvm_channel_get_stats(in, &st);
    assert_true(st.network);
    assert_int_equal(st.get_bytes, 12);
    assert_true(w.stats.network);
    assert_int_equal(w.stats.puts, 3);
    assert_int_equal(w.stats.put_bytes, 12);
    zvm_error err;
    assert_int_equal(zvm_channel_finish(in, &err), 0);         /* a reader that got it all: nothing to report */
    zvm_channel_close(in);
}

static void test_quota_clips_and_limits_calls(void **state)
{
    int port, lfd = listening_socket(&port);
    char uri[64];
    snprintf(uri, sizeof uri, "tcp-listen://fd:%d/q", lfd);
    zvm_channel *in = open_net(uri, false, false, 2, 4, 10000);
    writer_job w = { .chunks = { "abc", "defg" }, .finish = true };
    snprintf(w.uri, sizeof w.uri, "tcp://127.0.0.1:%d/q", port);
    pthread_t t;
    pthread_create(&t, NULL, writer_main, &w);
    char buf[16];
    assert_int_equal(zvm_channel_read(in, buf, 16, -1), 3);    /* one frame at a time */
    assert_int_equal(zvm_channel_read(in, buf, 16, -1), 1);    /* clipped to the 4-byte quota */
    assert_int_equal(zvm_channel_read(in, buf, 16, -1), -EDQUOT);
    pthread_join(t, NULL);
    char etag[33];
    assert_false(zvm_channel_etag(in, etag));                  /* etag 0: not reported */
    zvm_channel_close(in);
}

static void test_wrong_token_is_dropped(void **state)
{
    int port, lfd = listening_socket(&port);
    char uri[64];
    snprintf(uri, sizeof uri, "tcp-listen://fd:%d/right-token", lfd);
    zvm_channel *in = open_net(uri, false, true, 100, 1 << 20, 10000);
    writer_job stranger = { .chunks = { "not for you" }, .finish = true };
    snprintf(stranger.uri, sizeof stranger.uri, "tcp://127.0.0.1:%d/wrong-token", port);
    writer_job w = { .chunks = { "for you" }, .finish = true };
    snprintf(w.uri, sizeof w.uri, "tcp://127.0.0.1:%d/right-token", port);
    pthread_t t1, t2;
    pthread_create(&t1, NULL, writer_main, &stranger);
    pthread_join(t1, NULL);                                    /* the stranger connects first */
    pthread_create(&t2, NULL, writer_main, &w);
    int64_t last;
    assert_string_equal(read_all(in, &last), "for you");
    assert_int_equal(last, 0);
    pthread_join(t2, NULL);
    zvm_channel_close(in);
}

static void test_writer_that_dies_is_not_an_end_of_file(void **state)
{
    int port, lfd = listening_socket(&port);
    char uri[64];
    snprintf(uri, sizeof uri, "tcp-listen://fd:%d/d", lfd);
    zvm_channel *in = open_net(uri, false, true, 100, 1 << 20, 10000);
    writer_job w = { .chunks = { "partial " }, .finish = false };   /* closes without its end frame */
    snprintf(w.uri, sizeof w.uri, "tcp://127.0.0.1:%d/d", port);
    pthread_t t;
    pthread_create(&t, NULL, writer_main, &w);
    int64_t last;
    assert_string_equal(read_all(in, &last), "partial ");
    assert_int_equal(last, -EIO);
    pthread_join(t, NULL);
    assert_non_null(strstr(zvm_channel_problem(in), "without its end frame"));
    zvm_error err;
    assert_int_equal(zvm_channel_finish(in, &err), -EIO);      /* the session cannot end ok */
    assert_non_null(strstr(err.msg, "/dev/in"));
    zvm_channel_close(in);
}

static void *reader_that_leaves(void *arg)
{
    zvm_channel *in = arg;
    char buf[4];
    zvm_channel_read(in, buf, sizeof buf, -1);                 /* connects, reads a little... */
    zvm_channel_close(in);                                     /* ...and is gone */
    return NULL;
}

static void test_reader_that_leaves_gives_epipe(void **state)
{
    int port, lfd = listening_socket(&port);
    char uri[64];
    snprintf(uri, sizeof uri, "tcp-listen://fd:%d/e", lfd);
    zvm_channel *in = open_net(uri, false, true, 100, 1 << 20, 10000);
    pthread_t t;
    pthread_create(&t, NULL, reader_that_leaves, in);
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d/e", port);
    zvm_channel *out = open_net(uri, true, false, 1 << 20, 1LL << 40, 10000);
    static char block[65536];
    int64_t r = 0;
    for (int i = 0; i < 4096 && r >= 0; i++)                   /* far more than socket buffers hold */
        r = zvm_channel_write(out, block, sizeof block, -1);
    pthread_join(t, NULL);
    assert_int_equal(r, -EPIPE);
    assert_non_null(strstr(zvm_channel_problem(out), "the reader is gone"));
    zvm_error err;
    assert_int_equal(zvm_channel_finish(out, &err), -EIO);
    zvm_channel_close(out);
}

static void test_peer_that_never_comes_meets_the_deadline(void **state)
{
    int port, lfd = listening_socket(&port);
    char uri[64];
    snprintf(uri, sizeof uri, "tcp-listen://fd:%d/never", lfd);
    zvm_channel *in = open_net(uri, false, true, 100, 100, 300);
    char buf[4];
    assert_int_equal(zvm_channel_read(in, buf, 4, -1), -EIO);  /* ETIMEDOUT, as the guest sees it */
    assert_non_null(strstr(zvm_channel_problem(in), "no peer connected"));
    assert_non_null(strstr(zvm_channel_problem(in), "Timeout"));
    zvm_channel_close(in);

    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d/never", free_port());
    zvm_channel *out = open_net(uri, true, false, 100, 100, 300);
    assert_int_equal(zvm_channel_write(out, "x", 1, -1), -EIO);
    if (!strstr(zvm_channel_problem(out), "nobody listened"))
        fail_msg("problem: %s", zvm_channel_problem(out));
    zvm_channel_close(out);
}

static void test_connector_may_start_before_its_listener(void **state)
{
    int port = free_port();
    writer_job w = { .chunks = { "early bird" }, .finish = true };
    snprintf(w.uri, sizeof w.uri, "tcp://127.0.0.1:%d/early", port);
    pthread_t t;
    pthread_create(&t, NULL, writer_main, &w);                 /* refused at first: it retries */
    struct timespec pause = { 0, 100 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    char uri[64];
    snprintf(uri, sizeof uri, "tcp-listen://127.0.0.1:%d/early", port);
    zvm_channel *in = open_net(uri, false, true, 100, 1 << 20, 10000);
    int64_t last;
    assert_string_equal(read_all(in, &last), "early bird");
    assert_int_equal(last, 0);
    pthread_join(t, NULL);
    zvm_channel_close(in);
}

static void test_writer_that_never_wrote_still_ends_the_stream(void **state)
{
    int port, lfd = listening_socket(&port);
    char uri[64];
    snprintf(uri, sizeof uri, "tcp-listen://fd:%d/empty", lfd);
    zvm_channel *in = open_net(uri, false, true, 100, 100, 10000);
    writer_job w = { .finish = true };
    snprintf(w.uri, sizeof w.uri, "tcp://127.0.0.1:%d/empty", port);
    pthread_t t;
    pthread_create(&t, NULL, writer_main, &w);
    int64_t last;
    assert_string_equal(read_all(in, &last), "");
    assert_int_equal(last, 0);
    pthread_join(t, NULL);
    assert_int_equal(w.finish_rc, 0);
    zvm_channel_close(in);
}

static void test_etag_off_on_either_end(void **state)
{
    for (int writer_etag = 0; writer_etag < 2; writer_etag++) {
        int port, lfd = listening_socket(&port);
        char uri[64];
        snprintf(uri, sizeof uri, "tcp-listen://fd:%d/plain", lfd);
        zvm_channel *in = open_net(uri, false, !writer_etag, 100, 1 << 20, 10000);
        writer_job w = { .chunks = { "no ", "digest" }, .finish = true, .no_etag = !writer_etag };
        snprintf(w.uri, sizeof w.uri, "tcp://127.0.0.1:%d/plain", port);
        pthread_t t;
        pthread_create(&t, NULL, writer_main, &w);
        int64_t last;
        assert_string_equal(read_all(in, &last), "no digest");
        assert_int_equal(last, 0);                             /* a clean end, nothing to compare */
        pthread_join(t, NULL);
        assert_int_equal(w.finish_rc, 0);
        char etag[33];
        assert_int_equal(zvm_channel_etag(in, etag), !writer_etag);
        zvm_error err;
        assert_int_equal(zvm_channel_finish(in, &err), 0);
        zvm_channel_close(in);
    }
}

static void test_open_refuses_what_a_stream_cannot_be(void **state)
{
    zvm_error err;
    zvm_channel *ch = NULL;
    zvm_channel_spec s = {
        .uri = "tcp://127.0.0.1:9/t", .alias = "/dev/x", .type = ZVM_CH_RND_SEQ, .limits = { 1, 1, 0, 0 }
    };
    assert_int_equal(zvm_channel_open(&s, &ch, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "type 0"));
    s.type = ZVM_CH_SEQ_SEQ;
    s.uri = "tcp-listen://fd:999/t";
    assert_int_equal(zvm_channel_open(&s, &ch, &err), -EBADF);
    assert_non_null(strstr(err.msg, "not open"));
    s.uri = "tcp-listen://fd:0/t";   /* stdin: not a listening socket */
    assert_int_equal(zvm_channel_open(&s, &ch, &err), -EINVAL);
    int port, lfd = listening_socket(&port);
    char uri[64];
    snprintf(uri, sizeof uri, "tcp-listen://127.0.0.1:%d/t", port);   /* taken */
    s.uri = uri;
    assert_int_equal(zvm_channel_open(&s, &ch, &err), -EADDRINUSE);
    assert_non_null(strstr(err.msg, "cannot listen"));
    close(lfd);
    assert_null(ch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_rules),
        cmocka_unit_test(test_stream_end_and_etag),
        cmocka_unit_test(test_quota_clips_and_limits_calls),
        cmocka_unit_test(test_wrong_token_is_dropped),
        cmocka_unit_test(test_writer_that_dies_is_not_an_end_of_file),
        cmocka_unit_test(test_reader_that_leaves_gives_epipe),
        cmocka_unit_test(test_peer_that_never_comes_meets_the_deadline),
        cmocka_unit_test(test_connector_may_start_before_its_listener),
        cmocka_unit_test(test_writer_that_never_wrote_still_ends_the_stream),
        cmocka_unit_test(test_etag_off_on_either_end),
        cmocka_unit_test(test_open_refuses_what_a_stream_cannot_be),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
