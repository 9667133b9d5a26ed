/* VHD output ("vpc"): dynamic by default, fixed for Azure and Hyper-V (docs/formats/vhd.md).
 *
 * Dynamic layout, as qemu-img lays it out: footer copy at 0, dynamic disk header at 512, BAT
 * at 1536 (be32 sector offsets, padded to a sector), then each allocated 2 MiB block as a
 * 512-byte sector bitmap (all ones) followed by its data, in write order, and the footer last.
 * All-zero blocks stay unallocated. The BAT and the headers are written at finish into the
 * space reserved for them, so no data is rewritten.
 *
 * Fixed: the disk rounded up to a whole MiB (Azure's rule), then the footer. */
#include "format/vhd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/format-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/outfile.h"
#include "util/uuid.h"
#include "util/xalloc.h"

#define VHD_BITMAP_SIZE 512u /* one bit per sector of a 2 MiB block */
#define VHD_BAT_OFFSET (VHD_FTR_SIZE + VHD_DYN_SIZE)

uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t checksum_off)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i++)
		if (i < checksum_off || i >= checksum_off + 4)
			sum += buf[i];
	return ~sum;
}

struct vhd_geometry vhd_geometry_for(uint64_t n_sectors)
{
	uint64_t cth; /* cylinders times heads */
	uint32_t spt, heads;

	if (n_sectors > 65535ull * 16 * 255)
		n_sectors = 65535ull * 16 * 255;
	if (n_sectors >= 65535ull * 16 * 63) {
		spt = 255;
		heads = 16;
		cth = n_sectors / spt;
	} else {
		spt = 17;
		cth = n_sectors / spt;
		heads = (uint32_t)((cth + 1023) / 1024);
		if (heads < 4)
			heads = 4;
		if (cth >= heads * 1024ull || heads > 16) {
			spt = 31;
			heads = 16;
			cth = n_sectors / spt;
		}
		if (cth >= heads * 1024ull) {
			spt = 63;
			heads = 16;
			cth = n_sectors / spt;
		}
	}
	return (struct vhd_geometry){ .cylinders = (uint16_t)(cth / heads),
				      .heads = (uint8_t)heads,
				      .sectors = (uint8_t)spt };
}

uint64_t vhd_footer_virtual_size(const struct vhd_footer *f)
{
	bool max_chs = f->geom.cylinders == 65535 && f->geom.heads == 16 && f->geom.sectors == 255;
	bool chs_app = memcmp(f->creator_app, "vpc ", 4) == 0 ||
		       memcmp(f->creator_app, "qemu", 4) == 0;

	if (chs_app && !max_chs)
		return (uint64_t)f->geom.cylinders * f->geom.heads * f->geom.sectors * 512;
	return f->current_size / 512 * 512;
}

void vhd_footer_encode(uint8_t *buf, const struct vhd_footer *f)
{
	memset(buf, 0, VHD_FTR_SIZE);
	memcpy(buf + VHD_FTR_COOKIE, "conectix", 8);
	be32_put(buf + VHD_FTR_FEATURES, 2);
	be32_put(buf + VHD_FTR_VERSION, VHD_VERSION);
	be64_put(buf + VHD_FTR_DATA_OFFSET, f->data_offset);
	be32_put(buf + VHD_FTR_TIMESTAMP, f->timestamp);
	memcpy(buf + VHD_FTR_CREATOR_APP, f->creator_app, 4);
	be32_put(buf + VHD_FTR_CREATOR_VERSION, f->creator_version);
	memcpy(buf + VHD_FTR_CREATOR_OS, f->creator_os, 4);
	be64_put(buf + VHD_FTR_ORIG_SIZE, f->orig_size);
	be64_put(buf + VHD_FTR_CURRENT_SIZE, f->current_size);
	be16_put(buf + VHD_FTR_CYLINDERS, f->geom.cylinders);
	buf[VHD_FTR_HEADS] = f->geom.heads;
	buf[VHD_FTR_SECTORS] = f->geom.sectors;
	be32_put(buf + VHD_FTR_DISK_TYPE, f->disk_type);
	memcpy(buf + VHD_FTR_UUID, f->uuid, 16);
	buf[VHD_FTR_SAVED_STATE] = f->saved_state;
	be32_put(buf + VHD_FTR_CHECKSUM, vhd_checksum(buf, VHD_FTR_SIZE, VHD_FTR_CHECKSUM));
}

