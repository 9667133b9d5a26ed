/* Reading VHDX images, dynamic and fixed (docs/formats/vhdx.md): the current header (valid
 * checksum, the higher sequence number), the region table (the second copy when the first is
 * damaged), the metadata items, then the BAT, one 64 KiB page at a time: memory stays
 * constant whatever the disk size, and every page is checked as it is used.
 *
 * A log with entries of the current LogGuid would have to be replayed before the file is
 * consistent: such a file is refused (a read-only reader cannot replay it). Sector bitmap
 * entries matter only to differencing disks, which are refused; they are ignored, as qemu
 * ignores them. Payload blocks not present (zero, unmapped, undefined) read as zeros. */
#include "format/vhdx-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/format-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define VHDX_PAGE_ENTRIES 8192u /* 64 KiB of BAT */
#define VHDX_LOG_SECTOR 4096u
#define VHDX_LOG_ENTRY_GUID 32 /* in a log entry header ("loge") */

struct vhdx_range {
	uint64_t start, end;
};

struct vhdx_reader {
	struct image_reader base;
	int fd;
	uint64_t file_size;
	struct vhdx_geometry g;
	uint64_t bat_offset;
	struct vhdx_range used[3]; /* log, BAT, metadata: payload blocks stay clear of them */
	size_t n_used;
	uint8_t *page; /* BAT entries [page_first, page_first + page_n) */
	uint64_t page_first;
	size_t page_n;
};

static int vhdx_probe(const uint8_t *head, size_t len, uint64_t file_size)
{
	return len >= 8 && memcmp(head, "vhdxfile", 8) == 0;
}

static void vhdx_read_close(struct image_reader *base)
{
	struct vhdx_reader *r = (struct vhdx_reader *)base;

	if (!r)
		return;
	free(r->page);
	free(r);
}

DEFINE_CLEANUP_FUNC(struct image_reader, vhdx_read_close)

static int vhdx_pread(struct vhdx_reader *r, void *buf, size_t len, uint64_t off,
		      const char *what, struct diag *d)
{
	int e;

	if (off > r->file_size || len > r->file_size - off)
		return diag_fail(d, -EBADMSG, "%s at byte %llu lies past the end of the file "
				 "(truncated?)", what, (unsigned long long)off);
	e = pread_full(r->fd, buf, len, off);
	if (e < 0)
		return diag_fail(d, e, "cannot read %s at byte %llu: %s", what,
				 (unsigned long long)off, strerror(-e));
	return 0;
}

/* 2.2.2.1: the valid header with the higher sequence number; two valid ones with the same
 * number must be identical. */
static int vhdx_read_header(struct vhdx_reader *r, struct diag *d, struct vhdx_header *ret)
{
	uint8_t buf[2][VHDX_HDR_SIZE];
	struct vhdx_header h[2];
	struct diag dh[2] = { 0 };
	int e[2];

	for (int i = 0; i < 2; i++) {
		int k = vhdx_pread(r, buf[i], VHDX_HDR_SIZE,
				   i ? VHDX_HEADER2_OFFSET : VHDX_HEADER1_OFFSET, "the header", d);

		if (k < 0)
			return k;
		e[i] = vhdx_header_decode(buf[i], &dh[i], &h[i]);
	}
	if (e[0] < 0 && e[1] < 0)
		return diag_fail(d, e[0] == -ENOTSUP ? -ENOTSUP : -EBADMSG,
				 "no valid header (header 1: %s; header 2: %s)",
				 diag_message(&dh[0], e[0]), diag_message(&dh[1], e[1]));
	if (e[0] >= 0 && e[1] >= 0 && h[0].sequence == h[1].sequence &&
	    memcmp(buf[0], buf[1], VHDX_HDR_USED) != 0)
		return diag_fail(d, -EBADMSG, "headers 1 and 2 differ with the same sequence "
				 "number %llu", (unsigned long long)h[0].sequence);
	if (e[1] < 0 || (e[0] >= 0 && h[0].sequence >= h[1].sequence))
		*ret = h[0];
	else
		*ret = h[1];
	return 0;
}

/* Refuse a log that holds entries of the header's LogGuid (2.3): only a writer can replay
 * them. Any 4 KiB log sector that starts such an entry counts, checksum or not. */
