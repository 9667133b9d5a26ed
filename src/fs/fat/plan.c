/* FAT planning: check that the tree fits FAT, give every name its 8.3 short name and slots in
 * its directory, choose the geometry, and allocate one contiguous cluster run per directory and
 * file in preorder. docs/formats/fat.md, "Planning". */
#include "fs/fat/fat.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fat/fat-internal.h"
#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/xalloc.h"

#define FAT_DIR_MAX_SLOTS 65536u /* the specification's limit: 2 MiB of entries */

/* Short names of one directory: an open-addressing set keyed by the 11 bytes, each with the
 * next numeric tail to try for that basis. */
struct name_set {
	uint8_t (*keys)[11];
	uint32_t *next_tail;
	bool *used;
	size_t cap;
};

static void name_set_init(struct name_set *s, size_t n)
{
	s->cap = 16;
	while (s->cap < 4 * n)
		s->cap <<= 1;
	s->keys = xcalloc(s->cap, sizeof(*s->keys));
	s->next_tail = xcalloc(s->cap, sizeof(*s->next_tail));
	s->used = xcalloc(s->cap, sizeof(*s->used));
}

static void name_set_done(struct name_set *s)
{
	free(s->keys);
	free(s->next_tail);
	free(s->used);
}

/* The slot for key: where it is, or the empty slot where it would go. */
static size_t name_set_find(const struct name_set *s, const uint8_t key[11])
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < 11; i++)
		h = (h ^ key[i]) * 16777619u;
	for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1))
		if (!s->used[i] || !memcmp(s->keys[i], key, 11))
			return i;
}

static size_t name_set_add(struct name_set *s, const uint8_t key[11])
{
	size_t i = name_set_find(s, key);

	s->used[i] = true;
	memcpy(s->keys[i], key, 11);
	return i;
}

static int node_fail(struct diag *d, int err, const struct fat_params *p,
		     const struct tree_node *n, const char *what)
{
	_cleanup_free_ char *path = tree_node_path(n);

	return diag_fail(d, err, "%s tree: %s: %s", p->what, path, what);
}

/* Can FAT hold this node? Checked before names are given out. */
static int node_check(const struct fat_params *p, const struct tree_node *n, struct diag *d)
{
	static const char *const kinds[] = {
		[TREE_SYMLINK] = "a symlink", [TREE_CHR] = "a character device",
		[TREE_BLK] = "a block device", [TREE_FIFO] = "a fifo", [TREE_SOCK] = "a socket",
	};
	uint16_t units[FAT_NAME_MAX];
	const char *why = NULL;
	char msg[160];
	size_t n_units;
	int r;

	if (n->type != TREE_DIR && n->type != TREE_REG) {
		snprintf(msg, sizeof(msg), "%s, which FAT cannot hold; remove it or copy what it "
			 "points to (cp -rL)", kinds[n->type]);
		return node_fail(d, -EINVAL, p, n, msg);
	}
	if (n->type == TREE_REG && n->size > FAT_FILE_MAX)
		return node_fail(d, -EFBIG, p, n, "4 GiB or larger, which FAT cannot hold");
	if (!n->parent)
		return 0;
	if (fat_name_check(n->name, n->name_len, &why) < 0) {
		snprintf(msg, sizeof(msg), "the name contains %s, which FAT forbids; rename it", why);
		return node_fail(d, -EINVAL, p, n, msg);
	}
	r = fat_utf16_from_utf8(n->name, n->name_len, units, &n_units);
	if (r == -EILSEQ)
		return node_fail(d, -EINVAL, p, n, "the name is not UTF-8; rename it");
	if (r < 0)
		return node_fail(d, -ENAMETOOLONG, p, n,
				 "the name is longer than 255 UTF-16 units; rename it");
	return 0;
}

/* Short names and slots for one directory's children: names that are already exact 8.3
 * names keep them; the others get BASIS~N with the lowest free N, in sorted order. */
