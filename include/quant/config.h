/*
 * config.h: the one place that decides every setting and every path.
 *
 * Each setting is resolved in this order, first hit wins:
 *   1. a command-line flag (the CLI passes it in with quant_config_set_flag)
 *   2. an environment variable (QUANT_*, ALPHAVANTAGE_API_KEY)
 *   3. the config file $QUANT_HOME/quant.conf, if present
 *   4. the built-in default (paths default to files under QUANT_HOME)
 * QUANT_HOME itself comes from a flag, the environment or the default only,
 * since the config file lives inside it.
 *
 * quant.conf format: one `key = value` per line; blank lines and lines starting
 * with '#' are ignored; keys are the names in the table below (the environment
 * names such as QUANT_DUCKDB_PATH are accepted too); values may be wrapped in
 * double quotes.  An unknown key or a malformed line is a QUANT_ECONFIG error
 * naming the file and line, so a typo never silently falls back to a default.
 *
 * The API key is a secret: quant_config_display() masks it, and no function
 * here ever puts it in an error message.  A password inside meta_url is
 * treated the same: shown as ****, and registered with quant_secret_add so no
 * message carries it.
 *
 * meta_url decides where the metadata store is.  Unset, it is sqlite:/// and
 * the sqlite_path setting, so a configuration that only names sqlite_path
 * keeps working; set, it wins over sqlite_path.
 *
 * Ownership: struct quant_config owns all its strings; init/release.
 */
#ifndef QUANT_CONFIG_H
#define QUANT_CONFIG_H

/* The threads setting and every --threads take 1..QUANT_THREADS_MAX. */
#define QUANT_THREADS_MAX 64

#include <stddef.h>

#include "quant/error.h"

/* X(id, file key, environment variable, default, is_secret, description) */
#define QUANT_SETTINGS_TABLE(X)                                                          \
    X(QUANT_SET_HOME, "home", "QUANT_HOME", "./.quant", 0,                               \
      "folder holding the stores, models and quant.conf")                               \
    X(QUANT_SET_DUCKDB_PATH, "duckdb_path", "QUANT_DUCKDB_PATH", NULL, 0,                \
      "DuckDB time-series store (default $QUANT_HOME/quant.duckdb)")                    \
    X(QUANT_SET_SQLITE_PATH, "sqlite_path", "QUANT_SQLITE_PATH", NULL, 0,                \
      "SQLite metadata store (default $QUANT_HOME/meta.sqlite)")                        \
    X(QUANT_SET_META_URL, "meta_url", "QUANT_META_URL", NULL, 0,                         \
      "metadata store: sqlite:///PATH or postgresql://USER@HOST:PORT/DB (default "     \
      "sqlite:/// and sqlite_path; a password in it is never shown)")                  \
    X(QUANT_SET_LAKE, "lake", "QUANT_LAKE", "", 0,                                       \
      "lake mode: a shared folder of Parquet files holds the series, the metadata "     \
      "store says which files are live (\"\" = off: the DuckDB store)")                \
    X(QUANT_SET_MODELS_DIR, "models_dir", "QUANT_MODELS_DIR", NULL, 0,                    \
      "trained model files (default $QUANT_HOME/models; in lake mode $QUANT_LAKE/models)") \
    X(QUANT_SET_API_KEY, "alphavantage_api_key", "ALPHAVANTAGE_API_KEY", "", 1,          \
      "Alpha Vantage API key (never printed or stored)")                                \
    X(QUANT_SET_AV_URL, "alphavantage_url", "QUANT_ALPHAVANTAGE_URL",                    \
      "https://www.alphavantage.co/query", 0, "Alpha Vantage endpoint")                 \
    X(QUANT_SET_RPM, "requests_per_minute", "QUANT_REQUESTS_PER_MINUTE", "5", 0,         \
      "client-side limit on Alpha Vantage requests per minute (0 = none)")              \
    X(QUANT_SET_DAILY_BUDGET, "daily_budget", "QUANT_DAILY_BUDGET", "25", 0,             \
      "Alpha Vantage requests allowed per UTC day for this key")                        \
    X(QUANT_SET_HTTP_TIMEOUT_MS, "http_timeout_ms", "QUANT_HTTP_TIMEOUT_MS", "30000", 0, \
      "timeout of one HTTP request, in milliseconds")                                   \
    X(QUANT_SET_HTTP_RETRIES, "http_retries", "QUANT_HTTP_RETRIES", "3", 0,              \
      "retries of a transient HTTP failure (429, 5xx, timeout)")                        \
    X(QUANT_SET_HTTP_BACKOFF_MS, "http_backoff_ms", "QUANT_HTTP_BACKOFF_MS", "1000", 0,  \
      "first retry delay in milliseconds, doubled on each retry")                       \
    X(QUANT_SET_LOCK_TIMEOUT_MS, "lock_timeout_ms", "QUANT_LOCK_TIMEOUT_MS", "10000", 0, \
      "how long to wait for a store another process holds, in milliseconds")            \
    X(QUANT_SET_COMPACT_DAYS, "compact_window_days", "QUANT_COMPACT_WINDOW_DAYS", "120", \
      0, "incremental ingest fetches compact (100 days) when the newest stored bar "    \
         "is at most this many calendar days old")                                       \
    X(QUANT_SET_THREADS, "threads", "QUANT_THREADS", "2", 0,                             \
      "worker threads for DuckDB and parallel work")                                    \
    X(QUANT_SET_MEMORY_LIMIT, "memory_limit", "QUANT_MEMORY_LIMIT", "2GB", 0,            \
      "DuckDB memory limit")                                                            \
    X(QUANT_SET_ADJUSTED, "adjusted", "QUANT_ADJUSTED", "false", 0,                      \
      "true: ingest Alpha Vantage TIME_SERIES_DAILY_ADJUSTED (premium keys), which "    \
      "publishes adjusted closes, dividends and splits")

