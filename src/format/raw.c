/* Raw output: the disk byte for byte, sparse (holes are never written; file data copied by
 * copy_file_range keeps the source's zero blocks as data). */
#include "format/format-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/diag.h"
#include "util/fileio.h"
#include "util/outfile.h"
#include "util/xalloc.h"

struct raw_sink {
	struct sink base;
	struct outfile *out;
};

static int raw_open(const struct format_params *p, struct outfile *out, struct diag *d,
		    struct sink **ret)
{
	struct raw_sink *s = xcalloc(1, sizeof(*s));

	s->out = out;
	*ret = &s->base;
	return 0;
}

static int raw_write(struct sink *base, uint64_t off, const void *buf, size_t len, struct diag *d)
{
	struct raw_sink *s = (struct raw_sink *)base;
	int r = pwrite_full(s->out->fd, buf, len, off);

	if (r < 0)
		return diag_fail(d, r, "%s: write failed: %s", s->out->path, strerror(-r));
	return 0;
}

/* File data goes from the source's page cache to the image's without a trip through our
 * buffer (on file systems with reflinks the kernel may share the blocks instead). */
static ssize_t raw_copy_from_fd(struct sink *base, uint64_t off, int fd, uint64_t src_off,
				size_t len, struct diag *d)
{
	struct raw_sink *s = (struct raw_sink *)base;
	loff_t in = (loff_t)src_off, out = (loff_t)off;
	size_t done = 0;

	while (done < len) {
		ssize_t n = copy_file_range(fd, &in, s->out->fd, &out, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		/* after some progress, the caller writes the rest (and meets a lasting error) */
		if (n < 0 && done > 0)
			break;
		if (n < 0 && sink_copy_unsupported(-errno))
			return -errno;
		if (n < 0)
			return diag_fail(d, -errno, "%s: copy failed: %s", s->out->path,
					 strerror(errno));
		if (n == 0)
			break; /* the source ended early */
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int raw_finish(struct sink *base, struct diag *d)
{
	struct raw_sink *s = (struct raw_sink *)base;
	int r = 0;

	/* the trailing hole, if any, comes from the length alone */
	if (ftruncate(s->out->fd, (off_t)base->virtual_size) < 0) {
		r = diag_fail(d, -errno, "%s: cannot set size: %s", s->out->path,
			      strerror(errno));
		outfile_abort(s->out);
	} else
		r = outfile_commit(s->out, d);
	free(s);
	return r;
}

static void raw_abort(struct sink *base)
{
	struct raw_sink *s = (struct raw_sink *)base;

	outfile_abort(s->out);
	free(s);
}

const struct format_ops format_raw = {
	.name = "raw",
	.extension = "img",
	.open = raw_open,
	.write = raw_write,
	.copy_from_fd = raw_copy_from_fd,
	.finish = raw_finish,
	.abort = raw_abort,
};
