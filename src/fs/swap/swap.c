/* Linux swap as a filesystem handler (fs/fs.h): mkswap's version 1 header in the first page,
 * the rest of the partition left zero (mkswap writes nothing else either). The layout is
 * util-linux's include/swapheader.h and the kernel's union swap_header (include/linux/swap.h);
 * docs/formats/swap.md has the byte table and what we check when reading. */
#include "fs/swap/swap.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs-internal.h"
#include "image/plan.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/uuid.h"
#include "util/xalloc.h"

static const char swap_magic[] = "SWAPSPACE2";

void swap_header_encode(uint8_t page[SWAP_PAGE_SIZE], uint64_t size,
			const uint8_t uuid[16], const char *label)
{
	uint64_t pages = size / SWAP_PAGE_SIZE;
	size_t n = strlen(label);

	assert(pages >= SWAP_MIN_PAGES && n <= SWAP_LABEL_MAX);
	memset(page, 0, SWAP_PAGE_SIZE);
	le32_put(page + SWAP_HDR_VERSION, 1);
	le32_put(page + SWAP_HDR_LAST_PAGE, pages - 1 > UINT32_MAX ? UINT32_MAX : pages - 1);
	le32_put(page + SWAP_HDR_NR_BADPAGES, 0);
	memcpy(page + SWAP_HDR_UUID, uuid, 16);
	memcpy(page + SWAP_HDR_LABEL, label, n);
	memcpy(page + SWAP_PAGE_SIZE - SWAP_MAGIC_LEN, swap_magic, SWAP_MAGIC_LEN);
}

int swap_header_probe(int (*read)(void *ctx, uint64_t off, void *buf, size_t len,
				  struct diag *d),
		      void *ctx, uint64_t size, struct diag *d, struct swap_header *ret)
{
	uint8_t magic[SWAP_MAGIC_LEN], h[SWAP_HDR_LABEL + 16 - SWAP_HDR_VERSION];
	struct swap_header s = { 0 };
	uint32_t (*get)(const uint8_t *);
	uint64_t pages;
	int r;

	/* the magic ends the first page, whatever the page size of the host that made it */
	for (s.page_size = 4096; s.page_size <= 65536; s.page_size *= 2) {
		if (size < s.page_size)
			return 0;
		r = read(ctx, s.page_size - SWAP_MAGIC_LEN, magic, sizeof(magic), d);
		if (r < 0)
			return diag_prepend(d, r, "cannot read the swap signature at byte %u",
					    s.page_size - SWAP_MAGIC_LEN);
		if (memcmp(magic, swap_magic, SWAP_MAGIC_LEN) == 0)
			break;
	}
	if (s.page_size > 65536)
		return 0;
	r = read(ctx, SWAP_HDR_VERSION, h, sizeof(h), d);
	if (r < 0)
		return diag_prepend(d, r, "cannot read the swap header at byte %u",
				    SWAP_HDR_VERSION);
	/* the header is in the byte order of the host that wrote it */
	s.big_endian = le32_get(h) != 1 && be32_get(h) == 1;
	get = s.big_endian ? be32_get : le32_get;
	if (get(h) != 1)
		return diag_fail(d, -EBADMSG, "swap header: version %u, not 1", le32_get(h));
	s.last_page = get(h + (SWAP_HDR_LAST_PAGE - SWAP_HDR_VERSION));
	s.nr_badpages = get(h + (SWAP_HDR_NR_BADPAGES - SWAP_HDR_VERSION));
	memcpy(s.uuid, h + (SWAP_HDR_UUID - SWAP_HDR_VERSION), 16);
	memcpy(s.label, h + (SWAP_HDR_LABEL - SWAP_HDR_VERSION), 16);
	pages = (uint64_t)s.last_page + 1;
	if (pages < SWAP_MIN_PAGES)
		return diag_fail(d, -EBADMSG, "swap header: last_page %u: under %u pages",
				 s.last_page, SWAP_MIN_PAGES);
	if (pages > size / s.page_size)
		return diag_fail(d, -EBADMSG,
				 "swap header: last_page %u: %llu pages of %u bytes run past the "
				 "partition's %llu bytes",
				 s.last_page, (unsigned long long)pages, s.page_size,
				 (unsigned long long)size);
	if (s.nr_badpages > (s.page_size - SWAP_MAGIC_LEN - SWAP_HDR_BADPAGES) / 4)
		return diag_fail(d, -EBADMSG, "swap header: nr_badpages %u: more than the page "
				 "holds", s.nr_badpages);
	*ret = s;
	return 1;
}

