/*
 * test_universe.c: services/universe.c.  Membership at the edges (first and
 * last day included, the gap between two intervals, an unknown symbol), the
 * forms of a members file quant accepts, overlaps merged, every bad line
 * refused naming its line with nothing stored, `add --replace` atomic, the
 * store's order not taken on trust, and membership checked against a naive
 * scan of the file's lines on random universes.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "quant/bars.h"
#include "quant/universe.h"
#include "quant/workspace.h"

static struct quant_config cfg;

static int setup(void **state)
{
    tu_scratch_setup(state);
    quant_config_init(&cfg);
    struct quant_err err;
    assert_int_equal(quant_config_set_flag(&cfg, QUANT_SET_HOME, tu_scratch_dir), QUANT_OK);
    assert_int_equal(quant_config_resolve(&cfg, &err), QUANT_OK);
    return 0;
}

static int teardown(void **state)
{
    quant_config_release(&cfg);
    return tu_scratch_teardown(state);
}

static int32_t day(const char *s)
{
    int32_t d;
    if (quant_date_parse(s, strlen(s), &d))
        fail_msg("bad test date %s", s);
    return d;
}

/* Write text as the members file `name` in the scratch folder and return its
 * path (valid for the next three calls too, so a test can hold a few). */
static const char *members(const char *name, const char *text)
{
    static char paths[4][PATH_MAX + 64];
    static unsigned next;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof paths[0], "%s/%s", tu_scratch_dir, name);
    tu_write_file(path, text);
    return path;
}

static struct quant_workspace *open_ws(enum quant_ws_mode mode)
{
    struct quant_workspace *ws = NULL;
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_workspace_open(&cfg, mode, &ws, &err))
        fail_msg("open: %s", err.msg);
    return ws;
}

static void add_ok(const char *name, const char *path, int replace,
                   struct quant_universe_added *out)
{
    struct quant_workspace *ws = open_ws(QUANT_WS_META);
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_universe_add(ws, name, path, replace, out, &err))
        fail_msg("add %s from %s: %s", name, path, err.msg);
    quant_workspace_close(ws);
}

static struct quant_universe *load_ok(const char *name)
{
    struct quant_workspace *ws = open_ws(QUANT_WS_READ);
    struct quant_universe *u = NULL;
    struct quant_err err;
    quant_err_clear(&err);
    if (quant_universe_load(ws, name, &u, &err))
        fail_msg("load %s: %s", name, err.msg);
    quant_workspace_close(ws);
    return u;
}

static int member(const struct quant_universe *u, const char *sym, const char *date)
{
    return quant_universe_member(u, sym, day(date));
}

static const char basic[] =
    "AAA\t2020-01-02\t2020-06-30\n"
    "AAA\t2021-01-04\t2024-12-31\n"
    "BBB\t2020-03-02\t2020-03-02\n"
    "ccc\t2019-12-31\t2020-01-02\n";

static void test_membership_at_the_edges(void **state)
{
    (void)state;
    struct quant_universe_added a;
    add_ok("edges", members("m.tsv", basic), 0, &a);
    assert_int_equal(a.rec.n_symbols, 3);
    assert_int_equal(a.rec.n_intervals, 4);
    assert_int_equal(a.rec.first, day("2019-12-31"));
    assert_int_equal(a.rec.last, day("2024-12-31"));
    assert_int_equal(a.replaced, 0);
    assert_int_equal(a.file.merged, 0);

    struct quant_universe *u = load_ok("edges");
    /* first and last day of each interval are in, the days beside them out */
    assert_true(member(u, "AAA", "2020-01-02"));
    assert_false(member(u, "AAA", "2020-01-01"));
    assert_true(member(u, "AAA", "2020-06-30"));
    assert_false(member(u, "AAA", "2020-07-01"));
    /* the gap between two intervals, and the second interval */
    assert_false(member(u, "AAA", "2020-10-15"));
    assert_false(member(u, "AAA", "2021-01-03"));
    assert_true(member(u, "AAA", "2021-01-04"));
    assert_true(member(u, "AAA", "2023-05-05"));
    assert_true(member(u, "AAA", "2024-12-31"));
    assert_false(member(u, "AAA", "2025-01-01"));
    /* a one-day interval */
    assert_true(member(u, "BBB", "2020-03-02"));
    assert_false(member(u, "BBB", "2020-03-01"));
    assert_false(member(u, "BBB", "2020-03-03"));
    /* normalised when read: queries take the stored (upper-case) form */
    assert_true(member(u, "CCC", "2019-12-31"));
    assert_false(member(u, "ccc", "2019-12-31"));
    /* unknown symbols, before the first and after the last in sort order */
    assert_false(member(u, "ZZZ", "2020-03-02"));
    assert_false(member(u, "A", "2020-03-02"));
    assert_int_equal(quant_universe_symbol_index(u, "ZZZ"), -1);

    /* the distinct symbols, sorted, and each one's intervals */
    assert_int_equal(quant_universe_symbol_count(u), 3);
    assert_string_equal(quant_universe_symbol(u, 0), "AAA");
    assert_string_equal(quant_universe_symbol(u, 1), "BBB");
    assert_string_equal(quant_universe_symbol(u, 2), "CCC");
    assert_null(quant_universe_symbol(u, 3));
    long i = quant_universe_symbol_index(u, "AAA");
    assert_int_equal(i, 0);
    const int32_t *s, *e;
    assert_int_equal(quant_universe_intervals(u, (size_t)i, &s, &e), 2);
    assert_int_equal(s[1], day("2021-01-04"));
    assert_int_equal(e[1], day("2024-12-31"));
    assert_true(quant_universe_member_at(u, 1, day("2020-03-02")));
    assert_false(quant_universe_member_at(u, 7, day("2020-03-02"))); /* no such index */
    assert_string_equal(quant_universe_info(u)->name, "edges");
    assert_int_equal(quant_universe_info(u)->n_intervals, 4);
    quant_universe_free(u);
}

