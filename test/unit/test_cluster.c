/* test_cluster.c — the cluster client's pure parts: choosing the auth version, the messages for
 * missing credentials, header lookup, HTTP error text, swift:// URLs, the X-Nexe-* summary, and a
 * refused connection.  (Logins and uploads are tested against real servers in test/bats/zpm*.bats.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"

static const zvm_auth_options v1 = { .auth_url = "http://s/auth/v1.0", .user = "a:u", .key = "k" };
static const zvm_auth_options v3 = {
    .os_auth_url = "http://k/v3", .os_username = "u", .os_password = "p", .os_project_name = "p"
};

static void expect_version_error(const zvm_auth_options *o, const char *part)
{
    zvm_cluster_error err = { 0 };
    const char *v = zvm_auth_version(o, &err);
    if (v || !strstr(err.msg, part))
        fail_msg("got %s \"%s\"; wanted an error with \"%s\"", v ? v : "NULL", err.msg, part);
}

static void test_auth_version_from_what_is_given(void **state)
{
    zvm_cluster_error err;
    assert_string_equal(zvm_auth_version(&v1, &err), "1.0");
    assert_string_equal(zvm_auth_version(&v3, &err), "3");
    zvm_auth_options both = v3;
    both.auth_url = v1.auth_url, both.user = v1.user, both.key = v1.key;
    assert_string_equal(zvm_auth_version(&both, &err), "1.0");       /* as python-swiftclient */
    both.version = "3";
    assert_string_equal(zvm_auth_version(&both, &err), "3");
    both.version = "v1.0";
    assert_string_equal(zvm_auth_version(&both, &err), "1.0");
    /* a project id stands for the name, a user id for the user name */
    zvm_auth_options ids = {
        .os_auth_url = "http://k", .os_user_id = "id", .os_password = "p", .os_project_id = "pid"
    };
    assert_string_equal(zvm_auth_version(&ids, &err), "3");
}

static void test_auth_version_errors_say_what_is_missing(void **state)
{
    zvm_auth_options none = { 0 };
    expect_version_error(&none, "no credentials: auth 1.0 needs ST_AUTH, ST_USER and ST_KEY");
    zvm_auth_options partial = v1;
    partial.key = NULL;
    expect_version_error(&partial, "incomplete credentials for auth 1.0: missing ST_KEY (--key)");
    partial = v3;
    partial.os_password = "";
    expect_version_error(&partial, "incomplete credentials for auth 3: missing OS_PASSWORD (--os-password)");
    zvm_auth_options forced = v1;
    forced.version = "3";
    expect_version_error(&forced, "auth 3 needs OS_AUTH_URL (--os-auth-url), OS_USERNAME");
    forced.version = "2.0";
    expect_version_error(&forced, "Keystone removed its v2.0 API in 2018");
    forced.version = "4";
    expect_version_error(&forced, "unknown auth version '4'");
}

static void test_headers_are_found_whatever_their_case(void **state)
{
    char *headers[] = { "Content-Type: text/plain", "x-auth-token:   AUTH_tk1", "X-Empty:" };
    zvm_http_response r = { .status = 200, .headers = headers, .header_count = 3 };
    assert_string_equal(zvm_http_header(&r, "X-Auth-Token"), "AUTH_tk1");
    assert_string_equal(zvm_http_header(&r, "content-type"), "text/plain");
    assert_string_equal(zvm_http_header(&r, "X-Empty"), "");
    assert_null(zvm_http_header(&r, "X-Auth"));                      /* a prefix is not a name */
}

static void test_status_errors_carry_status_reason_and_body(void **state)
{
    char body[] = "<html><h1>Unauthorized</h1>\n  <p>no</p>\n</html>\n";
    zvm_http_response r = { .status = 401, .body = body, .body_size = strlen(body) };
    zvm_cluster_error err;
    zvm_http_status_error(&err, "GET x", &r);
    assert_string_equal(err.msg, "GET x: HTTP 401 Unauthorized: <html><h1>Unauthorized</h1> <p>no</p> </html>");
    assert_int_equal(err.http_status, 401);
    zvm_http_response empty = { .status = 599 };
    zvm_http_status_error(&err, "POST y", &empty);
    assert_string_equal(err.msg, "POST y: HTTP 599");
}

static void test_swift_urls_name_the_account(void **state)
{
    char *u = zvm_swift_url("http://127.0.0.1:8080/v1/AUTH_test", "c", "app.zapp");
    assert_string_equal(u, "swift://AUTH_test/c/app.zapp");
    free(u);
    u = zvm_swift_url("https://swift.example/v1/AUTH_0123abcd", "c", "dir/x.zapp");
    assert_string_equal(u, "swift://AUTH_0123abcd/c/dir/x.zapp");
    free(u);
    u = zvm_swift_url("http://h/v1/AUTH_a", "c", NULL);
    assert_string_equal(u, "swift://AUTH_a/c");
    free(u);
}

static void test_nexe_summary_is_one_row_per_node(void **state)
{
    char *headers[] = {
        "X-Nexe-System: map-1,map-2",
        "X-Nexe-Status: ok,timeout",
        "X-Nexe-Retcode: 0,1",
        "X-Nexe-Cdr-Line: 1.250, 0.50, 0.01 0.20 3 100 2 50 0 0 0 0, 0.70, 0.02 0.30 4 200 1 10 0 0 0 0",
        "X-Nexe-Cached: true,false",
    };
    zvm_http_response r = { .status = 200, .headers = headers, .header_count = 5 };
    char *table = zvm_nexe_summary(&r);
    assert_non_null(table);
    assert_string_equal(table,
                        "Node   Status   Retcode  NodeT  SysT  UserT  DiskReads  DiskBytesR  DiskWrites  DiskBytesW  "
                        "NetworkReads  NetworkBytesR  NetworkWrites  NetworkBytesW  Cached\n"
                        "map-1  ok       0        0.50   0.01  0.20   3          100         2           50          "
                        "0             0              0              0              true\n"
                        "map-2  timeout  1        0.70   0.02  0.30   4          200         1           10          "
                        "0             0              0              0              false\n"
                        "Total time: 1.250\n");
    free(table);
    r.header_count = 4;                                              /* a cluster without the header */
    table = zvm_nexe_summary(&r);
    assert_non_null(strstr(table, "NetworkBytesW  Cached\nmap-1"));
    free(table);
    r.header_count = 3;                                              /* no Cdr-Line: no table */
    assert_null(zvm_nexe_summary(&r));
}

static void test_a_refused_connection_is_an_error_naming_the_url(void **state)
{
    zvm_http_request req = { .method = "GET", .url = "http://127.0.0.1:1/x", .retries = 1, .retry_delay_ms = 1 };
    zvm_http_response resp;
    zvm_cluster_error err;
    assert_int_equal(zvm_http_do(&req, &resp, &err), -1);
    assert_non_null(strstr(err.msg, "GET http://127.0.0.1:1/x: "));
    assert_non_null(strstr(err.msg, "(2 attempts); check the URL and that the server is running"));
    assert_null(resp.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_version_from_what_is_given),
        cmocka_unit_test(test_auth_version_errors_say_what_is_missing),
        cmocka_unit_test(test_headers_are_found_whatever_their_case),
        cmocka_unit_test(test_status_errors_carry_status_reason_and_body),
        cmocka_unit_test(test_swift_urls_name_the_account),
        cmocka_unit_test(test_nexe_summary_is_one_row_per_node),
        cmocka_unit_test(test_a_refused_connection_is_an_error_naming_the_url),
    };
    return cmocka_run_group_tests_name("cluster", tests, NULL, NULL);
}
