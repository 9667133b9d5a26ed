/* Reading VHD images, dynamic and fixed (docs/formats/vhd.md). The virtual size follows
 * qemu's rule (vhd_footer_virtual_size) so that our conversion equals qemu-img's. The BAT is
 * read and checked at open: every allocated block must lie inside the file. Sector bitmaps
 * are ignored, as qemu ignores them: an allocated block reads as its stored bytes. */
#include "format/vhd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/format-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/xalloc.h"

struct vhd_reader {
	struct image_reader base;
	int fd;
	bool fixed;
	uint8_t uuid[16];
	uint32_t block_size;
	uint32_t bitmap_size;
	uint64_t n_bat;
	uint32_t *bat; /* host order, sector offsets of the blocks' bitmaps */
};

static int vhd_probe(const uint8_t *head, size_t len, uint64_t file_size)
{
	return len >= 8 && memcmp(head, "conectix", 8) == 0;
}

static void vhd_read_close(struct image_reader *base)
{
	struct vhd_reader *r = (struct vhd_reader *)base;

	if (!r)
		return;
	free(r->bat);
	free(r);
}

DEFINE_CLEANUP_FUNC(struct image_reader, vhd_read_close)

/* The footer copy at 0 (dynamic disks) or the footer at the end (every disk), as qemu. */
static int vhd_read_footer(int fd, uint64_t file_size, struct diag *d, struct vhd_footer *ret)
{
	uint8_t buf[VHD_FTR_SIZE];
	int e;

	if (file_size < VHD_FTR_SIZE)
		return diag_fail(d, -EBADMSG, "file too short for a VHD footer (%llu bytes)",
				 (unsigned long long)file_size);
	e = pread_full(fd, buf, sizeof(buf), 0);
	if (e >= 0 && memcmp(buf, "conectix", 8) != 0)
		e = pread_full(fd, buf, sizeof(buf), file_size - VHD_FTR_SIZE);
	if (e < 0)
		return diag_fail(d, e, "cannot read the footer: %s", strerror(-e));
	return vhd_footer_decode(buf, d, ret);
}

static int vhd_load_bat(struct vhd_reader *r, uint64_t data_offset, uint64_t file_size,
			struct diag *d)
{
	uint8_t buf[VHD_DYN_SIZE];
	struct vhd_dyn_header h;
	_cleanup_free_ uint8_t *raw = NULL;
	int e;

	if (data_offset > file_size || file_size - data_offset < VHD_DYN_SIZE)
		return diag_fail(d, -EBADMSG, "dynamic header offset %llu outside the file",
				 (unsigned long long)data_offset);
	e = pread_full(r->fd, buf, sizeof(buf), data_offset);
	if (e < 0)
		return diag_fail(d, e, "cannot read the dynamic header: %s", strerror(-e));
	e = vhd_dyn_header_decode(buf, d, &h);
	if (e < 0)
		return e;
	r->block_size = h.block_size;
	r->bitmap_size = ROUND_UP(h.block_size / 512 / 8, 512);
	r->n_bat = DIV_ROUND_UP(r->base.virtual_size, h.block_size);
	if (h.max_table_entries < r->n_bat)
		return diag_fail(d, -EBADMSG, "max table entries %u too few for %llu bytes",
				 h.max_table_entries, (unsigned long long)r->base.virtual_size);
	if (h.table_offset > file_size || (file_size - h.table_offset) / 4 < r->n_bat)
		return diag_fail(d, -EBADMSG, "BAT offset %llu outside the file",
				 (unsigned long long)h.table_offset);
	raw = xmalloc(r->n_bat ? r->n_bat * 4 : 1);
	e = pread_full(r->fd, raw, r->n_bat * 4, h.table_offset);
	if (e < 0)
		return diag_fail(d, e, "cannot read the BAT: %s", strerror(-e));
	r->bat = xmalloc(r->n_bat ? r->n_bat * 4 : 1);
	for (uint64_t i = 0; i < r->n_bat; i++) {
		uint32_t v = be32_get(raw + 4 * i);

		r->bat[i] = v;
		if (v != VHD_UNALLOCATED &&
		    (uint64_t)v * 512 + r->bitmap_size + r->block_size > file_size)
			return diag_fail(d, -EBADMSG,
					 "BAT entry %llu (sector %u) points past the end of the file "
					 "(truncated?)", (unsigned long long)i, v);
	}
	return 0;
}

