/* erofs, the read-only filesystem: on-disk structures (Linux fs/erofs/erofs_fs.h, erofs-utils
 * 1.5; docs/formats/erofs.md) and the writer's plan. Uncompressed, 4 KiB blocks, metadata from
 * block 0 (meta_blkaddr 0: nid = byte offset / 32), the superblock at byte 1024 with a CRC-32C.
 * One concern per file: super.c, inode.c, xattr.c, dir.c, plan.c, emit.c, probe.c, ops.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;
struct tree;
struct tree_node;
struct image_plan;

#define EROFS_BLKBITS 12
#define EROFS_BS 4096u
#define EROFS_MAGIC 0xE0F5E1E2u
#define EROFS_SB_OFFSET 1024u
#define EROFS_LABEL_MAX 15 /* volume_name[16], NUL-terminated as mkfs.erofs -L keeps it */
#define EROFS_SLOT 32u     /* an inode's nid counts 32-byte slots */

/* Superblock: 128 bytes at byte 1024 (struct erofs_super_block). */
enum {
	EROFS_SB_MAGIC = 0,
	EROFS_SB_CHECKSUM = 4,
	EROFS_SB_FEATURE_COMPAT = 8,
	EROFS_SB_BLKSZBITS = 12,
	EROFS_SB_EXTSLOTS = 13,
	EROFS_SB_ROOT_NID = 14, /* le16 */
	EROFS_SB_INOS = 16,     /* le64 */
	EROFS_SB_BUILD_TIME = 24, /* le64 */
	EROFS_SB_BUILD_TIME_NSEC = 32,
	EROFS_SB_BLOCKS = 36,
	EROFS_SB_META_BLKADDR = 40,
	EROFS_SB_XATTR_BLKADDR = 44,
	EROFS_SB_UUID = 48,
	EROFS_SB_VOLUME_NAME = 64,
	EROFS_SB_FEATURE_INCOMPAT = 80,
	EROFS_SB_COMPR_ALGS = 84, /* le16: available_compr_algs or lz4_max_distance */
	EROFS_SB_SIZE = 128,
};

#define EROFS_FEATURE_COMPAT_SB_CHKSUM 0x1u
#define EROFS_FEATURE_COMPAT_MTIME 0x2u

struct erofs_super {
	uint32_t feature_compat, feature_incompat;
	uint8_t blkszbits;
	uint16_t root_nid;
	uint64_t inos;
	int64_t build_time;
	uint32_t build_time_nsec;
	uint32_t blocks, meta_blkaddr, xattr_blkaddr;
	uint8_t uuid[16];
	char volume_name[17];
};

/* The superblock's 128 bytes (checksum 0: erofs_super_checksum fills it). */
void erofs_super_encode(uint8_t p[EROFS_SB_SIZE], const struct erofs_super *s);
/* CRC-32C (seed ~0, no final inversion) of block 0 from byte 1024 to its end with the checksum
 * field zero, as the kernel's erofs_superblock_csum_verify: blk is the whole first block. */
uint32_t erofs_super_checksum(const uint8_t *blk, size_t bs);
/* Decode and check (hostile input): -ENOENT when the magic is not there, -EBADMSG naming the
 * field that is out of range. */
int erofs_super_decode(const uint8_t p[EROFS_SB_SIZE], struct diag *d, struct erofs_super *ret);

/* Inodes (struct erofs_inode_compact, 32 bytes; struct erofs_inode_extended, 64 bytes). */
enum {
	EROFS_INODE_FLAT_PLAIN = 0,
	EROFS_INODE_FLAT_INLINE = 2,
};
#define EROFS_INODE_COMPACT_SIZE 32u
#define EROFS_INODE_EXTENDED_SIZE 64u

struct erofs_inode {
	bool extended;
	uint8_t layout; /* EROFS_INODE_FLAT_* */
	uint16_t xattr_icount;
	uint32_t mode; /* st_mode: type | permissions */
	uint32_t nlink;
	uint64_t size;
	uint32_t u; /* raw_blkaddr, or the encoded rdev of a device */
	uint32_t ino;
	uint32_t uid, gid;
	int64_t mtime;
	uint32_t mtime_nsec;
};

/* Whether a compact inode can say it all (mtime: a compact inode has the build time). */
bool erofs_inode_needs_extended(const struct erofs_inode *i, int64_t build_time,
				uint32_t build_time_nsec);
/* 32 or 64 bytes at p, by i->extended. */
size_t erofs_inode_encode(uint8_t *p, const struct erofs_inode *i);
/* Linux's new_encode_dev(), the device number an inode's i_u holds. */
uint32_t erofs_encode_dev(uint32_t major, uint32_t minor);

/* Inline xattrs: erofs_xattr_ibody_header (12 bytes) then 4-byte aligned entries. */
#define EROFS_XATTR_IBODY_HEADER 12u
/* The bytes a node's xattrs take after its inode (0: none), or -ENOTSUP naming the first
 * xattr whose name has no erofs prefix index (user., trusted., security., POSIX ACLs). */
int erofs_xattr_size(const struct tree_node *n, struct diag *d, uint32_t *ret);
/* i_xattr_icount for an xattr area of size bytes (0 for none). */
uint16_t erofs_xattr_icount(uint32_t size);
/* Encode the node's xattr area (erofs_xattr_size bytes, validated) at p. */
void erofs_xattr_encode(uint8_t *p, const struct tree_node *n);

