#include "util/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/interrupt.h"
#include "util/xalloc.h"

/* Zeroing a device goes in steps, so that an interrupt is seen between them. */
#define OUTFILE_ZERO_STEP (256ull << 20)

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

static const char *outfile_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/* st: what path names now (following symlinks, as writing to it would). */
static int outfile_check_stat(const char *path, const struct stat *st, bool device,
			      struct diag *d)
{
	if (device) {
		if (!S_ISBLK(st->st_mode))
			return diag_fail(d, -ENOTBLK, "%s: not a block device (%s); "
					 "--output-device writes onto one", path,
					 S_ISREG(st->st_mode) ? "a regular file"
							      : outfile_kind(st->st_mode));
		return 0;
	}
	if (S_ISREG(st->st_mode))
		return 0;
	if (S_ISBLK(st->st_mode))
		return diag_fail(d, -EEXIST, "%s: is a block device; add --output-device to write "
				 "the raw image onto it", path);
	if (S_ISDIR(st->st_mode))
		return diag_fail(d, -EISDIR, "%s: is a directory (give the image file's name)",
				 path);
	return diag_fail(d, -EEXIST, "%s: is %s, not replaced (give the image file's name)",
			 path, outfile_kind(st->st_mode));
}

int outfile_check(const char *path, bool device, struct diag *d)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT && !device)
			return 0;
		return diag_fail(d, -errno, "%s: %s", path, strerror(errno));
	}
	return outfile_check_stat(path, &st, device, d);
}

/* ".NAME.XXXXXX" beside path, created with mode (the umask applies), as mkostemp would but
 * with a mode of our choice. */
static int outfile_create_tmp(struct outfile *o, mode_t mode)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789";
	const char *slash = strrchr(o->path, '/');
	size_t dir_len = slash ? (size_t)(slash - o->path) + 1 : 0;

	for (unsigned attempt = 0; attempt < 100; attempt++) {
		uint8_t rnd[6];
		char *x;

		if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
			uint64_t v = (uint64_t)getpid() * 2654435761u + attempt * 40503u +
				     (uint64_t)(uintptr_t)o;

			memcpy(rnd, &v, sizeof(rnd));
		}
		free(o->tmp_path);
		o->tmp_path = xasprintf("%.*s.%s.XXXXXX", (int)dir_len, o->path,
					o->path + dir_len);
		x = o->tmp_path + strlen(o->tmp_path) - 6;
		for (size_t i = 0; i < 6; i++)
			x[i] = chars[rnd[i] % (sizeof(chars) - 1)];
		o->fd = open(o->tmp_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (o->fd >= 0 || errno != EEXIST)
			break;
	}
	if (o->fd < 0) {
		free(o->tmp_path);
		o->tmp_path = NULL; /* nothing to unlink */
		return -errno;
	}
	return 0;
}

int outfile_open(const char *path, struct diag *d, struct outfile **ret)
{
	struct outfile *o;
	struct stat st;
	bool replace;
	int r;

	if (stat(path, &st) == 0) {
		r = outfile_check_stat(path, &st, /* device= */ false, d);
		if (r < 0)
			return r;
		replace = true;
	} else
		replace = false;

	o = xcalloc(1, sizeof(*o));
	o->fd = -1;
	o->path = xstrdup(path);
	/* a file replaced is never more open while it is written than it was */
	r = outfile_create_tmp(o, replace ? st.st_mode & 0777 : 0666);
	if (r < 0) {
		outfile_free(o);
		return diag_fail(d, r, "%s: cannot create output file: %s", path, strerror(-r));
	}
	if (replace) {
		/* as sed -i: the owner where we may, else the group where we may */
		if (fchown(o->fd, st.st_uid, st.st_gid) < 0)
			(void)fchown(o->fd, (uid_t)-1, st.st_gid);
		if (fchmod(o->fd, st.st_mode & 0777) < 0) {
			r = -errno;
			outfile_abort(o);
			return diag_fail(d, r, "%s: cannot set the mode: %s", path, strerror(-r));
		}
	}
	*ret = o;
	return 0;
}

/* Bytes [0, size) of the device read as zeros afterwards. */
static int outfile_zero_device(struct outfile *o, uint64_t size, struct diag *d)
{
	uint64_t whole = size & ~511ull;
	uint8_t tail[512] = { 0 };
	int r;

	for (uint64_t off = 0; off < whole; off += OUTFILE_ZERO_STEP) {
		uint64_t range[2] = { off, whole - off < OUTFILE_ZERO_STEP ? whole - off
									 : OUTFILE_ZERO_STEP };

		r = interrupt_check(d);
		if (r < 0)
			return r;
		if (ioctl(o->fd, BLKZEROOUT, range) < 0)
			return diag_fail(d, -errno, "%s: cannot zero the device: %s", o->path,
					 strerror(errno));
	}
	if (size > whole &&
	    pwrite(o->fd, tail, size - whole, (off_t)whole) != (ssize_t)(size - whole))
		return diag_fail(d, -errno, "%s: write failed: %s", o->path, strerror(errno));
	return 0;
}

int outfile_open_device(const char *path, uint64_t size, struct diag *d, struct outfile **ret)
{
	struct outfile *o;
	struct stat st;
	uint64_t dev_size;
	int r;

	r = outfile_check(path, /* device= */ true, d);
	if (r < 0)
		return r;
	o = xcalloc(1, sizeof(*o));
	o->path = xstrdup(path);
	o->in_place = true;
	/* O_EXCL on a block device: EBUSY while it is mounted or otherwise claimed */
	o->fd = open(path, O_WRONLY | O_EXCL | O_CLOEXEC);
	if (o->fd < 0) {
		r = -errno;
		outfile_free(o);
		if (r == -EBUSY)
			return diag_fail(d, r, "%s: the device is in use (mounted?); unmount it "
					 "first", path);
		return diag_fail(d, r, "%s: cannot open: %s", path, strerror(-r));
	}
	if (fstat(o->fd, &st) < 0 || !S_ISBLK(st.st_mode) ||
	    ioctl(o->fd, BLKGETSIZE64, &dev_size) < 0) {
		r = errno ? -errno : -ENOTBLK;
		outfile_free(o);
		return diag_fail(d, r, "%s: cannot get the device's size: %s", path, strerror(-r));
	}
	if (dev_size < size) {
		outfile_free(o);
		return diag_fail(d, -ENOSPC, "%s: the device holds %llu bytes, the image needs "
				 "%llu", path, (unsigned long long)dev_size, (unsigned long long)size);
	}
	r = outfile_zero_device(o, size, d);
	if (r < 0) {
		outfile_free(o);
		return r;
	}
	*ret = o;
	return 0;
}

int outfile_commit(struct outfile *o, struct diag *d)
{
	struct stat st;
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
	if (o->in_place) {
		outfile_free(o);
		return r;
	}
	/* the last moment to give up: after the rename the new image is the output */
	if (r == 0 && (r = interrupt_check(d)) < 0)
		r = diag_prepend(d, r, "%s", o->path);
	/* the path may have become something we do not replace while we wrote */
	if (r == 0 && stat(o->path, &st) == 0)
		r = outfile_check_stat(o->path, &st, /* device= */ false, d);
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
	if (!o->in_place && o->tmp_path)
		(void)unlink(o->tmp_path);
	outfile_free(o);
}
