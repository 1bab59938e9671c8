/*
 * universe.c: the service behind `quant universe` (universe.h): reading a
 * Qlib instruments file, storing it as a named universe in the metadata
 * store, and the in-memory form the evaluation code queries per (symbol,
 * date).  It touches the metadata store only, so it never waits for an
 * ingest, and it writes nothing until the whole file has been validated.
 */
#include "quant/universe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/banned.h"

#define MEMBERS_FILE_MAX ((size_t)64 << 20) /* Qlib's largest (all markets) is ~1 MB */
#define LINE_CHARS_MAX 256                  /* a member line is under 60 characters */

struct quant_universe {
    struct quant_universe_record info;
    size_t n_symbols;
    char (*symbols)[QUANT_SYMBOL_MAX + 1]; /* sorted by strcmp */
    size_t *offset;  /* n_symbols + 1: symbol i's intervals are [offset[i], offset[i+1]) */
    int32_t *start;  /* per interval, by symbol then start; disjoint, never touching */
    int32_t *end;
};

/* ASCII only, whatever the locale: a name is an identifier, not text. */
static int name_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

enum quant_code quant_universe_check_name(const char *name, struct quant_err *err)
{
    size_t n = strlen(name);
    int ok = n >= 1 && n <= QUANT_UNIVERSE_NAME_MAX && name_alnum(name[0]);
    for (size_t i = 0; ok && i < n; i++)
        ok = name_alnum(name[i]) || name[i] == '-' || name[i] == '_' || name[i] == '.';
    if (ok)
        return QUANT_OK;
    return quant_err_set(err, QUANT_EINVAL,
                         "universe name '%.80s%s' must be 1 to %d letters, digits, '-', '_' "
                         "or '.', starting with a letter or a digit",
                         name, n > 80 ? "..." : "", QUANT_UNIVERSE_NAME_MAX);
}

/* ---- reading a members file ---------------------------------------------- */

/* An interval and the line it came from (0: from the store). */
struct item {
    struct quant_universe_interval iv;
    long line;
};

struct items {
    struct item *v;
    size_t n, cap;
};

static int item_cmp(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    int c = strcmp(x->iv.symbol, y->iv.symbol);
    if (c)
        return c;
    if (x->iv.start != y->iv.start)
        return x->iv.start < y->iv.start ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * Sort the items and merge, per symbol, those that overlap or touch (an
 * interval starting the day after another ends adds no day to it), writing
 * the result to out (room for n).  Afterwards a symbol's intervals are
 * disjoint with gaps between them, which is what lets membership be one
 * binary search on the starts.  Returns how many remain.
 */
static size_t merge_items(struct item *v, size_t n, struct quant_universe_interval *out,
                          struct quant_universe_file_info *info)
{
    if (n > 1)
        qsort(v, n, sizeof *v, item_cmp);
    size_t k = 0;
    long first_line = 0;
    for (size_t i = 0; i < n; i++) {
        struct quant_universe_interval *last = k ? &out[k - 1] : NULL;
        if (last && strcmp(last->symbol, v[i].iv.symbol) == 0 &&
            (int64_t)v[i].iv.start <= (int64_t)last->end + 1) {
            if (v[i].iv.end > last->end)
                last->end = v[i].iv.end;
            if (info) {
                info->merged++;
                if (!first_line || v[i].line < first_line) {
                    first_line = v[i].line;
                    snprintf(info->first_merged, sizeof info->first_merged, "%s (line %ld)",
                             v[i].iv.symbol, v[i].line);
                }
            }
            continue;
        }
        out[k++] = v[i].iv;
    }
    return k;
}

static enum quant_code items_add(struct items *it, const struct item *x, struct quant_err *err)
{
    if (it->n == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 256;
        struct item *nv = realloc(it->v, cap * sizeof *nv);
        if (!nv)
            return quant_err_set(err, QUANT_ENOMEM, "out of memory");
        it->v = nv;
        it->cap = cap;
    }
    it->v[it->n++] = *x;
    return QUANT_OK;
}

/* One of a line's fields, split on runs of tabs and spaces. */
struct field {
    const char *p;
    size_t n;
};

/* Split line[0..len) into at most 4 fields (4 means "too many"). */
static int split_fields(const char *line, size_t len, struct field f[4])
{
    int nf = 0;
    size_t i = 0;
    while (i < len && nf < 4) {
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i == len)
            break;
        f[nf].p = line + i;
        while (i < len && line[i] != ' ' && line[i] != '\t')
            i++;
        f[nf].n = (size_t)(line + i - f[nf].p);
        nf++;
    }
    return nf;
}

/* A field that must be exactly a YYYY-MM-DD day (no time of day). */
static int field_date(const struct field *f, int32_t *out)
{
    return f->n == 10 && quant_date_parse(f->p, f->n, out) == 0 ? 0 : -1;
}

