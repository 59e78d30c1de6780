/* http.c — one HTTP request through libcurl, with retries and backoff on 5xx and connection errors. */
#include "cluster.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Where the request body comes from, rewound for each attempt. */
typedef struct body_source {
    const char *data;
    size_t size, offset;
    FILE *file;
} body_source;

static size_t read_body(char *buf, size_t size, size_t n, void *arg)
{
    body_source *src = arg;
    size_t want = size * n;
    if (src->file)
        return fread(buf, 1, want, src->file);
    size_t left = src->size - src->offset;
    if (want > left)
        want = left;
    memcpy(buf, src->data + src->offset, want);
    src->offset += want;
    return want;
}

static size_t write_body(char *data, size_t size, size_t n, void *arg)
{
    zvm_http_response *resp = arg;
    size_t len = size * n;
    char *grown = realloc(resp->body, resp->body_size + len + 1);
    if (!grown)
        return 0;                                  /* curl reports a write error */
    memcpy(grown + resp->body_size, data, len);
    resp->body = grown;
    resp->body_size += len;
    resp->body[resp->body_size] = '\0';
    return len;
}

static void clear_headers(zvm_http_response *resp)
{
    for (size_t i = 0; i < resp->header_count; i++)
        free(resp->headers[i]);
    free(resp->headers);
    resp->headers = NULL;
    resp->header_count = 0;
}

static size_t write_header(char *data, size_t size, size_t n, void *arg)
{
    zvm_http_response *resp = arg;
    size_t len = size * n, keep = len;
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        clear_headers(resp);                       /* a new response (after "100 Continue") */
        return len;
    }
    while (keep > 0 && (data[keep - 1] == '\n' || data[keep - 1] == '\r'))
        keep--;
    if (keep == 0)
        return len;
    char **grown = realloc(resp->headers, (resp->header_count + 1) * sizeof *grown);
    if (!grown)
        return 0;
    resp->headers = grown;
    resp->headers[resp->header_count] = strndup(data, keep);
    if (!resp->headers[resp->header_count])
        return 0;
    resp->header_count++;
    return len;
}

typedef struct progress_relay {
    const zvm_http_request *req;
} progress_relay;

static int relay_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    const zvm_http_request *req = ((progress_relay *)arg)->req;
    if (ulnow > 0 || ultotal > 0)
        req->progress(req->progress_arg, (uint64_t)ulnow, (uint64_t)ultotal);
    return 0;
}

static void set_error(zvm_cluster_error *err, long status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->http_status = status;
}

/* Transport errors worth another attempt: the server may come back. */
static int transient(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return 1;
    default: return 0;
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

void zvm_http_response_free(zvm_http_response *resp)
{
    clear_headers(resp);
    free(resp->body);
    memset(resp, 0, sizeof *resp);
}

/* One attempt: returns the curl code; resp is reset first. */
static CURLcode attempt(CURL *curl, const zvm_http_request *req, body_source *src, zvm_http_response *resp,
                        char *curl_msg)
{
    zvm_http_response_free(resp);
    src->offset = 0;
    if (src->file)
        rewind(src->file);
    curl_msg[0] = '\0';
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    return rc;
}

int zvm_http_do(const zvm_http_request *req, zvm_http_response *resp, zvm_cluster_error *err)
{
    memset(resp, 0, sizeof *resp);
    err->http_status = 0;
    err->msg[0] = '\0';

    body_source src = { .data = req->body, .size = req->body ? req->body_size : 0 };
    long long upload_size = (long long)src.size;
    if (req->body_path) {
        src.file = fopen(req->body_path, "rb");
        if (!src.file) {
            set_error(err, 0, "cannot read %s: %m", req->body_path);
            return -1;
        }
        fseeko(src.file, 0, SEEK_END);
        upload_size = ftello(src.file);
        rewind(src.file);
    }
    int has_body = req->body != NULL || req->body_path != NULL;

    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    if (!curl) {
        if (src.file)
            fclose(src.file);
        set_error(err, 0, "cannot start libcurl (out of memory?)");
        return -1;
    }
    for (const char *const *h = req->headers; h && *h; h++)
        headers = curl_slist_append(headers, *h);
    /* No "Expect: 100-continue" round trip: the bodies are small or the server is near. */
    headers = curl_slist_append(headers, "Expect:");

    char curl_msg[CURL_ERROR_SIZE];
    progress_relay relay = { req };
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_msg);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, write_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, req->timeout_s > 0 ? req->timeout_s : 300L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "zpm");
    if (req->progress) {
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, relay_progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &relay);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    }

    const char *method = req->method ? req->method : "GET";
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "PUT") == 0) {
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(curl, CURLOPT_READDATA, &src);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)upload_size);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(curl, CURLOPT_READDATA, &src);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(has_body ? upload_size : 0));
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }

    long delay = req->retry_delay_ms > 0 ? req->retry_delay_ms : 500;
    int attempts = 0, result = -1;
    for (;;) {
        attempts++;
        CURLcode rc = attempt(curl, req, &src, resp, curl_msg);
        int more = attempts <= req->retries;
        if (rc == CURLE_OK) {
            result = 0;
            if (resp->status >= 500 && more) {
                sleep_ms(delay);
                delay *= 2;
                continue;
            }
            break;
        }
        if (transient(rc) && more) {
            sleep_ms(delay);
            delay *= 2;
            continue;
        }
        char tries[32] = "";
        if (attempts > 1)
            snprintf(tries, sizeof tries, " (%d attempts)", attempts);
        set_error(err, 0, "%s %s: %s%s%s", method, req->url, curl_msg[0] ? curl_msg : curl_easy_strerror(rc), tries,
                  transient(rc) ? "; check the URL and that the server is running" : "");
        zvm_http_response_free(resp);
        break;
    }

    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (src.file)
        fclose(src.file);
    return result;
}

const char *zvm_http_header(const zvm_http_response *resp, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < resp->header_count; i++) {
        const char *h = resp->headers[i];
        if (strncasecmp(h, name, len) == 0 && h[len] == ':') {
            h += len + 1;
            while (*h == ' ' || *h == '\t')
                h++;
            return h;
        }
    }
    return NULL;
}

/* The standard reason phrase for the statuses Swift and Keystone answer with. */
static const char *reason(long status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
    }
}

void zvm_http_status_error(zvm_cluster_error *err, const char *what, const zvm_http_response *resp)
{
    /* The body on one line, trimmed: HTML tags are left as they are, that is what the server said. */
    char body[1024];
    size_t n = 0;
    for (size_t i = 0; resp->body && i < resp->body_size && n + 1 < sizeof body; i++) {
        char c = resp->body[i];
        if (c == '\r' || c == '\n' || c == '\t')
            c = ' ';
        if (c == ' ' && (n == 0 || body[n - 1] == ' '))
            continue;
        body[n++] = c;
    }
    while (n > 0 && body[n - 1] == ' ')
        n--;
    body[n] = '\0';
    set_error(err, resp->status, "%s: HTTP %ld%s%s%s%s", what, resp->status, *reason(resp->status) ? " " : "",
              reason(resp->status), n ? ": " : "", body);
}

int zvm_cluster_fail(zvm_cluster_error *err, long status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->http_status = status;
    return -1;
}
