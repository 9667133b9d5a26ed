/* The in-memory map of changed byte ranges of a resize (overlay.h). */
#include "resize/overlay.h"

#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

void resize_overlay_init(struct resize_overlay *o)
{
	*o = (struct resize_overlay){ 0 };
}

void resize_overlay_done(struct resize_overlay *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->v[i].data);
	free(o->v);
	*o = (struct resize_overlay){ 0 };
}

/* The first extent ending after off (extents are sorted and disjoint, so ends are sorted). */
static size_t first_ending_after(const struct resize_overlay *o, uint64_t off)
{
	size_t lo = 0, hi = o->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->v[mid].off + o->v[mid].len > off)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static struct resize_extent extent_copy(uint64_t off, const uint8_t *p, size_t len, uint64_t seq)
{
	struct resize_extent e = { .off = off, .len = len, .seq = seq, .data = xmalloc(len) };

	memcpy(e.data, p, len);
	return e;
}

void resize_overlay_write(struct resize_overlay *o, uint64_t off, const void *buf, size_t len)
{
	uint64_t end = off + len;
	struct resize_extent repl[3];
	size_t i, k, n_repl = 0;

	if (len == 0)
		return;
	i = first_ending_after(o, off);
	for (k = i; k < o->n && o->v[k].off < end; k++)
		;
	/* extents i .. k-1 overlap [off, end): keep their parts outside it */
	if (i < k && o->v[i].off < off) {
		struct resize_extent *e = &o->v[i];

		repl[n_repl++] = extent_copy(e->off, e->data, (size_t)(off - e->off), e->seq);
	}
	repl[n_repl++] = extent_copy(off, buf, len, o->next_seq++);
	if (i < k && o->v[k - 1].off + o->v[k - 1].len > end) {
		struct resize_extent *e = &o->v[k - 1];

		repl[n_repl++] = extent_copy(end, e->data + (end - e->off),
					     (size_t)(e->off + e->len - end), e->seq);
	}
	for (size_t j = i; j < k; j++)
		free(o->v[j].data);
	if (o->n - (k - i) + n_repl > o->cap) {
		o->cap = MAX(o->cap * 2, o->n - (k - i) + n_repl + 16);
		o->v = xreallocarray(o->v, o->cap, sizeof(*o->v));
	}
	memmove(o->v + i + n_repl, o->v + k, (o->n - k) * sizeof(*o->v));
	memcpy(o->v + i, repl, n_repl * sizeof(*repl));
	o->n = o->n - (k - i) + n_repl;
}

void resize_overlay_apply(const struct resize_overlay *o, uint64_t off, void *buf, size_t len)
{
	uint64_t end = off + len;

	for (size_t i = first_ending_after(o, off); i < o->n && o->v[i].off < end; i++) {
		const struct resize_extent *e = &o->v[i];
		uint64_t s = MAX(off, e->off), t = MIN(end, e->off + e->len);

		memcpy((uint8_t *)buf + (s - off), e->data + (s - e->off), (size_t)(t - s));
	}
}

bool resize_overlay_next(const struct resize_overlay *o, uint64_t off, uint64_t *ret_off)
{
	size_t i = first_ending_after(o, off);

	if (i == o->n)
		return false;
	*ret_off = MAX(off, o->v[i].off);
	return true;
}

static int cmp_seq(const void *a, const void *b)
{
	const struct resize_extent *x = *(const struct resize_extent *const *)a;
	const struct resize_extent *y = *(const struct resize_extent *const *)b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

const struct resize_extent **resize_overlay_by_seq(const struct resize_overlay *o)
{
	const struct resize_extent **v = xreallocarray(NULL, o->n ? o->n : 1, sizeof(*v));

	for (size_t i = 0; i < o->n; i++)
		v[i] = &o->v[i];
	/* pieces split from one write share its number: they go in disk order */
	qsort(v, o->n, sizeof(*v), cmp_seq);
	return v;
}

uint64_t resize_overlay_bytes(const struct resize_overlay *o)
{
	uint64_t n = 0;

	for (size_t i = 0; i < o->n; i++)
		n += o->v[i].len;
	return n;
}
