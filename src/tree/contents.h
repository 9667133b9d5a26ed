/* make-disk-image's `contents`: {source, target, mode, user, group} entries. */
#pragma once

#include <stddef.h>

struct diag;
struct tree;

struct contents_entry {
	char *source;
	char *target;
	char *mode;  /* "755", "0644", or NULL */
	char *user;  /* name or numeric id, or NULL */
	char *group; /* name or numeric id, or NULL */
};

/* Free n entries (every string) and the array. */
void contents_entries_free(struct contents_entry *e, size_t n);
/* Free n strings and the array (a partition's MakeDirectories=, ...). */
void strings_free(char **v, size_t n);

/* Apply entries in order with make-disk-image's semantics: a directory source is copied *to*
 * the target, a file to the target path, a source containing '*' is globbed and each match
 * copied *into* the target directory. Users and groups resolve against the tree's own
 * /etc/passwd and /etc/group (or are numeric). Errors: a target that escapes the root with
 * "..", a duplicate target, user without group (or the reverse), a missing source, an
 * unknown user. */
int contents_apply(struct tree *t, const struct contents_entry *e, size_t n, struct diag *d);

/* Host files that resolve user and group names instead of the image's (--passwd FILE,
 * --group FILE): a NixOS image has no /etc/passwd before its first boot. NULL: the image's. */
struct contents_ids {
	const char *passwd;
	const char *group;
};
/* contents_apply, with names resolved through ids (NULL: as contents_apply). */
int contents_apply_ids(struct tree *t, const struct contents_entry *e, size_t n,
		       const struct contents_ids *ids, struct diag *d);
