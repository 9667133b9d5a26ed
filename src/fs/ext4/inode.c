/* ext4 inodes: 256-byte records with i_extra_isize 32, encoded on demand from the plan
 * (ext4 disk layout, "Index Nodes"). docs/formats/ext4.md, "Inodes". */
#include "fs/ext4/ext4-plan.h"

#include <string.h>
#include <sys/stat.h>

#include "tree/tree.h"
#include "util/endian.h"

enum {
	EXT4_I_MODE = 0x00,
	EXT4_I_UID = 0x02,
	EXT4_I_SIZE_LO = 0x04,
	EXT4_I_ATIME = 0x08,
	EXT4_I_CTIME = 0x0c,
	EXT4_I_MTIME = 0x10,
	EXT4_I_GID = 0x18,
	EXT4_I_LINKS_COUNT = 0x1a,
	EXT4_I_BLOCKS_LO = 0x1c,
	EXT4_I_FLAGS = 0x20,
	EXT4_I_BLOCK = 0x28, /* 60 bytes */
	EXT4_I_FILE_ACL_LO = 0x68,
	EXT4_I_SIZE_HIGH = 0x6c,
	EXT4_I_BLOCKS_HIGH = 0x74,
	EXT4_I_FILE_ACL_HIGH = 0x76,
	EXT4_I_UID_HIGH = 0x78,
	EXT4_I_GID_HIGH = 0x7a,
	EXT4_I_EXTRA_ISIZE = 0x80,
	EXT4_I_CTIME_EXTRA = 0x84,
	EXT4_I_MTIME_EXTRA = 0x88,
	EXT4_I_ATIME_EXTRA = 0x8c,
	EXT4_I_CRTIME = 0x90,
	EXT4_I_CRTIME_EXTRA = 0x94,
};

#define EXT4_INDEX_FL 0x1000u
#define EXT4_EXTENTS_FL 0x80000u
#define EXT4_FAST_SYMLINK_MAX 60u

/* Low 32 bits of seconds, then nanoseconds << 2 | epoch bits (kernel ext4_encode_extra_time). */
static void put_time(uint8_t *buf, size_t off, size_t extra_off, int64_t sec, uint32_t nsec)
{
	uint32_t epoch = (uint32_t)(((uint64_t)(sec - (int32_t)sec) >> 32) & 3);

	le32_put(buf + off, (uint32_t)sec);
	le32_put(buf + extra_off, (nsec << 2) | epoch);
}

static void put_times(uint8_t *buf, int64_t sec, uint32_t nsec)
{
	put_time(buf, EXT4_I_ATIME, EXT4_I_ATIME_EXTRA, sec, nsec);
	put_time(buf, EXT4_I_CTIME, EXT4_I_CTIME_EXTRA, sec, nsec);
	put_time(buf, EXT4_I_MTIME, EXT4_I_MTIME_EXTRA, sec, nsec);
	put_time(buf, EXT4_I_CRTIME, EXT4_I_CRTIME_EXTRA, sec, nsec);
}

static void put_owner(uint8_t *buf, uint32_t uid, uint32_t gid)
{
	le16_put(buf + EXT4_I_UID, (uint16_t)uid);
	le16_put(buf + EXT4_I_UID_HIGH, (uint16_t)(uid >> 16));
	le16_put(buf + EXT4_I_GID, (uint16_t)gid);
	le16_put(buf + EXT4_I_GID_HIGH, (uint16_t)(gid >> 16));
}

static void put_size(uint8_t *buf, uint64_t size)
{
	le32_put(buf + EXT4_I_SIZE_LO, (uint32_t)size);
	le32_put(buf + EXT4_I_SIZE_HIGH, (uint32_t)(size >> 32));
}

/* Extent-mapped inode: header + up to 4 extents or index entries in i_block. */
static void put_extents(const struct ext4_plan *pl, const struct ext4_ino *e, uint8_t *buf)
{
	ext4_extent_root_encode(buf + EXT4_I_BLOCK, pl->ext + e->ext_first, e->n_ext,
				pl->tree_blk + e->tree_first);
	le32_put(buf + EXT4_I_FLAGS, le32_get(buf + EXT4_I_FLAGS) | EXT4_EXTENTS_FL);
}

/* Devices as the kernel's ext4_set_inode_... stores them: old 16-bit encoding in i_block[0]
 * when major and minor fit in a byte, else the new encoding in i_block[1]. */
static void put_rdev(uint8_t *buf, uint32_t major, uint32_t minor)
{
	if (major < 256 && minor < 256) {
		le32_put(buf + EXT4_I_BLOCK, (major << 8) | minor);
	} else {
		uint32_t v = (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);

		le32_put(buf + EXT4_I_BLOCK + 4, v);
	}
}

