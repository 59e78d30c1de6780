/* auth.c — log in to Swift: auth 1.0 (tempauth) or auth 3 (Keystone), giving a token and a storage URL. */
#include "cluster.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Puts "what: " before the message already in err. */
static int prefix(zvm_cluster_error *err, const char *what)
{
    char was[sizeof err->msg];
    memcpy(was, err->msg, sizeof was);
    return zvm_cluster_fail(err, err->http_status, "%s: %s", what, was);
}

static int given(const char *s)
{
    return s && *s;
}

/* Appends the names of the missing options of one group, "ST_USER (--user)", to buf. */
static void missing(char *buf, size_t size, const char *value, const char *env, const char *flag)
{
    if (given(value))
        return;
    size_t len = strlen(buf);
    snprintf(buf + len, size - len, "%s%s (%s)", len ? ", " : "", env, flag);
}

static void missing_v1(const zvm_auth_options *o, char *buf, size_t size)
{
    buf[0] = '\0';
    missing(buf, size, o->auth_url, "ST_AUTH", "--auth");
    missing(buf, size, o->user, "ST_USER", "--user");
    missing(buf, size, o->key, "ST_KEY", "--key");
}

static void missing_v3(const zvm_auth_options *o, char *buf, size_t size)
{
    buf[0] = '\0';
    missing(buf, size, o->os_auth_url, "OS_AUTH_URL", "--os-auth-url");
    missing(buf, size, given(o->os_user_id) ? o->os_user_id : o->os_username, "OS_USERNAME", "--os-username");
    missing(buf, size, o->os_password, "OS_PASSWORD", "--os-password");
    missing(buf, size, given(o->os_project_id) ? o->os_project_id : o->os_project_name, "OS_PROJECT_NAME",
            "--os-project-name");
}

/* Any option of the group given at all: then its missing ones are worth naming. */
static int touched_v1(const zvm_auth_options *o)
{
    return given(o->auth_url) || given(o->user) || given(o->key);
}
static int touched_v3(const zvm_auth_options *o)
{
    return given(o->os_auth_url) || given(o->os_username) || given(o->os_password) || given(o->os_project_name);
}

const char *zvm_auth_version(const zvm_auth_options *o, zvm_cluster_error *err)
{
    char m1[512], m3[512];
    missing_v1(o, m1, sizeof m1);
    missing_v3(o, m3, sizeof m3);
    const char *v = o->version;
    if (given(v)) {
        if (!strcmp(v, "1") || !strcmp(v, "1.0") || !strcmp(v, "v1") || !strcmp(v, "v1.0")) {
            if (m1[0]) {
                zvm_cluster_fail(err, 0, "auth 1.0 needs %s; set them or pass the options", m1);
                return NULL;
            }
            return "1.0";
        }
        if (!strcmp(v, "3") || !strcmp(v, "3.0") || !strcmp(v, "v3")) {
            if (m3[0]) {
                zvm_cluster_fail(err, 0, "auth 3 needs %s; set them or pass the options", m3);
                return NULL;
            }
            return "3";
        }
        if (!strcmp(v, "2") || !strcmp(v, "2.0") || !strcmp(v, "v2") || !strcmp(v, "v2.0")) {
            zvm_cluster_fail(err, 0,
                             "auth 2.0 is not supported: Keystone removed its v2.0 API in 2018 (Queens); "
                             "use auth 3 (--auth-version 3, OS_AUTH_URL ending in /v3)");
            return NULL;
        }
        zvm_cluster_fail(err, 0, "unknown auth version '%s'; use 1.0 (Swift tempauth) or 3 (Keystone)", v);
        return NULL;
    }
    if (!m1[0])
        return "1.0";          /* both complete: 1.0 wins, as python-swiftclient does */
    if (!m3[0])
        return "3";
    if (touched_v1(o) && !touched_v3(o))
        zvm_cluster_fail(err, 0, "incomplete credentials for auth 1.0: missing %s", m1);
    else if (touched_v3(o) && !touched_v1(o))
        zvm_cluster_fail(err, 0, "incomplete credentials for auth 3: missing %s", m3);
    else if (touched_v1(o))
        zvm_cluster_fail(err, 0, "incomplete credentials: auth 1.0 is missing %s; auth 3 is missing %s", m1, m3);
    else
        zvm_cluster_fail(err, 0,
                         "no credentials: auth 1.0 needs ST_AUTH, ST_USER and ST_KEY (or --auth, --user, --key); "
                         "auth 3 needs OS_AUTH_URL, OS_USERNAME, OS_PASSWORD and OS_PROJECT_NAME (or --os-auth-url, "
                         "--os-username, --os-password, --os-project-name)");
    return NULL;
}

