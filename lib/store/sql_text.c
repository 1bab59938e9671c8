/*
 * sql_text.c: one DuckDB value, read straight from a result's data chunk, as
 * the text `quant sql` prints and `quant_series_store_query` returns.
 *
 * Why not let DuckDB cast to VARCHAR: a streamed result is read chunk by
 * chunk, and the C API has no per-cell cast for a vector; re-running the
 * query wrapped in a cast is only possible for a plain SELECT (not for a
 * PRAGMA or DESCRIBE) and doubles the work.  So the types a query can
 * return are drawn here, the way DuckDB's own cast draws them, except:
 *
 *   DOUBLE/FLOAT  shortest text that reads back as the same number
 *   TIMESTAMP     "YYYY-MM-DD HH:MM:SS", the fraction dropped (store times
 *                 are whole seconds; a fraction would only be noise)
 *   NULL          the caller decides (an empty CSV field, null, "NULL")
 *
 * UNION, BIT, TIME WITH TIME ZONE, BIGNUM and TIME_NS are not drawn:
 * quant_sql_type_printable_() says so, and the caller asks for a cast.
 * Must not print, allocate outside the caller's buffer, or run SQL.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/bars.h"
#include "core/buf.h"
#include "store/store_internal.h"
#include "core/banned.h"

void quant_sql_fmt_double_(double x, char *out, size_t cap)
{
    if (isnan(x)) {
        snprintf(out, cap, "NaN");
        return;
    }
    if (isinf(x)) {
        snprintf(out, cap, x > 0 ? "Infinity" : "-Infinity");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, x);
        if (strtod(out, NULL) == x)
            return;
    }
}

static void fmt_float(float x, char *out, size_t cap)
{
    if (isnan(x) || isinf(x)) {
        quant_sql_fmt_double_(x, out, cap);
        return;
    }
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(out, cap, "%.*g", prec, (double)x);
        if (strtof(out, NULL) == x)
            return;
    }
}

void quant_sql_fmt_timestamp_(int64_t micros, char *out, size_t cap)
{
    int64_t secs = micros / 1000000 - (micros % 1000000 < 0);
    int64_t days = secs / 86400 - (secs % 86400 < 0);
    int64_t sod = secs - days * 86400;
    int y;
    unsigned m, d;
    quant_civil_from_days((int32_t)days, &y, &m, &d);
    snprintf(out, cap, "%04d-%02u-%02u %02d:%02d:%02d", y, m, d, (int)(sod / 3600),
             (int)(sod / 60 % 60), (int)(sod % 60));
}

int quant_sql_type_id_numeric_(duckdb_type id)
{
    switch (id) {
    case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT: case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT: case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_DECIMAL:
        return 1;
    default:
        return 0;
    }
}

int quant_sql_type_numeric_(duckdb_logical_type t)
{
    return quant_sql_type_id_numeric_(duckdb_get_type_id(t));
}

/* Child types of nested types are owned by the caller of these getters. */
static int children_printable(duckdb_logical_type t)
{
    duckdb_type id = duckdb_get_type_id(t);
    int ok = 1;
    if (id == DUCKDB_TYPE_LIST || id == DUCKDB_TYPE_MAP || id == DUCKDB_TYPE_ARRAY) {
        duckdb_logical_type c = id == DUCKDB_TYPE_ARRAY ? duckdb_array_type_child_type(t)
                                                        : duckdb_list_type_child_type(t);
        ok = quant_sql_type_printable_(c);
        duckdb_destroy_logical_type(&c);
    } else if (id == DUCKDB_TYPE_STRUCT) {
        for (idx_t i = 0; ok && i < duckdb_struct_type_child_count(t); i++) {
            duckdb_logical_type c = duckdb_struct_type_child_type(t, i);
            ok = quant_sql_type_printable_(c);
            duckdb_destroy_logical_type(&c);
        }
    }
    return ok;
}

