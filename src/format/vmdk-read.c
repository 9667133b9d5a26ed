/* Reading VMDK sparse extents with their descriptor embedded: monolithicSparse (plain grains)
 * and streamOptimized (deflated grains behind markers, the grain directory found through the
 * footer), docs/formats/vmdk.md. Descriptor files with separate extents, and disks with a
 * parent, are refused.
 *
 * Hostile input: the header's fields are checked (vmdk_header_decode), the grain directory
 * is bounded (VMDK_MAX_GD_BYTES) and read at open, and its grain tables must lie inside the
 * file, one after another without overlapping, so that walking the disk reads each table
 * once and the work is linear in the file. Grain tables are read on demand, one cached; a
 * compressed grain is inflated once into a one-grain cache. */
#include "format/vmdk-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/format-internal.h"
#include "format/qcow2/qcow2-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/xalloc.h"

/* The part of an embedded descriptor we look at for a parent. */
#define VMDK_DESC_READ_MAX (64u << 10)

struct vmdk_reader {
	struct image_reader base;
	int fd;
	uint64_t file_size;
	struct vmdk_header h;
	uint64_t grain_bytes;
	uint64_t n_grains;
	uint64_t n_gd;
	uint32_t *gd;       /* sector of each grain table, 0: none */
	uint32_t *gt;       /* the cached table, le32 as read */
	uint64_t gt_idx;    /* its index, or UINT64_MAX */
	struct qcow2_codec *codec;
	uint8_t *zbuf;      /* a compressed grain as read */
	size_t zcap;
	uint8_t *grain;     /* the inflated grain grain_idx, or UINT64_MAX */
	uint64_t grain_idx;
};

static int vmdk_probe(const uint8_t *head, size_t len, uint64_t file_size)
{
	(void)file_size;
	return len >= 4 && memcmp(head, VMDK_MAGIC, 4) == 0;
}

static void vmdk_read_close(struct image_reader *base)
{
	struct vmdk_reader *r = (struct vmdk_reader *)base;

	if (!r)
		return;
	qcow2_codec_free(r->codec);
	free(r->gd);
	free(r->gt);
	free(r->zbuf);
	free(r->grain);
	free(r);
}

DEFINE_CLEANUP_FUNC(struct image_reader, vmdk_read_close)

static int read_at(struct vmdk_reader *r, void *buf, size_t len, uint64_t off, const char *what,
		   struct diag *d)
{
	int e;

	if (off > r->file_size || r->file_size - off < len)
		return diag_fail(d, -EBADMSG, "%s at byte %llu lies past the end of the file "
				 "(truncated?)", what, (unsigned long long)off);
	e = pread_full(r->fd, buf, len, off);
	if (e < 0)
		return diag_fail(d, e, "cannot read the %s at byte %llu: %s", what,
				 (unsigned long long)off, strerror(-e));
	return 0;
}

/* A marker sector of the given type with size 0. */
static bool marker_is(const uint8_t *m, enum vmdk_marker_type type)
{
	return le32_get(m + VMDK_MARKER_SIZE) == 0 && le32_get(m + VMDK_MARKER_TYPE) == type;
}

/* A stream's header says "directory at the end": the footer, 1536 bytes before the end
 * (footer marker, footer, end-of-stream marker), takes its place, as qemu and VMware read it. */
static int read_footer(struct vmdk_reader *r, struct diag *d)
{
	uint8_t buf[3 * VMDK_SECTOR];
	uint64_t end = r->file_size / VMDK_SECTOR * VMDK_SECTOR;
	struct vmdk_header f;
	int e;

	if (end < 4 * VMDK_SECTOR)
		return diag_fail(d, -EBADMSG, "grain directory at the end, but no room for a footer");
	e = read_at(r, buf, sizeof(buf), end - sizeof(buf), "footer", d);
	if (e < 0)
		return e;
	if (!marker_is(buf, VMDK_MARKER_FOOTER) || !marker_is(buf + 2 * VMDK_SECTOR,
							       VMDK_MARKER_EOS) ||
	    le64_get(buf + 2 * VMDK_SECTOR + VMDK_MARKER_VAL) != 0)
		return diag_fail(d, -EBADMSG, "grain directory at the end, but no footer and "
				 "end-of-stream marker there (truncated?)");
	e = vmdk_header_decode(buf + VMDK_SECTOR, d, &f);
	if (e < 0)
		return diag_prepend(d, e, "footer");
	if (f.gd_offset == VMDK_GD_AT_END)
		return diag_fail(d, -EBADMSG, "the footer has no grain directory offset either");
	r->h = f;
	return 0;
}