int vhd_footer_decode(const uint8_t *buf, struct diag *d, struct vhd_footer *ret)
{
	struct vhd_footer f = { 0 };
	uint32_t sum = be32_get(buf + VHD_FTR_CHECKSUM);
	uint32_t version = be32_get(buf + VHD_FTR_VERSION);

	if (memcmp(buf + VHD_FTR_COOKIE, "conectix", 8) != 0)
		return diag_fail(d, -EBADMSG, "no footer cookie \"conectix\"");
	if (sum != vhd_checksum(buf, VHD_FTR_SIZE, VHD_FTR_CHECKSUM))
		return diag_fail(d, -EBADMSG, "bad footer checksum 0x%08x", sum);
	if (version >> 16 != 1)
		return diag_fail(d, -ENOTSUP, "footer version 0x%08x is not supported", version);
	f.data_offset = be64_get(buf + VHD_FTR_DATA_OFFSET);
	f.timestamp = be32_get(buf + VHD_FTR_TIMESTAMP);
	memcpy(f.creator_app, buf + VHD_FTR_CREATOR_APP, 4);
	f.creator_version = be32_get(buf + VHD_FTR_CREATOR_VERSION);
	memcpy(f.creator_os, buf + VHD_FTR_CREATOR_OS, 4);
	f.orig_size = be64_get(buf + VHD_FTR_ORIG_SIZE);
	f.current_size = be64_get(buf + VHD_FTR_CURRENT_SIZE);
	f.geom.cylinders = be16_get(buf + VHD_FTR_CYLINDERS);
	f.geom.heads = buf[VHD_FTR_HEADS];
	f.geom.sectors = buf[VHD_FTR_SECTORS];
	f.disk_type = be32_get(buf + VHD_FTR_DISK_TYPE);
	memcpy(f.uuid, buf + VHD_FTR_UUID, 16);
	f.saved_state = buf[VHD_FTR_SAVED_STATE] != 0;
	if (f.disk_type == VHD_TYPE_DIFF)
		return diag_fail(d, -ENOTSUP,
				 "differencing disks are not supported; merge it into its "
				 "parent first");
	if (f.disk_type != VHD_TYPE_FIXED && f.disk_type != VHD_TYPE_DYNAMIC)
		return diag_fail(d, -EBADMSG, "bad disk type %u", f.disk_type);
	if (vhd_footer_virtual_size(&f) > VHD_MAX_SIZE)
		return diag_fail(d, -EBADMSG, "current size %llu exceeds the VHD limit of "
				 "2040 GiB", (unsigned long long)vhd_footer_virtual_size(&f));
	*ret = f;
	return 0;
}

void vhd_dyn_header_encode(uint8_t *buf, const struct vhd_dyn_header *h)
{
	memset(buf, 0, VHD_DYN_SIZE);
	memcpy(buf + VHD_DYN_COOKIE, "cxsparse", 8);
	/* the specification says 0xFFFFFFFF; Microsoft's tools and qemu want all 64 bits set */
	be64_put(buf + VHD_DYN_DATA_OFFSET, UINT64_MAX);
	be64_put(buf + VHD_DYN_TABLE_OFFSET, h->table_offset);
	be32_put(buf + VHD_DYN_VERSION, VHD_VERSION);
	be32_put(buf + VHD_DYN_MAX_TABLE_ENTRIES, h->max_table_entries);
	be32_put(buf + VHD_DYN_BLOCK_SIZE, h->block_size);
	be32_put(buf + VHD_DYN_CHECKSUM, vhd_checksum(buf, VHD_DYN_SIZE, VHD_DYN_CHECKSUM));
}

int vhd_dyn_header_decode(const uint8_t *buf, struct diag *d, struct vhd_dyn_header *ret)
{
	struct vhd_dyn_header h = { 0 };
	uint32_t sum = be32_get(buf + VHD_DYN_CHECKSUM);
	uint32_t version = be32_get(buf + VHD_DYN_VERSION);

	if (memcmp(buf + VHD_DYN_COOKIE, "cxsparse", 8) != 0)
		return diag_fail(d, -EBADMSG, "no dynamic header cookie \"cxsparse\"");
	if (sum != vhd_checksum(buf, VHD_DYN_SIZE, VHD_DYN_CHECKSUM))
		return diag_fail(d, -EBADMSG, "bad dynamic header checksum 0x%08x", sum);
	if (version >> 16 != 1)
		return diag_fail(d, -ENOTSUP, "dynamic header version 0x%08x is not supported",
				 version);
	h.table_offset = be64_get(buf + VHD_DYN_TABLE_OFFSET);
	h.max_table_entries = be32_get(buf + VHD_DYN_MAX_TABLE_ENTRIES);
	h.block_size = be32_get(buf + VHD_DYN_BLOCK_SIZE);
	if (h.block_size < 512 || h.block_size > (256u << 20) || (h.block_size & (h.block_size - 1)))
		return diag_fail(d, -EBADMSG, "bad block size %u", h.block_size);
	*ret = h;
	return 0;
}