int quant_sql_type_printable_(duckdb_logical_type t)
{
    switch (duckdb_get_type_id(t)) {
    case DUCKDB_TYPE_UNION: case DUCKDB_TYPE_BIT: case DUCKDB_TYPE_TIME_TZ:
    case DUCKDB_TYPE_BIGNUM: case DUCKDB_TYPE_TIME_NS: case DUCKDB_TYPE_ANY:
    case DUCKDB_TYPE_INVALID:
        return 0;
    default:
        return children_printable(t);
    }
}

static int is_null(duckdb_vector v, idx_t row)
{
    uint64_t *valid = duckdb_vector_get_validity(v);
    return valid && !duckdb_validity_row_is_valid(valid, row);
}

/* A 128-bit integer in decimal (the C library has no printf for it). */
static enum quant_code put_u128(struct quant_buf *b, unsigned __int128 x, int negative)
{
    char digits[48];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + (int)(x % 10));
        x /= 10;
    } while (x);
    if (negative)
        digits[n++] = '-';
    char out[48];
    for (size_t i = 0; i < n; i++)
        out[i] = digits[n - 1 - i];
    return quant_buf_append(b, out, n);
}

static enum quant_code put_i128(struct quant_buf *b, __int128 x)
{
    unsigned __int128 mag = x < 0 ? -(unsigned __int128)x : (unsigned __int128)x;
    return put_u128(b, mag, x < 0);
}

/* An unscaled integer with `scale` digits after the point. */
static enum quant_code put_decimal(struct quant_buf *b, __int128 x, unsigned scale)
{
    struct quant_buf tmp;
    quant_buf_init(&tmp, 0);
    unsigned __int128 mag = x < 0 ? -(unsigned __int128)x : (unsigned __int128)x;
    enum quant_code rc = put_u128(&tmp, mag, 0);
    while (!rc && tmp.len <= scale) { /* 5 with scale 2 is 0.05 */
        rc = quant_buf_append(&tmp, "0", 1);
        if (!rc) {
            memmove(tmp.data + 1, tmp.data, tmp.len - 1);
            tmp.data[0] = '0';
        }
    }
    size_t whole = tmp.len - scale;
    if (!rc && x < 0)
        rc = quant_buf_append(b, "-", 1);
    if (!rc)
        rc = quant_buf_append(b, tmp.data, whole);
    if (!rc && scale)
        rc = quant_buf_printf(b, ".%s", tmp.data + whole);
    quant_buf_release(&tmp);
    return rc;
}

static enum quant_code put_decimal_cell(struct quant_buf *b, duckdb_logical_type t, void *data,
                                        idx_t row)
{
    unsigned scale = duckdb_decimal_scale(t);
    switch (duckdb_decimal_internal_type(t)) {
    case DUCKDB_TYPE_SMALLINT: return put_decimal(b, ((int16_t *)data)[row], scale);
    case DUCKDB_TYPE_INTEGER: return put_decimal(b, ((int32_t *)data)[row], scale);
    case DUCKDB_TYPE_BIGINT: return put_decimal(b, ((int64_t *)data)[row], scale);
    default: {
        duckdb_hugeint h = ((duckdb_hugeint *)data)[row];
        return put_decimal(b, ((__int128)h.upper << 64) | h.lower, scale);
    }
    }
}

static enum quant_code put_string(struct quant_buf *b, void *data, idx_t row, int blob)
{
    duckdb_string_t *s = (duckdb_string_t *)data + row;
    const char *p = duckdb_string_t_data(s);
    uint32_t n = duckdb_string_t_length(*s);
    if (!blob)
        return quant_buf_append(b, p, n);
    enum quant_code rc = QUANT_OK;
    for (uint32_t i = 0; !rc && i < n; i++) { /* DuckDB's BLOB text: \xNN for non-ASCII */
        unsigned char c = (unsigned char)p[i];
        rc = (c >= 0x20 && c < 0x7f && c != '\\') ? quant_buf_append(b, p + i, 1)
                                                  : quant_buf_printf(b, "\\x%02X", c);
    }
    return rc;
}

