/* ext4 extended attributes (ext4 disk-layout document, "Extended Attributes"; kernel
 * fs/ext4/xattr.c, fs/ext4/acl.c). See docs/formats/ext4-dir.md.
 *
 * A node's attributes go all into the inode body (after i_extra_isize: le32 magic, entries,
 * values packed downward from the inode's end, offsets relative to the first entry) or all
 * into one external block (32-byte header, entries, values packed downward from the block's
 * end, offsets relative to the block). Entries are sorted as the kernel keeps block entries:
 * by name index, name length, name. POSIX ACLs arrive in the VFS xattr format and are stored
 * in ext4's shorter on-disk format. */
#include "fs/ext4/ext4-internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tree/posix-acl.h"
#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/xalloc.h"

enum {
	EXT4_XATTR_MAGIC = 0,     /* le32 0xea020000; the whole in-inode header */
	EXT4_XATTR_H_REFCOUNT = 4, /* le32 */
	EXT4_XATTR_H_BLOCKS = 8,   /* le32 */
	EXT4_XATTR_H_HASH = 12,    /* le32 */
	EXT4_XATTR_H_SIZE = 32,    /* h_checksum at 16 (csum.c), h_reserved */
	EXT4_XATTR_IBODY_HDR_SIZE = 4,

	EXT4_XE_NAME_LEN = 0,    /* u8 */
	EXT4_XE_NAME_INDEX = 1,  /* u8 */
	EXT4_XE_VALUE_OFFS = 2,  /* le16 */
	EXT4_XE_VALUE_INUM = 4,  /* le32, 0: value stored here */
	EXT4_XE_VALUE_SIZE = 8,  /* le32 */
	EXT4_XE_HASH = 12,       /* le32 */
	EXT4_XE_NAME = 16,

	EXT4_XATTR_END_SIZE = 4, /* four zero bytes end the entry table */
	EXT4_XATTR_INODE_SPACE = EXT4_INODE_SIZE - 128 - EXT4_EXTRA_ISIZE - EXT4_XATTR_IBODY_HDR_SIZE,
	EXT4_XATTR_BLOCK_SPACE = EXT4_BLOCK_SIZE - EXT4_XATTR_H_SIZE,

	/* POSIX ACLs: ext4's own form (the VFS form is tree/posix-acl.h) */
	EXT4_ACL_VERSION = 1,
};

#define EXT4_XATTR_MAGIC_VALUE 0xea020000u

static const struct {
	const char *prefix;
	bool exact; /* the whole name, stored with an empty suffix */
	uint8_t index;
} xattr_prefixes[] = {
	{ "user.", false, 1 },
	{ "system.posix_acl_access", true, 2 },
	{ "system.posix_acl_default", true, 3 },
	{ "trusted.", false, 4 },
	{ "security.", false, 6 },
	{ "system.", false, 7 },
};

struct xent {
	uint8_t index;
	const char *suffix;
	size_t suffix_len;
	uint8_t *value; /* owned copy, zero-padded to a multiple of 4 */
	size_t len;
};

static size_t entry_size(size_t suffix_len)
{
	return ROUND_UP(EXT4_XE_NAME + suffix_len, 4);
}

/* VFS ACL (v2 header, 8-byte entries) to ext4 ACL (v1 header, 4-byte entries for the
 * *_OBJ, MASK and OTHER tags); ext4_acl_to_disk in fs/ext4/acl.c. */
static int acl_to_disk(const struct tree_xattr *x, struct diag *d, uint8_t **ret, size_t *ret_len)
{
	size_t n, o = 4;
	uint8_t *out;

	if (x->len < 4 || (x->len - 4) % 8 || le32_get(x->value) != POSIX_ACL_XATTR_VERSION)
		return diag_fail(d, -EINVAL, "%s: not a POSIX ACL (version 2) of 8-byte entries",
				 x->name);
	n = (x->len - 4) / 8;
	out = xcalloc(1, ROUND_UP(4 + 8 * n, 4) + 4);
	le32_put(out, EXT4_ACL_VERSION);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = x->value + 4 + 8 * i;
		uint16_t tag = le16_get(p);

		le16_put(out + o, tag);
		le16_put(out + o + 2, le16_get(p + 2));
		switch (tag) {
		case ACL_USER_OBJ:
		case ACL_GROUP_OBJ:
		case ACL_MASK:
		case ACL_OTHER:
			o += 4;
			break;
		case ACL_USER:
		case ACL_GROUP:
			le32_put(out + o + 4, le32_get(p + 4));
			o += 8;
			break;
		default:
			free(out);
			return diag_fail(d, -EINVAL, "%s: unknown ACL entry tag 0x%x", x->name, tag);
		}
	}
	*ret = out;
	*ret_len = o;
	return 0;
}

