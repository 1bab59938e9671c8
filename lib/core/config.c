/*
 * config.c: resolves settings (flag > environment > quant.conf > default) and
 * knows where every file lives.  Nothing else in quant reads getenv() for a
 * setting or builds a store path.
 */
#include "quant/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/files.h"
#include "core/banned.h"

struct setting_def {
    const char *key;
    const char *env;
    const char *def;
    int secret;
    const char *desc;
};

static const struct setting_def defs[QUANT_SETTING_COUNT] = {
#define QUANT_X_SET_DEF(id, key, env, def, secret, desc) [id] = {key, env, def, secret, desc},
    QUANT_SETTINGS_TABLE(QUANT_X_SET_DEF)
#undef QUANT_X_SET_DEF
};

void quant_config_init(struct quant_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
}

void quant_config_release(struct quant_config *cfg)
{
    for (int i = 0; i < QUANT_SETTING_COUNT; i++) {
        free(cfg->value[i]);
        free(cfg->flag_value[i]);
    }
    free(cfg->conf_path);
    memset(cfg, 0, sizeof *cfg);
}

enum quant_code quant_config_set_flag(struct quant_config *cfg, enum quant_setting id,
                                      const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return QUANT_ENOMEM;
    free(cfg->flag_value[id]);
    cfg->flag_value[id] = copy;
    return QUANT_OK;
}

static enum quant_code assign(struct quant_config *cfg, enum quant_setting id,
                              const char *value, enum quant_config_source src)
{
    char *copy = strdup(value);
    if (!copy)
        return QUANT_ENOMEM;
    free(cfg->value[id]);
    cfg->value[id] = copy;
    cfg->source[id] = src;
    return QUANT_OK;
}

static int find_setting(const char *key)
{
    for (int i = 0; i < QUANT_SETTING_COUNT; i++)
        if (strcmp(key, defs[i].key) == 0 || strcmp(key, defs[i].env) == 0)
            return i;
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/*
 * Parse quant.conf text.  Only settings not already set (by flag or env) take
 * the file's value, which is what makes the file rank below them.
 */
static enum quant_code parse_conf(struct quant_config *cfg, char *text, struct quant_err *err)
{
    long lineno = 0;
    char *line = text; /* split by hand: strtok_r would skip empty lines and miscount */
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        char *s = trim(line);
        if (*s && *s != '#') {
            char *eq = strchr(s, '=');
            if (!eq)
                return quant_err_set(err, QUANT_ECONFIG,
                                     "%s line %ld: expected `key = value`, got '%.60s'",
                                     cfg->conf_path, lineno, s);
            *eq = '\0';
            char *key = trim(s), *val = trim(eq + 1);
            size_t vl = strlen(val);
            if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
                val[vl - 1] = '\0';
                val++;
            }
            int id = find_setting(key);
            if (id < 0)
                return quant_err_set(err, QUANT_ECONFIG,
                                     "%s line %ld: unknown setting '%.60s'; "
                                     "run `quant config` to see the valid names",
                                     cfg->conf_path, lineno, key);
            if (id == QUANT_SET_HOME)
                return quant_err_set(err, QUANT_ECONFIG,
                                     "%s line %ld: `home` cannot be set inside the home "
                                     "folder's own quant.conf; use QUANT_HOME or --home",
                                     cfg->conf_path, lineno);
            if (!cfg->value[id] && assign(cfg, id, val, QUANT_SRC_FILE))
                return quant_err_set(err, QUANT_ENOMEM, "out of memory reading config");
        }
        line = nl ? nl + 1 : NULL;
    }
    return QUANT_OK;
}

static enum quant_code read_conf(struct quant_config *cfg, struct quant_err *err)
{
    struct stat st;
    if (stat(cfg->conf_path, &st) != 0) {
        if (errno == ENOENT)
            return QUANT_OK; /* the file is optional */
        return quant_err_set(err, QUANT_ECONFIG, "cannot read %s: %s", cfg->conf_path,
                             strerror(errno));
    }
    cfg->conf_found = 1;
    struct quant_buf b;
    quant_buf_init(&b, 1 << 20); /* a config over 1 MiB is a mistake */
    enum quant_code rc = quant_buf_read_file(&b, cfg->conf_path, err);
    if (rc == QUANT_OK)
        rc = parse_conf(cfg, b.data, err);
    else
        rc = quant_err_set(err, QUANT_ECONFIG, "%s", err->msg);
    quant_buf_release(&b);
    return rc;
}

static enum quant_code join_path(struct quant_config *cfg, enum quant_setting id,
                                 const char *file)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", cfg->value[QUANT_SET_HOME], file);
    return assign(cfg, id, path, QUANT_SRC_DEFAULT);
}

/* The default meta_url: the sqlite_path setting (resolved before it, as the
 * table orders them) as a sqlite:/// URL. */
