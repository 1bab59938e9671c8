/*
 * test_ml_e2e.c: quant train / score / models through the real binary on a
 * real price history: the output and registry row, the split the spec
 * defines (sizes, order, embargo), predictions for every date with complete
 * features including the unlabelled newest ones, both backends, and the
 * clear errors (bad param, feature-list mismatch, nothing trained).
 */
#include "test_util.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <string.h>

static char home[PATH_MAX];
static char env_home[PATH_MAX + 16];

#define ENV ((const char *const[]){env_home, NULL})
#define RUN(res, ...) tu_run_quant((const char *const[]){__VA_ARGS__, NULL}, ENV, (res))

static void run_ok(struct tu_result *r)
{
    if (r->status != 0)
        fail_msg("quant exited %d: %s", r->status, r->err);
}

static long sql_long(const char *sql)
{
    struct tu_result r;
    RUN(&r, "sql", sql, "--csv");
    run_ok(&r);
    long v = strtol(strchr(r.out, '\n') + 1, NULL, 10);
    tu_result_release(&r);
    return v;
}

static int setup(void **state)
{
    (void)state;
    if (!tu_shared_data())
        return 0; /* the tests skip themselves */
    tu_mkdtemp(home);
    snprintf(env_home, sizeof env_home, "QUANT_HOME=%s", home);
    char path[PATH_MAX];
    tu_shared_path(path, "ohlcv/AAPL_yahoo_daily.csv");
    struct tu_result r;
    RUN(&r, "ingest", "--csv", path, "--symbols", "AAPL");
    run_ok(&r);
    tu_result_release(&r);
    RUN(&r, "features");
    run_ok(&r);
    tu_result_release(&r);
    RUN(&r, "labels", "--horizon", "5");
    run_ok(&r);
    tu_result_release(&r);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (home[0])
        tu_rmrf(home);
    return 0;
}

/* The model id printed by train ("Model ID saved and registered."). */
static void model_id(const char *out, char id[128])
{
    const char *p = strstr(out, "Model ");
    assert_non_null(p);
    sscanf(p, "Model %127s saved", id);
}