static char *strip_slash(char *url)
{
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        url[--n] = '\0';
    return url;
}

static int login_v1(const zvm_auth_options *o, zvm_auth *out, zvm_cluster_error *err)
{
    char user[1024], key[1024];
    snprintf(user, sizeof user, "X-Auth-User: %s", o->user);
    snprintf(key, sizeof key, "X-Auth-Key: %s", o->key);
    const char *headers[] = { user, key, NULL };
    zvm_http_request req = { .method = "GET",
                             .url = o->auth_url,
                             .headers = headers,
                             .retries = o->retries,
                             .retry_delay_ms = o->retry_delay_ms,
                             .timeout_s = 60 };
    zvm_http_response resp;
    if (zvm_http_do(&req, &resp, err) != 0)
        return prefix(err, "auth 1.0: cannot reach the auth URL");
    int rc = 0;
    if (resp.status == 401 || resp.status == 403) {
        char what[600];
        snprintf(what, sizeof what, "auth 1.0 at %s refused user '%s'", o->auth_url, o->user);
        zvm_http_status_error(err, what, &resp);
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len, "; check the user and key (ST_USER, ST_KEY)");
        rc = -1;
    } else if (resp.status < 200 || resp.status > 299) {
        char what[600];
        snprintf(what, sizeof what, "auth 1.0 at %s failed", o->auth_url);
        zvm_http_status_error(err, what, &resp);
        rc = -1;
    } else {
        const char *token = zvm_http_header(&resp, "X-Auth-Token");
        const char *url = zvm_http_header(&resp, "X-Storage-Url");
        if (!token || !url) {
            rc = zvm_cluster_fail(err, resp.status,
                                  "auth 1.0 at %s answered %ld without %s; is it a Swift auth URL "
                                  "(such as http://host:8080/auth/v1.0)?",
                                  o->auth_url, resp.status, token ? "X-Storage-Url" : "X-Auth-Token");
        } else {
            out->token = strdup(token);
            out->storage_url = strip_slash(strdup(url));
            strcpy(out->version, "1.0");
        }
    }
    zvm_http_response_free(&resp);
    return rc;
}

/* {"name": n, "domain": {...}} or {"id": i}: how Keystone names a user or a project. */
static json_t *named(const char *id, const char *name, const char *domain_id, const char *domain_name)
{
    if (given(id))
        return json_pack("{s:s}", "id", id);
    json_t *domain = given(domain_id) ? json_pack("{s:s}", "id", domain_id)
                                      : json_pack("{s:s}", "name", given(domain_name) ? domain_name : "Default");
    return json_pack("{s:s, s:o}", "name", name, "domain", domain);
}

/* The object-store endpoint for the interface and region asked for, from a v3 token body. */
static int storage_url_from_catalog(const zvm_auth_options *o, json_t *body, char **url, zvm_cluster_error *err)
{
    const char *interface = given(o->os_interface) ? o->os_interface : "public";
    json_t *catalog = json_object_get(json_object_get(body, "token"), "catalog");
    json_t *service, *endpoint;
    size_t i, j;
    char regions[512] = "";
    json_array_foreach (catalog, i, service) {
        if (json_is_string(json_object_get(service, "type")) &&
            strcmp(json_string_value(json_object_get(service, "type")), "object-store") == 0) {
            json_array_foreach (json_object_get(service, "endpoints"), j, endpoint) {
                const char *ifc = json_string_value(json_object_get(endpoint, "interface"));
                const char *region = json_string_value(json_object_get(endpoint, "region_id"));
                if (!region)
                    region = json_string_value(json_object_get(endpoint, "region"));
                const char *u = json_string_value(json_object_get(endpoint, "url"));
                if (!ifc || !u || strcmp(ifc, interface) != 0)
                    continue;
                if (given(o->os_region_name) && (!region || strcmp(region, o->os_region_name) != 0)) {
                    size_t len = strlen(regions);
                    snprintf(regions + len, sizeof regions - len, "%s%s", len ? ", " : "", region ? region : "?");
                    continue;
                }
                *url = strip_slash(strdup(u));
                return 0;
            }
        }
    }
    if (given(o->os_region_name))
        return zvm_cluster_fail(err, 0,
                                "auth 3: the catalog has no %s object-store endpoint in region '%s' (it has: %s); "
                                "check OS_REGION_NAME",
                                interface, o->os_region_name, regions[0] ? regions : "none");
    return zvm_cluster_fail(err, 0,
                            "auth 3: the catalog from %s has no %s object-store (Swift) endpoint; ask the cloud's "
                            "operator to register Swift in Keystone",
                            o->os_auth_url, interface);
}

