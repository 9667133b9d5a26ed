/* Compression workers shared by the compressing sinks (format/pool.h). Batches are numbered
 * in submission order, compressed in any order and written out strictly in order, one worker
 * at a time (whichever finds the oldest batch finished), so the output does not depend on
 * timing or on the number of threads, and the sink's thread only reads. */
#include "format/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/interrupt.h"
#include "util/xalloc.h"

#define POOL_MAX_THREADS 64u
/* Units go to the workers in batches of about 512 KiB: one lock round trip per batch, not per
 * unit, and bounded memory (2 * n_threads + 2 batches in flight: 3 MiB with 2 threads). */
#define POOL_BATCH_BYTES (512u << 10)

struct format_pool {
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	pthread_t *threads;
	unsigned n_threads, n_started;
	const struct format_pool_ops *ops;
	void *ctx; /* written to by the writing worker only, until drained */
	struct format_job *jobs;
	/* batches [retire_seq, submit_seq) are with the workers; jobs[submit_seq % depth] fills */
	uint64_t depth, submit_seq, take_seq, retire_seq;
	size_t batch; /* units per batch */
	size_t unit;
	bool quit;
	bool cancel;  /* abort: workers take no more batches and write nothing more */
	bool writing; /* a worker is writing batches out */
	int err;      /* the first write error */
};

/* With the lock held, by a worker that finished a batch: unless another worker is at it,
 * write out every finished batch from the oldest on, in order, without the lock. */
static void pool_write_finished(struct format_pool *p)
{
	if (p->writing)
		return; /* that worker looks again after each batch */
	p->writing = true;
	while (p->retire_seq < p->take_seq) {
		struct format_job *j = &p->jobs[p->retire_seq % p->depth];
		bool failed = p->err < 0;
		int r = 0;

		if (!j->done)
			break;
		pthread_mutex_unlock(&p->lock);
		if (!failed && !p->cancel)
			r = p->ops->write(p->ctx, j);
		pthread_mutex_lock(&p->lock);
		if (r < 0)
			p->err = r;
		j->n = 0;
		j->done = false;
		p->retire_seq++;
		pthread_cond_signal(&p->done); /* only the sink's thread waits on it */
	}
	p->writing = false;
}

static void *pool_worker(void *arg)
{
	struct format_pool *p = arg;
	void *w = p->ops->worker_new(p->ctx);

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct format_job *j;

		while (p->take_seq == p->submit_seq && !p->quit)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->take_seq == p->submit_seq || p->cancel)
			break;
		j = &p->jobs[p->take_seq++ % p->depth];
		pthread_mutex_unlock(&p->lock);
		p->ops->compress(w, j);
		pthread_mutex_lock(&p->lock);
		j->done = true;
		pool_write_finished(p);
	}
	pthread_mutex_unlock(&p->lock);
	p->ops->worker_free(w);
	return NULL;
}

struct format_pool *format_pool_free(struct format_pool *p)
{
	if (!p)
		return NULL;
	pthread_mutex_lock(&p->lock);
	p->quit = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n_started; i++)
		pthread_join(p->threads[i], NULL);
	for (uint64_t i = 0; i < p->depth; i++) {
		free(p->jobs[i].buf);
		free(p->jobs[i].out);
		free(p->jobs[i].unit_idx);
		free(p->jobs[i].out_len);
		free(p->jobs[i].kind);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p->jobs);
	free(p->threads);
	free(p);
	return NULL;
}

struct format_pool *format_pool_cancel(struct format_pool *p)
{
	if (!p)
		return NULL;
	/* the workers stop first (the writing one may still be at the file): queued batches are
	 * neither compressed nor written */
	pthread_mutex_lock(&p->lock);
	p->cancel = true;
	pthread_mutex_unlock(&p->lock);
	return format_pool_free(p);
}

int format_pool_new(const struct format_pool_ops *ops, void *ctx, unsigned n_threads,
		    size_t unit, size_t out_unit, struct format_pool **ret)
{
	struct format_pool *p = xcalloc(1, sizeof(*p));
	int r;

	p->ops = ops;
	p->ctx = ctx;
	if (n_threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		n_threads = n > 0 ? (unsigned)n : 1;
	}
	p->n_threads = MIN(n_threads, POOL_MAX_THREADS);
	p->unit = unit;
	p->batch = MAX((size_t)1, POOL_BATCH_BYTES / unit);
	/* two batches per worker (one compressing, one queued so that a worker never waits while
	 * the sink's thread reads), one being filled, one waiting to be written */
	p->depth = 2 * (uint64_t)p->n_threads + 2;
	p->jobs = xcalloc(p->depth, sizeof(*p->jobs));
	for (uint64_t i = 0; i < p->depth; i++) {
		p->jobs[i].buf = xmalloc(p->batch * unit);
		if (out_unit)
			p->jobs[i].out = xmalloc(p->batch * out_unit);
		p->jobs[i].unit_idx = xcalloc(p->batch, sizeof(uint64_t));
		p->jobs[i].out_len = xcalloc(p->batch, sizeof(uint32_t));
		p->jobs[i].kind = xcalloc(p->batch, 1);
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->threads = xcalloc(p->n_threads, sizeof(*p->threads));
	for (unsigned i = 0; i < p->n_threads; i++) {
		sigset_t old;

		/* workers start with SIGINT & co blocked: they reach the main thread */
		interrupt_block(&old);
		r = pthread_create(&p->threads[i], NULL, pool_worker, p);
		interrupt_unblock(&old);
		if (r != 0) {
			format_pool_free(p);
			return -r;
		}
		p->n_started++;
	}
	*ret = p;
	return 0;
}

size_t format_pool_batch(const struct format_pool *p)
{
	return p->batch;
}

/* Hands the filling batch to the workers. With every slot taken, the slot to fill still holds
 * the oldest batch, not yet written and so nothing filled: compressing it again would compress
 * its compressed units in place. */
static void pool_dispatch(struct format_pool *p)
{
	pthread_mutex_lock(&p->lock);
	if (p->submit_seq - p->retire_seq < p->depth && p->jobs[p->submit_seq % p->depth].n > 0) {
		p->submit_seq++;
		pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->lock);
}

/* Waits until the workers wrote out every batch but the newest max_pending, or failed. */
static int pool_wait(struct format_pool *p, uint64_t max_pending)
{
	int r;

	pthread_mutex_lock(&p->lock);
	while (p->submit_seq - p->retire_seq > max_pending && p->err == 0)
		pthread_cond_wait(&p->done, &p->lock);
	r = p->err;
	pthread_mutex_unlock(&p->lock);
	return r;
}

int format_pool_room(struct format_pool *p, struct format_job **ret)
{
	int r = pool_wait(p, p->depth - 1);

	*ret = &p->jobs[p->submit_seq % p->depth];
	return r;
}

void format_pool_commit(struct format_pool *p, uint64_t unit_idx, size_t n)
{
	struct format_job *j = &p->jobs[p->submit_seq % p->depth];

	for (size_t i = 0; i < n; i++)
		j->unit_idx[j->n++] = unit_idx + i;
	if (j->n == p->batch)
		pool_dispatch(p);
}

int format_pool_submit(struct format_pool *p, uint64_t unit_idx, const void *data)
{
	struct format_job *j;
	int r = format_pool_room(p, &j);

	if (r < 0)
		return r;
	memcpy(j->buf + j->n * p->unit, data, p->unit);
	format_pool_commit(p, unit_idx, 1);
	return 0;
}

int format_pool_drain(struct format_pool *p)
{
	pool_dispatch(p);
	return pool_wait(p, 0);
}
