/* The one compression worker pool: of the compressing sinks (qcow2-compressed, vmdk
 * streamOptimized) and of the whole-file compressors (compress-stream.c: raw --compress, gce).
 * The sink's thread fills batches of fixed-size units (clusters, grains, 4 MiB chunks),
 * workers compress batches in any order, and the finished batches are written out strictly in
 * submission order, one worker at a time (whichever finds the oldest batch finished), so the
 * output does not depend on timing or on the number of threads. Memory: 2 * n_threads + 2
 * batches of about 512 KiB of units, or of one unit when a unit is larger (and as many output
 * slots when out_unit > 0). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct format_job {
	uint8_t *buf;       /* n units of `unit` bytes */
	uint8_t *out;       /* n slots of `out_unit` bytes (NULL when out_unit is 0) */
	uint64_t *unit_idx; /* each unit's index in the disk (cluster, grain); compress-stream:
			     * the chunk's length */
	uint32_t *out_len;  /* the compressor's result per unit */
	uint8_t *kind;      /* the compressor's verdict per unit */
	size_t n;
	bool done;
};

struct format_pool_ops {
	/* A worker's own state (a codec, scratch space), made in the worker's thread. */
	void *(*worker_new)(void *ctx);
	void (*worker_free)(void *w);
	/* Fills kind/out_len (and out) for every unit of j; in any worker, without the lock. */
	void (*compress)(void *w, struct format_job *j);
	/* Writes a finished batch; batches come in submission order, one at a time. Returns a
	 * negative errno (no message: it runs outside the sink's thread). */
	int (*write)(void *ctx, const struct format_job *j);
};

struct format_pool;

/* n_threads 0: one per core (at most 64). A negative errno when a thread cannot start. */
int format_pool_new(const struct format_pool_ops *ops, void *ctx, unsigned n_threads,
		    size_t unit, size_t out_unit, struct format_pool **ret);
/* Stops the workers without writing anything more (abort), then frees. Accepts NULL. */
struct format_pool *format_pool_cancel(struct format_pool *p);
/* Frees after the workers finished what was submitted (drain first to have it written). */
struct format_pool *format_pool_free(struct format_pool *p);
/* Units per batch. */
size_t format_pool_batch(const struct format_pool *p);
/* The batch being filled, with room for at least one unit: waits while every slot is taken.
 * Returns the first write error, if any. */
int format_pool_room(struct format_pool *p, struct format_job **ret);
/* The next n units of the filling batch, from unit_idx on, hold their data (a full batch goes
 * to the workers). */
void format_pool_commit(struct format_pool *p, uint64_t unit_idx, size_t n);
/* Copies one unit in and commits it. */
int format_pool_submit(struct format_pool *p, uint64_t unit_idx, const void *data);
/* Everything submitted, written in order; the first write error, if any. */
int format_pool_drain(struct format_pool *p);
