/* gce tar extraction (gce-read.h): a state machine over the decompressed stream. Memory: one
 * header block and the sparse map (bounded: its entries arrive in 512-byte blocks of the
 * input, and each must lie past the previous one inside the declared size). */
#include "format/gce-read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/tar.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/xalloc.h"

/* More sparse entries than this is not a disk image (4 KiB extents of a 64 GiB disk). */
#define GCE_MAX_EXTENTS (16u << 20)

enum gce_state {
	GCE_HEADER,  /* reading a header block */
	GCE_EXT,     /* reading a sparse extension block */
	GCE_SKIP,    /* skipping another member's data */
	GCE_DATA,    /* the member's data */
	GCE_DONE,
};

struct gce_extract {
	int fd;
	uint64_t max_size;
	enum gce_state state;
	uint8_t block[TAR_BLOCK];
	size_t block_len;
	uint64_t skip;     /* GCE_SKIP: bytes left */
	struct tar_entry e;
	struct tar_extent *map;
	size_t n_map, cap_map;
	size_t cur;        /* GCE_DATA: the extent being filled */
	uint64_t cur_done; /* bytes of it written */
	uint64_t data_left; /* stored bytes (padded to a block) still to come */
};

struct gce_extract *gce_extract_new(int out_fd, uint64_t max_size)
{
	struct gce_extract *x = xcalloc(1, sizeof(*x));

	x->fd = out_fd;
	x->max_size = max_size;
	return x;
}

struct gce_extract *gce_extract_free(struct gce_extract *x)
{
	if (x) {
		free(x->map);
		free(x);
	}
	return NULL;
}

bool gce_extract_probe(const uint8_t *buf, size_t len)
{
	struct tar_entry e;

	return len >= TAR_BLOCK && tar_header_decode(buf, &e, NULL) == 1;
}

/* Appends an entry: after the previous one, inside the file; the zero-length closing entry
 * only at the end of the file. */
static int gce_map_add(struct gce_extract *x, struct tar_extent t, struct diag *d)
{
	uint64_t prev_end = x->n_map ? x->map[x->n_map - 1].off + x->map[x->n_map - 1].len : 0;

	if (t.off < prev_end || t.off > x->e.realsize || t.len > x->e.realsize - t.off)
		return diag_fail(d, -EBADMSG, "tar: sparse map entry %zu (%llu+%llu) overlaps the "
				 "previous one or passes the size %llu", x->n_map,
				 (unsigned long long)t.off, (unsigned long long)t.len,
				 (unsigned long long)x->e.realsize);
	if (x->n_map >= GCE_MAX_EXTENTS)
		return diag_fail(d, -EBADMSG, "tar: more than %u sparse map entries",
				 GCE_MAX_EXTENTS);
	if (x->n_map == x->cap_map) {
		x->cap_map = x->cap_map ? 2 * x->cap_map : 16;
		x->map = xreallocarray(x->map, x->cap_map, sizeof(*x->map));
	}
	x->map[x->n_map++] = t;
	return 0;
}

/* The map is complete: its lengths must add up to the stored size. */
static int gce_start_data(struct gce_extract *x, struct diag *d)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < x->n_map; i++)
		sum += x->map[i].len; /* no overflow: the extents lie inside realsize */
	if (sum != x->e.size)
		return diag_fail(d, -EBADMSG, "tar: the sparse map holds %llu bytes, the header "
				 "says %llu", (unsigned long long)sum,
				 (unsigned long long)x->e.size);
	x->state = GCE_DATA;
	x->cur = 0;
	x->cur_done = 0;
	x->data_left = ROUND_UP(x->e.size, (uint64_t)TAR_BLOCK);
	if (x->data_left == 0)
		x->state = GCE_DONE;
	return 0;
}

