/*
 * feature_store.h (internal to lib/: the services and the store use it): the
 * derived tables of the DuckDB store: materialised
 * features and labels, derived_state, predictions.
 *
 * quant reads features and labels computed from the bars (frames.h for train
 * and score, derived_read.c's views for SQL); the tables below hold them only
 * when a run asked for --materialize, as a snapshot for other DuckDB clients.
 *
 *   features_tech_v1(symbol, date, ret_1, ret_5, ... 17 DOUBLE columns)
 *   features_alpha158(symbol, date, KMID, ... 158 DOUBLE columns)
 *       one wide table per feature set, one row per (symbol, date) that has at
 *       least one value; NULL where a feature has no value (warm-up, degenerate
 *       window).  Written column-wise from the feature-major matrices with
 *       DuckDB data chunks, so a value costs a memcpy, not a call.
 *   features_daily (VIEW): symbol, date, feature, value, version
 *       the long form of every set: an UNPIVOT of the wide tables, which drops
 *       NULLs, so it has exactly one row per finite value.
 *   labels(symbol, date, horizon, fwd_return, label)
 *   derived_state(symbol, kind, input_fingerprint, rows, n_values, first_date,
 *                 last_date, computed_at, PRIMARY KEY(symbol, kind))
 *       what was last computed from which ohlcv state; kind is a set's name
 *       ("tech-v1") or "labels:h5".  Lets a rerun skip up-to-date symbols and
 *       lets status report without counting big tables.
 *
 * Every write replaces a symbol's rows for a set (or a horizon) inside one
 * transaction with its derived_state row: a crash halfway leaves the old
 * values and the old state, so the next run recomputes.
 */
#ifndef QUANT_FEATURE_STORE_H
#define QUANT_FEATURE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "quant/bars.h"
#include "quant/error.h"
#include "quant/feature_sets.h"
#include "quant/series_store.h"

/* Create the tables and the features_daily view if missing (read-write store). */
enum quant_code quant_feature_store_init(struct quant_series_store *store,
                                         struct quant_err *err);

/* The table a set is stored in ("features_tech_v1"); out must hold 64 bytes. */
void quant_feature_store_table(const struct quant_feature_set *set, char out[64]);

#define QUANT_FINGERPRINT_MAX 96

/* A symbol's ohlcv state: rows, first and last date, last ingested_at. */
struct quant_input_state {
    char symbol[QUANT_SYMBOL_MAX + 1];
    char fingerprint[QUANT_FINGERPRINT_MAX];
    long bars;
};

/* Every symbol with bars, sorted by symbol.  *out malloc'd; caller frees. */
enum quant_code quant_feature_store_inputs(struct quant_series_store *store,
                                           struct quant_input_state **out, size_t *out_n,
                                           struct quant_err *err);

struct quant_derived_state {
    char symbol[QUANT_SYMBOL_MAX + 1];
    char kind[32];                          /* "tech-v1", "labels:h5" */
    char fingerprint[QUANT_FINGERPRINT_MAX];
    long rows;                              /* rows written */
    long values;                            /* finite values written */
    int32_t first_date, last_date;          /* 0 when no rows */
    int64_t computed_at;                    /* unix seconds */
    int materialized;                       /* the values are stored in the table too */
};

/* All derived_state rows (kind NULL = every kind), sorted by symbol then kind. */
enum quant_code quant_feature_store_states(struct quant_series_store *store, const char *kind,
                                           struct quant_derived_state **out, size_t *out_n,
                                           struct quant_err *err);

/* One symbol's computed matrix, ready to store. */
struct quant_derived_write {
    const char *symbol;
    const int32_t *dates;                   /* m->n_rows dates, ascending */
    const struct quant_feature_matrix *m;   /* feature-major values + validity */
    const char *fingerprint;                /* the input state it was computed from */
    long out_rows;                          /* set by the write: rows with a value */
    long out_values;                        /* set by the write: finite values */
    /*
     * 0: store the rows in the set's table (materialise: a snapshot for other
     * DuckDB clients).  1: record only derived_state (what was verified,
     * computed from which bars) and delete the symbol's stored rows, so a
     * table never holds values older than its derived_state says.  quant
     * itself reads features computed on read (frames.h, derived_read.c)
     * either way.
     */
    int state_only;
};

/*
 * derived_state.input_fingerprint of a materialised write: the input's plus
 * this mark (quant_feature_store_states strips it into .materialized).
 */
#define QUANT_MATERIALIZED_MARK "|m"

/*
 * Replace the set's rows of each item's symbol, and its derived_state, in one
 * transaction for the whole batch (all or nothing).
 */
enum quant_code quant_feature_store_write(struct quant_series_store *store,
                                          const struct quant_feature_set *set,
                                          struct quant_derived_write *items, size_t n,
                                          struct quant_err *err);

