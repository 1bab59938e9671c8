/*
 * workspace.c: the configuration turned into open stores, in the mode a
 * command declares (workspace.h).  Nothing else in the library or the CLI
 * opens a store from a configuration, so what a read may touch is decided
 * here once: the read modes open lazily and read-only, never create a file
 * or a folder, and never wait for DuckDB's writer.
 */
#include "quant/workspace.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/files.h"
#include "services/lake.h"
#include "store/feature_store.h"
#include "store/sql_internal.h"
#include "core/banned.h"

struct quant_workspace {
    const struct quant_config *cfg;
    enum quant_ws_mode mode;
    long lock_ms;                       /* lock_timeout_ms from the config */
    long threads;                       /* DuckDB threads from the config */
    struct quant_series_store *series;  /* NULL until opened */
    struct quant_meta_store *meta;      /* NULL until opened */
    struct quant_err series_err;        /* why the series store could not be opened */
    struct quant_err meta_err;          /* likewise the metadata store */
    int meta_version;                   /* schema version read from it, -1 before */
    /* Lake mode (lake.h): the series store is a private copy at work_path. */
    const char *lake;                   /* the lake folder; NULL outside lake mode */
    char work_dir[PATH_MAX];            /* holds work_path; "" until made */
    char work_path[PATH_MAX];
    struct quant_shard scope;           /* what a checkout loads (count 0: all) */
    int lake_ready;                     /* the checkout is done */
    int work_cached;                    /* work_path is a shared cached snapshot: keep it */
    struct quant_lake *lk;              /* a write workspace's checkout, until commit */
};

/* The series store's file: the configured one, or lake mode's working copy. */
static const char *series_path(const struct quant_workspace *ws)
{
    return ws->lake ? ws->work_path : quant_config_get(ws->cfg, QUANT_SET_DUCKDB_PATH);
}

/* Working folders of processes that died (killed before close): this
 * user's "quant-lake-PID-*" whose PID no longer exists.  TMPDIR is local to
 * the host, so the PID is this host's. */
static void sweep_dead_work_dirs(const char *tmp)
{
    DIR *d = opendir(tmp);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end = NULL;
        if (strncmp(e->d_name, "quant-lake-", 11) != 0)
            continue;
        long pid = strtol(e->d_name + 11, &end, 10);
        if (pid <= 0 || !end || *end != '-' || pid == (long)getpid() ||
            kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/%s", tmp, e->d_name);
        struct stat st;
        if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid())
            quant_remove_tree(dir);
    }
    closedir(d);
}

/* A private folder for lake mode's working copy.  In TMPDIR: a read in lake
 * mode then writes nothing under QUANT_HOME either. */
static enum quant_code make_work_dir(struct quant_workspace *ws, struct quant_err *err)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    sweep_dead_work_dirs(tmp);
    snprintf(ws->work_dir, sizeof ws->work_dir, "%s/quant-lake-%ld-XXXXXX", tmp, (long)getpid());
    if (!mkdtemp(ws->work_dir)) {
        int e = errno;
        ws->work_dir[0] = '\0';
        return quant_err_set(err, QUANT_EIO,
                             "cannot create a working folder for lake mode in %s: %s (set "
                             "TMPDIR to a folder with room for the series)",
                             tmp, strerror(e));
    }
    snprintf(ws->work_path, sizeof ws->work_path, "%s/work.duckdb", ws->work_dir);
    return QUANT_OK;
}

static void remove_work_dir(struct quant_workspace *ws)
{
    if (!ws->work_dir[0])
        return;
    quant_remove_tree(ws->work_dir);
    ws->work_dir[0] = '\0';
}

/* A read must find the file: opening a missing path read-only would create
 * nothing useful and the message would be DuckDB's or SQLite's, not ours. */
static enum quant_code require_file(const char *path, struct quant_err *err)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return QUANT_OK;
    if (errno == ENOENT)
        return quant_err_set(err, QUANT_ENOTFOUND,
                             "no store at %s yet: run `quant init-db` (or `quant demo`) "
                             "first, or point --home / QUANT_HOME at an existing one", path);
    return quant_err_set(err, QUANT_EIO, "cannot read %s: %s", path, strerror(errno));
}

static void series_options(const struct quant_workspace *ws, int read_only,
                           struct quant_series_store_options *o)
{
    memset(o, 0, sizeof *o);
    o->read_only = read_only;
    o->threads = (int)ws->threads;
    o->memory_limit = quant_config_get(ws->cfg, QUANT_SET_MEMORY_LIMIT);
    /* A read answers at once: waiting for an ingest to finish is what a
     * reader never wants (the dashboard and status mark the part busy). */
    o->lock_timeout_ms = read_only ? 0 : ws->lock_ms;
}

