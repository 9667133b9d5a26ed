/* The filesystem in a grown partition (resize): ext4 is grown by ext4_grow(), a swap area's
 * header gets its new page count, FAT and anything we do not recognise keep their size (the
 * partition alone grows). Writes go into the resize view. */
#pragma once

#include <stdint.h>

#include "fs/ext4/ext4.h"

struct diag;
struct resize_view;
struct resize_part;

enum resize_fs_action {
	RESIZE_FS_UNKNOWN,   /* no filesystem we recognise: the partition alone grew */
	RESIZE_FS_UNCHANGED, /* nothing to grow (the partition did not grow) */
	RESIZE_FS_EXT4,      /* grown by ext4_grow() (info in ext4) */
	RESIZE_FS_FAT,       /* kept: FAT is not grown (the partition alone grew) */
	RESIZE_FS_SWAP,      /* the header's last page moved to the partition's end */
};

struct resize_fs {
	const char *type; /* "ext4", "vfat", "swap", NULL: none recognised */
	enum resize_fs_action action;
	struct ext4_grow_info ext4;
	uint64_t swap_old_pages, swap_new_pages;
};

/* Recognise the filesystem at p->off (in its old size) and grow it to p->new_bytes. */
int resize_fs_grow(struct resize_view *v, const struct resize_part *p, struct diag *d,
		   struct resize_fs *ret);
