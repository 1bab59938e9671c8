/*
 * csv.c: the "csv" provider over a file or a folder of CSV files: reads the
 * files (csv_parse.c parses them), merges each symbol's rows across files,
 * and refuses a symbol whose files disagree or cannot be read, so the others
 * still go on.  It only reads: storage and validation of prices live
 * elsewhere.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"

#include "csv_internal.h"

#include "core/banned.h"

#define CSV_FILE_MAX ((size_t)2 << 30) /* 2 GiB: a price file bigger than this is a mistake */

/* ---- the provider ------------------------------------------------------- */

/* One symbol's merged series and what was skipped for it. */
struct csv_entry {
    struct quant_bars bars;
    long n_bad;
    char first_bad[320];   /* "FILE line N: reason" */
    char first_file[128];  /* base name of the first file that held this symbol */
    /* Why the symbol is refused ("" = fine): two files disagree on a date, or
     * the symbol's own file in a folder could not be read.  Other symbols go on. */
    char conflict[QUANT_ERR_MSG_MAX];
    enum quant_code conflict_code;
    int handed_over;       /* fetched: the bars now belong to the caller */
};

struct csv_state {
    char path[PATH_MAX];
    struct csv_entry *v;   /* sorted by symbol after open */
    size_t n, cap;
    struct symtab syms;    /* only during open */
    /* Folder entries that are not regular files (a FIFO would block the run
     * forever, a device never ends): skipped and named in one warning. */
    size_t n_skipped;
    char warning[512];
};

static void csv_state_free(struct csv_state *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        quant_bars_release(&st->v[i].bars);
    free(st->v);
    csv_symtab_release(&st->syms);
    free(st);
}

static void csv_close(void *state)
{
    csv_state_free(state);
}

static struct csv_entry *entry_for(struct csv_state *st, const char *sym)
{
    size_t idx = csv_symtab_get(&st->syms, sym);
    if (idx != SIZE_MAX)
        return &st->v[idx];
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        struct csv_entry *v = realloc(st->v, cap * sizeof *v);
        if (!v)
            return NULL;
        st->v = v;
        st->cap = cap;
    }
    struct csv_entry *e = &st->v[st->n];
    memset(e, 0, sizeof *e);
    snprintf(e->bars.symbol, sizeof e->bars.symbol, "%s", sym);
    if (csv_symtab_put(&st->syms, sym, st->n))
        return NULL;
    st->n++;
    return e;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/*
 * Two files with bars for the same symbol: splitting a history across files
 * (by year, say) is fine, but files that disagree on a date's prices are two
 * different series (adjusted vs unadjusted, or two vendors), and picking one
 * silently would store a chimera.  Record the first disagreement instead.
 */
static void check_overlap(struct csv_entry *e, const struct quant_bars *b, const char *file)
{
    size_t i = 0, j = 0;
    while (i < e->bars.n && j < b->n && !e->conflict[0]) {
        const struct quant_bar *x = &e->bars.v[i], *y = &b->v[j];
        if (x->date < y->date) {
            i++;
        } else if (y->date < x->date) {
            j++;
        } else {
            if (csv_prices_differ(x->close, y->close) || csv_prices_differ(x->open, y->open)) {
                char d[11];
                quant_date_format(x->date, d);
                e->conflict_code = QUANT_EVALIDATION;
                snprintf(e->conflict, sizeof e->conflict,
                         "%s and %s both hold %s but disagree on %s (close %.6g vs %.6g): "
                         "they are different series (adjusted vs unadjusted, or two vendors); "
                         "ingest the one you trust with --csv FILE --symbols %s",
                         e->first_file, base_name(file), e->bars.symbol, d, x->close,
                         y->close, e->bars.symbol);
            }
            i++;
            j++;
        }
    }
}

