/* Raw output: the disk byte for byte, sparse (a 4 KiB block no write touched stays a hole).
 *
 * Where the output file system takes O_DIRECT, writes gather in an aligned window that goes
 * to the disk in large direct writes: the image never fills the page cache, so there is no
 * dirty data for writeback to chew through and the final fsync has next to nothing left to
 * do. File data is read straight into the window. Elsewhere writes are buffered and file data
 * moves by copy_file_range. Either way copied file data is written as it is: its zero blocks
 * become data, not holes (finding them would mean looking at them). */
#include "format/format-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/outfile.h"
#include "util/xalloc.h"

/* Direct I/O wants offsets, lengths and memory aligned to the device's logical block size:
 * 4 KiB covers every common device. */
#define RAW_BLOCK 4096u
#define RAW_WINDOW (2u << 20)
#define RAW_WINDOW_BLOCKS (RAW_WINDOW / RAW_BLOCK)

struct raw_sink {
	struct sink base;
	struct outfile *out;
	uint8_t *win;     /* NULL: buffered mode; else RAW_WINDOW bytes, RAW_BLOCK-aligned */
	uint64_t win_off; /* disk offset of win[0], block-aligned */
	uint8_t touched[RAW_WINDOW_BLOCKS]; /* per block of the window: written since the flush */
};

static int raw_open(const struct format_params *p, struct outfile *out, struct diag *d,
		    struct sink **ret)
{
	struct raw_sink *s = xcalloc(1, sizeof(*s));
	int flags = fcntl(out->fd, F_GETFL);
	void *win = NULL;

	s->out = out;
	if (!p->raw_buffered && flags >= 0 && posix_memalign(&win, RAW_BLOCK, RAW_WINDOW) == 0) {
		/* refused (EINVAL) where the file system has no direct I/O */
		if (fcntl(out->fd, F_SETFL, flags | O_DIRECT) == 0)
			s->win = memset(win, 0, RAW_WINDOW);
		else
			free(win);
	}
	*ret = &s->base;
	return 0;
}

static int raw_pwrite(struct raw_sink *s, const void *buf, size_t len, uint64_t off,
		      struct diag *d)
{
	int r = pwrite_full(s->out->fd, buf, len, off);

	/* a file system may accept O_DIRECT and still refuse our alignment: go buffered */
	if (r == -EINVAL && s->win) {
		int flags = fcntl(s->out->fd, F_GETFL);

		if (flags >= 0 && fcntl(s->out->fd, F_SETFL, flags & ~O_DIRECT) == 0)
			r = pwrite_full(s->out->fd, buf, len, off);
	}
	if (r < 0)
		return diag_fail(d, r, "%s: write failed: %s", s->out->path, strerror(-r));
	return 0;
}

/* Write out the window's touched blocks, in runs, and clear them. */
static int raw_flush(struct raw_sink *s, struct diag *d)
{
	for (size_t i = 0, j; i < RAW_WINDOW_BLOCKS; i = j) {
		size_t at = (size_t)i * RAW_BLOCK, len;
		int r;

		for (j = i; j < RAW_WINDOW_BLOCKS && s->touched[j] == s->touched[i]; j++)
			;
		if (!s->touched[i])
			continue;
		len = (j - i) * RAW_BLOCK;
		r = raw_pwrite(s, s->win + at, len, s->win_off + at, d);
		if (r < 0)
			return r;
		memset(s->win + at, 0, len);
		memset(s->touched + i, 0, j - i);
	}
	return 0;
}

/* Make off part of the window (flushing the window it leaves) and return the room there.
 * Offsets only go up (sink_write), so a flushed block is never written again. */
static int raw_window_at(struct raw_sink *s, uint64_t off, size_t *ret_room, struct diag *d)
{
	if (off >= s->win_off + RAW_WINDOW) {
		int r = raw_flush(s, d);

		if (r < 0)
			return r;
		s->win_off = off - off % RAW_BLOCK;
	}
	*ret_room = RAW_WINDOW - (size_t)(off - s->win_off);
	return 0;
}

static void raw_touch(struct raw_sink *s, uint64_t off, size_t len)
{
	size_t first = (size_t)(off - s->win_off) / RAW_BLOCK;
	size_t last = (size_t)(off - s->win_off + len - 1) / RAW_BLOCK;

	memset(s->touched + first, 1, last - first + 1);
}

static int raw_write(struct sink *base, uint64_t off, const void *buf, size_t len, struct diag *d)
{
	struct raw_sink *s = (struct raw_sink *)base;
	const uint8_t *p = buf;

	if (!s->win)
		return raw_pwrite(s, buf, len, off, d);
	while (len > 0) {
		size_t room, n;
		int r = raw_window_at(s, off, &room, d);

		if (r < 0)
			return r;
		n = MIN(len, room);
		memcpy(s->win + (off - s->win_off), p, n);
		raw_touch(s, off, n);
		off += n;
		p += n;
		len -= n;
	}
	return 0;
}

/* Buffered mode: from the source's page cache to the image's without a trip through ours (on
 * file systems with reflinks the kernel may share the blocks instead). */
static ssize_t raw_copy_range(struct raw_sink *s, uint64_t off, int fd, uint64_t src_off,
			      size_t len, struct diag *d)
{
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

/* Direct mode: read the source straight into the window. */
static ssize_t raw_copy_from_fd(struct sink *base, uint64_t off, int fd, uint64_t src_off,
				size_t len, struct diag *d)
{
	struct raw_sink *s = (struct raw_sink *)base;
	size_t done = 0;

	if (!s->win)
		return raw_copy_range(s, off, fd, src_off, len, d);
	while (done < len) {
		size_t room;
		ssize_t n;
		int r = raw_window_at(s, off + done, &room, d);

		if (r < 0)
			return r;
		n = pread(fd, s->win + (off + done - s->win_off), MIN(len - done, room),
			  (off_t)(src_off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && done > 0)
			break;
		if (n < 0)
			return diag_fail(d, -errno, "cannot read: %s", strerror(errno));
		if (n == 0)
			break; /* the source ended early */
		raw_touch(s, off + done, (size_t)n);
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static void raw_free(struct raw_sink *s)
{
	free(s->win);
	free(s);
}

static int raw_finish(struct sink *base, struct diag *d)
{
	struct raw_sink *s = (struct raw_sink *)base;
	int r = s->win ? raw_flush(s, d) : 0;

	/* the trailing hole comes from the length alone (which also cuts a last direct block
	 * that reached past the end) */
	if (r < 0)
		outfile_abort(s->out);
	else if (ftruncate(s->out->fd, (off_t)base->virtual_size) < 0) {
		r = diag_fail(d, -errno, "%s: cannot set size: %s", s->out->path,
			      strerror(errno));
		outfile_abort(s->out);
	} else
		r = outfile_commit(s->out, d);
	raw_free(s);
	return r;
}

static void raw_abort(struct sink *base)
{
	struct raw_sink *s = (struct raw_sink *)base;

	outfile_abort(s->out);
	raw_free(s);
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
