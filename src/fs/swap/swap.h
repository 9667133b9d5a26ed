/* Linux swap areas: the version 1 header mkswap (util-linux) writes in the first page, and
 * reading it back. See docs/formats/swap.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;

#define SWAP_PAGE_SIZE 4096u     /* what we write: mkswap's page size on x86-64 and aarch64 */
#define SWAP_MIN_PAGES 10u       /* mkswap refuses fewer ("at least 40 KiB") */
#define SWAP_MAX_BADPAGES 637u   /* the kernel's MAX_SWAP_BADPAGES for 4 KiB pages */
/* mkswap -L and swaplabel keep a NUL in the 16-byte field (blkid reads all 16) */
#define SWAP_LABEL_MAX 15u

/* Header fields, at byte offsets of the first page (host struct swap_header_v1_2). */
enum {
	SWAP_HDR_VERSION = 1024,     /* le32: 1 */
	SWAP_HDR_LAST_PAGE = 1028,   /* le32: pages - 1 */
	SWAP_HDR_NR_BADPAGES = 1032, /* le32 */
	SWAP_HDR_UUID = 1036,        /* 16 bytes, RFC 4122 order */
	SWAP_HDR_LABEL = 1052,       /* 16 bytes, NUL-padded (not always terminated) */
	SWAP_HDR_BADPAGES = 1536,    /* le32 each */
	SWAP_HDR_END = 1536,         /* what the header proper spans: bootbits, fields, padding */
	SWAP_MAGIC_LEN = 10,         /* "SWAPSPACE2" in the page's last 10 bytes */
};

struct swap_header {
	uint32_t page_size;
	uint32_t last_page;
	uint32_t nr_badpages;
	uint8_t uuid[16];
	char label[17];
	bool big_endian; /* read back only: written on a big-endian host */
};

/* The first page of a swap area of size bytes (whole pages of SWAP_PAGE_SIZE; past 2^32 pages
 * the last_page field holds the largest it can). label up to SWAP_LABEL_MAX bytes. */
void swap_header_encode(uint8_t page[SWAP_PAGE_SIZE], uint64_t size,
			const uint8_t uuid[16], const char *label);
/* Recognise a swap area at the start of a partition of size bytes: read reads [off, off +
 * len) of it. 1 and *ret when found, 0 when not, -EBADMSG naming the field when its header is
 * inconsistent (the input is hostile). */
int swap_header_probe(int (*read)(void *ctx, uint64_t off, void *buf, size_t len,
				  struct diag *d),
		      void *ctx, uint64_t size, struct diag *d, struct swap_header *ret);