enum quant_setting {
#define QUANT_X_SET_ENUM(id, key, env, def, secret, desc) id,
    QUANT_SETTINGS_TABLE(QUANT_X_SET_ENUM)
#undef QUANT_X_SET_ENUM
    QUANT_SETTING_COUNT
};

enum quant_config_source {
    QUANT_SRC_DEFAULT = 0,
    QUANT_SRC_FILE,
    QUANT_SRC_ENV,
    QUANT_SRC_FLAG,
};

struct quant_config {
    char *value[QUANT_SETTING_COUNT];                 /* owned; never NULL after resolve */
    enum quant_config_source source[QUANT_SETTING_COUNT];
    char *flag_value[QUANT_SETTING_COUNT];            /* owned; set by set_flag */
    char *conf_path;                                  /* owned: $QUANT_HOME/quant.conf */
    int conf_found;                                   /* the file existed */
    const char *home_default;                         /* borrowed; NULL = "./.quant" */
};

void quant_config_init(struct quant_config *cfg);
void quant_config_release(struct quant_config *cfg);

/* Record a command-line value (before resolve).  QUANT_ENOMEM only. */
enum quant_code quant_config_set_flag(struct quant_config *cfg, enum quant_setting id,
                                      const char *value);

/* Resolve every setting from flags, environment, file and defaults. */
enum quant_code quant_config_resolve(struct quant_config *cfg, struct quant_err *err);

/*
 * Resolve again with another default for QUANT_HOME (a string that must
 * outlive cfg): what `quant demo` uses so that its synthetic symbols never
 * land in the user's own ./.quant.  A home given by flag or environment
 * still wins; every other setting is resolved afresh under the new home.
 */
enum quant_code quant_config_resolve_home_default(struct quant_config *cfg, const char *home,
                                                  struct quant_err *err);

/* The resolved value (never NULL after a successful resolve). */
const char *quant_config_get(const struct quant_config *cfg, enum quant_setting id);

/*
 * The resolved value as an integer; QUANT_ECONFIG with a message naming the
 * setting, where it came from and the bad text when it is not a whole number
 * in [min, max].
 */
enum quant_code quant_config_get_long(const struct quant_config *cfg, enum quant_setting id,
                                      long min, long max, long *out, struct quant_err *err);

/* The resolved value as a flag: true/yes/on/1 or false/no/off/0 (any case);
 * QUANT_ECONFIG naming the setting otherwise. */
enum quant_code quant_config_get_bool(const struct quant_config *cfg, enum quant_setting id,
                                      int *out, struct quant_err *err);

/* Table metadata. */
const char *quant_setting_key(enum quant_setting id);
const char *quant_setting_env(enum quant_setting id);
const char *quant_setting_desc(enum quant_setting id);
const char *quant_config_source_name(enum quant_config_source src);

/*
 * The value as it may be shown to a person: secrets masked ("****" plus the
 * last 2 characters when long enough, "(not set)" when empty).
 */
void quant_config_display(const struct quant_config *cfg, enum quant_setting id,
                          char *out, size_t n);

/*
 * A fingerprint of the API key for the request ledger: 16 hex digits of a
 * salted 64-bit hash, so requests can be counted per key without the key ever
 * being stored.  "none" when no key is set.
 */
void quant_config_key_fingerprint(const struct quant_config *cfg, char out[17]);

/*
 * Metadata store URLs (meta_store.h).  The file a sqlite:/// URL names (SQLAlchemy's
 * form: sqlite:///rel/path, sqlite:////abs/path), as a pointer into url; url
 * itself when it has no scheme (a bare path); NULL for any other scheme.
 */
const char *quant_meta_url_sqlite_path(const char *url);
/* Non-zero for postgresql:// and postgres:// URLs (libpq's URI forms). */
int quant_meta_url_is_postgres(const char *url);
/* url as it may be shown: a password in user:password@ or in a password=
 * parameter becomes ****. */
void quant_meta_url_mask(const char *url, char *out, size_t n);

/* Create QUANT_HOME, the models folder and the store paths' parents if missing. */
enum quant_code quant_config_ensure_dirs(const struct quant_config *cfg, struct quant_err *err);

#endif
