/* zapp_yaml.c — zapp.yaml: parsed with libyaml, checked against what ZeroCloud accepts (errors
 * carry FILE:LINE:COLUMN), and turned into JSON (jansson) for the job and the templates. */
#include "zpm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* What checking needs at hand: the document, the file name for messages, the error buffer. */
typedef struct checker {
    yaml_document_t *doc;
    const char *file;
    char *err;
    size_t errsize;
} checker;

static int fail_at(checker *c, const yaml_node_t *node, const char *fmt, ...)
{
    int n = snprintf(c->err, c->errsize, "%s:%zu:%zu: ", c->file, node ? node->start_mark.line + 1 : 1,
                     node ? node->start_mark.column + 1 : 1);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < c->errsize)
        vsnprintf(c->err + n, c->errsize - n, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_SCALAR_NODE: return "a scalar";
    default: return "nothing";
    }
}

static yaml_node_t *node_at(checker *c, int index)
{
    return yaml_document_get_node(c->doc, index);
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A plain (unquoted) scalar may be a null, a boolean or a number; a quoted one is a string. */
static int plain(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static int is_null(const yaml_node_t *n)
{
    if (!plain(n))
        return 0;
    const char *s = scalar(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int as_bool(const yaml_node_t *n, int *value)
{
    static const char *yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", NULL };
    static const char *no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", NULL };
    if (!plain(n))
        return 0;
    for (int i = 0; yes[i]; i++)
        if (!strcmp(scalar(n), yes[i]))
            return *value = 1, 1;
    for (int i = 0; no[i]; i++)
        if (!strcmp(scalar(n), no[i]))
            return *value = 0, 1;
    return 0;
}

static int as_integer(const yaml_node_t *n, long long *value)
{
    if (!plain(n) || !*scalar(n))
        return 0;
    char *end;
    *value = strtoll(scalar(n), &end, 10);
    return *end == '\0';
}

static int as_real(const yaml_node_t *n, double *value)
{
    if (!plain(n) || !*scalar(n))
        return 0;
    char *end;
    *value = strtod(scalar(n), &end);
    return *end == '\0';
}

/* A string: any scalar that is not a null (numbers and booleans keep their text, as
 * ZeroCloud reads e.g. `Version: 1.0` as text anyway). */
static int is_text(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && !is_null(n);
}

/* The value node for key in a mapping node, or NULL. */
static yaml_node_t *get(checker *c, const yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp(scalar(k), key) == 0)
            return node_at(c, p->value);
    }
    return NULL;
}

/* Keys must be scalars, each once; keys outside `known` (NULL: any) are warned about. */
static int check_keys(checker *c, const yaml_node_t *map, const char *where, const char *const *known)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key);
        if (k->type != YAML_SCALAR_NODE)
            return fail_at(c, k, "%s: a key must be a plain name, not %s", where, kind_name(k));
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++)
            if (strcmp(scalar(node_at(c, q->key)), scalar(k)) == 0)
                return fail_at(c, k, "%s: key '%s' appears twice", where, scalar(k));
        if (!known)
            continue;
        int found = 0;
        for (int i = 0; known[i]; i++)
            found |= strcmp(known[i], scalar(k)) == 0;
        if (!found)
            zpm_warn("%s:%zu:%zu: %s: unknown key '%s' (kept as it is)", c->file, k->start_mark.line + 1,
                     k->start_mark.column + 1, where, scalar(k));
    }
    return 0;
}

