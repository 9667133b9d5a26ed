/* tar header encoding and decoding (tar.h). */
#include "format/tar.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/diag.h"

/* Octal with a NUL terminator when it fits in len - 1 digits, else GNU base-256. */
static void tar_number_encode(uint8_t *p, size_t len, uint64_t v)
{
	if (len - 1 >= 22 || v < (1ull << (3 * (len - 1)))) {
		for (size_t i = len - 1; i-- > 0; v >>= 3)
			p[i] = (uint8_t)('0' + (v & 7));
		p[len - 1] = '\0';
		return;
	}
	memset(p, 0, len);
	p[0] = 0x80;
	for (size_t i = len; i-- > 1 && v; v >>= 8)
		p[i] = (uint8_t)(v & 0xff);
}

int tar_number_decode(const uint8_t *p, size_t len, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0;

	if (p[0] == 0x80) {
		for (i = 1; i < len; i++) {
			if (v >> 55)
				return -EBADMSG;
			v = v << 8 | p[i];
		}
		*ret = v;
		return 0;
	}
	while (i < len && p[i] == ' ')
		i++;
	for (; i < len && p[i] >= '0' && p[i] <= '7'; i++) {
		if (v >> 60)
			return -EBADMSG;
		v = v << 3 | (uint64_t)(p[i] - '0');
	}
	/* digits end with NUL or space, or fill the field */
	if (i < len && p[i] != '\0' && p[i] != ' ')
		return -EBADMSG;
	*ret = v;
	return 0;
}

static unsigned tar_checksum(const uint8_t *b)
{
	unsigned sum = 0;

	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += (i >= TAR_CHKSUM && i < TAR_CHKSUM + 8) ? ' ' : b[i];
	return sum;
}

/* Sparse entries, with GNU tar's closing { size, 0 } when the file ends in a hole. */
static size_t tar_sparse_entries(const struct tar_member *m)
{
	size_t n = m->n_extents;

	if (n == 0 || m->extents[n - 1].off + m->extents[n - 1].len < m->size)
		n++;
	return n;
}

static struct tar_extent tar_sparse_entry(const struct tar_member *m, size_t i)
{
	if (i < m->n_extents)
		return m->extents[i];
	return (struct tar_extent){ .off = m->size, .len = 0 };
}

size_t tar_header_blocks(const struct tar_member *m)
{
	size_t n;

	if (!m->extents)
		return 1;
	n = tar_sparse_entries(m);
	if (n <= TAR_GNU_SPARSE_IN_HEADER)
		return 1;
	return 1 + DIV_ROUND_UP(n - TAR_GNU_SPARSE_IN_HEADER, TAR_GNU_SPARSE_IN_EXT);
}

uint64_t tar_member_data_size(const struct tar_member *m)
{
	uint64_t n = 0;

	if (!m->extents)
		return m->size;
	for (size_t i = 0; i < m->n_extents; i++)
		n += m->extents[i].len;
	return n;
}

static void tar_put_entry(uint8_t *p, struct tar_extent e)
{
	tar_number_encode(p, 12, e.off);
	tar_number_encode(p + 12, 12, e.len);
}