static enum quant_code open_series_rw(struct quant_workspace *ws, struct quant_err *err)
{
    struct quant_series_store_options o;
    series_options(ws, 0, &o);
    enum quant_code rc = ws->lake && !ws->work_dir[0] ? make_work_dir(ws, err) : QUANT_OK;
    if (!rc)
        rc = quant_series_store_open(series_path(ws), &o, &ws->series, err);
    if (!rc)
        rc = quant_feature_store_init(ws->series, err);
    return rc;
}

static enum quant_code open_meta_rw(struct quant_workspace *ws, struct quant_err *err)
{
    return quant_meta_store_open(quant_config_get(ws->cfg, QUANT_SET_META_URL), ws->lock_ms,
                                 &ws->meta, err);
}

/* This machine's name ("localhost" when it has none): runs and lake files
 * say which machine wrote them. */
static void host_name(char host[256])
{
    if (gethostname(host, 256) != 0)
        snprintf(host, 256, "localhost");
    host[255] = '\0';
}

/* "host:/full/path" of the series store: unique across the machines that
 * share a registry. */
static void series_id(const char *duckdb_path, char *out, size_t n)
{
    char host[256], full[PATH_MAX];
    host_name(host);
    if (!realpath(duckdb_path, full))
        snprintf(full, sizeof full, "%s", duckdb_path);
    snprintf(out, n, "%s:%s", host, full);
}

/* Lake mode has no lock that proves a writer gone: many write the lake at
 * once.  A run is tagged "host:lake:/real/path#pid=N"; one still 'running'
 * whose process no longer exists on this host was killed.  (A run of
 * another host is left alone: this one cannot see its processes.) */