static int vhdx_check_log(struct vhdx_reader *r, const struct vhdx_header *h, struct diag *d)
{
	static const uint8_t zero[16];
	_cleanup_free_ uint8_t *buf = NULL;
	uint64_t end;

	if (h->log_length % VHDX_MIB != 0)
		return diag_fail(d, -EBADMSG, "log length %u is not a multiple of 1 MiB",
				 h->log_length);
	if (h->log_length &&
	    (h->log_offset % VHDX_MIB != 0 || h->log_offset < VHDX_HEADER_SECTION_SIZE ||
	     h->log_offset > (1ull << 60)))
		return diag_fail(d, -EBADMSG, "log offset %llu is not a multiple of 1 MiB past the "
				 "header section", (unsigned long long)h->log_offset);
	if (h->log_length)
		r->used[r->n_used++] = (struct vhdx_range){ h->log_offset,
							    h->log_offset + h->log_length };
	if (memcmp(h->log_guid, zero, 16) == 0 || h->log_length == 0)
		return 0;
	if (h->log_version != 0)
		return diag_fail(d, -ENOTSUP, "log version %u is not supported", h->log_version);
	end = MIN(h->log_offset + h->log_length, r->file_size);
	buf = xmalloc(VHDX_KIB64);
	for (uint64_t off = h->log_offset; off < end; off += VHDX_KIB64) {
		size_t n = (size_t)MIN(end - off, VHDX_KIB64);
		int e = vhdx_pread(r, buf, n, off, "the log", d);

		if (e < 0)
			return e;
		for (size_t i = 0; i + VHDX_LOG_SECTOR <= n; i += VHDX_LOG_SECTOR)
			if (memcmp(buf + i, "loge", 4) == 0 &&
			    memcmp(buf + i + VHDX_LOG_ENTRY_GUID, h->log_guid, 16) == 0)
				return diag_fail(d, -EBUSY, "has a pending log; open it in Hyper-V "
						 "or qemu-img check -r all first");
	}
	return 0;
}

static int vhdx_read_regions(struct vhdx_reader *r, struct diag *d, struct vhdx_regions *ret)
{
	_cleanup_free_ uint8_t *buf = xmalloc(VHDX_RT_SIZE);
	struct diag d1 = { 0 };
	int e, e1;

	e = vhdx_pread(r, buf, VHDX_RT_SIZE, VHDX_REGION1_OFFSET, "the region table", d);
	if (e < 0)
		return e;
	e1 = vhdx_region_table_decode(buf, &d1, ret);
	if (e1 >= 0)
		return 0;
	/* the second copy, when the first is damaged */
	e = vhdx_pread(r, buf, VHDX_RT_SIZE, VHDX_REGION2_OFFSET, "the region table", d);
	if (e < 0)
		return e;
	e = vhdx_region_table_decode(buf, d, ret);
	if (e < 0)
		return diag_fail(d, e1, "region table: %s", diag_message(&d1, e1));
	return 0;
}

static bool vhdx_overlaps(const struct vhdx_range *a, uint64_t start, uint64_t len)
{
	return start < a->end && a->start < start + len;
}

static int vhdx_read_meta(struct vhdx_reader *r, const struct vhdx_region *reg, struct diag *d,
			  struct vhdx_meta *ret)
{
	_cleanup_free_ uint8_t *table = xmalloc(VHDX_MT_SIZE);
	uint8_t values[VHDX_N_ITEMS][16] = { { 0 } };
	const uint8_t *item[VHDX_N_ITEMS];
	struct vhdx_meta_items items;
	int e;

	e = vhdx_pread(r, table, VHDX_MT_SIZE, reg->offset, "the metadata table", d);
	if (e >= 0)
		e = vhdx_meta_table_decode(table, reg->length, d, &items);
	if (e < 0)
		return e;
	for (int k = 0; k < VHDX_N_ITEMS; k++) {
		size_t n = MIN(items.length[k], sizeof(values[k]));

		item[k] = values[k];
		if (!items.present[k] || k == VHDX_ITEM_PARENT_LOCATOR)
			continue;
		e = vhdx_pread(r, values[k], n, reg->offset + items.offset[k], "a metadata item",
			       d);
		if (e < 0)
			return e;
	}
	return vhdx_meta_values_decode(item, &items, d, ret);
}

