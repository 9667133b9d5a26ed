/* Raw output: the disk byte for byte, sparse (a 4 KiB block no write touched stays a hole).
 *
 * Where the output file system takes O_DIRECT, writes gather in aligned 1 MiB windows that go
 * to the disk in large direct writes, from a writer thread while the next window fills: the
 * image never fills the page cache, so there is no dirty data for writeback to chew through
 * and the final fsync has next to nothing left to do. File data is read straight into the
 * window. Elsewhere writes are buffered and file data moves by copy_file_range. Either way
 * copied file data is written as it is: its zero blocks become data, not holes (finding them
 * would mean looking at them). */
#include "format/format-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/outfile.h"
#include "util/xalloc.h"

/* Direct I/O wants offsets, lengths and memory aligned to the device's logical block size:
 * 4 KiB covers every common device. */
#define RAW_BLOCK 4096u
#define RAW_WINDOW (1u << 20)
#define RAW_WINDOW_BLOCKS (RAW_WINDOW / RAW_BLOCK)
/* copy_file_range calls are bounded so that an interrupt is seen between them */
#define RAW_COPY_STEP (64u << 20)

struct raw_window {
	uint8_t *buf; /* RAW_WINDOW bytes, RAW_BLOCK-aligned; zero where not touched */
	uint64_t off; /* disk offset of buf[0], block-aligned */
	uint8_t touched[RAW_WINDOW_BLOCKS]; /* per block: written since the last flush */
};

/* Direct mode fills one window while a writer thread puts the other on the disk (a direct
 * write waits for the device: the thread keeps that wait off the reading). */
struct raw_sink {
	struct sink base;
	struct outfile *out;
	bool direct;
	struct raw_window win[2];
	struct raw_window *cur; /* the one being filled */
	bool threaded;          /* false: windows are written in place, synchronously */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct raw_window *pending; /* handed to the writer, not written yet */
	bool stop;
	int err; /* the writer's first error */
};

static int raw_pwrite(struct raw_sink *s, const void *buf, size_t len, uint64_t off)
{
	int r = pwrite_full(s->out->fd, buf, len, off);

	/* a file system may accept O_DIRECT and still refuse our alignment: go buffered */
	if (r == -EINVAL && s->direct) {
		int flags = fcntl(s->out->fd, F_GETFL);

		if (flags >= 0 && fcntl(s->out->fd, F_SETFL, flags & ~O_DIRECT) == 0)
			r = pwrite_full(s->out->fd, buf, len, off);
	}
	return r;
}

static int raw_write_failed(struct raw_sink *s, int err, struct diag *d)
{
	return diag_fail(d, err, "%s: write failed: %s", s->out->path, strerror(-err));
}

/* Write out a window's touched blocks, in runs, and clear them. */
static int raw_window_write(struct raw_sink *s, struct raw_window *w)
{
	for (size_t i = 0, j; i < RAW_WINDOW_BLOCKS; i = j) {
		size_t at = i * RAW_BLOCK, len;
		int r;

		for (j = i; j < RAW_WINDOW_BLOCKS && w->touched[j] == w->touched[i]; j++)
			;
		if (!w->touched[i])
			continue;
		len = (j - i) * RAW_BLOCK;
		r = raw_pwrite(s, w->buf + at, len, w->off + at);
		if (r < 0)
			return r;
		memset(w->buf + at, 0, len);
		memset(w->touched + i, 0, j - i);
	}
	return 0;
}

