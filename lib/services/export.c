/*
 * export.c: `quant export` (export.h): decide where the one file goes and
 * that it may go there, check the query on a locked-down store, COPY into a
 * temporary file beside the target, then rename it into place.  It must not
 * print, and must never let the user's query near a writable path before
 * the query has passed the check.
 */
#define _GNU_SOURCE /* renameat2 */
#include "quant/export.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "quant/clock.h"
#include "quant/series_store.h"
#include "store/sql_internal.h"
#include "core/files.h"
#include "core/banned.h"

const char *quant_export_format_name(enum quant_export_format f)
{
    return f == QUANT_EXPORT_CSV ? "csv" : f == QUANT_EXPORT_PARQUET ? "parquet" : "auto";
}

static enum quant_code resolve_format(const struct quant_export_request *req,
                                      enum quant_export_format *out, struct quant_err *err)
{
    *out = req->format;
    if (*out != QUANT_EXPORT_AUTO)
        return QUANT_OK;
    const char *dot = strrchr(req->output, '.');
    if (dot && strchr(dot, '/') == NULL) {
        if (strcasecmp(dot, ".csv") == 0)
            *out = QUANT_EXPORT_CSV;
        else if (strcasecmp(dot, ".parquet") == 0 || strcasecmp(dot, ".pq") == 0)
            *out = QUANT_EXPORT_PARQUET;
    }
    if (*out == QUANT_EXPORT_AUTO)
        return quant_err_set(err, QUANT_EINVAL,
                             "cannot tell the format from the name '%s': end it in .csv or "
                             ".parquet, or give --format csv|parquet",
                             req->output);
    return QUANT_OK;
}

/* The target as an absolute path: its folder resolved, its own name kept. */
static enum quant_code resolve_target(const char *output, char *out, size_t cap,
                                      struct quant_err *err)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(output, '/');
    const char *base = slash ? slash + 1 : output;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return quant_err_set(err, QUANT_EINVAL,
                             "--output '%s' names a folder; give a file name (e.g. out.parquet)",
                             output);
    if (slash == output)
        snprintf(dir, sizeof dir, "/");
    else if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - output), output);
    else
        snprintf(dir, sizeof dir, ".");
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return quant_err_set(err, errno == ENOENT ? QUANT_EINVAL : QUANT_EIO,
                             "cannot write '%s': folder %s: %s%s", output, dir, strerror(errno),
                             errno == ENOENT ? " (create it first)" : "");
    if ((size_t)snprintf(out, cap, "%s/%s", strcmp(real, "/") ? real : "", base) >= cap)
        return quant_err_set(err, QUANT_EINVAL, "--output '%s': path too long", output);
    return QUANT_OK;
}

/* 1 when path is dir itself or inside it (both absolute and resolved). */
static int within(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return n && strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/*
 * Refuse to write over quant's own files.  Compared as resolved paths, and
 * the target's own link (if it is one) is followed, so a symlink to the
 * store is refused too.
 */
static enum quant_code check_protected(const struct quant_config *cfg, const char *target,
                                       struct quant_err *err)
{
    char t[PATH_MAX];
    if (!realpath(target, t))
        snprintf(t, sizeof t, "%s", target);
    const char *dirs[] = {quant_config_get(cfg, QUANT_SET_HOME),
                          quant_config_get(cfg, QUANT_SET_MODELS_DIR)};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        char d[PATH_MAX];
        if (dirs[i] && realpath(dirs[i], d) && within(t, d))
            return quant_err_set(err, QUANT_EINVAL,
                                 "refused: %s is inside %s, which holds quant's stores and "
                                 "models; write the export somewhere else",
                                 target, d);
    }
    /* The metadata file is meta_url's when that names one (NULL otherwise). */
    const char *files[] = {quant_config_get(cfg, QUANT_SET_DUCKDB_PATH),
                           quant_config_get(cfg, QUANT_SET_SQLITE_PATH),
                           quant_meta_url_sqlite_path(quant_config_get(cfg, QUANT_SET_META_URL)),
                           cfg->conf_path};
    static const char *const suffix[] = {"", ".wal", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char f[PATH_MAX], g[PATH_MAX + 16];
        if (!files[i] || !realpath(files[i], f))
            continue;
        for (size_t k = 0; k < sizeof suffix / sizeof *suffix; k++) {
            snprintf(g, sizeof g, "%s%s", f, suffix[k]);
            if (strcmp(t, g) == 0)
                return quant_err_set(err, QUANT_EINVAL,
                                     "refused: %s is one of quant's own files; write the "
                                     "export somewhere else",
                                     target);
        }
    }
    return QUANT_OK;
}

