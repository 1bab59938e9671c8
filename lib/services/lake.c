/*
 * lake.c: lake mode's checkout and publish (lake.h).
 */
#define _GNU_SOURCE /* mkdtemp */
#include "services/lake.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/files.h"
#include "store/lake_io.h"
#include "core/banned.h"

/* What checkout saw of one partition of one table. */
struct part_seen {
    char part[160];
    size_t live_n;       /* live files in the registry */
    int64_t live_max;    /* the newest of their ids */
    int in_scope;        /* loaded into the working store */
};

struct table_state {
    const struct quant_lake_table *t;
    struct part_seen *seen;         /* sorted by part */
    size_t nseen;
    struct quant_lake_print *base;  /* content at checkout, sorted by part */
    size_t nbase;
};

struct quant_lake {
    char dir[PATH_MAX];
    struct quant_shard scope;
    struct table_state *tables;
    size_t ntables;
};

void quant_lake_free(struct quant_lake *lk)
{
    if (!lk)
        return;
    for (size_t i = 0; i < lk->ntables; i++) {
        free(lk->tables[i].seen);
        free(lk->tables[i].base);
    }
    free(lk->tables);
    free(lk);
}

static int in_scope(const struct quant_lake *lk, const struct quant_lake_table *t,
                    const char *part)
{
    return !t->by_symbol || lk->scope.count == 0 || quant_shard_keeps(&lk->scope, part);
}

