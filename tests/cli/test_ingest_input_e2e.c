/*
 * test_ingest_input_e2e.c: ingest never succeeds while storing nothing or the
 * wrong bar, through the real `quant` binary on files made from the real
 * histories in ../shared/data: a file whose rows are all bad, two rows of one
 * date that disagree, a FIFO in a folder, a file with no line ends, the API
 * key quoted from a file, the symbol lists every command shares
 * (--symbols @FILE, --all), and overlapping long files that must leave one
 * row per (symbol, date).
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY "INPUTKEY5550123SECRETXYZ"

static char home[PATH_MAX];
static char env_home[PATH_MAX + 16];
static const char *env[] = {env_home, NULL};

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(home);
    snprintf(env_home, sizeof env_home, "QUANT_HOME=%s", home);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(home);
    return 0;
}

#define RUN(res, ...) tu_run_quant((const char *const[]){__VA_ARGS__, NULL}, env, (res))

static long sql_long(const char *sql)
{
    return tu_sql_long(env, sql);
}

/* path = home/name (a scratch file). */
static void scratch(char *path, size_t cap, const char *name)
{
    snprintf(path, cap, "%s/%s", home, name);
}

/* The shared history rel, whole, ending in a newline. */
static char *shared_text(const char *rel)
{
    char path[PATH_MAX];
    tu_shared_path(path, rel);
    char *text = tu_read_file(path, NULL);
    size_t n = strlen(text);
    if (n && text[n - 1] != '\n') {
        char *t = realloc(text, n + 2);
        assert_non_null(t);
        text = t;
        memcpy(text + n, "\n", 2);
    }
    return text;
}

/* Copy a Yahoo history with its dates rewritten as MM/DD/YYYY; returns the
 * number of data rows and the first date as written. */
static long write_us_dates(const char *rel, const char *out, char first[16])
{
    char *text = shared_text(rel);
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    char *line = strchr(text, '\n') + 1;
    fwrite(text, 1, (size_t)(line - text), f);
    long rows = 0;
    for (char *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        if (nl - line < 10)
            continue;
        if (strstr(line, ",null,") && strstr(line, ",null,") < nl)
            rows--; /* an all-null row is no row to quant (csv_provider_internal.h) */
        char us[16];
        snprintf(us, sizeof us, "%.2s/%.2s/%.4s", line + 5, line + 8, line);
        if (rows++ == 0)
            snprintf(first, 16, "%s", us);
        fprintf(f, "%s%.*s\n", us, (int)(nl - line - 10), line + 10);
    }
    fclose(f);
    free(text);
    return rows;
}

static void test_all_bad_rows_fail_naming_file_count_and_reason(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    char dir[PATH_MAX], file[PATH_MAX + 16], first[16], want[256];
    scratch(dir, sizeof dir, "us");
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(file, sizeof file, "%s/AAPL.csv", dir);
    long rows = write_us_dates("ohlcv/AAPL_yahoo_daily.csv", file, first);
    assert_true(rows > 1000);

    struct tu_result r;
    RUN(&r, "ingest", "--csv", file);
    assert_int_equal(r.status, 5);
    snprintf(want, sizeof want, "AAPL.csv: none of its %ld rows could be read (first: line 2: "
             "date '%s' is not a YYYY-MM-DD date)", rows, first);
    if (!strstr(r.err, want))
        fail_msg("expected '%s' in: %s", want, r.err);
    assert_null(strstr(r.out, "0 of 0"));
    tu_result_release(&r);
    assert_int_equal(sql_long("SELECT count(*) FROM ohlcv"), 0);

    /* In a folder it fails its own symbol, loudly, and the others go in. */
    char *ae = shared_text("universe/AE.csv");
    char ae_path[PATH_MAX + 16];
    snprintf(ae_path, sizeof ae_path, "%s/AE.csv", dir);
    tu_write_file(ae_path, ae);
    free(ae);
    RUN(&r, "ingest", "--csv", dir);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "Failed AAPL: "));
    assert_non_null(strstr(r.err, want));
    assert_non_null(strstr(r.out, "1 of 2 symbols ingested, 1 failed"));
    tu_result_release(&r);
    assert_int_equal(sql_long("SELECT count(*) FROM ohlcv WHERE symbol = 'AAPL'"), 0);
    assert_true(sql_long("SELECT count(*) FROM ohlcv WHERE symbol = 'AE'") > 1000);

    /* A header and no rows is nothing to ingest either. */
    snprintf(file, sizeof file, "%s/EMPTY.csv", home);
    tu_write_file(file, "Date,Open,High,Low,Close,Adj Close,Volume\n\n");
    RUN(&r, "ingest", "--csv", file);
    assert_int_equal(r.status, 5);
    assert_non_null(strstr(r.err, "EMPTY.csv has a header but no data rows"));
    tu_result_release(&r);
}

