/* What the scan records of a host file, and the comparison emit makes when it reads it: a
 * file replaced, modified, truncated or grown since the scan is refused instead of putting a
 * state that never existed (or another file's bytes) into the image. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tree/tree.h"

#include "util/fileio.h"

static uint64_t mix(uint64_t h, uint64_t v)
{
	/* splitmix64's finalizer over the running value: every input bit reaches every output
	 * bit, so values differing in any field differ here but for a 2^-64 chance. */
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

uint64_t tree_src_stamp(const struct stat *st)
{
	uint64_t h = 0x6d6b6469736b696dull;

	h = mix(h, (uint64_t)st->st_dev);
	h = mix(h, (uint64_t)st->st_ino);
	h = mix(h, (uint64_t)st->st_mtim.tv_sec);
	h = mix(h, (uint64_t)st->st_mtim.tv_nsec);
	h = mix(h, (uint64_t)st->st_ctim.tv_sec);
	return mix(h, (uint64_t)st->st_ctim.tv_nsec);
}

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFDIR:
		return "a directory";
	case S_IFLNK:
		return "a symbolic link";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	default:
		return "not a regular file";
	}
}

int tree_src_check(const struct tree_node *n, const struct stat *st, char *why, size_t why_len)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(why, why_len, "now %s", type_name(st->st_mode));
		return -ESTALE;
	}
	if ((uint64_t)st->st_size != n->size) {
		snprintf(why, why_len, "size %llu, scanned %llu", (unsigned long long)st->st_size,
			 (unsigned long long)n->size);
		return -ESTALE;
	}
	if (tree_src_stamp(st) != n->src_stamp) {
		snprintf(why, why_len,
			 "another file, or modified: device, inode, mtime or ctime differ");
		return -ESTALE;
	}
	return 0;
}

const char *tree_src_open_changed(int err)
{
	switch (err) {
	case -ELOOP:
		return "now a symbolic link";
	case -ENOENT:
		return "removed";
	case -ENXIO:
		return "now a socket";
	case -ENOTDIR:
		return "a directory above it is no longer one";
	default:
		return NULL;
	}
}

int tree_node_pread(const struct tree_node *n, void *buf, size_t len, uint64_t off)
{
	char *path;
	int fd, r;

	if (n->type != TREE_REG)
		return -EINVAL;
	if (off > n->size || len > n->size - off)
		return -EIO;
	if (n->src_data) {
		memcpy(buf, n->src_data + off, len);
		return 0;
	}
	if (n->src_is_fd)
		return pread_full(n->src_fd->fd, buf, len, n->src_off + off);
	path = tree_node_src_path(n);
	if (!path) {
		memset(buf, 0, len); /* no source: all holes */
		return 0;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -errno;
	r = pread_full(fd, buf, len, off);
	(void)close(fd);
	return r;
}
