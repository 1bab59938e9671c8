/* files.c: folder helpers (files.h). */
#define _GNU_SOURCE /* nftw */
#include "core/files.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/banned.h"

enum quant_code quant_mkdir_p(const char *dir, struct quant_err *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return quant_err_set(err, QUANT_EINVAL, "folder path too long: %.80s...", dir);
    size_t len = strlen(path);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return quant_err_set(err, QUANT_EIO, "cannot create folder %s: %s", path,
                                 strerror(errno));
        path[i] = c;
    }
    return QUANT_OK;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0; /* go on: remove what can be */
}

void quant_remove_tree(const char *path)
{
    nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}