/* Later files win for equal dates: append, stable sort, keep the last. */
static enum quant_code merge_series(struct csv_entry *e, struct quant_bars *b)
{
    if (e->bars.n == 0) {
        quant_bars_release(&e->bars);
        e->bars.v = b->v;
        e->bars.n = b->n;
        e->bars.cap = b->cap;
        b->v = NULL;
        b->n = b->cap = 0;
        return QUANT_OK;
    }
    if (quant_bars_reserve(&e->bars, e->bars.n + b->n))
        return QUANT_ENOMEM;
    memcpy(e->bars.v + e->bars.n, b->v, b->n * sizeof *b->v);
    e->bars.n += b->n;
    quant_bars_sort(&e->bars);
    csv_dedupe_keep_last(&e->bars);
    return QUANT_OK;
}

static void note_bad(struct csv_entry *e, const char *file, const struct quant_csv_bad_row *b,
                     long count)
{
    if (e->n_bad == 0 && b) {
        const char *base = strrchr(file, '/');
        snprintf(e->first_bad, sizeof e->first_bad, "%s line %ld: %s", base ? base + 1 : file,
                 b->line, b->reason);
    }
    e->n_bad += count;
}

/* One file holds two different rows for a date: the same refusal as two
 * files that disagree (check_overlap), the file's own conflict first. */
static void note_conflict(struct csv_entry *e, const char *file,
                          const struct quant_csv_conflict *c)
{
    if (e->conflict[0])
        return;
    char d[11], more[64] = "";
    quant_date_format(c->date, d);
    if (c->n_dates > 1)
        snprintf(more, sizeof more, " (and %ld more date%s)", c->n_dates - 1,
                 c->n_dates == 2 ? "" : "s");
    e->conflict_code = QUANT_EVALIDATION;
    snprintf(e->conflict, sizeof e->conflict,
             "%s has two rows for %s on %s that disagree (close %.6g vs %.6g)%s: which is "
             "right cannot be told; remove the wrong rows and ingest again (nothing of %s "
             "was ingested)", base_name(file), e->bars.symbol, d, c->close_a, c->close_b, more,
             e->bars.symbol);
}

static enum quant_code add_file(struct csv_state *st, const char *file, struct quant_csv_file *f,
                                struct quant_err *err)
{
    /* A row whose symbol is not valid belongs to no series, so no symbol's
     * warning could report it: refuse the file rather than drop it silently. */
    for (size_t i = 0; i < f->n_bad; i++)
        if (!f->bad[i].symbol[0])
            return quant_err_set(err, QUANT_EPARSE,
                                 "%s line %ld: %s; every row of a file with a symbol column "
                                 "needs a valid symbol: fix or remove that row (nothing was "
                                 "ingested)", file, f->bad[i].line, f->bad[i].reason);
    for (size_t i = 0; i < f->n_series; i++) {
        struct csv_entry *e = entry_for(st, f->series[i].symbol);
        if (!e)
            return quant_err_set(err, QUANT_ENOMEM, "out of memory loading %s", file);
        if (!e->first_file[0])
            snprintf(e->first_file, sizeof e->first_file, "%s", base_name(file));
        else
            check_overlap(e, &f->series[i], file);
        if (merge_series(e, &f->series[i]))
            return quant_err_set(err, QUANT_ENOMEM, "out of memory loading %s", file);
    }
    for (size_t i = 0; i < f->n_conflicts; i++) {
        struct csv_entry *e = entry_for(st, f->conflicts[i].symbol);
        if (!e)
            return quant_err_set(err, QUANT_ENOMEM, "out of memory loading %s", file);
        note_conflict(e, file, &f->conflicts[i]);
    }
    for (size_t i = 0; i < f->n_bad; i++) {
        struct csv_entry *e = entry_for(st, f->bad[i].symbol);
        if (!e)
            return quant_err_set(err, QUANT_ENOMEM, "out of memory loading %s", file);
        /* Single-symbol files: the count also covers rows beyond BAD_KEEP. */
        long count = (!f->has_symbol_column && i == 0) ? f->n_bad_total - (long)f->n_bad + 1 : 1;
        note_bad(e, file, &f->bad[i], count);
    }
    return QUANT_OK;
}

