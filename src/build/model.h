/* The disk model of a spec: the partition requests part/ places (a partitionTableType preset,
 * or the spec's own "partitions" list) and, for each, the filesystem that goes in it and what
 * fills it. The build sizes, plans and emits from this, the same way for every partition. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "part/part.h"
#include "tree/contents.h"
#include "util/cleanup.h"

struct diag;
struct image_spec;

/* One filesystem of the disk: a partition's, or (table none) the whole disk's. */
struct build_volume {
	size_t part;        /* index into the requests (partition number - 1); table none: 0 */
	enum part_role role;
	const char *fs;     /* fs/fs.h handler name: "ext4", "vfat", "swap", "raw", "none" */
	const char *what;   /* in messages: "root filesystem", "ESP", "partition 3" */
	const char *key;    /* identifier derivation: "root", "esp", "xbootldr", "part3" */
	bool image_tree;    /* holds the image's tree (root, closure, contents) */
	const char *contents; /* host directory (ext4, vfat) or file (raw), or NULL; for the
			       * image tree's volume: the staging root instead of "root" */
	const char *label;  /* filesystem label, NULL: the handler's default */
	bool uuid_set;      /* filesystem UUID given */
	uint8_t uuid[16];
	bool sized_by_contents;    /* "auto"/"rest": the contents' need goes into the request */
	uint64_t additional_space; /* free space sizing keeps */
	bool additional_space_given; /* a list entry's own: kept with a fixed diskSize too */
	/* what else fills it (definitions' CopyFiles=, MakeDirectories=; spec-owned) */
	const struct contents_entry *copies;
	size_t n_copies;
	char *const *mkdirs;
	size_t n_mkdirs;
	char what_buf[32], key_buf[32];
};

struct build_model {
	enum part_table table;
	struct part_request *reqs; /* in number order; empty for table none */
	size_t n_reqs;
	struct build_volume *vols; /* in number order; the bare disk's for table none */
	size_t n_vols;
};

/* The model of a validated spec. Strings point into the spec: keep it alive. */
int build_model_from_spec(const struct image_spec *s, struct diag *d, struct build_model **ret);
struct build_model *build_model_free(struct build_model *m);
DEFINE_CLEANUP_FUNC(struct build_model, build_model_free)

/* The volume of a role (the first), NULL when the disk has none. */
const struct build_volume *build_model_find(const struct build_model *m, enum part_role role);
