/* qcow2 internals shared by the sink (qcow2.c), the reader (reader.c) and the codecs.
 * Layout and choices: docs/formats/qcow2.md. Specification: QEMU docs/interop/qcow2.txt. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/format.h"

struct diag;

/* Header, big-endian (qcow2.txt "Header"). */
enum {
	QCOW2_HDR_MAGIC = 0,                   /* be32 "QFI\xfb" */
	QCOW2_HDR_VERSION = 4,                 /* be32: 2 or 3 */
	QCOW2_HDR_BACKING_FILE_OFFSET = 8,     /* be64 */
	QCOW2_HDR_BACKING_FILE_SIZE = 16,      /* be32 */
	QCOW2_HDR_CLUSTER_BITS = 20,           /* be32 */
	QCOW2_HDR_SIZE = 24,                   /* be64: virtual size in bytes */
	QCOW2_HDR_CRYPT_METHOD = 32,           /* be32 */
	QCOW2_HDR_L1_SIZE = 36,                /* be32: entries */
	QCOW2_HDR_L1_TABLE_OFFSET = 40,        /* be64 */
	QCOW2_HDR_REFCOUNT_TABLE_OFFSET = 48,  /* be64 */
	QCOW2_HDR_REFCOUNT_TABLE_CLUSTERS = 56, /* be32 */
	QCOW2_HDR_NB_SNAPSHOTS = 60,           /* be32 */
	QCOW2_HDR_SNAPSHOTS_OFFSET = 64,       /* be64 */
	QCOW2_HDR_V2_SIZE = 72,
	/* version 3 */
	QCOW2_HDR_INCOMPATIBLE_FEATURES = 72,  /* be64 */
	QCOW2_HDR_COMPATIBLE_FEATURES = 80,    /* be64 */
	QCOW2_HDR_AUTOCLEAR_FEATURES = 88,     /* be64 */
	QCOW2_HDR_REFCOUNT_ORDER = 96,         /* be32 */
	QCOW2_HDR_HEADER_LENGTH = 100,         /* be32 */
	QCOW2_HDR_V3_SIZE = 104,
	QCOW2_HDR_COMPRESSION_TYPE = 104,      /* u8, then 7 bytes of padding */
	QCOW2_HDR_V3_COMPRESSION_SIZE = 112,
};

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)

#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_DEFAULT_CLUSTER_SIZE (64u << 10)
/* qemu refuses larger L1 tables (QCOW_MAX_L1_SIZE); so do we, which bounds reader memory. */
#define QCOW2_MAX_L1_BYTES (32u << 20)

enum qcow2_compression_type {
	QCOW2_COMPRESSION_ZLIB = 0,
	QCOW2_COMPRESSION_ZSTD = 1,
	/* not a qcow2 value: deflate in a zlib stream (RFC 1950), VMDK's compressed grains
	 * (format/vmdk.c); compressed by libdeflate, inflated by zlib with its 32 KiB window */
	QCOW2_COMPRESSION_ZLIB_STREAM = 0x100,
};

struct qcow2_header {
	uint32_t version;
	uint64_t backing_file_offset;
	uint32_t backing_file_size;
	uint32_t cluster_bits;
	uint64_t size;
	uint32_t crypt_method;
	uint32_t l1_size;
	uint64_t l1_table_offset;
	uint64_t refcount_table_offset;
	uint32_t refcount_table_clusters;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	uint64_t incompatible_features;
	uint64_t compatible_features;
	uint64_t autoclear_features;
	uint32_t refcount_order;
	uint32_t header_length;
	uint8_t compression_type;
};

/* header.c */
/* Writes header_length bytes (104 or 112) plus the 8-byte end-of-extensions marker into p, which
 * must hold QCOW2_HDR_V3_COMPRESSION_SIZE + 8 bytes. */
void qcow2_header_encode(uint8_t *p, const struct qcow2_header *h);
/* Decodes and checks every field against file_size; -EBADMSG naming the field, -ENOTSUP for
 * valid features we do not read (backing files, encryption, external data, snapshots are
 * ignored). */
int qcow2_header_decode(const uint8_t *p, size_t len, uint64_t file_size, struct diag *d,
			struct qcow2_header *ret);
/* Entries of L1 needed for a disk of size bytes with 2^cluster_bits clusters. */
uint64_t qcow2_l1_entries(uint64_t size, unsigned cluster_bits);

