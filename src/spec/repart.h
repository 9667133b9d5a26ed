/* systemd-repart partition definitions (repart.d/NAME.conf), as systemd-repart 252 reads them
 * with --empty=create: the parser of one file (repart-parse.c), the placement and identifiers
 * of the whole list (repart-layout.c), and the loader that turns them into the spec's
 * "partitions" (repart.c). See docs/repart.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "part/part.h"
#include "part/types.h"
#include "tree/contents.h"

struct diag;

#define REPART_UNSET UINT64_MAX
#define REPART_LABEL_MAX 36         /* GPT partition name: 36 UTF-16 units */
#define REPART_FILE_MAX (1u << 20)  /* a definition file's bytes */
#define REPART_LIST_MAX 256u        /* CopyFiles= / MakeDirectories= entries per file */

enum repart_minimize {
	REPART_MINIMIZE_OFF,
	REPART_MINIMIZE_BEST,
	REPART_MINIMIZE_GUESS,
};

/* One definition file, as repart's struct Partition keeps it (the keys we support). */
struct repart_part {
	char *file;                /* its name, for messages ("20-root.conf") */
	bool type_set;
	struct part_dps_type type; /* Type= */
	char *label;               /* Label= (NULL: the type's name, deduplicated) */
	bool uuid_set;             /* UUID= */
	uint8_t uuid[16];
	int32_t priority;          /* Priority= */
	uint32_t weight, padding_weight;  /* Weight= (1000), PaddingWeight= (0) */
	uint64_t size_min, size_max;      /* SizeMinBytes= (rounded up to 4096), SizeMaxBytes=
					   * (down); REPART_UNSET */
	uint64_t padding_min, padding_max;
	char *format;              /* Format=: ext4, vfat, swap, erofs; NULL none */
	struct contents_entry *copies; /* CopyFiles=SRC[:DST] */
	size_t n_copies;
	char **mkdirs;             /* MakeDirectories= */
	size_t n_mkdirs;
	enum repart_minimize minimize; /* Minimize= */
	int read_only, no_auto, growfs; /* ReadOnly=, NoAuto=, GrowFileSystem=: -1 unset */
	bool factory_reset;        /* FactoryReset= (nothing to reset on a new disk) */
	uint64_t flags;            /* Flags= */

	/* repart-layout.c */
	bool dropped;              /* did not fit: dropped by Priority= */
	uint64_t offset, new_size, new_padding; /* bytes */
	uint64_t content_bytes;    /* Minimize=: what the contents need at least (0: unknown) */
	char *new_label;           /* the GPT name written */
	uint8_t new_uuid[16];      /* the PARTUUID written */
	uint8_t fs_uuid[16];       /* the filesystem's: HMAC(new_uuid, "file-system-uuid") */
	uint64_t attributes;       /* the GPT attribute bits written */
};

void repart_part_init(struct repart_part *p);
void repart_part_free(struct repart_part *p);

/* Parse one definition file's text into *p (initialised by repart_part_init). `file` names it
 * in messages: "FILE:LINE: Key=value: what is wrong (the fix)". -EINVAL for a bad line, key,
 * value or section; -ENOTSUP for a repart key we do not implement (CopyBlocks=, Encrypt=,
 * Verity=, ...). Also checks the file as a whole (Type= given, SizeMin <= SizeMax, ...). */
int repart_parse(const char *file, const char *text, size_t len, enum part_arch native,
		 struct repart_part *p, struct diag *d);

/* Place the partitions as repart does on an empty disk of disk_bytes (0: repart's
 * --size=auto, rounded up to a whole MiB): 4 KiB grain, first byte at 1 MiB, free space
 * shared by Weight=/PaddingWeight= within SizeMin/Max and PaddingMin/Max, partitions of the
 * highest Priority= dropped while they do not fit. Fills offset, new_size, new_padding and
 * dropped; *ret_disk_bytes is the disk's size. -ENOSPC when they cannot fit. */
int repart_place(struct repart_part *p, size_t n, uint64_t disk_bytes, struct diag *d,
		 uint64_t *ret_disk_bytes);

/* repart's identifiers from its 128-bit seed: partition UUIDs (HMAC-SHA256(seed, type UUID
 * [|| le64 counter])), default labels (the type's name, "-2", "-3", ... when taken),
 * filesystem UUIDs, GPT attribute bits; and the disk GUID (HMAC(seed, "disk-uuid")). */
void repart_ids(struct repart_part *p, size_t n, const uint8_t seed[16], uint8_t disk_uuid[16]);
/* HMAC-SHA256(key, token) made a v4 UUID: repart's derive_uuid(). */
void repart_derive_uuid(const uint8_t key[16], const char *token, uint8_t out[16]);
