/* options.c — the authentication options every cluster command takes, their environment
 * variables, and how zpm connects: the command line first, then the environment. */
#include "zpm.h"

#include <stdlib.h>
#include <string.h>

enum {
    OPT_AUTH_VERSION = 0x100,
    OPT_AUTH,
    OPT_USER,
    OPT_KEY,
    OPT_OS_AUTH_URL,
    OPT_OS_USERNAME,
    OPT_OS_USER_ID,
    OPT_OS_PASSWORD,
    OPT_OS_PROJECT_NAME,
    OPT_OS_PROJECT_ID,
    OPT_OS_USER_DOMAIN_NAME,
    OPT_OS_USER_DOMAIN_ID,
    OPT_OS_PROJECT_DOMAIN_NAME,
    OPT_OS_PROJECT_DOMAIN_ID,
    OPT_OS_REGION_NAME,
    OPT_OS_INTERFACE,
    OPT_OS_AUTH_TOKEN,
    OPT_OS_STORAGE_URL,
};

const struct option zpm_auth_long_options[ZPM_AUTH_OPTION_COUNT] = {
    { "auth-version", required_argument, NULL, OPT_AUTH_VERSION },
    { "auth", required_argument, NULL, OPT_AUTH },
    { "user", required_argument, NULL, OPT_USER },
    { "key", required_argument, NULL, OPT_KEY },
    { "os-auth-url", required_argument, NULL, OPT_OS_AUTH_URL },
    { "os-username", required_argument, NULL, OPT_OS_USERNAME },
    { "os-user-id", required_argument, NULL, OPT_OS_USER_ID },
    { "os-password", required_argument, NULL, OPT_OS_PASSWORD },
    { "os-project-name", required_argument, NULL, OPT_OS_PROJECT_NAME },
    { "os-tenant-name", required_argument, NULL, OPT_OS_PROJECT_NAME },   /* the 2014 name */
    { "os-project-id", required_argument, NULL, OPT_OS_PROJECT_ID },
    { "os-user-domain-name", required_argument, NULL, OPT_OS_USER_DOMAIN_NAME },
    { "os-user-domain-id", required_argument, NULL, OPT_OS_USER_DOMAIN_ID },
    { "os-project-domain-name", required_argument, NULL, OPT_OS_PROJECT_DOMAIN_NAME },
    { "os-project-domain-id", required_argument, NULL, OPT_OS_PROJECT_DOMAIN_ID },
    { "os-region-name", required_argument, NULL, OPT_OS_REGION_NAME },
    { "os-interface", required_argument, NULL, OPT_OS_INTERFACE },
    { "os-auth-token", required_argument, NULL, OPT_OS_AUTH_TOKEN },
    { "os-storage-url", required_argument, NULL, OPT_OS_STORAGE_URL },
    { NULL, 0, NULL, 0 },
};

bool zpm_auth_take(zpm_auth_args *a, int opt, const char *arg)
{
    zvm_auth_options *f = &a->flags;
    switch (opt) {
    case 'V':
    case OPT_AUTH_VERSION: f->version = arg; break;
    case 'A':
    case OPT_AUTH: f->auth_url = arg; break;
    case 'U':
    case OPT_USER: f->user = arg; break;
    case 'K':
    case OPT_KEY: f->key = arg; break;
    case OPT_OS_AUTH_URL: f->os_auth_url = arg; break;
    case OPT_OS_USERNAME: f->os_username = arg; break;
    case OPT_OS_USER_ID: f->os_user_id = arg; break;
    case OPT_OS_PASSWORD: f->os_password = arg; break;
    case OPT_OS_PROJECT_NAME: f->os_project_name = arg; break;
    case OPT_OS_PROJECT_ID: f->os_project_id = arg; break;
    case OPT_OS_USER_DOMAIN_NAME: f->os_user_domain_name = arg; break;
    case OPT_OS_USER_DOMAIN_ID: f->os_user_domain_id = arg; break;
    case OPT_OS_PROJECT_DOMAIN_NAME: f->os_project_domain_name = arg; break;
    case OPT_OS_PROJECT_DOMAIN_ID: f->os_project_domain_id = arg; break;
    case OPT_OS_REGION_NAME: f->os_region_name = arg; break;
    case OPT_OS_INTERFACE: f->os_interface = arg; break;
    case OPT_OS_AUTH_TOKEN: a->token = arg; break;
    case OPT_OS_STORAGE_URL: a->storage_url = arg; break;
    default: return false;
    }
    return true;
}

