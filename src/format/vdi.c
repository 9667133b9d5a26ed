/* VDI output: a dynamic VirtualBox disk image (docs/formats/vdi.md).
 *
 * Layout, as qemu-img lays it out: header sector at 0, block map at 0x200 (le32 per 1 MiB
 * block, rounded up to a sector), data blocks from there on in the order they are written.
 * Blocks that stay all zero are never allocated. The block map and the header, which depend on
 * what was allocated, are written last into the space reserved for them: no data is rewritten. */
#include "format/vdi.h"

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

void vdi_header_encode(uint8_t *buf, const struct vdi_header *h)
{
	uint8_t guid[UUID_LEN];

	memset(buf, 0, VDI_HDR_SIZE);
	memcpy(buf + VDI_HDR_TEXT, VDI_TEXT, strlen(VDI_TEXT));
	le32_put(buf + VDI_HDR_SIGNATURE, VDI_SIGNATURE);
	le32_put(buf + VDI_HDR_VERSION, h->version);
	le32_put(buf + VDI_HDR_HEADER_SIZE, h->header_size);
	le32_put(buf + VDI_HDR_IMAGE_TYPE, h->image_type);
	le32_put(buf + VDI_HDR_IMAGE_FLAGS, h->image_flags);
	le32_put(buf + VDI_HDR_OFFSET_BMAP, h->offset_bmap);
	le32_put(buf + VDI_HDR_OFFSET_DATA, h->offset_data);
	/* legacy geometry 0/0/0 as qemu-img and VirtualBox leave it: "let the guest decide" */
	le32_put(buf + VDI_HDR_SECTOR_SIZE, h->sector_size);
	le64_put(buf + VDI_HDR_DISK_SIZE, h->disk_size);
	le32_put(buf + VDI_HDR_BLOCK_SIZE, h->block_size);
	le32_put(buf + VDI_HDR_BLOCK_EXTRA, h->block_extra);
	le32_put(buf + VDI_HDR_BLOCKS_IN_IMAGE, h->blocks_in_image);
	le32_put(buf + VDI_HDR_BLOCKS_ALLOCATED, h->blocks_allocated);
	/* VirtualBox keeps RTUUIDs in host (little-endian) field order, i.e. as GUIDs */
	uuid_to_guid(h->uuid_image, guid);
	memcpy(buf + VDI_HDR_UUID_IMAGE, guid, UUID_LEN);
	uuid_to_guid(h->uuid_last_snap, guid);
	memcpy(buf + VDI_HDR_UUID_LAST_SNAP, guid, UUID_LEN);
	uuid_to_guid(h->uuid_link, guid);
	memcpy(buf + VDI_HDR_UUID_LINK, guid, UUID_LEN);
	uuid_to_guid(h->uuid_parent, guid);
	memcpy(buf + VDI_HDR_UUID_PARENT, guid, UUID_LEN);
	/* VirtualBox rejects a 1plus header whose LCHS sector size is not 512 */
	if (h->header_size >= VDI_HEADER_SIZE_V1PLUS)
		le32_put(buf + VDI_HDR_LCHS_SECTOR_SIZE, h->sector_size);
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int vdi_header_decode(const uint8_t *buf, size_t len, uint64_t file_size, struct diag *d,
		      struct vdi_header *ret)
{
	struct vdi_header h = { 0 };
	uint64_t bmap_end;

	if (len < VDI_HDR_SIZE || file_size < VDI_HDR_SIZE)
		return diag_fail(d, -EBADMSG, "file too short for a header (%llu bytes)",
				 (unsigned long long)file_size);
	if (le32_get(buf + VDI_HDR_SIGNATURE) != VDI_SIGNATURE)
		return diag_fail(d, -EBADMSG, "bad signature 0x%08x",
				 le32_get(buf + VDI_HDR_SIGNATURE));
	h.version = le32_get(buf + VDI_HDR_VERSION);
	if (h.version != VDI_VERSION_1_1)
		return diag_fail(d, -ENOTSUP, "version %u.%u is not supported (only 1.1)",
				 h.version >> 16, h.version & 0xffff);
	h.header_size = le32_get(buf + VDI_HDR_HEADER_SIZE);
	if (h.header_size < VDI_HEADER_SIZE_V1 || h.header_size > VDI_HDR_SIZE - VDI_HDR_HEADER_SIZE)
		return diag_fail(d, -EBADMSG, "bad header size %u", h.header_size);
	h.image_type = le32_get(buf + VDI_HDR_IMAGE_TYPE);
	if (h.image_type == VDI_TYPE_UNDO || h.image_type == VDI_TYPE_DIFF)
		return diag_fail(d, -ENOTSUP,
				 "differencing/undo images (type %u) are not supported; "
				 "merge it into its parent first", h.image_type);
	if (h.image_type != VDI_TYPE_DYNAMIC && h.image_type != VDI_TYPE_STATIC)
		return diag_fail(d, -EBADMSG, "bad image type %u", h.image_type);
	h.image_flags = le32_get(buf + VDI_HDR_IMAGE_FLAGS);
	memcpy(h.uuid_link, buf + VDI_HDR_UUID_LINK, UUID_LEN);
	memcpy(h.uuid_parent, buf + VDI_HDR_UUID_PARENT, UUID_LEN);
	if (!uuid_is_null(h.uuid_link) || !uuid_is_null(h.uuid_parent))
		return diag_fail(d, -ENOTSUP,
				 "image has a parent (differencing image); not supported");
	uuid_to_guid(buf + VDI_HDR_UUID_IMAGE, h.uuid_image);
	uuid_to_guid(buf + VDI_HDR_UUID_LAST_SNAP, h.uuid_last_snap);

	h.sector_size = le32_get(buf + VDI_HDR_SECTOR_SIZE);
	if (h.sector_size != 512)
		return diag_fail(d, -EBADMSG, "bad sector size %u", h.sector_size);
	h.block_size = le32_get(buf + VDI_HDR_BLOCK_SIZE);
	if (!is_pow2(h.block_size) || h.block_size < 512 || h.block_size > (256u << 20))
		return diag_fail(d, -EBADMSG, "bad block size %u", h.block_size);
	h.block_extra = le32_get(buf + VDI_HDR_BLOCK_EXTRA);
	if (h.block_extra != 0)
		return diag_fail(d, -ENOTSUP, "block extra data (%u bytes) is not supported",
				 h.block_extra);
	h.blocks_in_image = le32_get(buf + VDI_HDR_BLOCKS_IN_IMAGE);
	if (h.blocks_in_image > VDI_BLOCKS_MAX)
		return diag_fail(d, -EBADMSG, "bad blocks in image %u", h.blocks_in_image);
	h.blocks_allocated = le32_get(buf + VDI_HDR_BLOCKS_ALLOCATED);
	if (h.blocks_allocated > h.blocks_in_image)
		return diag_fail(d, -EBADMSG, "blocks allocated %u exceeds blocks in image %u",
				 h.blocks_allocated, h.blocks_in_image);
	h.disk_size = le64_get(buf + VDI_HDR_DISK_SIZE);
	if (h.disk_size > (uint64_t)h.blocks_in_image * h.block_size)
		return diag_fail(d, -EBADMSG,
				 "disk size %llu exceeds the %u blocks of the block map",
				 (unsigned long long)h.disk_size, h.blocks_in_image);

	h.offset_bmap = le32_get(buf + VDI_HDR_OFFSET_BMAP);
	h.offset_data = le32_get(buf + VDI_HDR_OFFSET_DATA);
	bmap_end = (uint64_t)h.offset_bmap + (uint64_t)h.blocks_in_image * 4;
	if (h.offset_bmap < VDI_HDR_HEADER_SIZE + h.header_size || bmap_end > file_size)
		return diag_fail(d, -EBADMSG, "block map offset %u outside the file",
				 h.offset_bmap);
	if (h.offset_data < bmap_end || h.offset_data > file_size)
		return diag_fail(d, -EBADMSG, "data offset %u outside the file", h.offset_data);
	*ret = h;
	return 0;
}

struct vdi_sink {
	struct sink base;
	struct outfile *out;
	struct vdi_header hdr;
	uint32_t *bmap;     /* host order */
	uint8_t *block;     /* the block being assembled */
	uint64_t cur;       /* its index, or UINT64_MAX */
	uint32_t n_alloc;
};

static struct vdi_sink *vdi_sink_free(struct vdi_sink *s)
{
	if (!s)
		return NULL;
	free(s->bmap);
	free(s->block);
	free(s);
	return NULL;
}

static int vdi_open(const struct format_params *p, struct outfile *out, struct diag *d,
		    struct sink **ret)
{
	const char *seed = p->seed ? p->seed : "";
	uint64_t disk_size = ROUND_UP(p->virtual_size, 512);
	uint64_t n_blocks = DIV_ROUND_UP(disk_size, VDI_BLOCK_SIZE);
	uint64_t bmap_bytes = ROUND_UP(n_blocks * 4, 512);
	struct vdi_sink *s;

	if (n_blocks > VDI_BLOCKS_MAX || 0x200 + bmap_bytes > UINT32_MAX)
		return diag_fail(d, -EOVERFLOW, "disk size %llu too large for VDI",
				 (unsigned long long)p->virtual_size);
	s = xcalloc(1, sizeof(*s));
	s->out = out;
	s->hdr = (struct vdi_header){
		.version = VDI_VERSION_1_1,
		.header_size = VDI_HEADER_SIZE_V1PLUS,
		.image_type = VDI_TYPE_DYNAMIC,
		.offset_bmap = VDI_HDR_SIZE,
		.offset_data = (uint32_t)(VDI_HDR_SIZE + bmap_bytes),
		.sector_size = 512,
		.disk_size = disk_size,
		.block_size = VDI_BLOCK_SIZE,
		.blocks_in_image = (uint32_t)n_blocks,
	};
	uuid_derive(seed, "vdi-uuid", s->hdr.uuid_image);
	if (!uuid_is_null(p->keep_uuid))
		memcpy(s->hdr.uuid_image, p->keep_uuid, 16);
	uuid_derive(seed, "vdi-last-snap-uuid", s->hdr.uuid_last_snap);
	s->bmap = xmalloc(n_blocks ? n_blocks * 4 : 4);
	for (uint64_t i = 0; i < n_blocks; i++)
		s->bmap[i] = VDI_UNALLOCATED;
	s->block = xmalloc(VDI_BLOCK_SIZE);
	s->cur = UINT64_MAX;
	*ret = &s->base;
	return 0;
}

/* Allocate the next block for data unless it is all zeros. */
static int vdi_put_block(struct vdi_sink *s, uint64_t idx, const uint8_t *data, struct diag *d)
{
	uint64_t off;
	int r;

	if (mem_is_zero(data, VDI_BLOCK_SIZE))
		return 0;
	off = s->hdr.offset_data + (uint64_t)s->n_alloc * VDI_BLOCK_SIZE;
	r = pwrite_full(s->out->fd, data, VDI_BLOCK_SIZE, off);
	if (r < 0)
		return diag_fail(d, r, "%s: write failed: %s", s->out->path, strerror(-r));
	s->bmap[idx] = s->n_alloc++;
	return 0;
}

static int vdi_flush(struct vdi_sink *s, struct diag *d)
{
	int r = 0;

	if (s->cur != UINT64_MAX)
		r = vdi_put_block(s, s->cur, s->block, d);
	s->cur = UINT64_MAX;
	return r;
}

static int vdi_write(struct sink *base, uint64_t off, const void *buf, size_t len, struct diag *d)
{
	struct vdi_sink *s = (struct vdi_sink *)base;
	const uint8_t *p = buf;
	int r;

	while (len > 0) {
		uint64_t idx = off / VDI_BLOCK_SIZE;
		size_t in = off % VDI_BLOCK_SIZE;
		size_t n = MIN(len, VDI_BLOCK_SIZE - in);

		if (idx != s->cur) {
			r = vdi_flush(s, d);
			if (r < 0)
				return r;
			if (n == VDI_BLOCK_SIZE) { /* a whole block: no copy */
				r = vdi_put_block(s, idx, p, d);
				if (r < 0)
					return r;
				goto next;
			}
			memset(s->block, 0, VDI_BLOCK_SIZE);
			s->cur = idx;
		}
		memcpy(s->block + in, p, n);
	next:
		off += n;
		p += n;
		len -= n;
	}
	return 0;
}

static int vdi_write_metadata(struct vdi_sink *s, struct diag *d)
{
	uint64_t bmap_bytes = s->hdr.offset_data - s->hdr.offset_bmap;
	_cleanup_free_ uint8_t *bmap = xcalloc(1, bmap_bytes);
	uint8_t hdr[VDI_HDR_SIZE];
	uint64_t end = s->hdr.offset_data + (uint64_t)s->n_alloc * VDI_BLOCK_SIZE;
	int r;

	s->hdr.blocks_allocated = s->n_alloc;
	vdi_header_encode(hdr, &s->hdr);
	for (uint32_t i = 0; i < s->hdr.blocks_in_image; i++)
		le32_put(bmap + 4 * (size_t)i, s->bmap[i]);
	r = pwrite_full(s->out->fd, hdr, sizeof(hdr), 0);
	if (r >= 0)
		r = pwrite_full(s->out->fd, bmap, bmap_bytes, s->hdr.offset_bmap);
	if (r >= 0 && ftruncate(s->out->fd, (off_t)end) < 0)
		r = -errno;
	if (r < 0)
		return diag_fail(d, r, "%s: write failed: %s", s->out->path, strerror(-r));
	return 0;
}

static int vdi_finish(struct sink *base, struct diag *d)
{
	struct vdi_sink *s = (struct vdi_sink *)base;
	int r;

	r = vdi_flush(s, d);
	if (r >= 0)
		r = vdi_write_metadata(s, d);
	if (r < 0)
		outfile_abort(s->out);
	else
		r = outfile_commit(s->out, d);
	vdi_sink_free(s);
	return r;
}

static void vdi_abort(struct sink *base)
{
	struct vdi_sink *s = (struct vdi_sink *)base;

	outfile_abort(s->out);
	vdi_sink_free(s);
}

const struct format_ops format_vdi = {
	.name = "vdi",
	.extension = "vdi",
	.options = 0, /* a dynamic VDI, no options */
	.open = vdi_open,
	.write = vdi_write,
	.finish = vdi_finish,
	.abort = vdi_abort,
};