static enum quant_code put_interval(struct quant_buf *b, duckdb_interval iv)
{
    enum quant_code rc = QUANT_OK;
    int y = iv.months / 12, mo = iv.months % 12;
    if (y)
        rc = quant_buf_printf(b, "%d year%s ", y, y == 1 || y == -1 ? "" : "s");
    if (!rc && mo)
        rc = quant_buf_printf(b, "%d month%s ", mo, mo == 1 || mo == -1 ? "" : "s");
    if (!rc && iv.days)
        rc = quant_buf_printf(b, "%d day%s ", iv.days, iv.days == 1 || iv.days == -1 ? "" : "s");
    if (!rc && (iv.micros || (!iv.months && !iv.days))) {
        int64_t us = iv.micros < 0 ? -iv.micros : iv.micros;
        rc = quant_buf_printf(b, "%s%02" PRId64 ":%02d:%02d", iv.micros < 0 ? "-" : "",
                              (int64_t)(us / 3600000000LL), (int)(us / 60000000 % 60),
                              (int)(us / 1000000 % 60));
        if (!rc && us % 1000000)
            rc = quant_buf_printf(b, ".%06d", (int)(us % 1000000));
    }
    if (!rc && b->len && b->data[b->len - 1] == ' ')
        b->data[--b->len] = '\0';
    return rc;
}

static enum quant_code put_time(struct quant_buf *b, int64_t us)
{
    enum quant_code rc = quant_buf_printf(b, "%02d:%02d:%02d", (int)(us / INT64_C(3600000000)),
                                          (int)(us / 60000000 % 60), (int)(us / 1000000 % 60));
    if (!rc && us % 1000000) {
        char frac[16];
        snprintf(frac, sizeof frac, ".%06d", (int)(us % 1000000));
        for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
            frac[n - 1] = '\0';
        rc = quant_buf_append(b, frac, strlen(frac));
    }
    return rc;
}

static enum quant_code put_uuid(struct quant_buf *b, duckdb_hugeint h)
{
    /* DuckDB stores a UUID with its top bit flipped, so that they sort. */
    uint64_t hi = (uint64_t)h.upper ^ (UINT64_C(1) << 63), lo = h.lower;
    return quant_buf_printf(b, "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64
                               "-%012" PRIx64,
                            hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48,
                            lo & UINT64_C(0xffffffffffff));
}

static enum quant_code put_timestamp(struct quant_buf *b, int64_t micros, int finite, int tz)
{
    if (!finite)
        return quant_buf_printf(b, "%s", micros < 0 ? "-infinity" : "infinity");
    char buf[64];
    quant_sql_fmt_timestamp_(micros, buf, sizeof buf);
    return quant_buf_printf(b, "%s%s", buf, tz ? "+00" : "");
}

static enum quant_code put_enum(struct quant_buf *b, duckdb_logical_type t, void *data, idx_t row)
{
    idx_t k;
    switch (duckdb_enum_internal_type(t)) {
    case DUCKDB_TYPE_UTINYINT: k = ((uint8_t *)data)[row]; break;
    case DUCKDB_TYPE_USMALLINT: k = ((uint16_t *)data)[row]; break;
    default: k = ((uint32_t *)data)[row]; break;
    }
    char *v = duckdb_enum_dictionary_value(t, k);
    enum quant_code rc = quant_buf_printf(b, "%s", v ? v : "");
    duckdb_free(v);
    return rc;
}

static enum quant_code put_value(struct quant_buf *b, duckdb_vector v, duckdb_logical_type t,
                                 idx_t row);

/* An element inside a LIST, ARRAY, STRUCT or MAP: NULL spelt out. */
static enum quant_code put_element(struct quant_buf *b, duckdb_vector v, duckdb_logical_type t,
                                   idx_t row)
{
    return is_null(v, row) ? quant_buf_append(b, "NULL", 4) : put_value(b, v, t, row);
}