/* Payload block blk's file offset, 0 when it reads as zeros; its entry is checked first. */
static int vhdx_block(struct vhdx_reader *r, uint64_t blk, struct diag *d, uint64_t *ret)
{
	uint64_t idx = vhdx_bat_index(&r->g, blk), bs = r->g.block_size, e, off, len;
	unsigned state;

	if (idx < r->page_first || idx - r->page_first >= r->page_n) {
		uint64_t first = idx / VHDX_PAGE_ENTRIES * VHDX_PAGE_ENTRIES;
		size_t n = (size_t)MIN(r->g.n_bat - first, VHDX_PAGE_ENTRIES);
		int k;

		r->page_n = 0;
		k = vhdx_pread(r, r->page, n * 8, r->bat_offset + first * 8, "the BAT", d);
		if (k < 0)
			return k;
		r->page_first = first;
		r->page_n = n;
	}
	e = le64_get(r->page + 8 * (idx - r->page_first));
	state = e & VHDX_BAT_STATE_MASK;
	switch (state) {
	case VHDX_PAYLOAD_NOT_PRESENT:
	case VHDX_PAYLOAD_UNDEFINED:
	case VHDX_PAYLOAD_ZERO:
	case VHDX_PAYLOAD_UNMAPPED:
	case VHDX_PAYLOAD_UNMAPPED_V1:
		*ret = 0;
		return 0;
	case VHDX_PAYLOAD_FULLY_PRESENT:
		break;
	case VHDX_PAYLOAD_PARTIALLY_PRESENT:
		return diag_fail(d, -EBADMSG, "BAT entry %llu: block %llu partially present in a "
				 "disk without a parent", (unsigned long long)idx,
				 (unsigned long long)blk);
	default:
		return diag_fail(d, -EBADMSG, "BAT entry %llu: reserved state %u",
				 (unsigned long long)idx, state);
	}
	off = e >> VHDX_BAT_OFFSET_SHIFT << VHDX_BAT_OFFSET_SHIFT;
	/* the last block may end with the disk (qemu wrote such files) */
	len = MIN(bs, r->base.virtual_size - blk * bs);
	if (off < VHDX_HEADER_SECTION_SIZE)
		return diag_fail(d, -EBADMSG, "BAT entry %llu: block %llu at byte %llu lies in the "
				 "header section", (unsigned long long)idx, (unsigned long long)blk,
				 (unsigned long long)off);
	if (off > r->file_size || len > r->file_size - off)
		return diag_fail(d, -EBADMSG, "BAT entry %llu: block %llu at byte %llu lies past "
				 "the end of the file (truncated?)", (unsigned long long)idx,
				 (unsigned long long)blk, (unsigned long long)off);
	for (size_t i = 0; i < r->n_used; i++) {
		/* used[]: the log when there is one, then the BAT and the metadata */
		const char *what = i + 3 == r->n_used ? "log" : i + 2 == r->n_used ? "BAT"
										    : "metadata";

		if (vhdx_overlaps(&r->used[i], off, len))
			return diag_fail(d, -EBADMSG, "BAT entry %llu: block %llu at byte %llu "
					 "overlaps the %s", (unsigned long long)idx,
					 (unsigned long long)blk, (unsigned long long)off, what);
	}
	*ret = off;
	return 0;
}

