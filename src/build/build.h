/* The build library: spec → trees → filesystem, boot and partition plans → disk plan → one sink.
 *
 * build_plan() decides everything (sizes, offsets, identifiers, bootloader files; grub-mkimage
 * runs here) and opens no output; build_emit() writes the image (and efi-vars.fd) and commits
 * them. Neither prints: what the CLI shows comes from struct build_plan and struct
 * build_result. The environment is read once, by build_env_read(), and passed in. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/fs.h"
#include "part/part.h"
#include "util/cleanup.h"

struct diag;
struct image_spec;

/* Everything the environment contributes to a build (or a conversion). */
struct build_env {
	bool has_epoch;            /* SOURCE_DATE_EPOCH set (and not empty) */
	int64_t source_date_epoch; /* clamps file times; the sinks' timestamp */
	bool stderr_is_tty;        /* the default of --progress */
	const char *tmp_dir;       /* $TMPDIR or /tmp: grub-mkimage's files */
	const char *search_root;   /* $MKDISKIMAGE_SEARCH_ROOT or NULL: prefixes the default
				    * places of loaders and firmware files (boot/find.h), for tests */
};

/* Read SOURCE_DATE_EPOCH, TMPDIR, MKDISKIMAGE_SEARCH_ROOT and whether stderr is a terminal. -EINVAL naming the value
 * when SOURCE_DATE_EPOCH is not a number of seconds. */
int build_env_read(struct build_env *ret, struct diag *d);

/* ids.c: the sink's parameters from a spec's format options, its identifiers from seed, the
 * timestamp from the environment (build, and convert with a spec of its flags). */
struct format_params;
void build_format_params(const struct image_spec *s, const struct build_env *env,
			 const char *seed, uint64_t disk_bytes, struct format_params *ret);

/* "Automatic disk size..." (diskSize auto): how the size came about. */
struct build_auto_size {
	uint64_t contents_bytes;   /* the root tree's file bytes */
	uint64_t root_bytes;       /* root filesystem: contents, metadata, journal, reserve */
	uint64_t additional_bytes; /* additionalSpace (included in root_bytes) */
	uint64_t other_bytes;      /* partition table and other partitions */
	uint64_t disk_bytes;
};

/* A FAT filesystem (ESP, XBOOTLDR, BOOT, a list's vfat partitions). */
struct build_fat_stats {
	bool present;
	const char *label; /* "ESP", "BOOT", ... */
	unsigned fat_bits; /* 12, 16, 32 */
	uint64_t offset, size_bytes, cluster_bytes;
	uint64_t n_clusters, free_clusters;
};

#define BUILD_MAX_WARNINGS 4
#define BUILD_MAX_BOOT_FS 8

struct build_plan_state; /* private to build/: trees, plans, the sink's parameters */

struct build_plan {
	/* what will be written */
	const char *output;       /* the image file (or device) */
	const char *format;       /* spec format name */
	bool output_device;       /* written in place onto a block device */
	const char *efi_vars_out; /* efi-vars.fd (touchEFIVars), NULL: none */

	struct part_layout layout; /* disk size, partitions and their identifiers */
	uint8_t root_fs_uuid[16];
	const char *root_label;
	bool has_root;            /* a "partitions" list may have no root filesystem */
	struct fs_stats root_stats;
	struct build_fat_stats boot_fs[BUILD_MAX_BOOT_FS]; /* the FAT ones, partition order */
	size_t n_boot_fs;
	bool auto_sized;                   /* diskSize auto: auto_size is filled */
	struct build_auto_size auto_size;
	bool grub_bios, grub_efi, systemd_boot; /* the loaders installed */

	/* the emit loop's totals, for a progress display */
	uint64_t emit_bytes, emit_files;

	/* things the user should know (e.g. a hybrid image that will not boot under BIOS) */
	const char *warnings[BUILD_MAX_WARNINGS];
	size_t n_warnings;

	double start;                     /* progress_now() when planning began */
	double scan_seconds, plan_seconds; /* the tree scan; everything else before emission */

	struct build_plan_state *state;
};

/* Plan the image s describes (s validated by spec_validate(); it must outlive the plan). */
int build_plan(const struct image_spec *s, const struct build_env *env, struct diag *d,
	       struct build_plan **ret);
struct build_plan *build_plan_free(struct build_plan *p);
DEFINE_CLEANUP_FUNC(struct build_plan, build_plan_free)

/* Called as emission goes on (bytes and files done so far). */
struct build_progress {
	void (*update)(void *ctx, uint64_t bytes_done, uint64_t bytes_total, uint64_t files_done);
	void *ctx;
};

struct build_result {
	bool committed; /* the image is in place (even when something failed after it) */
	double emit_seconds, total_seconds;
};

/* Write the planned image and efi-vars.fd, each under a temporary name renamed into place
 * when complete (the image first). Sets ret->committed as soon as the image is in place, also
 * when the call then fails; ret is written on failure too. Call once per plan. */
int build_emit(struct build_plan *p, const struct build_progress *progress, struct diag *d,
	       struct build_result *ret);
