/* VHDX output ("vhdx", Hyper-V): a dynamic VHDX per [MS-VHDX] (docs/formats/vhdx.md).
 *
 * Layout: the header section (file type identifier, two headers, two region tables) in the
 * first MiB, an empty log at 1 MiB (1 MiB, LogGuid zero), the metadata region at 2 MiB
 * (1 MiB), the BAT at 3 MiB (its entries rounded up to whole MiB), then the payload blocks in
 * the order they are first written, each at a 1 MiB-aligned offset. A block is allocated
 * when its first non-zero byte arrives; zero writes before it stay holes in the file, blocks
 * never written with data stay PAYLOAD_BLOCK_ZERO (as qemu-img's block_state_zero).
 *
 * Writes are monotonic and blocks are allocated in disk order, so each BAT entry is final
 * once the write stream has passed its block: entries are kept in a 64 KiB buffer and written
 * into the preallocated BAT region as it fills. Memory is constant whatever the disk size; the
 * headers, region tables and metadata are written at finish. */
#include "format/vhdx-internal.h"

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

#define VHDX_LOG_OFFSET VHDX_MIB
#define VHDX_LOG_LENGTH VHDX_MIB
#define VHDX_META_OFFSET (2 * VHDX_MIB)
#define VHDX_META_LENGTH VHDX_MIB
#define VHDX_BAT_OFFSET (3 * VHDX_MIB)
#define VHDX_BAT_BUF_ENTRIES 8192u /* 64 KiB */
/* Payload writes are gathered up to this size: the image emitter writes a few KiB at a time,
 * and consecutive blocks lie one after the other in the file too. */
#define VHDX_WBUF_SIZE VHDX_MIB
#define VHDX_WBUF_GAP (64u << 10)
/* Hyper-V's default; qemu-img writes 512, which guests read as the disk's alignment. */
#define VHDX_PHYSICAL_SECTOR 4096u

struct vhdx_sink {
	struct sink base;
	struct outfile *out;
	struct vhdx_geometry g;
	uint64_t disk_size; /* the virtual size rounded up to a sector */
	uint32_t bat_length;
	uint64_t data_start;
	uint8_t file_write_guid[16], data_write_guid[16], page83[16];
	uint64_t cur;     /* the block of the last write, UINT64_MAX before the first */
	uint64_t cur_off; /* its file offset, 0 while it has no data */
	uint64_t n_alloc;
	/* BAT entries [bat_base, bat_base + bat_n) waiting in bat_buf */
	uint8_t *bat_buf;
	uint64_t bat_base;
	size_t bat_n;
	/* payload bytes for [w_off, w_off + w_len) of the file, written in one pwrite */
	uint8_t *wbuf;
	uint64_t w_off;
	size_t w_len;
};

static struct vhdx_sink *vhdx_sink_free(struct vhdx_sink *s)
{
	if (!s)
		return NULL;
	free(s->bat_buf);
	free(s->wbuf);
	free(s);
	return NULL;
}

static void vhdx_guid_derive(const char *seed, const char *purpose, uint8_t out[16])
{
	uint8_t u[UUID_LEN];

	uuid_derive(seed ? seed : "", purpose, u);
	uuid_to_guid(u, out);
}

static int vhdx_open(const struct format_params *p, struct outfile *out, struct diag *d,
		     struct sink **ret)
{
	uint32_t bs = p->vhdx_block_size ? p->vhdx_block_size : VHDX_BLOCK_DEFAULT;
	uint64_t size = ROUND_UP(p->virtual_size, 512), bat_bytes;
	struct vhdx_sink *s;

	if (bs < VHDX_BLOCK_MIN || bs > VHDX_BLOCK_MAX || (bs & (bs - 1)) != 0)
		return diag_fail(d, -EINVAL, "vhdx block size %u is not a power of two from 1M "
				 "to 256M", bs);
	if (p->virtual_size > VHDX_MAX_SIZE)
		return diag_fail(d, -EOVERFLOW, "disk size %llu exceeds the VHDX limit of 64 TiB",
				 (unsigned long long)p->virtual_size);
	s = xcalloc(1, sizeof(*s));
	s->out = out;
	s->disk_size = size;
	s->g = vhdx_geometry_for(size, bs, 512);
	bat_bytes = ROUND_UP(MAX(s->g.n_bat * 8, 1), VHDX_MIB); /* at most 512 MiB */
	s->bat_length = (uint32_t)bat_bytes;
	s->data_start = VHDX_BAT_OFFSET + bat_bytes;
	vhdx_guid_derive(p->seed, "vhdx-file-write-guid", s->file_write_guid);
	vhdx_guid_derive(p->seed, "vhdx-data-write-guid", s->data_write_guid);
	vhdx_guid_derive(p->seed, "vhdx-disk-id", s->page83);
	s->cur = UINT64_MAX;
	s->bat_buf = xmalloc(VHDX_BAT_BUF_ENTRIES * 8);
	s->wbuf = xmalloc(VHDX_WBUF_SIZE);
	*ret = &s->base;
	return 0;
}