static int vhdx_read_open(int fd, uint64_t file_size, struct diag *d, struct image_reader **ret)
{
	_cleanup_(vhdx_read_closep) struct image_reader *base = NULL;
	struct vhdx_reader *r;
	struct vhdx_header h;
	struct vhdx_regions rt;
	struct vhdx_meta m;
	uint64_t bat_bytes, off;
	int e;

	r = xcalloc(1, sizeof(*r));
	base = &r->base;
	r->fd = fd;
	r->file_size = file_size;
	if (file_size < VHDX_REGION2_OFFSET + VHDX_RT_SIZE)
		return diag_fail(d, -EBADMSG, "file too short for the VHDX header section (%llu "
				 "bytes)", (unsigned long long)file_size);
	e = vhdx_read_header(r, d, &h);
	if (e >= 0)
		e = vhdx_check_log(r, &h, d);
	if (e >= 0)
		e = vhdx_read_regions(r, d, &rt);
	if (e < 0)
		return e;
	r->used[r->n_used++] = (struct vhdx_range){ rt.bat.offset, rt.bat.offset + rt.bat.length };
	r->used[r->n_used++] = (struct vhdx_range){ rt.meta.offset,
						    rt.meta.offset + rt.meta.length };
	if (r->n_used == 3 && (vhdx_overlaps(&r->used[0], rt.bat.offset, rt.bat.length) ||
			       vhdx_overlaps(&r->used[0], rt.meta.offset, rt.meta.length)))
		return diag_fail(d, -EBADMSG, "the log overlaps the BAT or metadata region");
	e = vhdx_read_meta(r, &rt.meta, d, &m);
	if (e < 0)
		return e;
	r->base.virtual_size = m.virtual_size;
	r->g = vhdx_geometry_for(m.virtual_size, m.block_size, m.logical_sector);
	bat_bytes = r->g.n_bat * 8;
	if (bat_bytes > rt.bat.length)
		return diag_fail(d, -EBADMSG, "BAT region of %u bytes is too small for the %llu "
				 "entries of a %llu-byte disk", rt.bat.length,
				 (unsigned long long)r->g.n_bat,
				 (unsigned long long)m.virtual_size);
	if (rt.bat.offset > file_size || bat_bytes > file_size - rt.bat.offset)
		return diag_fail(d, -EBADMSG, "BAT at byte %llu lies past the end of the file "
				 "(truncated?)", (unsigned long long)rt.bat.offset);
	r->bat_offset = rt.bat.offset;
	r->page = xmalloc(VHDX_PAGE_ENTRIES * 8);
	/* every entry checked now, so that a bad one fails the open, not a later read */
	for (uint64_t blk = 0; blk < r->g.n_blocks; blk++) {
		e = vhdx_block(r, blk, d, &off);
		if (e < 0)
			return e;
	}
	*ret = TAKE_PTR(base);
	return 0;
}

static int vhdx_read(struct image_reader *base, uint64_t off, void *buf, size_t len,
		     struct diag *d)
{
	struct vhdx_reader *r = (struct vhdx_reader *)base;
	uint64_t bs = r->g.block_size;
	uint8_t *p = buf;

	while (len > 0) {
		uint64_t blk = off / bs, at;
		size_t in = off % bs, n = (size_t)MIN(len, bs - in);
		int e = vhdx_block(r, blk, d, &at);

		if (e < 0)
			return e;
		if (at == 0)
			memset(p, 0, n);
		else {
			e = pread_full(r->fd, p, n, at + in);
			if (e < 0)
				return diag_fail(d, e, "read of block %llu at byte %llu failed: %s",
						 (unsigned long long)blk,
						 (unsigned long long)(at + in), strerror(-e));
		}
		off += n;
		p += n;
		len -= n;
	}
	return 0;
}

static int vhdx_next_data(struct image_reader *base, uint64_t off, uint64_t *ret_start,
			  uint64_t *ret_len, struct diag *d)
{
	struct vhdx_reader *r = (struct vhdx_reader *)base;
	uint64_t size = base->virtual_size, bs = r->g.block_size, blk, end, at = 0;
	int e;

	for (blk = off / bs; blk < r->g.n_blocks; blk++) {
		e = vhdx_block(r, blk, d, &at);
		if (e < 0)
			return e;
		if (at)
			break;
	}
	if (blk >= r->g.n_blocks) {
		*ret_start = MAX(off, size);
		*ret_len = 0;
		return 0;
	}
	for (end = blk + 1; end < r->g.n_blocks; end++) {
		e = vhdx_block(r, end, d, &at);
		if (e < 0)
			return e;
		if (!at)
			break;
	}
	*ret_start = MAX(off, blk * bs);
	*ret_len = MIN(end * bs, size) - *ret_start;
	return 0;
}

/* resize: the block size stays (the identifiers come from the rewrite's seed). */
static int vhdx_write_params(struct image_reader *base, const char **ret_format,
			     struct format_params *p, char *kept, size_t kept_cap, struct diag *d)
{
	const struct vhdx_reader *r = (const struct vhdx_reader *)base;

	*ret_format = "vhdx";
	p->vhdx_block_size = (uint32_t)r->g.block_size;
	snprintf(kept, kept_cap, "block size %" PRIu64, (uint64_t)r->g.block_size);
	return 0;
}

const struct reader_ops reader_vhdx = {
	.write_params = vhdx_write_params,
	.name = "vhdx",
	.probe = vhdx_probe,
	.open = vhdx_read_open,
	.read = vhdx_read,
	.next_data = vhdx_next_data,
	.close = vhdx_read_close,
};