/* The forms of one file quant reads the same: CRLF, a byte order mark,
 * comments, blank lines, spaces for tabs, leading blanks, no last newline. */
static void test_file_forms_read_alike(void **state)
{
    (void)state;
    const char *forms[] = {
        "\xEF\xBB\xBF# a comment\r\nAAA\t2020-01-02\t2020-06-30\r\n\r\n"
        "AAA\t2021-01-04\t2024-12-31\r\nBBB\t2020-03-02\t2020-03-02\r\n"
        "ccc\t2019-12-31\t2020-01-02\r\n",
        "  # indented comment\n\n\nAAA 2020-01-02   2020-06-30\n  AAA\t 2021-01-04 2024-12-31\n"
        "\t\nBBB  2020-03-02\t2020-03-02\nccc 2019-12-31 2020-01-02",
    };
    struct quant_universe_interval *want = NULL;
    size_t nwant = 0;
    struct quant_err err;
    quant_err_clear(&err);
    assert_int_equal(quant_universe_read_file(members("plain.tsv", basic), &want, &nwant, NULL,
                                              &err), QUANT_OK);
    assert_int_equal(nwant, 4);
    for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
        struct quant_universe_interval *v = NULL;
        size_t n = 0;
        struct quant_universe_file_info info;
        if (quant_universe_read_file(members("form.tsv", forms[f]), &v, &n, &info, &err))
            fail_msg("form %zu: %s", f, err.msg);
        assert_int_equal(n, nwant);
        assert_int_equal(info.lines, 4);
        assert_memory_equal(v, want, n * sizeof *v);
        free(v);
    }
    free(want);
}

/* Overlapping, repeated and touching lines of a symbol become one interval;
 * a one-day gap keeps two; other symbols are not merged across. */
static void test_overlaps_are_merged_and_counted(void **state)
{
    (void)state;
    const char *text = "XYZ\t2020-01-01\t2020-03-31\n"   /* line 1 */
                       "XYZ\t2020-02-01\t2020-02-15\n"   /* 2: inside line 1 */
                       "ABC\t2020-01-01\t2020-01-31\n"   /* 3 */
                       "XYZ\t2020-03-15\t2020-05-31\n"   /* 4: overlaps 1's end */
                       "XYZ\t2020-06-01\t2020-06-30\n"   /* 5: touches 4 */
                       "XYZ\t2020-07-02\t2020-07-31\n"   /* 6: one day apart: kept */
                       "ABC\t2020-02-01\t2020-02-29\n"   /* 7: touches 3 */
                       "XYZ\t2020-07-02\t2020-07-31\n";  /* 8: repeats 6 */
    struct quant_universe_added a;
    add_ok("merged", members("m.tsv", text), 0, &a);
    assert_int_equal(a.file.lines, 8);
    assert_int_equal(a.file.merged, 5);
    assert_string_equal(a.file.first_merged, "XYZ (line 2)");
    assert_int_equal(a.rec.n_intervals, 3);
    struct quant_universe *u = load_ok("merged");
    const int32_t *s, *e;
    assert_int_equal(quant_universe_intervals(u, 0, &s, &e), 1); /* ABC */
    assert_int_equal(e[0], day("2020-02-29"));
    assert_int_equal(quant_universe_intervals(u, 1, &s, &e), 2); /* XYZ */
    assert_int_equal(s[0], day("2020-01-01"));
    assert_int_equal(e[0], day("2020-06-30"));
    assert_int_equal(s[1], day("2020-07-02"));
    assert_false(member(u, "XYZ", "2020-07-01"));
    assert_true(member(u, "XYZ", "2020-06-01"));
    quant_universe_free(u);
}