static void test_train_registers_with_spec_split(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    struct tu_result r;
    RUN(&r, "train", "--symbols", "AAPL");
    run_ok(&r);
    assert_non_null(strstr(r.out, "INFO Training LightGBM for AAPL... (Acc: "));
    /* each metric beside what it must beat */
    assert_non_null(strstr(r.out, " vs baseline "));
    assert_non_null(strstr(r.out, " vs 0.5"));
    assert_non_null(strstr(r.out, "Done: 1 trained, 0 skipped"));
    char id[128];
    model_id(r.out, id);
    assert_int_equal(strncmp(id, "lgb_AAPL_", 9), 0);
    tu_result_release(&r);

    /* `latest` names the same model in `models show` as in `score --model` */
    RUN(&r, "models", "show", "latest");
    run_ok(&r);
    char want[160];
    snprintf(want, sizeof want, "id:          %s\n", id);
    assert_non_null(strstr(r.out, want));
    tu_result_release(&r);
    RUN(&r, "models", "show", "latest", "--symbol", "aapl");
    run_ok(&r);
    assert_non_null(strstr(r.out, want));
    tu_result_release(&r);
    RUN(&r, "models", "show", "latest", "--symbol", "NVDA");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "no model has been trained on NVDA"));
    tu_result_release(&r);
    /* --json: parsed fields, symbols an array */
    RUN(&r, "models", "list", "--json");
    run_ok(&r);
    cJSON *list = cJSON_Parse(r.out);
    assert_true(cJSON_IsArray(list));
    cJSON *m0 = cJSON_GetArrayItem(list, 0);
    assert_string_equal(cJSON_GetObjectItem(m0, "id")->valuestring, id);
    cJSON *syms = cJSON_GetObjectItem(m0, "symbols");
    assert_true(cJSON_IsArray(syms));
    assert_string_equal(cJSON_GetArrayItem(syms, 0)->valuestring, "AAPL");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(m0, "metrics"), "auc")));
    assert_non_null(cJSON_GetObjectItem(m0, "warning"));
    cJSON_Delete(list);
    tu_result_release(&r);

    RUN(&r, "models", "show", id);
    run_ok(&r);
    const char *keys[] = {"\"accuracy\"", "\"precision\"", "\"recall\"", "\"f1\"", "\"auc\"",
                          "\"logloss\"", "\"base_rate\"", "\"baseline_accuracy\"",
                          "\"n_train\"", "\"n_valid\"", "\"n_test\""};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!strstr(r.out, keys[i]))
            fail_msg("models show lacks %s", keys[i]);
    tu_result_release(&r);

    /* The split, recomputed from the store: N dates with every feature and a label. */
    long n = sql_long("SELECT count(*) FROM features_tech_v1 f JOIN labels l USING (symbol, date)"
                      " WHERE l.horizon = 5 AND f.ret_1 IS NOT NULL AND f.ret_5 IS NOT NULL AND"
                      " f.ret_20 IS NOT NULL AND f.vol_20 IS NOT NULL AND f.sma_ratio_10 IS NOT"
                      " NULL AND f.sma_ratio_50 IS NOT NULL AND f.sma_cross_10_50 IS NOT NULL"
                      " AND f.rsi_14 IS NOT NULL AND f.macd IS NOT NULL AND f.macd_signal IS NOT"
                      " NULL AND f.macd_hist IS NOT NULL AND f.bb_pctb_20 IS NOT NULL AND"
                      " f.atr_ratio_14 IS NOT NULL AND f.vol_z_20 IS NOT NULL AND f.hl_range IS"
                      " NOT NULL AND f.gap IS NOT NULL AND f.stoch_k_14 IS NOT NULL");
    long n_test = n / 5, n_valid_all = n / 10, h = 5;
    long n_train = n - n_test - n_valid_all - h, n_valid = n_valid_all - h;

    /* ... against what the registry says, read with SQLite directly */
    char db_path[PATH_MAX + 16];
    snprintf(db_path, sizeof db_path, "%s/meta.sqlite", home);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT segments, metrics, model_path FROM models"
                                            " WHERE id = ?1", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    cJSON *seg = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
    cJSON *met = cJSON_Parse((const char *)sqlite3_column_text(st, 1));
    char model_path[PATH_MAX];
    snprintf(model_path, sizeof model_path, "%s", (const char *)sqlite3_column_text(st, 2));
    sqlite3_finalize(st);
    sqlite3_close(db);
    cJSON *a = cJSON_GetObjectItem(seg, "AAPL");
    assert_non_null(a);
    assert_int_equal((long)cJSON_GetObjectItem(a, "n_train")->valuedouble, n_train);
    assert_int_equal((long)cJSON_GetObjectItem(a, "n_valid")->valuedouble, n_valid);
    assert_int_equal((long)cJSON_GetObjectItem(a, "n_test")->valuedouble, n_test);
    assert_int_equal((long)cJSON_GetObjectItem(met, "n_test")->valuedouble, n_test);
    /* segments in time order and not overlapping; the embargo rows lie between */
    const char *train_last = cJSON_GetArrayItem(cJSON_GetObjectItem(a, "train"), 1)->valuestring;
    const char *valid_first = cJSON_GetArrayItem(cJSON_GetObjectItem(a, "valid"), 0)->valuestring;
    const char *valid_last = cJSON_GetArrayItem(cJSON_GetObjectItem(a, "valid"), 1)->valuestring;
    const char *test_first = cJSON_GetArrayItem(cJSON_GetObjectItem(a, "test"), 0)->valuestring;
    assert_true(strcmp(train_last, valid_first) < 0);
    assert_true(strcmp(valid_last, test_first) < 0);
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM labels WHERE symbol='AAPL' AND horizon=5 AND"
                              " date > '%s' AND date < '%s'", train_last, valid_first);
    assert_int_equal(sql_long(sql), h); /* exactly the embargo */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM labels WHERE symbol='AAPL' AND horizon=5 AND"
                              " date > '%s' AND date < '%s'", valid_last, test_first);
    assert_int_equal(sql_long(sql), h);
    cJSON_Delete(seg);
    cJSON_Delete(met);
    /* the model file is LightGBM's own text format */
    char *text = tu_read_file(model_path, NULL);
    assert_int_equal(strncmp(text, "tree", 4), 0);
    free(text);
}

