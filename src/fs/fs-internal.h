/* The handlers fs/fs.c lists (one `static const struct fs_ops` per filesystem, defined beside
 * the filesystem's own code), and helpers the handlers share. */
#pragma once

#include "fs/fs.h"

extern const struct fs_ops ext4_fs_ops; /* fs/ext4/ops.c */
extern const struct fs_ops fat_fs_ops;  /* fs/fat/ops.c: "vfat" */
extern const struct fs_ops erofs_fs_ops; /* fs/erofs/ops.c */
extern const struct fs_ops swap_fs_ops; /* fs/swap/swap.c */
extern const struct fs_ops raw_fs_ops;  /* fs/raw.c */
extern const struct fs_ops none_fs_ops; /* fs/none.c */

/* The request's label, or def when it has none; -EINVAL naming the request when it is longer
 * than the max bytes a label of filesystem fs holds. */
int fs_request_label(const struct fs_request *rq, const char *fs, const char *def, size_t max,
		     struct diag *d, const char **ret);