static size_t stored_count(void)
{
    struct quant_workspace *ws = open_ws(QUANT_WS_READ);
    struct quant_universe_record *v = NULL;
    size_t n = 0;
    struct quant_err err;
    if (quant_universe_list(ws, &v, &n, &err))
        fail_msg("list: %s", err.msg);
    free(v);
    quant_workspace_close(ws);
    return n;
}

/* Each bad file fails with its file and line named and the fix said, and
 * stores nothing. */
static void test_bad_files_name_the_line_and_store_nothing(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *where;   /* "line N", or NULL for a whole-file error */
        const char *says;
    } bad[] = {
        {"AAA\t2020-01-02\t2020-06-30\nBBB,2020-01-02,2020-06-30\n", "line 2", "commas"},
        {"symbol\tstart\tend\nAAA\t2020-01-02\t2020-06-30\n", "line 1", "no header line"},
        {"# c\n\nAAA\t2020-01-02\t2020-02-30\n", "line 3", "'2020-02-30' is not a calendar day"},
        {"AAA\t2020-01-02\n", "line 1", "expected 3 fields"},
        {"AAA\t2020-01-02\t2020-06-30\textra\n", "line 1", "found more than 3"},
        {"AAA\t2020-01-02\t2020-01-01\n", "line 1", "ends (2020-01-01) before it starts"},
        {"A/B\t2020-01-02\t2020-01-03\n", "line 1", "'/'"},
        {"AAA\t2020/01/02\t2020-01-03\n", "line 1", "start date '2020/01/02'"},
        {"AAA\t2020-01-02 10:00\t2020-01-03\n", "line 1", "expected 3 fields"},
        {"AAA\t2020-01-02\t2020-01-03\nBBB\t2020-01-02\t2020-01-0\x01\n", "line 2", "0x01"},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\t2020-01-02\t2020-01-03\n", "line 1",
         "longer than 32"},
        {"# only a comment\n\n", NULL, "holds no intervals"},
        {"", NULL, "holds no intervals"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *path = members("bad.tsv", bad[i].text);
        struct quant_workspace *ws = open_ws(QUANT_WS_META);
        struct quant_err err;
        quant_err_clear(&err);
        enum quant_code rc = quant_universe_add(ws, "bad", path, 1, NULL, &err);
        quant_workspace_close(ws);
        char want[PATH_MAX + 96];
        snprintf(want, sizeof want, "%s%s%s", path, bad[i].where ? " " : "",
                 bad[i].where ? bad[i].where : "");
        print_message("case %zu: %s\n", i, err.msg);
        assert_int_equal(rc, QUANT_EPARSE);
        assert_non_null(strstr(err.msg, want));
        assert_non_null(strstr(err.msg, bad[i].says));
        assert_int_equal(stored_count(), 0);
    }
    struct quant_workspace *ws = open_ws(QUANT_WS_META);
    struct quant_err err;
    char missing[PATH_MAX + 32];
    snprintf(missing, sizeof missing, "%s/no-such.tsv", tu_scratch_dir);
    assert_int_equal(quant_universe_add(ws, "bad", missing, 0, NULL, &err), QUANT_EIO);
    assert_non_null(strstr(err.msg, "no-such.tsv"));
    quant_workspace_close(ws);
}

