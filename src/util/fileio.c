#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/interrupt.h"
#include "util/xalloc.h"

int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0) {
			/* a signal that asks us to stop ends the retries (util/interrupt.h) */
			if (errno == EINTR && !interrupt_pending())
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0) {
			/* a signal that asks us to stop ends the retries (util/interrupt.h) */
			if (errno == EINTR && !interrupt_pending())
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0, cap = 4096;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	/* Opened without blocking (a FIFO with no writer, a tty); a pipe still reads to its
	 * end, blocking as reads do. */
	r = fcntl(fd, F_GETFL);
	if (r < 0 || fcntl(fd, F_SETFL, r & ~O_NONBLOCK) < 0)
		return -errno;
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap >= max)
				return -EFBIG;
			cap = cap * 2 > max ? max : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			/* a signal that asks us to stop ends the retries (util/interrupt.h) */
			if (errno == EINTR && !interrupt_pending())
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int mem_is_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* compare in words where aligned, the tail bytewise */
	while (len > 0 && ((uintptr_t)p & 7)) {
		if (*p)
			return 0;
		p++;
		len--;
	}
	while (len >= 8) {
		if (*(const uint64_t *)(const void *)p)
			return 0;
		p += 8;
		len -= 8;
	}
	while (len--)
		if (*p++)
			return 0;
	return 1;
}

int tmpfile_open(const char *dir, const char *hint)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		_cleanup_free_ char *tmpl = xasprintf("%s/.mkdiskimage-%s-XXXXXX", dir, hint);

		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0)
			(void)unlink(tmpl);
	}
	return fd < 0 ? -errno : fd;
}
