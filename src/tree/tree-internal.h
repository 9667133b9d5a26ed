/* Helpers shared by the tree/ files: the arena that owns every node and string, sorted child
 * insertion, and target-path parsing. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "tree/tree.h"

#define TREE_NAME_MAX 255

/* A scanned node's host identity (only for st_nlink > 1): nodes with equal (dev, ino, scope)
 * are names of one inode. */
struct tree_host_id {
	uint64_t dev, ino;
	struct tree_node *node;
	uint32_t scope;
};

/* Record n's host identity for tree_finalize's hard-link grouping. */
void tree_add_host_id(struct tree *t, struct tree_node *n, uint64_t dev, uint64_t ino,
		      uint32_t scope);

/* Zeroed, 8-byte aligned memory owned by the tree (freed by tree_free only). */
void *tree_alloc(struct tree *t, size_t n);
/* Copy n bytes and a terminating NUL. */
char *tree_strndup(struct tree *t, const char *s, size_t n);

/* A detached node with its name copied (name NULL: the caller points n->name at arena
 * memory itself); n_links = 1. */
struct tree_node *tree_node_alloc(struct tree *t, const char *name, size_t name_len,
				  enum tree_type type);
/* Bytewise name order: memcmp, the shorter name first on a common prefix. */
int tree_name_cmp(const char *a, size_t alen, const char *b, size_t blen);
/* The child of dir called name (binary search), or NULL. */
/* A new node's mode and owner from its source (a stat, a tar entry) and the add options:
 * symlinks are 0777, contents' mode and user/group override the source's. */
void tree_node_set_access(struct tree_node *n, const struct tree_add_opts *o, uint32_t mode,
			  uint32_t uid, uint32_t gid);
struct tree_node *tree_node_child(const struct tree_node *dir, const char *name, size_t len);
/* Insert child into dir at its sorted place; -EEXIST when the name is taken. */
int tree_node_insert(struct tree *t, struct tree_node *dir, struct tree_node *child);
/* Append child to dir without keeping the order (tree_node_sort_children restores it). */
void tree_node_append(struct tree *t, struct tree_node *dir, struct tree_node *child);
/* Sort dir's children bytewise (names must be distinct). */
void tree_node_sort_children(struct tree_node *dir);
/* Drop n's host identity (a node replaced before tree_finalize); linear, for rare use. */
void tree_forget_host_id(struct tree *t, const struct tree_node *n);
/* Set an empty dir's children to a copy of the sorted, distinct array c. */
void tree_node_set_children(struct tree *t, struct tree_node *dir, struct tree_node **c,
			    size_t n);
/* Merge sorted, distinct, not-yet-present children into dir in O(old + new). */
void tree_node_merge(struct tree *t, struct tree_node *dir, struct tree_node **add, size_t n);

/* Split an absolute image path into its parent (created with tree_mkdir_p as 0755 0:0 with
 * mtime `parent_mtime` when missing) and its last component. The root itself has no last
 * component: -EINVAL. "." and ".." components, names over 255 bytes and relative paths are
 * rejected (-EINVAL, -ENAMETOOLONG); a non-directory on the way is -ENOTDIR. */
int tree_parent_of(struct tree *t, const char *path, int64_t parent_mtime,
		   struct tree_node **ret_parent, const char **ret_name, size_t *ret_len);
/* One message for tree_parent_of's errors, naming `path`. */
int tree_path_error(struct diag *d, int err, const char *path);

/* Lexically normalize an absolute image path: collapse slashes, drop ".", apply "..".
 * -EINVAL when relative, -EXDEV when ".." would climb above the root. */
int tree_path_normalize(const char *path, char **ret);

/* The id of `name` in the image's colon-separated database `file` ("/etc/passwd" or
 * "/etc/group": the id is the third field in both), read from the tree node (its generated
 * bytes or host file; symlinks inside the image are followed). -ENOENT when the file is
 * missing, -ESRCH when the name is not in it. */
int passwd_lookup_id(const struct tree *t, const char *file, const char *name,
		     uint32_t *ret_id);
/* As passwd_lookup_id, in a host file: -ESRCH when the name is not in it. */
int passwd_lookup_host(const char *path, const char *name, uint32_t *ret_id);
/* A decimal id (0..4294967294) into *ret; -ERANGE for more digits' worth, -EINVAL for a
 * non-number. */
int passwd_parse_id(const char *s, uint32_t *ret);