static void encode_node(const struct ext4_plan *pl, const struct ext4_ino *e, uint8_t *buf)
{
	const struct tree_node *n = e->node;
	uint64_t size = 0;

	le16_put(buf + EXT4_I_MODE, (uint16_t)tree_node_st_mode(n));
	put_owner(buf, n->uid, n->gid);
	put_times(buf, n->mtime_sec, n->mtime_nsec);
	switch (n->type) {
	case TREE_DIR:
		size = (uint64_t)pl->dirs[e->dir].blocks * EXT4_BLOCK_SIZE;
		put_extents(pl, e, buf);
		if (pl->dirs[e->dir].indexed)
			le32_put(buf + EXT4_I_FLAGS, le32_get(buf + EXT4_I_FLAGS) | EXT4_INDEX_FL);
		break;
	case TREE_REG:
		size = n->size;
		put_extents(pl, e, buf);
		break;
	case TREE_SYMLINK:
		size = n->size;
		if (size < EXT4_FAST_SYMLINK_MAX)
			memcpy(buf + EXT4_I_BLOCK, n->link_target, size);
		else
			put_extents(pl, e, buf);
		break;
	case TREE_CHR:
	case TREE_BLK:
		put_rdev(buf, n->rdev_major, n->rdev_minor);
		break;
	case TREE_FIFO:
	case TREE_SOCK:
		break;
	}
	put_size(buf, size);
	if (tree_node_n_xattrs(n) && !e->xattr_block)
		ext4_xattr_inode_encode(buf, tree_node_xattrs(n), tree_node_n_xattrs(n));
}

/* lost+found as mke2fs makes it: root-owned 0700, 16 KiB. */
static void encode_lpf(const struct ext4_plan *pl, const struct ext4_ino *e, uint8_t *buf)
{
	le16_put(buf + EXT4_I_MODE, S_IFDIR | 0700);
	put_times(buf, pl->p.fs_time, 0);
	put_size(buf, (uint64_t)EXT4_LPF_BLOCKS * EXT4_BLOCK_SIZE);
	put_extents(pl, e, buf);
}

static void encode_journal(const struct ext4_plan *pl, const struct ext4_ino *e, uint8_t *buf)
{
	le16_put(buf + EXT4_I_MODE, S_IFREG | 0600);
	put_times(buf, pl->p.fs_time, 0);
	put_size(buf, (uint64_t)pl->g.journal_blocks * EXT4_BLOCK_SIZE);
	put_extents(pl, e, buf);
}

void ext4_inode_encode(const struct ext4_plan *pl, uint32_t ino, uint8_t *buf)
{
	const struct ext4_ino *e = ext4_plan_ino(pl, ino);
	uint64_t sectors = e->n_blocks * (EXT4_BLOCK_SIZE / 512);

	/* A filesystem too small for a journal (mke2fs: under 2048 blocks) leaves inode 8
	 * unused like the other reserved ones. */
	if (e->kind == EXT4_INO_UNUSED || (e->kind == EXT4_INO_JOURNAL && !pl->g.journal_blocks)) {
		/* mke2fs's write_reserved_inodes(): zero but checksummed; the bad-blocks inode
		 * also carries the creation time. */
		if (ino == 1) {
			le32_put(buf + EXT4_I_ATIME, (uint32_t)pl->p.fs_time);
			le32_put(buf + EXT4_I_CTIME, (uint32_t)pl->p.fs_time);
			le32_put(buf + EXT4_I_MTIME, (uint32_t)pl->p.fs_time);
		}
		ext4_inode_csum_set(buf, EXT4_INODE_SIZE, pl->csum_seed, ino, 0);
		return;
	}
	le16_put(buf + EXT4_I_EXTRA_ISIZE, EXT4_EXTRA_ISIZE);
	switch (e->kind) {
	case EXT4_INO_RESIZE:
		put_times(buf, pl->p.fs_time, 0);
		ext4_resize_inode_fill(pl, buf);
		ext4_inode_csum_set(buf, EXT4_INODE_SIZE, pl->csum_seed, ino, 0);
		return;
	case EXT4_INO_JOURNAL:
		encode_journal(pl, e, buf);
		break;
	case EXT4_INO_LPF:
		encode_lpf(pl, e, buf);
		break;
	default:
		encode_node(pl, e, buf);
		break;
	}
	le16_put(buf + EXT4_I_LINKS_COUNT, (uint16_t)e->links);
	le32_put(buf + EXT4_I_BLOCKS_LO, (uint32_t)sectors);
	le16_put(buf + EXT4_I_BLOCKS_HIGH, (uint16_t)(sectors >> 32));
	if (e->xattr_block) {
		le32_put(buf + EXT4_I_FILE_ACL_LO, (uint32_t)e->xattr_blk);
		le16_put(buf + EXT4_I_FILE_ACL_HIGH, (uint16_t)(e->xattr_blk >> 32));
	}
	ext4_inode_csum_set(buf, EXT4_INODE_SIZE, pl->csum_seed, ino, 0);
}