/* l2.c: table entries (qcow2.txt "Cluster mapping"). */
#define QCOW2_OFLAG_COPIED (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO (1ull << 0)
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull

enum qcow2_cluster_type {
	QCOW2_CLUSTER_UNALLOCATED,
	QCOW2_CLUSTER_ZERO,
	QCOW2_CLUSTER_NORMAL,
	QCOW2_CLUSTER_COMPRESSED,
};

struct qcow2_cluster {
	enum qcow2_cluster_type type;
	uint64_t host_off; /* NORMAL: cluster-aligned; COMPRESSED: byte offset */
	uint64_t host_len; /* COMPRESSED: bytes qemu reads (sector-rounded end) */
};

uint64_t qcow2_l2_entry_normal(uint64_t host_off);
/* len: compressed bytes at host_off (1 <= len < 2^cluster_bits). */
uint64_t qcow2_l2_entry_compressed(unsigned cluster_bits, uint64_t host_off, uint64_t len);
/* version: 2 has no zero flag. -EBADMSG on reserved bits or a misaligned offset. */
int qcow2_l2_entry_decode(uint64_t e, unsigned cluster_bits, uint32_t version,
			  struct qcow2_cluster *ret);

/* The sink's map of allocated guest clusters, in ascending guest order. */
struct qcow2_l2_map {
	uint64_t *guest_clus;
	uint64_t *entry;
	size_t n, cap;
};

void qcow2_l2_map_add(struct qcow2_l2_map *m, uint64_t guest_clus, uint64_t entry);
void qcow2_l2_map_free(struct qcow2_l2_map *m);
/* Number of L2 tables that hold at least one allocated entry. */
uint64_t qcow2_l2_map_n_tables(const struct qcow2_l2_map *m, unsigned cluster_bits);
/* Writes the L2 tables from host offset l2_off (one cluster each, in L1 order) and the L1 table
 * of l1_size entries at l1_off. */
int qcow2_l2_map_write(const struct qcow2_l2_map *m, unsigned cluster_bits, int fd,
		       uint64_t l2_off, uint64_t l1_off, uint32_t l1_size);

/* refcount.c: 16-bit refcounts (refcount_order 4). */
struct qcow2_refcount_layout {
	uint64_t n_blocks;       /* refcount blocks */
	uint64_t table_clusters; /* refcount table */
};

/* Smallest layout whose blocks and table, placed after n_clus other host clusters, cover
 * every host cluster including themselves. */
void qcow2_refcount_layout(uint64_t n_clus, unsigned cluster_bits,
			   struct qcow2_refcount_layout *ret);
/* Writes n_blocks refcount blocks at blocks_off, then the table. Host clusters [0, n_data)
 * have refcounts data_rc[i]; every later cluster up to the end of the table has refcount 1. */
int qcow2_refcount_write(const uint16_t *data_rc, uint64_t n_data, uint64_t n_clus_total,
			 const struct qcow2_refcount_layout *l, unsigned cluster_bits, int fd,
			 uint64_t blocks_off);

/* compress.c: the only user of zlib's deflate and of zstd. */
struct qcow2_codec;

struct qcow2_codec *qcow2_codec_new(enum qcow2_compression_type type);
/* Compression level for the codec's algorithm (libdeflate 1-12, zstd 1-22); 0: the default,
 * QCOW2_DEFLATE_LEVEL or QCOW2_ZSTD_LEVEL. Set before the first compress call. */
void qcow2_codec_set_level(struct qcow2_codec *c, int level);
struct qcow2_codec *qcow2_codec_free(struct qcow2_codec *c);
/* Compressed length into *ret_len, or -ENOSPC when it would not fit in out_cap bytes. */
int qcow2_codec_compress(struct qcow2_codec *c, const void *in, size_t in_len, void *out,
			 size_t out_cap, size_t *ret_len);
/* Fill exactly out_len bytes from in (trailing input ignored, as qemu); -EBADMSG otherwise. */
int qcow2_codec_decompress(struct qcow2_codec *c, const void *in, size_t in_len, void *out,
			   size_t out_len);

/* L2 lookups by the qcow2 reader over the process: a work counter for the unit tests that
 * check a hostile table costs work linear in the file. */
extern uint64_t qcow2_reader_lookups;
