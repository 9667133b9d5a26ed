/* Reading an existing FAT12/16/32 filesystem's boot sector (and free count), for
 * `mkdiskimage inspect` (users, not tests). The input is hostile. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/fat/fat.h"

struct diag;

/* Reads len bytes at byte off of the filesystem. */
typedef int (*fat_probe_read_fn)(void *ctx, uint64_t off, void *buf, size_t len,
				 struct diag *d);

struct fat_probe_info {
	enum fat_type type;
	char label[12];
	uint32_t volume_id;
	uint64_t size_bytes;
	uint32_t cluster_bytes;
	uint32_t n_clus, free_clus;
};

/* -ENOENT when the boot sector is not a FAT one; -EBADMSG naming the field when it is
 * inconsistent. size is the partition's size in bytes. */
int fat_probe(fat_probe_read_fn read, void *ctx, uint64_t size, struct diag *d,
	      struct fat_probe_info *ret);