/* Rows 2..n+1 of a shared history (no header), each prefixed with prefix. */
static void append_rows(FILE *f, const char *text, const char *prefix, int from, int n)
{
    const char *line = strchr(text, '\n') + 1;
    for (int i = 0; i < from; i++)
        line = strchr(line, '\n') + 1;
    for (int i = 0; i < n; i++) {
        const char *nl = strchr(line, '\n');
        fprintf(f, "%s%.*s\n", prefix, (int)(nl - line), line);
        line = nl + 1;
    }
}

static void test_disagreeing_rows_of_one_date_refuse_the_symbol(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    char *text = shared_text("ohlcv/MSFT_yahoo_daily.csv");
    char file[PATH_MAX];
    scratch(file, sizeof file, "long.csv");
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fprintf(f, "Symbol,Date,Open,High,Low,Close,Adj Close,Volume\n");
    append_rows(f, text, "AAA,", 0, 20);
    append_rows(f, text, "AAA,", 4, 1); /* the same row again: harmless */
    append_rows(f, text, "BBB,", 0, 20);
    /* BBB's 8th date once more, its close (6th field) raised by 1 */
    const char *row = strchr(text, '\n') + 1;
    for (int i = 0; i < 7; i++)
        row = strchr(row, '\n') + 1;
    char date[11], fields[6][32];
    assert_int_equal(sscanf(row, "%10[^,],%31[^,],%31[^,],%31[^,],%31[^,],%31[^,],%31[^\n]",
                            date, fields[0], fields[1], fields[2], fields[3], fields[4],
                            fields[5]), 7);
    fprintf(f, "BBB,%s,%s,%s,%s,%.6f,%s,%s\n", date, fields[0], fields[1], fields[2],
            strtod(fields[3], NULL) + 1, fields[4], fields[5]);
    fclose(f);
    free(text);

    struct tu_result r;
    RUN(&r, "ingest", "--csv", file);
    assert_int_equal(r.status, 1);
    char want[128];
    snprintf(want, sizeof want, "Failed BBB: long.csv has two rows for BBB on %s that disagree",
             date);
    if (!strstr(r.err, want))
        fail_msg("expected '%s' in: %s", want, r.err);
    assert_non_null(strstr(r.out, "Ingested 20 rows for AAA"));
    tu_result_release(&r);
    assert_int_equal(sql_long("SELECT count(*) FROM ohlcv WHERE symbol = 'AAA'"), 20);
    assert_int_equal(sql_long("SELECT count(*) FROM ohlcv WHERE symbol = 'BBB'"), 0);
}

static void test_fifo_in_folder_is_skipped_not_waited_on(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    char dir[PATH_MAX], path[PATH_MAX + 16];
    scratch(dir, sizeof dir, "withfifo");
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/PIPE.csv", dir);
    assert_int_equal(mkfifo(path, 0644), 0);
    char *ae = shared_text("universe/AE.csv");
    snprintf(path, sizeof path, "%s/AE.csv", dir);
    tu_write_file(path, ae);
    free(ae);
    struct tu_result r;
    double t0 = tu_now_ms();
    RUN(&r, "ingest", "--csv", dir);
    assert_true(tu_now_ms() - t0 < 60000); /* before: blocked on the FIFO forever */
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "warning: skipped what is not a regular file in"));
    assert_non_null(strstr(r.err, "PIPE.csv (a FIFO)"));
    assert_non_null(strstr(r.out, "1 of 1 symbol ingested"));
    tu_result_release(&r);
}

/* A 1 GiB file without line ends (sparse, so it costs no disk) is refused at
 * its first over-long line, not read into memory first. */
static void test_over_long_line_stops_the_read(void **state)
{
    (void)state;
    char file[PATH_MAX];
    scratch(file, sizeof file, "BIG.csv");
    tu_write_file(file, "Date,Open,High,Low,Close,Volume\n2020-01-02,1,1,1,1,100\n");
    assert_int_equal(truncate(file, (off_t)1 << 30), 0);
    struct tu_result r;
    RUN(&r, "ingest", "--csv", file);
    assert_int_equal(r.status, 5);
    assert_non_null(strstr(r.err, "BIG.csv line 3 is longer than 65536 bytes"));
    tu_result_release(&r);
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_CHILDREN, &ru), 0);
    print_message("largest quant run so far: %ld MiB resident\n", ru.ru_maxrss / 1024);
    assert_true(ru.ru_maxrss < 600L * 1024); /* KiB; reading it whole took over 1 GiB */
}

/* The API key, quoted from a file the user pointed at, is masked on the
 * terminal and in the store. */
