/* Progress on a terminal: files and bytes done, rate, ETA; rate-limited redraws on stderr. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct progress {
	bool enabled;
	uint64_t total_bytes, total_files;
	double start, last_draw;
};

void progress_init(struct progress *p, bool enabled, uint64_t total_bytes, uint64_t total_files);
void progress_update(void *ctx, uint64_t bytes_done, uint64_t bytes_total, uint64_t files_done);
void progress_done(struct progress *p);
/* Monotonic seconds. */
double progress_now(void);