static enum quant_code sqlite_url(struct quant_config *cfg, const char *path)
{
    char url[PATH_MAX + 16];
    snprintf(url, sizeof url, "sqlite:///%s", path ? path : "");
    return assign(cfg, QUANT_SET_META_URL, url, QUANT_SRC_DEFAULT);
}

/* Where a URL's password is: [*at, *at + *len).  0 when it has none. */
static int url_password(const char *url, size_t *at, size_t *len)
{
    const char *scheme_end = strstr(url, "://");
    if (scheme_end) {
        const char *auth = scheme_end + 3;
        size_t alen = strcspn(auth, "/?#");
        const char *amp = NULL; /* the last '@' of the authority ends the user info */
        for (size_t i = 0; i < alen; i++)
            if (auth[i] == '@')
                amp = auth + i;
        const char *colon = amp ? memchr(auth, ':', (size_t)(amp - auth)) : NULL;
        if (colon && amp > colon + 1) {
            *at = (size_t)(colon + 1 - url);
            *len = (size_t)(amp - colon - 1);
            return 1;
        }
    }
    /* libpq also takes the password as a parameter: ...?password=... */
    for (const char *p = strchr(url, '?'); p; p = strchr(p + 1, '&')) {
        if (strncasecmp(p + 1, "password=", 9) == 0) {
            *at = (size_t)(p + 10 - url);
            *len = strcspn(p + 10, "&#");
            return *len > 0;
        }
    }
    return 0;
}

static void register_url_password(const char *url)
{
    size_t at, len;
    char pw[256];
    if (!url || !url_password(url, &at, &len) || len >= sizeof pw)
        return;
    memcpy(pw, url + at, len);
    pw[len] = '\0';
    quant_secret_add(pw);
}

const char *quant_meta_url_sqlite_path(const char *url)
{
    if (!url)
        return NULL;
    if (strncasecmp(url, "sqlite:///", 10) == 0)
        return url + 10;
    return strstr(url, "://") ? NULL : url;
}

int quant_meta_url_is_postgres(const char *url)
{
    return url && (strncasecmp(url, "postgresql://", 13) == 0 ||
                   strncasecmp(url, "postgres://", 11) == 0);
}

void quant_meta_url_mask(const char *url, char *out, size_t n)
{
    size_t at, len;
    if (!url)
        url = "";
    if (url_password(url, &at, &len))
        snprintf(out, n, "%.*s****%s", (int)at, url, url + at + len);
    else
        snprintf(out, n, "%s", url);
}

enum quant_code quant_config_resolve(struct quant_config *cfg, struct quant_err *err)
{
    /* 1 and 2: flags, then the environment (an empty variable counts as unset). */
    for (int i = 0; i < QUANT_SETTING_COUNT; i++) {
        const char *env = getenv(defs[i].env);
        enum quant_code rc = QUANT_OK;
        if (cfg->flag_value[i])
            rc = assign(cfg, i, cfg->flag_value[i], QUANT_SRC_FLAG);
        else if (env && *env)
            rc = assign(cfg, i, env, QUANT_SRC_ENV);
        if (rc)
            return quant_err_set(err, rc, "out of memory resolving settings");
    }
    /* The key is known from here on: no message, even one about quant.conf,
     * may carry it (error.h). */
    quant_secret_add(cfg->value[QUANT_SET_API_KEY]);
    if (!cfg->value[QUANT_SET_HOME] &&
        assign(cfg, QUANT_SET_HOME,
               cfg->home_default ? cfg->home_default : defs[QUANT_SET_HOME].def,
               QUANT_SRC_DEFAULT))
        return quant_err_set(err, QUANT_ENOMEM, "out of memory resolving settings");

    /* 3: the file inside the home folder. */
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/quant.conf", cfg->value[QUANT_SET_HOME]);
    free(cfg->conf_path);
    cfg->conf_path = strdup(path);
    if (!cfg->conf_path)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory resolving settings");
    enum quant_code rc = read_conf(cfg, err);
    if (rc)
        return rc;

    /* 4: defaults; store paths follow the home folder. */
    for (int i = 0; i < QUANT_SETTING_COUNT; i++) {
        if (cfg->value[i])
            continue;
        if (i == QUANT_SET_DUCKDB_PATH)
            rc = join_path(cfg, i, "quant.duckdb");
        else if (i == QUANT_SET_SQLITE_PATH)
            rc = join_path(cfg, i, "meta.sqlite");
        else if (i == QUANT_SET_META_URL)
            rc = sqlite_url(cfg, cfg->value[QUANT_SET_SQLITE_PATH]);
        else if (i == QUANT_SET_MODELS_DIR && cfg->value[QUANT_SET_LAKE] &&
                 cfg->value[QUANT_SET_LAKE][0]) {
            /* Every task of a lake sees every model, whoever trained it. */
            char lake_models[PATH_MAX];
            snprintf(lake_models, sizeof lake_models, "%s/models", cfg->value[QUANT_SET_LAKE]);
            rc = assign(cfg, i, lake_models, QUANT_SRC_DEFAULT);
        } else if (i == QUANT_SET_MODELS_DIR)
            rc = join_path(cfg, i, "models");
        else
            rc = assign(cfg, i, defs[i].def ? defs[i].def : "", QUANT_SRC_DEFAULT);
        if (rc)
            return quant_err_set(err, rc, "out of memory resolving settings");
    }
    quant_secret_add(cfg->value[QUANT_SET_API_KEY]);
    register_url_password(cfg->value[QUANT_SET_META_URL]);
    return QUANT_OK;
}

