/* VMDK output ("vmdk"): one hosted sparse extent with its descriptor embedded, in two
 * subformats (docs/formats/vmdk.md).
 *
 * monolithicSparse, as qemu-img -O vmdk lays it out: header at sector 0, descriptor at 1-20,
 * redundant grain directory at 21 and its grain tables, the grain directory and its tables,
 * then the 64 KiB grains from a grain boundary on, in write order. Every table has its place
 * from the start, so a grain table is written once, when the writes move past its 32 MiB;
 * the directories and the header are written at finish. All-zero grains stay unallocated.
 *
 * streamOptimized, as VMware and VirtualBox write it: header (grain directory "at the end")
 * and descriptor, then each non-zero grain deflated (a zlib stream) behind its grain marker,
 * each grain table with a marker after its grains, the directory with its marker, the footer
 * (the header with the directory's offset) and the end-of-stream marker. Written strictly
 * in order but for the first 21 sectors.
 *
 * Memory: one grain, one grain table, a write buffer; streamOptimized also the directory
 * (4 bytes per 32 MiB of disk) and the compression workers' batches (format/pool.h), which
 * deflate grains in parallel and hand them back in disk order: the file is the same for any
 * number of threads. */
#include "format/vmdk-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/format-internal.h"
#include "format/pool.h"
#include "format/qcow2/qcow2-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/outfile.h"
#include "util/uuid.h"
#include "util/xalloc.h"

#define VMDK_WBUF_SIZE (1u << 20)
/* room for a grain that does not compress: zlib's bound is 5 bytes per 16 KiB block plus 6 */
#define VMDK_CBUF_SIZE (VMDK_GRAIN_SIZE + 4096)

void vmdk_header_encode(uint8_t *buf, const struct vmdk_header *h)
{
	memset(buf, 0, VMDK_HDR_SIZE);
	memcpy(buf + VMDK_HDR_MAGIC, VMDK_MAGIC, 4);
	le32_put(buf + VMDK_HDR_VERSION, h->version);
	le32_put(buf + VMDK_HDR_FLAGS, h->flags);
	le64_put(buf + VMDK_HDR_CAPACITY, h->capacity);
	le64_put(buf + VMDK_HDR_GRAIN_SIZE, h->grain_sect);
	le64_put(buf + VMDK_HDR_DESC_OFFSET, h->desc_offset);
	le64_put(buf + VMDK_HDR_DESC_SIZE, h->desc_sect);
	le32_put(buf + VMDK_HDR_NUM_GTES, h->n_gtes);
	le64_put(buf + VMDK_HDR_RGD_OFFSET, h->rgd_offset);
	le64_put(buf + VMDK_HDR_GD_OFFSET, h->gd_offset);
	le64_put(buf + VMDK_HDR_OVERHEAD, h->overhead);
	memcpy(buf + VMDK_HDR_NL_CHECK, VMDK_NL_CHECK, 4);
	le16_put(buf + VMDK_HDR_COMPRESS, h->compress);
}

