/* mkdiskimage resize: growing a disk image offline, in any format we read and write, without
 * root or a VM: the virtual size, the partition table (GPT backup moved to the new end), the
 * last (or a named) partition and the filesystem in it. Every change is first recorded in
 * memory (resize/view.h), then committed at once (resize/commit.h): in place for raw files, by
 * rewriting through the format's own sink for the others. See docs/resize.md. Silent: the
 * result says what was done, cli/resize.c prints it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "part/part.h"
#include "resize/fs.h"
#include "resize/table.h"

struct diag;

struct resize_params {
	const char *path;
	const char *format;  /* the input's format; NULL: detected */
	uint64_t size;       /* bytes: the new size, or with relative what to add */
	bool relative;
	uint32_t partition;  /* 0: the last one */
	const char *seed;    /* VDI/VHD identifiers of a rewritten image (format_params.seed) */
	int64_t timestamp;   /* VHD creation time of a rewritten image */
	unsigned n_threads;  /* compression workers of a rewritten compressed qcow2; 0: per core */
};

struct resize_result {
	const char *format; /* the image's format ("raw", "qcow2", ...), static */
	const char *sink;   /* the format it was written with (qcow2-compressed, ...), static */
	bool in_place;      /* raw: changed in place; else rewritten */
	bool nothing;       /* already that size with nothing to grow: nothing was written */
	uint64_t old_size, new_size;
	uint64_t asked_size; /* before rounding up to whole MiB */
	enum part_probe_kind table;
	struct resize_part part;
	struct resize_fs fs;
	char kept[160];           /* the format options kept, "" when none */
	uint64_t changed_bytes;   /* metadata bytes written (the overlay) */
};

/* Grow p->path. Refusals (-EINVAL, one line naming the image): a size below the current one,
 * a partition that cannot grow; on any failure or interrupt the image is as it was. */
int resize_image(const struct resize_params *p, struct diag *d, struct resize_result *ret);

/* SIZE as `resize` takes it: a size as everywhere (size_parse_mib: "100G", "2048" = MiB) or
 * "+N" to add N. -EINVAL when malformed or zero, -ERANGE past 2^64. */
int resize_size_parse(const char *s, uint64_t *ret, bool *ret_relative);