static int login_v3(const zvm_auth_options *o, zvm_auth *out, zvm_cluster_error *err)
{
    char url[2048];
    snprintf(url, sizeof url, "%s", o->os_auth_url);
    strip_slash(url);
    size_t n = strlen(url);
    if (n >= 5 && strcmp(url + n - 5, "/v2.0") == 0)
        return zvm_cluster_fail(err, 0,
                                "auth: %s is a Keystone v2.0 URL, and Keystone removed v2.0 in 2018 (Queens); "
                                "use its /v3 URL",
                                o->os_auth_url);
    if (!(n >= 3 && strcmp(url + n - 3, "/v3") == 0))
        snprintf(url + n, sizeof url - n, "/v3");
    size_t base_len = strlen(url);
    snprintf(url + base_len, sizeof url - base_len, "/auth/tokens");

    json_t *user = named(o->os_user_id, o->os_username, o->os_user_domain_id, o->os_user_domain_name);
    json_object_set_new(user, "password", json_string(o->os_password));
    json_t *project = named(o->os_project_id, o->os_project_name, o->os_project_domain_id, o->os_project_domain_name);
    json_t *body = json_pack("{s:{s:{s:[s], s:{s:o}}, s:{s:o}}}", "auth", "identity", "methods", "password", "password",
                             "user", user, "scope", "project", project);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return zvm_cluster_fail(err, 0, "auth 3: out of memory");

    const char *headers[] = { "Content-Type: application/json", "Accept: application/json", NULL };
    zvm_http_request req = { .method = "POST",
                             .url = url,
                             .headers = headers,
                             .body = text,
                             .body_size = strlen(text),
                             .retries = o->retries,
                             .retry_delay_ms = o->retry_delay_ms,
                             .timeout_s = 60 };
    zvm_http_response resp;
    int got = zvm_http_do(&req, &resp, err);
    free(text);
    if (got != 0)
        return prefix(err, "auth 3: cannot reach Keystone");

    int rc = 0;
    if (resp.status == 401) {
        char what[700];
        snprintf(what, sizeof what, "auth 3 at %s refused user '%s' in project '%s'", o->os_auth_url,
                 given(o->os_user_id) ? o->os_user_id : o->os_username,
                 given(o->os_project_id) ? o->os_project_id : o->os_project_name);
        zvm_http_status_error(err, what, &resp);
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len,
                 "; check OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME and the domains");
        rc = -1;
    } else if (resp.status == 404) {
        char what[700];
        snprintf(what, sizeof what, "auth 3: %s is not a Keystone v3 token URL", url);
        zvm_http_status_error(err, what, &resp);
        rc = -1;
    } else if (resp.status < 200 || resp.status > 299) {
        char what[700];
        snprintf(what, sizeof what, "auth 3 at %s failed", o->os_auth_url);
        zvm_http_status_error(err, what, &resp);
        rc = -1;
    } else {
        const char *token = zvm_http_header(&resp, "X-Subject-Token");
        json_error_t jerr;
        json_t *reply = json_loadb(resp.body ? resp.body : "", resp.body_size, 0, &jerr);
        char *storage = NULL;
        if (!token)
            rc = zvm_cluster_fail(err, resp.status, "auth 3: %s answered %ld without X-Subject-Token; is it Keystone?",
                                  url, resp.status);
        else if (!reply)
            rc = zvm_cluster_fail(err, resp.status, "auth 3: %s answered with a body that is not JSON (%s)", url,
                                  jerr.text);
        else if (storage_url_from_catalog(o, reply, &storage, err) == 0) {
            out->token = strdup(token);
            out->storage_url = storage;
            strcpy(out->version, "3");
        } else
            rc = -1;
        json_decref(reply);
    }
    zvm_http_response_free(&resp);
    return rc;
}

int zvm_auth_login(const zvm_auth_options *opt, zvm_auth *out, zvm_cluster_error *err)
{
    memset(out, 0, sizeof *out);
    err->http_status = 0;
    const char *version = zvm_auth_version(opt, err);
    if (!version)
        return -1;
    int rc = strcmp(version, "1.0") == 0 ? login_v1(opt, out, err) : login_v3(opt, out, err);
    if (rc == 0 && (!out->token || !out->storage_url)) {
        zvm_auth_free(out);
        return zvm_cluster_fail(err, 0, "auth: out of memory");
    }
    return rc;
}

void zvm_auth_free(zvm_auth *auth)
{
    free(auth->token);
    free(auth->storage_url);
    memset(auth, 0, sizeof *auth);
}
