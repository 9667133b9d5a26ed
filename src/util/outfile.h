/* Safe output: write under a temporary name beside the target, rename into place on commit.
 * On abort (or a crash before commit) no file appears at the target path and a file that was
 * there stays as it was.
 *
 * Only regular files are replaced: a directory, character device, FIFO or socket at the path
 * is refused, and so is a block device unless the caller asks for one (outfile_open_device),
 * which is then written in place. Modes: a new file gets 0666 & ~umask (and the directory's
 * default ACL), as open(2) gives every tool's output; a file replaced keeps its permission
 * bits and, where we may set them, its owner and group, as cp and qemu-img (which write into
 * the existing file) keep them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct diag;

struct outfile {
	int fd;
	char *path;     /* final name */
	char *tmp_path; /* ".NAME.XXXXXX" in the same directory; NULL when written in place */
	bool in_place;  /* a block device: never renamed, never unlinked */
};

/* What may be written at path: 0 for a regular file or nothing, a block device when device is
 * set (then only a block device); else an error naming path and what it is. */
int outfile_check(const char *path, bool device, struct diag *d);
int outfile_open(const char *path, struct diag *d, struct outfile **ret);
/* The block device at path, opened exclusively (refused while mounted), at least size bytes
 * (else -ENOSPC naming both sizes). Its first size bytes are zeroed first, so that, as in a
 * new file, whatever the sink leaves as a hole reads as zeros. */
int outfile_open_device(const char *path, uint64_t size, struct diag *d, struct outfile **ret);
/* fsync, rename into place (in place: fsync only) and free. */
int outfile_commit(struct outfile *o, struct diag *d);
/* Unlink the temporary file and free; accepts NULL. A device keeps what was written. */
void outfile_abort(struct outfile *o);
