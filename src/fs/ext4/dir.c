/* ext4 directory blocks (ext4 disk-layout document, "Directory Entries", "Hash Tree
 * Directories"; kernel fs/ext4/namei.c). See docs/formats/ext4-dir.md.
 *
 * A directory whose entries (with '.' and '..') fit one block is linear: entries sorted by
 * name, packed with rec_len = round_up(8 + name_len, 4), the last one stretched to the end of
 * the usable space. Anything larger is an htree: entries sorted by (hash, minor hash, name)
 * and packed into leaves as full as they go, never splitting a run of equal major hashes
 * unless a run alone overflows a leaf (then the next index entry carries the continuation bit,
 * as the kernel's do_split does). Logical block order: 0 the dx root, 1..L the leaves,
 * L+1..L+N the interior index nodes (indirect_levels 1 only), as e2fsck -D lays them out.
 * With metadata_csum each leaf ends in a 12-byte fake dirent holding its crc32c. */
#include "fs/ext4/ext4-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/ext4/htree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/sort.h"
#include "util/xalloc.h"

enum {
	EXT4_DE_INODE = 0,     /* le32 */
	EXT4_DE_REC_LEN = 4,   /* le16 */
	EXT4_DE_NAME_LEN = 6,  /* u8 */
	EXT4_DE_FILE_TYPE = 7, /* u8 */
	EXT4_DE_NAME = 8,
	EXT4_DE_TAIL_SIZE = 12,
	EXT4_DE_TAIL_FT = 0xde, /* det_reserved_ft marks the checksum tail */
};

struct dir_ent {
	const uint8_t *name; /* the caller's: names outlive the layout (ext4_dir_layout_new) */
	uint32_t hash, minor, ino;
	uint8_t name_len, file_type;
};

struct ext4_dir_layout {
	uint32_t self_ino, parent_ino;
	enum ext4_hash_version version;
	bool csum, indexed;
	uint8_t levels;
	struct dir_ent *ents;
	size_t n;
	uint32_t n_leaves, n_nodes;
	uint32_t *leaf_first; /* n_leaves + 1 entry indices */
	uint32_t *leaf_hash;  /* index hash of each leaf (0 for the first, low bit = continued) */
};

static size_t rec_len(size_t name_len)
{
	return ROUND_UP(EXT4_DE_NAME + name_len, 4);
}

static size_t usable(bool csum)
{
	return EXT4_BLOCK_SIZE - (csum ? EXT4_DE_TAIL_SIZE : 0);
}

/* Bytes of a name for a message: printable ASCII as is, the rest as \xNN. */
static void name_escape(char *out, size_t size, const uint8_t *name, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < size; i++) {
		if (name[i] >= 0x20 && name[i] < 0x7f && name[i] != '\\')
			out[o++] = (char)name[i];
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", name[i]);
	}
	out[o] = '\0';
}

static int ent_check(const struct ext4_dirent *e, struct diag *d)
{
	char esc[4 * EXT4_NAME_MAX + 8];
	const char *why = NULL;

	if (e->name_len == 0)
		why = "is empty";
	else if (memchr(e->name, '/', e->name_len) || memchr(e->name, '\0', e->name_len))
		why = "contains '/' or NUL";
	else if ((e->name_len == 1 && e->name[0] == '.') ||
		 (e->name_len == 2 && e->name[0] == '.' && e->name[1] == '.'))
		why = "is reserved";
	else if (e->ino == 0)
		why = "has no inode";
	if (!why)
		return 0;
	name_escape(esc, sizeof(esc), e->name, e->name_len);
	return diag_fail(d, -EINVAL, "directory entry \"%s\" %s; rename it", esc, why);
}

static int cmp_name(const struct dir_ent *a, const struct dir_ent *b)
{
	int c = memcmp(a->name, b->name, MIN(a->name_len, b->name_len));

	return c ? c : (int)a->name_len - (int)b->name_len;
}

static int cmp_by_name(const void *x, const void *y)
{
	return cmp_name(x, y);
}

static int cmp_by_hash(const void *x, const void *y)
{
	const struct dir_ent *a = x, *b = y;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	return cmp_name(a, b);
}