/* ---- reading a file --------------------------------------------------------
 * Read in chunks, checking line lengths as the bytes arrive: a file that is
 * not a CSV (a binary, a log with no newlines, /dev/zero) stops at its first
 * over-long line, after at most QUANT_CSV_MAX_LINE bytes of it, instead of
 * being read whole into memory first. */

#define READ_CHUNK ((size_t)1 << 20)

/* The kind of a non-regular file, for the skip warning. */
static const char *file_kind(mode_t m)
{
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    if (S_ISDIR(m)) return "a folder";
    return "not a regular file";
}

/* Check the bytes [from, b->len) for an over-long line; *line_start and
 * *line are where the current line began and its 1-based number. */
static enum quant_code check_lines(const struct quant_buf *b, size_t from, size_t *line_start,
                                   long *line, const char *file, struct quant_err *err)
{
    const char *p = b->data + from, *end = b->data + b->len;
    for (;;) {
        /* Look for a line's end no further than its longest allowed length
         * (+ 1: the \r of a CRLF line; + 1: the \n itself): a mapped file
         * of a gigabyte without one is refused after 64 KiB, not scanned. */
        size_t room = (size_t)(end - (b->data + *line_start));
        if (room > QUANT_CSV_MAX_LINE + 2)
            room = QUANT_CSV_MAX_LINE + 2;
        const char *limit = b->data + *line_start + room;
        const char *nl = p < limit ? memchr(p, '\n', (size_t)(limit - p)) : NULL;
        if (!nl)
            break;
        *line_start = (size_t)(nl + 1 - b->data);
        (*line)++;
        p = nl + 1;
    }
    if (b->len - *line_start <= QUANT_CSV_MAX_LINE + 1) /* the open last line */
        return QUANT_OK;
    return quant_err_set(err, QUANT_EPARSE,
                         "%s line %ld is longer than %d bytes (the limit for one CSV line), so "
                         "reading stopped there: this is not a daily price CSV (lines end in "
                         "\\n or \\r\\n; a file with old Mac \\r line ends must be converted "
                         "first)", file, *line, QUANT_CSV_MAX_LINE);
}