static enum quant_code check_target(const struct quant_config *cfg, const char *target,
                                    int force, struct quant_err *err)
{
    enum quant_code rc = check_protected(cfg, target, err);
    if (rc)
        return rc;
    struct stat st;
    if (stat(target, &st) != 0)
        return QUANT_OK;
    if (S_ISDIR(st.st_mode))
        return quant_err_set(err, QUANT_EINVAL, "%s is a folder; give a file name", target);
    if (!force)
        return quant_err_set(err, QUANT_EINVAL,
                             "%s already exists; add --force to replace it (the old file stays "
                             "until the new one is complete)",
                             target);
    return QUANT_OK;
}

/* The query an export runs: the user's, or every row of one table. */
static enum quant_code export_sql(const struct quant_export_request *req, struct quant_buf *b,
                                  struct quant_err *err)
{
    if (!req->table)
        return quant_buf_printf(b, "%s", req->query) ? quant_err_set(err, QUANT_ENOMEM, "oom")
                                                     : QUANT_OK;
    enum quant_code rc = quant_buf_printf(b, "SELECT * FROM \"");
    for (const char *p = req->table; !rc && *p; p++) /* an identifier: " doubled */
        rc = quant_buf_append(b, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
    if (!rc)
        rc = quant_buf_append(b, "\"", 1);
    return rc ? quant_err_set(err, QUANT_ENOMEM, "out of memory") : QUANT_OK;
}

/* Check the query on a store that may write nothing at all. */
static enum quant_code check_query(struct quant_workspace *ws, const char *sql,
                                   struct quant_err *err)
{
    struct quant_series_store *s = NULL;
    enum quant_code rc = quant_workspace_open_sandbox(ws, NULL, &s, err);
    if (!rc)
        rc = quant_sql_check(s, sql, err);
    quant_series_store_close(s);
    return rc;
}

static enum quant_code make_temp(const char *target, char *tmp, size_t cap,
                                 struct quant_err *err)
{
    const char *slash = strrchr(target, '/');
    int n = snprintf(tmp, cap, "%.*s/.%s.quant-export-%ld.tmp", (int)(slash - target), target,
                     slash + 1, (long)getpid());
    if (n < 0 || (size_t)n >= cap)
        return quant_err_set(err, QUANT_EINVAL, "%s: path too long", target);
    /* O_EXCL: never write through a link or over a file someone else put there */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return quant_err_set(err, QUANT_EIO, "cannot write in the folder of %s: %s", target,
                             strerror(errno));
    close(fd);
    return QUANT_OK;
}

static void sync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* The folder holding path, synced: a rename is durable once its folder is. */
static void sync_parent(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    sync_path(dir);
}

/* Move the finished file into place; without force, never over a file. */
static enum quant_code publish(const char *tmp, const char *target, int force,
                               struct quant_err *err)
{
    sync_path(tmp);
    int r = force ? rename(tmp, target)
                  : renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_NOREPLACE);
    if (r != 0 && !force && (errno == EINVAL || errno == ENOSYS)) {
        /* a file system without RENAME_NOREPLACE: link() also refuses to replace */
        r = link(tmp, target);
        if (r == 0)
            unlink(tmp);
    }
    if (r != 0) {
        int e = errno;
        unlink(tmp);
        if (e == EEXIST)
            return quant_err_set(err, QUANT_EINVAL,
                                 "%s appeared while exporting; nothing was replaced (add "
                                 "--force to replace it)",
                                 target);
        return quant_err_set(err, QUANT_EIO, "cannot move the export into place as %s: %s",
                             target, strerror(e));
    }
    sync_parent(target);
    return QUANT_OK;
}