static enum quant_code lake_runs(struct quant_workspace *ws, struct quant_err *err)
{
    char host[256], real[PATH_MAX], prefix[PATH_MAX + 300], me[PATH_MAX + 330];
    host_name(host);
    if (!realpath(ws->lake, real))
        snprintf(real, sizeof real, "%s", ws->lake);
    snprintf(prefix, sizeof prefix, "%s:lake:%s#pid=", host, real);
    snprintf(me, sizeof me, "%s%ld", prefix, (long)getpid());
    quant_meta_store_set_series(ws->meta, me);
    char **running = NULL;
    size_t n = 0;
    enum quant_code rc = quant_meta_runs_running_series(ws->meta, prefix, &running, &n, err);
    for (size_t k = 0; k < n; k++) {
        char *end = NULL;
        long pid = strtol(running[k] + strlen(prefix), &end, 10);
        if (!rc && end && !*end && pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            rc = quant_meta_runs_close_series(ws->meta, running[k], NULL, err);
        free(running[k]);
    }
    free(running);
    return rc;
}

enum quant_code quant_workspace_open(const struct quant_config *cfg, enum quant_ws_mode mode,
                                     struct quant_workspace **out, struct quant_err *err)
{
    *out = NULL;
    long lock_ms, threads;
    enum quant_code rc = quant_config_get_long(cfg, QUANT_SET_LOCK_TIMEOUT_MS, 0, 86400000L,
                                               &lock_ms, err);
    if (!rc)
        rc = quant_config_get_long(cfg, QUANT_SET_THREADS, 1, QUANT_THREADS_MAX, &threads, err);
    if (!rc && mode != QUANT_WS_READ)
        rc = quant_config_ensure_dirs(cfg, err);
    if (rc)
        return rc;
    struct quant_workspace *ws = calloc(1, sizeof *ws);
    if (!ws)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    ws->cfg = cfg;
    ws->mode = mode;
    ws->lock_ms = lock_ms;
    ws->threads = threads;
    ws->meta_version = -1;
    const char *lake = quant_config_get(cfg, QUANT_SET_LAKE);
    ws->lake = lake && *lake ? lake : NULL;
    if (mode != QUANT_WS_READ)
        rc = open_meta_rw(ws, err);
    if (!rc && mode == QUANT_WS_WRITE)
        rc = open_series_rw(ws, err);
    /* We hold DuckDB's single-writer lock, so no other ingest into this
     * series store is running: a run of it still marked 'running' was
     * killed.  Say so in its record.  Runs are tagged with the store (host
     * and full path), so a registry shared by several machines keeps their
     * live runs. */
    if (!rc && mode == QUANT_WS_WRITE && !ws->lake) {
        char series[4352];
        series_id(series_path(ws), series, sizeof series);
        quant_meta_store_set_series(ws->meta, series);
        rc = quant_meta_runs_close_stale(ws->meta, NULL, err);
    }
    if (!rc && mode == QUANT_WS_WRITE && ws->lake)
        rc = lake_runs(ws, err);
    if (rc) {
        quant_workspace_close(ws);
        return rc;
    }
    *out = ws;
    return QUANT_OK;
}

void quant_workspace_close(struct quant_workspace *ws)
{
    if (!ws)
        return;
    if (ws->series)
        quant_series_store_close(ws->series);
    if (ws->meta)
        quant_meta_store_close(ws->meta);
    quant_lake_free(ws->lk);
    remove_work_dir(ws);
    free(ws);
}

enum quant_ws_mode quant_workspace_mode(const struct quant_workspace *ws) { return ws->mode; }

const struct quant_config *quant_workspace_config(const struct quant_workspace *ws)
{
    return ws->cfg;
}

/* Hand back a remembered failure (a second try would only fail again, and
 * slower: DuckDB's lock error costs an open). */
static void *failed(const struct quant_err *why, struct quant_err *err)
{
    if (err)
        *err = *why;
    return NULL;
}

static enum quant_code lake_load(struct quant_workspace *ws, struct quant_err *err);

struct quant_series_store *quant_workspace_series(struct quant_workspace *ws,
                                                  struct quant_err *err)
{
    if (ws->series_err.code)
        return failed(&ws->series_err, err);
    if (ws->lake && !ws->lake_ready && lake_load(ws, &ws->series_err))
        return failed(&ws->series_err, err);
    if (ws->series)
        return ws->series;
    const char *path = series_path(ws);
    struct quant_series_store_options o;
    series_options(ws, 1, &o);
    enum quant_code rc = require_file(path, &ws->series_err);
    if (!rc)
        rc = quant_series_store_open(path, &o, &ws->series, &ws->series_err);
    return rc ? failed(&ws->series_err, err) : ws->series;
}

struct quant_meta_store *quant_workspace_meta(struct quant_workspace *ws, struct quant_err *err)
{
    if (ws->meta)
        return ws->meta;
    if (ws->meta_err.code)
        return failed(&ws->meta_err, err);
    const char *url = quant_config_get(ws->cfg, QUANT_SET_META_URL);
    /* A file must exist already (a reader never creates one); a server
     * answers for itself. */
    const char *path = quant_meta_url_sqlite_path(url);
    enum quant_code rc = path ? require_file(path, &ws->meta_err) : QUANT_OK;
    if (!rc)
        rc = quant_meta_store_open_read_only(url, ws->lock_ms, &ws->meta, &ws->meta_version,
                                             &ws->meta_err);
    return rc ? failed(&ws->meta_err, err) : ws->meta;
}

enum quant_code quant_workspace_open_sandbox(struct quant_workspace *ws, const char *write_path,
                                             struct quant_series_store **out,
                                             struct quant_err *err)
{
    *out = NULL;
    /* Lake mode: the working copy must hold the lake first. */
    if (ws->lake && !quant_workspace_series(ws, err))
        return err->code;
    const char *path = series_path(ws);
    struct quant_series_store_options o;
    series_options(ws, 1, &o);
    o.sandbox = 1;
    o.sandbox_write_path = write_path;
    enum quant_code rc = require_file(path, err);
    if (!rc)
        rc = quant_series_store_open(path, &o, out, err);
    if (!rc && (rc = quant_sql_attach_derived(*out, err)) != QUANT_OK) {
        quant_series_store_close(*out);
        *out = NULL;
    }
    return rc;
}

int quant_workspace_meta_found_version(struct quant_workspace *ws)
{
    return ws->meta ? quant_meta_store_found_version(ws->meta) : ws->meta_version;
}

/* ---- lake mode ------------------------------------------------------------- */

/* FNV-1a 64 of text: names a lake's snapshots in the cache folder. */
static uint64_t fnv64(const char *text, uint64_t h)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

/* $TMPDIR/quant-lake-cache-UID: this user's, nobody else's (a snapshot is
 * read as the store: one planted by another user would be believed). */
static int cache_dir(char *out, size_t n)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, n, "%s/quant-lake-cache-%ld", tmp && *tmp ? tmp : "/tmp", (long)getuid());
    struct stat st;
    if (mkdir(out, 0700) != 0 && errno != EEXIST)
        return -1;
    if (lstat(out, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
        (st.st_mode & 077))
        return -1;
    return 0;
}

/* Delete the other snapshots of this lake (prefix "KEY-"), keeping `keep`,
 * and snapshots of any lake nobody read for a day (lakes come and go).
 * A reader that has one open keeps reading it: unlinking frees it later. */