/* The flag's value, else the environment's (an empty variable counts as unset). */
static const char *pick(const char *flag, const char *env)
{
    if (flag && *flag)
        return flag;
    const char *v = getenv(env);
    return v && *v ? v : NULL;
}

static zvm_auth_options with_environment(const zvm_auth_options *f)
{
    zvm_auth_options o = *f;
    o.version = pick(f->version, "ZPM_AUTH_VERSION");
    o.auth_url = pick(f->auth_url, "ST_AUTH");
    o.user = pick(f->user, "ST_USER");
    o.key = pick(f->key, "ST_KEY");
    o.os_auth_url = pick(f->os_auth_url, "OS_AUTH_URL");
    o.os_username = pick(f->os_username, "OS_USERNAME");
    o.os_user_id = pick(f->os_user_id, "OS_USER_ID");
    o.os_password = pick(f->os_password, "OS_PASSWORD");
    o.os_project_name = pick(pick(f->os_project_name, "OS_PROJECT_NAME"), "OS_TENANT_NAME");
    o.os_project_id = pick(f->os_project_id, "OS_PROJECT_ID");
    o.os_user_domain_name = pick(f->os_user_domain_name, "OS_USER_DOMAIN_NAME");
    o.os_user_domain_id = pick(f->os_user_domain_id, "OS_USER_DOMAIN_ID");
    o.os_project_domain_name = pick(f->os_project_domain_name, "OS_PROJECT_DOMAIN_NAME");
    o.os_project_domain_id = pick(f->os_project_domain_id, "OS_PROJECT_DOMAIN_ID");
    o.os_region_name = pick(f->os_region_name, "OS_REGION_NAME");
    o.os_interface = pick(f->os_interface, "OS_INTERFACE");
    return o;
}

void zpm_retry_policy(int *retries, long *delay_ms)
{
    const char *r = getenv("ZPM_RETRIES"), *d = getenv("ZPM_RETRY_DELAY_MS");
    *retries = r && *r ? atoi(r) : 3;
    *delay_ms = d && *d ? atol(d) : 500;
    if (*retries < 0)
        *retries = 0;
    if (*delay_ms < 1)
        *delay_ms = 1;
}

int zpm_connect(const zpm_auth_args *a, bool allow_preauth, zvm_auth *auth, zvm_swift *sw)
{
    memset(auth, 0, sizeof *auth);
    memset(sw, 0, sizeof *sw);
    zpm_retry_policy(&sw->retries, &sw->retry_delay_ms);

    /* Credentials complete on the command line win; then a token and storage URL (flags or
     * environment); then credentials from the environment. */
    zvm_cluster_error err;
    zvm_auth_options opt = a->flags;
    bool flags_complete = zvm_auth_version(&opt, &err) != NULL;
    if (!flags_complete) {
        const char *token = pick(a->token, "OS_AUTH_TOKEN");
        const char *url = pick(a->storage_url, "OS_STORAGE_URL");
        if (allow_preauth && token && url) {
            auth->token = strdup(token);
            auth->storage_url = strdup(url);
            size_t n = strlen(auth->storage_url);
            while (n > 0 && auth->storage_url[n - 1] == '/')
                auth->storage_url[--n] = '\0';
            sw->token = auth->token;
            sw->storage_url = auth->storage_url;
            return 0;
        }
        if (a->token || a->storage_url) {
            zpm_error("--os-auth-token and --os-storage-url go together: give both (or neither)");
            return -1;
        }
        opt = with_environment(&a->flags);
    }
    opt.retries = sw->retries;
    opt.retry_delay_ms = sw->retry_delay_ms;
    if (zvm_auth_login(&opt, auth, &err) != 0) {
        zpm_error("%s", err.msg);
        return -1;
    }
    sw->token = auth->token;
    sw->storage_url = auth->storage_url;
    return 0;
}

size_t zpm_merge_options(struct option *out, size_t cap, const struct option *own)
{
    size_t n = 0;
    for (const struct option *o = own; o->name && n + 1 < cap; o++)
        out[n++] = *o;
    for (const struct option *o = zpm_auth_long_options; o->name && n + 1 < cap; o++)
        out[n++] = *o;
    out[n] = (struct option){ NULL, 0, NULL, 0 };
    return n;
}