static int gce_header(struct gce_extract *x, struct diag *d)
{
	int r = tar_header_decode(x->block, &x->e, d);

	if (r < 0)
		return r;
	if (r == 0) /* end of archive before disk.raw */
		return diag_fail(d, -EBADMSG, "tar: no member disk.raw (not a GCE image?)");
	x->e.name[100] = '\0';
	if (strcmp(x->e.name, "disk.raw") != 0 ||
	    (x->e.typeflag != '0' && x->e.typeflag != '\0' && x->e.typeflag != 'S')) {
		if (x->e.size > UINT64_MAX - TAR_BLOCK)
			return diag_fail(d, -EBADMSG, "tar: member size too large");
		x->skip = ROUND_UP(x->e.size, (uint64_t)TAR_BLOCK);
		x->state = x->skip ? GCE_SKIP : GCE_HEADER;
		return 0;
	}
	if (x->e.realsize > x->max_size || x->e.realsize == 0)
		return diag_fail(d, -EFBIG, "tar: disk.raw declares %llu bytes (at most %llu)",
				 (unsigned long long)x->e.realsize,
				 (unsigned long long)x->max_size);
	if (!x->e.sparse) {
		r = gce_map_add(x, (struct tar_extent){ 0, x->e.size }, d);
		return r < 0 ? r : gce_start_data(x, d);
	}
	for (size_t i = 0; i < x->e.n_map; i++) {
		r = gce_map_add(x, x->e.map[i], d);
		if (r < 0)
			return r;
	}
	if (x->e.extended) {
		x->state = GCE_EXT;
		return 0;
	}
	return gce_start_data(x, d);
}

static int gce_ext(struct gce_extract *x, struct diag *d)
{
	struct tar_extent m[TAR_GNU_SPARSE_IN_EXT];
	size_t n;
	bool more;
	int r = tar_sparse_ext_decode(x->block, m, &n, &more, d);

	for (size_t i = 0; r >= 0 && i < n; i++)
		r = gce_map_add(x, m[i], d);
	if (r < 0)
		return r;
	return more ? 0 : gce_start_data(x, d);
}

/* Member data: written at the extents' offsets (zero blocks are left as holes). */
static int gce_data(struct gce_extract *x, const uint8_t *p, size_t len, struct diag *d)
{
	while (len > 0 && x->cur < x->n_map) {
		struct tar_extent *t = &x->map[x->cur];
		size_t n = (size_t)MIN((uint64_t)len, t->len - x->cur_done);
		int r = 0;

		if (n > 0 && !mem_is_zero(p, n))
			r = pwrite_full(x->fd, p, n, t->off + x->cur_done);
		if (r < 0)
			return diag_fail(d, r, "cannot write the temporary file: %s", strerror(-r));
		x->cur_done += n;
		p += n;
		len -= n;
		x->data_left -= n;
		if (x->cur_done == t->len) {
			x->cur++;
			x->cur_done = 0;
		}
	}
	/* the padding to the block */
	x->data_left -= MIN((uint64_t)len, x->data_left);
	if (x->data_left == 0)
		x->state = GCE_DONE;
	return 0;
}

int gce_extract_put(void *ctx, const uint8_t *buf, size_t len, struct diag *d)
{
	struct gce_extract *x = ctx;

	while (len > 0 && x->state != GCE_DONE) {
		size_t n;
		int r = 0;

		if (x->state == GCE_SKIP || x->state == GCE_DATA) {
			uint64_t left = x->state == GCE_SKIP ? x->skip : x->data_left;

			n = (size_t)MIN((uint64_t)len, left);
			if (x->state == GCE_DATA)
				r = gce_data(x, buf, n, d);
			else if ((x->skip -= n) == 0)
				x->state = GCE_HEADER;
		} else {
			n = MIN(len, TAR_BLOCK - x->block_len);
			memcpy(x->block + x->block_len, buf, n);
			x->block_len += n;
			if (x->block_len == TAR_BLOCK) {
				x->block_len = 0;
				r = x->state == GCE_HEADER ? gce_header(x, d) : gce_ext(x, d);
			}
		}
		if (r < 0)
			return r;
		buf += n;
		len -= n;
	}
	return x->state == GCE_DONE ? 1 : 0;
}

int gce_extract_done(struct gce_extract *x, uint64_t *ret_size, struct diag *d)
{
	if (x->state != GCE_DONE)
		return diag_fail(d, -EBADMSG, "tar: the archive ends before disk.raw is complete");
	if (ftruncate(x->fd, (off_t)x->e.realsize) < 0)
		return diag_fail(d, -errno, "cannot size the temporary file: %s", strerror(errno));
	*ret_size = x->e.realsize;
	return 0;
}
