/* swift.c — containers, objects and the ZeroVM job POST on a Swift storage URL. */
#include "cluster.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Percent-encodes a container or object name, keeping '/' (pseudo-directories) as it is. */
static void append_escaped(char **buf, size_t *len, const char *name)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(name);
    char *grown = realloc(*buf, *len + 3 * n + 1);
    if (!grown)
        return;
    *buf = grown;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~' || c == '/') {
            (*buf)[(*len)++] = (char)c;
        } else {
            (*buf)[(*len)++] = '%';
            (*buf)[(*len)++] = hex[c >> 4];
            (*buf)[(*len)++] = hex[c & 15];
        }
    }
    (*buf)[*len] = '\0';
}

/* storage_url/container[/object], malloc'd. */
static char *object_url(const zvm_swift *sw, const char *container, const char *object)
{
    size_t len = strlen(sw->storage_url);
    char *url = malloc(len + 2);
    if (!url)
        return NULL;
    memcpy(url, sw->storage_url, len);
    url[len++] = '/';
    url[len] = '\0';
    append_escaped(&url, &len, container);
    if (object) {
        char *grown = realloc(url, len + 2);
        if (!grown) {
            free(url);
            return NULL;
        }
        url = grown;
        url[len++] = '/';
        url[len] = '\0';
        append_escaped(&url, &len, object);
    }
    return url;
}

/* Sends one request with the token (and the extra headers, NULL-terminated, if any); *resp
 * holds the answer when 0 is returned. */
static int call_with(const zvm_swift *sw, const char *method, const char *url, const char *content_type,
                     const void *data, size_t size, const char *path, int with_progress, const char *const *extra,
                     zvm_http_response *resp, zvm_cluster_error *err)
{
    char token[4096], type[256];
    const char *headers[8];
    int h = 0;
    snprintf(token, sizeof token, "X-Auth-Token: %s", sw->token);
    headers[h++] = token;
    if (content_type) {
        snprintf(type, sizeof type, "Content-Type: %s", content_type);
        headers[h++] = type;
    }
    for (int i = 0; extra && extra[i] && h < 7; i++)
        headers[h++] = extra[i];
    headers[h] = NULL;
    zvm_http_request req = {
        .method = method,
        .url = url,
        .headers = headers,
        .body = data,
        .body_size = size,
        .body_path = path,
        .retries = sw->retries,
        .retry_delay_ms = sw->retry_delay_ms,
        .progress = with_progress ? sw->progress : NULL,
        .progress_arg = sw->progress_arg,
    };
    if ((strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0) && !data && !path)
        req.body = "";                           /* an empty body: Content-Length: 0 */
    return zvm_http_do(&req, resp, err);
}

static int call(const zvm_swift *sw, const char *method, const char *url, const char *content_type, const void *data,
                size_t size, const char *path, int with_progress, zvm_http_response *resp, zvm_cluster_error *err)
{
    return call_with(sw, method, url, content_type, data, size, path, with_progress, NULL, resp, err);
}

/* "what: HTTP 401 Unauthorized: ...", with a hint for the statuses that have an obvious fix. */
static int status_error(zvm_cluster_error *err, const char *what, const zvm_http_response *resp)
{
    zvm_http_status_error(err, what, resp);
    const char *hint = NULL;
    if (resp->status == 401)
        hint = "; the token is invalid or expired: log in again (zpm auth) or check the credentials";
    else if (resp->status == 403)
        hint = "; the user may not do this here: check its roles (tempauth: .admin)";
    if (hint) {
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len, "%s", hint);
    }
    return -1;
}

int zvm_swift_container_objects(const zvm_swift *sw, const char *container, long long *count, zvm_cluster_error *err)
{
    char *url = object_url(sw, container, NULL);
    if (!url)
        return zvm_cluster_fail(err, 0, "out of memory");
    zvm_http_response resp;
    int rc = call(sw, "HEAD", url, NULL, NULL, 0, NULL, 0, &resp, err);
    if (rc == 0) {
        if (resp.status == 404) {
            *count = -1;
        } else if (resp.status >= 200 && resp.status <= 299) {
            const char *n = zvm_http_header(&resp, "X-Container-Object-Count");
            *count = n ? strtoll(n, NULL, 10) : 0;
        } else {
            char what[1200];
            snprintf(what, sizeof what, "HEAD %s", url);
            rc = status_error(err, what, &resp);
        }
        zvm_http_response_free(&resp);
    }
    free(url);
    return rc;
}