static void test_score_covers_unlabelled_dates(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    struct tu_result r;
    RUN(&r, "score", "--symbols", "AAPL");
    assert_int_equal(r.status, 1); /* nothing trained yet: a clear failure */
    assert_non_null(strstr(r.err, "no model has been trained on AAPL"));
    tu_result_release(&r);
    RUN(&r, "train", "--symbols", "AAPL", "--algo", "xgboost", "--rounds", "50");
    run_ok(&r);
    char id[128];
    model_id(r.out, id);
    assert_int_equal(strncmp(id, "xgb_AAPL_", 9), 0);
    tu_result_release(&r);
    RUN(&r, "score", "--symbols", "AAPL");
    run_ok(&r);
    long complete = sql_long("SELECT count(*) FROM features_tech_v1 WHERE symbol='AAPL' AND"
                             " stoch_k_14 IS NOT NULL AND ret_20 IS NOT NULL AND vol_20 IS NOT"
                             " NULL AND sma_ratio_50 IS NOT NULL AND macd_signal IS NOT NULL AND"
                             " vol_z_20 IS NOT NULL AND bb_pctb_20 IS NOT NULL");
    char want[160];
    snprintf(want, sizeof want, "predictions for AAPL using %s", id);
    assert_non_null(strstr(r.out, want));
    tu_result_release(&r);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM predictions WHERE model_id = '%s'", id);
    assert_int_equal(sql_long(sql), complete);
    /* the newest dates have no label, and are scored */
    assert_int_equal(sql_long("SELECT count(*) FROM predictions p WHERE NOT EXISTS (SELECT 1"
                              " FROM labels l WHERE l.symbol = p.symbol AND l.date = p.date)"),
                     5);
    /* scoring again replaces, with identical scores (the model is reloaded from its file) */
    snprintf(sql, sizeof sql, "SELECT CAST(sum(score) * 1e9 AS BIGINT) FROM predictions");
    long sum1 = sql_long(sql);
    RUN(&r, "score", "--symbols", "AAPL", "--model", id);
    run_ok(&r);
    tu_result_release(&r);
    assert_int_equal(sql_long(sql), sum1);
    assert_int_equal(sql_long("SELECT count(*) FROM predictions"), complete);
    /* a registered model whose file is gone: said before anything is read
     * (the file is checked up front, loaded only when its symbol comes) */
    char path[PATH_MAX + 160];
    snprintf(path, sizeof path, "%s/models/%s.json", home, id);
    assert_int_equal(remove(path), 0);
    RUN(&r, "score", "--symbols", "AAPL", "--model", id);
    assert_int_equal(r.status, 1);
    if (!strstr(r.err, "model file") || !strstr(r.err, "not found"))
        fail_msg("unclear message: %s", r.err);
    tu_result_release(&r);
    assert_int_equal(sql_long(sql), sum1); /* the stored scores are left alone */
}

static void test_errors(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    struct tu_result r;
    RUN(&r, "train", "--symbols", "AAPL", "--param", "num_leavez=31");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "num_leavez"));
    tu_result_release(&r);
    /* features are computed on read: no `quant features --set alpha158` run needed */
    RUN(&r, "train", "--symbols", "AAPL", "--features", "alpha158", "--rounds", "5");
    run_ok(&r);
    assert_non_null(strstr(r.out, "Done: 1 trained, 0 skipped"));
    tu_result_release(&r);
    RUN(&r, "train", "--symbols", "AAPL", "--rounds", "30");
    run_ok(&r);
    char id[128];
    model_id(r.out, id);
    tu_result_release(&r);
    /* a registry row whose feature list no longer matches the stored set */
    char db_path[PATH_MAX + 16];
    snprintf(db_path, sizeof db_path, "%s/meta.sqlite", home);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE models SET feature_names = '[\"ret_1\"]'", NULL,
                                  NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    RUN(&r, "score", "--symbols", "AAPL", "--model", id);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "differs from the stored"));
    tu_result_release(&r);
    RUN(&r, "models", "show", "nope");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "quant models list"));
    tu_result_release(&r);
}

/* Enough symbols that scoring stores a batch while it is still reading
 * features (over 512k rows): every symbol must still be scored. */