/* Directories: blocks of 12-byte erofs_dirent (nid le64, nameoff le16, file_type, reserved)
 * then the names, sorted bytewise with "." and "..". */
#define EROFS_DIRENT_SIZE 12u
enum {
	EROFS_FT_UNKNOWN = 0,
	EROFS_FT_REG_FILE,
	EROFS_FT_DIR,
	EROFS_FT_CHRDEV,
	EROFS_FT_BLKDEV,
	EROFS_FT_FIFO,
	EROFS_FT_SOCK,
	EROFS_FT_SYMLINK,
};
struct erofs_dirent_in {
	const char *name;
	size_t len;
	uint64_t nid;
	uint8_t type;
};
/* Sort entries bytewise by name (the kernel's lookup bisects them). */
void erofs_dirents_sort(struct erofs_dirent_in *e, size_t n);
/* i_size of a directory of these sorted entries (the last block counts its used bytes). */
uint64_t erofs_dir_size(const struct erofs_dirent_in *e, size_t n);
/* Its bytes: out holds DIV_ROUND_UP(erofs_dir_size, EROFS_BS) zeroed blocks. */
void erofs_dir_encode(uint8_t *out, const struct erofs_dirent_in *e, size_t n);
uint8_t erofs_file_type(uint8_t tree_type);

/* Compression (compress.c): one-block pclusters, legacy lcluster indexes. */
enum { EROFS_Z_NONE = 0, EROFS_Z_LZ4, EROFS_Z_LZ4HC };
#define EROFS_Z_WINDOW (64u * 1024) /* input offered per block: extents of at most 64 KiB */
#define EROFS_Z_MAP_HEADER 8u
#define EROFS_INODE_COMPRESSED_FULL 1
#define EROFS_FEATURE_INCOMPAT_LZ4_0PADDING 0x1u
struct erofs_z;
struct erofs_z *erofs_z_new(uint8_t alg, uint32_t level);
struct erofs_z *erofs_z_free(struct erofs_z *z);
/* One block from src (r bytes left in the file from here): the bytes consumed, *ret_plain when
 * they are stored as they are. block gets the 4096 bytes to write. */
size_t erofs_z_block(struct erofs_z *z, const uint8_t *src, size_t r, uint8_t *block,
		     bool *ret_plain);
/* Bytes of a compressed inode's map header, padding and indexes (after the 8-aligned end of
 * its xattrs). */
size_t erofs_z_index_size(uint64_t size);
/* Encode them: ext[k] = extent k's start << 1 | plain, blocks from blkaddr on. */
void erofs_z_index_encode(uint8_t *p, uint64_t size, const uint64_t *ext, uint32_t n,
			  uint32_t blkaddr);

/* The plan. Per tree node (by tree index): where its inode sits and where its data goes. */
struct erofs_ino {
	uint64_t nid;     /* a hard link's is its primary's */
	uint64_t size;    /* i_size (a directory's: its dirent bytes) */
	uint32_t blkaddr; /* first data block (0: none) */
	uint32_t xsize;   /* xattr area bytes */
	uint32_t ino;     /* i_ino */
	uint32_t nz;      /* compressed: its extents (= blocks), from zext[zfirst] */
	uint64_t zfirst;
	bool extended, inline_tail, compressed;
};

struct erofs_params {
	const char *what;
	char label[EROFS_LABEL_MAX + 1];
	uint8_t uuid[16];
	int64_t build_time; /* for an empty tree only: else the most common mtime */
	uint8_t compression; /* EROFS_Z_* */
	uint32_t level;      /* lz4hc: 1-12, 0 the default (9) */
};

struct erofs_plan {
	struct erofs_params p;
	const struct tree *t;
	struct erofs_ino *ino; /* t->n_nodes */
	uint32_t *order;       /* tree indices of inodes (primaries), in nid order */
	uint64_t *zext;        /* compressed files' extents: start << 1 | plain */
	size_t n_zext, cap_zext;
	size_t n_order;
	int64_t build_time;    /* the superblock's: the most common mtime */
	uint32_t build_time_nsec;
	uint64_t meta_end;     /* byte after the last inode record */
	uint32_t blocks;       /* the filesystem's size in blocks */
};

/* Lay the tree out; its size is blocks * EROFS_BS. */
int erofs_plan_new(const struct erofs_params *p, const struct tree *t, struct diag *d,
		   struct erofs_plan **ret);
struct erofs_plan *erofs_plan_free(struct erofs_plan *pl);
/* A directory's sorted entries (n_children + 2, caller frees). */
struct erofs_dirent_in *erofs_plan_dirents(const struct erofs_plan *pl, const struct tree_node *n,
					   size_t *ret_n);
/* The inode of primary node n as planned (layout, size, block, owner, times). */
void erofs_plan_inode(const struct erofs_plan *pl, const struct tree_node *n,
		      struct erofs_inode *ret);
/* Add the filesystem's ranges at byte base. */
void erofs_plan_ranges(const struct erofs_plan *pl, uint64_t base, struct image_plan *ip);
/* Bytes [off, off + len) of the filesystem's metadata (block 0 to meta_end), zeroed buf. */
int erofs_meta_fill(const struct erofs_plan *pl, uint64_t off, uint8_t *buf, size_t len,
		    struct diag *d);