static int vhd_read_open(int fd, uint64_t file_size, struct diag *d, struct image_reader **ret)
{
	_cleanup_(vhd_read_closep) struct image_reader *base = NULL;
	struct vhd_reader *r;
	struct vhd_footer f;
	int e;

	e = vhd_read_footer(fd, file_size, d, &f);
	if (e < 0)
		return e;
	r = xcalloc(1, sizeof(*r));
	base = &r->base;
	r->fd = fd;
	r->fixed = f.disk_type == VHD_TYPE_FIXED;
	memcpy(r->uuid, f.uuid, 16);
	r->base.virtual_size = vhd_footer_virtual_size(&f);
	if (r->fixed) {
		if (r->base.virtual_size > file_size - VHD_FTR_SIZE)
			return diag_fail(d, -EBADMSG,
					 "disk size %llu exceeds the file's %llu data bytes "
					 "(truncated?)", (unsigned long long)r->base.virtual_size,
					 (unsigned long long)(file_size - VHD_FTR_SIZE));
	} else {
		e = vhd_load_bat(r, f.data_offset, file_size, d);
		if (e < 0)
			return e;
	}
	*ret = TAKE_PTR(base);
	return 0;
}

static int vhd_read(struct image_reader *base, uint64_t off, void *buf, size_t len,
		    struct diag *d)
{
	struct vhd_reader *r = (struct vhd_reader *)base;
	uint8_t *p = buf;
	int err;

	if (r->fixed) {
		err = pread_full(r->fd, buf, len, off);
		if (err < 0)
			return diag_fail(d, err, "read at byte %llu failed: %s",
					 (unsigned long long)off, strerror(-err));
		return 0;
	}
	while (len > 0) {
		uint64_t idx = off / r->block_size;
		size_t in = off % r->block_size;
		size_t n = MIN(len, (size_t)(r->block_size - in));
		uint32_t e = idx < r->n_bat ? r->bat[idx] : VHD_UNALLOCATED;

		if (e == VHD_UNALLOCATED)
			memset(p, 0, n);
		else {
			uint64_t at = (uint64_t)e * 512 + r->bitmap_size + in;

			err = pread_full(r->fd, p, n, at);
			if (err < 0)
				return diag_fail(d, err, "read of block %llu at byte %llu failed: %s",
						 (unsigned long long)idx, (unsigned long long)at,
						 strerror(-err));
		}
		off += n;
		p += n;
		len -= n;
	}
	return 0;
}

/* A fixed disk is raw data: its holes come from SEEK_DATA/SEEK_HOLE where the file system
 * knows them, else everything may hold data. */
static int vhd_fixed_next_data(struct vhd_reader *r, uint64_t off, uint64_t *ret_start,
			       uint64_t *ret_len, struct diag *d)
{
	uint64_t size = r->base.virtual_size;
	off_t data, hole;

	data = lseek(r->fd, (off_t)off, SEEK_DATA);
	if (data < 0 && errno == ENXIO)
		data = (off_t)size;
	else if (data < 0) {
		if (errno != EINVAL && errno != EOPNOTSUPP)
			return diag_fail(d, -errno, "cannot find data at byte %llu: %s",
					 (unsigned long long)off, strerror(errno));
		data = (off_t)off;
	}
	if ((uint64_t)data >= size) {
		*ret_start = size;
		*ret_len = 0;
		return 0;
	}
	hole = lseek(r->fd, data, SEEK_HOLE);
	if (hole < 0 || (uint64_t)hole > size)
		hole = (off_t)size;
	*ret_start = (uint64_t)data;
	*ret_len = (uint64_t)(hole - data);
	return 0;
}

static int vhd_next_data(struct image_reader *base, uint64_t off, uint64_t *ret_start,
			 uint64_t *ret_len, struct diag *d)
{
	struct vhd_reader *r = (struct vhd_reader *)base;
	uint64_t size = base->virtual_size, bs = r->block_size;
	uint64_t idx, end;

	if (off >= size) {
		*ret_start = off;
		*ret_len = 0;
		return 0;
	}
	if (r->fixed)
		return vhd_fixed_next_data(r, off, ret_start, ret_len, d);
	idx = off / bs;
	while (off < size && r->bat[idx] == VHD_UNALLOCATED) {
		idx++;
		off = idx * bs;
	}
	if (off >= size) {
		*ret_start = MAX(off, size);
		*ret_len = 0;
		return 0;
	}
	end = idx + 1;
	while (end * bs < size && r->bat[end] != VHD_UNALLOCATED)
		end++;
	*ret_start = off;
	*ret_len = MIN(end * bs, size) - off;
	return 0;
}

/* resize: fixed stays fixed, dynamic dynamic; the UUID stays. */
static int vhd_write_params(struct image_reader *base, const char **ret_format,
			    struct format_params *p, char *kept, size_t kept_cap, struct diag *d)
{
	const struct vhd_reader *r = (const struct vhd_reader *)base;

	*ret_format = "vpc";
	p->vpc_subformat = r->fixed ? FORMAT_VPC_FIXED : FORMAT_VPC_DYNAMIC;
	memcpy(p->keep_uuid, r->uuid, 16);
	snprintf(kept, kept_cap, "subformat %s, UUID", r->fixed ? "fixed" : "dynamic");
	return 0;
}

const struct reader_ops reader_vpc = {
	.write_params = vhd_write_params,
	.name = "vpc",
	.probe = vhd_probe,
	.open = vhd_read_open,
	.read = vhd_read,
	.next_data = vhd_next_data,
	.close = vhd_read_close,
};
