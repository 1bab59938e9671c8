/*
 * provider.c: the two helpers every provider's caller needs, independent of
 * any one source: closing a provider through its ops table and freeing the
 * string arrays list_symbols() hands out.
 */
#include "providers/provider_internal.h"

#include <stdlib.h>

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