int vmdk_header_decode(const uint8_t *buf, struct diag *d, struct vmdk_header *ret)
{
	struct vmdk_header h = { 0 };

	if (memcmp(buf + VMDK_HDR_MAGIC, VMDK_MAGIC, 4) != 0)
		return diag_fail(d, -EBADMSG, "no sparse extent magic \"KDMV\"");
	h.version = le32_get(buf + VMDK_HDR_VERSION);
	h.flags = le32_get(buf + VMDK_HDR_FLAGS);
	h.capacity = le64_get(buf + VMDK_HDR_CAPACITY);
	h.grain_sect = le64_get(buf + VMDK_HDR_GRAIN_SIZE);
	h.desc_offset = le64_get(buf + VMDK_HDR_DESC_OFFSET);
	h.desc_sect = le64_get(buf + VMDK_HDR_DESC_SIZE);
	h.n_gtes = le32_get(buf + VMDK_HDR_NUM_GTES);
	h.rgd_offset = le64_get(buf + VMDK_HDR_RGD_OFFSET);
	h.gd_offset = le64_get(buf + VMDK_HDR_GD_OFFSET);
	h.overhead = le64_get(buf + VMDK_HDR_OVERHEAD);
	h.compress = le16_get(buf + VMDK_HDR_COMPRESS);
	if (h.version < 1 || h.version > 3)
		return diag_fail(d, -ENOTSUP, "sparse extent version %u is not supported (1 to 3 are)",
				 h.version);
	if ((h.flags & VMDK_FLAG_NL_DETECT) && memcmp(buf + VMDK_HDR_NL_CHECK, VMDK_NL_CHECK, 4))
		return diag_fail(d, -EBADMSG, "bad newline check bytes (transferred in text mode?)");
	if (h.grain_sect == 0 || h.grain_sect > VMDK_MAX_GRAIN_SECT ||
	    (h.grain_sect & (h.grain_sect - 1)))
		return diag_fail(d, -EBADMSG, "bad grain size %llu sectors (a power of two up to %u)",
				 (unsigned long long)h.grain_sect, VMDK_MAX_GRAIN_SECT);
	if (h.n_gtes == 0 || h.n_gtes > VMDK_MAX_GTES)
		return diag_fail(d, -EBADMSG, "bad grain table size %u entries (1 to %u)", h.n_gtes,
				 VMDK_MAX_GTES);
	if (h.capacity > (UINT64_MAX >> 9) - h.grain_sect)
		return diag_fail(d, -EBADMSG, "capacity %llu sectors is too large",
				 (unsigned long long)h.capacity);
	if ((h.flags & VMDK_FLAG_COMPRESSED) && h.compress != VMDK_COMPRESS_DEFLATE)
		return diag_fail(d, -ENOTSUP, "compression algorithm %u is not supported (deflate, "
				 "1, is)", h.compress);
	if (!(h.flags & VMDK_FLAG_COMPRESSED) && (h.flags & VMDK_FLAG_MARKERS))
		return diag_fail(d, -EBADMSG, "markers without compressed grains");
	*ret = h;
	return 0;
}

/* qemu's geometry for an IDE disk (16 heads, 63 sectors), the cylinders capped at 16383 as
 * VMware's tools cap them (qemu 7.2 does not). */
static uint64_t vmdk_cylinders(uint64_t capacity)
{
	uint64_t c = capacity / (16 * 63);

	return c > 16383 ? 16383 : c;
}

size_t vmdk_descriptor(char *buf, size_t size, enum format_vmdk_subformat sub, const char *seed,
		       uint64_t capacity, const char *extent_name)
{
	uint8_t id[4];
	uint32_t cid;
	char name[256];
	size_t n = 0;
	int len;

	/* a quote or a control character would end the extent line */
	for (const char *p = extent_name; *p && n + 1 < sizeof(name); p++)
		name[n++] = *p == '"' || (unsigned char)*p < 0x20 ? '_' : *p;
	name[n] = '\0';
	uuid_derive_bytes(seed ? seed : "", "vmdk-cid", id, sizeof(id));
	cid = le32_get(id);
	if (cid == UINT32_MAX) /* parentCID's "no parent" */
		cid = 0xfffffffe;
	len = snprintf(buf, size,
		       "# Disk DescriptorFile\n"
		       "version=1\n"
		       "CID=%x\n"
		       "parentCID=ffffffff\n"
		       "createType=\"%s\"\n"
		       "\n"
		       "# Extent description\n"
		       "RW %llu SPARSE \"%s\"\n"
		       "\n"
		       "# The Disk Data Base\n"
		       "#DDB\n"
		       "\n"
		       "ddb.virtualHWVersion = \"4\"\n"
		       "ddb.geometry.cylinders = \"%llu\"\n"
		       "ddb.geometry.heads = \"16\"\n"
		       "ddb.geometry.sectors = \"63\"\n"
		       "ddb.adapterType = \"ide\"\n"
		       "ddb.toolsVersion = \"2147483647\"\n",
		       cid, sub == FORMAT_VMDK_STREAM_OPTIMIZED ? "streamOptimized" : "monolithicSparse",
		       (unsigned long long)capacity, name,
		       (unsigned long long)vmdk_cylinders(capacity));
	return len < 0 ? 0 : MIN((size_t)len, size - 1);
}

