/* Reading files from an existing FAT12/16/32 filesystem (hostile input), for `inspect` and
 * boot-test's boot check (boot/detect.c): look a path up, list a directory, read a file's
 * first bytes. Every cluster chain is followed at most as far as the filesystem has clusters
 * (and a file's size needs), so a loop or a bad chain ends with -EBADMSG, not a hang. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs/fat/probe.h"
#include "util/cleanup.h"

struct diag;
struct fat_vol;

#define FAT_READ_NAME_MAX 256 /* UTF-8 bytes of a name we keep; longer names are cut */
#define FAT_READ_DIR_MAX 65536u /* entries read from one directory */

struct fat_dirent {
	char name[FAT_READ_NAME_MAX]; /* the long name (non-ASCII as '?'), else the 8.3 name */
	uint8_t attr;
	uint32_t first_clus; /* 0: empty file (or the FAT12/16 root) */
	uint32_t size;
	bool is_dir;
};

/* -ENOENT when there is no FAT filesystem; -EBADMSG naming the field when it is malformed. */
int fat_vol_open(fat_probe_read_fn read, void *ctx, uint64_t size, struct diag *d,
		 struct fat_vol **ret);
struct fat_vol *fat_vol_free(struct fat_vol *v);
DEFINE_CLEANUP_FUNC(struct fat_vol, fat_vol_free)

/* The root directory, as a dirent for fat_vol_list. */
void fat_vol_root(const struct fat_vol *v, struct fat_dirent *ret);
/* Look up a '/'-separated path (case-insensitive, as FAT names are): 1 and *ret filled when
 * found, 0 when not (a component missing or not a directory). */
int fat_vol_lookup(struct fat_vol *v, const char *path, struct diag *d, struct fat_dirent *ret);
/* Call fn for each entry of directory dir (not "." and ".."), in on-disk order, at most
 * FAT_READ_DIR_MAX entries; fn returning non-zero stops the walk, and that is returned. */
int fat_vol_list(struct fat_vol *v, const struct fat_dirent *dir,
		 int (*fn)(void *ctx, const struct fat_dirent *e), void *ctx, struct diag *d);
/* The first min(size, max) bytes of a file, NUL-terminated (*ret_len excludes the NUL). */
int fat_vol_read_file(struct fat_vol *v, const struct fat_dirent *e, size_t max, struct diag *d,
		      uint8_t **ret, size_t *ret_len);
