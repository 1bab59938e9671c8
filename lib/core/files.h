/*
 * files.h: folder helpers the library shares (inside lib only).
 */
#ifndef QUANT_CORE_FILES_H
#define QUANT_CORE_FILES_H

#include "quant/error.h"

/* Create dir and its missing parents (mode 0755 before the umask);
 * QUANT_EIO naming the folder that could not be made. */
enum quant_code quant_mkdir_p(const char *dir, struct quant_err *err);

/* Remove path and everything under it, best effort (nothing to report: its
 * callers clean up after a failure that is already reported, or after
 * success).  Symbolic links are removed, never followed. */
void quant_remove_tree(const char *path);

#endif