struct vmdk_sink {
	struct sink base;
	struct outfile *out;
	bool stream;
	char *seed;
	int level;        /* stream: the deflate level, 0: the codec's default */
	struct vmdk_header hdr;
	uint64_t n_gt;    /* grain tables */
	uint64_t gd_sect; /* sectors of a grain directory */
	uint8_t *cur;     /* the partial grain being filled */
	uint64_t cur_grain;
	bool cur_dirty;
	struct format_pool *pool; /* stream: the compression workers */
	/* The write side (streams: the writing worker's until drained): */
	uint64_t host;    /* next byte of the file to append at */
	uint32_t gt[VMDK_GTES]; /* the current grain table, host order */
	uint64_t gt_idx;
	bool gt_used;
	uint32_t *gd;     /* stream: each grain table's sector, 0 for none */
	uint8_t *wbuf;    /* bytes for [wbuf_off, wbuf_off + wbuf_len), not yet written */
	uint64_t wbuf_off;
	size_t wbuf_len;
};

enum vmdk_job_kind {
	VMDK_JOB_ZERO,     /* all zeros: unallocated */
	VMDK_JOB_GRAIN,    /* out holds marker, compressed grain and padding: out_len bytes */
	VMDK_JOB_FAILED,   /* did not compress (cannot happen with VMDK_CBUF_SIZE) */
};

static struct vmdk_sink *vmdk_sink_free(struct vmdk_sink *s)
{
	if (!s)
		return NULL;
	s->pool = format_pool_free(s->pool);
	free(s->seed);
	free(s->gd);
	free(s->cur);
	free(s->wbuf);
	free(s);
	return NULL;
}

/* The write side returns a negative errno; the sink's thread words it. */
static int vmdk_fail_write(struct vmdk_sink *s, int r, struct diag *d)
{
	if (r == -EFBIG)
		return diag_fail(d, r, "%s: the data passes the 2 TiB a VMDK sparse extent "
				 "addresses; use format qcow2", s->out->path);
	return diag_fail(d, r, "%s: write failed: %s", s->out->path, strerror(-r));
}

static int wbuf_flush(struct vmdk_sink *s)
{
	int r = 0;

	if (s->wbuf_len)
		r = pwrite_full(s->out->fd, s->wbuf, s->wbuf_len, s->wbuf_off);
	s->wbuf_len = 0;
	return r;
}

/* len bytes at the end of the file (s->host). */
static int append(struct vmdk_sink *s, const void *data, size_t len)
{
	int r;

	if (s->wbuf_len && (s->wbuf_off + s->wbuf_len != s->host ||
			    len > VMDK_WBUF_SIZE - s->wbuf_len)) {
		r = wbuf_flush(s);
		if (r < 0)
			return r;
	}
	if (len >= VMDK_WBUF_SIZE) {
		r = pwrite_full(s->out->fd, data, len, s->host);
	} else {
		if (s->wbuf_len == 0)
			s->wbuf_off = s->host;
		memcpy(s->wbuf + s->wbuf_len, data, len);
		s->wbuf_len += len;
		r = 0;
	}
	s->host += len;
	return r;
}

/* A marker sector: val and type (size 0). */
static int append_marker(struct vmdk_sink *s, uint64_t val, enum vmdk_marker_type type)
{
	uint8_t m[VMDK_SECTOR] = { 0 };

	le64_put(m + VMDK_MARKER_VAL, val);
	le32_put(m + VMDK_MARKER_TYPE, type);
	return append(s, m, sizeof(m));
}

/* The current grain table goes out: monolithicSparse into both of its places, a stream's
 * behind its marker, unless no grain of it was allocated (it then stays zeros, or, in a
 * stream, absent with a directory entry of 0, as VMware and VirtualBox write). */
static int gt_flush(struct vmdk_sink *s)
{
	uint8_t buf[VMDK_GTES * 4];
	int r;

	if (!s->gt_used)
		return 0;
	for (unsigned i = 0; i < VMDK_GTES; i++)
		le32_put(buf + 4 * i, s->gt[i]);
	if (s->stream) {
		r = append_marker(s, VMDK_GT_SECT, VMDK_MARKER_GT);
		s->gd[s->gt_idx] = (uint32_t)(s->host / VMDK_SECTOR);
		if (r >= 0)
			r = append(s, buf, sizeof(buf));
	} else {
		uint64_t rel = s->gd_sect + s->gt_idx * VMDK_GT_SECT;

		r = pwrite_full(s->out->fd, buf, sizeof(buf), (s->hdr.rgd_offset + rel) * 512);
		if (r >= 0)
			r = pwrite_full(s->out->fd, buf, sizeof(buf), (s->hdr.gd_offset + rel) * 512);
	}
	if (r < 0)
		return r;
	memset(s->gt, 0, sizeof(s->gt));
	s->gt_used = false;
	return 0;
}