/* Read fd into b (capped at b->max), stopping at an over-long line. */
static enum quant_code read_capped(int fd, const char *file, struct quant_buf *b,
                                   struct quant_err *err)
{
    size_t line_start = 0;
    long line = 1;
    for (;;) {
        size_t want = b->max - b->len < READ_CHUNK ? b->max - b->len : READ_CHUNK;
        char probe;
        enum quant_code rc = want ? quant_buf_reserve(b, want) : QUANT_OK;
        if (rc)
            return quant_err_set(err, rc, "out of memory reading %s", file);
        ssize_t n = want ? read(fd, b->data + b->len, want) : read(fd, &probe, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return quant_err_set(err, QUANT_EIO, "cannot read %s: %s", file, strerror(errno));
        if (n == 0)
            return QUANT_OK;
        if (!want)
            return quant_err_set(err, QUANT_ETOOBIG, "%s is larger than %zu bytes; a daily "
                                 "price file is far smaller: check the path", file, b->max);
        size_t before = b->len;
        b->len += (size_t)n;
        b->data[b->len] = '\0';
        if ((rc = check_lines(b, before, &line_start, &line, file, err)))
            return rc;
    }
}

/*
 * A file's text: a private read-only mapping of a regular file, else the
 * bytes read into buf.  The mapping spares a copy of every byte and, in a
 * VM, the page faults of a fresh buffer as large as the file (a fifth of the
 * parse of a 52 MB long CSV, measured).  The pages fault in as the line
 * check reads them (the kernel maps 16 cached pages per fault), so a huge file
 * without line ends is refused after its first 64 KiB, not mapped whole:
 * MAP_POPULATE saved nothing measurable and made that case cost the file's
 * size in memory.  (A file truncated by another process while it is parsed
 * would fault; reading has the same race as a short read, and a price file
 * being rewritten mid-ingest is not one to ingest anyway.)
 */

struct csv_text {
    const char *data;
    size_t len;
    void *map;             /* the mapping, or NULL */
    size_t map_len;
    struct quant_buf buf;  /* the bytes read, when not mapped */
};

static void text_release(struct csv_text *t)
{
    if (t->map)
        munmap(t->map, t->map_len);
    quant_buf_release(&t->buf);
    memset(t, 0, sizeof *t);
}

/* Map a regular file of sb's size; 0 when mapped, else -1 (read it instead). */
static int map_file(int fd, const struct stat *sb, const char *file, struct csv_text *t,
                    struct quant_err *err, enum quant_code *rc)
{
    *rc = QUANT_OK;
    if (!S_ISREG(sb->st_mode) || sb->st_size <= 0 || (size_t)sb->st_size >= t->buf.max)
        return -1;
    void *m = mmap(NULL, (size_t)sb->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        return -1;
    t->map = m;
    t->map_len = (size_t)sb->st_size;
    t->data = m;
    t->len = t->map_len;
    /* The same line check as a read, so a file that is not a CSV is refused
     * with the same message either way. */
    struct quant_buf view = {.data = m, .len = t->len};
    size_t line_start = 0;
    long line = 1;
    *rc = check_lines(&view, 0, &line_start, &line, file, err);
    return 0;
}

/*
 * Open and read one file.  In a folder (in_folder) only regular files are
 * read: anything else sets *skipped to its kind and returns QUANT_OK.  The
 * open does not block on a FIFO (O_NONBLOCK), so a FIFO with no writer is
 * seen and skipped rather than waited on forever.  A path named on its own is
 * read whatever it is, as the user asked (a pipe from a download, say).
 */
static enum quant_code read_csv_file(const char *file, int in_folder, struct csv_text *t,
                                     const char **skipped, struct quant_err *err)
{
    *skipped = NULL;
    struct quant_buf *b = &t->buf;
    int fd = open(file, O_RDONLY | O_CLOEXEC | (in_folder ? O_NONBLOCK : 0));
    if (fd < 0)
        return quant_err_set(err, QUANT_EIO, "cannot open %s: %s", file, strerror(errno));
    struct stat sb;
    enum quant_code rc = QUANT_OK;
    if (fstat(fd, &sb) != 0) {
        rc = quant_err_set(err, QUANT_EIO, "cannot read %s: %s", file, strerror(errno));
    } else if (in_folder && !S_ISREG(sb.st_mode)) {
        *skipped = file_kind(sb.st_mode);
    } else if (map_file(fd, &sb, file, t, err, &rc) != 0) {
        if (in_folder)
            (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        /* A regular file's size is known: one allocation instead of a
         * buffer grown (and its pages faulted in again) as it fills.  An
         * oversized file is still refused by read_capped, not here. */
        if (S_ISREG(sb.st_mode) && sb.st_size > 0 && (size_t)sb.st_size < b->max &&
            quant_buf_reserve(b, (size_t)sb.st_size + 1) != QUANT_OK)
            rc = quant_err_set(err, QUANT_ENOMEM, "out of memory reading %s", file);
        if (!rc)
            rc = read_capped(fd, file, b, err);
        if (!rc && !b->data) /* empty: still a valid empty string */
            rc = quant_buf_append(b, "", 0);
        t->data = b->data;
        t->len = b->len;
    }
    close(fd);
    return rc;
}

static void note_skipped(struct csv_state *st, const char *file, const char *kind)
{
    size_t used = strlen(st->warning);
    if (st->n_skipped++ == 0)
        used = (size_t)snprintf(st->warning, sizeof st->warning,
                                "skipped what is not a regular file in %s:", st->path);
    if (used < sizeof st->warning)
        snprintf(st->warning + used, sizeof st->warning - used, " %s (%s)", base_name(file),
                 kind);
}

/* ---- one file ---------------------------------------------------------------- */

/* A file that parsed but holds no bar at all would be ingested as nothing,
 * with nothing said: refuse it, naming the file, the count and why. */
static enum quant_code check_has_bars(const char *file, const struct quant_csv_file *f,
                                      struct quant_err *err)
{
    if (f->n_series > 0)
        return QUANT_OK;
    if (f->n_bad_total == 0)
        return quant_err_set(err, QUANT_EPARSE, "%s has a header but no data rows: nothing "
                             "to ingest", file);
    return quant_err_set(err, QUANT_EPARSE, "%s: none of its %ld row%s could be read "
                         "(first: line %ld: %s); nothing was ingested from it: fix the file "
                         "(dates YYYY-MM-DD, numbers with '.' for decimals)", file,
                         f->n_bad_total, f->n_bad_total == 1 ? "" : "s", f->bad[0].line,
                         f->bad[0].reason);
}

/* Parse one file into the provider.  symbol names the series of a file
 * without a symbol column (NULL: the file name decides); n_wanted is how many
 * symbols the caller asked for, which such a file cannot satisfy beyond one. */
static enum quant_code load_file(struct csv_state *st, const char *file, const char *symbol,
                                 size_t n_wanted, int in_folder, struct quant_err *err)
{
    char inferred[QUANT_SYMBOL_MAX + 1];
    if (!symbol) {
        quant_csv_symbol_from_filename(file, inferred);
        symbol = inferred;
    }
    struct csv_text text;
    memset(&text, 0, sizeof text);
    quant_buf_init(&text.buf, CSV_FILE_MAX);
    const char *skipped;
    enum quant_code rc = read_csv_file(file, in_folder, &text, &skipped, err);
    if (rc || skipped) {
        if (skipped)
            note_skipped(st, file, skipped);
        text_release(&text);
        return rc;
    }
    struct quant_csv_file f;
    rc = quant_csv_parse(text.data, text.len, symbol, &f, err);
    text_release(&text);
    if (rc == QUANT_EPARSE && symbol == inferred && !inferred[0] &&
        strstr(err->msg, "no symbol or ticker column"))
        /* The parser cannot know the symbol was to come from the name. */
        return quant_err_set(err, QUANT_EPARSE,
                             "%s has no symbol column and its name does not start with a "
                             "symbol (1-%d letters, digits or . ^ = -, then '_' or the "
                             "extension); rename it after its symbol (AAPL.csv, "
                             "AAPL_daily.csv) or ingest it alone with --symbols SYMBOL",
                             file, QUANT_SYMBOL_MAX);
    if (rc)
        return quant_err_prefix(err, "%s ", file);
    if (n_wanted > 1 && !f.has_symbol_column)
        rc = quant_err_set(err, QUANT_EINVAL, "%s has no symbol or ticker column, so it holds "
                           "one symbol; ask for one symbol, not %zu (or use a directory of "
                           "files named after their symbols)", file, n_wanted);
    if (!rc)
        rc = check_has_bars(file, &f, err);
    if (!rc)
        rc = add_file(st, file, &f, err);
    quant_csv_file_release(&f);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int is_csv_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && (csv_has_suffix_ci(name, n, ".csv") || csv_has_suffix_ci(name, n, ".txt"));
}

/* The *.csv / *.txt names in dir, sorted (malloc'd; free with quant_strings_free rules). */
static enum quant_code list_dir(const char *dir, char ***out, size_t *out_n,
                                struct quant_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return quant_err_set(err, QUANT_EIO, "cannot open directory %s: %s", dir,
                             strerror(errno));
    char **v = NULL;
    size_t n = 0, cap = 0;
    enum quant_code rc = QUANT_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_csv_name(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nv = realloc(v, cap * sizeof *nv);
            if (!nv) { rc = QUANT_ENOMEM; break; }
            v = nv;
        }
        if (!(v[n] = strdup(de->d_name))) { rc = QUANT_ENOMEM; break; }
        n++;
    }
    closedir(d);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return quant_err_set(err, rc, "out of memory listing %s", dir);
    }
    if (n)
        qsort(v, n, sizeof *v, cmp_str);
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

/*
 * One unreadable file in a folder should not stop the rest, just as one
 * failing symbol does not stop an ingest: when the file's name says whose it
 * is, that symbol is refused with the file's error and the others go on.  A
 * file named after no symbol cannot be pinned on one, so it still fails the
 * whole folder (with its name and line, so it can be fixed or moved).
 * Returns 1 when the error was taken over (err cleared), 0 otherwise.
 */
static int refuse_symbol_of_file(struct csv_state *st, const char *file, enum quant_code rc,
                                 struct quant_err *err)
{
    char sym[QUANT_SYMBOL_MAX + 1];
    if (rc == QUANT_ENOMEM)
        return 0;
    quant_csv_symbol_from_filename(file, sym);
    struct csv_entry *e = sym[0] ? entry_for(st, sym) : NULL;
    if (!e)
        return 0;
    if (!e->conflict[0]) {
        e->conflict_code = rc;
        snprintf(e->conflict, sizeof e->conflict, "%s", err->msg);
    }
    quant_err_clear(err);
    return 1;
}

static enum quant_code load_dir(struct csv_state *st, const char *dir, struct quant_err *err)
{
    char **names = NULL;
    size_t n = 0;
    enum quant_code rc = list_dir(dir, &names, &n, err);
    if (rc)
        return rc;
    if (n == 0)
        rc = quant_err_set(err, QUANT_ENOTFOUND, "no *.csv or *.txt files in %s", dir);
    for (size_t i = 0; i < n && !rc; i++) {
        char file[PATH_MAX];
        snprintf(file, sizeof file, "%s/%s", dir, names[i]);
        rc = load_file(st, file, NULL, 0, 1, err);
        if (rc && refuse_symbol_of_file(st, file, rc, err))
            rc = QUANT_OK;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct csv_entry *)a)->bars.symbol,
                  ((const struct csv_entry *)b)->bars.symbol);
}

