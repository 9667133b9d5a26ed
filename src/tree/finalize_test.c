#include "tree/tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tree/tree-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/test.h"

static struct tree_node *add_host_like(struct tree *t, const char *path, uint64_t ino,
				       uint32_t scope, uint64_t size)
{
	struct diag d = { 0 };
	struct tree_node *n;

	if (tree_add_data(t, path, "", 0, 0644, 1000, 100, 2000000000, &d) < 0)
		abort();
	n = tree_lookup(t, path);
	n->src_data = NULL;
	n->size = size;
	tree_add_host_id(t, n, 7, ino, scope);
	n->owner_from_host = true;
	n->mtime_nsec = 123;
	return n;
}

TEST(preorder_indices_and_counts)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct diag d = { 0 };
	const char *want[] = { "/", "/a", "/a/x", "/a/y", "/b", "/b/z" };

	ASSERT_OK(tree_add_data(t, "/b/z", "12345", 5, 0644, 0, 0, 0, &d));
	ASSERT_OK(tree_add_data(t, "/a/y", "12", 2, 0644, 0, 0, 0, &d));
	ASSERT_OK(tree_add_data(t, "/a/x", "1", 1, 0644, 0, 0, 0, &d));
	ASSERT_OK(tree_finalize(t, NULL, &d));
	ASSERT_EQ(t->n_nodes, ARRAY_SIZE(want));
	for (size_t i = 0; i < t->n_nodes; i++) {
		_cleanup_free_ char *p = tree_node_path(t->nodes[i]);

		ASSERT_STR_EQ(p, want[i]);
		ASSERT_EQ(t->nodes[i]->index, i);
	}
	ASSERT_EQ(t->n_inodes, 6);
	ASSERT_EQ(t->total_bytes, 8);
}

TEST(hand_appended_children_get_sorted)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct diag d = { 0 };
	struct tree_node *kids[3];

	kids[0] = tree_node_alloc(t, "b", 1, TREE_FIFO);
	kids[1] = tree_node_alloc(t, "B", 1, TREE_FIFO);
	kids[2] = tree_node_alloc(t, "a", 1, TREE_FIFO);
	t->root->children = kids;
	t->root->n_children = 3;
	ASSERT_OK(tree_finalize(t, NULL, &d));
	ASSERT_STR_EQ(t->nodes[1]->name, "B");
	ASSERT_STR_EQ(t->nodes[2]->name, "a");
	ASSERT_STR_EQ(t->nodes[3]->name, "b");
	ASSERT_TRUE(t->nodes[3]->parent == t->root);
	kids[0] = tree_node_alloc(t, "a", 1, TREE_FIFO);
	kids[1] = tree_node_alloc(t, "b", 1, TREE_FIFO);
	kids[2] = tree_node_alloc(t, "a", 1, TREE_FIFO);
	ASSERT_ERR(tree_finalize(t, NULL, &d), -EEXIST);
	ASSERT_TRUE(strstr(d.msg, "/a") != NULL);
	t->root->n_children = 0;
}

TEST(source_date_epoch_clamps_only_later_times)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct tree_finalize_opts o = { .clamp_mtime = true, .source_date_epoch = 1000 };
	struct diag d = { 0 };
	struct tree_node *early, *late;

	ASSERT_OK(tree_add_data(t, "/early", "", 0, 0644, 0, 0, 999, &d));
	ASSERT_OK(tree_add_data(t, "/late", "", 0, 0644, 0, 0, 5000, &d));
	early = tree_lookup(t, "/early");
	late = tree_lookup(t, "/late");
	early->mtime_nsec = 77;
	late->mtime_nsec = 77;
	late->src_stamp = 5000;
	ASSERT_OK(tree_finalize(t, &o, &d));
	ASSERT_EQ(early->mtime_sec, 999);
	ASSERT_EQ(early->mtime_nsec, 77);
	ASSERT_EQ(late->mtime_sec, 1000);
	ASSERT_EQ(late->mtime_nsec, 0);
	ASSERT_EQ(late->src_stamp, 5000); /* the -ESTALE check still sees the host file */
}

TEST(owner_mapping_touches_host_owned_nodes_only)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct tree_finalize_opts o = { .map_owner = true, .owner_uid = 0, .owner_gid = 0 };
	struct diag d = { 0 };
	struct tree_node *host, *explicit;

	host = add_host_like(t, "/host", 0, 1, 0);
	ASSERT_OK(tree_add_data(t, "/explicit", "", 0, 0644, 33, 44, 0, &d));
	explicit = tree_lookup(t, "/explicit");
	ASSERT_OK(tree_finalize(t, &o, &d));
	ASSERT_EQ(host->uid, 0);
	ASSERT_EQ(host->gid, 0);
	ASSERT_EQ(explicit->uid, 33);
	ASSERT_EQ(explicit->gid, 44);
}

TEST(hard_links_group_by_dev_ino_within_one_scan)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct diag d = { 0 };
	struct tree_node *a, *b, *c, *other_scope, *lone;

	/* Added out of order: the primary is the first in preorder, not the first added. */
	c = add_host_like(t, "/z/c", 55, 1, 100);
	a = add_host_like(t, "/a", 55, 1, 100);
	b = add_host_like(t, "/m/b", 55, 1, 100);
	other_scope = add_host_like(t, "/q", 55, 2, 100);
	lone = add_host_like(t, "/r", 56, 1, 10);
	ASSERT_OK(tree_finalize(t, NULL, &d));
	ASSERT_TRUE(a->hardlink == NULL);
	ASSERT_TRUE(b->hardlink == a);
	ASSERT_TRUE(c->hardlink == a);
	ASSERT_EQ(a->n_links, 3);
	ASSERT_EQ(b->n_links, 3);
	ASSERT_TRUE(other_scope->hardlink == NULL);
	ASSERT_EQ(other_scope->n_links, 1);
	ASSERT_TRUE(lone->hardlink == NULL);
	ASSERT_EQ(lone->n_links, 1);
	/* root, a, m, m/b, q, r, z, z/c: 8 nodes, 6 inodes; bytes: a, q, r */
	ASSERT_EQ(t->n_nodes, 8);
	ASSERT_EQ(t->n_inodes, 6);
	ASSERT_EQ(t->total_bytes, 210);
	/* finalize twice gives the same answer */
	ASSERT_OK(tree_finalize(t, NULL, &d));
	ASSERT_EQ(a->n_links, 3);
	ASSERT_EQ(t->n_inodes, 6);
}

TEST(many_hard_link_groups)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct diag d = { 0 };
	char p[64];

	for (unsigned i = 0; i < 20000; i++) {
		snprintf(p, sizeof(p), "/d%u/f%05u", i % 2, i / 2);
		add_host_like(t, p, 1000 + i / 2, 1, 1);
	}
	ASSERT_OK(tree_finalize(t, NULL, &d));
	ASSERT_EQ(t->n_nodes, 20003);
	ASSERT_EQ(t->n_inodes, 3 + 10000);
	ASSERT_EQ(t->total_bytes, 10000);
	for (unsigned i = 0; i < 10000; i++) {
		snprintf(p, sizeof(p), "/d1/f%05u", i);
		struct tree_node *n = tree_lookup(t, p);

		snprintf(p, sizeof(p), "/d0/f%05u", i);
		ASSERT_TRUE(n->hardlink == tree_lookup(t, p));
	}
}