static struct part_seen *find_seen(struct table_state *ts, const char *part)
{
    size_t lo = 0, hi = ts->nseen;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(ts->seen[mid].part, part);
        if (c == 0)
            return &ts->seen[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Group the registry's live files (sorted by table, part, id) by table. */
static enum quant_code note_live(struct quant_lake *lk, const struct quant_lake_file *files,
                                 size_t n, struct quant_err *err)
{
    for (size_t i = 0; i < lk->ntables; i++) {
        struct table_state *ts = &lk->tables[i];
        for (size_t k = 0; k < n; k++) {
            if (strcmp(files[k].table, ts->t->name) != 0)
                continue;
            struct part_seen *last = ts->nseen ? &ts->seen[ts->nseen - 1] : NULL;
            if (last && strcmp(last->part, files[k].part) == 0) {
                last->live_n++;
                if (files[k].id > last->live_max)
                    last->live_max = files[k].id;
                continue;
            }
            struct part_seen *g = realloc(ts->seen, (ts->nseen + 1) * sizeof *g);
            if (!g)
                return quant_err_set(err, QUANT_ENOMEM, "out of memory reading the lake");
            ts->seen = g;
            struct part_seen *p = &ts->seen[ts->nseen++];
            memset(p, 0, sizeof *p);
            snprintf(p->part, sizeof p->part, "%s", files[k].part);
            p->live_n = 1;
            p->live_max = files[k].id;
            p->in_scope = in_scope(lk, ts->t, p->part);
        }
    }
    return QUANT_OK;
}

/* Load one table's in-scope files. */
static enum quant_code load_table(struct quant_lake *lk, struct table_state *ts,
                                  const struct quant_lake_file *files, size_t n,
                                  struct quant_series_store *s, struct quant_err *err)
{
    char **paths = malloc((n ? n : 1) * sizeof *paths);
    if (!paths)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory reading the lake");
    size_t m = 0;
    enum quant_code rc = QUANT_OK;
    for (size_t k = 0; k < n && !rc; k++) {
        if (strcmp(files[k].table, ts->t->name) != 0 || !in_scope(lk, ts->t, files[k].part))
            continue;
        size_t len = strlen(lk->dir) + strlen(files[k].path) + 2;
        if (!(paths[m] = malloc(len)))
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory reading the lake");
        else
            snprintf(paths[m++], len, "%s/%s", lk->dir, files[k].path);
    }
    if (!rc)
        rc = quant_lake_load(s, ts->t, (const char *const *)paths, m, err);
    for (size_t k = 0; k < m; k++)
        free(paths[k]);
    free(paths);
    return rc;
}

enum quant_code quant_lake_checkout(const char *dir, struct quant_meta_store *meta,
                                    struct quant_series_store *s, const struct quant_shard *scope,
                                    struct quant_lake **out, struct quant_err *err)
{
    if (out)
        *out = NULL;
    struct quant_lake *lk = calloc(1, sizeof *lk);
    if (!lk)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    if (!realpath(dir, lk->dir) && errno != ENOENT) {
        free(lk);
        return quant_err_set(err, QUANT_EIO, "cannot read the lake folder %s: %s", dir,
                             strerror(errno));
    }
    enum quant_code rc = QUANT_OK;
    if (!lk->dir[0] || access(lk->dir, F_OK) != 0) {
        rc = quant_mkdir_p(dir, err);
        if (rc) {
            char why[QUANT_ERR_MSG_MAX];
            snprintf(why, sizeof why, "%s", err->msg);
            quant_err_set(err, rc, "%s (lake mode needs a folder this user may write: check "
                                   "QUANT_LAKE / --lake)", why);
        }
        if (!rc && !realpath(dir, lk->dir))
            rc = quant_err_set(err, QUANT_EIO, "cannot read the lake folder %s: %s", dir,
                               strerror(errno));
    }
    if (scope)
        lk->scope = *scope;
    size_t nt;
    const struct quant_lake_table *tables = quant_lake_tables(&nt);
    if (!rc && !(lk->tables = calloc(nt, sizeof *lk->tables)))
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    if (!rc) {
        lk->ntables = nt;
        for (size_t i = 0; i < nt; i++)
            lk->tables[i].t = &tables[i];
    }
    struct quant_lake_file *files = NULL;
    size_t nf = 0;
    if (!rc)
        rc = quant_meta_lake_live(meta, &files, &nf, err);
    if (!rc)
        rc = note_live(lk, files, nf, err);
    for (size_t i = 0; i < lk->ntables && !rc; i++)
        rc = load_table(lk, &lk->tables[i], files, nf, s, err);
    for (size_t i = 0; i < lk->ntables && !rc && out; i++)
        rc = quant_lake_prints(s, lk->tables[i].t, &lk->tables[i].base, &lk->tables[i].nbase,
                               err);
    free(files);
    if (rc || !out) {
        quant_lake_free(lk);
        return rc;
    }
    *out = lk;
    return QUANT_OK;
}

/* ---- publish --------------------------------------------------------------- */

/* One partition to swap, and the files written for it. */
struct change {
    struct table_state *ts;
    char part[160];
    int64_t rows;                   /* its rows now (0: emptied) */
    struct quant_lake_file *files;  /* new files: path relative to the lake, rows */
    size_t nfiles;
};

struct publish {
    struct quant_lake *lk;
    struct change *v;
    size_t n;
    char staging[PATH_MAX];         /* "" until made */
};

static enum quant_code add_change(struct publish *p, struct table_state *ts, const char *part,
                                  int64_t rows, struct quant_err *err)
{
    struct change *g = realloc(p->v, (p->n + 1) * sizeof *g);
    if (!g)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory publishing to the lake");
    p->v = g;
    struct change *c = &p->v[p->n++];
    memset(c, 0, sizeof *c);
    c->ts = ts;
    snprintf(c->part, sizeof c->part, "%s", part);
    c->rows = rows;
    return QUANT_OK;
}

/* Which partitions of one table changed: both lists are sorted by part. */
static enum quant_code diff_table(struct publish *p, struct table_state *ts,
                                  const struct quant_lake_print *now, size_t nnow,
                                  struct quant_err *err)
{
    size_t i = 0, j = 0;
    enum quant_code rc = QUANT_OK;
    while (!rc && (i < ts->nbase || j < nnow)) {
        int c = i == ts->nbase ? 1 : j == nnow ? -1 : strcmp(ts->base[i].part, now[j].part);
        if (c < 0) /* every row of the partition was deleted */
            rc = add_change(p, ts, ts->base[i++].part, 0, err);
        else if (c > 0) {
            rc = add_change(p, ts, now[j].part, now[j].rows, err);
            j++;
        } else {
            if (ts->base[i].rows != now[j].rows || strcmp(ts->base[i].hash, now[j].hash) != 0)
                rc = add_change(p, ts, now[j].part, now[j].rows, err);
            i++;
            j++;
        }
    }
    return rc;
}

/* "GC%3DF" -> "GC=F" (DuckDB URL-encodes Hive partition values). */
static void url_decode(const char *in, char *out, size_t cap)
{
    size_t k = 0;
    for (const char *p = in; *p && k + 1 < cap; p++) {
        int hi, lo;
        if (p[0] == '%' && p[1] && p[2] && sscanf(p + 1, "%1x%1x", (unsigned *)&hi,
                                                  (unsigned *)&lo) == 2) {
            out[k++] = (char)(hi * 16 + lo);
            p += 2;
        } else {
            out[k++] = *p;
        }
    }
    out[k] = '\0';
}

static struct change *find_change(struct publish *p, const struct table_state *ts,
                                  const char *part)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].ts == ts && strcmp(p->v[i].part, part) == 0)
            return &p->v[i];
    return NULL;
}