/* LIST and MAP: elements [offset, offset + length) of the child vector. */
static enum quant_code put_list(struct quant_buf *b, duckdb_vector v, duckdb_logical_type t,
                                idx_t row, int map)
{
    duckdb_list_entry e = ((duckdb_list_entry *)duckdb_vector_get_data(v))[row];
    duckdb_vector child = duckdb_list_vector_get_child(v);
    duckdb_logical_type ct = duckdb_list_type_child_type(t);
    enum quant_code rc = quant_buf_append(b, map ? "{" : "[", 1);
    for (idx_t i = 0; !rc && i < e.length; i++) {
        if (i)
            rc = quant_buf_append(b, ", ", 2);
        if (rc)
            break;
        if (!map) {
            rc = put_element(b, child, ct, e.offset + i);
            continue;
        }
        /* a MAP is a LIST of STRUCT(key, value): drawn as key=value */
        duckdb_logical_type kt = duckdb_struct_type_child_type(ct, 0);
        duckdb_logical_type vt = duckdb_struct_type_child_type(ct, 1);
        rc = put_element(b, duckdb_struct_vector_get_child(child, 0), kt, e.offset + i);
        if (!rc)
            rc = quant_buf_append(b, "=", 1);
        if (!rc)
            rc = put_element(b, duckdb_struct_vector_get_child(child, 1), vt, e.offset + i);
        duckdb_destroy_logical_type(&kt);
        duckdb_destroy_logical_type(&vt);
    }
    duckdb_destroy_logical_type(&ct);
    return rc ? rc : quant_buf_append(b, map ? "}" : "]", 1);
}

static enum quant_code put_array(struct quant_buf *b, duckdb_vector v, duckdb_logical_type t,
                                 idx_t row)
{
    idx_t n = duckdb_array_type_array_size(t);
    duckdb_vector child = duckdb_array_vector_get_child(v);
    duckdb_logical_type ct = duckdb_array_type_child_type(t);
    enum quant_code rc = quant_buf_append(b, "[", 1);
    for (idx_t i = 0; !rc && i < n; i++) {
        if (i)
            rc = quant_buf_append(b, ", ", 2);
        if (!rc)
            rc = put_element(b, child, ct, row * n + i);
    }
    duckdb_destroy_logical_type(&ct);
    return rc ? rc : quant_buf_append(b, "]", 1);
}

static enum quant_code put_struct(struct quant_buf *b, duckdb_vector v, duckdb_logical_type t,
                                  idx_t row)
{
    enum quant_code rc = quant_buf_append(b, "{", 1);
    for (idx_t i = 0; !rc && i < duckdb_struct_type_child_count(t); i++) {
        char *name = duckdb_struct_type_child_name(t, i);
        duckdb_logical_type ct = duckdb_struct_type_child_type(t, i);
        rc = quant_buf_printf(b, "%s'%s': ", i ? ", " : "", name ? name : "");
        if (!rc)
            rc = put_element(b, duckdb_struct_vector_get_child(v, i), ct, row);
        duckdb_destroy_logical_type(&ct);
        duckdb_free(name);
    }
    return rc ? rc : quant_buf_append(b, "}", 1);
}

