/* A pool of worker threads that process jobs in any order and hand them back strictly in
 * submission order, one at a time: the output of whatever the jobs compress does not depend on
 * timing or on the number of threads (STYLE.md 8.5). Used by the whole-file compressors
 * (format/compress-stream.c). The same scheme as qcow2-compressed's pool (branch t14-vmdk moves
 * that to format/pool.c): once both are on main, compress-stream moves onto that one (a unit
 * per 4 MiB chunk) and this file goes.
 *
 * The pool owns depth = 2 * threads + 2 job slots (one compressing and one queued per worker,
 * one being filled, one waiting to be emitted), made by ops->job_new: memory is bounded by the
 * thread count, not by the data. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct ordered_pool;

struct ordered_pool_ops {
	void *(*job_new)(void *ctx);
	void (*job_free)(void *ctx, void *job);
	/* Per-thread state (a codec), made in the worker; NULL when none is needed. */
	void *(*worker_new)(void *ctx);
	void (*worker_free)(void *ctx, void *worker);
	/* In any worker, in any order. */
	void (*work)(void *ctx, void *worker, void *job);
	/* In submission order, one job at a time (in some worker thread): writes the job out
	 * unless discard (an earlier error, or the pool cancelled), and empties it for reuse
	 * either way. Returns a negative errno on failure (the pool's error from then on). */
	int (*emit)(void *ctx, void *job, bool discard);
};

/* n_threads 0: one per core (at most 64). A negative errno when no thread can start. */
int ordered_pool_new(unsigned n_threads, const struct ordered_pool_ops *ops, void *ctx,
		     struct ordered_pool **ret);
/* Cancels (queued jobs are discarded, not emitted) and joins the workers. NULL-safe. */
struct ordered_pool *ordered_pool_free(struct ordered_pool *p);
/* Queued jobs are discarded from now on (abort paths). */
void ordered_pool_cancel(struct ordered_pool *p);
/* The job to fill next, once its slot is free (waiting for the workers if needed); the
 * pool's error (an emit's) if there was one. */
int ordered_pool_room(struct ordered_pool *p, void **ret_job);
/* Hands the job from ordered_pool_room to the workers (nothing when none is open). */
void ordered_pool_submit(struct ordered_pool *p);
/* Waits until every submitted job but the newest max_pending was emitted, or one failed:
 * the first error, else 0. */
int ordered_pool_wait(struct ordered_pool *p, uint64_t max_pending);
/* Submits the open job and waits for every job to be emitted. */
int ordered_pool_drain(struct ordered_pool *p);
unsigned ordered_pool_threads(const struct ordered_pool *p);