static enum quant_code check_request(const struct quant_export_request *req,
                                     struct quant_err *err)
{
    if (!req->table == !req->query)
        return quant_err_set(err, QUANT_EINVAL, "give either --table NAME or --query SQL");
    if ((req->table && !*req->table) || (req->query && !*req->query))
        return quant_err_set(err, QUANT_EINVAL, "--table / --query must not be empty");
    if (!req->output || !*req->output)
        return quant_err_set(err, QUANT_EINVAL, "give the file to write with --output FILE");
    return QUANT_OK;
}

enum quant_code quant_export(struct quant_workspace *ws,
                             const struct quant_export_request *req,
                             struct quant_export_result *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    enum quant_code rc = check_request(req, err);
    if (!rc)
        rc = resolve_format(req, &out->format, err);
    if (!rc)
        rc = resolve_target(req->output, out->path, sizeof out->path, err);
    if (!rc)
        rc = check_target(quant_workspace_config(ws), out->path, req->force, err);
    struct quant_buf sql;
    quant_buf_init(&sql, 0);
    if (!rc)
        rc = export_sql(req, &sql, err);
    if (!rc)
        rc = check_query(ws, sql.data, err);
    char tmp[PATH_MAX];
    if (!rc)
        rc = make_temp(out->path, tmp, sizeof tmp, err);
    if (rc) {
        quant_buf_release(&sql);
        return rc;
    }
    struct quant_series_store *s = NULL;
    rc = quant_workspace_open_sandbox(ws, tmp, &s, err);
    if (!rc)
        rc = quant_sql_copy(s, sql.data, tmp,
                            out->format == QUANT_EXPORT_PARQUET ? QUANT_SQL_PARQUET
                                                                : QUANT_SQL_CSV,
                            &out->rows, err);
    quant_series_store_close(s);
    quant_buf_release(&sql);
    if (rc) {
        unlink(tmp);
        return rc;
    }
    return publish(tmp, out->path, req->force, err);
}

/* ---- the lake export: Hive-partitioned Parquet datasets under a folder ---- */

struct lake_spec {
    const char *name;          /* dataset folder and --tables name */
    const char *select;        /* what it holds (the sandbox's on-read views) */
    const char *partition_by;
};

/* Feature sets are computed on read (temp views of quant_features); the
 * materialised tables, where a user made them, hold the same values. */
static const struct lake_spec lake_specs[] = {
    {"ohlcv", "SELECT * FROM main.ohlcv", "symbol"},
    {"features_tech_v1", "SELECT * FROM temp.main.features_tech_v1", "symbol"},
    {"features_alpha158", "SELECT * FROM temp.main.features_alpha158", "symbol"},
    {"labels", "SELECT * FROM temp.main.labels", "horizon, symbol"},
    {"predictions", "SELECT * FROM main.predictions", "model_id"},
};
#define LAKE_NSPECS (sizeof lake_specs / sizeof *lake_specs)