/* A delta disk reads through its parent, which we do not open. */
static int check_descriptor(struct vmdk_reader *r, struct diag *d)
{
	_cleanup_free_ char *desc = NULL;
	uint64_t off = r->h.desc_offset * VMDK_SECTOR;
	size_t len;
	int e;

	if (r->h.desc_offset == 0 || r->h.desc_sect == 0 || r->h.desc_offset > r->file_size ||
	    off >= r->file_size)
		return 0;
	len = (size_t)MIN(MIN(r->h.desc_sect, VMDK_DESC_READ_MAX / VMDK_SECTOR) * VMDK_SECTOR,
			  r->file_size - off);
	desc = xmalloc(len + 1);
	e = read_at(r, desc, len, off, "descriptor", d);
	if (e < 0)
		return e;
	desc[len] = '\0';
	if (memmem(desc, len, "parentFileNameHint", strlen("parentFileNameHint")))
		return diag_fail(d, -ENOTSUP, "a delta disk with a parent is not supported; convert "
				 "it with qemu-img, which opens the parent, first");
	return 0;
}

static int load_gd(struct vmdk_reader *r, struct diag *d)
{
	uint64_t gt_bytes = (uint64_t)r->h.n_gtes * 4, prev_end = 0, off;
	_cleanup_free_ uint8_t *raw = NULL;
	int e;

	r->n_gd = DIV_ROUND_UP(r->n_grains, r->h.n_gtes);
	if (r->n_gd > VMDK_MAX_GD_BYTES / 4)
		return diag_fail(d, -EBADMSG, "capacity %llu sectors needs %llu grain tables, more "
				 "than the %u supported", (unsigned long long)r->h.capacity,
				 (unsigned long long)r->n_gd, VMDK_MAX_GD_BYTES / 4);
	if (r->h.gd_offset > r->file_size / VMDK_SECTOR)
		return diag_fail(d, -EBADMSG, "grain directory offset %llu lies past the end of the "
				 "file (truncated?)", (unsigned long long)r->h.gd_offset);
	off = r->h.gd_offset * VMDK_SECTOR;
	raw = xmalloc(r->n_gd ? r->n_gd * 4 : 1);
	e = read_at(r, raw, r->n_gd * 4, off, "grain directory", d);
	if (e < 0)
		return e;
	r->gd = xmalloc(r->n_gd ? r->n_gd * 4 : 1);
	for (uint64_t i = 0; i < r->n_gd; i++) {
		uint64_t at = (uint64_t)le32_get(raw + 4 * i) * VMDK_SECTOR;

		r->gd[i] = le32_get(raw + 4 * i);
		if (r->gd[i] == 0)
			continue;
		if (at > r->file_size || r->file_size - at < gt_bytes)
			return diag_fail(d, -EBADMSG, "grain table %llu at sector %u lies past the "
					 "end of the file (truncated?)", (unsigned long long)i,
					 r->gd[i]);
		if (at < prev_end)
			return diag_fail(d, -EBADMSG, "grain table %llu at sector %u overlaps the "
					 "one before it", (unsigned long long)i, r->gd[i]);
		prev_end = at + gt_bytes;
	}
	return 0;
}

