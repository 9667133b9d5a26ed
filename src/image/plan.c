#include "image/plan.h"

#include <errno.h>
#include <stdlib.h>

#include "util/diag.h"
#include "util/sort.h"
#include "util/xalloc.h"

struct image_plan *image_plan_new(uint64_t size)
{
	struct image_plan *p = xcalloc(1, sizeof(*p));

	p->size = size;
	return p;
}

struct image_plan *image_plan_free(struct image_plan *p)
{
	if (!p)
		return NULL;
	free(p->ranges);
	free(p->fillers);
	free(p);
	return NULL;
}

static struct image_range *image_plan_push(struct image_plan *p, uint64_t off, uint64_t len)
{
	struct image_range *r;

	if (p->n_ranges == p->cap_ranges) {
		p->cap_ranges = p->cap_ranges ? p->cap_ranges * 2 : 256;
		p->ranges = xreallocarray(p->ranges, p->cap_ranges, sizeof(*p->ranges));
	}
	r = &p->ranges[p->n_ranges++];
	*r = (struct image_range){ .off = off, .len = len };
	return r;
}

/* The filler index of (fill, ctx): few distinct pairs, added in runs of the same one. */
static size_t filler_index(struct image_plan *p, image_fill_fn fill, const void *ctx)
{
	for (size_t i = p->n_fillers; i-- > 0;)
		if (p->fillers[i].fill == fill && p->fillers[i].ctx == ctx)
			return i;
	if (p->n_fillers == p->cap_fillers) {
		p->cap_fillers = p->cap_fillers ? p->cap_fillers * 2 : 16;
		p->fillers = xreallocarray(p->fillers, p->cap_fillers, sizeof(*p->fillers));
	}
	p->fillers[p->n_fillers] = (struct image_filler){ fill, ctx };
	return p->n_fillers++;
}

void image_plan_add_fill(struct image_plan *p, uint64_t off, uint64_t len, image_fill_fn fill,
			 const void *ctx, uint64_t arg)
{
	struct image_range *r;

	if (len == 0)
		return;
	r = image_plan_push(p, off, len);
	r->arg = arg;
	r->src = (uintptr_t)filler_index(p, fill, ctx) << 1 | 1;
}

void image_plan_add_file(struct image_plan *p, uint64_t off, uint64_t len,
			 const struct tree_node *node, uint64_t file_off)
{
	struct image_range *r;

	if (len == 0)
		return;
	if ((uintptr_t)node & 1)
		abort(); /* tree nodes are 8-byte aligned */
	r = image_plan_push(p, off, len);
	r->arg = file_off;
	r->src = (uintptr_t)node;
}

int image_range_fill(const struct image_plan *p, const struct image_range *r, uint64_t off,
		     uint8_t *buf, size_t len, struct diag *d)
{
	const struct image_filler *f = &p->fillers[r->src >> 1];

	return f->fill(f->ctx, r->arg, off, buf, len, d);
}

static int range_cmp(const void *a, const void *b)
{
	const struct image_range *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return 0;
}

int image_plan_seal(struct image_plan *p, struct diag *d)
{
	/* In place (qsort would copy all 130k ranges); offsets are distinct in a valid plan,
	 * and equal ones are reported as an overlap below whatever their order. */
	sort_in_place(p->ranges, p->n_ranges, sizeof(*p->ranges), range_cmp);
	for (size_t i = 0; i < p->n_ranges; i++) {
		const struct image_range *r = &p->ranges[i];

		if (r->off + r->len < r->off || r->off + r->len > p->size)
			return diag_fail(d, -EINVAL,
					 "internal error: range %llu+%llu past the disk end %llu",
					 (unsigned long long)r->off, (unsigned long long)r->len,
					 (unsigned long long)p->size);
		if (i > 0 && p->ranges[i - 1].off + p->ranges[i - 1].len > r->off)
			return diag_fail(d, -EINVAL,
					 "internal error: ranges overlap at byte %llu",
					 (unsigned long long)r->off);
	}
	return 0;
}
