/* Random access to the bytes of one filesystem inside an image being changed in place (resize):
 * offsets are relative to the filesystem's first byte. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct diag;

struct fs_io {
	void *ctx;
	/* Exactly len bytes at off, or a negative errno with a message. */
	int (*read)(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d);
	int (*write)(void *ctx, uint64_t off, const void *buf, size_t len, struct diag *d);
};