static void test_replace_is_atomic(void **state)
{
    (void)state;
    struct quant_universe_added a;
    add_ok("sp", members("old.tsv", basic), 0, &a);
    struct quant_workspace *ws = open_ws(QUANT_WS_META);
    struct quant_err err;
    quant_err_clear(&err);
    /* without --replace an existing name is refused (names ignore case) */
    const char *newer = members("new.tsv", "NEW\t2022-01-03\t2022-12-30\n");
    assert_int_equal(quant_universe_add(ws, "SP", newer, 0, NULL, &err), QUANT_EINVAL);
    assert_non_null(strstr(err.msg, "already exists"));
    assert_non_null(strstr(err.msg, "--replace"));
    /* a bad file with --replace: refused, the old universe untouched */
    const char *broken = members("broken.tsv", "NEW\t2022-01-03\t2022-12-30\n"
                                               "OOPS\t2022-01-03\n");
    assert_int_equal(quant_universe_add(ws, "sp", broken, 1, NULL, &err), QUANT_EPARSE);
    assert_non_null(strstr(err.msg, "broken.tsv line 2"));
    quant_workspace_close(ws);
    struct quant_universe *u = load_ok("sp");
    assert_int_equal(quant_universe_info(u)->n_intervals, 4);
    assert_true(member(u, "AAA", "2020-01-02"));
    assert_false(member(u, "NEW", "2022-01-03"));
    assert_non_null(strstr(quant_universe_info(u)->source, "old.tsv"));
    quant_universe_free(u);
    /* a good file with --replace swaps every interval */
    add_ok("sp", newer, 1, &a);
    assert_int_equal(a.replaced, 1);
    u = load_ok("Sp");
    assert_int_equal(quant_universe_symbol_count(u), 1);
    assert_true(member(u, "NEW", "2022-12-30"));
    assert_false(member(u, "AAA", "2020-01-02"));
    quant_universe_free(u);
    assert_int_equal(stored_count(), 1);
}

static void test_names_list_and_remove(void **state)
{
    (void)state;
    struct quant_err err;
    const char *good[] = {"sp500", "sp-500_v1.2", "0dte", "a"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(quant_universe_check_name(good[i], &err), QUANT_OK);
    char long_name[QUANT_UNIVERSE_NAME_MAX + 2];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    const char *bad[] = {"", "-x", ".hidden", "a b", "a/b", "caf\xC3\xA9", long_name};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(quant_universe_check_name(bad[i], &err), QUANT_EINVAL);
        assert_non_null(strstr(err.msg, "starting with a letter or a digit"));
    }
    long_name[QUANT_UNIVERSE_NAME_MAX] = '\0';
    assert_int_equal(quant_universe_check_name(long_name, &err), QUANT_OK);

    /* a fresh home: nothing listed, nothing to load, nothing created */
    struct quant_workspace *ws = open_ws(QUANT_WS_READ);
    struct quant_universe *u = NULL;
    assert_int_equal(quant_universe_load(ws, "zeta", &u, &err), QUANT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "quant universe add"));
    assert_int_equal(quant_universe_load(ws, "a b", &u, &err), QUANT_EINVAL);
    quant_workspace_close(ws);
    assert_int_equal(stored_count(), 0);
    assert_int_equal(access(tu_scratch_sqlite, F_OK), -1);

    add_ok("zeta", members("z.tsv", "ZZZ\t2021-01-04\t2021-12-31\n"), 0, NULL);
    add_ok("alpha", members("a.tsv", basic), 0, NULL);
    ws = open_ws(QUANT_WS_READ);
    struct quant_universe_record *v = NULL;
    size_t n = 0;
    assert_int_equal(quant_universe_list(ws, &v, &n, &err), QUANT_OK);
    quant_workspace_close(ws);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "alpha");
    assert_int_equal(v[0].n_symbols, 3);
    assert_int_equal(v[0].n_intervals, 4);
    assert_int_equal(v[0].first, day("2019-12-31"));
    assert_int_equal(v[0].last, day("2024-12-31"));
    assert_true(v[0].created_at > 0);
    assert_string_equal(v[1].name, "zeta");
    assert_non_null(strstr(v[1].source, "z.tsv"));
    free(v);

    ws = open_ws(QUANT_WS_META);
    struct quant_universe_record r;
    assert_int_equal(quant_universe_remove(ws, "ZETA", &r, &err), QUANT_OK);
    assert_string_equal(r.name, "zeta");
    assert_int_equal(r.n_intervals, 1);
    assert_int_equal(quant_universe_remove(ws, "zeta", NULL, &err), QUANT_ENOTFOUND);
    assert_non_null(strstr(err.msg, "quant universe list"));
    assert_int_equal(quant_universe_load(ws, "zeta", &u, &err), QUANT_ENOTFOUND);
    quant_workspace_close(ws);
    assert_int_equal(stored_count(), 1);
}