/*
 * Parse one line (without its line end) that is neither blank nor a comment
 * into x.  first_data: no interval line came before, so a header is the
 * likely mistake.  On error the message is the line's, without file or
 * line number.
 */
static enum quant_code parse_line(const char *line, size_t len, int first_data, struct item *x,
                                  struct quant_err *why)
{
    if (memchr(line, ',', len))
        return quant_err_set(why, QUANT_EPARSE, "fields are separated by commas; write "
                             "SYMBOL<TAB>START<TAB>END (Qlib's instruments format: tabs, no "
                             "header line)");
    struct field f[4];
    int nf = split_fields(line, len, f);
    if (nf != 3) {
        char shown[64]; /* tabs as spaces: a message is one line */
        size_t k = len < sizeof shown - 1 ? len : sizeof shown - 1;
        for (size_t i = 0; i < k; i++)
            shown[i] = line[i] == '\t' ? ' ' : line[i];
        shown[k] = '\0';
        return quant_err_set(why, QUANT_EPARSE, "expected 3 fields (SYMBOL START END), found "
                             "%s%d in '%s%s'", nf > 3 ? "more than " : "", nf > 3 ? 3 : nf,
                             shown, len > k ? "..." : "");
    }
    if (f[0].n > QUANT_SYMBOL_MAX)
        return quant_err_set(why, QUANT_EPARSE, "symbol '%.*s...' is longer than %d "
                             "characters", QUANT_SYMBOL_MAX, f[0].p, QUANT_SYMBOL_MAX);
    memset(x, 0, sizeof *x);
    memcpy(x->iv.symbol, f[0].p, f[0].n);
    struct quant_err e;
    if (quant_symbol_normalize(x->iv.symbol, &e))
        return quant_err_set(why, QUANT_EPARSE, "%s", e.msg);
    /* A first line whose "date" is a word is most likely a header. */
    const char *hint = first_data && !(f[1].p[0] >= '0' && f[1].p[0] <= '9')
                           ? " (an instruments file has no header line)"
                           : "";
    if (field_date(&f[1], &x->iv.start))
        return quant_err_set(why, QUANT_EPARSE, "start date '%.*s' is not a calendar day "
                             "YYYY-MM-DD%s", (int)(f[1].n > 40 ? 40 : f[1].n), f[1].p, hint);
    if (field_date(&f[2], &x->iv.end))
        return quant_err_set(why, QUANT_EPARSE, "end date '%.*s' is not a calendar day "
                             "YYYY-MM-DD%s", (int)(f[2].n > 40 ? 40 : f[2].n), f[2].p, hint);
    if (x->iv.end < x->iv.start)
        return quant_err_set(why, QUANT_EPARSE, "%s ends (%.10s) before it starts (%.10s); "
                             "both days are included, so an interval of one day has START = "
                             "END", x->iv.symbol, f[2].p, f[1].p);
    return QUANT_OK;
}

/* A byte that no text instruments file holds (tabs are fields' separators). */
static const char *control_byte(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return line + i;
    }
    return NULL;
}

static enum quant_code parse_members(const char *path, const char *data, size_t size,
                                     struct items *it, struct quant_err *err)
{
    const char *p = data, *end = data + size;
    if (size >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte order mark */
        p += 3;
    struct quant_err why;
    quant_err_clear(&why);
    for (long line = 1; p < end; line++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((eol ? eol : end) - p);
        const char *text = p;
        p = eol ? eol + 1 : end;
        if (len && text[len - 1] == '\r')
            len--;
        while (len && (*text == ' ' || *text == '\t')) {
            text++;
            len--;
        }
        const char *bad = control_byte(text, len);
        if (len == 0 || *text == '#')
            continue;
        if (len > LINE_CHARS_MAX)
            quant_err_set(&why, QUANT_EPARSE, "the line is longer than %d characters; a member "
                          "line is SYMBOL<TAB>START<TAB>END", LINE_CHARS_MAX);
        else if (bad)
            quant_err_set(&why, QUANT_EPARSE, "byte 0x%02X is not text: is this an "
                          "instruments file (SYMBOL<TAB>START<TAB>END lines)?",
                          (unsigned char)*bad);
        struct item x;
        if (!why.code && !parse_line(text, len, it->n == 0, &x, &why)) {
            x.line = line;
            if (items_add(it, &x, err))
                return err->code;
        }
        if (why.code)
            return quant_err_set(err, why.code, "%s line %ld: %s", path, line, why.msg);
    }
    if (it->n == 0)
        return quant_err_set(err, QUANT_EPARSE, "%s holds no intervals: write one "
                             "SYMBOL<TAB>START<TAB>END line per interval ('#' starts a comment)",
                             path);
    return QUANT_OK;
}

enum quant_code quant_universe_read_file(const char *path, struct quant_universe_interval **out,
                                         size_t *out_n, struct quant_universe_file_info *info,
                                         struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    if (info)
        memset(info, 0, sizeof *info);
    struct quant_buf buf;
    quant_buf_init(&buf, MEMBERS_FILE_MAX);
    struct quant_err why;
    quant_err_clear(&why);
    if (quant_buf_read_file(&buf, path, &why)) {
        quant_buf_release(&buf);
        if (why.code == QUANT_ETOOBIG)
            return quant_err_set(err, why.code, "members file %s is larger than %zu MiB: not "
                                 "an instruments file", path, MEMBERS_FILE_MAX >> 20);
        return quant_err_set(err, why.code == QUANT_ENOMEM ? QUANT_ENOMEM : QUANT_EIO,
                             "members file: %s", why.msg);
    }
    struct items it = {0};
    enum quant_code rc = parse_members(path, buf.data ? buf.data : "", buf.len, &it, err);
    quant_buf_release(&buf);
    struct quant_universe_interval *v = rc ? NULL : malloc(it.n * sizeof *v);
    if (!rc && !v)
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    if (!rc) {
        if (info)
            info->lines = (long)it.n;
        *out_n = merge_items(it.v, it.n, v, info);
        *out = v;
    }
    free(it.v);
    return rc;
}

/* ---- the stored universes ------------------------------------------------ */

/* The first few names of v, "A, B, C, ..." into out. */
static void name_some(char *const *v, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && i < 8 && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? ", " : "", v[i]);
    if (n > 8 && o < cap)
        snprintf(out + o, cap - o, ", ...");
}