struct vhd_sink {
	struct sink base;
	struct outfile *out;
	struct vhd_footer ftr;
	bool fixed;
	uint64_t disk_size;  /* the size in the footer */
	uint64_t data_start; /* first block (dynamic) */
	uint32_t n_bat;
	uint32_t *bat;       /* host order */
	uint8_t *block;      /* bitmap + data of the block being assembled */
	uint64_t cur;        /* its index, or UINT64_MAX */
	uint32_t n_alloc;
};

static struct vhd_sink *vhd_sink_free(struct vhd_sink *s)
{
	if (!s)
		return NULL;
	free(s->bat);
	free(s->block);
	free(s);
	return NULL;
}

static uint32_t vhd_timestamp(int64_t unix_time)
{
	if (unix_time <= VHD_EPOCH)
		return 0;
	if (unix_time - VHD_EPOCH > UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)(unix_time - VHD_EPOCH);
}

static int vhd_open(const struct format_params *p, struct outfile *out, struct diag *d,
		    struct sink **ret)
{
	bool fixed = p->vpc_subformat == FORMAT_VPC_FIXED;
	uint64_t size = fixed ? ROUND_UP(p->virtual_size, 1u << 20) : ROUND_UP(p->virtual_size, 512);
	struct vhd_sink *s;

	if (p->virtual_size > VHD_MAX_SIZE || size > VHD_MAX_SIZE)
		return diag_fail(d, -EOVERFLOW,
				 "disk size %llu exceeds the VHD limit of 2040 GiB",
				 (unsigned long long)p->virtual_size);
	s = xcalloc(1, sizeof(*s));
	s->out = out;
	s->fixed = fixed;
	s->disk_size = size;
	s->ftr = (struct vhd_footer){
		.data_offset = fixed ? UINT64_MAX : VHD_FTR_SIZE,
		.timestamp = vhd_timestamp(p->timestamp),
		/* "qem2": qemu takes current_size as the disk size (it would take the CHS
		 * product, rounded down, for "qemu"), as Hyper-V and Azure do */
		.creator_app = { 'q', 'e', 'm', '2' },
		.creator_version = 0x00050003, /* qemu's: Virtual PC 2007 */
		.creator_os = { 'W', 'i', '2', 'k' },
		.orig_size = size,
		.current_size = size,
		.geom = vhd_geometry_for(size / 512),
		.disk_type = fixed ? VHD_TYPE_FIXED : VHD_TYPE_DYNAMIC,
	};
	uuid_derive(p->seed ? p->seed : "", "vhd-uuid", s->ftr.uuid);
	if (!uuid_is_null(p->keep_uuid))
		memcpy(s->ftr.uuid, p->keep_uuid, 16);
	if (!fixed) {
		s->n_bat = (uint32_t)DIV_ROUND_UP(size, VHD_BLOCK_SIZE);
		s->data_start = VHD_BAT_OFFSET + ROUND_UP((uint64_t)s->n_bat * 4, 512);
		s->bat = xmalloc(s->n_bat ? (size_t)s->n_bat * 4 : 4);
		for (uint32_t i = 0; i < s->n_bat; i++)
			s->bat[i] = VHD_UNALLOCATED;
		s->block = xmalloc(VHD_BITMAP_SIZE + VHD_BLOCK_SIZE);
		memset(s->block, 0xff, VHD_BITMAP_SIZE);
		s->cur = UINT64_MAX;
	}
	*ret = &s->base;
	return 0;
}

static int vhd_fail_write(struct vhd_sink *s, int r, struct diag *d)
{
	return diag_fail(d, r, "%s: write failed: %s", s->out->path, strerror(-r));
}

/* Allocate the next block for data (bitmap + data at bm) unless the data is all zeros. */
static int vhd_put_block(struct vhd_sink *s, uint64_t idx, const uint8_t *bm, const uint8_t *data,
			 struct diag *d)
{
	uint64_t off;
	int r;

	if (mem_is_zero(data, VHD_BLOCK_SIZE))
		return 0;
	off = s->data_start + (uint64_t)s->n_alloc * (VHD_BITMAP_SIZE + VHD_BLOCK_SIZE);
	if (data == bm + VHD_BITMAP_SIZE)
		r = pwrite_full(s->out->fd, bm, VHD_BITMAP_SIZE + VHD_BLOCK_SIZE, off);
	else {
		r = pwrite_full(s->out->fd, bm, VHD_BITMAP_SIZE, off);
		if (r >= 0)
			r = pwrite_full(s->out->fd, data, VHD_BLOCK_SIZE, off + VHD_BITMAP_SIZE);
	}
	if (r < 0)
		return vhd_fail_write(s, r, d);
	s->bat[idx] = (uint32_t)(off / 512);
	s->n_alloc++;
	return 0;
}

