/* Whole-buffer I/O that handles short reads and writes and EINTR. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* 0 on success, -errno on error, -EIO on unexpected end of file. */
int pread_full(int fd, void *buf, size_t len, uint64_t off);
int pwrite_full(int fd, const void *buf, size_t len, uint64_t off);
/* Read a whole file (at most max bytes, else -EFBIG) into a fresh buffer, NUL-terminated. */
int read_file(const char *path, size_t max, uint8_t **ret, size_t *ret_len);
/* An unnamed temporary file in dir, read-write, removed when closed: O_TMPFILE, or where the
 * filesystem lacks it a mkostemp name ("DIR/.mkdiskimage-HINT-XXXXXX") unlinked at once. The
 * fd, or a negative errno (no message: the caller names what the file was for). */
int tmpfile_open(const char *dir, const char *hint);
/* True when every byte is zero. */
int mem_is_zero(const void *buf, size_t len);