struct swap_plan {
	uint64_t size;
	uint8_t uuid[16];
	char label[17];
};

static int swap_fs_check(const struct fs_request *rq, struct diag *d, const char **ret_label)
{
	assert(!rq->tree);
	return fs_request_label(rq, "swap", "", SWAP_LABEL_MAX, d, ret_label);
}

static int swap_fs_min_size(const struct fs_request *rq, struct diag *d, uint64_t *ret)
{
	const char *label;
	int r = swap_fs_check(rq, d, &label);

	if (r < 0)
		return r;
	*ret = (uint64_t)SWAP_MIN_PAGES * SWAP_PAGE_SIZE;
	return 0;
}

static int swap_fs_plan(const struct fs_request *rq, struct diag *d, struct fs_plan **ret)
{
	struct swap_plan *p;
	const char *label;
	char purpose[96];
	int r = swap_fs_check(rq, d, &label);

	if (r < 0)
		return r;
	if (rq->size_bytes / SWAP_PAGE_SIZE < SWAP_MIN_PAGES)
		return diag_fail(d, -ENOSPC,
				 "%s: %llu bytes is too small for swap: it needs at least %u KiB "
				 "(%u pages of %u bytes)",
				 rq->what, (unsigned long long)rq->size_bytes,
				 SWAP_MIN_PAGES * SWAP_PAGE_SIZE / 1024, SWAP_MIN_PAGES,
				 SWAP_PAGE_SIZE);
	p = xcalloc(1, sizeof(*p));
	p->size = rq->size_bytes / SWAP_PAGE_SIZE * SWAP_PAGE_SIZE;
	snprintf(p->label, sizeof(p->label), "%s", label);
	if (rq->uuid_set)
		memcpy(p->uuid, rq->uuid, sizeof(p->uuid));
	else {
		snprintf(purpose, sizeof(purpose), "swap-uuid:%s", rq->role);
		uuid_derive(rq->seed, purpose, p->uuid);
	}
	*ret = (struct fs_plan *)p;
	return 0;
}

/* The header page, from byte SWAP_HDR_VERSION on (the boot bits before it stay zero). */
static int swap_fs_fill(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
			struct diag *d)
{
	const struct swap_plan *p = ctx;
	uint8_t page[SWAP_PAGE_SIZE];

	swap_header_encode(page, p->size, p->uuid, p->label);
	memcpy(buf, page + SWAP_HDR_VERSION + off, len);
	return 0;
}

static void swap_fs_ranges(const struct fs_plan *plan, uint64_t base, struct image_plan *ip)
{
	image_plan_add_fill(ip, base + SWAP_HDR_VERSION, SWAP_PAGE_SIZE - SWAP_HDR_VERSION,
			    swap_fs_fill, plan, 0);
}

static void swap_stats_fill(struct fs_stats *ret, uint64_t pages, uint32_t page_size,
			    const uint8_t uuid[16], const char *label)
{
	*ret = (struct fs_stats){
		.type = "swap",
		.has_uuid = !uuid_is_null(uuid),
		.size_bytes = pages * page_size,
		.block_size = page_size,
		.n_blocks = pages,
	};
	memcpy(ret->uuid, uuid, 16);
	snprintf(ret->label, sizeof(ret->label), "%s", label);
}

static void swap_fs_stats(const struct fs_plan *plan, struct fs_stats *ret)
{
	const struct swap_plan *p = (const struct swap_plan *)plan;

	swap_stats_fill(ret, p->size / SWAP_PAGE_SIZE, SWAP_PAGE_SIZE, p->uuid, p->label);
}

static int swap_fs_probe(fs_read_fn read, void *ctx, uint64_t size, struct diag *d,
			 struct fs_probe *ret)
{
	struct swap_header h;
	int r = swap_header_probe(read, ctx, size, d, &h);

	if (r <= 0)
		return r;
	ret->ops = &swap_fs_ops;
	swap_stats_fill(&ret->stats, (uint64_t)h.last_page + 1, h.page_size, h.uuid, h.label);
	return 1;
}

static struct fs_plan *swap_fs_free(struct fs_plan *plan)
{
	free(plan);
	return NULL;
}

const struct fs_ops swap_fs_ops = {
	.name = "swap",
	.min_size = swap_fs_min_size,
	.plan = swap_fs_plan,
	.ranges = swap_fs_ranges,
	.stats = swap_fs_stats,
	.probe = swap_fs_probe,
	.free = swap_fs_free,
};