/* The node for key, required to be of the given kind; *out NULL when absent and optional. */
static int want(checker *c, const yaml_node_t *map, const char *key, const char *where, yaml_node_type_t type,
                int required, yaml_node_t **out)
{
    yaml_node_t *n = get(c, map, key);
    *out = NULL;
    if (!n || (type != YAML_SCALAR_NODE && is_null(n))) {
        if (required)
            return fail_at(c, map, "%s: missing key '%s'", where, key);
        return 0;
    }
    if (n->type != type) {
        yaml_node_t shape = { .type = type };
        return fail_at(c, n, "%s.%s must be %s, not %s", where, key, kind_name(&shape), kind_name(n));
    }
    if (type == YAML_SCALAR_NODE && required && !is_text(n))
        return fail_at(c, n, "%s.%s must not be empty", where, key);
    *out = n;
    return 0;
}

static int want_list_of_text(checker *c, const yaml_node_t *map, const char *key, const char *where)
{
    yaml_node_t *list;
    if (want(c, map, key, where, YAML_SEQUENCE_NODE, 0, &list) != 0)
        return -1;
    if (!list)
        return 0;
    for (yaml_node_item_t *i = list->data.sequence.items.start; i < list->data.sequence.items.top; i++) {
        yaml_node_t *item = node_at(c, *i);
        if (!is_text(item))
            return fail_at(c, item, "%s.%s: each entry must be a string (a glob or a name), not %s", where, key,
                           item->type == YAML_SCALAR_NODE ? "empty" : kind_name(item));
    }
    return 0;
}

/* The device names ZeroCloud accepts, plus the system image a group's path names. */
static const char *const standard_devices[] = {
    "stdin", "stdout", "stderr", "input", "output", "debug", "image", "db", "script", NULL,
};

/* The image named by "file://IMAGE:program", or NULL. */
static char *path_image(const char *path)
{
    if (strncmp(path, "file://", 7) != 0)
        return NULL;
    const char *colon = strrchr(path + 7, ':');
    return colon ? strndup(path + 7, colon - (path + 7)) : NULL;
}

/* Extra system images the cluster offers: ZPM_SYSIMAGE_DEVICES="python,lua" (ZeroCloud's
 * zerovm_sysimage_devices). */
static int listed_sysimage(const char *name)
{
    const char *list = getenv("ZPM_SYSIMAGE_DEVICES");
    size_t len = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, name, n) == 0)
            return 1;
        p = end ? end + 1 : p + n;
    }
    return 0;
}

static int check_device(checker *c, const yaml_node_t *dev, const char *group, const char *image)
{
    static const char *const keys[] = { "name", "path", "content_type", "meta", "mode", "min_size", NULL };
    char where[256];
    snprintf(where, sizeof where, "group '%s' device", group);
    if (dev->type != YAML_MAPPING_NODE)
        return fail_at(c, dev, "%s: each device must be a mapping with a 'name', not %s", where, kind_name(dev));
    if (check_keys(c, dev, where, keys) != 0)
        return -1;
    yaml_node_t *name, *path, *mode, *meta, *size;
    if (want(c, dev, "name", where, YAML_SCALAR_NODE, 1, &name) != 0 ||
        want(c, dev, "path", where, YAML_SCALAR_NODE, 0, &path) != 0 ||
        want(c, dev, "mode", where, YAML_SCALAR_NODE, 0, &mode) != 0 ||
        want(c, dev, "meta", where, YAML_MAPPING_NODE, 0, &meta) != 0 ||
        want(c, dev, "min_size", where, YAML_SCALAR_NODE, 0, &size) != 0)
        return -1;
    const char *n = scalar(name);
    int known = (image && strcmp(n, image) == 0) || listed_sysimage(n);
    for (int i = 0; standard_devices[i]; i++)
        known |= strcmp(n, standard_devices[i]) == 0;
    if (!known)
        return fail_at(c, name,
                       "group '%s': unknown device '%s'; devices are stdin, stdout, stderr, input, "
                       "output, debug, image, db, script, or the system image the group's path names%s%s%s",
                       group, n, image ? " ('" : "", image ? image : "", image ? "')" : "");
    if (path && !is_text(path))
        return fail_at(c, path, "%s '%s': path must be a string (a swift:// URL)", where, n);
    if (mode && (!is_text(mode) || (strcmp(scalar(mode), "file") && strcmp(scalar(mode), "char") &&
                                    strcmp(scalar(mode), "pipe") && strcmp(scalar(mode), "block"))))
        return fail_at(c, mode, "%s '%s': mode must be file, char, pipe or block", where, n);
    long long v;
    if (size && (!as_integer(size, &v) || v < 0))
        return fail_at(c, size, "%s '%s': min_size must be an integer >= 0", where, n);
    return 0;
}

