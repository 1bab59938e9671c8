/* av_fixture.c: see av_fixture.h. */
#include "av_fixture.h"

#include <string.h>

int tu_av_setup(void **state)
{
    struct tu_av_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    tu_mkdtemp(f->home);
    f->lb = lb_start();
    assert_non_null(f->lb);
    char url[128];
    lb_url(f->lb, url, sizeof url);
    snprintf(f->env_home, sizeof f->env_home, "QUANT_HOME=%s", f->home);
    snprintf(f->env_url, sizeof f->env_url, "QUANT_ALPHAVANTAGE_URL=%s", url);
    const char *base[] = {f->env_home, f->env_url, "ALPHAVANTAGE_API_KEY=" TU_AV_KEY,
                          "QUANT_HTTP_BACKOFF_MS=10", "QUANT_REQUESTS_PER_MINUTE=0",
                          "QUANT_HTTP_TIMEOUT_MS=2000"};
    for (size_t i = 0; i < sizeof base / sizeof *base; i++)
        f->env[i] = base[i];
    *state = f;
    return 0;
}

int tu_av_teardown(void **state)
{
    struct tu_av_fixture *f = *state;
    lb_stop(f->lb);
    tu_rmrf(f->home);
    free(f);
    return 0;
}

void tu_av_setenv(struct tu_av_fixture *f, const char *entry)
{
    const char *eq = strchr(entry, '=');
    assert_non_null(eq);
    size_t name_len = (size_t)(eq - entry) + 1;
    size_t i = 0;
    while (f->env[i] && strncmp(f->env[i], entry, name_len) != 0)
        i++;
    assert_true(i < TU_AV_ENV_MAX);
    f->env[i] = entry;
}

void tu_av_serve(struct tu_av_fixture *f, const char *match, const char *rel)
{
    char path[PATH_MAX];
    tu_shared_path(path, rel);
    if (lb_add_file(f->lb, match, 200, path, LB_NORMAL, 0) != 0)
        fail_msg("cannot serve %s", path);
}
