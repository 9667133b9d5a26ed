/* tree_finalize: the model's last pass before planning. Sorts children (they normally are
 * already), lists nodes in preorder, maps owners, clamps times and groups hard links. */
#include "tree/tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tree/tree-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/xalloc.h"

static int child_cmp(const void *a, const void *b)
{
	const struct tree_node *x = *(const struct tree_node *const *)a;
	const struct tree_node *y = *(const struct tree_node *const *)b;

	return tree_name_cmp(x->name, x->name_len, y->name, y->name_len);
}

/* Children appended by hand (not through tree_node_insert) get sorted here. */
static int sort_children(struct tree_node *dir, struct diag *d)
{
	bool sorted = true;

	for (size_t i = 1; i < dir->n_children && sorted; i++)
		sorted = child_cmp(&dir->children[i - 1], &dir->children[i]) < 0;
	if (sorted)
		return 0;
	qsort(dir->children, dir->n_children, sizeof(*dir->children), child_cmp);
	for (size_t i = 1; i < dir->n_children; i++)
		if (child_cmp(&dir->children[i - 1], &dir->children[i]) == 0) {
			_cleanup_free_ char *p = NULL;

			dir->children[i]->parent = dir;
			p = tree_node_path(dir->children[i]);

			return diag_fail(d, -EEXIST, "%s: two entries with the same name", p);
		}
	return 0;
}

/* Preorder with an explicit stack: trees thousands of levels deep are fine. */
static int list_preorder(struct tree *t, struct diag *d)
{
	_cleanup_free_ struct tree_node **stack = NULL;
	size_t n_stack = 0, cap_stack = 0, cap = t->n_nodes ? t->n_nodes : 1024;
	int r;

	free(t->nodes);
	t->nodes = xreallocarray(NULL, cap, sizeof(*t->nodes));
	t->n_nodes = 0;
	stack = xreallocarray(NULL, cap_stack = 1024, sizeof(*stack));
	stack[n_stack++] = t->root;
	t->root->parent = NULL;
	while (n_stack > 0) {
		struct tree_node *n = stack[--n_stack];

		if (t->n_nodes == cap)
			t->nodes = xreallocarray(t->nodes, cap *= 2, sizeof(*t->nodes));
		if (t->n_nodes >= UINT32_MAX)
			return diag_fail(d, -EOVERFLOW, "the input has more than 2^32 nodes");
		n->index = (uint32_t)t->n_nodes;
		t->nodes[t->n_nodes++] = n;
		if (n->type != TREE_DIR)
			continue;
		r = sort_children(n, d);
		if (r < 0)
			return r;
		if (n_stack + n->n_children > cap_stack) {
			cap_stack = MAX(cap_stack * 2, n_stack + n->n_children);
			stack = xreallocarray(stack, cap_stack, sizeof(*stack));
		}
		for (size_t i = n->n_children; i-- > 0;) {
			n->children[i]->parent = n;
			stack[n_stack++] = n->children[i];
		}
	}
	return 0;
}

static uint64_t link_hash(const struct tree_node *n)
{
	uint64_t h = n->host_ino * 0x9e3779b97f4a7c15ull;

	h ^= (n->host_dev + ((uint64_t)n->link_scope << 32)) * 0xc2b2ae3d27d4eb4full;
	return h ^ (h >> 29);
}

static bool link_same(const struct tree_node *a, const struct tree_node *b)
{
	return a->host_ino == b->host_ino && a->host_dev == b->host_dev &&
	       a->link_scope == b->link_scope;
}

/* Open addressing on (dev, ino, scope); the first name in preorder becomes the primary. */
static void group_hard_links(struct tree *t)
{
	_cleanup_free_ struct tree_node **table = NULL;
	size_t n_cand = 0, size = 16;

	for (size_t i = 0; i < t->n_nodes; i++) {
		struct tree_node *n = t->nodes[i];

		n->hardlink = NULL;
		n->n_links = 1;
		if (n->type != TREE_DIR && n->host_ino != 0)
			n_cand++;
	}
	if (n_cand < 2)
		return;
	while (size < n_cand * 2)
		size *= 2;
	table = xcalloc(size, sizeof(*table));
	for (size_t i = 0; i < t->n_nodes; i++) {
		struct tree_node *n = t->nodes[i];
		size_t h;

		if (n->type == TREE_DIR || n->host_ino == 0)
			continue;
		for (h = link_hash(n) & (size - 1); table[h]; h = (h + 1) & (size - 1))
			if (link_same(table[h], n))
				break;
		if (!table[h]) {
			table[h] = n;
			continue;
		}
		n->hardlink = table[h];
		table[h]->n_links++;
	}
	for (size_t i = 0; i < t->n_nodes; i++)
		if (t->nodes[i]->hardlink)
			t->nodes[i]->n_links = t->nodes[i]->hardlink->n_links;
}

int tree_finalize(struct tree *t, const struct tree_finalize_opts *o, struct diag *d)
{
	int r;

	r = list_preorder(t, d);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->n_nodes; i++) {
		struct tree_node *n = t->nodes[i];

		if (o && o->map_owner && n->owner_from_host) {
			n->uid = o->owner_uid;
			n->gid = o->owner_gid;
		}
		if (o && o->clamp_mtime && n->mtime_sec > o->source_date_epoch) {
			n->mtime_sec = o->source_date_epoch;
			n->mtime_nsec = 0;
		}
	}
	group_hard_links(t);
	t->n_inodes = 0;
	t->total_bytes = 0;
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tree_node *n = t->nodes[i];

		if (n->hardlink)
			continue;
		t->n_inodes++;
		if (n->type == TREE_REG)
			t->total_bytes += n->size;
	}
	return 0;
}