static struct csv_entry *find_entry(struct csv_state *st, const char *sym)
{
    struct csv_entry key;
    snprintf(key.bars.symbol, sizeof key.bars.symbol, "%s", sym);
    return st->n ? bsearch(&key, st->v, st->n, sizeof *st->v, cmp_entry) : NULL;
}

static enum quant_code csv_fetch_daily(void *state, const char *symbol,
                                       enum quant_fetch_mode mode, struct quant_bars *out,
                                       struct quant_fetch_info *info, struct quant_err *err)
{
    (void)mode; /* a file holds what it holds */
    struct csv_state *st = state;
    char sym[QUANT_SYMBOL_MAX + 1];
    snprintf(sym, sizeof sym, "%s", symbol ? symbol : "");
    if (!symbol || strlen(symbol) > QUANT_SYMBOL_MAX || quant_symbol_normalize(sym, err))
        return quant_err_set(err, QUANT_EINVAL, "'%.40s' is not a valid symbol",
                             symbol ? symbol : "");
    struct csv_entry *e = find_entry(st, sym);
    if (e && e->handed_over)
        return quant_err_set(err, QUANT_EINVAL, "the CSV series of %s was already fetched "
                             "from this provider (each symbol is handed over once)", sym);
    if (e && e->conflict[0])
        return quant_err_set(err, e->conflict_code, "%s", e->conflict);
    if (!e || e->bars.n == 0) {
        if (e && e->n_bad)
            return quant_err_set(err, QUANT_ENOTFOUND, "no CSV data for %s in %s: all %ld "
                                 "rows were bad (first: %s)", sym, st->path, e->n_bad,
                                 e->first_bad);
        return quant_err_set(err, QUANT_ENOTFOUND, "no CSV data for %s in %s", sym, st->path);
    }
    if (out->n == 0) {
        /* Hand the series over rather than copy it: an ingest fetches each
         * symbol once, and copying every bar of a bulk file cost as much as
         * parsing it (a pass over hundreds of MB of fresh pages). */
        struct quant_bars mine = *out;
        out->v = e->bars.v;
        out->n = e->bars.n;
        out->cap = e->bars.cap;
        e->bars.v = mine.v;
        e->bars.n = 0;
        e->bars.cap = mine.cap;
        e->handed_over = 1;
    } else {
        if (quant_bars_reserve(out, out->n + e->bars.n))
            return quant_err_set(err, QUANT_ENOMEM, "out of memory copying %s", sym);
        memcpy(out->v + out->n, e->bars.v, e->bars.n * sizeof *out->v);
        out->n += e->bars.n;
    }
    snprintf(out->symbol, sizeof out->symbol, "%s", sym);
    if (info) {
        info->warning[0] = '\0';
        if (e->n_bad)
            snprintf(info->warning, sizeof info->warning, "skipped %ld bad row%s (first: %s)",
                     e->n_bad, e->n_bad == 1 ? "" : "s", e->first_bad);
    }
    return QUANT_OK;
}