static void *raw_writer(void *arg)
{
	struct raw_sink *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct raw_window *w;
		int r;

		while (!s->pending && !s->stop)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->pending)
			break;
		w = s->pending;
		pthread_mutex_unlock(&s->lock);
		r = raw_window_write(s, w);
		pthread_mutex_lock(&s->lock);
		if (r < 0 && !s->err)
			s->err = r;
		s->pending = NULL;
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Wait for the writer to finish the window it holds; its error, if any. */
static int raw_drain(struct raw_sink *s)
{
	int r;

	if (!s->threaded)
		return 0;
	pthread_mutex_lock(&s->lock);
	while (s->pending)
		pthread_cond_wait(&s->cond, &s->lock);
	r = s->err;
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* Send the current window to the disk and start filling the other (which is clean). */
static int raw_hand_over(struct raw_sink *s, struct diag *d)
{
	int r;

	if (!s->threaded) {
		r = raw_window_write(s, s->cur);
		return r < 0 ? raw_write_failed(s, r, d) : 0;
	}
	r = raw_drain(s);
	if (r < 0)
		return raw_write_failed(s, r, d);
	pthread_mutex_lock(&s->lock);
	s->pending = s->cur;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	s->cur = s->cur == &s->win[0] ? &s->win[1] : &s->win[0];
	return 0;
}

static void raw_stop_writer(struct raw_sink *s)
{
	if (!s->threaded)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	s->threaded = false;
}

static void raw_start_writer(struct raw_sink *s)
{
	sigset_t old;
	int r;

	if (pthread_mutex_init(&s->lock, NULL) != 0)
		return;
	if (pthread_cond_init(&s->cond, NULL) != 0) {
		pthread_mutex_destroy(&s->lock);
		return;
	}
	/* the writer starts with SIGINT & co blocked: they reach the main thread */
	interrupt_block(&old);
	r = pthread_create(&s->thread, NULL, raw_writer, s);
	interrupt_unblock(&old);
	if (r != 0) {
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		return;
	}
	s->threaded = true;
}

/* Direct mode where the file system takes it (else buffered); a writer thread where one can
 * be had (else windows are written synchronously). */
static void raw_start_direct(struct raw_sink *s)
{
	int flags = fcntl(s->out->fd, F_GETFL);
	void *a = NULL, *b = NULL;

	/* refused (EINVAL) where the file system has no direct I/O */
	if (posix_memalign(&a, RAW_BLOCK, RAW_WINDOW) != 0 ||
	    posix_memalign(&b, RAW_BLOCK, RAW_WINDOW) != 0 || flags < 0 ||
	    fcntl(s->out->fd, F_SETFL, flags | O_DIRECT) < 0) {
		free(a);
		free(b);
		return;
	}
	s->win[0].buf = memset(a, 0, RAW_WINDOW);
	s->win[1].buf = memset(b, 0, RAW_WINDOW);
	s->cur = &s->win[0];
	s->direct = true;
	raw_start_writer(s);
}

static void raw_free(struct raw_sink *s)
{
	raw_stop_writer(s);
	free(s->win[0].buf);
	free(s->win[1].buf);
	free(s);
}

static int raw_open(const struct format_params *p, struct outfile *out, struct diag *d,
		    struct sink **ret)
{
	struct raw_sink *s;

	if (p->file_compress != FORMAT_FILE_COMPRESS_NONE)
		return raw_compress_open(p, out, d, ret);
	s = xcalloc(1, sizeof(*s));
	s->out = out;
	if (!p->raw_buffered)
		raw_start_direct(s);
	*ret = &s->base;
	return 0;
}

/* Make off part of the current window (handing over the one it leaves) and return the room
 * there. Offsets only go up (sink_write), so a flushed block is never written again. */
static int raw_window_at(struct raw_sink *s, uint64_t off, size_t *ret_room, struct diag *d)
{
	if (off >= s->cur->off + RAW_WINDOW) {
		int r = raw_hand_over(s, d);

		if (r < 0)
			return r;
		s->cur->off = off - off % RAW_BLOCK;
	}
	*ret_room = RAW_WINDOW - (size_t)(off - s->cur->off);
	return 0;
}

static void raw_touch(struct raw_sink *s, uint64_t off, size_t len)
{
	size_t first = (size_t)(off - s->cur->off) / RAW_BLOCK;
	size_t last = (size_t)(off - s->cur->off + len - 1) / RAW_BLOCK;

	memset(s->cur->touched + first, 1, last - first + 1);
}

static int raw_write(struct sink *base, uint64_t off, const void *buf, size_t len, struct diag *d)
{
	struct raw_sink *s = (struct raw_sink *)base;
	const uint8_t *p = buf;

	if (!s->direct) {
		int r = raw_pwrite(s, buf, len, off);

		return r < 0 ? raw_write_failed(s, r, d) : 0;
	}
	while (len > 0) {
		size_t room, n;
		int r = raw_window_at(s, off, &room, d);

		if (r < 0)
			return r;
		n = MIN(len, room);
		memcpy(s->cur->buf + (off - s->cur->off), p, n);
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
		ssize_t n;
		int r = interrupt_check(d);

		if (r < 0)
			return r;
		n = copy_file_range(fd, &in, s->out->fd, &out, MIN(len - done, RAW_COPY_STEP), 0);
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

	if (!s->direct)
		return raw_copy_range(s, off, fd, src_off, len, d);
	while (done < len) {
		size_t room;
		ssize_t n;
		int r = interrupt_check(d);

		if (r >= 0)
			r = raw_window_at(s, off + done, &room, d);
		if (r < 0)
			return r;
		n = pread(fd, s->cur->buf + (off + done - s->cur->off), MIN(len - done, room),
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

static int raw_finish(struct sink *base, struct diag *d)
{
	struct raw_sink *s = (struct raw_sink *)base;
	int r = 0;

	if (s->direct) {
		r = raw_hand_over(s, d);
		if (r == 0 && raw_drain(s) < 0)
			r = raw_write_failed(s, raw_drain(s), d);
		raw_stop_writer(s); /* before the file is closed */
	}

	/* the trailing hole comes from the length alone (which also cuts a last direct block
	 * that reached past the end) */
	if (r < 0)
		outfile_abort(s->out);
	else if (!s->out->in_place && ftruncate(s->out->fd, (off_t)base->virtual_size) < 0) {
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

	raw_stop_writer(s); /* it may still be writing: before the file is closed */
	outfile_abort(s->out);
	raw_free(s);
}

const struct format_ops format_raw = {
	.name = "raw",
	.extension = "img",
	/* the bytes as they are, or compressed as a whole (raw-compress.c) */
	.options = FORMAT_OPT_FILE_COMPRESS | FORMAT_OPT_COMPRESSION_LEVEL | FORMAT_OPT_THREADS,
	.open = raw_open,
	.write = raw_write,
	.copy_from_fd = raw_copy_from_fd,
	.finish = raw_finish,
	.abort = raw_abort,
};
