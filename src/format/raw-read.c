/* Reading a raw image: the file is the disk. Holes come from SEEK_DATA/SEEK_HOLE, so sparse
 * images convert in time proportional to their data. */
#include "format/format-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/diag.h"
#include "util/fileio.h"
#include "util/xalloc.h"

struct raw_reader {
	struct image_reader base;
	int fd;
};

static int raw_read_open(int fd, uint64_t file_size, struct diag *d, struct image_reader **ret)
{
	struct raw_reader *r = xcalloc(1, sizeof(*r));

	r->base.virtual_size = file_size;
	r->fd = fd;
	*ret = &r->base;
	return 0;
}

static int raw_read(struct image_reader *base, uint64_t off, void *buf, size_t len,
		    struct diag *d)
{
	struct raw_reader *r = (struct raw_reader *)base;
	int e = pread_full(r->fd, buf, len, off);
	struct stat st;

	/* -EIO is both an early end of file and a failing device: the size tells them apart */
	if (e == -EIO && fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size < off + len)
		return diag_fail(d, e, "file ended before byte %llu (did it shrink?)",
				 (unsigned long long)(off + len));
	if (e < 0)
		return diag_fail(d, e, "read at byte %llu failed: %s", (unsigned long long)off,
				 strerror(-e));
	return 0;
}

static int raw_next_data(struct image_reader *base, uint64_t off, uint64_t *ret_start,
			 uint64_t *ret_len, struct diag *d)
{
	struct raw_reader *r = (struct raw_reader *)base;
	uint64_t size = base->virtual_size;
	off_t data, hole;

	if (off >= size) {
		*ret_start = size;
		*ret_len = 0;
		return 0;
	}
	data = lseek(r->fd, (off_t)off, SEEK_DATA);
	if (data < 0 && errno == ENXIO) { /* only a hole up to the end */
		*ret_start = size;
		*ret_len = 0;
		return 0;
	}
	if (data < 0) {
		/* no hole support here: everything may hold data */
		if (errno == EINVAL || errno == EOPNOTSUPP) {
			*ret_start = off;
			*ret_len = size - off;
			return 0;
		}
		return diag_fail(d, -errno, "cannot find data at byte %llu: %s",
				 (unsigned long long)off, strerror(errno));
	}
	hole = lseek(r->fd, data, SEEK_HOLE);
	if (hole < 0)
		return diag_fail(d, -errno, "cannot find a hole after byte %lld: %s",
				 (long long)data, strerror(errno));
	/* the file may have changed size since it was opened: stay inside the disk */
	if ((uint64_t)data >= size) {
		*ret_start = size;
		*ret_len = 0;
		return 0;
	}
	if ((uint64_t)hole > size)
		hole = (off_t)size;
	*ret_start = (uint64_t)data;
	*ret_len = (uint64_t)(hole - data);
	return 0;
}

static void raw_read_close(struct image_reader *base)
{
	free(base);
}

const struct reader_ops reader_raw = {
	.name = "raw",
	.probe = NULL,
	.open = raw_read_open,
	.read = raw_read,
	.next_data = raw_next_data,
	.close = raw_read_close,
};
