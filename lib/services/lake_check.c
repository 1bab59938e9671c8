/*
 * lake_check.c: the lake folder against the registry's live files
 * (quant/lake.h): orphans, missing files, and removing old orphans.
 */
#define _GNU_SOURCE /* nftw */
#include "quant/lake.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/lake_io.h"
#include "core/banned.h"

static int cmp_path(const void *a, const void *b)
{
    return strcmp(((const struct quant_lake_file *)a)->path,
                  ((const struct quant_lake_file *)b)->path);
}

/* nftw has no context argument: one walk at a time, in this process. */
static struct walk {
    const char *root;          /* the lake folder */
    size_t root_len;
    struct quant_lake_file *live; /* sorted by path */
    size_t nlive;
    char *seen;                /* per live file: found on disk */
    long older_than;           /* -1: remove nothing */
    time_t now;
    struct quant_lake_check *out;
} walk;

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_F)
        return 0;
    size_t n = strlen(path);
    if (n < 8 || strcmp(path + n - 8, ".parquet") != 0)
        return 0;
    const char *rel = path + walk.root_len + 1;
    struct quant_lake_file key;
    snprintf(key.path, sizeof key.path, "%s", rel);
    struct quant_lake_file *hit = bsearch(&key, walk.live, walk.nlive, sizeof *walk.live, cmp_path);
    if (hit) {
        walk.seen[hit - walk.live] = 1;
        return 0;
    }
    struct quant_lake_check *o = walk.out;
    if (!o->orphans++)
        snprintf(o->first_orphan, sizeof o->first_orphan, "%s", rel);
    o->orphan_bytes += st->st_size;
    if (walk.older_than < 0)
        return 0;
    if (walk.now - st->st_mtime < walk.older_than)
        o->orphans_young++;
    else if (unlink(path) == 0)
        o->orphans_removed++;
    return 0;
}

/* Empty partition and staging folders past the age limit, deepest first
 * (rmdir refuses the others); a young one may be a run's, about to fill. */
static int prune(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    if (flag == FTW_DP && ftw->level > 0 && walk.now - st->st_mtime >= walk.older_than)
        rmdir(path);
    return 0;
}

enum quant_code quant_lake_check(struct quant_workspace *ws, long remove_older_than_s,
                                 struct quant_lake_check *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    const char *dir = quant_workspace_lake(ws);
    if (!dir)
        return quant_err_set(err, QUANT_EINVAL,
                             "not in lake mode: set QUANT_LAKE (or --lake DIR) to the lake "
                             "folder to check");
    char root[PATH_MAX];
    if (!realpath(dir, root))
        return quant_err_set(err, errno == ENOENT ? QUANT_ENOTFOUND : QUANT_EIO,
                             "cannot read the lake folder %s: %s", dir, strerror(errno));
    struct quant_meta_store *meta = quant_workspace_meta(ws, err);
    if (!meta)
        return err->code;
    struct quant_lake_file *live = NULL;
    size_t nlive = 0;
    enum quant_code rc = quant_meta_lake_live(meta, &live, &nlive, err);
    if (rc)
        return rc;
    size_t nt;
    const struct quant_lake_table *tables = quant_lake_tables(&nt);
    for (size_t i = 0; i < nt && i < QUANT_LAKE_CHECK_TABLES; i++) {
        struct quant_lake_check_table *t = &out->tables[out->ntables++];
        snprintf(t->name, sizeof t->name, "%s", tables[i].name);
        const char *last_part = NULL;
        for (size_t k = 0; k < nlive; k++) { /* ordered by (table, part, id) */
            if (strcmp(live[k].table, t->name) != 0)
                continue;
            t->files++;
            t->rows += live[k].rows > 0 ? live[k].rows : 0;
            if (!last_part || strcmp(last_part, live[k].part) != 0)
                t->parts++;
            last_part = live[k].part;
        }
    }
    qsort(live, nlive, sizeof *live, cmp_path);
    char *seen = calloc(nlive ? nlive : 1, 1);
    if (!seen) {
        free(live);
        return quant_err_set(err, QUANT_ENOMEM, "out of memory checking the lake");
    }
    walk = (struct walk){root, strlen(root), live, nlive, seen, remove_older_than_s,
                         time(NULL), out};
    /* Only the lake's own folders: a lake may share its folder with other
     * files (models/, a README) that quant never lists. */
    char sub[PATH_MAX + 64];
    for (size_t i = 0; i < nt; i++) {
        snprintf(sub, sizeof sub, "%s/%s", root, tables[i].name);
        nftw(sub, visit, 16, FTW_PHYS);
        if (remove_older_than_s >= 0)
            nftw(sub, prune, 16, FTW_PHYS | FTW_DEPTH);
    }
    snprintf(sub, sizeof sub, "%s/.quant-staging", root);
    nftw(sub, visit, 16, FTW_PHYS);
    if (remove_older_than_s >= 0)
        nftw(sub, prune, 16, FTW_PHYS | FTW_DEPTH);
    for (size_t k = 0; k < nlive; k++)
        if (!seen[k] && !out->missing++)
            snprintf(out->first_missing, sizeof out->first_missing, "%s", live[k].path);
    memset(&walk, 0, sizeof walk);
    free(seen);
    free(live);
    return QUANT_OK;
}
