/* tar headers (POSIX ustar, IEEE 1003.1-2001 "pax" section "ustar Interchange Format", and GNU
 * tar's oldgnu sparse members, GNU tar manual "Basic Tar Format" and "Old GNU Format"), for the
 * gce and ova sinks and their readers. Blocks of 512 bytes; numbers in octal, or in GNU's
 * base-256 (first byte 0x80, then big-endian) when octal does not fit. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;

#define TAR_BLOCK 512u
/* Sparse map entries in the oldgnu header, and in each extension block after it. */
#define TAR_GNU_SPARSE_IN_HEADER 4u
#define TAR_GNU_SPARSE_IN_EXT 21u

enum {
	TAR_NAME = 0,       /* 100 */
	TAR_MODE = 100,     /* 8, octal */
	TAR_UID = 108,      /* 8 */
	TAR_GID = 116,      /* 8 */
	TAR_SIZE = 124,     /* 12: bytes stored after the header(s) */
	TAR_MTIME = 136,    /* 12 */
	TAR_CHKSUM = 148,   /* 8: "%06o\0 " of the header summed with this field as spaces */
	TAR_TYPEFLAG = 156, /* '0' regular, 'S' GNU sparse */
	TAR_LINKNAME = 157, /* 100 */
	TAR_MAGIC = 257,    /* 6: "ustar\0" (POSIX) or "ustar " (GNU) */
	TAR_VERSION = 263,  /* 2: "00" (POSIX) or " \0" (GNU) */
	TAR_UNAME = 265,    /* 32 */
	TAR_GNAME = 297,    /* 32 */
	TAR_DEVMAJOR = 329, /* 8 */
	TAR_DEVMINOR = 337, /* 8 */
	TAR_PREFIX = 345,   /* 155 (POSIX) */
	/* oldgnu, over POSIX's prefix */
	TAR_GNU_SPARSE = 386,     /* 4 entries of { offset[12], numbytes[12] } */
	TAR_GNU_ISEXTENDED = 482, /* 1: an extension block follows */
	TAR_GNU_REALSIZE = 483,   /* 12: the file's size */
	/* an extension block: 21 entries, then isextended at 504 */
	TAR_GNU_EXT_ISEXTENDED = 504,
	TAR_SPARSE_ENTRY = 24,
};

struct tar_extent {
	uint64_t off, len;
};

struct tar_member {
	const char *name; /* at most 99 bytes */
	uint64_t size;    /* the file's size (realsize for a sparse member) */
	int64_t mtime;
	uint32_t mode;
	/* GNU sparse: the data extents, ascending, not overlapping, inside size; stored data is
	 * their sum. NULL: a regular member, all size bytes stored. */
	const struct tar_extent *extents;
	size_t n_extents;
};

/* Number of 512-byte blocks of headers m needs (1, plus sparse extension blocks). */
size_t tar_header_blocks(const struct tar_member *m);
/* Bytes stored after the headers (before padding to a block). */
uint64_t tar_member_data_size(const struct tar_member *m);
/* Encodes m's headers into buf (tar_header_blocks(m) * 512 bytes): a ustar header (owner 0/0,
 * names "root") or, with extents, an oldgnu 'S' header with its extension blocks. A sparse
 * member ending in a hole gets GNU tar's closing { size, 0 } entry. */
void tar_header_encode(uint8_t *buf, const struct tar_member *m);

/* A decoded header of a regular or sparse member (tar_header_decode). */
struct tar_entry {
	char name[101];
	char typeflag;
	uint64_t size;     /* stored bytes */
	uint64_t realsize; /* sparse: the file's size; else size */
	bool sparse;
	bool extended; /* sparse: extension blocks follow */
	struct tar_extent map[TAR_GNU_SPARSE_IN_HEADER];
	size_t n_map;
};

/* A number field (octal or base-256); -EBADMSG when malformed or past 2^63. */
int tar_number_decode(const uint8_t *p, size_t len, uint64_t *ret);
/* Checks the checksum and decodes one header block; 0: an end-of-archive (all-zero) block,
 * 1: a header; -EBADMSG naming the field. */
int tar_header_decode(const uint8_t *b, struct tar_entry *ret, struct diag *d);
/* Decodes an oldgnu extension block's entries into map (up to 21, stopping at the first
 * empty one); *ret_more: another extension block follows. */
int tar_sparse_ext_decode(const uint8_t *b, struct tar_extent *map, size_t *ret_n,
			  bool *ret_more, struct diag *d);