static void test_key_quoted_from_a_file_is_masked(void **state)
{
    (void)state;
    const char *kenv[] = {"ALPHAVANTAGE_API_KEY=" KEY, env_home, NULL};
    struct tu_result r;
    /* /proc/self/environ is NUL-separated and its order is the environment's;
     * a copy with the key first is what `--csv /proc/self/environ` shows when
     * the key is the first variable. */
    static const char environ_text[] = "ALPHAVANTAGE_API_KEY=" KEY "\0HOME=/root\0PATH=/bin\0";
    char file[PATH_MAX];
    scratch(file, sizeof file, "environ");
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fwrite(environ_text, 1, sizeof environ_text - 1, f);
    fclose(f);
    tu_run_quant((const char *const[]){"ingest", "--csv", file, NULL}, kenv, &r);
    assert_int_equal(r.status, 5);
    assert_non_null(strstr(r.err, "ALPHAVANTAGE_API_KEY=***"));
    assert_null(strstr(r.err, KEY));
    assert_null(strstr(r.out, KEY));
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"ingest", "--csv", "/proc/self/environ", NULL}, kenv, &r);
    assert_int_equal(r.status, 5);
    assert_null(strstr(r.err, KEY));
    tu_result_release(&r);

    /* A folder file's refusal is stored in ingest_runs: masked there too. */
    char dir[PATH_MAX], path[PATH_MAX + 16];
    scratch(dir, sizeof dir, "leak");
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/LEAK.csv", dir);
    tu_write_file(path, "Date,Open,High,Low,Close,Volume\nk" KEY ",1,1,1,1,1\n");
    tu_run_quant((const char *const[]){"ingest", "--csv", dir, NULL}, kenv, &r);
    assert_int_equal(r.status, 5);
    assert_non_null(strstr(r.err, "Failed LEAK"));
    assert_non_null(strstr(r.err, "date 'k***'"));
    assert_null(strstr(r.err, KEY));
    tu_result_release(&r);
    tu_run_quant((const char *const[]){"status", NULL}, kenv, &r);
    assert_non_null(strstr(r.out, "LEAK"));
    assert_null(strstr(r.out, KEY));
    tu_result_release(&r);
    tu_rmrf(dir); /* the inputs hold the key; what quant wrote must not */
    unlink(file);
    char *where = tu_tree_find_bytes(home, KEY);
    if (where)
        fail_msg("the key reached %s", where);
}

static void test_symbols_from_a_file_and_all(void **state)
{
    (void)state;
    char list[PATH_MAX];
    scratch(list, sizeof list, "universe.txt");
    tu_write_file(list, "# my universe\nAAA, bbb\n\n  CCC   # the third\n");
    struct tu_result r;
    RUN(&r, "features", "--all");
    assert_int_equal(r.status, 2); /* no registry yet: says so, and what to do */
    assert_non_null(strstr(r.err, "no active symbols are registered"));
    assert_non_null(strstr(r.err, "quant symbols add"));
    tu_result_release(&r);
    RUN(&r, "ingest", "--provider", "synthetic", "--days", "400", "--symbols", "@universe.txt");
    assert_int_equal(r.status, 2); /* relative to where quant runs, not QUANT_HOME */
    assert_non_null(strstr(r.err, "cannot read the symbol list @universe.txt"));
    tu_result_release(&r);
    char arg[PATH_MAX + 2];
    snprintf(arg, sizeof arg, "@%s", list);
    RUN(&r, "ingest", "--provider", "synthetic", "--days", "400", "--symbols", arg);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "3 of 3 symbols ingested"));
    assert_non_null(strstr(r.out, "for BBB"));
    tu_result_release(&r);
    RUN(&r, "features", arg);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Done: 3 computed"));
    tu_result_release(&r);
    RUN(&r, "symbols", "add", "DDD"); /* registered, no bars: --all takes it too */
    tu_result_release(&r);
    RUN(&r, "labels", "--all");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "Done: 3 computed, 0 up to date, 1 failed"));
    tu_result_release(&r);
    RUN(&r, "symbols", "remove", "DDD");
    tu_result_release(&r);
    RUN(&r, "train", "--all", "--rounds", "5");
    assert_int_equal(r.status, 0);
    assert_int_equal(tu_count(r.out, "saved and registered"), 3);
    tu_result_release(&r);
    RUN(&r, "score", "--symbols", arg);
    assert_int_equal(r.status, 0);
    assert_int_equal(tu_count(r.out, "Saved "), 3);
    tu_result_release(&r);

    /* Mistakes are usage errors that say where. */
    tu_write_file(list, "AAA\nA;B\n");
    RUN(&r, "score", arg);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "universe.txt line 2: symbol 'A;B'"));
    tu_result_release(&r);
    tu_write_file(list, "# nothing here\n\n");
    RUN(&r, "train", "--symbols", arg);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "holds no symbols"));
    tu_result_release(&r);
    RUN(&r, "ingest", "--all", "--symbols", "AAA");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "either --all or the symbols"));
    tu_result_release(&r);
}