static int check_group(checker *c, const yaml_node_t *g, int index)
{
    static const char *const keys[] = { "name",  "path",      "args",   "env",      "devices", "connect",
                                        "count", "replicate", "attach", "location", NULL };
    char where[128];
    snprintf(where, sizeof where, "execution.groups[%d]", index);
    if (g->type != YAML_MAPPING_NODE)
        return fail_at(c, g, "%s must be a mapping (name, path, args, devices...), not %s", where, kind_name(g));
    if (check_keys(c, g, where, keys) != 0)
        return -1;
    yaml_node_t *name, *path, *args, *env, *devices, *count, *replicate, *attach;
    if (want(c, g, "name", where, YAML_SCALAR_NODE, 1, &name) != 0)
        return -1;
    const char *gname = scalar(name);
    for (const char *p = gname; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-'))
            return fail_at(c, name,
                           "%s.name '%s': use letters, digits, '_' and '-' only (ZeroCloud names "
                           "channels after it)",
                           where, gname);
    snprintf(where, sizeof where, "group '%s'", gname);
    if (want(c, g, "path", where, YAML_SCALAR_NODE, 1, &path) != 0 ||
        want(c, g, "args", where, YAML_SCALAR_NODE, 0, &args) != 0 ||
        want(c, g, "env", where, YAML_MAPPING_NODE, 0, &env) != 0 ||
        want(c, g, "devices", where, YAML_SEQUENCE_NODE, 1, &devices) != 0 ||
        want(c, g, "count", where, YAML_SCALAR_NODE, 0, &count) != 0 ||
        want(c, g, "replicate", where, YAML_SCALAR_NODE, 0, &replicate) != 0 ||
        want(c, g, "attach", where, YAML_SCALAR_NODE, 0, &attach) != 0 ||
        want_list_of_text(c, g, "connect", where) != 0)
        return -1;
    const char *p = scalar(path);
    if (strncmp(p, "file://", 7) != 0 && strncmp(p, "swift://", 8) != 0)
        return fail_at(c, path,
                       "%s: path '%s' must be file://IMAGE:PROGRAM (a program in a system image) or "
                       "swift://ACCOUNT/CONTAINER/OBJECT",
                       where, p);
    if (strncmp(p, "file://", 7) == 0 && !strchr(p + 7, ':'))
        return fail_at(c, path, "%s: path '%s' must name the image and the program: file://IMAGE:PROGRAM", where, p);
    if (args) {
        char **argv = zpm_shell_split(is_null(args) ? "" : scalar(args), c->err, c->errsize);
        if (!argv) {
            char why[256];
            snprintf(why, sizeof why, "%s", c->err);
            return fail_at(c, args, "%s: args: %s", where, why);
        }
        zpm_strv_free(argv);
    }
    if (env) {
        if (check_keys(c, env, where, NULL) != 0)
            return -1;
        for (yaml_node_pair_t *e = env->data.mapping.pairs.start; e < env->data.mapping.pairs.top; e++) {
            yaml_node_t *v = node_at(c, e->value);
            if (v->type != YAML_SCALAR_NODE)
                return fail_at(c, v, "%s: env.%s must be a string, not %s", where, scalar(node_at(c, e->key)),
                               kind_name(v));
        }
    }
    long long v;
    if (count && (!as_integer(count, &v) || v < 1))
        return fail_at(c, count, "%s: count must be an integer >= 1", where);
    if (replicate && (!as_integer(replicate, &v) || v < 1 || v > 3))
        return fail_at(c, replicate, "%s: replicate must be 1, 2 or 3", where);
    char *image = path_image(p);
    int rc = 0;
    for (yaml_node_item_t *i = devices->data.sequence.items.start; rc == 0 && i < devices->data.sequence.items.top; i++)
        rc = check_device(c, node_at(c, *i), gname, image);
    free(image);
    return rc;
}

static int check_groups(checker *c, const yaml_node_t *groups)
{
    int index = 0;
    for (yaml_node_item_t *i = groups->data.sequence.items.start; i < groups->data.sequence.items.top; i++, index++)
        if (check_group(c, node_at(c, *i), index) != 0)
            return -1;
    if (index == 0)
        return fail_at(c, groups, "execution.groups is empty: a zapp runs at least one group");
    /* Names are unique, and connect names existing groups. */
    for (yaml_node_item_t *i = groups->data.sequence.items.start; i < groups->data.sequence.items.top; i++) {
        yaml_node_t *name = get(c, node_at(c, *i), "name");
        for (yaml_node_item_t *j = groups->data.sequence.items.start; j < i; j++)
            if (strcmp(scalar(get(c, node_at(c, *j), "name")), scalar(name)) == 0)
                return fail_at(c, name, "two groups are named '%s'", scalar(name));
        yaml_node_t *connect = get(c, node_at(c, *i), "connect");
        if (!connect || connect->type != YAML_SEQUENCE_NODE)
            continue;
        for (yaml_node_item_t *k = connect->data.sequence.items.start; k < connect->data.sequence.items.top; k++) {
            yaml_node_t *target = node_at(c, *k);
            int found = 0;
            for (yaml_node_item_t *j = groups->data.sequence.items.start; j < groups->data.sequence.items.top; j++)
                found |= strcmp(scalar(get(c, node_at(c, *j), "name")), scalar(target)) == 0;
            if (!found)
                return fail_at(c, target, "group '%s' connects to '%s', which is not a group", scalar(name),
                               scalar(target));
        }
    }
    return 0;
}

static int check_help(checker *c, const yaml_node_t *help)
{
    yaml_node_t *desc, *args;
    if (want(c, help, "description", "help", YAML_SCALAR_NODE, 0, &desc) != 0 ||
        want(c, help, "args", "help", YAML_SEQUENCE_NODE, 0, &args) != 0)
        return -1;
    for (yaml_node_item_t *i = args ? args->data.sequence.items.start : NULL; args && i < args->data.sequence.items.top;
         i++) {
        yaml_node_t *pair = node_at(c, *i);
        if (pair->type != YAML_SEQUENCE_NODE || pair->data.sequence.items.top - pair->data.sequence.items.start != 2 ||
            !is_text(node_at(c, pair->data.sequence.items.start[0])) ||
            node_at(c, pair->data.sequence.items.start[1])->type != YAML_SCALAR_NODE)
            return fail_at(c, pair, "help.args: each entry must be a pair [name, help text]");
    }
    return 0;
}

static int check_document(checker *c, const yaml_node_t *root)
{
    static const char *const keys[] = { "meta", "execution", "help", "bundling", "ui", "project_type", NULL };
    if (!root)
        return fail_at(c, NULL, "the file is empty; start from 'zpm new'");
    if (root->type != YAML_MAPPING_NODE)
        return fail_at(c, root, "the top level must be a mapping (meta, execution, help, bundling, ui), not %s",
                       kind_name(root));
    if (check_keys(c, root, "zapp.yaml", keys) != 0)
        return -1;
    yaml_node_t *meta, *name, *execution, *groups, *help, *type;
    if (want(c, root, "meta", "zapp.yaml", YAML_MAPPING_NODE, 1, &meta) != 0 ||
        want(c, meta, "name", "meta", YAML_SCALAR_NODE, 1, &name) != 0)
        return -1;
    const char *n = scalar(name);
    if (strchr(n, '/') || n[0] == '.' || strlen(n) > 200)
        return fail_at(c, name, "meta.name '%s' names the bundle file NAME.zapp: no '/', no leading '.'", n);
    if (check_keys(c, meta, "meta", NULL) != 0)
        return -1;
    if (want(c, root, "execution", "zapp.yaml", YAML_MAPPING_NODE, 1, &execution) != 0 ||
        want(c, execution, "groups", "execution", YAML_SEQUENCE_NODE, 1, &groups) != 0 || check_groups(c, groups) != 0)
        return -1;
    if (want(c, root, "help", "zapp.yaml", YAML_MAPPING_NODE, 0, &help) != 0 || (help && check_help(c, help) != 0))
        return -1;
    if (want_list_of_text(c, root, "bundling", "zapp.yaml") != 0 || want_list_of_text(c, root, "ui", "zapp.yaml") != 0)
        return -1;
    return want(c, root, "project_type", "zapp.yaml", YAML_SCALAR_NODE, 0, &type);
}

/* The checked YAML as JSON: plain scalars become null, booleans or numbers when they read so. */
static json_t *to_json(checker *c, const yaml_node_t *n)
{
    json_t *j;
    switch (n->type) {
    case YAML_MAPPING_NODE:
        j = json_object();
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
            json_object_set_new(j, scalar(node_at(c, p->key)), to_json(c, node_at(c, p->value)));
        return j;
    case YAML_SEQUENCE_NODE:
        j = json_array();
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++)
            json_array_append_new(j, to_json(c, node_at(c, *i)));
        return j;
    case YAML_SCALAR_NODE: {
        long long i;
        double d;
        int b;
        if (is_null(n))
            return json_null();
        if (as_bool(n, &b))
            return json_boolean(b);
        if (as_integer(n, &i))
            return json_integer(i);
        if (as_real(n, &d) && strpbrk(scalar(n), "0123456789"))
            return json_real(d);
        return json_stringn(scalar(n), n->data.scalar.length);
    }
    default: return json_null();
    }
}