/* Move one table's staged files into place: staging/T/KEY=V/F -> lake/T/KEY=V/F. */
static enum quant_code place_table(struct publish *p, struct table_state *ts,
                                   struct quant_err *err)
{
    char from[PATH_MAX];
    snprintf(from, sizeof from, "%s/%s", p->staging, ts->t->name);
    DIR *d = opendir(from);
    if (!d)
        return errno == ENOENT ? QUANT_OK
                               : quant_err_set(err, QUANT_EIO, "cannot read %s: %s", from,
                                               strerror(errno));
    enum quant_code rc = QUANT_OK;
    struct dirent *e;
    size_t keylen = strlen(ts->t->key);
    while (!rc && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, ts->t->key, keylen) != 0 || e->d_name[keylen] != '=')
            continue;
        char part[160];
        url_decode(e->d_name + keylen + 1, part, sizeof part);
        struct change *c = find_change(p, ts, part);
        if (!c) {
            rc = quant_err_set(err, QUANT_EINTERNAL, "lake: DuckDB wrote partition %s/%s, "
                               "which this run did not change", ts->t->name, e->d_name);
            break;
        }
        char sub[PATH_MAX], dest_dir[PATH_MAX];
        snprintf(sub, sizeof sub, "%s/%s", from, e->d_name);
        snprintf(dest_dir, sizeof dest_dir, "%s/%s/%s", p->lk->dir, ts->t->name, e->d_name);
        if ((rc = quant_mkdir_p(dest_dir, err)))
            break;
        DIR *pd = opendir(sub);
        if (!pd) {
            rc = quant_err_set(err, QUANT_EIO, "cannot read %s: %s", sub, strerror(errno));
            break;
        }
        struct dirent *f;
        while (!rc && (f = readdir(pd)) != NULL) {
            if (f->d_name[0] == '.')
                continue;
            struct quant_lake_file *g = realloc(c->files, (c->nfiles + 1) * sizeof *g);
            if (!g) {
                rc = quant_err_set(err, QUANT_ENOMEM, "out of memory publishing to the lake");
                break;
            }
            c->files = g;
            struct quant_lake_file *nf = &c->files[c->nfiles];
            memset(nf, 0, sizeof *nf);
            snprintf(nf->path, sizeof nf->path, "%s/%s/%s", ts->t->name, e->d_name, f->d_name);
            nf->rows = c->rows;
            char src[PATH_MAX], dst[PATH_MAX];
            snprintf(src, sizeof src, "%s/%s", sub, f->d_name);
            snprintf(dst, sizeof dst, "%s/%s", p->lk->dir, nf->path);
            /* The staging folder is inside the lake: one file system, so the
             * rename is atomic and a reader sees a whole file or none. */
            if (rename(src, dst) != 0)
                rc = quant_err_set(err, QUANT_EIO, "cannot move %s into the lake: %s", src,
                                   strerror(errno));
            else
                c->nfiles++;
        }
        closedir(pd);
    }
    closedir(d);
    /* DuckDB writes one file per partition; were there more, the rows of
     * each would not be the partition's: record -1 (unknown) rather than a
     * wrong count. */
    for (size_t i = 0; i < p->n && !rc; i++)
        if (p->v[i].ts == ts && p->v[i].nfiles > 1)
            for (size_t k = 0; k < p->v[i].nfiles; k++)
                p->v[i].files[k].rows = -1;
    return rc;
}

/* Remove the files this run moved into place (the swap failed). */
static void unplace(struct publish *p)
{
    for (size_t i = 0; i < p->n; i++)
        for (size_t k = 0; k < p->v[i].nfiles; k++) {
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", p->lk->dir, p->v[i].files[k].path);
            unlink(path);
        }
}

/* Delete replaced files, and partition folders left empty. */
static long remove_old(const struct quant_lake *lk, const struct quant_lake_file *old, size_t n)
{
    long removed = 0;
    for (size_t k = 0; k < n; k++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", lk->dir, old[k].path);
        if (unlink(path) == 0)
            removed++;
        char *slash = strrchr(path, '/');
        if (slash) {
            *slash = '\0';
            rmdir(path); /* fails, as it should, while other files are there */
        }
    }
    return removed;
}

