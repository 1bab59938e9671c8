/*
 * lake.h: checking a Parquet lake against its registry (lake mode: the
 * series as Parquet files under QUANT_LAKE, the metadata store listing the
 * live ones; README "Scaling out").
 *
 * Two things can disagree, and neither is visible from inside quant, which
 * reads only the live files:
 *   - orphans: files under the lake's tables that the registry does not list
 *     as live.  A run killed between moving its files into place and
 *     swapping them in leaves some; so does one killed before it deleted the
 *     files it replaced.  A plain engine globbing the folder would read them
 *     too.  Safe to remove once no run can still be publishing them.
 *   - missing: live files that are not on disk (deleted by hand, a damaged
 *     share).  quant's reads of those partitions fail until the command that
 *     wrote them runs again.
 *
 * Ownership: everything is caller-owned.
 */
#ifndef QUANT_LAKE_H
#define QUANT_LAKE_H

#include <stdint.h>

#include "quant/error.h"
#include "quant/workspace.h"

#define QUANT_LAKE_CHECK_TABLES 16

struct quant_lake_check_table {
    char name[64];
    long files;   /* live */
    int64_t rows;
    long parts;   /* partitions with a live file */
};

struct quant_lake_check {
    struct quant_lake_check_table tables[QUANT_LAKE_CHECK_TABLES];
    int ntables;              /* every lake table, in load order */
    long orphans;             /* on disk, not live */
    long orphans_young;       /* of them, newer than the age limit: kept */
    long orphans_removed;
    int64_t orphan_bytes;
    char first_orphan[512];   /* relative to the lake; "" when none */
    long missing;             /* live, not on disk */
    char first_missing[512];
};

/*
 * Compare the lake folder with the registry's live files.  With
 * remove_older_than_s >= 0, orphans whose file is at least that many seconds
 * old are deleted (and staging folders left empty); younger ones are kept,
 * since a run may be between its move and its swap.  -1: remove nothing.
 * QUANT_EINVAL outside lake mode.  Never touches a live file or the
 * registry.
 */
enum quant_code quant_lake_check(struct quant_workspace *ws, long remove_older_than_s,
                                 struct quant_lake_check *out, struct quant_err *err);

#endif