/* Grain `grain` is stored as the len bytes at p (the grain, or a stream's marker, deflated
 * grain and padding): append them and enter them in the grain's table. */
static int place_grain(struct vmdk_sink *s, uint64_t grain, const uint8_t *p, size_t len)
{
	int r;

	if (grain / VMDK_GTES != s->gt_idx) {
		r = gt_flush(s);
		if (r < 0)
			return r;
		s->gt_idx = grain / VMDK_GTES;
	}
	/* grain table entries are 32-bit sector numbers */
	if ((s->host + len) / VMDK_SECTOR > UINT32_MAX)
		return -EFBIG;
	s->gt[grain % VMDK_GTES] = (uint32_t)(s->host / VMDK_SECTOR);
	s->gt_used = true;
	return append(s, p, len);
}

/* Stream compression workers (format/pool.h): each has its codec; a grain's marker,
 * compressed bytes and padding go to its output slot. */
static void *worker_new(void *ctx)
{
	const struct vmdk_sink *s = ctx;
	struct qcow2_codec *c = qcow2_codec_new(QCOW2_COMPRESSION_ZLIB_STREAM);

	qcow2_codec_set_level(c, s->level);
	return c;
}

static void worker_free(void *w)
{
	qcow2_codec_free(w);
}

static void job_compress(void *w, struct format_job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		const uint8_t *in = j->buf + i * VMDK_GRAIN_SIZE;
		uint8_t *out = j->out + i * VMDK_CBUF_SIZE;
		size_t clen, len;

		if (mem_is_zero(in, VMDK_GRAIN_SIZE)) {
			j->kind[i] = VMDK_JOB_ZERO;
			continue;
		}
		if (qcow2_codec_compress(w, in, VMDK_GRAIN_SIZE, out + VMDK_GRAIN_MARKER_SIZE,
					 VMDK_CBUF_SIZE - VMDK_GRAIN_MARKER_SIZE, &clen) < 0) {
			j->kind[i] = VMDK_JOB_FAILED;
			continue;
		}
		le64_put(out + VMDK_MARKER_VAL, j->unit_idx[i] * VMDK_GRAIN_SECT);
		le32_put(out + VMDK_MARKER_SIZE, (uint32_t)clen);
		len = ROUND_UP(VMDK_GRAIN_MARKER_SIZE + clen, VMDK_SECTOR);
		memset(out + VMDK_GRAIN_MARKER_SIZE + clen, 0, len - VMDK_GRAIN_MARKER_SIZE - clen);
		j->out_len[i] = (uint32_t)len;
		j->kind[i] = VMDK_JOB_GRAIN;
	}
}

static int job_write(void *ctx, const struct format_job *j)
{
	struct vmdk_sink *s = ctx;
	int r = 0;

	for (size_t i = 0; i < j->n && r >= 0; i++) {
		if (j->kind[i] == VMDK_JOB_GRAIN)
			r = place_grain(s, j->unit_idx[i], j->out + i * VMDK_CBUF_SIZE,
					j->out_len[i]);
		else if (j->kind[i] == VMDK_JOB_FAILED)
			r = -EIO;
	}
	return r;
}

static const struct format_pool_ops vmdk_pool_ops = {
	.worker_new = worker_new,
	.worker_free = worker_free,
	.compress = job_compress,
	.write = job_write,
};

static int emit_grain(struct vmdk_sink *s, uint64_t grain, const uint8_t *data, struct diag *d)
{
	int r;

	if (s->stream) /* the workers test for zeros */
		r = format_pool_submit(s->pool, grain, data);
	else if (mem_is_zero(data, VMDK_GRAIN_SIZE))
		return 0;
	else
		r = place_grain(s, grain, data, VMDK_GRAIN_SIZE);
	return r < 0 ? vmdk_fail_write(s, r, d) : 0;
}

static int flush_cur(struct vmdk_sink *s, struct diag *d)
{
	if (!s->cur_dirty)
		return 0;
	s->cur_dirty = false;
	return emit_grain(s, s->cur_grain, s->cur, d);
}

static int vmdk_write(struct sink *base, uint64_t off, const void *buf, size_t len,
		      struct diag *d)
{
	struct vmdk_sink *s = (struct vmdk_sink *)base;
	const uint8_t *p = buf;
	int r;