static enum quant_code csv_list_symbols(void *state, char ***out, size_t *out_n,
                                        struct quant_err *err)
{
    struct csv_state *st = state;
    char **v = calloc(st->n ? st->n : 1, sizeof *v);
    if (!v)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory listing symbols");
    size_t n = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (st->v[i].bars.n == 0 && !st->v[i].conflict[0] && !st->v[i].n_bad)
            continue; /* refused and all-bad symbols are listed, so the run reports them */
        if (!(v[n] = strdup(st->v[i].bars.symbol))) {
            for (size_t j = 0; j < n; j++)
                free(v[j]);
            free(v);
            return quant_err_set(err, QUANT_ENOMEM, "out of memory listing symbols");
        }
        n++;
    }
    *out = v;
    *out_n = n;
    return QUANT_OK;
}

static const char *csv_warnings(void *state)
{
    return ((struct csv_state *)state)->warning;
}

static const struct quant_provider_ops k_csv_ops = {
    .name = "csv",
    .fetch_daily = csv_fetch_daily,
    .list_symbols = csv_list_symbols,
    .warnings = csv_warnings,
    .close = csv_close,
};

static enum quant_code load_path(struct csv_state *st, const char *path,
                                 const char *const *symbols, size_t n_symbols,
                                 struct quant_err *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return quant_err_set(err, QUANT_EIO, "cannot open %s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return load_dir(st, path, err);
    return load_file(st, path, n_symbols == 1 ? symbols[0] : NULL, n_symbols, 0, err);
}

enum quant_code quant_csv_open(const char *path, const char *const *symbols, size_t n_symbols,
                               struct quant_provider *out, struct quant_err *err)
{
    memset(out, 0, sizeof *out);
    struct csv_state *st = calloc(1, sizeof *st);
    if (!st)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    snprintf(st->path, sizeof st->path, "%s", path);
    enum quant_code rc = load_path(st, path, symbols, n_symbols, err);
    if (rc) {
        csv_state_free(st);
        return rc;
    }
    csv_symtab_release(&st->syms); /* fetches use bsearch on the sorted entries */
    if (st->n)
        qsort(st->v, st->n, sizeof *st->v, cmp_entry);
    out->ops = &k_csv_ops;
    out->state = st;
    return QUANT_OK;
}

