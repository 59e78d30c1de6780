/* progress.c — an upload progress bar on stderr, only when stderr is a terminal. */
#include "zpm.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct bar {
    char label[128];
    int last_percent;
    int drawn;
} bar;

static void draw(void *arg, uint64_t sent, uint64_t total)
{
    bar *b = arg;
    if (total == 0)
        return;
    int percent = (int)(sent * 100 / total);
    if (percent == b->last_percent)
        return;
    b->last_percent = percent;
    b->drawn = 1;
    char fill[31];
    int width = percent * 30 / 100;
    memset(fill, '#', (size_t)width);
    memset(fill + width, ' ', (size_t)(30 - width));
    fill[30] = '\0';
    fprintf(stderr, "\r  %-40.40s [%s] %3d%% %8.1f KiB", b->label, fill, percent, (double)sent / 1024);
    fflush(stderr);
}

/* One bar per process is enough: zpm uploads one object at a time. */
static bar the_bar;

void zpm_progress_attach(zvm_swift *sw, const char *label)
{
    if (!isatty(STDERR_FILENO)) {
        sw->progress = NULL;
        return;
    }
    snprintf(the_bar.label, sizeof the_bar.label, "%s", label);
    the_bar.last_percent = -1;
    the_bar.drawn = 0;
    sw->progress = draw;
    sw->progress_arg = &the_bar;
}

void zpm_progress_done(zvm_swift *sw)
{
    if (sw->progress && the_bar.drawn)
        fputc('\n', stderr);
    sw->progress = NULL;
}
