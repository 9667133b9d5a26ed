/* Writing a resize's changes to the image (commit.h). */
#include "resize/commit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/copy.h"
#include "format/format.h"
#include "format/reader.h"
#include "resize/view.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/outfile.h"
#include "util/xalloc.h"

/* The bytes an in-place commit overwrites below the old end, to put back on failure. */
struct saved {
	uint64_t off;
	size_t len;
	uint8_t *data;
};

static void saved_free(struct saved *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].data);
	free(s);
}

/* Undo: the old bytes back, the old size back. Best effort: the first failure is reported. */
static int restore(int fd, const struct saved *s, size_t n, uint64_t old_size)
{
	int r = 0, e;

	for (size_t i = n; i-- > 0;) {
		e = pwrite_full(fd, s[i].data, s[i].len, s[i].off);
		if (e < 0 && r == 0)
			r = e;
	}
	if (ftruncate(fd, (off_t)old_size) < 0 && r == 0)
		r = -errno;
	if (fsync(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

static int apply(int fd, struct resize_view *v, const char *path, struct diag *d)
{
	_cleanup_free_ const struct resize_extent **order = resize_overlay_by_seq(&v->ov);
	int r;

	if (v->new_size > v->old_size && ftruncate(fd, (off_t)v->new_size) < 0)
		return diag_fail(d, -errno, "%s: cannot grow the file to %llu bytes: %s", path,
				 (unsigned long long)v->new_size, strerror(errno));
	for (size_t i = 0; i < v->ov.n; i++) {
		r = interrupt_check(d);
		if (r < 0)
			return r;
		r = pwrite_full(fd, order[i]->data, order[i]->len, order[i]->off);
		if (r < 0)
			return diag_fail(d, r, "%s: cannot write %zu bytes at %llu: %s", path,
					 order[i]->len, (unsigned long long)order[i]->off,
					 strerror(-r));
	}
	if (fsync(fd) < 0)
		return diag_fail(d, -errno, "%s: fsync: %s", path, strerror(errno));
	return interrupt_check(d);
}

int resize_commit_in_place(struct resize_view *v, int fd, const char *path, struct diag *d)
{
	struct saved *s = xcalloc(v->ov.n ? v->ov.n : 1, sizeof(*s));
	size_t n = 0;
	int r, e;

	for (size_t i = 0; i < v->ov.n; i++) {
		const struct resize_extent *x = &v->ov.v[i];

		if (x->off >= v->old_size)
			break;
		s[n] = (struct saved){ .off = x->off,
				       .len = (size_t)MIN((uint64_t)x->len, v->old_size - x->off) };
		s[n].data = xmalloc(s[n].len);
		r = pread_full(fd, s[n].data, s[n].len, s[n].off);
		n++;
		if (r < 0) {
			saved_free(s, n);
			return diag_fail(d, r, "%s: cannot read: %s", path, strerror(-r));
		}
	}
	r = apply(fd, v, path, d);
	if (r < 0) {
		e = restore(fd, s, n, v->old_size);
		if (e < 0)
			r = diag_prepend(d, r, "%s: could not restore the image (%s) after", path,
					 strerror(-e));
	}
	saved_free(s, n);
	return r;
}

/* The first byte at or after off that may differ from zero on the new disk, or new_size. */
static int next_data(struct resize_view *v, uint64_t off, struct diag *d, uint64_t *ret)
{
	uint64_t start, len, next = v->new_size, o;
	int r;

	if (off < v->old_size) {
		r = image_input_next_data(v->in, off, &start, &len, d);
		if (r < 0)
			return r;
		if (len > 0)
			next = MIN(next, start);
	}
	if (resize_overlay_next(&v->ov, off, &o))
		next = MIN(next, o);
	*ret = next;
	return 0;
}

/* Every 1 MiB window of the new disk that may hold data, in ascending order. */
static int stream(struct resize_view *v, struct sink *s, struct diag *d)
{
	_cleanup_free_ uint8_t *buf = xmalloc(FORMAT_COPY_CHUNK);
	uint64_t pos = 0, next;
	int r;

	for (;;) {
		uint64_t w, end;
		size_t n;

		r = next_data(v, pos, d, &next);
		if (r < 0)
			return r;
		if (next >= v->new_size)
			return 0;
		w = next / FORMAT_COPY_CHUNK * FORMAT_COPY_CHUNK;
		end = MIN(w + FORMAT_COPY_CHUNK, v->new_size);
		n = (size_t)(end - w);
		r = interrupt_check(d);
		if (r < 0)
			return r;
		r = resize_view_read(v, w, buf, n, d);
		if (r < 0)
			return r;
		r = format_copy_nonzero(s, w, buf, n, d);
		if (r < 0)
			return r;
		pos = end;
	}
}

int resize_commit_rewrite(struct resize_view *v, const char *path, const struct format_ops *ops,
			  const struct format_params *fp, struct diag *d)
{
	struct outfile *out = NULL;
	struct sink *s = NULL;
	int r;

	r = outfile_open(path, d, &out);
	if (r < 0)
		return r;
	r = sink_open(ops, fp, out, d, &s);
	if (r < 0) {
		outfile_abort(out);
		return r;
	}
	r = stream(v, s, d);
	if (r < 0) {
		sink_abort(s);
		return r;
	}
	return sink_finish(s, d);
}
