#include "util/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/xalloc.h"

static void outfile_free(struct outfile *o)
{
	if (!o)
		return;
	if (o->fd >= 0)
		(void)close(o->fd);
	free(o->path);
	free(o->tmp_path);
	free(o);
}

int outfile_open(const char *path, struct diag *d, struct outfile **ret)
{
	struct outfile *o;
	const char *slash = strrchr(path, '/');
	size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;

	o = xcalloc(1, sizeof(*o));
	o->path = xstrdup(path);
	o->tmp_path = xasprintf("%.*s.%s.XXXXXX", (int)dir_len, path, path + dir_len);
	o->fd = mkostemp(o->tmp_path, O_CLOEXEC);
	if (o->fd < 0) {
		int r = -errno;

		outfile_free(o);
		return diag_fail(d, r, "%s: cannot create output file: %s", path, strerror(-r));
	}
	/* mkostemp creates 0600; images are ordinary files */
	(void)fchmod(o->fd, 0644);
	*ret = o;
	return 0;
}

int outfile_commit(struct outfile *o, struct diag *d)
{
	int r = 0;

	/* The bytes are on disk before the name appears: a crash never leaves a truncated image
	 * that looks finished. Raw output writes with O_DIRECT, which leaves this fsync little
	 * but metadata; buffered output pays its writeback here (dirty pages would be flushed
	 * anyway, so skipping it would only move that cost out of sight). */
	if (fsync(o->fd) < 0 && errno != EINVAL)
		r = diag_fail(d, -errno, "%s: fsync failed: %s", o->path, strerror(errno));
	else if (close(o->fd) < 0)
		r = diag_fail(d, -errno, "%s: close failed: %s", o->path, strerror(errno));
	o->fd = -1;
	if (r == 0 && rename(o->tmp_path, o->path) < 0)
		r = diag_fail(d, -errno, "%s: cannot rename into place: %s", o->path,
			      strerror(errno));
	if (r < 0)
		(void)unlink(o->tmp_path);
	outfile_free(o);
	return r;
}

void outfile_abort(struct outfile *o)
{
	if (!o)
		return;
	(void)unlink(o->tmp_path);
	outfile_free(o);
}
