/* erofs directories (Linux fs/erofs/erofs_fs.h struct erofs_dirent, fs/erofs/dir.c and
 * namei.c): each block starts with 12-byte dirents (nid le64, nameoff le16, file_type), the
 * first one's nameoff / 12 giving their count, then the names without NULs; an entry never
 * spans blocks; the names are sorted bytewise over the whole directory, "." and ".." among
 * them (lookup bisects blocks, then entries). A directory's i_size counts the last block's
 * used bytes only. */
#include "fs/erofs/erofs.h"

#include <stdlib.h>
#include <string.h>

#include "tree/tree.h"
#include "util/endian.h"

static int dirent_cmp(const void *a, const void *b)
{
	const struct erofs_dirent_in *x = a, *y = b;
	int c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);

	if (c)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

void erofs_dirents_sort(struct erofs_dirent_in *e, size_t n)
{
	qsort(e, n, sizeof(*e), dirent_cmp);
}

/* How many entries from e[0] fit in one block, and the bytes they use. */
static size_t dir_block(const struct erofs_dirent_in *e, size_t n, size_t *ret_used)
{
	size_t k = 0, used = 0;

	while (k < n && used + EROFS_DIRENT_SIZE + e[k].len <= EROFS_BS) {
		used += EROFS_DIRENT_SIZE + e[k].len;
		k++;
	}
	*ret_used = used;
	return k;
}

uint64_t erofs_dir_size(const struct erofs_dirent_in *e, size_t n)
{
	uint64_t size = 0;
	size_t used = 0;

	while (n) {
		size_t k = dir_block(e, n, &used);

		e += k;
		n -= k;
		size += n ? EROFS_BS : used;
	}
	return size;
}

void erofs_dir_encode(uint8_t *out, const struct erofs_dirent_in *e, size_t n)
{
	while (n) {
		size_t used, k = dir_block(e, n, &used), nameoff = k * EROFS_DIRENT_SIZE;

		for (size_t i = 0; i < k; i++) {
			uint8_t *de = out + i * EROFS_DIRENT_SIZE;

			le64_put(de, e[i].nid);
			le16_put(de + 8, (uint16_t)nameoff);
			de[10] = e[i].type;
			memcpy(out + nameoff, e[i].name, e[i].len);
			nameoff += e[i].len;
		}
		e += k;
		n -= k;
		out += EROFS_BS;
	}
}

uint8_t erofs_file_type(uint8_t tree_type)
{
	switch (tree_type) {
	case TREE_REG:
		return EROFS_FT_REG_FILE;
	case TREE_DIR:
		return EROFS_FT_DIR;
	case TREE_CHR:
		return EROFS_FT_CHRDEV;
	case TREE_BLK:
		return EROFS_FT_BLKDEV;
	case TREE_FIFO:
		return EROFS_FT_FIFO;
	case TREE_SOCK:
		return EROFS_FT_SOCK;
	case TREE_SYMLINK:
		return EROFS_FT_SYMLINK;
	}
	return EROFS_FT_UNKNOWN;
}