static void describe(const char *name, const char *path, const struct quant_universe_interval *v,
                     size_t n, struct quant_universe_record *rec)
{
    memset(rec, 0, sizeof *rec);
    snprintf(rec->name, sizeof rec->name, "%s", name);
    snprintf(rec->source, sizeof rec->source, "%s", path);
    rec->created_at = (int64_t)time(NULL);
    rec->n_intervals = (long)n;
    rec->first = v[0].start;
    rec->last = v[0].end;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(v[i].symbol, v[i - 1].symbol) != 0)
            rec->n_symbols++;
        if (v[i].start < rec->first)
            rec->first = v[i].start;
        if (v[i].end > rec->last)
            rec->last = v[i].end;
    }
}

enum quant_code quant_universe_add(struct quant_workspace *ws, const char *name,
                                   const char *path, int replace,
                                   struct quant_universe_added *out, struct quant_err *err)
{
    struct quant_universe_added added;
    memset(&added, 0, sizeof added);
    enum quant_code rc = quant_universe_check_name(name, err);
    struct quant_universe_interval *v = NULL;
    size_t n = 0;
    if (!rc)
        rc = quant_universe_read_file(path, &v, &n, &added.file, err);
    struct quant_meta_store *meta = rc ? NULL : quant_workspace_meta(ws, err);
    if (!rc && !meta)
        rc = err->code;
    if (!rc) {
        describe(name, path, v, n, &added.rec);
        rc = quant_meta_universe_put(meta, &added.rec, v, n, replace, &added.replaced, err);
    }
    free(v);
    if (rc)
        return rc;
    /* A warning's facts: failing to find them fails nothing that was asked. */
    char **missing = NULL;
    struct quant_err ignore;
    if (!quant_meta_universe_without_bars(meta, name, &missing, &added.n_without_bars, &ignore))
        name_some(missing, added.n_without_bars, added.without_bars,
                  sizeof added.without_bars);
    quant_strings_free(missing, added.n_without_bars);
    if (out)
        *out = added;
    return QUANT_OK;
}

enum quant_code quant_universe_list(struct quant_workspace *ws,
                                    struct quant_universe_record **out, size_t *out_n,
                                    struct quant_err *err)
{
    *out = NULL;
    *out_n = 0;
    struct quant_err why;
    quant_err_clear(&why);
    struct quant_meta_store *meta = quant_workspace_meta(ws, &why);
    if (!meta) /* no store yet: no universes, not an error */
        return why.code == QUANT_ENOTFOUND ? QUANT_OK : quant_err_set(err, why.code, "%s", why.msg);
    return quant_meta_universe_list(meta, out, out_n, err);
}

/* The metadata store for a named universe; none at all is "no such universe". */
static struct quant_meta_store *meta_for(struct quant_workspace *ws, const char *name,
                                         struct quant_err *err)
{
    if (quant_universe_check_name(name, err))
        return NULL;
    struct quant_err why;
    quant_err_clear(&why);
    struct quant_meta_store *meta = quant_workspace_meta(ws, &why);
    if (meta)
        return meta;
    if (why.code == QUANT_ENOTFOUND)
        quant_err_set(err, QUANT_ENOTFOUND, "no universe named '%s': none are stored yet (add "
                      "one with `quant universe add %s --members FILE`)", name, name);
    else
        *err = why;
    return NULL;
}

