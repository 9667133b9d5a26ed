/* The emit loop: walks a sealed disk plan in ascending offset, produces every byte once and
 * feeds one sink. All-zero chunks are skipped (holes), except in host file data a sink copies
 * itself (format_ops.copy_from_fd: raw), which is not looked at. */
#pragma once

#include <stdint.h>

struct diag;
struct image_plan;
struct sink;

/* Called after each range with the bytes and files done so far (for progress display). */
struct image_emit_progress {
	void (*update)(void *ctx, uint64_t bytes_done, uint64_t bytes_total, uint64_t files_done);
	void *ctx;
};

/* Emit everything. A source file whose size or mtime differs from the plan is -ESTALE. */
int image_emit(const struct image_plan *p, struct sink *s, const struct image_emit_progress *prog,
	       struct diag *d);