static void drop_old_snapshots(const char *dir, const char *prefix, const char *keep)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    size_t plen = strlen(prefix);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, keep) == 0 || e->d_name[0] == '.')
            continue;
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        /* this lake's older snapshots, and any lake's unread for a day */
        if (strncmp(e->d_name, prefix, plen) == 0 ||
            (stat(path, &st) == 0 && time(NULL) - st.st_atime > 86400))
            unlink(path);
    }
    closedir(d);
}

/* A read's copy of the whole lake.  A read in lake mode would otherwise load
 * the whole lake each time (seconds for thousands of files; the dashboard
 * opens a workspace per request), so the copy is kept in this user's cache
 * folder, named by the lake, the registry and quant's version, and stamped
 * with the registry's live set: while no run has published since, the next
 * read opens it as it is. */
static enum quant_code lake_snapshot(struct quant_workspace *ws, struct quant_meta_store *meta,
                                     struct quant_err *err)
{
    char stamp[64], cdir[PATH_MAX], lake_real[PATH_MAX], prefix[40], name[128];
    int sharded = ws->scope.count > 0;
    enum quant_code rc = quant_lake_stamp(meta, stamp, sizeof stamp, err);
    if (rc)
        return rc;
    int cached = !sharded && cache_dir(cdir, sizeof cdir) == 0 && realpath(ws->lake, lake_real);
    if (cached) {
        uint64_t h = fnv64(lake_real, 14695981039346656037ULL);
        h = fnv64("\n", h);
        h = fnv64(quant_config_get(ws->cfg, QUANT_SET_META_URL), h);
        h = fnv64("\n" QUANT_VERSION, h);
        snprintf(prefix, sizeof prefix, "%016llx-", (unsigned long long)h);
        snprintf(name, sizeof name, "%s%s.duckdb", prefix, stamp);
        snprintf(ws->work_path, sizeof ws->work_path, "%s/%s", cdir, name);
        if (access(ws->work_path, R_OK) == 0) {
            ws->work_cached = 1;
            return QUANT_OK;
        }
    }
    struct quant_series_store *rw = NULL;
    struct quant_series_store_options o;
    series_options(ws, 0, &o);
    rc = make_work_dir(ws, err);
    if (!rc)
        rc = quant_series_store_open(ws->work_path, &o, &rw, err);
    if (!rc)
        rc = quant_feature_store_init(rw, err);
    if (!rc)
        rc = quant_lake_checkout(ws->lake, meta, rw, &ws->scope, NULL, err);
    if (rw)
        quant_series_store_close(rw);
    if (rc || !cached)
        return rc;
    /* Publish the copy to the cache (same file system: an atomic rename; two
     * readers building at once both rename the same content). */
    char dest[PATH_MAX + 300];
    snprintf(dest, sizeof dest, "%s/%s", cdir, name);
    if (rename(ws->work_path, dest) != 0)
        return QUANT_OK; /* not cached, still read: close removes the copy */
    remove_work_dir(ws);
    snprintf(ws->work_path, sizeof ws->work_path, "%s", dest);
    ws->work_cached = 1;
    drop_old_snapshots(cdir, prefix, name);
    return QUANT_OK;
}

/* Fill the working copy from the lake.  A write workspace keeps its copy
 * open read-write and remembers the checkout for commit; a read takes a
 * snapshot (lake_snapshot) and reads it read-only like any store. */
static enum quant_code lake_load(struct quant_workspace *ws, struct quant_err *err)
{
    struct quant_meta_store *meta = quant_workspace_meta(ws, err);
    if (!meta)
        return err->code;
    enum quant_code rc = QUANT_OK;
    if (ws->mode == QUANT_WS_WRITE) {
        rc = quant_lake_checkout(ws->lake, meta, ws->series, &ws->scope, &ws->lk, err);
    } else {
        rc = lake_snapshot(ws, meta, err);
    }
    if (!rc)
        ws->lake_ready = 1;
    return rc;
}

void quant_workspace_set_scope(struct quant_workspace *ws, const struct quant_shard *shard)
{
    if (shard)
        ws->scope = *shard;
}

const char *quant_workspace_lake(const struct quant_workspace *ws) { return ws->lake; }

enum quant_code quant_workspace_commit(struct quant_workspace *ws, struct quant_lake_stats *stats,
                                       struct quant_err *err)
{
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!ws->lk)
        return QUANT_OK;
    char host[256], who[320];
    host_name(host);
    snprintf(who, sizeof who, "%s pid %ld", host, (long)getpid());
    enum quant_code rc = quant_lake_publish(ws->lk, ws->meta, ws->series, who, stats, err);
    quant_lake_free(ws->lk);
    ws->lk = NULL;
    return rc;
}
