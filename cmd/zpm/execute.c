/* execute.c — zpm execute: POST a job to ZeroCloud, print the answer (and the X-Nexe-* summary). */
#include "zpm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The next comma-separated field of *s (trimmed), or NULL when there is none. */
static char *next_field(char **s)
{
    if (!*s)
        return NULL;
    char *start = *s, *comma = strchr(start, ',');
    if (comma) {
        *comma = '\0';
        *s = comma + 1;
    } else {
        *s = NULL;
    }
    while (*start == ' ')
        start++;
    size_t n = strlen(start);
    while (n > 0 && start[n - 1] == ' ')
        start[--n] = '\0';
    return start;
}

/* ZeroCloud reports each node in X-Nexe-System, X-Nexe-Status and X-Nexe-Retcode (comma
 * separated, one per node) and X-Nexe-Cdr-Line: "<total time>, <node time>, <10 accounting
 * numbers>, <node time>, <10 numbers>, ...". */
bool zpm_print_summary(const zvm_http_response *resp)
{
    static const char *const columns[] = {
        "Node", "Status", "Retcode", "NodeT", "SysT", "UserT", "DiskReads", "DiskBytesR", "DiskWrites",
        "DiskBytesW", "NetworkReads", "NetworkBytesR", "NetworkWrites", "NetworkBytesW",
    };
    enum { NCOL = sizeof columns / sizeof columns[0], MAXROWS = 256 };
    const char *sys = zvm_http_header(resp, "X-Nexe-System");
    const char *status = zvm_http_header(resp, "X-Nexe-Status");
    const char *retcode = zvm_http_header(resp, "X-Nexe-Retcode");
    const char *cdr = zvm_http_header(resp, "X-Nexe-Cdr-Line");
    if (!sys || !status || !retcode || !cdr)
        return false;
    char *s_sys = strdup(sys), *s_status = strdup(status), *s_ret = strdup(retcode), *s_cdr = strdup(cdr);
    char *p_sys = s_sys, *p_status = s_status, *p_ret = s_ret, *p_cdr = s_cdr;
    char *total = next_field(&p_cdr);
    static char *cells[MAXROWS][NCOL];
    size_t rows = 0, width[NCOL];
    for (size_t c = 0; c < NCOL; c++)
        width[c] = strlen(columns[c]);
    char *node, *acct[MAXROWS];
    while (rows < MAXROWS && (node = next_field(&p_sys)) != NULL) {
        char *st = next_field(&p_status), *rc = next_field(&p_ret), *nodet = next_field(&p_cdr);
        acct[rows] = next_field(&p_cdr);
        cells[rows][0] = node;
        cells[rows][1] = st ? st : "";
        cells[rows][2] = rc ? rc : "";
        cells[rows][3] = nodet ? nodet : "";
        /* The ten accounting numbers of the node, space separated. */
        char *save = NULL, *tok = acct[rows] ? strtok_r(acct[rows], " ", &save) : NULL;
        for (size_t c = 4; c < NCOL; c++) {
            cells[rows][c] = tok ? tok : "";
            tok = tok ? strtok_r(NULL, " ", &save) : NULL;
        }
        for (size_t c = 0; c < NCOL; c++)
            if (strlen(cells[rows][c]) > width[c])
                width[c] = strlen(cells[rows][c]);
        rows++;
    }
    printf("Execution summary:\n");
    for (size_t c = 0; c < NCOL; c++)
        printf("%s%-*s", c ? "  " : "", (int)width[c], columns[c]);
    putchar('\n');
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < NCOL; c++)
            printf("%s%-*s", c ? "  " : "", (int)width[c], cells[r][c]);
        putchar('\n');
    }
    printf("Total time: %s\n", total ? total : "?");
    free(s_sys);
    free(s_status);
    free(s_ret);
    free(s_cdr);
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
                  "Swift has no ZeroCloud middleware in its proxy pipeline", sw->storage_url, resp.status);
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
        { "container", required_argument, NULL, 'c' }, { "summary", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
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
