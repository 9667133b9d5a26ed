/* Reading VDI images, dynamic and static (docs/formats/vdi.md). The whole block map is read and
 * checked at open: every allocated entry must point inside the file, so reads need no further
 * checks. Memory is bounded by the block map, which must fit in the file. */
#include "format/vdi.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "format/format-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/xalloc.h"

struct vdi_reader {
	struct image_reader base;
	int fd;
	struct vdi_header hdr;
	uint32_t *bmap; /* host order */
};

static bool vdi_entry_allocated(uint32_t e)
{
	return e != VDI_UNALLOCATED && e != VDI_DISCARDED;
}

static int vdi_probe(const uint8_t *head, size_t len, uint64_t file_size)
{
	return len >= VDI_HDR_SIGNATURE + 4 && le32_get(head + VDI_HDR_SIGNATURE) == VDI_SIGNATURE;
}

static int vdi_load_bmap(struct vdi_reader *r, uint64_t file_size, struct diag *d)
{
	const struct vdi_header *h = &r->hdr;
	size_t n = h->blocks_in_image;
	_cleanup_free_ uint8_t *raw = xmalloc(n ? n * 4 : 1);
	int e;

	e = pread_full(r->fd, raw, n * 4, h->offset_bmap);
	if (e < 0)
		return diag_fail(d, e, "cannot read the block map: %s", strerror(-e));
	r->bmap = xmalloc(n ? n * 4 : 1);
	for (size_t i = 0; i < n; i++) {
		uint32_t v = le32_get(raw + 4 * i);

		r->bmap[i] = v;
		if (!vdi_entry_allocated(v))
			continue;
		if (h->offset_data + ((uint64_t)v + 1) * h->block_size > file_size)
			return diag_fail(d, -EBADMSG,
					 "block map entry %zu (block %u) points past the end of the "
					 "file (truncated?)", i, v);
	}
	return 0;
}

static void vdi_read_close(struct image_reader *base)
{
	struct vdi_reader *r = (struct vdi_reader *)base;

	if (!r)
		return;
	free(r->bmap);
	free(r);
}

static int vdi_read_open(int fd, uint64_t file_size, struct diag *d, struct image_reader **ret)
{
	uint8_t buf[VDI_HDR_SIZE];
	struct vdi_reader *r;
	struct vdi_header h;
	int e;

	if (file_size < VDI_HDR_SIZE)
		return diag_fail(d, -EBADMSG, "file too short for a VDI header (%llu bytes)",
				 (unsigned long long)file_size);
	e = pread_full(fd, buf, sizeof(buf), 0);
	if (e < 0)
		return diag_fail(d, e, "cannot read the header: %s", strerror(-e));
	e = vdi_header_decode(buf, sizeof(buf), file_size, d, &h);
	if (e < 0)
		return e;
	r = xcalloc(1, sizeof(*r));
	r->fd = fd;
	r->hdr = h;
	/* qemu and VirtualBox round odd sizes (VBoxManage convertfromraw) up to a sector */
	r->base.virtual_size = ROUND_UP(h.disk_size, 512);
	e = vdi_load_bmap(r, file_size, d);
	if (e < 0) {
		vdi_read_close(&r->base);
		return e;
	}
	*ret = &r->base;
	return 0;
}

static int vdi_read(struct image_reader *base, uint64_t off, void *buf, size_t len,
		    struct diag *d)
{
	struct vdi_reader *r = (struct vdi_reader *)base;
	uint32_t bs = r->hdr.block_size;
	uint8_t *p = buf;

	while (len > 0) {
		uint64_t idx = off / bs;
		size_t in = off % bs;
		size_t n = MIN(len, (size_t)(bs - in));
		uint32_t e = idx < r->hdr.blocks_in_image ? r->bmap[idx] : VDI_UNALLOCATED;

		if (!vdi_entry_allocated(e))
			memset(p, 0, n);
		else {
			uint64_t at = r->hdr.offset_data + (uint64_t)e * bs + in;
			int err = pread_full(r->fd, p, n, at);

			if (err < 0)
				return diag_fail(d, err, "read of block %u at byte %llu failed: %s",
						 e, (unsigned long long)at, strerror(-err));
		}
		off += n;
		p += n;
		len -= n;
	}
	return 0;
}

static int vdi_next_data(struct image_reader *base, uint64_t off, uint64_t *ret_start,
			 uint64_t *ret_len, struct diag *d)
{
	struct vdi_reader *r = (struct vdi_reader *)base;
	uint64_t size = base->virtual_size, bs = r->hdr.block_size;
	uint64_t idx = off / bs, end;

	while (off < size && !vdi_entry_allocated(r->bmap[idx])) {
		idx++;
		off = idx * bs;
	}
	if (off >= size) {
		*ret_start = MAX(off, size);
		*ret_len = 0;
		return 0;
	}
	end = idx + 1;
	while (end * bs < size && vdi_entry_allocated(r->bmap[end]))
		end++;
	*ret_start = off;
	*ret_len = MIN(end * bs, size) - off;
	return 0;
}

/* resize: the image UUID stays (VirtualBox's media registry knows the disk by it). */
static int vdi_write_params(struct image_reader *base, const char **ret_format,
			    struct format_params *p, char *kept, size_t kept_cap, struct diag *d)
{
	const struct vdi_reader *r = (const struct vdi_reader *)base;

	*ret_format = "vdi";
	memcpy(p->keep_uuid, r->hdr.uuid_image, 16);
	snprintf(kept, kept_cap, "image UUID");
	return 0;
}

const struct reader_ops reader_vdi = {
	.write_params = vdi_write_params,
	.name = "vdi",
	.probe = vdi_probe,
	.open = vdi_read_open,
	.read = vdi_read,
	.next_data = vdi_next_data,
	.close = vdi_read_close,
};
