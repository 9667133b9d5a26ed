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

static int host_id_cmp(const void *a, const void *b)
{
	const struct tree_host_id *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->scope != y->scope)
		return x->scope < y->scope ? -1 : 1;
	return x->node->index < y->node->index ? -1 : x->node->index > y->node->index;
}

/* Names with one (dev, ino, scope) share an inode; the first name in preorder becomes the
 * primary. The host identities are only needed here: freed afterwards, so a second
 * tree_finalize keeps the groups it finds. */
static void group_hard_links(struct tree *t)
{
	struct tree_host_id *ids = t->host_ids;
	size_t n = t->n_host_ids;

	if (!ids)
		return;
	for (size_t i = 0; i < t->n_nodes; i++) {
		t->nodes[i]->hardlink = NULL;
		t->nodes[i]->n_links = 1;
	}
	qsort(ids, n, sizeof(*ids), host_id_cmp);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && ids[j].dev == ids[i].dev && ids[j].ino == ids[i].ino &&
				ids[j].scope == ids[i].scope;
		     j++)
			;
		for (size_t k = i; k < j; k++) {
			ids[k].node->hardlink = k == i ? NULL : ids[i].node;
			ids[k].node->n_links = (uint32_t)(j - i);
		}
	}
	free(t->host_ids);
	t->host_ids = NULL;
	t->n_host_ids = t->cap_host_ids = 0;
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