static enum quant_code put_value(struct quant_buf *b, duckdb_vector v, duckdb_logical_type t,
                                 idx_t row)
{
    void *data = duckdb_vector_get_data(v);
    char buf[64];
    switch (duckdb_get_type_id(t)) {
    case DUCKDB_TYPE_BOOLEAN:
        return quant_buf_printf(b, "%s", ((bool *)data)[row] ? "true" : "false");
    case DUCKDB_TYPE_TINYINT: return quant_buf_printf(b, "%d", ((int8_t *)data)[row]);
    case DUCKDB_TYPE_SMALLINT: return quant_buf_printf(b, "%d", ((int16_t *)data)[row]);
    case DUCKDB_TYPE_INTEGER: return quant_buf_printf(b, "%" PRId32, ((int32_t *)data)[row]);
    case DUCKDB_TYPE_BIGINT: return quant_buf_printf(b, "%" PRId64, ((int64_t *)data)[row]);
    case DUCKDB_TYPE_UTINYINT: return quant_buf_printf(b, "%u", ((uint8_t *)data)[row]);
    case DUCKDB_TYPE_USMALLINT: return quant_buf_printf(b, "%u", ((uint16_t *)data)[row]);
    case DUCKDB_TYPE_UINTEGER: return quant_buf_printf(b, "%" PRIu32, ((uint32_t *)data)[row]);
    case DUCKDB_TYPE_UBIGINT: return quant_buf_printf(b, "%" PRIu64, ((uint64_t *)data)[row]);
    case DUCKDB_TYPE_HUGEINT: {
        duckdb_hugeint h = ((duckdb_hugeint *)data)[row];
        return put_i128(b, ((__int128)h.upper << 64) | h.lower);
    }
    case DUCKDB_TYPE_UHUGEINT: {
        duckdb_uhugeint h = ((duckdb_uhugeint *)data)[row];
        return put_u128(b, ((unsigned __int128)h.upper << 64) | h.lower, 0);
    }
    case DUCKDB_TYPE_FLOAT:
        fmt_float(((float *)data)[row], buf, sizeof buf);
        return quant_buf_printf(b, "%s", buf);
    case DUCKDB_TYPE_DOUBLE:
        quant_sql_fmt_double_(((double *)data)[row], buf, sizeof buf);
        return quant_buf_printf(b, "%s", buf);
    case DUCKDB_TYPE_DECIMAL: return put_decimal_cell(b, t, data, row);
    case DUCKDB_TYPE_VARCHAR: return put_string(b, data, row, 0);
    case DUCKDB_TYPE_BLOB: return put_string(b, data, row, 1);
    case DUCKDB_TYPE_DATE: {
        duckdb_date d = ((duckdb_date *)data)[row];
        if (!duckdb_is_finite_date(d))
            return quant_buf_printf(b, "%s", d.days < 0 ? "-infinity" : "infinity");
        quant_date_format(d.days, buf);
        return quant_buf_printf(b, "%s", buf);
    }
    case DUCKDB_TYPE_TIMESTAMP: case DUCKDB_TYPE_TIMESTAMP_TZ: {
        duckdb_timestamp ts = ((duckdb_timestamp *)data)[row];
        return put_timestamp(b, ts.micros, duckdb_is_finite_timestamp(ts),
                             duckdb_get_type_id(t) == DUCKDB_TYPE_TIMESTAMP_TZ);
    }
    case DUCKDB_TYPE_TIMESTAMP_S: {
        duckdb_timestamp_s ts = ((duckdb_timestamp_s *)data)[row];
        return put_timestamp(b, ts.seconds * 1000000, duckdb_is_finite_timestamp_s(ts), 0);
    }
    case DUCKDB_TYPE_TIMESTAMP_MS: {
        duckdb_timestamp_ms ts = ((duckdb_timestamp_ms *)data)[row];
        return put_timestamp(b, ts.millis * 1000, duckdb_is_finite_timestamp_ms(ts), 0);
    }
    case DUCKDB_TYPE_TIMESTAMP_NS: {
        duckdb_timestamp_ns ts = ((duckdb_timestamp_ns *)data)[row];
        return put_timestamp(b, ts.nanos / 1000, duckdb_is_finite_timestamp_ns(ts), 0);
    }
    case DUCKDB_TYPE_TIME: return put_time(b, ((duckdb_time *)data)[row].micros);
    case DUCKDB_TYPE_INTERVAL: return put_interval(b, ((duckdb_interval *)data)[row]);
    case DUCKDB_TYPE_UUID: return put_uuid(b, ((duckdb_hugeint *)data)[row]);
    case DUCKDB_TYPE_ENUM: return put_enum(b, t, data, row);
    case DUCKDB_TYPE_LIST: return put_list(b, v, t, row, 0);
    case DUCKDB_TYPE_MAP: return put_list(b, v, t, row, 1);
    case DUCKDB_TYPE_ARRAY: return put_array(b, v, t, row);
    case DUCKDB_TYPE_STRUCT: return put_struct(b, v, t, row);
    case DUCKDB_TYPE_SQLNULL: return QUANT_OK; /* every row is NULL */
    default: return quant_buf_printf(b, "?"); /* refused earlier: quant_sql_type_printable_ */
    }
}

enum quant_code quant_sql_cell_text_(duckdb_vector v, duckdb_logical_type t, idx_t row,
                                     struct quant_buf *b, int *null_out)
{
    *null_out = is_null(v, row) || duckdb_get_type_id(t) == DUCKDB_TYPE_SQLNULL;
    return *null_out ? QUANT_OK : put_value(b, v, t, row);
}
