/* Ordered worker pool (ordered-pool.h). Jobs are numbered in submission order: workers take
 * them in that order and finish in any, and whichever worker finds the oldest job finished
 * emits every finished job from there on, in order, without the lock. */
#include "util/ordered-pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/interrupt.h"
#include "util/xalloc.h"

#define ORDERED_POOL_MAX_THREADS 64u

struct ordered_pool {
	const struct ordered_pool_ops *ops;
	void *ctx;
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	pthread_t *threads;
	unsigned n_threads, n_started;
	void **jobs;
	bool *finished;
	/* jobs [retire_seq, submit_seq) are with the workers; jobs[submit_seq % depth] fills */
	uint64_t depth, submit_seq, take_seq, retire_seq;
	bool open;    /* the filling slot was handed out by ordered_pool_room */
	bool quit;
	bool cancel;  /* workers take no more jobs and emit nothing more */
	bool writing; /* a worker is emitting jobs */
	int err;      /* the first emit error */
};

/* With the lock held, by a worker that finished a job: unless another worker is at it, emit
 * every finished job from the oldest on. */
static void pool_emit_finished(struct ordered_pool *p)
{
	if (p->writing)
		return; /* that worker looks again after each job */
	p->writing = true;
	while (p->retire_seq < p->take_seq) {
		uint64_t i = p->retire_seq % p->depth;
		bool discard = p->err < 0 || p->cancel;
		int r;

		if (!p->finished[i])
			break;
		pthread_mutex_unlock(&p->lock);
		r = p->ops->emit(p->ctx, p->jobs[i], discard);
		pthread_mutex_lock(&p->lock);
		if (r < 0 && p->err == 0)
			p->err = r;
		p->finished[i] = false;
		p->retire_seq++;
		pthread_cond_signal(&p->done); /* only the submitting thread waits on it */
	}
	p->writing = false;
}

static void *pool_worker(void *arg)
{
	struct ordered_pool *p = arg;
	void *w = p->ops->worker_new ? p->ops->worker_new(p->ctx) : NULL;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		uint64_t i;

		while (p->take_seq == p->submit_seq && !p->quit)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->take_seq == p->submit_seq || p->cancel)
			break;
		i = p->take_seq++ % p->depth;
		pthread_mutex_unlock(&p->lock);
		p->ops->work(p->ctx, w, p->jobs[i]);
		pthread_mutex_lock(&p->lock);
		p->finished[i] = true;
		pool_emit_finished(p);
	}
	pthread_mutex_unlock(&p->lock);
	if (p->ops->worker_free)
		p->ops->worker_free(p->ctx, w);
	return NULL;
}

void ordered_pool_cancel(struct ordered_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->cancel = true;
	pthread_mutex_unlock(&p->lock);
}

struct ordered_pool *ordered_pool_free(struct ordered_pool *p)
{
	if (!p)
		return NULL;
	pthread_mutex_lock(&p->lock);
	p->quit = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n_started; i++)
		pthread_join(p->threads[i], NULL);
	for (uint64_t i = 0; i < p->depth; i++)
		p->ops->job_free(p->ctx, p->jobs[i]);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p->jobs);
	free(p->finished);
	free(p->threads);
	free(p);
	return NULL;
}

int ordered_pool_new(unsigned n_threads, const struct ordered_pool_ops *ops, void *ctx,
		     struct ordered_pool **ret)
{
	struct ordered_pool *p = xcalloc(1, sizeof(*p));

	if (n_threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		n_threads = n > 0 ? (unsigned)n : 1;
	}
	p->ops = ops;
	p->ctx = ctx;
	p->n_threads = MIN(n_threads, ORDERED_POOL_MAX_THREADS);
	p->depth = 2 * (uint64_t)p->n_threads + 2;
	p->jobs = xcalloc(p->depth, sizeof(*p->jobs));
	p->finished = xcalloc(p->depth, sizeof(*p->finished));
	for (uint64_t i = 0; i < p->depth; i++)
		p->jobs[i] = ops->job_new(ctx);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->threads = xcalloc(p->n_threads, sizeof(*p->threads));
	for (unsigned i = 0; i < p->n_threads; i++) {
		sigset_t old;
		int r;

		/* workers start with SIGINT & co blocked: they reach the main thread */
		interrupt_block(&old);
		r = pthread_create(&p->threads[i], NULL, pool_worker, p);
		interrupt_unblock(&old);
		if (r != 0) {
			ordered_pool_free(p);
			return -r;
		}
		p->n_started++;
	}
	*ret = p;
	return 0;
}

void ordered_pool_submit(struct ordered_pool *p)
{
	pthread_mutex_lock(&p->lock);
	if (p->open) {
		p->open = false;
		p->submit_seq++;
		pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->lock);
}

int ordered_pool_wait(struct ordered_pool *p, uint64_t max_pending)
{
	int r;

	pthread_mutex_lock(&p->lock);
	while (p->submit_seq - p->retire_seq > max_pending && p->err == 0)
		pthread_cond_wait(&p->done, &p->lock);
	r = p->err;
	pthread_mutex_unlock(&p->lock);
	return r;
}

int ordered_pool_room(struct ordered_pool *p, void **ret_job)
{
	/* with every slot taken, the slot to fill still holds the oldest job, not yet emitted */
	int r = ordered_pool_wait(p, p->depth - 1);

	if (r < 0)
		return r;
	pthread_mutex_lock(&p->lock);
	p->open = true;
	pthread_mutex_unlock(&p->lock);
	*ret_job = p->jobs[p->submit_seq % p->depth];
	return 0;
}

int ordered_pool_drain(struct ordered_pool *p)
{
	ordered_pool_submit(p);
	return ordered_pool_wait(p, 0);
}

unsigned ordered_pool_threads(const struct ordered_pool *p)
{
	return p->n_threads;
}
