/*
 * frames.h: features and labels computed from the stored bars when they are
 * read, for training and scoring.
 *
 *     ohlcv --one scan--> bars --(worker threads: adjust, features, labels)-->
 *           frames, handed to the caller in symbol order on its own thread
 *
 * Why: computing a feature set costs about a tenth of storing it (tech-v1 on
 * 500 x 6,500 bars: 0.6 CPU-s of kernels against 3-9 s to write and read back
 * the table), so train and score compute what they need from the bars, which
 * are always current, instead of loading materialised tables that may be
 * stale.  The values are the ones `quant features` and `quant labels` would
 * store: the same kernels on the same adjusted series.
 *
 * At most a few frames wait in memory (the window), so an alpha158 scan of
 * any number of symbols needs a few tens of MB, not the whole matrix.
 */
#ifndef QUANT_FRAMES_H
#define QUANT_FRAMES_H

#include <stddef.h>

#include "quant/error.h"
#include "store/feature_store.h"
#include "quant/feature_sets.h"
#include "quant/series_store.h"

struct quant_frames_request {
    const struct quant_feature_set *set;  /* NULL: no features (an empty matrix) */
    int horizon;                          /* > 0: labels of that horizon; 0: none */
    const char *const *want;              /* symbols, sorted and unique; NULL = all */
    size_t n_want;
    int threads;                          /* compute threads; 0 = 2 */
};

/*
 * One symbol's frame, valid only during the callback.  frame->n is the number
 * of bars (every stored date, ascending); features is feature-major in the
 * set's order, labels 2 x n (fwd_return, label); valid = 0 where a value does
 * not exist (warm-up, the newest h dates, across a gap).  On a compute
 * failure (bars out of order, out of memory) frame is NULL and code/error say
 * why; the scan goes on with the next symbol.
 */
struct quant_frame_item {
    const char *symbol;
    const struct quant_training_frame *frame;
    enum quant_code code;
    const char *error;
};

/* Return 0 to go on, non-zero to stop the scan (it then returns QUANT_OK). */
typedef int (*quant_frames_cb)(void *ctx, const struct quant_frame_item *item);

/*
 * Scan the store's bars once and hand each wanted symbol's frame to cb, in
 * symbol order, on the calling thread.  A wanted symbol with no bars is not
 * reported (the caller sees it missing).  cb must not run statements on the
 * store's DuckDB connection (the scan is reading from it); the metadata store
 * and files are fine.  Fails only when the store cannot be read.
 */
enum quant_code quant_frames_scan(struct quant_series_store *store,
                                  const struct quant_frames_request *req, quant_frames_cb cb,
                                  void *ctx, struct quant_err *err);

#endif
