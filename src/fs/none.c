/* "none": a partition left empty (zero, as every byte no range covers). */
#include "fs/fs-internal.h"

#include <assert.h>
#include <stdlib.h>

#include "util/xalloc.h"

struct none_plan {
	uint64_t size;
};

static int none_fs_min_size(const struct fs_request *rq, struct diag *d, uint64_t *ret)
{
	assert(!rq->tree);
	*ret = 0;
	return 0;
}

static int none_fs_plan(const struct fs_request *rq, struct diag *d, struct fs_plan **ret)
{
	struct none_plan *p = xcalloc(1, sizeof(*p));

	assert(!rq->tree);
	p->size = rq->size_bytes;
	*ret = (struct fs_plan *)p;
	return 0;
}

static void none_fs_ranges(const struct fs_plan *plan, uint64_t base, struct image_plan *ip)
{
}

static void none_fs_stats(const struct fs_plan *plan, struct fs_stats *ret)
{
	*ret = (struct fs_stats){ .type = "none",
				  .size_bytes = ((const struct none_plan *)plan)->size };
}

static struct fs_plan *none_fs_free(struct fs_plan *plan)
{
	free(plan);
	return NULL;
}

const struct fs_ops none_fs_ops = {
	.name = "none",
	.min_size = none_fs_min_size,
	.plan = none_fs_plan,
	.ranges = none_fs_ranges,
	.stats = none_fs_stats,
	.free = none_fs_free,
};
