#include "tree/tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tree/tree-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/test.h"

TEST(new_tree_has_root_dir_0755_root_owned)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	_cleanup_free_ char *p = NULL;

	ASSERT_EQ(t->root->type, TREE_DIR);
	ASSERT_EQ(t->root->mode, 0755);
	ASSERT_EQ(t->root->uid, 0);
	ASSERT_EQ(t->root->gid, 0);
	ASSERT_EQ(tree_node_st_mode(t->root), S_IFDIR | 0755);
	ASSERT_TRUE(tree_lookup(t, "/") == t->root);
	p = tree_node_path(t->root);
	ASSERT_STR_EQ(p, "/");
}

TEST(children_sort_bytewise)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct diag d = { 0 };
	const char *names[] = { "/a\xff", "/a", "/B", "/ab", "/\x01", "/A" };
	const char *want[] = { "\x01", "A", "B", "a", "ab", "a\xff" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		ASSERT_OK(tree_add_data(t, names[i], "x", 1, 0644, 0, 0, 0, &d));
	ASSERT_EQ(t->root->n_children, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		ASSERT_STR_EQ(t->root->children[i]->name, want[i]);
	ASSERT_TRUE(tree_name_cmp("a", 1, "ab", 2) < 0);
	ASSERT_TRUE(tree_name_cmp("B", 1, "a", 1) < 0);
	ASSERT_TRUE(tree_name_cmp("a", 1, "a\xff", 2) < 0);
}

TEST(add_data_creates_parents_and_lookup_finds_it)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct diag d = { 0 };
	struct tree_node *n, *etc;
	_cleanup_free_ char *p = NULL;

	ASSERT_OK(tree_add_data(t, "/etc//nixos/x.conf", "hello", 5, 0600, 1, 2, 42, &d));
	n = tree_lookup(t, "/etc/nixos/x.conf");
	ASSERT_TRUE(n != NULL);
	ASSERT_EQ(n->type, TREE_REG);
	ASSERT_EQ(n->size, 5);
	ASSERT_MEM_EQ(n->src_data, "hello", 5);
	ASSERT_EQ(n->mode, 0600);
	ASSERT_EQ(n->uid, 1);
	ASSERT_EQ(n->gid, 2);
	ASSERT_EQ(n->mtime_sec, 42);
	ASSERT_TRUE(!n->owner_from_host);
	p = tree_node_path(n);
	ASSERT_STR_EQ(p, "/etc/nixos/x.conf");
	etc = tree_lookup(t, "/etc");
	ASSERT_TRUE(etc && etc->type == TREE_DIR);
	ASSERT_EQ(etc->mode, 0755);
	ASSERT_EQ(etc->uid, 0);
	ASSERT_TRUE(tree_lookup(t, "/etc/nope") == NULL);
	ASSERT_TRUE(tree_lookup(t, "/etc/nixos/x.conf/y") == NULL);
	ASSERT_TRUE(tree_lookup(t, "etc") == NULL);
}

TEST(add_data_duplicate_is_eexist_naming_path)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct diag d = { 0 };

	ASSERT_OK(tree_add_data(t, "/f", "", 0, 0644, 0, 0, 0, &d));
	ASSERT_ERR(tree_add_data(t, "/f", "", 0, 0644, 0, 0, 0, &d), -EEXIST);
	ASSERT_TRUE(strstr(d.msg, "/f") != NULL);
	ASSERT_ERR(tree_add_data(t, "/f/g", "", 0, 0644, 0, 0, 0, &d), -ENOTDIR);
	ASSERT_TRUE(strstr(d.msg, "/f/g") != NULL);
	ASSERT_ERR(tree_add_data(t, "/", "", 0, 0644, 0, 0, 0, &d), -EINVAL);
	ASSERT_ERR(tree_add_data(t, "rel", "", 0, 0644, 0, 0, 0, &d), -EINVAL);
	ASSERT_ERR(tree_add_data(t, "/a/../b", "", 0, 0644, 0, 0, 0, &d), -EINVAL);
}

