/*
 * error.h: quant's one error vocabulary.
 *
 * Every library function that can fail returns an enum quant_code and, when it
 * fails, fills a caller-owned struct quant_err with the code and a message that
 * says what failed, on what, and what to do.  Only the CLI prints messages and
 * picks exit codes; the library never prints and never exits.
 *
 * The code table is add-only: codes are persisted in ingest_runs and scripts may
 * test exit codes, so a code's number never changes once released.
 */
#ifndef QUANT_ERROR_H
#define QUANT_ERROR_H

#include <stddef.h>

/* X(name, number, short description).  Add new codes at the end only. */
#define QUANT_ERROR_TABLE(X)                                                   \
    X(QUANT_OK,               0,  "ok")                                        \
    X(QUANT_EINVAL,           1,  "invalid argument")                          \
    X(QUANT_ENOMEM,           2,  "out of memory")                             \
    X(QUANT_EIO,              3,  "I/O error")                                 \
    X(QUANT_ECONFIG,          4,  "configuration error")                       \
    X(QUANT_EPARSE,           5,  "malformed input")                           \
    X(QUANT_ENOTFOUND,        6,  "not found")                                 \
    X(QUANT_ESTORE,           7,  "store error")                               \
    X(QUANT_ELOCKED,          8,  "store is locked by another process")        \
    X(QUANT_ENET,             9,  "network error")                             \
    X(QUANT_ETIMEOUT,         10, "timed out")                                 \
    X(QUANT_EHTTP,            11, "HTTP error status")                         \
    X(QUANT_ETOOBIG,          12, "response or input too large")               \
    X(QUANT_EAPI,             13, "API rejected the call")                     \
    X(QUANT_ERATELIMIT,       14, "API rate limit (per minute) reached")       \
    X(QUANT_EDAILYLIMIT,      15, "API daily request limit reached")           \
    X(QUANT_EPREMIUM,         16, "API endpoint needs a premium key")          \
    X(QUANT_ENOKEY,           17, "API key missing")                           \
    X(QUANT_EBUDGET,          18, "daily request budget spent")                \
    X(QUANT_EVALIDATION,      19, "data failed validation")                    \
    X(QUANT_ESCHEMA,          20, "store schema is newer than this quant")     \
    X(QUANT_EREADONLY,        21, "store opened read-only")                    \
    X(QUANT_EINTERNAL,        22, "internal error")                            \
    X(QUANT_ELINEAGE,         23, "bars from another source are stored")       \
    X(QUANT_ECONFLICT,        24, "changed by another writer meanwhile")

enum quant_code {
#define QUANT_X_ENUM(name, num, desc) name = num,
    QUANT_ERROR_TABLE(QUANT_X_ENUM)
#undef QUANT_X_ENUM
};

#define QUANT_ERR_MSG_MAX 1024

/* A caller-owned error slot: put one on the stack, pass its address down. */
struct quant_err {
    enum quant_code code;          /* QUANT_OK until something fails */
    char msg[QUANT_ERR_MSG_MAX];   /* human sentence; empty when code == QUANT_OK */
};

/* Reset to QUANT_OK with an empty message. */
void quant_err_clear(struct quant_err *err);

/*
 * Record a failure: sets err->code and formats err->msg (truncated to fit).
 * A message is one line: control bytes that arrive through quoted outside
 * text (an escape sequence in a symbol or a file name) become '?', so a
 * message is safe to print on a terminal or write to a log.  Registered
 * secrets are masked (see quant_secret_add).  Returns code so callers can
 * write `return quant_err_set(err, QUANT_EIO, ...)`.
 * err may be NULL (the message is then dropped).
 */
enum quant_code quant_err_set(struct quant_err *err, enum quant_code code,
                              const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Prefix the existing message with context ("ingest AAPL: " + old message).
 * Keeps the code; control bytes become '?' and secrets are masked as above.
 * Returns err->code.
 */
enum quant_code quant_err_prefix(struct quant_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Secrets (the API key) never appear in a message or a stored error text.
 * quant_err_set and quant_err_prefix mask every registered secret in what
 * they produce, so text quoted from anywhere (a CSV field of a file the user
 * pointed at, an API's sentence, a URL) is covered wherever the message came
 * from; code that builds other user-facing text outside a quant_err (a
 * warning, a row stored in the metadata store) passes it through
 * quant_mask_secrets once, where it is produced or stored.
 *
 * quant_secret_add registers a secret (copied; at most 4, each 4..255 bytes:
 * shorter ones are too likely to occur by chance and are ignored).  It is
 * called where a key enters the library (quant_config_resolve, quant_av_open);
 * callers need not call it themselves.  Thread-safe.
 */
void quant_secret_add(const char *secret);

/* Forget every registered secret (tests). */
void quant_secret_clear(void);

/*
 * Replace, in place, every occurrence of a registered secret in text (NUL
 * terminated) by "***".  A quote cut short can end inside the key, so a run
 * of at least 8 characters that matches the start of a secret is masked too.
 */
void quant_mask_secrets(char *text);

/* Static short description of a code ("network error"); never NULL. */
const char *quant_code_str(enum quant_code code);

/* Static symbolic name of a code ("QUANT_ENET"); never NULL. */
const char *quant_code_name(enum quant_code code);

#endif
