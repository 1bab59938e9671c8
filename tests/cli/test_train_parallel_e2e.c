/*
 * test_train_parallel_e2e.c: per-symbol models trained several at once
 * (--threads 2: two models at a time, one library thread each) against the
 * same run one model at a time (--threads 1), through the real binary, in
 * two homes holding the same synthetic bars.  Both runs train every model
 * with one library thread, so LightGBM (deterministic=true) and XGBoost
 * must give the very same models: the same metrics, params, fingerprints
 * and model files byte for byte.  The parallel run still reports in symbol
 * order, skips the symbol whose history is too short among good ones, and
 * leaves exactly one file per registered model.
 */
#include "test_util.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static char home[2][PATH_MAX];
static char env_home[2][PATH_MAX + 16];

/* BSHORT sorts among the good ones: its SKIP must come in its turn. */
static const char *const good[] = {"AAA", "BBB", "CCC", "DDD", "EEE"};
#define N_GOOD (sizeof good / sizeof *good)

static void run_ok(struct tu_result *r)
{
    if (r->status != 0)
        fail_msg("quant exited %d: %s", r->status, r->err);
}

static void run_in(int h, const char *const *argv, struct tu_result *r)
{
    tu_run_quant(argv, (const char *const[]){env_home[h], NULL}, r);
}

static int setup(void **state)
{
    (void)state;
    for (int h = 0; h < 2; h++) {
        tu_mkdtemp(home[h]);
        snprintf(env_home[h], sizeof env_home[h], "QUANT_HOME=%s", home[h]);
        struct tu_result r;
        run_in(h, (const char *const[]){"ingest", "--provider", "synthetic", "--days", "1500",
                                        "--symbols", "AAA", "BBB", "CCC", "DDD", "EEE", NULL},
               &r);
        run_ok(&r);
        tu_result_release(&r);
        /* 300 bars leave fewer than the 200 train rows a model needs */
        run_in(h, (const char *const[]){"ingest", "--provider", "synthetic", "--days", "300",
                                        "--symbols", "BSHORT", NULL},
               &r);
        run_ok(&r);
        tu_result_release(&r);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int h = 0; h < 2; h++)
        if (home[h][0])
            tu_rmrf(home[h]);
    return 0;
}

static cJSON *models_json(int h)
{
    struct tu_result r;
    run_in(h, (const char *const[]){"models", "list", "--json", NULL}, &r);
    run_ok(&r);
    cJSON *list = cJSON_Parse(r.out);
    tu_result_release(&r);
    assert_non_null(list);
    return list;
}

/* The model of `algo` trained on `symbol` in list (exactly one). */
static const cJSON *model_of(const cJSON *list, const char *algo, const char *symbol)
{
    const cJSON *found = NULL, *m;
    cJSON_ArrayForEach(m, list) {
        const cJSON *syms = cJSON_GetObjectItem(m, "symbols");
        if (strcmp(cJSON_GetObjectItem(m, "algorithm")->valuestring, algo) == 0 &&
            cJSON_GetArraySize(syms) == 1 &&
            strcmp(cJSON_GetArrayItem(syms, 0)->valuestring, symbol) == 0) {
            if (found)
                fail_msg("two %s models for %s", algo, symbol);
            found = m;
        }
    }
    if (!found)
        fail_msg("no %s model for %s", algo, symbol);
    return found;
}