/* --tables names -> a set of lake_specs (bit i = lake_specs[i]). */
static enum quant_code lake_pick(const struct quant_lake_request *req, unsigned *out,
                                 struct quant_err *err)
{
    *out = 0;
    if (!req->n_tables) {
        *out = (1u << LAKE_NSPECS) - 1;
        return QUANT_OK;
    }
    for (size_t i = 0; i < req->n_tables; i++) {
        const char *t = req->tables[i];
        unsigned bit = 0;
        if (strcmp(t, "features") == 0)
            bit = (1u << 1) | (1u << 2);
        for (size_t k = 0; !bit && k < LAKE_NSPECS; k++)
            if (strcmp(t, lake_specs[k].name) == 0)
                bit = 1u << k;
        if (!bit)
            return quant_err_set(err, QUANT_EINVAL,
                                 "unknown table '%s' for --tables: give ohlcv, features "
                                 "(every set), features_tech_v1, features_alpha158, labels, "
                                 "predictions",
                                 t);
        *out |= bit;
    }
    return QUANT_OK;
}

/* May DIR be replaced?  Only an empty folder or an earlier lake export. */
static enum quant_code lake_check_target(const struct quant_config *cfg, const char *dir,
                                         int force, int *exists, struct quant_err *err)
{
    enum quant_code rc = check_protected(cfg, dir, err);
    if (rc)
        return rc;
    /* Replacing DIR moves it away: it must not hold quant's own folders. */
    const char *own[] = {quant_config_get(cfg, QUANT_SET_HOME),
                         quant_config_get(cfg, QUANT_SET_MODELS_DIR)};
    char d[PATH_MAX];
    if (!realpath(dir, d))
        snprintf(d, sizeof d, "%s", dir);
    for (size_t i = 0; i < sizeof own / sizeof *own; i++) {
        char o[PATH_MAX];
        if (own[i] && realpath(own[i], o) && within(o, d))
            return quant_err_set(err, QUANT_EINVAL,
                                 "refused: %s holds %s (quant's stores or models); export to "
                                 "another folder",
                                 d, o);
    }
    struct stat st;
    *exists = lstat(dir, &st) == 0;
    if (!*exists)
        return QUANT_OK;
    if (!S_ISDIR(st.st_mode))
        return quant_err_set(err, QUANT_EINVAL, "%s exists and is not a folder", dir);
    DIR *dh = opendir(dir);
    if (!dh)
        return quant_err_set(err, QUANT_EIO, "cannot read %s: %s", dir, strerror(errno));
    int empty = 1, manifest = 0;
    struct dirent *e;
    while ((e = readdir(dh))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        empty = 0;
        manifest |= strcmp(e->d_name, QUANT_LAKE_MANIFEST) == 0;
    }
    closedir(dh);
    if (!empty && !manifest)
        return quant_err_set(err, QUANT_EINVAL,
                             "%s exists and is not a quant export (no %s in it); quant only "
                             "replaces its own exports: choose a new folder",
                             dir, QUANT_LAKE_MANIFEST);
    if (!empty && !force)
        return quant_err_set(err, QUANT_EINVAL,
                             "%s holds an earlier export; add --force to replace it (the old "
                             "one stays until the new one is complete)",
                             dir);
    return QUANT_OK;
}

static enum quant_code lake_manifest(const char *tmp, const struct quant_lake_result *out,
                                     struct quant_err *err)
{
    char path[PATH_MAX + 32], when[32];
    snprintf(path, sizeof path, "%s/%s", tmp, QUANT_LAKE_MANIFEST);
    quant_utc_format((int64_t)time(NULL), QUANT_UTC_ISO, when, sizeof when);
    FILE *f = fopen(path, "wx");
    if (!f)
        return quant_err_set(err, QUANT_EIO, "cannot write %s: %s", path, strerror(errno));
    fprintf(f, "{\n  \"format\": \"quant-lake-export\",\n  \"version\": 1,\n"
               "  \"exported_at\": \"%s\",\n  \"tables\": {",
            when);
    for (size_t i = 0; i < out->n_tables; i++) {
        const struct quant_lake_table *t = &out->tables[i];
        fprintf(f, "%s\n    \"%s\": {\"rows\": %ld, \"partition_by\": \"%s\", \"read\": "
                   "\"SELECT * FROM read_parquet('%s/**/*.parquet', hive_partitioning = true)\"}",
                i ? "," : "", t->name, t->rows, t->partition_by, t->name);
    }
    fprintf(f, "\n  }\n}\n");
    int bad = ferror(f) | fflush(f) | fsync(fileno(f));
    bad |= fclose(f);
    return bad ? quant_err_set(err, QUANT_EIO, "cannot write %s", path) : QUANT_OK;
}

