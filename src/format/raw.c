/* Raw output: the disk byte for byte, sparse (holes are never written). */
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
	.finish = raw_finish,
	.abort = raw_abort,
};