	while (len > 0) {
		uint64_t grain = off / VMDK_GRAIN_SIZE;
		size_t within = off % VMDK_GRAIN_SIZE, n = MIN(len, VMDK_GRAIN_SIZE - within);

		if (s->cur_dirty && s->cur_grain != grain) {
			r = flush_cur(s, d);
			if (r < 0)
				return r;
		}
		if (!s->cur_dirty && n == VMDK_GRAIN_SIZE) {
			r = emit_grain(s, grain, p, d); /* a whole grain: no copy */
			if (r < 0)
				return r;
		} else {
			if (!s->cur_dirty) {
				memset(s->cur, 0, VMDK_GRAIN_SIZE);
				s->cur_grain = grain;
				s->cur_dirty = true;
			}
			memcpy(s->cur + within, p, n);
		}
		off += n;
		p += n;
		len -= n;
	}
	return 0;
}

/* Header and descriptor, sectors 0 to 20. */
static int write_head(struct vmdk_sink *s, const struct vmdk_header *h)
{
	uint8_t buf[(VMDK_DESC_OFFSET + VMDK_DESC_SECT) * VMDK_SECTOR] = { 0 };
	const char *slash = strrchr(s->out->path, '/');

	vmdk_header_encode(buf, h);
	vmdk_descriptor((char *)buf + VMDK_DESC_OFFSET * VMDK_SECTOR, VMDK_DESC_SECT * VMDK_SECTOR,
			s->stream ? FORMAT_VMDK_STREAM_OPTIMIZED : FORMAT_VMDK_MONOLITHIC_SPARSE,
			s->seed, h->capacity, slash ? slash + 1 : s->out->path);
	return pwrite_full(s->out->fd, buf, sizeof(buf), 0);
}

/* Both grain directories, each table in its place whether written or not (as qemu). */
static int write_directories(struct vmdk_sink *s)
{
	size_t bytes = (size_t)s->gd_sect * VMDK_SECTOR;
	_cleanup_free_ uint8_t *gd = xcalloc(1, bytes ? bytes : 1);
	const uint64_t dirs[] = { s->hdr.rgd_offset, s->hdr.gd_offset };
	int r = 0;

	for (size_t k = 0; k < ARRAY_SIZE(dirs) && r >= 0; k++) {
		for (uint64_t i = 0; i < s->n_gt; i++)
			le32_put(gd + 4 * i, (uint32_t)(dirs[k] + s->gd_sect + i * VMDK_GT_SECT));
		r = pwrite_full(s->out->fd, gd, bytes, dirs[k] * VMDK_SECTOR);
	}
	return r;
}

/* A stream's tail: directory, footer, end-of-stream marker. */
static int write_stream_tail(struct vmdk_sink *s)
{
	size_t bytes = (size_t)s->gd_sect * VMDK_SECTOR;
	_cleanup_free_ uint8_t *gd = xcalloc(1, bytes ? bytes : 1);
	uint8_t ftr[VMDK_HDR_SIZE];
	struct vmdk_header f = s->hdr;
	int r;

	for (uint64_t i = 0; i < s->n_gt; i++)
		le32_put(gd + 4 * i, s->gd[i]);
	r = append_marker(s, s->gd_sect, VMDK_MARKER_GD);
	f.gd_offset = s->host / VMDK_SECTOR;
	if (r >= 0)
		r = append(s, gd, bytes);
	if (r >= 0)
		r = append_marker(s, 1, VMDK_MARKER_FOOTER);
	vmdk_header_encode(ftr, &f);
	if (r >= 0)
		r = append(s, ftr, sizeof(ftr));
	if (r >= 0)
		r = append_marker(s, 0, VMDK_MARKER_EOS);
	return r;
}

static int write_metadata(struct vmdk_sink *s, struct diag *d)
{
	int r = flush_cur(s, d);

	if (r < 0)
		return r;
	if (s->pool && (r = format_pool_drain(s->pool)) < 0)
		return vmdk_fail_write(s, r, d);
	r = interrupt_check(d);
	if (r < 0)
		return r;
	r = gt_flush(s);
	if (r >= 0 && s->stream)
		r = write_stream_tail(s);
	if (r >= 0)
		r = wbuf_flush(s);
	if (r >= 0 && !s->stream)
		r = write_directories(s);
	if (r >= 0)
		r = write_head(s, &s->hdr);
	if (r >= 0 && ftruncate(s->out->fd, (off_t)s->host) < 0)
		r = -errno;
	return r < 0 ? vmdk_fail_write(s, r, d) : 0;
}