TEST(names_up_to_255_bytes)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct diag d = { 0 };
	char path[300];

	path[0] = '/';
	memset(path + 1, 'n', 255);
	path[256] = '\0';
	ASSERT_OK(tree_add_data(t, path, "", 0, 0644, 0, 0, 0, &d));
	ASSERT_EQ(tree_lookup(t, path)->name_len, 255);
	path[256] = 'n';
	path[257] = '\0';
	ASSERT_ERR(tree_add_data(t, path, "", 0, 0644, 0, 0, 0, &d), -ENAMETOOLONG);
	ASSERT_TRUE(strstr(d.msg, "255") != NULL);
}

TEST(mkdir_p_and_symlink)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct diag d = { 0 };
	struct tree_node *n, *n2;

	ASSERT_OK(tree_mkdir_p(t, "/a/b/c", 0700, 5, 6, 7, &n));
	ASSERT_EQ(n->mode, 0700);
	ASSERT_EQ(n->uid, 5);
	ASSERT_OK(tree_mkdir_p(t, "/a/b/c/", 0755, 0, 0, 0, &n2));
	ASSERT_TRUE(n == n2);
	ASSERT_EQ(n2->mode, 0700); /* existing directories are left alone */
	ASSERT_OK(tree_add_symlink(t, "/a/l", "b/c", 0, 0, 0, &d));
	n = tree_lookup(t, "/a/l");
	ASSERT_EQ(n->type, TREE_SYMLINK);
	ASSERT_EQ(n->size, 3);
	ASSERT_STR_EQ(n->link_target, "b/c");
	ASSERT_EQ(tree_node_st_mode(n), S_IFLNK | 0777);
	ASSERT_ERR(tree_mkdir_p(t, "/a/l/x", 0755, 0, 0, 0, NULL), -ENOTDIR);
}

TEST(path_normalize)
{
	char *s = NULL;

	ASSERT_OK(tree_path_normalize("/a//b/./c/../d/", &s));
	ASSERT_STR_EQ(s, "/a/b/d");
	free(s);
	ASSERT_OK(tree_path_normalize("/a/..", &s));
	ASSERT_STR_EQ(s, "/");
	free(s);
	ASSERT_ERR(tree_path_normalize("/../etc", &s), -EXDEV);
	ASSERT_ERR(tree_path_normalize("/a/../../etc", &s), -EXDEV);
	ASSERT_ERR(tree_path_normalize("etc", &s), -EINVAL);
}

TEST(many_children_stay_sorted)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct diag d = { 0 };
	char path[32];

	/* Insert in a scrambled order: i * 7919 mod 5000 visits every value once. */
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(path, sizeof(path), "/d/%05u", (i * 7919) % 5000);
		ASSERT_OK(tree_add_data(t, path, "", 0, 0644, 0, 0, 0, &d));
	}
	struct tree_node *dir = tree_lookup(t, "/d");

	ASSERT_EQ(dir->n_children, 5000);
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(path, sizeof(path), "%05u", i);
		ASSERT_STR_EQ(dir->children[i]->name, path);
		ASSERT_TRUE(dir->children[i]->parent == dir);
	}
}

TEST(strdup_belongs_to_the_tree)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	char *s = tree_strdup(t, "/host/path");
	uint8_t *big = tree_memdup(t, (uint8_t[4]){ 1, 2, 3, 4 }, 4);

	ASSERT_STR_EQ(s, "/host/path");
	ASSERT_MEM_EQ(big, "\x01\x02\x03\x04", 4);
	/* a large block beside the current chunk, then small ones keep filling the chunk */
	ASSERT_TRUE(tree_memdup(t, "", 0) != NULL);
	void *huge = tree_alloc(t, 1 << 20);

	ASSERT_TRUE(mem_is_zero(huge, 1 << 20));
	ASSERT_STR_EQ(tree_strdup(t, "after"), "after");
}

/* 200k-node inputs must stay small: a guard against growing the node by accident. */
TEST(node_stays_within_200_bytes)
{
	ASSERT_TRUE(sizeof(struct tree_node) <= 200);
}