static int vhd_flush(struct vhd_sink *s, struct diag *d)
{
	int r = 0;

	if (s->cur != UINT64_MAX)
		r = vhd_put_block(s, s->cur, s->block, s->block + VHD_BITMAP_SIZE, d);
	s->cur = UINT64_MAX;
	return r;
}

static int vhd_write(struct sink *base, uint64_t off, const void *buf, size_t len, struct diag *d)
{
	struct vhd_sink *s = (struct vhd_sink *)base;
	const uint8_t *p = buf;
	int r;

	if (s->fixed) {
		if (mem_is_zero(buf, len)) /* stays a hole */
			return 0;
		r = pwrite_full(s->out->fd, buf, len, off);
		return r < 0 ? vhd_fail_write(s, r, d) : 0;
	}
	while (len > 0) {
		uint64_t idx = off / VHD_BLOCK_SIZE;
		size_t in = off % VHD_BLOCK_SIZE;
		size_t n = MIN(len, VHD_BLOCK_SIZE - in);

		if (idx != s->cur) {
			r = vhd_flush(s, d);
			if (r < 0)
				return r;
			if (n == VHD_BLOCK_SIZE) { /* a whole block: no copy */
				r = vhd_put_block(s, idx, s->block, p, d);
				if (r < 0)
					return r;
				goto next;
			}
			memset(s->block + VHD_BITMAP_SIZE, 0, VHD_BLOCK_SIZE);
			s->cur = idx;
		}
		memcpy(s->block + VHD_BITMAP_SIZE + in, p, n);
	next:
		off += n;
		p += n;
		len -= n;
	}
	return 0;
}

static int vhd_write_metadata(struct vhd_sink *s, struct diag *d)
{
	uint8_t ftr[VHD_FTR_SIZE], dyn[VHD_DYN_SIZE];
	uint64_t end;
	int r;

	vhd_footer_encode(ftr, &s->ftr);
	if (s->fixed) {
		end = s->disk_size;
	} else {
		uint64_t bat_bytes = s->data_start - VHD_BAT_OFFSET;
		_cleanup_free_ uint8_t *bat = xmalloc(bat_bytes);
		struct vhd_dyn_header h = { .table_offset = VHD_BAT_OFFSET,
					    .max_table_entries = s->n_bat,
					    .block_size = VHD_BLOCK_SIZE };

		/* qemu pads the BAT's last sector with unallocated entries */
		memset(bat, 0xff, bat_bytes);
		for (uint32_t i = 0; i < s->n_bat; i++)
			be32_put(bat + 4 * (size_t)i, s->bat[i]);
		vhd_dyn_header_encode(dyn, &h);
		r = pwrite_full(s->out->fd, ftr, sizeof(ftr), 0);
		if (r >= 0)
			r = pwrite_full(s->out->fd, dyn, sizeof(dyn), VHD_FTR_SIZE);
		if (r >= 0)
			r = pwrite_full(s->out->fd, bat, bat_bytes, VHD_BAT_OFFSET);
		if (r < 0)
			return vhd_fail_write(s, r, d);
		end = s->data_start + (uint64_t)s->n_alloc * (VHD_BITMAP_SIZE + VHD_BLOCK_SIZE);
	}
	r = pwrite_full(s->out->fd, ftr, sizeof(ftr), end);
	if (r >= 0 && ftruncate(s->out->fd, (off_t)(end + sizeof(ftr))) < 0)
		r = -errno;
	if (r < 0)
		return vhd_fail_write(s, r, d);
	return 0;
}

static int vhd_finish(struct sink *base, struct diag *d)
{
	struct vhd_sink *s = (struct vhd_sink *)base;
	int r = 0;

	if (!s->fixed)
		r = vhd_flush(s, d);
	if (r >= 0)
		r = vhd_write_metadata(s, d);
	if (r < 0)
		outfile_abort(s->out);
	else
		r = outfile_commit(s->out, d);
	vhd_sink_free(s);
	return r;
}

static void vhd_abort(struct sink *base)
{
	struct vhd_sink *s = (struct vhd_sink *)base;

	outfile_abort(s->out);
	vhd_sink_free(s);
}

const struct format_ops format_vpc = {
	.name = "vpc",
	.extension = "vhd",
	.options = FORMAT_OPT_VPC_SUBFORMAT,
	.open = vhd_open,
	.write = vhd_write,
	.finish = vhd_finish,
	.abort = vhd_abort,
};
