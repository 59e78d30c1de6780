/* nexe.c — ZeroCloud's per-node report, carried in X-Nexe-* response headers, as a table. */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The next comma-separated field of *s, trimmed; NULL when there is none. */
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

enum { NCOL = 15, MAXROWS = 1024 };

static const char *const columns[NCOL] = {
    "Node",         "Status",        "Retcode",       "NodeT",         "SysT",
    "UserT",        "DiskReads",     "DiskBytesR",    "DiskWrites",    "DiskBytesW",
    "NetworkReads", "NetworkBytesR", "NetworkWrites", "NetworkBytesW", "Cached",
};

static void print_row(FILE *out, const char *const *cells, const size_t *width)
{
    for (size_t c = 0; c + 1 < NCOL; c++)
        fprintf(out, "%-*s  ", (int)width[c], cells[c]);
    fprintf(out, "%s\n", cells[NCOL - 1]);
}

/* ZeroCloud names each node in X-Nexe-System, X-Nexe-Status and X-Nexe-Retcode (comma separated,
 * one per node), and X-Nexe-Cdr-Line holds "<total time>, <node time>, <10 accounting numbers>,
 * <node time>, <10 numbers>, ..." — the numbers being zvm's accounting line.  X-Nexe-Cached, when
 * the cluster sends it, says per node whether it resumed a snapshot (the last column). */
char *zvm_nexe_summary(const zvm_http_response *resp)
{
    const char *hdr[4] = {
        zvm_http_header(resp, "X-Nexe-System"),
        zvm_http_header(resp, "X-Nexe-Status"),
        zvm_http_header(resp, "X-Nexe-Retcode"),
        zvm_http_header(resp, "X-Nexe-Cdr-Line"),
    };
    if (!hdr[0] || !hdr[1] || !hdr[2] || !hdr[3])
        return NULL;
    const char *cached = zvm_http_header(resp, "X-Nexe-Cached");
    char *copy[5], *cur[5];
    for (int i = 0; i < 4; i++)
        cur[i] = copy[i] = strdup(hdr[i]);
    cur[4] = copy[4] = cached ? strdup(cached) : NULL;
    const char *(*cells)[NCOL] = calloc(MAXROWS, sizeof *cells);
    char *text = NULL;
    size_t text_size = 0;
    FILE *out = cells && copy[0] && copy[1] && copy[2] && copy[3] ? open_memstream(&text, &text_size) : NULL;
    if (out) {
        char *total = next_field(&cur[3]);
        size_t rows = 0, width[NCOL];
        for (size_t c = 0; c < NCOL; c++)
            width[c] = strlen(columns[c]);
        char *node;
        while (rows < MAXROWS && (node = next_field(&cur[0])) != NULL) {
            const char *status = next_field(&cur[1]), *rc = next_field(&cur[2]), *time = next_field(&cur[3]);
            char *acct = next_field(&cur[3]), *save = NULL;
            cells[rows][0] = node;
            cells[rows][1] = status ? status : "";
            cells[rows][2] = rc ? rc : "";
            cells[rows][3] = time ? time : "";
            const char *resumed = next_field(&cur[4]);
            char *tok = acct ? strtok_r(acct, " ", &save) : NULL;
            for (size_t c = 4; c < NCOL - 1; c++) {
                cells[rows][c] = tok ? tok : "";
                tok = tok ? strtok_r(NULL, " ", &save) : NULL;
            }
            cells[rows][NCOL - 1] = resumed ? resumed : "";
            for (size_t c = 0; c < NCOL; c++)
                if (strlen(cells[rows][c]) > width[c])
                    width[c] = strlen(cells[rows][c]);
            rows++;
        }
        print_row(out, columns, width);
        for (size_t r = 0; r < rows; r++)
            print_row(out, cells[r], width);
        fprintf(out, "Total time: %s\n", total && *total ? total : "?");
        fclose(out);
    }
    free(cells);
    for (int i = 0; i < 5; i++)
        free(copy[i]);
    return text;
}
