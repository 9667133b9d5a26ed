#include "util/progress.h"

#include <stdio.h>
#include <time.h>

double progress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init(struct progress *p, bool enabled, uint64_t total_bytes, uint64_t total_files)
{
	p->enabled = enabled;
	p->total_bytes = total_bytes;
	p->total_files = total_files;
	p->start = progress_now();
	p->last_draw = 0;
}

void progress_update(void *ctx, uint64_t bytes_done, uint64_t bytes_total, uint64_t files_done)
{
	struct progress *p = ctx;
	double now, elapsed, rate, eta;

	if (!p->enabled)
		return;
	now = progress_now();
	if (now - p->last_draw < 0.2)
		return;
	p->last_draw = now;
	elapsed = now - p->start;
	rate = elapsed > 0 ? (double)bytes_done / elapsed : 0;
	eta = rate > 0 && p->total_bytes > bytes_done ? (double)(p->total_bytes - bytes_done) / rate
						       : 0;
	/* no file count for byte streams (convert) */
	if (p->total_files > 0)
		fprintf(stderr, "\r%llu/%llu files, ", (unsigned long long)files_done,
			(unsigned long long)p->total_files);
	else
		fputc('\r', stderr);
	fprintf(stderr, "%.1f/%.1f MiB, %.1f MiB/s, ETA %.0f s   ",
		(double)bytes_done / 1048576.0, (double)p->total_bytes / 1048576.0,
		rate / 1048576.0, eta);
}

void progress_done(struct progress *p)
{
	if (p->enabled && p->last_draw > 0)
		fputs("\r\033[K", stderr);
}
