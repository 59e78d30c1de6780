/*
 * cluster.h — the client side of a ZeroCloud cluster: HTTP with retries, Swift and Keystone
 * authentication, and the Swift calls zpm (and any other tool) needs.
 *
 *   http.c    one HTTP request through libcurl: retries with backoff on 5xx and connection
 *             errors, a progress callback, the response's status, headers and body
 *   auth.c    auth 1.0 (Swift tempauth, GET /auth/v1.0) and auth 3 (Keystone, POST /v3/auth/tokens,
 *             the storage URL from the catalog's object-store endpoint); 2.0 is refused clearly
 *   swift.c   containers and objects on a storage URL with a token, and the job POST
 *   nexe.c    the X-Nexe-* headers of ZeroCloud's answer as a table
 *
 * Nothing here prints or exits: every function returns 0 on success or -1 with *err filled with
 * a one-line message that says what failed, where, and what to do.
 */
#ifndef ZVM_CLUSTER_H
#define ZVM_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

typedef struct zvm_cluster_error {
    long http_status;          /* the HTTP status that caused the error; 0 if none (no response) */
    char msg[2048];
} zvm_cluster_error;

/* Fills err (the message from fmt, and the HTTP status or 0) and returns -1. */
int zvm_cluster_fail(zvm_cluster_error *err, long status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- HTTP ---- */

typedef struct zvm_http_response {
    long status;
    char *body;                /* malloc'd, NUL-terminated (the NUL is not counted in body_size) */
    size_t body_size;
    char **headers;            /* "Name: value" lines, malloc'd; the status line is not included */
    size_t header_count;
} zvm_http_response;

/* Called while a request body is being sent; total is 0 when unknown. */
typedef void zvm_progress_fn(void *arg, uint64_t sent, uint64_t total);

typedef struct zvm_http_request {
    const char *method;               /* "GET", "PUT", "POST", "HEAD", "DELETE" */
    const char *url;
    const char *const *headers;       /* NULL-terminated "Name: value" list, or NULL */
    const void *body;                 /* request body in memory ... */
    size_t body_size;
    const char *body_path;            /* ... or streamed from this file (body_size is then ignored) */
    int retries;                      /* extra attempts after a 5xx or a connection error */
    long retry_delay_ms;              /* first backoff delay, doubled each time (0: 500 ms) */
    long timeout_s;                   /* whole-request limit (0: 300 s) */
    zvm_progress_fn *progress;        /* NULL: none */
    void *progress_arg;
} zvm_http_request;

/* Performs the request.  Returns 0 when a response arrived (whatever its status; after the
 * retries, the last 5xx is returned as a response), -1 when no response could be had at all. */
int zvm_http_do(const zvm_http_request *req, zvm_http_response *resp, zvm_cluster_error *err);

/* The value of the first header called name (case-insensitive), or NULL. */
const char *zvm_http_header(const zvm_http_response *resp, const char *name);

void zvm_http_response_free(zvm_http_response *resp);

/* Fills err with "<what>: HTTP <status> <reason>: <body, first line(s)>" for a failed response. */
void zvm_http_status_error(zvm_cluster_error *err, const char *what, const zvm_http_response *resp);

/* ---- authentication ---- */

typedef struct zvm_auth_options {
    const char *version;              /* "1.0", "3" (also "1", "v3", "3.0"); NULL: from what is given */
    /* auth 1.0: Swift tempauth and compatibles */
    const char *auth_url, *user, *key;
    /* auth 3: Keystone */
    const char *os_auth_url, *os_username, *os_user_id, *os_password;
    const char *os_project_name, *os_project_id;
    const char *os_user_domain_name, *os_user_domain_id;
    const char *os_project_domain_name, *os_project_domain_id;
    const char *os_region_name;       /* chooses among the object-store endpoints; NULL: the first */
    const char *os_interface;         /* "public" (default), "internal" or "admin" */
    int retries;                      /* as in zvm_http_request */
    long retry_delay_ms;
} zvm_auth_options;

typedef struct zvm_auth {
    char *token;                      /* malloc'd */
    char *storage_url;                /* malloc'd, without a trailing '/' */
    char version[8];                  /* "1.0" or "3" */
} zvm_auth;

/* Which auth version the options call for: "1.0" or "3", from opt->version or from which group
 * of options is complete (1.0 wins when both are); NULL with err filled when none is. */
const char *zvm_auth_version(const zvm_auth_options *opt, zvm_cluster_error *err);

/* Logs in and returns a token and the storage URL. */
int zvm_auth_login(const zvm_auth_options *opt, zvm_auth *out, zvm_cluster_error *err);

void zvm_auth_free(zvm_auth *auth);

/* ---- Swift ---- */

typedef struct zvm_swift {
    const char *storage_url;          /* http://host:port/v1/AUTH_account */
    const char *token;
    int retries;
    long retry_delay_ms;
    zvm_progress_fn *progress;        /* for object uploads; NULL: none */
    void *progress_arg;
} zvm_swift;

/* The number of objects in a container (HEAD), or -1 when the container does not exist. */
int zvm_swift_container_objects(const zvm_swift *sw, const char *container, long long *count, zvm_cluster_error *err);

int zvm_swift_put_container(const zvm_swift *sw, const char *container, zvm_cluster_error *err);

/* Uploads an object from memory (data, size) or, when path is not NULL, from that file. */
int zvm_swift_put_object(const zvm_swift *sw, const char *container, const char *object, const char *content_type,
                         const void *data, size_t size, const char *path, zvm_cluster_error *err);

/* Downloads an object; resp holds it (status 200) — any other status is an error. */
int zvm_swift_get_object(const zvm_swift *sw, const char *container, const char *object, zvm_http_response *resp,
                         zvm_cluster_error *err);

int zvm_swift_delete_object(const zvm_swift *sw, const char *container, const char *object, zvm_cluster_error *err);

/* POSTs a ZeroVM job to the storage URL with "X-Zerovm-Execute: 1.0": content_type is
 * application/json (a job description) or application/x-gzip (a whole .zapp).  Returns 0 when a
 * response arrived, whatever its status (the caller shows an error status with its body). */
int zvm_swift_execute(const zvm_swift *sw, const char *content_type, const void *data, size_t size, const char *path,
                      zvm_http_response *resp, zvm_cluster_error *err);

/* ---- ZeroCloud's answer ---- */

/* The X-Nexe-System/Status/Retcode/Cdr-Line headers of a job's answer as a text table (malloc'd):
 * a header row, one row per node (node, status, return code, node time, then zvm's ten
 * accounting numbers), then "Total time: T".  NULL when one of the four headers is missing. */
char *zvm_nexe_summary(const zvm_http_response *resp);

/* "swift://AUTH_account/container/object" for a storage URL, as ZeroCloud's job paths name it. */
char *zvm_swift_url(const char *storage_url, const char *container, const char *object);

#endif
