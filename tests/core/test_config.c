/* test_config.c: precedence flag > environment > quant.conf > default, errors,
 * masking of secrets, and the metadata store URL (meta_url). */
#include "test_util.h"

#include <string.h>

#include "quant/config.h"

static char home[PATH_MAX];

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(home);
    unsetenv("QUANT_HOME");
    unsetenv("QUANT_DUCKDB_PATH");
    unsetenv("QUANT_SQLITE_PATH");
    unsetenv("QUANT_META_URL");
    unsetenv("ALPHAVANTAGE_API_KEY");
    unsetenv("QUANT_DAILY_BUDGET");
    unsetenv("QUANT_ALPHAVANTAGE_URL");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(home);
    return 0;
}

static void write_conf(const char *text)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/quant.conf", home);
    tu_write_file(path, text);
}

static void test_defaults_follow_home(void **state)
{
    (void)state;
    struct quant_config cfg;
    struct quant_err err;
    quant_config_init(&cfg);
    assert_int_equal(quant_config_set_flag(&cfg, QUANT_SET_HOME, home), QUANT_OK);
    assert_int_equal(quant_config_resolve(&cfg, &err), QUANT_OK);
    char want[PATH_MAX + 32];
    snprintf(want, sizeof want, "%s/quant.duckdb", home);
    assert_string_equal(quant_config_get(&cfg, QUANT_SET_DUCKDB_PATH), want);
    snprintf(want, sizeof want, "%s/meta.sqlite", home);
    assert_string_equal(quant_config_get(&cfg, QUANT_SET_SQLITE_PATH), want);
    assert_int_equal(cfg.source[QUANT_SET_DUCKDB_PATH], QUANT_SRC_DEFAULT);
    assert_int_equal(cfg.source[QUANT_SET_HOME], QUANT_SRC_FLAG);
    assert_string_equal(quant_config_get(&cfg, QUANT_SET_DAILY_BUDGET), "25");
    assert_int_equal(cfg.conf_found, 0);
    quant_config_release(&cfg);
}

static void test_precedence(void **state)
{
    (void)state;
    write_conf("# comment\n\n daily_budget = 7 \nrequests_per_minute=9\n"
               "QUANT_DUCKDB_PATH = \"/from/file.duckdb\"\nalphavantage_url = http://file\n");
    setenv("QUANT_HOME", home, 1);
    setenv("QUANT_DAILY_BUDGET", "11", 1);            /* env beats file */
    setenv("QUANT_ALPHAVANTAGE_URL", "http://env", 1); /* flag beats env */
    struct quant_config cfg;
    struct quant_err err;
    quant_config_init(&cfg);
    quant_config_set_flag(&cfg, QUANT_SET_AV_URL, "http://flag");
    assert_int_equal(quant_config_resolve(&cfg, &err), QUANT_OK);
    assert_true(cfg.conf_found);
    assert_string_equal(quant_config_get(&cfg, QUANT_SET_DAILY_BUDGET), "11");
    assert_int_equal(cfg.source[QUANT_SET_DAILY_BUDGET], QUANT_SRC_ENV);
    assert_string_equal(quant_config_get(&cfg, QUANT_SET_RPM), "9");
    assert_int_equal(cfg.source[QUANT_SET_RPM], QUANT_SRC_FILE);
    assert_string_equal(quant_config_get(&cfg, QUANT_SET_DUCKDB_PATH), "/from/file.duckdb");
    assert_string_equal(quant_config_get(&cfg, QUANT_SET_AV_URL), "http://flag");
    assert_int_equal(cfg.source[QUANT_SET_AV_URL], QUANT_SRC_FLAG);
    assert_int_equal(cfg.source[QUANT_SET_HOME], QUANT_SRC_ENV);
    long v;
    assert_int_equal(quant_config_get_long(&cfg, QUANT_SET_DAILY_BUDGET, 0, 100, &v, &err), QUANT_OK);
    assert_int_equal(v, 11);
    quant_config_release(&cfg);
}

static void test_bad_file_and_values(void **state)
{
    (void)state;
    struct quant_config cfg;
    struct quant_err err;
    setenv("QUANT_HOME", home, 1);

    write_conf("daily_budget = 3\ndaily_budgt = 4\n");
    quant_config_init(&cfg);
    assert_int_equal(quant_config_resolve(&cfg, &err), QUANT_ECONFIG);
    assert_non_null(strstr(err.msg, "line 2"));
    assert_non_null(strstr(err.msg, "daily_budgt"));
    quant_config_release(&cfg);

    write_conf("just words\n");
    quant_config_init(&cfg);
    assert_int_equal(quant_config_resolve(&cfg, &err), QUANT_ECONFIG);
    assert_non_null(strstr(err.msg, "line 1"));
    quant_config_release(&cfg);

    write_conf("daily_budget = lots\n");
    quant_config_init(&cfg);
    assert_int_equal(quant_config_resolve(&cfg, &err), QUANT_OK);
    long v;
    assert_int_equal(quant_config_get_long(&cfg, QUANT_SET_DAILY_BUDGET, 0, 100, &v, &err),
                     QUANT_ECONFIG);
    assert_non_null(strstr(err.msg, "daily_budget"));
    assert_non_null(strstr(err.msg, "config file"));
    assert_non_null(strstr(err.msg, "lots"));
    quant_config_release(&cfg);
}

