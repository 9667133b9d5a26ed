/* Committing a resize: the changes recorded in the view reach the image file. Raw images are
 * changed in place (ftruncate, then the writes in the order they were made, with the old bytes
 * kept to restore them if anything fails or a signal comes); every other format is rewritten
 * through its own sink into a temporary file renamed over the original when complete
 * (util/outfile.h), reading only the ranges that hold data. */
#pragma once

#include <stdint.h>

struct diag;
struct format_ops;
struct format_params;
struct resize_view;

/* fd: the raw image opened read-write. On failure the file is as it was (size and bytes). */
int resize_commit_in_place(struct resize_view *v, int fd, const char *path, struct diag *d);
/* The whole new disk through the sink ops with params fp (virtual_size = the new size),
 * renamed over path when complete; on failure path is unchanged. */
int resize_commit_rewrite(struct resize_view *v, const char *path, const struct format_ops *ops,
			  const struct format_params *fp, struct diag *d);