static int dir_names(struct fat_plan *pl, const struct tree_node *dir, struct diag *d)
{
	struct name_set set;
	uint32_t slot = dir->parent ? 2 : pl->p.label[0] ? 1 : 0;
	int r = 0;

	name_set_init(&set, dir->n_children);
	for (int pass = 0; pass < 2 && r == 0; pass++) {
		for (size_t i = 0; i < dir->n_children; i++) {
			const struct tree_node *c = dir->children[i];
			struct fat_node *fn = &pl->nodes[c->index];
			uint8_t basis[11];
			bool lossy, tail;
			size_t k;

			fat_short_basis(c->name, c->name_len, basis, &lossy, &tail);
			if (tail != (pass == 1))
				continue;
			if (!tail) {
				k = name_set_find(&set, basis);
				if (set.used[k]) {
					r = node_fail(d, -EEXIST, &pl->p, c,
						      "another name in this directory differs only "
						      "in case, which FAT cannot tell apart");
					break;
				}
				name_set_add(&set, basis);
				memcpy(fn->short_name, basis, 11);
			} else {
				size_t b = name_set_find(&set, basis);
				uint32_t n = set.used[b] ? MAX(set.next_tail[b], 1u) : 1;
				uint8_t cand[11];

				b = name_set_add(&set, basis);
				for (;; n++) {
					memcpy(cand, basis, 11);
					fat_short_tail(cand, n);
					if (!set.used[name_set_find(&set, cand)])
						break;
				}
				/* re-find: the basis slot does not move (no deletions) */
				set.next_tail[b] = n + 1;
				name_set_add(&set, cand);
				memcpy(fn->short_name, cand, 11);
			}
			if (lossy) {
				uint16_t units[FAT_NAME_MAX];
				size_t n_units = 0;

				(void)fat_utf16_from_utf8(c->name, c->name_len, units, &n_units);
				fn->n_lfn = (uint8_t)fat_lfn_count(n_units);
			}
		}
	}
	name_set_done(&set);
	if (r < 0)
		return r;
	for (size_t i = 0; i < dir->n_children; i++) {
		struct fat_node *fn = &pl->nodes[dir->children[i]->index];

		fn->slot = slot;
		slot += fn->n_lfn + 1u;
	}
	pl->nodes[dir->index].n_slots = slot;
	if (slot > FAT_DIR_MAX_SLOTS) {
		return node_fail(d, -ENOSPC, &pl->p, dir,
				 "too many entries for one FAT directory (65536 slots); split it");
	}
	return 0;
}

static const struct tree_node *content_of(const struct tree_node *n)
{
	return n->hardlink ? n->hardlink : n; /* hard links: each name gets its own copy */
}

/* Bytes of a node's data clusters: a file's size, a directory's entries. */
static uint64_t node_bytes(const struct fat_plan *pl, const struct tree_node *n)
{
	if (n->type == TREE_DIR)
		return (uint64_t)pl->nodes[n->index].n_slots * FAT_DIRENT_SIZE;
	return content_of(n)->size;
}

/* Clusters the tree needs with this geometry; UINT64_MAX when the FAT12/16 root directory
 * cannot hold the root's entries. */
static uint64_t clusters_needed(const struct fat_plan *pl, const struct fat_geom *g)
{
	uint64_t cb = (uint64_t)g->sect_per_clus * FAT_SECT, sum = 0;

	for (size_t i = 0; i < pl->t->n_nodes; i++) {
		const struct tree_node *n = pl->t->nodes[i];
		uint64_t b = node_bytes(pl, n);

		if (!n->parent && g->type != FAT_TYPE_32) {
			if (pl->nodes[n->index].n_slots > g->root_entries)
				return UINT64_MAX;
			continue;
		}
		sum += n->type == TREE_DIR ? MAX(DIV_ROUND_UP(b, cb), 1u) : DIV_ROUND_UP(b, cb);
	}
	return sum;
}

static void allocate(struct fat_plan *pl)
{
	uint64_t cb = (uint64_t)pl->g.sect_per_clus * FAT_SECT;
	uint32_t next = 2;

	pl->runs = xcalloc(pl->t->n_nodes ? pl->t->n_nodes : 1, sizeof(*pl->runs));
	for (size_t i = 0; i < pl->t->n_nodes; i++) {
		const struct tree_node *n = pl->t->nodes[i];
		struct fat_node *fn = &pl->nodes[n->index];
		uint64_t b = node_bytes(pl, n);

		if (!n->parent && pl->g.type != FAT_TYPE_32)
			continue;
		fn->n_clus = (uint32_t)(n->type == TREE_DIR ? MAX(DIV_ROUND_UP(b, cb), 1u) :
							      DIV_ROUND_UP(b, cb));
		if (!fn->n_clus)
			continue;
		fn->first_clus = next;
		next += fn->n_clus;
		pl->runs[pl->n_runs++] = (uint32_t)n->index;
	}
	pl->used_clus = next - 2;
}

