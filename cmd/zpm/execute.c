/* execute.c — zpm execute: POST a job to ZeroCloud, print the answer (and the X-Nexe-* summary). */
#include "zpm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool zpm_print_summary(const zvm_http_response *resp)
{
    char *table = zvm_nexe_summary(resp);
    if (!table)
        return false;
    printf("Execution summary:\n%s", table);
    free(table);
    return true;
}

static bool has_nexe_headers(const zvm_http_response *resp)
{
    for (size_t i = 0; i < resp->header_count; i++)
        if (strncasecmp(resp->headers[i], "X-Nexe-", 7) == 0)
            return true;
    return false;
}

int zpm_execute_job(zvm_swift *sw, const char *content_type, const void *data, size_t size, const char *path,
                    bool summary)
{
    zvm_http_response resp;
    zvm_cluster_error err;
    /* A job is not idempotent: never send it twice after a 5xx. Connection errors before any
     * answer are retried by zvm_http_do only when nothing was received. */
    int retries = sw->retries;
    sw->retries = 0;
    zpm_progress_attach(sw, "job");
    int got = zvm_swift_execute(sw, content_type, data, size, path, &resp, &err);
    zpm_progress_done(sw);
    sw->retries = retries;
    if (got != 0) {
        zpm_error("execute: %s", err.msg);
        return ZPM_FAIL;
    }
    int rc = ZPM_OK;
    if (resp.status < 200 || resp.status > 299) {
        char what[1200];
        snprintf(what, sizeof what, "execute: POST %s", sw->storage_url);
        zvm_http_status_error(&err, what, &resp);
        zpm_error("%s", err.msg);
        rc = ZPM_FAIL;
    } else if (!has_nexe_headers(&resp)) {
        zpm_error("execute: POST %s answered HTTP %ld without running the job (no X-Nexe-* headers): this "
                  "Swift has no ZeroCloud middleware in its proxy pipeline",
                  sw->storage_url, resp.status);
        rc = ZPM_FAIL;
    } else {
        if (summary && !zpm_print_summary(&resp))
            zpm_warn("the answer has no complete X-Nexe-System/Status/Retcode/Cdr-Line headers: no summary");
        if (resp.body_size)
            fwrite(resp.body, 1, resp.body_size, stdout);
    }
    zvm_http_response_free(&resp);
    return rc;
}

int zpm_cmd_execute(int argc, char **argv)
{
    static const struct option own[] = {
        { "container", required_argument, NULL, 'c' },
        { "summary", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct option longs[48];
    zpm_merge_options(longs, 48, own);
    zpm_auth_args a = { 0 };
    const char *container = NULL;
    bool summary = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":c:shV:A:U:K:", longs, NULL)) != -1) {
        switch (c) {
        case 'c': container = optarg; break;
        case 's': summary = true; break;
        case 'h': zpm_print_help("execute"); return ZPM_OK;
        case ':': return zpm_usage_error("execute", "%s needs a value", argv[optind - 1]);
        default:
            if (c == '?' || !zpm_auth_take(&a, c, optarg))
                return zpm_usage_error("execute", "unknown option '%s'", argv[optind - 1]);
        }
    }
    int positional = argc - optind;
    if (positional > 1)
        return zpm_usage_error("execute", "give one ZAPP (got %d arguments)", positional);
    if (positional == 0 && !container)
        return zpm_usage_error("execute", "give a ZAPP file, or --container with a deployed app");
    if (positional == 1 && container)
        return zpm_usage_error("execute", "give a ZAPP file or --container, not both");
    const char *zapp = positional ? argv[optind] : NULL;

    char err[1024];
    if (zapp) {
        /* Fail early, before logging in, on a file that is not a bundle. */
        zpm_zapp_file zf;
        if (zpm_zapp_file_read(zapp, &zf, err, sizeof err) != 0) {
            zpm_error("%s", err);
            return ZPM_FAIL;
        }
        bool has_map = zpm_zapp_file_member(&zf, "boot/system.map") != NULL;
        zpm_zapp_file_free(&zf);
        if (!has_map) {
            zpm_error("%s has no boot/system.map: was it made by 'zpm bundle'?", zapp);
            return ZPM_FAIL;
        }
    }
    zvm_auth auth;
    zvm_swift sw;
    if (zpm_connect(&a, true, &auth, &sw) != 0)
        return ZPM_FAIL;
    int rc;
    if (zapp) {
        rc = zpm_execute_job(&sw, "application/x-gzip", NULL, 0, zapp, summary);
    } else {
        zvm_http_response job;
        zvm_cluster_error cerr;
        char *slash = strchr(container, '/');
        char *cont = strndup(container, slash ? (size_t)(slash - container) : strlen(container));
        char object[1024];
        snprintf(object, sizeof object, "%s%sboot/system.map", slash ? slash + 1 : "",
                 slash && slash[1] && container[strlen(container) - 1] != '/' ? "/" : "");
        if (zvm_swift_get_object(&sw, cont, object, &job, &cerr) != 0) {
            zpm_error("%s", cerr.msg);
            rc = ZPM_FAIL;
        } else {
            rc = zpm_execute_job(&sw, "application/json", job.body, job.body_size, NULL, summary);
            zvm_http_response_free(&job);
        }
        free(cont);
    }
    zvm_auth_free(&auth);
    return rc;
}