enum quant_code quant_universe_remove(struct quant_workspace *ws, const char *name,
                                      struct quant_universe_record *out,
                                      struct quant_err *err)
{
    struct quant_meta_store *meta = meta_for(ws, name, err);
    return meta ? quant_meta_universe_remove(meta, name, out, err) : err->code;
}

/* ---- a loaded universe --------------------------------------------------- */

void quant_universe_free(struct quant_universe *u)
{
    if (!u)
        return;
    free(u->symbols);
    free(u->offset);
    free(u->start);
    free(u->end);
    free(u);
}

/* Lay the merged intervals v[0..n) out as u's arrays. */
static enum quant_code build(struct quant_universe *u, const struct quant_universe_interval *v,
                             size_t n, struct quant_err *err)
{
    size_t ns = 0;
    for (size_t i = 0; i < n; i++)
        ns += i == 0 || strcmp(v[i].symbol, v[i - 1].symbol) != 0;
    u->symbols = malloc((ns ? ns : 1) * sizeof *u->symbols);
    u->offset = malloc((ns + 1) * sizeof *u->offset);
    u->start = malloc((n ? n : 1) * sizeof *u->start);
    u->end = malloc((n ? n : 1) * sizeof *u->end);
    if (!u->symbols || !u->offset || !u->start || !u->end)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    size_t s = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(v[i].symbol, v[i - 1].symbol) != 0) {
            memcpy(u->symbols[s], v[i].symbol, sizeof u->symbols[s]);
            u->offset[s++] = i;
        }
        u->start[i] = v[i].start;
        u->end[i] = v[i].end;
    }
    u->offset[ns] = n;
    u->n_symbols = ns;
    u->info.n_symbols = (long)ns;
    u->info.n_intervals = (long)n;
    return QUANT_OK;
}

enum quant_code quant_universe_load(struct quant_workspace *ws, const char *name,
                                    struct quant_universe **out, struct quant_err *err)
{
    *out = NULL;
    struct quant_meta_store *meta = meta_for(ws, name, err);
    if (!meta)
        return err->code;
    struct quant_universe *u = calloc(1, sizeof *u);
    if (!u)
        return quant_err_set(err, QUANT_ENOMEM, "out of memory");
    struct quant_universe_interval *v = NULL;
    size_t n = 0;
    enum quant_code rc = quant_meta_universe_get(meta, name, &u->info, &v, &n, err);
    /* The store's order and merging are not taken on trust: the search
     * below is only right on sorted, disjoint intervals, so they are made so
     * again here (a few milliseconds for thousands of intervals). */
    struct item *items = rc ? NULL : malloc((n ? n : 1) * sizeof *items);
    if (!rc && !items)
        rc = quant_err_set(err, QUANT_ENOMEM, "out of memory");
    if (!rc) {
        for (size_t i = 0; i < n; i++)
            items[i] = (struct item){v[i], 0};
        n = merge_items(items, n, v, NULL);
        rc = build(u, v, n, err);
    }
    free(items);
    free(v);
    if (rc) {
        quant_universe_free(u);
        return rc;
    }
    *out = u;
    return QUANT_OK;
}

const struct quant_universe_record *quant_universe_info(const struct quant_universe *u)
{
    return &u->info;
}

size_t quant_universe_symbol_count(const struct quant_universe *u) { return u->n_symbols; }

const char *quant_universe_symbol(const struct quant_universe *u, size_t i)
{
    return i < u->n_symbols ? u->symbols[i] : NULL;
}

long quant_universe_symbol_index(const struct quant_universe *u, const char *symbol)
{
    size_t lo = 0, hi = u->n_symbols;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(u->symbols[mid], symbol);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int quant_universe_member_at(const struct quant_universe *u, size_t i, int32_t date)
{
    if (i >= u->n_symbols)
        return 0;
    /* The first interval starting after date; the one before it is the
     * only one that can hold date, since intervals are disjoint. */
    size_t base = u->offset[i], lo = base, hi = u->offset[i + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u->start[mid] <= date)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > base && date <= u->end[lo - 1];
}

int quant_universe_member(const struct quant_universe *u, const char *symbol, int32_t date)
{
    long i = quant_universe_symbol_index(u, symbol);
    return i >= 0 && quant_universe_member_at(u, (size_t)i, date);
}

size_t quant_universe_intervals(const struct quant_universe *u, size_t i,
                                const int32_t **start, const int32_t **end)
{
    if (i >= u->n_symbols) {
        *start = *end = NULL;
        return 0;
    }
    *start = u->start + u->offset[i];
    *end = u->end + u->offset[i];
    return u->offset[i + 1] - u->offset[i];
}