static int vhdx_fail_write(struct vhdx_sink *s, int r, struct diag *d)
{
	return diag_fail(d, r, "%s: write failed: %s", s->out->path, strerror(-r));
}

static int vhdx_wflush(struct vhdx_sink *s, struct diag *d)
{
	int r = 0;

	if (s->w_len)
		r = pwrite_full(s->out->fd, s->wbuf, s->w_len, s->w_off);
	s->w_len = 0;
	return r < 0 ? vhdx_fail_write(s, r, d) : 0;
}

/* Payload bytes at file offset off: appended to the gathered ones when they follow them,
 * across a small gap of zeros too (a file's data ends mid-block: the rest of the block is a
 * hole). The gap lies in blocks already allocated (they are allocated in file order) that no
 * later write reaches, so zeros there read as the hole would. */
static int vhdx_wput(struct vhdx_sink *s, uint64_t off, const uint8_t *p, size_t n,
		     struct diag *d)
{
	uint64_t end = s->w_off + s->w_len;
	int r;

	if (s->w_len && off >= end && off - end <= VHDX_WBUF_GAP &&
	    n <= VHDX_WBUF_SIZE - s->w_len - (off - end)) {
		memset(s->wbuf + s->w_len, 0, off - end);
		memcpy(s->wbuf + s->w_len + (off - end), p, n);
		s->w_len += off - end + n;
		return 0;
	}
	r = vhdx_wflush(s, d);
	if (r < 0)
		return r;
	if (n >= VHDX_WBUF_SIZE) {
		r = pwrite_full(s->out->fd, p, n, off);
		return r < 0 ? vhdx_fail_write(s, r, d) : 0;
	}
	memcpy(s->wbuf, p, n);
	s->w_off = off;
	s->w_len = n;
	return 0;
}

static int vhdx_bat_flush(struct vhdx_sink *s, struct diag *d)
{
	int r;

	if (s->bat_n == 0)
		return 0;
	r = pwrite_full(s->out->fd, s->bat_buf, s->bat_n * 8, VHDX_BAT_OFFSET + s->bat_base * 8);
	if (r < 0)
		return vhdx_fail_write(s, r, d);
	s->bat_base += s->bat_n;
	s->bat_n = 0;
	return 0;
}

static int vhdx_bat_put(struct vhdx_sink *s, uint64_t entry, struct diag *d)
{
	le64_put(s->bat_buf + 8 * s->bat_n++, entry);
	return s->bat_n == VHDX_BAT_BUF_ENTRIES ? vhdx_bat_flush(s, d) : 0;
}

/* Entries up to (not including) index end that no block claimed: zero payload blocks, absent
 * sector bitmap blocks (2.5.1.2: a dynamic disk has none). */
static int vhdx_bat_fill(struct vhdx_sink *s, uint64_t end, struct diag *d)
{
	int r = 0;

	for (uint64_t i = s->bat_base + s->bat_n; i < end && r >= 0; i++)
		r = vhdx_bat_put(s, vhdx_bat_is_bitmap(&s->g, i) ? VHDX_SB_NOT_PRESENT
								  : VHDX_PAYLOAD_ZERO, d);
	return r;
}

/* The write stream has left the current block: its entry is final. */
static int vhdx_block_done(struct vhdx_sink *s, struct diag *d)
{
	uint64_t idx;
	int r;

	if (s->cur == UINT64_MAX || s->cur_off == 0)
		return 0;
	idx = vhdx_bat_index(&s->g, s->cur);
	r = vhdx_bat_fill(s, idx, d);
	if (r >= 0)
		r = vhdx_bat_put(s, vhdx_bat_entry(VHDX_PAYLOAD_FULLY_PRESENT, s->cur_off), d);
	s->cur_off = 0;
	return r;
}

static int vhdx_write(struct sink *base, uint64_t off, const void *buf, size_t len,
		      struct diag *d)
{
	struct vhdx_sink *s = (struct vhdx_sink *)base;
	const uint8_t *p = buf;
	uint32_t bs = s->g.block_size;
	int r;

