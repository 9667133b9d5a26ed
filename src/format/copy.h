/* Copying a disk image from any reader to any sink (`mkdiskimage convert`): only the ranges the
 * input says may hold data are read, 1 MiB at a time in ascending order; all-zero 4 KiB blocks
 * stay holes in the output. Memory is one chunk plus the formats' metadata. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct diag;
struct image_input;
struct sink;

#define FORMAT_COPY_CHUNK (1u << 20)
#define FORMAT_COPY_BLOCK 4096u /* zero detection granularity: holes stay holes */

/* Called after each chunk with the offset reached and the virtual size. */
struct format_copy_progress {
	void (*update)(void *ctx, uint64_t bytes_done, uint64_t bytes_total, uint64_t files_done);
	void *ctx;
};

/* Write every data byte of in to out (the sink is neither finished nor aborted here). An
 * interrupt (util/interrupt.h) between chunks is -EINTR. */
int format_copy(struct image_input *in, struct sink *out, const struct format_copy_progress *prog,
		struct diag *d);
/* Write the non-zero FORMAT_COPY_BLOCK blocks of buf (disk bytes [off, off + len)) to s, as
 * few writes; all-zero blocks stay holes. */
int format_copy_nonzero(struct sink *s, uint64_t off, const uint8_t *buf, size_t len,
			struct diag *d);