static void vmdk_abort(struct sink *base)
{
	struct vmdk_sink *s = (struct vmdk_sink *)base;

	/* the workers stop first (the writing one may still be at the file) */
	s->pool = format_pool_cancel(s->pool);
	outfile_abort(s->out);
	vmdk_sink_free(s);
}

static int vmdk_finish(struct sink *base, struct diag *d)
{
	struct vmdk_sink *s = (struct vmdk_sink *)base;
	int r = write_metadata(s, d);

	if (r < 0) {
		vmdk_abort(base);
		return r;
	}
	r = outfile_commit(s->out, d); /* frees out either way */
	vmdk_sink_free(s);
	return r;
}

static int vmdk_open(const struct format_params *p, struct outfile *out, struct diag *d,
		     struct sink **ret)
{
	bool stream = p->vmdk_subformat == FORMAT_VMDK_STREAM_OPTIMIZED;
	uint64_t capacity = DIV_ROUND_UP(p->virtual_size, VMDK_SECTOR);
	uint64_t n_grains = DIV_ROUND_UP(capacity, VMDK_GRAIN_SECT);
	uint64_t n_gt = DIV_ROUND_UP(n_grains, VMDK_GTES);
	uint64_t gd_sect = DIV_ROUND_UP(n_gt * 4, VMDK_SECTOR);
	uint64_t tables = gd_sect + n_gt * VMDK_GT_SECT;
	struct vmdk_header h = {
		.version = stream ? 3 : 1,
		.capacity = capacity,
		.grain_sect = VMDK_GRAIN_SECT,
		.desc_offset = VMDK_DESC_OFFSET,
		.desc_sect = VMDK_DESC_SECT,
		.n_gtes = VMDK_GTES,
	};
	struct vmdk_sink *s;
	int r;

	if (stream) {
		h.flags = VMDK_FLAG_NL_DETECT | VMDK_FLAG_COMPRESSED | VMDK_FLAG_MARKERS;
		h.compress = VMDK_COMPRESS_DEFLATE;
		h.gd_offset = VMDK_GD_AT_END;
		h.overhead = VMDK_GRAIN_SECT; /* the first grain at 64 KiB */
	} else {
		h.flags = VMDK_FLAG_NL_DETECT | VMDK_FLAG_RGD;
		h.rgd_offset = VMDK_DESC_OFFSET + VMDK_DESC_SECT;
		h.gd_offset = h.rgd_offset + tables;
		h.overhead = ROUND_UP(h.gd_offset + tables, VMDK_GRAIN_SECT);
	}
	/* grain table entries are 32-bit sector numbers: every grain must start below 2 TiB */
	if (n_grains * VMDK_GRAIN_SECT + h.overhead > UINT32_MAX)
		return diag_fail(d, -EOVERFLOW, "disk size %llu exceeds the about 2 TiB a VMDK "
				 "sparse extent holds; use format qcow2",
				 (unsigned long long)p->virtual_size);
	s = xcalloc(1, sizeof(*s));
	s->out = out;
	s->stream = stream;
	s->seed = p->seed ? xstrdup(p->seed) : NULL;
	s->level = p->compression_level;
	s->hdr = h;
	s->n_gt = n_gt;
	s->gd_sect = gd_sect;
	s->host = h.overhead * VMDK_SECTOR;
	s->gt_idx = 0;
	s->cur = xmalloc(VMDK_GRAIN_SIZE);
	s->wbuf = xmalloc(VMDK_WBUF_SIZE);
	if (stream) {
		s->gd = xcalloc(n_gt ? n_gt : 1, sizeof(*s->gd));
		r = format_pool_new(&vmdk_pool_ops, s, p->n_threads, VMDK_GRAIN_SIZE,
				    VMDK_CBUF_SIZE, &s->pool);
		if (r < 0) {
			vmdk_sink_free(s);
			return diag_fail(d, r, "cannot start compression threads: %s",
					 strerror(-r));
		}
	}
	*ret = &s->base;
	return 0;
}

const struct format_ops format_vmdk = {
	.name = "vmdk",
	.extension = "vmdk",
	.options = FORMAT_OPT_VMDK_SUBFORMAT | FORMAT_OPT_COMPRESSION_LEVEL | FORMAT_OPT_THREADS,
	.open = vmdk_open,
	.write = vmdk_write,
	.finish = vmdk_finish,
	.abort = vmdk_abort,
};