static int xent_prepare(const struct tree_xattr *x, struct diag *d, struct xent *e)
{
	size_t name_len = strlen(x->name);

	for (size_t i = 0; i < ARRAY_SIZE(xattr_prefixes); i++) {
		size_t pl = strlen(xattr_prefixes[i].prefix);

		if (xattr_prefixes[i].exact ? strcmp(x->name, xattr_prefixes[i].prefix) != 0
					    : strncmp(x->name, xattr_prefixes[i].prefix, pl) != 0)
			continue;
		if (!xattr_prefixes[i].exact && name_len == pl)
			return diag_fail(d, -EINVAL, "extended attribute \"%s\" has an empty name",
					 x->name);
		if (name_len - pl > 255)
			return diag_fail(d, -EINVAL,
					 "extended attribute \"%.40s...\" name is longer than 255 "
					 "bytes after its prefix",
					 x->name);
		e->index = xattr_prefixes[i].index;
		e->suffix = x->name + pl;
		e->suffix_len = name_len - pl;
		if (e->index == 2 || e->index == 3)
			return acl_to_disk(x, d, &e->value, &e->len);
		if (x->len > EXT4_XATTR_BLOCK_SPACE)
			return diag_fail(d, -E2BIG, "extended attribute \"%s\" value of %zu bytes "
					 "does not fit an ext4 block", x->name, x->len);
		e->len = x->len;
		e->value = xcalloc(1, ROUND_UP(x->len, 4) + 4);
		if (x->len)
			memcpy(e->value, x->value, x->len);
		return 0;
	}
	return diag_fail(d, -ENOTSUP,
			 "extended attribute \"%s\": ext4 stores only user., trusted., security., "
			 "system. and POSIX ACL attributes; drop it",
			 x->name);
}

static int xent_cmp(const void *pa, const void *pb)
{
	const struct xent *a = pa, *b = pb;

	if (a->index != b->index)
		return a->index - b->index;
	if (a->suffix_len != b->suffix_len)
		return a->suffix_len < b->suffix_len ? -1 : 1;
	return memcmp(a->suffix, b->suffix, a->suffix_len);
}

static void xents_free(struct xent *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].value);
	free(e);
}

/* Converted, sorted entries; *ret_need = entry table + terminator + values in bytes. */
static int xents_prepare(const struct tree_xattr *x, size_t n, struct diag *d,
			 struct xent **ret, size_t *ret_need)
{
	struct xent *e = xcalloc(n ? n : 1, sizeof(*e));
	size_t need = EXT4_XATTR_END_SIZE;

	for (size_t i = 0; i < n; i++) {
		int r = xent_prepare(&x[i], d, &e[i]);

		if (r < 0) {
			xents_free(e, n);
			return r;
		}
		need += entry_size(e[i].suffix_len) + ROUND_UP(e[i].len, 4);
	}
	qsort(e, n, sizeof(*e), xent_cmp);
	*ret = e;
	*ret_need = need;
	return 0;
}

/* The kernel's ext4_xattr_hash_entry (unsigned name bytes; e2fsck accepts it). */
static uint32_t xent_hash(const struct xent *e)
{
	uint32_t h = 0;

	for (size_t i = 0; i < e->suffix_len; i++)
		h = (h << 5) ^ (h >> 27) ^ (uint8_t)e->suffix[i];
	for (size_t i = 0; i < ROUND_UP(e->len, 4); i += 4)
		h = (h << 16) ^ (h >> 16) ^ le32_get(e->value + i);
	return h;
}

/* Entries at base + first, values from base + end downward; value offsets relative to
 * base + rel. Returns the block hash as ext4_xattr_rehash computes it. */