enum quant_code quant_config_resolve_home_default(struct quant_config *cfg, const char *home,
                                                  struct quant_err *err)
{
    for (int i = 0; i < QUANT_SETTING_COUNT; i++) {
        free(cfg->value[i]);
        cfg->value[i] = NULL;
        cfg->source[i] = QUANT_SRC_DEFAULT;
    }
    cfg->conf_found = 0;
    cfg->home_default = home;
    return quant_config_resolve(cfg, err);
}

const char *quant_config_get(const struct quant_config *cfg, enum quant_setting id)
{
    return cfg->value[id] ? cfg->value[id] : "";
}

enum quant_code quant_config_get_long(const struct quant_config *cfg, enum quant_setting id,
                                      long min, long max, long *out, struct quant_err *err)
{
    const char *s = quant_config_get(cfg, id);
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return quant_err_set(err, QUANT_ECONFIG,
                             "setting %s (from %s) is '%.40s'; it must be a whole number "
                             "from %ld to %ld",
                             defs[id].key, quant_config_source_name(cfg->source[id]), s,
                             min, max);
    *out = v;
    return QUANT_OK;
}

enum quant_code quant_config_get_bool(const struct quant_config *cfg, enum quant_setting id,
                                      int *out, struct quant_err *err)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    const char *s = quant_config_get(cfg, id);
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
            *out = strcasecmp(s, yes[i]) == 0;
            return QUANT_OK;
        }
    }
    return quant_err_set(err, QUANT_ECONFIG, "setting %s (from %s) is '%.40s'; it must be true "
                         "or false", defs[id].key, quant_config_source_name(cfg->source[id]), s);
}

const char *quant_setting_key(enum quant_setting id) { return defs[id].key; }
const char *quant_setting_env(enum quant_setting id) { return defs[id].env; }
const char *quant_setting_desc(enum quant_setting id) { return defs[id].desc; }

const char *quant_config_source_name(enum quant_config_source src)
{
    switch (src) {
    case QUANT_SRC_DEFAULT: return "default";
    case QUANT_SRC_FILE: return "config file";
    case QUANT_SRC_ENV: return "environment";
    case QUANT_SRC_FLAG: return "command line";
    }
    return "?";
}

void quant_config_display(const struct quant_config *cfg, enum quant_setting id,
                          char *out, size_t n)
{
    const char *v = quant_config_get(cfg, id);
    if (id == QUANT_SET_META_URL) {
        quant_meta_url_mask(v, out, n);
        return;
    }
    if (id == QUANT_SET_LAKE && !*v) {
        snprintf(out, n, "(off)");
        return;
    }
    if (!defs[id].secret) {
        snprintf(out, n, "%s", v);
        return;
    }
    size_t len = strlen(v);
    if (len == 0)
        snprintf(out, n, "(not set)");
    else if (len < 12) /* too short to reveal any of it */
        snprintf(out, n, "****");
    else
        snprintf(out, n, "****%s", v + len - 2);
}

void quant_config_key_fingerprint(const struct quant_config *cfg, char out[17])
{
    const char *key = quant_config_get(cfg, QUANT_SET_API_KEY);
    if (!*key) {
        snprintf(out, 17, "none");
        return;
    }
    /* FNV-1a over a fixed salt and the key, then a splitmix finaliser: enough to
     * tell keys apart in the ledger, and not the key itself. */
    uint64_t h = 1469598103934665603ULL;
    const char *salt = "quant-ledger-v1:";
    for (const char *p = salt; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static enum quant_code ensure_parent(const char *file, struct quant_err *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return QUANT_OK;
    *slash = '\0';
    return quant_mkdir_p(dir, err);
}

enum quant_code quant_config_ensure_dirs(const struct quant_config *cfg, struct quant_err *err)
{
    /* A PostgreSQL metadata store needs no folder here. */
    const char *meta_file = quant_meta_url_sqlite_path(quant_config_get(cfg, QUANT_SET_META_URL));
    enum quant_code rc = quant_mkdir_p(quant_config_get(cfg, QUANT_SET_HOME), err);
    if (!rc)
        rc = ensure_parent(quant_config_get(cfg, QUANT_SET_DUCKDB_PATH), err);
    if (!rc && meta_file)
        rc = ensure_parent(meta_file, err);
    if (!rc)
        rc = quant_mkdir_p(quant_config_get(cfg, QUANT_SET_MODELS_DIR), err);
    return rc;
}