/* Cut the hash-sorted entries into leaves (see the file comment). */
static void leaves_plan(struct ext4_dir_layout *l)
{
	size_t cap = usable(l->csum), i = 0, n_leaves = 0;

	l->leaf_first = xreallocarray(NULL, l->n + 1, sizeof(uint32_t));
	l->leaf_hash = xreallocarray(NULL, l->n + 1, sizeof(uint32_t));
	while (i < l->n) {
		size_t used = 0, j = i;

		while (j < l->n && used + rec_len(l->ents[j].name_len) <= cap)
			used += rec_len(l->ents[j++].name_len);
		if (j < l->n && l->ents[j].hash == l->ents[j - 1].hash) {
			size_t r = j - 1;

			while (r > i && l->ents[r - 1].hash == l->ents[j].hash)
				r--;
			if (r > i)
				j = r; /* start the next leaf with the whole run */
		}
		l->leaf_first[n_leaves] = (uint32_t)i;
		l->leaf_hash[n_leaves] = i == 0 ? 0 : l->ents[i].hash;
		if (i > 0 && l->ents[i].hash == l->ents[i - 1].hash)
			l->leaf_hash[n_leaves] |= 1; /* run continues from the previous leaf */
		n_leaves++;
		i = j;
	}
	l->leaf_first[n_leaves] = (uint32_t)l->n;
	l->n_leaves = (uint32_t)n_leaves;
	l->leaf_first = xreallocarray(l->leaf_first, n_leaves + 1, sizeof(uint32_t));
	l->leaf_hash = xreallocarray(l->leaf_hash, n_leaves, sizeof(uint32_t));
}

static void array_get(const void *ctx, size_t i, struct ext4_dirent *ret)
{
	*ret = ((const struct ext4_dirent *)ctx)[i];
}

int ext4_dir_layout_new(const struct ext4_dirent *ents, size_t n, uint32_t self_ino,
			uint32_t parent_ino, const struct ext4_dir_hash *h, bool csum,
			struct diag *d, struct ext4_dir_layout **ret)
{
	return ext4_dir_layout_build(array_get, ents, n, self_ino, parent_ino, h, csum, d, ret);
}

int ext4_dir_layout_build(ext4_dirent_get_fn get, const void *ctx, size_t n, uint32_t self_ino,
			  uint32_t parent_ino, const struct ext4_dir_hash *h, bool csum,
			  struct diag *d, struct ext4_dir_layout **ret)
{
	_cleanup_(ext4_dir_layout_freep) struct ext4_dir_layout *l = NULL;
	size_t total = 2 * rec_len(2);
	struct ext4_dirent de;
	int r;

	for (size_t i = 0; i < n; i++) {
		get(ctx, i, &de);
		r = ent_check(&de, d);
		if (r < 0)
			return r;
		total += rec_len(de.name_len);
	}
	if (n > UINT32_MAX / 2)
		return diag_fail(d, -EOVERFLOW, "directory has %zu entries; split it", n);

	l = xcalloc(1, sizeof(*l));
	l->self_ino = self_ino;
	l->parent_ino = parent_ino;
	l->version = h->version;
	l->csum = csum;
	l->n = n;
	l->ents = xreallocarray(NULL, n ? n : 1, sizeof(*l->ents));
	l->indexed = total > usable(csum);
	for (size_t i = 0; i < n; i++) {
		struct dir_ent *e = &l->ents[i];

		get(ctx, i, &de);
		*e = (struct dir_ent){ .name = de.name, .ino = de.ino, .name_len = de.name_len,
				       .file_type = de.file_type };
		if (l->indexed)
			e->hash = ext4_dirhash(h, de.name, de.name_len, &e->minor);
	}
	/* Duplicates sort next to each other either way (equal names hash equally). */
	/* In place: qsort would copy the array (80k entries in a Nix store directory). Names
	 * are distinct, so the unstable sort's order is the one order. */
	sort_in_place(l->ents, n, sizeof(*l->ents), l->indexed ? cmp_by_hash : cmp_by_name);
	for (size_t i = 1; i < n; i++) {
		if (cmp_name(&l->ents[i - 1], &l->ents[i]) == 0) {
			char esc[4 * EXT4_NAME_MAX + 8];

			name_escape(esc, sizeof(esc), l->ents[i].name, l->ents[i].name_len);
			return diag_fail(d, -EINVAL, "directory entry \"%s\" appears twice", esc);
		}
	}
	if (!l->indexed) {
		*ret = TAKE_PTR(l);
		return 0;
	}

	leaves_plan(l);
	if (l->n_leaves > ext4_dx_root_limit(csum)) {
		l->levels = 1;
		l->n_nodes = DIV_ROUND_UP(l->n_leaves, ext4_dx_node_limit(csum));
		if (l->n_nodes > ext4_dx_root_limit(csum))
			return diag_fail(d, -ENOSPC,
					 "directory has %zu entries in %u blocks, more than a "
					 "two-level htree indexes (%u); split it",
					 n, l->n_leaves,
					 ext4_dx_root_limit(csum) * ext4_dx_node_limit(csum));
	}
	*ret = TAKE_PTR(l);
	return 0;
}

