/* Filesystem handlers: what the build asks of any partition's filesystem, whatever it is.
 * One `static const struct fs_ops` per filesystem (ext4, vfat, swap, raw, none), listed in
 * fs/fs.c; the build plans root and boot partitions alike through it, `inspect` probes with
 * it, and a spec's fsType / a partition's "fs" is checked against it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;
struct image_plan;
struct tree;

/* What a caller can offer for a filesystem of at least min_bytes (>= min_bytes): e.g. the
 * partition of the smallest whole-MiB disk that holds it (as struct ext4_size_fit). */
struct fs_fit {
	int (*fn)(void *ctx, uint64_t min_bytes, uint64_t *ret_bytes);
	void *ctx;
};

/* One filesystem to plan. Identifiers not given are derived from seed and role, with the keys
 * the build always used (so existing images keep their bytes): ext4 "ext4-hash-seed" for the
 * role "root" ("ext4-hash-seed:<role>" otherwise), FAT "fat-volume-id:<role>", swap
 * "swap-uuid:<role>". An ext4 UUID not given is "ext4-uuid" ("ext4-uuid:<role>"); a
 * deterministic root's is its GPT partition UUID (build_ids), which the caller passes as set.
 * Labels: ext4 up to 16 bytes, vfat 11, swap 15 (as mkswap and swaplabel); longer is -EINVAL. */
struct fs_request {
	const char *what; /* names it in messages: "root filesystem", "ESP", "partition 3" */
	const char *role; /* "root", "esp", "xbootldr", "swap", "part3": id derivation */
	const char *seed;
	const char *label;  /* NULL: the handler's default ("" for none) */
	bool uuid_set;      /* uuid given (rootFSUID); else derived */
	uint8_t uuid[16];   /* RFC 4122 byte order */
	uint64_t size_bytes;  /* plan: the partition's size; min_size ignores it */
	uint64_t offset;      /* the partition's byte offset on the disk (FAT hidden sectors) */
	uint64_t extra_bytes; /* free space to keep available (additionalSpace) */
	int64_t fs_time;      /* mkfs time etc.: fixed */
	const struct tree *tree; /* contents (ext4, vfat); NULL for swap, raw, none */
	const char *source;      /* raw: the host file whose bytes fill the partition, or NULL */
	uint32_t reserved_percent; /* ext4: root-reserved blocks */
	uint8_t compression;       /* erofs: enum fs_compression */
	uint32_t compression_level; /* erofs lz4hc: 1-12, 0 the default */
	bool fat_data; /* vfat: a data partition, FAT12/16/32 as plain mkfs.fat picks; else (ESP,
			* XBOOTLDR, BOOT) FAT32 whenever it fits, as mkfs.fat -F 32 */
	const struct fs_fit *fit;  /* min_size: what the layout would offer (may be NULL) */
};

/* A filesystem's own compression ("compression" lz4 or lz4hc: erofs; others ignore it). */
enum fs_compression {
	FS_COMPRESSION_NONE = 0,
	FS_COMPRESSION_LZ4,
	FS_COMPRESSION_LZ4HC,
};

/* What a planned filesystem reports (for the CLI's summary and --json). Fields a filesystem
 * does not have are 0. */
struct fs_stats {
	const char *type; /* "ext4", "vfat", ... */
	char label[64];
	uint8_t uuid[16];
	bool has_uuid;
	uint32_t volume_id; /* FAT */
	uint64_t size_bytes;
	uint64_t block_size, n_blocks, free_blocks, reserved_blocks;
	uint64_t n_inodes, free_inodes, n_groups, journal_blocks; /* ext4 */
	uint32_t fat_bits, cluster_bytes, n_clusters, free_clusters; /* FAT */
};

/* Reads [off, off + len) of the partition being probed (hostile input). */
typedef int (*fs_read_fn)(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d);

struct fs_probe {
	const struct fs_ops *ops; /* what was found */
	struct fs_stats stats;
};

struct fs_plan; /* a handler's plan, opaque */

struct fs_ops {
	const char *name;  /* "ext4", "vfat", "swap", "raw", "none" */
	bool needs_tree;   /* takes contents (a tree); otherwise request->tree must be NULL */
	/* Smallest size in bytes the filesystem can be made in for this request (whole MiB for
	 * a partition is the caller's rounding). */
	int (*min_size)(const struct fs_request *rq, struct diag *d, uint64_t *ret);
	/* Lay it out in rq->size_bytes; -ENOSPC naming the size needed. */
	int (*plan)(const struct fs_request *rq, struct diag *d, struct fs_plan **ret);
	/* Add the filesystem's non-zero ranges at byte offset base. The plan (and its tree) must
	 * outlive the image plan's emission. */
	void (*ranges)(const struct fs_plan *plan, uint64_t base, struct image_plan *ip);
	void (*stats)(const struct fs_plan *plan, struct fs_stats *ret);
	/* Recognise this filesystem at the start of a partition of size bytes: 1 and *ret filled
	 * when it is there, 0 when not, negative errno (with a message) when it is there but
	 * malformed. NULL: cannot be recognised (raw, none). */
	int (*probe)(fs_read_fn read, void *ctx, uint64_t size, struct diag *d,
		     struct fs_probe *ret);
	struct fs_plan *(*free)(struct fs_plan *plan);
};

/* The handler called name, NULL when there is none. */
const struct fs_ops *fs_ops_find(const char *name);
/* "ext4, vfat, erofs, swap, raw or none": for error messages. */
const char *fs_names(void);
/* Probe every handler in table order; 0 when none recognises the partition. */
int fs_probe_any(fs_read_fn read, void *ctx, uint64_t size, struct diag *d,
		 struct fs_probe *ret);