/* Names, slots and checks: everything that does not depend on the size. */
static int plan_names(struct fat_plan *pl, struct diag *d)
{
	const struct tree *t = pl->t;
	int r;

	if (!t->root || !t->n_nodes)
		return diag_fail(d, -EINVAL, "%s tree: not finalized (a bug)", pl->p.what);
	pl->nodes = xcalloc(t->n_nodes, sizeof(*pl->nodes));
	for (size_t i = 0; i < t->n_nodes; i++) {
		r = node_check(&pl->p, t->nodes[i], d);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < t->n_nodes; i++) {
		if (t->nodes[i]->type != TREE_DIR)
			continue;
		r = dir_names(pl, t->nodes[i], d);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The geometry of n_sect sectors under the plan's policy (fat_params.plain). */
static int geom_choose(const struct fat_plan *pl, uint64_t n_sect, struct fat_geom *ret)
{
	return pl->p.plain ? fat_geom_choose_plain(n_sect, ret) : fat_geom_choose(n_sect, ret);
}

static bool fits(const struct fat_plan *pl, uint64_t bytes, struct fat_geom *ret_g)
{
	struct fat_geom g;

	if (geom_choose(pl, bytes / FAT_SECT, &g) < 0)
		return false;
	if (clusters_needed(pl, &g) > g.n_clus)
		return false;
	if (ret_g)
		*ret_g = g;
	return true;
}

/* The smallest whole-MiB size that holds the tree and extra_bytes free, up to the FAT32 limit
 * (2 TiB). Cluster needs are counted once per geometry kind (width, cluster size), not once
 * per candidate. */
static int min_mib(const struct fat_plan *pl, struct diag *d, uint64_t *ret)
{
	uint64_t cache[3][8] = { { 0 } };
	uint64_t m = MAX(pl->t->total_bytes >> 20, 1u);

	for (; m <= (2ull << 20); m++) {
		struct fat_geom g;
		uint64_t *need;
		size_t k = 0;

		uint64_t extra;

		if (geom_choose(pl, (m << 20) / FAT_SECT, &g) < 0)
			continue;
		while ((1u << k) < g.sect_per_clus)
			k++;
		need = &cache[g.type == FAT_TYPE_12 ? 0 : g.type == FAT_TYPE_16 ? 1 : 2][k];
		if (!*need)
			*need = clusters_needed(pl, &g) + 1; /* + 1: 0 means not counted yet */
		if (g.type != FAT_TYPE_32 && *need != UINT64_MAX &&
		    pl->nodes[pl->t->root->index].n_slots > g.root_entries)
			continue;
		extra = DIV_ROUND_UP(pl->p.extra_bytes, (uint64_t)g.sect_per_clus * FAT_SECT);
		if (*need != UINT64_MAX && *need - 1 + extra <= g.n_clus) {
			*ret = m;
			return 0;
		}
	}
	return diag_fail(d, -ENOSPC, "%s tree: too large for any FAT filesystem", pl->p.what);
}

static struct fat_plan *plan_new(const struct fat_params *p, const struct tree *t)
{
	struct fat_plan *pl = xcalloc(1, sizeof(*pl));

	pl->p = *p;
	if (!pl->p.what)
		pl->p.what = "FAT";
	pl->t = t;
	return pl;
}

int fat_plan(const struct fat_params *p, const struct tree *t, struct diag *d,
	     struct fat_plan **ret)
{
	_cleanup_(fat_plan_freep) struct fat_plan *pl = plan_new(p, t);
	uint64_t need;
	int r;

	if (p->size_bytes / FAT_SECT > UINT32_MAX)
		return diag_fail(d, -EFBIG, "%s: %" PRIu64 " MiB is past FAT's 2 TiB limit",
				 pl->p.what, p->size_bytes >> 20);
	r = plan_names(pl, d);
	if (r < 0)
		return r;
	if (!fits(pl, p->size_bytes, &pl->g)) {
		r = min_mib(pl, d, &need);
		if (r < 0)
			return r;
		return diag_fail(d, -ENOSPC, "%s needs %" PRIu64 " MiB, the partition has %" PRIu64
				 " MiB", pl->p.what, need, p->size_bytes >> 20);
	}
	allocate(pl);
	*ret = TAKE_PTR(pl);
	return 0;
}

int fat_min_size(const struct fat_params *p, const struct tree *t, struct diag *d,
		 uint64_t *ret)
{
	_cleanup_(fat_plan_freep) struct fat_plan *pl = plan_new(p, t);
	uint64_t m;
	int r;

	r = plan_names(pl, d);
	if (r < 0)
		return r;
	r = min_mib(pl, d, &m);
	if (r < 0)
		return r;
	*ret = m << 20;
	return 0;
}

const struct fat_geom *fat_plan_geom(const struct fat_plan *plan)
{
	return &plan->g;
}

uint32_t fat_plan_free_clusters(const struct fat_plan *plan)
{
	return plan->g.n_clus - plan->used_clus;
}

struct fat_plan *fat_plan_free(struct fat_plan *plan)
{
	if (!plan)
		return NULL;
	free(plan->nodes);
	free(plan->runs);
	free(plan);
	return NULL;
}