void tar_header_encode(uint8_t *buf, const struct tar_member *m)
{
	size_t n_blocks = tar_header_blocks(m);
	size_t n = m->extents ? tar_sparse_entries(m) : 0, k = 0;
	uint8_t *h = buf;

	memset(buf, 0, n_blocks * TAR_BLOCK);
	memcpy(h + TAR_NAME, m->name, MIN(strlen(m->name), (size_t)99));
	tar_number_encode(h + TAR_MODE, 8, m->mode);
	tar_number_encode(h + TAR_UID, 8, 0);
	tar_number_encode(h + TAR_GID, 8, 0);
	tar_number_encode(h + TAR_SIZE, 12, tar_member_data_size(m));
	tar_number_encode(h + TAR_MTIME, 12, m->mtime < 0 ? 0 : (uint64_t)m->mtime);
	memcpy(h + TAR_UNAME, "root", 4);
	memcpy(h + TAR_GNAME, "root", 4);
	if (m->extents) {
		/* oldgnu: GNU magic, no device numbers, the sparse map over the prefix */
		h[TAR_TYPEFLAG] = 'S';
		memcpy(h + TAR_MAGIC, "ustar  ", 8);
		for (; k < n && k < TAR_GNU_SPARSE_IN_HEADER; k++)
			tar_put_entry(h + TAR_GNU_SPARSE + k * TAR_SPARSE_ENTRY,
				      tar_sparse_entry(m, k));
		h[TAR_GNU_ISEXTENDED] = n_blocks > 1;
		tar_number_encode(h + TAR_GNU_REALSIZE, 12, m->size);
		for (size_t b = 1; b < n_blocks; b++) {
			uint8_t *x = buf + b * TAR_BLOCK;

			for (size_t i = 0; k < n && i < TAR_GNU_SPARSE_IN_EXT; i++, k++)
				tar_put_entry(x + i * TAR_SPARSE_ENTRY, tar_sparse_entry(m, k));
			x[TAR_GNU_EXT_ISEXTENDED] = b + 1 < n_blocks;
		}
	} else {
		h[TAR_TYPEFLAG] = '0';
		memcpy(h + TAR_MAGIC, "ustar", 6);
		memcpy(h + TAR_VERSION, "00", 2);
		tar_number_encode(h + TAR_DEVMAJOR, 8, 0);
		tar_number_encode(h + TAR_DEVMINOR, 8, 0);
	}
	snprintf((char *)h + TAR_CHKSUM, 8, "%06o", tar_checksum(h));
	h[TAR_CHKSUM + 7] = ' ';
}

static int tar_field(int r, const char *field, struct diag *d)
{
	return r < 0 ? diag_fail(d, -EBADMSG, "tar header: malformed %s", field) : 0;
}

int tar_header_decode(const uint8_t *b, struct tar_entry *ret, struct diag *d)
{
	struct tar_entry e = { 0 };
	uint64_t sum;
	int r;

	for (size_t i = 0; i < TAR_BLOCK; i++)
		if (b[i])
			goto header;
	return 0;
header:
	r = tar_number_decode(b + TAR_CHKSUM, 8, &sum);
	if (r < 0 || sum != tar_checksum(b))
		return diag_fail(d, -EBADMSG, "tar header: checksum mismatch (not a tar archive?)");
	memcpy(e.name, b + TAR_NAME, 100);
	e.typeflag = (char)b[TAR_TYPEFLAG];
	r = tar_field(tar_number_decode(b + TAR_SIZE, 12, &e.size), "size", d);
	if (r < 0)
		return r;
	e.realsize = e.size;
	if (e.typeflag == 'S') {
		if (memcmp(b + TAR_MAGIC, "ustar  ", 8) != 0)
			return diag_fail(d, -EBADMSG, "tar header: sparse member without GNU magic");
		e.sparse = true;
		r = tar_field(tar_number_decode(b + TAR_GNU_REALSIZE, 12, &e.realsize),
			      "realsize", d);
		if (r < 0)
			return r;
		for (size_t i = 0; i < TAR_GNU_SPARSE_IN_HEADER; i++) {
			const uint8_t *p = b + TAR_GNU_SPARSE + i * TAR_SPARSE_ENTRY;

			if (p[0] == 0)
				break;
			r = tar_number_decode(p, 12, &e.map[i].off);
			if (r >= 0)
				r = tar_number_decode(p + 12, 12, &e.map[i].len);
			if (r < 0)
				return tar_field(r, "sparse map", d);
			e.n_map++;
		}
		e.extended = b[TAR_GNU_ISEXTENDED] != 0;
	}
	*ret = e;
	return 1;
}

int tar_sparse_ext_decode(const uint8_t *b, struct tar_extent *map, size_t *ret_n,
			  bool *ret_more, struct diag *d)
{
	size_t n = 0;

	for (size_t i = 0; i < TAR_GNU_SPARSE_IN_EXT; i++) {
		const uint8_t *p = b + i * TAR_SPARSE_ENTRY;
		int r;

		if (p[0] == 0)
			break;
		r = tar_number_decode(p, 12, &map[i].off);
		if (r >= 0)
			r = tar_number_decode(p + 12, 12, &map[i].len);
		if (r < 0)
			return tar_field(r, "sparse extension", d);
		n++;
	}
	*ret_n = n;
	*ret_more = b[TAR_GNU_EXT_ISEXTENDED] != 0;
	return 0;
}