/* tmp into place as dir; an old dir (checked above) is moved aside first and
 * removed only once the new one is in place. */
static enum quant_code lake_publish(const char *tmp, const char *dir, int exists,
                                    struct quant_err *err)
{
    char old[PATH_MAX + 64];
    if (exists) {
        const char *slash = strrchr(dir, '/');
        snprintf(old, sizeof old, "%.*s/.%s.quant-old-%ld", (int)(slash - dir), dir, slash + 1,
                 (long)getpid());
        if (rename(dir, old) != 0)
            return quant_err_set(err, QUANT_EIO, "cannot move the old %s aside: %s", dir,
                                 strerror(errno));
    }
    if (rename(tmp, dir) != 0) {
        int e = errno;
        if (exists && rename(old, dir) != 0)
            return quant_err_set(err, QUANT_EIO,
                                 "cannot move the export into place as %s (%s), nor the old "
                                 "one back: it is at %s",
                                 dir, strerror(e), old);
        return quant_err_set(err, QUANT_EIO, "cannot move the export into place as %s: %s",
                             dir, strerror(e));
    }
    sync_parent(dir);
    if (exists)
        quant_remove_tree(old);
    return QUANT_OK;
}

enum quant_code quant_export_lake(struct quant_workspace *ws, const struct quant_lake_request *req,
                                  struct quant_lake_result *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    double t0 = quant_clock_mono();
    if (!req->dir || !*req->dir)
        return quant_err_set(err, QUANT_EINVAL, "give the folder to write: --parquet DIR");
    unsigned pick;
    int exists = 0;
    enum quant_code rc = lake_pick(req, &pick, err);
    if (!rc)
        rc = resolve_target(req->dir, out->path, sizeof out->path, err);
    if (!rc)
        rc = lake_check_target(quant_workspace_config(ws), out->path, req->force, &exists, err);
    if (rc)
        return rc;
    const char *slash = strrchr(out->path, '/');
    char tmp[PATH_MAX + 64];
    snprintf(tmp, sizeof tmp, "%.*s/.%s.quant-export-%ld.tmp/", (int)(slash - out->path),
             out->path, slash + 1, (long)getpid());
    if (mkdir(tmp, 0755) != 0)
        return quant_err_set(err, QUANT_EIO, "cannot create %s: %s", tmp, strerror(errno));
    struct quant_series_store *s = NULL;
    rc = quant_workspace_open_sandbox(ws, tmp, &s, err); /* may write under tmp/ only */
    for (size_t k = 0; !rc && k < LAKE_NSPECS; k++) {
        if (!(pick & (1u << k)))
            continue;
        struct quant_lake_table *t = &out->tables[out->n_tables++];
        snprintf(t->name, sizeof t->name, "%s", lake_specs[k].name);
        snprintf(t->partition_by, sizeof t->partition_by, "%s", lake_specs[k].partition_by);
        char where[PATH_MAX + 128];
        snprintf(where, sizeof where, "%s%s", tmp, t->name);
        rc = quant_sql_copy_partitioned(s, lake_specs[k].select, where,
                                        lake_specs[k].partition_by, &t->rows, err);
    }
    quant_series_store_close(s);
    tmp[strlen(tmp) - 1] = '\0'; /* the folder itself, without the '/' */
    if (!rc)
        rc = lake_manifest(tmp, out, err);
    if (!rc)
        rc = lake_publish(tmp, out->path, exists, err);
    if (rc)
        quant_remove_tree(tmp);
    out->seconds = quant_clock_mono() - t0;
    return rc;
}