enum quant_code quant_lake_publish(struct quant_lake *lk, struct quant_meta_store *meta,
                                   struct quant_series_store *s, const char *written_by,
                                   struct quant_lake_stats *stats, struct quant_err *err)
{
    if (stats)
        memset(stats, 0, sizeof *stats);
    struct publish p = {.lk = lk};
    enum quant_code rc = QUANT_OK;
    for (size_t i = 0; i < lk->ntables && !rc; i++) {
        struct quant_lake_print *now = NULL;
        size_t nnow = 0;
        rc = quant_lake_prints(s, lk->tables[i].t, &now, &nnow, err);
        if (!rc)
            rc = diff_table(&p, &lk->tables[i], now, nnow, err);
        free(now);
    }
    /* A partition outside the scope was not loaded: writing it would drop
     * the rows the lake holds for it. */
    for (size_t i = 0; i < p.n && !rc; i++) {
        struct part_seen *seen = find_seen(p.v[i].ts, p.v[i].part);
        if (seen && !seen->in_scope)
            rc = quant_err_set(err, QUANT_EINVAL,
                               "lake: this run changed %s of %s, outside its shard %d/%d; "
                               "nothing was published: run it without --shard",
                               p.v[i].ts->t->name, p.v[i].part, lk->scope.index,
                               lk->scope.count);
    }
    if (!rc && p.n) {
        char tmpl[PATH_MAX];
        snprintf(tmpl, sizeof tmpl, "%s/.quant-staging", lk->dir);
        rc = quant_mkdir_p(tmpl, err);
        snprintf(tmpl, sizeof tmpl, "%s/.quant-staging/run-XXXXXX", lk->dir);
        if (!rc && !mkdtemp(tmpl))
            rc = quant_err_set(err, QUANT_EIO, "cannot create a staging folder in %s: %s",
                               lk->dir, strerror(errno));
        if (!rc)
            snprintf(p.staging, sizeof p.staging, "%s", tmpl);
    }
    /* Write each table's changed partitions, then move them into place. */
    for (size_t i = 0; i < lk->ntables && !rc && p.n; i++) {
        struct table_state *ts = &lk->tables[i];
        const char **parts = malloc(p.n * sizeof *parts);
        if (!parts) {
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory publishing to the lake");
            break;
        }
        size_t m = 0;
        for (size_t k = 0; k < p.n; k++)
            if (p.v[k].ts == ts && p.v[k].rows > 0)
                parts[m++] = p.v[k].part;
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/%s", p.staging, ts->t->name);
        rc = quant_lake_write(s, ts->t, parts, m, dir, err);
        free(parts);
        if (!rc)
            rc = place_table(&p, ts, err);
    }
    struct quant_lake_swap *sw = NULL;
    size_t nsw = 0;
    if (!rc && p.n && !(sw = calloc(p.n, sizeof *sw)))
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory publishing to the lake");
    for (size_t i = 0; i < p.n && !rc; i++) {
        struct part_seen *seen = find_seen(p.v[i].ts, p.v[i].part);
        if (!seen && p.v[i].nfiles == 0)
            continue; /* created and emptied within this run */
        sw[nsw].table = p.v[i].ts->t->name;
        sw[nsw].part = p.v[i].part;
        sw[nsw].expect_n = seen ? seen->live_n : 0;
        sw[nsw].expect_max = seen ? seen->live_max : 0;
        sw[nsw].files = p.v[i].files;
        sw[nsw].n_files = p.v[i].nfiles;
        nsw++;
    }
    struct quant_lake_file *old = NULL;
    size_t nold = 0;
    if (!rc)
        rc = quant_meta_lake_swap(meta, sw, nsw, written_by, &old, &nold, err);
    if (rc) {
        unplace(&p);
    } else {
        long removed = remove_old(lk, old, nold);
        if (stats) {
            stats->partitions = (long)nsw;
            stats->files_replaced = removed;
            for (size_t i = 0; i < p.n; i++) {
                stats->files_written += (long)p.v[i].nfiles;
                stats->rows_written += p.v[i].nfiles ? p.v[i].rows : 0;
            }
        }
    }
    free(old);
    free(sw);
    if (p.staging[0])
        quant_remove_tree(p.staging);
    for (size_t i = 0; i < p.n; i++)
        free(p.v[i].files);
    free(p.v);
    return rc;
}

enum quant_code quant_lake_stamp(struct quant_meta_store *meta, char *out, size_t n,
                                 struct quant_err *err)
{
    struct quant_lake_file *files = NULL;
    size_t nf = 0;
    enum quant_code rc = quant_meta_lake_live(meta, &files, &nf, err);
    if (rc)
        return rc;
    int64_t newest = 0;
    for (size_t k = 0; k < nf; k++)
        if (files[k].id > newest)
            newest = files[k].id;
    free(files);
    snprintf(out, n, "%zu-%lld", nf, (long long)newest);
    return QUANT_OK;
}