/* `models show ID`'s fingerprint line. */
static void fingerprint_of(int h, const char *id, char out[64])
{
    struct tu_result r;
    run_in(h, (const char *const[]){"models", "show", id, NULL}, &r);
    run_ok(&r);
    const char *p = strstr(r.out, "fingerprint: ");
    assert_non_null(p);
    assert_int_equal(sscanf(p, "fingerprint: %63s", out), 1);
    tu_result_release(&r);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int files_in(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void train_both(const char *algo)
{
    static const char *const threads[2] = {"1", "2"};
    for (int h = 0; h < 2; h++) {
        struct tu_result r;
        run_in(h, (const char *const[]){"train", "--all", "--algo", algo, "--rounds", "15",
                                        "--early-stopping", "5", "--threads", threads[h], NULL},
               &r);
        run_ok(&r);
        assert_non_null(strstr(r.out, "Done: 5 trained, 1 skipped (too little data), 0 failed"));
        assert_non_null(strstr(r.err, "SKIP BSHORT: BSHORT: only "));
        /* in symbol order, each once, whatever order the models finished in */
        const char *at = r.out;
        for (size_t i = 0; i < N_GOOD; i++) {
            char needle[64];
            snprintf(needle, sizeof needle, " for %s... (Acc:", good[i]);
            assert_int_equal(tu_count(r.out, needle), 1);
            const char *p = strstr(at, needle);
            if (!p)
                fail_msg("--threads %s: %s reported out of order:\n%s", threads[h], good[i],
                         r.out);
            at = p;
        }
        tu_result_release(&r);
    }
}

static void compare(const char *algo)
{
    cJSON *list[2] = {models_json(0), models_json(1)};
    for (size_t i = 0; i < N_GOOD; i++) {
        const cJSON *m[2] = {model_of(list[0], algo, good[i]), model_of(list[1], algo, good[i])};
        /* one library thread per model in both runs, and recorded as such */
        for (int h = 0; h < 2; h++) {
            const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(m[h], "params"), "threads");
            assert_true(cJSON_IsNumber(t));
            assert_int_equal(t->valueint, 1);
        }
        if (!cJSON_Compare(cJSON_GetObjectItem(m[0], "metrics"),
                           cJSON_GetObjectItem(m[1], "metrics"), 1) ||
            !cJSON_Compare(cJSON_GetObjectItem(m[0], "params"),
                           cJSON_GetObjectItem(m[1], "params"), 1))
            fail_msg("%s %s: --threads 2 trained another model than --threads 1", algo,
                     good[i]);
        char fp[2][64];
        for (int h = 0; h < 2; h++)
            fingerprint_of(h, cJSON_GetObjectItem(m[h], "id")->valuestring, fp[h]);
        assert_string_equal(fp[0], fp[1]);
        size_t len[2];
        char *bytes[2];
        for (int h = 0; h < 2; h++)
            bytes[h] = slurp(cJSON_GetObjectItem(m[h], "path")->valuestring, &len[h]);
        assert_int_equal(len[0], len[1]);
        assert_memory_equal(bytes[0], bytes[1], len[0]);
        free(bytes[0]);
        free(bytes[1]);
    }
    /* every registered model has its file, and no file is unregistered */
    for (int h = 0; h < 2; h++) {
        char dir[PATH_MAX + 16];
        snprintf(dir, sizeof dir, "%s/models", home[h]);
        assert_int_equal(files_in(dir), cJSON_GetArraySize(list[h]));
    }
    cJSON_Delete(list[0]);
    cJSON_Delete(list[1]);
}

static void test_parallel_equals_serial(void **state)
{
    (void)state;
    train_both("xgboost");
    compare("xgboost");
    train_both("lightgbm");
    compare("lightgbm");
}

/* A pooled model keeps every thread: one model, trained with --threads. */
static void test_pooled_uses_all_threads(void **state)
{
    (void)state;
    struct tu_result r;
    run_in(1, (const char *const[]){"train", "--all", "--pooled", "--rounds", "5", "--threads",
                                    "2", NULL},
           &r);
    run_ok(&r);
    assert_non_null(strstr(r.out, "pooled (5 of 6 symbols)"));
    tu_result_release(&r);
    cJSON *list = models_json(1);
    const cJSON *newest = cJSON_GetArrayItem(list, 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(newest, "symbols")), 5);
    const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(newest, "params"), "threads");
    assert_int_equal(t->valueint, 2);
    cJSON_Delete(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_equals_serial),
        cmocka_unit_test(test_pooled_uses_all_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
