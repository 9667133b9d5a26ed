#include "image/plan.h"

#include <errno.h>
#include <stdlib.h>

#include "util/diag.h"
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

void image_plan_add_fill(struct image_plan *p, uint64_t off, uint64_t len, image_fill_fn fill,
			 const void *ctx, uint64_t arg)
{
	struct image_range *r;

	if (len == 0)
		return;
	r = image_plan_push(p, off, len);
	r->kind = IMAGE_RANGE_FILL;
	r->fill = fill;
	r->ctx = ctx;
	r->arg = arg;
}

void image_plan_add_file(struct image_plan *p, uint64_t off, uint64_t len,
			 const struct tree_node *node, uint64_t file_off)
{
	struct image_range *r;

	if (len == 0)
		return;
	r = image_plan_push(p, off, len);
	r->kind = IMAGE_RANGE_FILE;
	r->node = node;
	r->file_off = file_off;
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
	qsort(p->ranges, p->n_ranges, sizeof(*p->ranges), range_cmp);
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