static void test_key_is_masked_and_fingerprinted(void **state)
{
    (void)state;
    const char *key = "ABCDEFGHIJKLMNOPQRST";
    setenv("QUANT_HOME", home, 1);
    setenv("ALPHAVANTAGE_API_KEY", key, 1);
    struct quant_config cfg;
    struct quant_err err;
    quant_config_init(&cfg);
    assert_int_equal(quant_config_resolve(&cfg, &err), QUANT_OK);
    char shown[64];
    quant_config_display(&cfg, QUANT_SET_API_KEY, shown, sizeof shown);
    assert_null(strstr(shown, "ABCD"));
    assert_string_equal(shown, "****ST");
    char fp[17], fp2[17];
    quant_config_key_fingerprint(&cfg, fp);
    assert_int_equal(strlen(fp), 16);
    assert_null(strstr(fp, key));
    quant_config_release(&cfg);
    setenv("ALPHAVANTAGE_API_KEY", "ANOTHERKEY000000", 1);
    quant_config_init(&cfg);
    assert_int_equal(quant_config_resolve(&cfg, &err), QUANT_OK);
    quant_config_key_fingerprint(&cfg, fp2);
    assert_string_not_equal(fp, fp2);
    quant_config_release(&cfg);
    unsetenv("ALPHAVANTAGE_API_KEY");
}

/* meta_url: unset it follows sqlite_path (so old settings keep working);
 * set it wins; a password in it is never shown, nor repeated by a message. */
static void test_meta_url(void **state)
{
    (void)state;
    struct quant_config cfg;
    struct quant_err err;
    char want[PATH_MAX + 64], shown[PATH_MAX + 64];
    setenv("QUANT_HOME", home, 1);
    setenv("QUANT_SQLITE_PATH", "/elsewhere/m.sqlite", 1);
    quant_config_init(&cfg);
    assert_int_equal(quant_config_resolve(&cfg, &err), QUANT_OK);
    assert_string_equal(quant_config_get(&cfg, QUANT_SET_META_URL), "sqlite:////elsewhere/m.sqlite");
    assert_string_equal(quant_meta_url_sqlite_path(quant_config_get(&cfg, QUANT_SET_META_URL)),
                        "/elsewhere/m.sqlite");
    quant_config_release(&cfg);
    unsetenv("QUANT_SQLITE_PATH");
    quant_config_init(&cfg);
    assert_int_equal(quant_config_resolve(&cfg, &err), QUANT_OK);
    snprintf(want, sizeof want, "sqlite:///%s/meta.sqlite", home);
    assert_string_equal(quant_config_get(&cfg, QUANT_SET_META_URL), want);
    assert_int_equal(cfg.source[QUANT_SET_META_URL], QUANT_SRC_DEFAULT);
    quant_config_release(&cfg);

    const char *secret = "pa55-w0rd-XYZ";
    write_conf("meta_url = \"postgresql://alice:pa55-w0rd-XYZ@db.example:5433/quant\"\n");
    quant_config_init(&cfg);
    assert_int_equal(quant_config_resolve(&cfg, &err), QUANT_OK);
    assert_int_equal(cfg.source[QUANT_SET_META_URL], QUANT_SRC_FILE);
    assert_true(quant_meta_url_is_postgres(quant_config_get(&cfg, QUANT_SET_META_URL)));
    assert_null(quant_meta_url_sqlite_path(quant_config_get(&cfg, QUANT_SET_META_URL)));
    quant_config_display(&cfg, QUANT_SET_META_URL, shown, sizeof shown);
    assert_string_equal(shown, "postgresql://alice:****@db.example:5433/quant");
    /* registered as a secret: a message that would carry it masks it */
    quant_err_set(&err, QUANT_ESTORE, "could not log in with %s", secret);
    assert_null(strstr(err.msg, secret));
    quant_config_release(&cfg);
    quant_secret_clear();

    /* libpq's other place for it, and URLs without one */
    quant_meta_url_mask("postgresql://bob@h/db?sslmode=require&password=topsecret1&x=1", shown,
                        sizeof shown);
    assert_string_equal(shown, "postgresql://bob@h/db?sslmode=require&password=****&x=1");
    quant_meta_url_mask("postgresql://bob@h:5432/db", shown, sizeof shown);
    assert_string_equal(shown, "postgresql://bob@h:5432/db");
    quant_meta_url_mask("postgresql://bob:p%40ss@h/db", shown, sizeof shown);
    assert_string_equal(shown, "postgresql://bob:****@h/db");
    assert_string_equal(quant_meta_url_sqlite_path("sqlite:///rel/m.sqlite"), "rel/m.sqlite");
    assert_string_equal(quant_meta_url_sqlite_path("/abs/m.sqlite"), "/abs/m.sqlite");
    assert_null(quant_meta_url_sqlite_path("mysql://x/y"));
    assert_false(quant_meta_url_is_postgres("mysql://x/y"));
    unsetenv("QUANT_HOME");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults_follow_home, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_file_and_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_is_masked_and_fingerprinted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta_url, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