/* The same for labels of one horizon (m holds fwd_ret then label, 2 x n). */
enum quant_code quant_label_store_write(struct quant_series_store *store, int horizon,
                                        struct quant_derived_write *items, size_t n,
                                        struct quant_err *err);

/*
 * One symbol's features (and labels of one horizon) as matrices, for
 * training and scoring (frames.h computes them from the bars).  dates
 * ascending; the features matrix is feature-major in the set's order (valid =
 * 0 where a value does not exist); labels is 2 x n (fwd_return, label) with
 * valid = 0 where no label exists (the newest dates).  A frame from
 * frames.h borrows its arrays; release only a frame that owns them.
 */
struct quant_training_frame {
    size_t n;
    int32_t *dates;                        /* n dates */
    const double *close;                   /* n adjusted closes C_t (FEATURES.md), as
                                              the labels use them; borrowed, never freed
                                              here (NULL when the maker has none) */
    struct quant_feature_matrix features;
    struct quant_feature_matrix labels;
};

void quant_training_frame_release(struct quant_training_frame *f);

/*
 * Which part of the model's data a scored row was, stored beside every score
 * so that nobody judges a model on its training rows by accident:
 *   train, valid, test   the row was in that segment of the model's split
 *   embargo              dropped between segments (its label looks into the next)
 *   unlabelled           the newest dates, whose forward return is not known yet
 *   unseen               labelled, yet never shown to the model: dates after its
 *                        test segment (newer bars) or a symbol it was not trained on
 * Only test and unseen rows are out of sample.
 */
enum quant_prediction_segment {
    QUANT_SEGMENT_TRAIN,
    QUANT_SEGMENT_EMBARGO,
    QUANT_SEGMENT_VALID,
    QUANT_SEGMENT_TEST,
    QUANT_SEGMENT_UNLABELLED,
    QUANT_SEGMENT_UNSEEN,
};
#define QUANT_SEGMENT_COUNT 6

/* The stored name of a segment ("train", ...); never NULL. */
const char *quant_prediction_segment_name(enum quant_prediction_segment s);

/* One symbol's scores from one model, for quant_prediction_store_write_many. */
struct quant_prediction_batch {
    const char *symbol;
    const char *model_id;
    const int32_t *dates;
    const double *scores;
    const uint8_t *segments;    /* enum quant_prediction_segment per row */
    size_t n;
};

/*
 * predictions(symbol, date, model_id, score, segment): write many (symbol,
 * model) score series in ONE transaction, each replacing that pair's rows
 * (old rows deleted, new ones appended; no index).  Not while a scan of the
 * bars is running: a statement on the store's connection would end it.
 */
enum quant_code quant_prediction_store_write_many(struct quant_series_store *store,
                                                  const struct quant_prediction_batch *items,
                                                  size_t n, struct quant_err *err);

/*
 * Bulk mode: derived tables are written uncompressed while it is on (measured
 * nearly twice as fast to write, a quarter larger).  The setting is
 * database-wide: turn it on before a bulk write and off after it.
 */
enum quant_code quant_feature_store_bulk(struct quant_series_store *store, int on,
                                         struct quant_err *err);

/*
 * Writer sessions: extra connections into the same open store, so several
 * threads can write different symbols at once (DuckDB builds each
 * connection's rows in parallel; one process still holds the one writer
 * lock).  A session is used by one thread at a time and closed before the
 * store.  Writes as quant_feature_store_write / quant_label_store_write.
 */
struct quant_feature_session;
enum quant_code quant_feature_session_open(struct quant_series_store *store,
                                           struct quant_feature_session **out,
                                           struct quant_err *err);
void quant_feature_session_close(struct quant_feature_session *session);
enum quant_code quant_feature_session_write(struct quant_feature_session *session,
                                            const struct quant_feature_set *set,
                                            struct quant_derived_write *items, size_t n,
                                            struct quant_err *err);
enum quant_code quant_label_session_write(struct quant_feature_session *session, int horizon,
                                          struct quant_derived_write *items, size_t n,
                                          struct quant_err *err);

/*
 * Read the bars of many symbols in one pass (symbol order, dates ascending)
 * and hand each symbol's series to cb; cb returns 0 to go on, non-zero to
 * stop (the scan then returns QUANT_OK).  The series passed to cb is only
 * valid during the call, but cb may take its array instead of copying it: swap
 * *bars with a series of its own (an empty one will do); the scan frees
 * whatever it finds there afterwards.  want (sorted, may be NULL = all)
 * limits the symbols.
 */
typedef int (*quant_bars_cb)(void *ctx, struct quant_bars *bars);
enum quant_code quant_series_store_scan_bars(struct quant_series_store *store,
                                             const char *const *want, size_t n_want,
                                             quant_bars_cb cb, void *ctx,
                                             struct quant_err *err);

#endif