/* The warning's facts: symbols that no ingest has stored bars for. */
static void test_symbols_without_bars(void **state)
{
    (void)state;
    struct quant_workspace *ws = open_ws(QUANT_WS_META);
    struct quant_err err;
    struct quant_meta_store *meta = quant_workspace_meta(ws, &err);
    assert_non_null(meta);
    int64_t id;
    assert_int_equal(quant_meta_run_begin(meta, "AAA", "csv", &id, &err), QUANT_OK);
    assert_int_equal(quant_meta_run_finish(meta, id, "ok", 10, NULL, &err), QUANT_OK);
    assert_int_equal(quant_meta_run_begin(meta, "BBB", "csv", &id, &err), QUANT_OK);
    assert_int_equal(quant_meta_run_finish(meta, id, "failed", 0, "bad file", &err), QUANT_OK);
    quant_workspace_close(ws);
    struct quant_universe_added a;
    add_ok("bars", members("m.tsv", basic), 0, &a);
    assert_int_equal(a.n_without_bars, 2); /* BBB failed, CCC never ran */
    assert_string_equal(a.without_bars, "BBB, CCC");
}

/* Intervals written to the store behind quant's back, out of order and
 * overlapping, still answer right: load sorts and merges them again. */
static void test_load_does_not_trust_the_store(void **state)
{
    (void)state;
    add_ok("raw", members("m.tsv", basic), 0, NULL);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(tu_scratch_sqlite, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO universe_members VALUES"
                                  " ('raw', 'AAA', '2020-06-01', '2021-02-01'),"
                                  " ('raw', 'AAA', '2019-01-01', '2019-01-31')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    struct quant_universe *u = load_ok("raw");
    /* one interval now runs 2020-01-02 .. 2024-12-31 */
    assert_true(member(u, "AAA", "2020-10-15"));
    assert_true(member(u, "AAA", "2019-01-31"));
    assert_false(member(u, "AAA", "2019-02-01"));
    const int32_t *s, *e;
    assert_int_equal(quant_universe_intervals(u, 0, &s, &e), 2);
    quant_universe_free(u);
}

/* Random universes: membership answers what a scan of the file's lines
 * (before any merge) answers, for every symbol on every day of the span. */
static void test_membership_matches_a_naive_scan(void **state)
{
    (void)state;
    enum { NSYM = 12, NLINES = 300, SPAN = 400 };
    int32_t base = day("2020-01-01");
    unsigned seed = 12345;
    struct quant_universe_interval lines[NLINES];
    char *text = malloc((size_t)NLINES * 64);
    assert_non_null(text);
    size_t o = 0;
    for (int i = 0; i < NLINES; i++) {
        seed = seed * 1103515245u + 12345u;
        int sym = (int)((seed >> 16) % NSYM);
        seed = seed * 1103515245u + 12345u;
        int32_t start = base + (int32_t)((seed >> 16) % SPAN);
        seed = seed * 1103515245u + 12345u;
        int32_t len = (int32_t)((seed >> 16) % 12); /* short: many gaps, some touching */
        snprintf(lines[i].symbol, sizeof lines[i].symbol, "S%02d", sym);
        lines[i].start = start;
        lines[i].end = start + len;
        char a[11], b[11];
        quant_date_format(lines[i].start, a);
        quant_date_format(lines[i].end, b);
        o += (size_t)snprintf(text + o, 64, "%s\t%s\t%s\n", lines[i].symbol, a, b);
    }
    struct quant_universe_added added;
    add_ok("random", members("r.tsv", text), 0, &added);
    free(text);
    assert_true(added.file.merged > 0); /* the test covers merging */
    struct quant_universe *u = load_ok("random");
    long checked = 0, in = 0;
    for (int sym = 0; sym <= NSYM; sym++) { /* NSYM itself is never in the file */
        char name[8];
        snprintf(name, sizeof name, "S%02d", sym);
        for (int32_t d = base - 2; d < base + SPAN + 14; d++) {
            int want = 0;
            for (int i = 0; i < NLINES && !want; i++)
                want = strcmp(lines[i].symbol, name) == 0 && lines[i].start <= d &&
                       d <= lines[i].end;
            int got = quant_universe_member(u, name, d);
            if (got != want) {
                char ds[11];
                quant_date_format(d, ds);
                fail_msg("%s on %s: member says %d, the file says %d", name, ds, got, want);
            }
            checked++;
            in += want;
        }
    }
    print_message("checked %ld (symbol, day) pairs, %ld members\n", checked, in);
    assert_true(in > 0 && in < checked);
    quant_universe_free(u);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_membership_at_the_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_forms_read_alike, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlaps_are_merged_and_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files_name_the_line_and_store_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_replace_is_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_list_and_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symbols_without_bars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_does_not_trust_the_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_membership_matches_a_naive_scan, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