	while (len > 0) {
		uint64_t idx = off / bs;
		size_t in = off % bs, n = MIN(len, bs - in);

		if (idx != s->cur) {
			r = vhdx_block_done(s, d);
			if (r < 0)
				return r;
			s->cur = idx;
		}
		/* zeros allocate no block and stay holes in the file (or are gathered as a
		 * gap, vhdx_wput) */
		if (!mem_is_zero(p, n)) {
			if (s->cur_off == 0)
				s->cur_off = s->data_start + s->n_alloc++ * bs;
			r = vhdx_wput(s, s->cur_off + in, p, n, d);
		} else
			r = 0;
		if (r < 0)
			return r;
		off += n;
		p += n;
		len -= n;
	}
	return 0;
}

static int vhdx_write_metadata(struct vhdx_sink *s, struct diag *d)
{
	_cleanup_free_ uint8_t *buf = xcalloc(1, VHDX_META_ENCODED_SIZE);
	struct vhdx_header h = {
		.log_version = 0,
		.version = 1,
		.log_length = VHDX_LOG_LENGTH,
		.log_offset = VHDX_LOG_OFFSET,
	};
	struct vhdx_regions rt = {
		.bat = { VHDX_BAT_OFFSET, s->bat_length },
		.meta = { VHDX_META_OFFSET, VHDX_META_LENGTH },
	};
	struct vhdx_meta m = {
		.block_size = s->g.block_size,
		.virtual_size = s->disk_size,
		.logical_sector = 512,
		.physical_sector = VHDX_PHYSICAL_SECTOR,
	};
	uint64_t end = s->data_start + s->n_alloc * s->g.block_size;
	int fd = s->out->fd, r;

	memcpy(h.file_write_guid, s->file_write_guid, 16);
	memcpy(h.data_write_guid, s->data_write_guid, 16);
	memcpy(m.page83, s->page83, 16);

	vhdx_file_id_encode(buf, "mkdiskimage");
	r = pwrite_full(fd, buf, VHDX_FID_SIZE, VHDX_FILE_ID_OFFSET);
	/* two valid headers, the second current (qemu-img writes them so too) */
	for (int i = 0; i < 2 && r >= 0; i++) {
		h.sequence = 1 + (uint64_t)i;
		vhdx_header_encode(buf, &h);
		r = pwrite_full(fd, buf, VHDX_HDR_SIZE,
				i ? VHDX_HEADER2_OFFSET : VHDX_HEADER1_OFFSET);
	}
	if (r >= 0) {
		vhdx_region_table_encode(buf, &rt);
		r = pwrite_full(fd, buf, VHDX_RT_SIZE, VHDX_REGION1_OFFSET);
	}
	if (r >= 0)
		r = pwrite_full(fd, buf, VHDX_RT_SIZE, VHDX_REGION2_OFFSET);
	if (r >= 0) {
		vhdx_meta_encode(buf, &m);
		r = pwrite_full(fd, buf, VHDX_META_ENCODED_SIZE, VHDX_META_OFFSET);
	}
	/* the last block whole, and the log and the BAT's tail as holes (zeros) */
	if (r >= 0 && ftruncate(fd, (off_t)end) < 0)
		r = -errno;
	if (r < 0)
		return vhdx_fail_write(s, r, d);
	return 0;
}

static int vhdx_finish(struct sink *base, struct diag *d)
{
	struct vhdx_sink *s = (struct vhdx_sink *)base;
	int r;

	r = vhdx_wflush(s, d);
	if (r >= 0)
		r = vhdx_block_done(s, d);
	if (r >= 0)
		r = vhdx_bat_fill(s, s->g.n_bat, d);
	if (r >= 0)
		r = vhdx_bat_flush(s, d);
	if (r >= 0)
		r = vhdx_write_metadata(s, d);
	if (r < 0)
		outfile_abort(s->out);
	else
		r = outfile_commit(s->out, d);
	vhdx_sink_free(s);
	return r;
}

static void vhdx_abort(struct sink *base)
{
	struct vhdx_sink *s = (struct vhdx_sink *)base;

	outfile_abort(s->out);
	vhdx_sink_free(s);
}

const struct format_ops format_vhdx = {
	.name = "vhdx",
	.extension = "vhdx",
	.options = FORMAT_OPT_VHDX_BLOCK_SIZE,
	.open = vhdx_open,
	.write = vhdx_write,
	.finish = vhdx_finish,
	.abort = vhdx_abort,
};
