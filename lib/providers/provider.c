/*
 * provider.c: the two helpers every provider's caller needs, independent of
 * any one source: closing a provider through its ops table and freeing the
 * string arrays list_symbols() hands out.
 */
#include "providers/provider_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

void quant_provider_close(struct quant_provider *p)
{
    if (!p)
        return;
    if (p->ops && p->ops->close && p->state)
        p->ops->close(p->state);
    p->state = NULL;
    p->ops = NULL;
}

void quant_strings_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

long quant_strings_find(char *const *v, size_t n, const char *s)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(v[mid], s);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}