uint32_t ext4_dir_layout_blocks(const struct ext4_dir_layout *l)
{
	return l->indexed ? 1 + l->n_leaves + l->n_nodes : 1;
}

bool ext4_dir_layout_indexed(const struct ext4_dir_layout *l)
{
	return l->indexed;
}

static size_t dirent_put(uint8_t *p, uint32_t ino, const uint8_t *name, uint8_t name_len,
			 uint8_t file_type, size_t rl)
{
	le32_put(p + EXT4_DE_INODE, ino);
	le16_put(p + EXT4_DE_REC_LEN, (uint16_t)rl);
	p[EXT4_DE_NAME_LEN] = name_len;
	p[EXT4_DE_FILE_TYPE] = file_type;
	memcpy(p + EXT4_DE_NAME, name, name_len);
	return rl;
}

/* Entries [a, b) from offset off; the last one's rec_len reaches the usable end. */
static void leaf_encode(const struct ext4_dir_layout *l, uint8_t *buf, size_t off, size_t a,
			size_t b, uint32_t inode_seed)
{
	size_t end = usable(l->csum);

	for (size_t i = a; i < b; i++) {
		const struct dir_ent *e = &l->ents[i];
		size_t rl = i + 1 == b ? end - off : rec_len(e->name_len);

		off += dirent_put(buf + off, e->ino, e->name, e->name_len,
				  e->file_type, rl);
	}
	if (l->csum) {
		uint8_t *t = buf + end;

		le32_put(t + EXT4_DE_INODE, 0);
		le16_put(t + EXT4_DE_REC_LEN, EXT4_DE_TAIL_SIZE);
		t[EXT4_DE_NAME_LEN] = 0;
		t[EXT4_DE_FILE_TYPE] = EXT4_DE_TAIL_FT;
		ext4_dir_leaf_csum_set(buf, EXT4_BLOCK_SIZE, inode_seed);
	}
}

static void linear_encode(const struct ext4_dir_layout *l, uint8_t *buf, uint32_t inode_seed)
{
	size_t off = 0;

	off += dirent_put(buf, l->self_ino, (const uint8_t *)".", 1, EXT4_FT_DIR, rec_len(1));
	off += dirent_put(buf + off, l->parent_ino, (const uint8_t *)"..", 2, EXT4_FT_DIR,
			  l->n ? rec_len(2) : usable(l->csum) - off);
	leaf_encode(l, buf, off, 0, l->n, inode_seed);
}

void ext4_dir_block_encode(const struct ext4_dir_layout *l, uint32_t lblk, uint32_t inode_seed,
			   uint8_t *buf)
{
	_cleanup_free_ struct ext4_dx_entry *e = NULL;
	uint32_t node_limit = ext4_dx_node_limit(l->csum);

	if (!l->indexed) {
		linear_encode(l, buf, inode_seed);
		return;
	}
	if (lblk >= 1 && lblk <= l->n_leaves) {
		leaf_encode(l, buf, 0, l->leaf_first[lblk - 1], l->leaf_first[lblk], inode_seed);
		return;
	}
	if (lblk == 0) {
		uint32_t count = l->levels ? l->n_nodes : l->n_leaves;

		e = xreallocarray(NULL, count, sizeof(*e));
		for (uint32_t i = 0; i < count; i++) {
			uint32_t leaf = l->levels ? i * node_limit : i;

			e[i].hash = l->leaf_hash[leaf];
			e[i].blk = l->levels ? 1 + l->n_leaves + i : 1 + i;
		}
		ext4_dx_root_encode(buf, l->self_ino, l->parent_ino, l->version, l->levels, e, count,
				    l->csum, inode_seed);
		return;
	}
	/* interior node t holds leaves [t * node_limit, ...) */
	uint32_t t = lblk - 1 - l->n_leaves, first = t * node_limit;
	uint32_t count = MIN(node_limit, l->n_leaves - first);

	e = xreallocarray(NULL, count, sizeof(*e));
	for (uint32_t i = 0; i < count; i++) {
		e[i].hash = l->leaf_hash[first + i];
		e[i].blk = 1 + first + i;
	}
	ext4_dx_node_encode(buf, e, count, l->csum, inode_seed);
}

struct ext4_dir_layout *ext4_dir_layout_free(struct ext4_dir_layout *l)
{
	if (!l)
		return NULL;
	free(l->ents);
	free(l->leaf_first);
	free(l->leaf_hash);
	free(l);
	return NULL;
}