int zvm_swift_put_container(const zvm_swift *sw, const char *container, zvm_cluster_error *err)
{
    char *url = object_url(sw, container, NULL);
    if (!url)
        return zvm_cluster_fail(err, 0, "out of memory");
    zvm_http_response resp;
    int rc = call(sw, "PUT", url, NULL, NULL, 0, NULL, 0, &resp, err);
    if (rc == 0) {
        if (resp.status < 200 || resp.status > 299) {
            char what[1200];
            snprintf(what, sizeof what, "cannot create container %s (PUT %s)", container, url);
            rc = status_error(err, what, &resp);
        }
        zvm_http_response_free(&resp);
    }
    free(url);
    return rc;
}

int zvm_swift_put_object(const zvm_swift *sw, const char *container, const char *object, const char *content_type,
                         const void *data, size_t size, const char *path, zvm_cluster_error *err)
{
    char *url = object_url(sw, container, object);
    if (!url)
        return zvm_cluster_fail(err, 0, "out of memory");
    zvm_http_response resp;
    int rc = call(sw, "PUT", url, content_type, data ? data : "", size, path, 1, &resp, err);
    if (rc == 0) {
        if (resp.status < 200 || resp.status > 299) {
            char what[1200];
            snprintf(what, sizeof what, "cannot upload %s/%s (PUT %s)", container, object, url);
            rc = status_error(err, what, &resp);
        }
        zvm_http_response_free(&resp);
    }
    free(url);
    return rc;
}

int zvm_swift_get_object(const zvm_swift *sw, const char *container, const char *object, zvm_http_response *resp,
                         zvm_cluster_error *err)
{
    char *url = object_url(sw, container, object);
    if (!url)
        return zvm_cluster_fail(err, 0, "out of memory");
    int rc = call(sw, "GET", url, NULL, NULL, 0, NULL, 0, resp, err);
    if (rc == 0 && resp->status != 200) {
        char what[1200];
        if (resp->status == 404)
            snprintf(what, sizeof what, "%s/%s not found (GET %s); was the app deployed there?", container, object,
                     url);
        else
            snprintf(what, sizeof what, "cannot download %s/%s (GET %s)", container, object, url);
        rc = status_error(err, what, resp);
        zvm_http_response_free(resp);
    }
    free(url);
    return rc;
}

int zvm_swift_delete_object(const zvm_swift *sw, const char *container, const char *object, zvm_cluster_error *err)
{
    char *url = object_url(sw, container, object);
    if (!url)
        return zvm_cluster_fail(err, 0, "out of memory");
    zvm_http_response resp;
    int rc = call(sw, "DELETE", url, NULL, NULL, 0, NULL, 0, &resp, err);
    if (rc == 0) {
        if ((resp.status < 200 || resp.status > 299) && resp.status != 404) {
            char what[1200];
            snprintf(what, sizeof what, "cannot delete %s/%s (DELETE %s)", container, object, url);
            rc = status_error(err, what, &resp);
        }
        zvm_http_response_free(&resp);
    }
    free(url);
    return rc;
}

int zvm_swift_execute(const zvm_swift *sw, const char *content_type, const void *data, size_t size, const char *path,
                      zvm_http_response *resp, zvm_cluster_error *err)
{
    static const char *const execute[] = { "X-Zerovm-Execute: 1.0", "Accept: */*", NULL };
    return call_with(sw, "POST", sw->storage_url, content_type, data, size, path, 1, execute, resp, err);
}

char *zvm_swift_url(const char *storage_url, const char *container, const char *object)
{
    /* http://host:port/v1/AUTH_test → AUTH_test: the account is what follows "/v1/". */
    const char *account = strstr(storage_url, "/v1/");
    if (account)
        account += 4;
    else {
        account = strrchr(storage_url, '/');
        account = account ? account + 1 : storage_url;
    }
    size_t size = strlen(account) + strlen(container) + (object ? strlen(object) : 0) + 16;
    char *url = malloc(size);
    if (url)
        snprintf(url, size, "swift://%s/%s%s%s", account, container, object ? "/" : "", object ? object : "");
    return url;
}