int zpm_zapp_parse(const char *text, size_t size, const char *file, zpm_zapp *out, char *err, size_t errsize)
{
    memset(out, 0, sizeof *out);
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errsize, "%s: out of memory", file);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, size);
    if (!yaml_parser_load(&parser, &doc)) {
        const yaml_mark_t *m = parser.problem ? &parser.problem_mark : &parser.mark;
        snprintf(err, errsize, "%s:%zu:%zu: invalid YAML: %s%s%s", file, m->line + 1, m->column + 1,
                 parser.problem ? parser.problem : "unreadable", parser.context ? " " : "",
                 parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return -1;
    }
    checker c = { &doc, file, err, errsize };
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    int rc = check_document(&c, root);
    if (rc == 0) {
        out->doc = to_json(&c, root);
        json_t *name = json_object_get(json_object_get(out->doc, "meta"), "name");
        if (!json_is_string(name)) {           /* `name: 12` is a number in JSON: keep it as text */
            json_object_set_new(json_object_get(out->doc, "meta"), "name",
                                json_string(scalar(get(&c, get(&c, root, "meta"), "name"))));
            name = json_object_get(json_object_get(out->doc, "meta"), "name");
        }
        out->name = json_string_value(name);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

int zpm_zapp_load(const char *path, zpm_zapp *out, char *err, size_t errsize)
{
    size_t size;
    char *text = zpm_read_file(path, &size, err, errsize);
    if (!text)
        return -1;
    int rc = zpm_zapp_parse(text, size, path, out, err, errsize);
    free(text);
    return rc;
}

void zpm_zapp_free(zpm_zapp *z)
{
    json_decref(z->doc);
    memset(z, 0, sizeof *z);
}