/*
 * Append rows [from, to) of the universe history SYM to a long-format file
 * (symbol,date,...), `copies` times each; the prices are scaled by `scale`
 * (a source that revised them).  Returns the rows written once.
 */
static long append_long(FILE *f, const char *sym, long from, long to, int copies, double scale)
{
    char rel[64];
    snprintf(rel, sizeof rel, "universe/%s.csv", sym);
    char *text = shared_text(rel);
    long row = 0, written = 0;
    for (char *line = strchr(text, '\n') + 1, *nl; (nl = strchr(line, '\n')) != NULL;
         line = nl + 1, row++) {
        if (row < from || row >= to)
            continue;
        char date[11];
        double o, h, l, c, a, v;
        if (sscanf(line, "%10[0-9-],%lf,%lf,%lf,%lf,%lf,%lf", date, &o, &h, &l, &c, &a, &v) != 7)
            continue; /* a null row */
        for (int k = 0; k < copies; k++)
            fprintf(f, "%s,%s,%.6f,%.6f,%.6f,%.6f,%.6f,%.0f\n", sym, date, o * scale,
                    h * scale, l * scale, c * scale, a * scale, v);
        written++;
    }
    free(text);
    return written;
}

static void assert_unique_rows(long want)
{
    assert_int_equal(sql_long("SELECT count(*) FROM ohlcv"), want);
    assert_int_equal(sql_long("SELECT count(DISTINCT (symbol, date)) FROM ohlcv"), want);
}

/*
 * ohlcv has no key (schema version 3): (symbol, date) stays unique because
 * the single writer diffs every write against the stored rows.  Real
 * histories in one long file, then an overlapping file with revised prices
 * and rows repeated inside it, then the first file again, then once more:
 * the row count never moves, revised rows are updated in place, and the last
 * run says nothing changed.
 */
static void test_overlapping_long_files_keep_one_row_per_date(void **state)
{
    (void)state;
    TU_REQUIRE_SHARED_DATA();
    char first[PATH_MAX], second[PATH_MAX];
    scratch(first, sizeof first, "long.csv");
    scratch(second, sizeof second, "revised.csv");
    FILE *f = fopen(first, "w");
    assert_non_null(f);
    fputs("symbol,date,open,high,low,close,adj_close,volume\n", f);
    long rows = append_long(f, "AAIC", 0, 100000, 1, 1.0);
    rows += append_long(f, "ADMP", 0, 100000, 1, 1.0);
    fclose(f);
    f = fopen(second, "w");
    assert_non_null(f);
    fputs("symbol,date,open,high,low,close,adj_close,volume\n", f);
    long revised = append_long(f, "AAIC", 4000, 5000, 1, 1.01);
    long repeated = append_long(f, "ADMP", 5000, 5500, 2, 1.0);
    fclose(f);
    assert_int_equal(revised, 1000);
    assert_int_equal(repeated, 500);

    struct tu_result r;
    RUN(&r, "ingest", "--csv", first);
    assert_int_equal(r.status, 0);
    tu_result_release(&r);
    long stored = sql_long("SELECT count(*) FROM ohlcv");
    assert_true(stored > 10000 && stored <= rows);
    assert_unique_rows(stored);

    RUN(&r, "ingest", "--csv", second);
    assert_int_equal(r.status, 0);
    if (!strstr(r.out, "(0 new, 1,000 updated)"))
        fail_msg("revised file: %s", r.out);
    tu_result_release(&r);
    assert_unique_rows(stored);

    RUN(&r, "ingest", "--csv", first);
    assert_int_equal(r.status, 0);
    if (!strstr(r.out, "(0 new, 1,000 updated)"))
        fail_msg("first file again: %s", r.out);
    tu_result_release(&r);
    RUN(&r, "ingest", "--csv", first);
    assert_int_equal(r.status, 0);
    if (!strstr(r.out, "(0 new, 0 updated)"))
        fail_msg("an unchanged file must change nothing: %s", r.out);
    tu_result_release(&r);
    assert_unique_rows(stored);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_all_bad_rows_fail_naming_file_count_and_reason,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_disagreeing_rows_of_one_date_refuse_the_symbol,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_in_folder_is_skipped_not_waited_on, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_over_long_line_stops_the_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_quoted_from_a_file_is_masked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symbols_from_a_file_and_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlapping_long_files_keep_one_row_per_date, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