static int vmdk_read_open(int fd, uint64_t file_size, struct diag *d, struct image_reader **ret)
{
	_cleanup_(vmdk_read_closep) struct image_reader *base = NULL;
	uint8_t hdr[VMDK_HDR_SIZE];
	struct vmdk_reader *r;
	int e;

	r = xcalloc(1, sizeof(*r));
	base = &r->base;
	r->fd = fd;
	r->file_size = file_size;
	r->gt_idx = UINT64_MAX;
	r->grain_idx = UINT64_MAX;
	e = read_at(r, hdr, sizeof(hdr), 0, "sparse extent header", d);
	if (e < 0)
		return e;
	e = vmdk_header_decode(hdr, d, &r->h);
	if (e < 0)
		return e;
	if (r->h.gd_offset == VMDK_GD_AT_END) {
		e = read_footer(r, d);
		if (e < 0)
			return e;
	}
	e = check_descriptor(r, d);
	if (e < 0)
		return e;
	r->grain_bytes = r->h.grain_sect * VMDK_SECTOR;
	r->base.virtual_size = r->h.capacity * VMDK_SECTOR;
	r->n_grains = DIV_ROUND_UP(r->h.capacity, r->h.grain_sect);
	e = load_gd(r, d);
	if (e < 0)
		return e;
	r->gt = xmalloc((size_t)r->h.n_gtes * 4);
	if (r->h.flags & VMDK_FLAG_COMPRESSED) {
		r->codec = qcow2_codec_new(QCOW2_COMPRESSION_ZLIB_STREAM);
		r->grain = xmalloc(r->grain_bytes);
		/* deflate's worst case is a few bytes per 16 KiB over the input */
		r->zcap = (size_t)r->grain_bytes * 2 + VMDK_SECTOR;
		r->zbuf = xmalloc(r->zcap);
	}
	*ret = TAKE_PTR(base);
	return 0;
}

/* The grain table entry of a grain: 0 unallocated (or a zero grain), else its sector. */
static int lookup(struct vmdk_reader *r, uint64_t grain, uint32_t *ret, struct diag *d)
{
	uint64_t idx = grain / r->h.n_gtes;
	uint32_t e;
	int err;

	*ret = 0;
	if (idx >= r->n_gd || r->gd[idx] == 0)
		return 0;
	if (idx != r->gt_idx) {
		r->gt_idx = UINT64_MAX;
		err = read_at(r, r->gt, (size_t)r->h.n_gtes * 4, (uint64_t)r->gd[idx] * VMDK_SECTOR,
			      "grain table", d);
		if (err < 0)
			return err;
		r->gt_idx = idx;
	}
	e = le32_get((const uint8_t *)r->gt + 4 * (grain % r->h.n_gtes));
	if (e == 1 && (r->h.flags & VMDK_FLAG_ZERO_GRAIN))
		e = 0;
	*ret = e;
	return 0;
}

/* Inflate grain (stored from sector sect) into r->grain. */
static int inflate_grain(struct vmdk_reader *r, uint64_t grain, uint32_t sect, struct diag *d)
{
	uint64_t at = (uint64_t)sect * VMDK_SECTOR, start = grain * r->grain_bytes;
	size_t out_len = (size_t)MIN(r->grain_bytes, r->base.virtual_size - start), len;
	int e;

	if (grain == r->grain_idx)
		return 0;
	r->grain_idx = UINT64_MAX;
	if (r->h.flags & VMDK_FLAG_MARKERS) {
		uint8_t m[VMDK_GRAIN_MARKER_SIZE];

		e = read_at(r, m, sizeof(m), at, "grain marker", d);
		if (e < 0)
			return e;
		len = le32_get(m + VMDK_MARKER_SIZE);
		if (le64_get(m + VMDK_MARKER_VAL) != grain * r->h.grain_sect)
			return diag_fail(d, -EBADMSG, "grain %llu at sector %u: its marker says LBA "
					 "%llu", (unsigned long long)grain, sect,
					 (unsigned long long)le64_get(m + VMDK_MARKER_VAL));
		if (len == 0 || len > r->zcap)
			return diag_fail(d, -EBADMSG, "grain %llu at sector %u: bad compressed size "
					 "%zu", (unsigned long long)grain, sect, len);
		at += sizeof(m);
	} else {
		if (at > r->file_size)
			return diag_fail(d, -EBADMSG, "grain %llu at sector %u lies past the end of "
					 "the file (truncated?)", (unsigned long long)grain, sect);
		len = (size_t)MIN(r->zcap, r->file_size - at);
	}
	e = read_at(r, r->zbuf, len, at, "compressed grain", d);
	if (e < 0)
		return e;
	memset(r->grain, 0, r->grain_bytes);
	if (qcow2_codec_decompress(r->codec, r->zbuf, len, r->grain, out_len) < 0)
		return diag_fail(d, -EBADMSG, "grain %llu at sector %u does not inflate",
				 (unsigned long long)grain, sect);
	r->grain_idx = grain;
	return 0;
}

