/*
 * assets.c: lookup in the table of files compiled into the binary.  The table
 * itself (quant_web_assets_, quant_web_assets_n_) is generated at build time
 * by CMakeLists.txt from web/ and the vendored chart library; this file only
 * maps a decoded request path onto it.  It never reads the filesystem, which
 * is what makes path traversal impossible by construction.
 */
#include "web/web_internal.h"

#include <string.h>

#include "core/banned.h"

extern const struct quant_web_asset quant_web_assets_[];
extern const size_t quant_web_assets_n_;

const struct quant_web_asset *quant_web_asset_find(const char *path)
{
    if (!path)
        return NULL;
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (size_t i = 0; i < quant_web_assets_n_; i++)
        if (strcmp(quant_web_assets_[i].path, path) == 0)
            return &quant_web_assets_[i];
    return NULL;
}