static uint32_t xents_encode(uint8_t *base, size_t first, size_t end, size_t rel,
			     const struct xent *e, size_t n)
{
	uint32_t block_hash = 0;
	bool hash_ok = true;
	size_t off = first;

	for (size_t i = 0; i < n; i++) {
		uint8_t *p = base + off;
		uint32_t h = xent_hash(&e[i]);

		p[EXT4_XE_NAME_LEN] = (uint8_t)e[i].suffix_len;
		p[EXT4_XE_NAME_INDEX] = e[i].index;
		if (e[i].len) {
			end -= ROUND_UP(e[i].len, 4);
			memcpy(base + end, e[i].value, ROUND_UP(e[i].len, 4));
			le16_put(p + EXT4_XE_VALUE_OFFS, (uint16_t)(end - rel));
		}
		le32_put(p + EXT4_XE_VALUE_INUM, 0);
		le32_put(p + EXT4_XE_VALUE_SIZE, (uint32_t)e[i].len);
		le32_put(p + EXT4_XE_HASH, h);
		memcpy(p + EXT4_XE_NAME, e[i].suffix, e[i].suffix_len);
		off += entry_size(e[i].suffix_len);
		/* ext4_xattr_rehash: a zero entry hash makes the block hash zero */
		if (h == 0)
			hash_ok = false;
		block_hash = hash_ok ? (block_hash << 16) ^ (block_hash >> 16) ^ h : 0;
	}
	memset(base + off, 0, EXT4_XATTR_END_SIZE);
	return block_hash;
}

int ext4_xattr_placement(const struct tree_xattr *x, size_t n, struct diag *d,
			 bool *ret_needs_block)
{
	struct xent *e;
	size_t need;
	int r;

	r = xents_prepare(x, n, d, &e, &need);
	if (r < 0)
		return r;
	xents_free(e, n);
	if (n == 0 || need <= EXT4_XATTR_INODE_SPACE) {
		*ret_needs_block = false;
		return 0;
	}
	if (need > EXT4_XATTR_BLOCK_SPACE)
		return diag_fail(d, -E2BIG,
				 "%zu extended attributes need %zu bytes; an ext4 block holds %u",
				 n, need, EXT4_XATTR_BLOCK_SPACE);
	*ret_needs_block = true;
	return 0;
}

void ext4_xattr_inode_encode(uint8_t *inode, const struct tree_xattr *x, size_t n)
{
	size_t hdr = 128 + EXT4_EXTRA_ISIZE, first = hdr + EXT4_XATTR_IBODY_HDR_SIZE;
	struct xent *e;
	size_t need;
	struct diag d;

	if (n == 0)
		return;
	if (xents_prepare(x, n, &d, &e, &need) < 0) {
		assert(!"ext4_xattr_placement accepted these attributes");
		return;
	}
	assert(need <= EXT4_XATTR_INODE_SPACE);
	memset(inode + hdr, 0, EXT4_INODE_SIZE - hdr);
	le32_put(inode + hdr + EXT4_XATTR_MAGIC, EXT4_XATTR_MAGIC_VALUE);
	(void)xents_encode(inode, first, EXT4_INODE_SIZE, first, e, n);
	xents_free(e, n);
}

void ext4_xattr_block_encode(uint8_t *buf, const struct tree_xattr *x, size_t n,
			     uint32_t csum_seed, uint64_t blocknr)
{
	struct xent *e;
	size_t need;
	struct diag d;

	if (xents_prepare(x, n, &d, &e, &need) < 0) {
		assert(!"ext4_xattr_placement accepted these attributes");
		return;
	}
	assert(need <= EXT4_XATTR_BLOCK_SPACE);
	memset(buf, 0, EXT4_BLOCK_SIZE);
	le32_put(buf + EXT4_XATTR_MAGIC, EXT4_XATTR_MAGIC_VALUE);
	le32_put(buf + EXT4_XATTR_H_REFCOUNT, 1);
	le32_put(buf + EXT4_XATTR_H_BLOCKS, 1);
	le32_put(buf + EXT4_XATTR_H_HASH,
		 xents_encode(buf, EXT4_XATTR_H_SIZE, EXT4_BLOCK_SIZE, 0, e, n));
	ext4_xattr_block_csum_set(buf, EXT4_BLOCK_SIZE, csum_seed, blocknr);
	xents_free(e, n);
}