static int vmdk_read(struct image_reader *base, uint64_t off, void *buf, size_t len,
		     struct diag *d)
{
	struct vmdk_reader *r = (struct vmdk_reader *)base;
	uint8_t *p = buf;
	int e;

	while (len > 0) {
		uint64_t grain = off / r->grain_bytes;
		size_t in = (size_t)(off % r->grain_bytes);
		size_t n = MIN(len, (size_t)(r->grain_bytes - in));
		uint32_t sect;

		e = lookup(r, grain, &sect, d);
		if (e < 0)
			return e;
		if (sect == 0) {
			memset(p, 0, n);
		} else if (r->codec) {
			e = inflate_grain(r, grain, sect, d);
			if (e < 0)
				return e;
			memcpy(p, r->grain + in, n);
		} else {
			e = read_at(r, p, n, (uint64_t)sect * VMDK_SECTOR + in, "grain", d);
			if (e < 0)
				return e;
		}
		off += n;
		p += n;
		len -= n;
	}
	return 0;
}

static int vmdk_next_data(struct image_reader *base, uint64_t off, uint64_t *ret_start,
			  uint64_t *ret_len, struct diag *d)
{
	struct vmdk_reader *r = (struct vmdk_reader *)base;
	uint64_t size = base->virtual_size, gb = r->grain_bytes, g, end;
	uint32_t sect = 0;
	int e;

	*ret_start = off;
	*ret_len = 0;
	if (off >= size)
		return 0;
	for (g = off / gb; g < r->n_grains; g++) {
		uint64_t idx = g / r->h.n_gtes;

		if (r->gd[idx] == 0) { /* a whole table unallocated */
			g = (idx + 1) * r->h.n_gtes - 1;
			continue;
		}
		e = lookup(r, g, &sect, d);
		if (e < 0)
			return e;
		if (sect)
			break;
	}
	if (g >= r->n_grains) {
		*ret_start = size;
		return 0;
	}
	for (end = g + 1; end < r->n_grains; end++) {
		e = lookup(r, end, &sect, d);
		if (e < 0)
			return e;
		if (!sect)
			break;
	}
	*ret_start = MAX(off, g * gb);
	*ret_len = MIN(end * gb, size) - *ret_start;
	return 0;
}

/* resize: streamOptimized (compressed grains) stays streamOptimized, else monolithicSparse. */
static int vmdk_write_params(struct image_reader *base, const char **ret_format,
			     struct format_params *p, char *kept, size_t kept_cap, struct diag *d)
{
	const struct vmdk_reader *r = (const struct vmdk_reader *)base;
	bool stream = (r->h.flags & VMDK_FLAG_COMPRESSED) != 0;

	*ret_format = "vmdk";
	p->vmdk_subformat = stream ? FORMAT_VMDK_STREAM_OPTIMIZED : FORMAT_VMDK_MONOLITHIC_SPARSE;
	snprintf(kept, kept_cap, "subformat %s", stream ? "streamOptimized" : "monolithicSparse");
	return 0;
}

const struct reader_ops reader_vmdk = {
	.write_params = vmdk_write_params,
	.name = "vmdk",
	.probe = vmdk_probe,
	.open = vmdk_read_open,
	.read = vmdk_read,
	.next_data = vmdk_next_data,
	.close = vmdk_read_close,
};