static void test_score_many_symbols(void **state)
{
    (void)state;
    char h2[PATH_MAX], env2[PATH_MAX + 16];
    tu_mkdtemp(h2);
    snprintf(env2, sizeof env2, "QUANT_HOME=%s", h2);
    const char *env[] = {env2, NULL};
    enum { N = 90 };
    const char *argv[N + 8];
    char names[N][8];
    struct tu_result r;
    int k = 0;
    argv[k++] = "ingest";
    argv[k++] = "--provider";
    argv[k++] = "synthetic";
    argv[k++] = "--days";
    argv[k++] = "6000";
    argv[k++] = "--symbols";
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "M%03d", i);
        argv[k++] = names[i];
    }
    argv[k] = NULL;
    tu_run_quant(argv, env, &r);
    run_ok(&r);
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"features", NULL}, env, &r);
    run_ok(&r);
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"labels", NULL}, env, &r);
    run_ok(&r);
    tu_result_release(&r);
    /* a symbol too short to train on: 300 bars leave fewer than 200 train rows */
    tu_run_quant((const char *const[]){"ingest", "--provider", "synthetic", "--days", "300",
                                       "--symbols", "SHORT", NULL}, env, &r);
    run_ok(&r);
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"features", "--symbols", "SHORT", NULL}, env, &r);
    run_ok(&r);
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"labels", "--symbols", "SHORT", NULL}, env, &r);
    run_ok(&r);
    tu_result_release(&r);
    /* per symbol: SHORT is skipped with its reason, the run still succeeds */
    tu_run_quant((const char *const[]){"train", "--rounds", "5", "--symbols", "M003", "SHORT",
                                       NULL}, env, &r);
    run_ok(&r);
    assert_non_null(strstr(r.err, "SKIP SHORT: SHORT: only "));
    assert_non_null(strstr(r.out, "Done: 1 trained, 1 skipped (too little data), 0 failed"));
    tu_result_release(&r);
    /* only short symbols: nothing trained, a failure that says why */
    tu_run_quant((const char *const[]){"train", "--symbols", "SHORT", NULL}, env, &r);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "no symbol had enough data"));
    tu_result_release(&r);

    /* pooled: trained on the first three, SHORT left out and recorded with why */
    tu_run_quant((const char *const[]){"train", "--pooled", "--rounds", "10", "--symbols",
                                       "M000", "M001", "SHORT", "M002", NULL}, env, &r);
    run_ok(&r);
    assert_non_null(strstr(r.out, "pooled (3 of 4 symbols)"));
    assert_non_null(strstr(r.out, "left out SHORT: SHORT: only "));
    char id[128];
    model_id(r.out, id);
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"models", "list", "--json", NULL}, env, &r);
    run_ok(&r);
    cJSON *list = cJSON_Parse(r.out);
    cJSON *pooled = cJSON_GetArrayItem(list, 0);
    assert_string_equal(cJSON_GetObjectItem(pooled, "id")->valuestring, id);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(pooled, "symbols")), 3);
    cJSON *excl = cJSON_GetObjectItem(cJSON_GetObjectItem(pooled, "params"), "excluded");
    assert_non_null(strstr(cJSON_GetObjectItem(excl, "SHORT")->valuestring, "train rows"));
    cJSON_Delete(list);
    tu_result_release(&r);
    argv[0] = "score";
    argv[1] = "--model";
    argv[2] = id;
    argv[3] = "--symbols";
    for (int i = 0; i < N; i++)
        argv[4 + i] = names[i];
    argv[4 + N] = NULL;
    tu_run_quant(argv, env, &r);
    run_ok(&r);
    assert_int_equal(tu_count(r.out, "Saved "), N);
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"sql", "SELECT count(DISTINCT symbol), count(*) >= 500000"
                                       " FROM predictions", "--csv", NULL}, env, &r);
    run_ok(&r);
    assert_non_null(strstr(r.out, "\n90,true\n"));
    tu_result_release(&r);

    /* Every row says what it was to the pooled model: M000 was trained on
     * (all five kinds of rows), M050 never (unseen, and the newest unlabelled). */
    tu_run_quant((const char *const[]){"sql", "SELECT string_agg(segment || '=' || n, ' '"
                                       " ORDER BY segment) FROM (SELECT segment, count(*) AS n"
                                       " FROM predictions WHERE symbol = 'M050' GROUP BY 1)",
                                       "--csv", NULL}, env, &r);
    run_ok(&r);
    assert_non_null(strstr(r.out, "unlabelled=5 unseen="));
    assert_null(strstr(r.out, "train"));
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"sql", "SELECT count(DISTINCT segment), count(*) FILTER"
                                       " (segment = 'unlabelled'), count(*) FILTER (segment IS"
                                       " NULL) FROM predictions WHERE symbol = 'M000'", "--csv",
                                       NULL}, env, &r);
    run_ok(&r);
    assert_non_null(strstr(r.out, "\n5,5,0\n"));
    tu_result_release(&r);
    /* ... and the train rows are exactly the registry's n_train for M000 */
    char sqlq[256];
    snprintf(sqlq, sizeof sqlq, "SELECT count(*) FROM predictions WHERE symbol = 'M000' AND"
                                " segment = 'train' AND model_id = '%s'", id);
    tu_run_quant((const char *const[]){"sql", sqlq, "--csv", NULL}, env, &r);
    run_ok(&r);
    long train_rows = strtol(strchr(r.out, '\n') + 1, NULL, 10);
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"models", "show", id, NULL}, env, &r);
    run_ok(&r);
    const char *seg = strstr(r.out, "segments: ");
    assert_non_null(seg);
    cJSON *sj = cJSON_Parse(seg + strlen("segments: "));
    assert_non_null(sj);
    assert_int_equal((long)cJSON_GetObjectItem(cJSON_GetObjectItem(sj, "M000"), "n_train")
                         ->valuedouble, train_rows);
    cJSON_Delete(sj);
    tu_result_release(&r);
    tu_rmrf(h2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_train_registers_with_spec_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_score_covers_unlabelled_dates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test(test_score_many_symbols),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
