/* erofs compression (lz4, lz4hc): fixed-output pclusters of one 4 KiB block, as mkfs.erofs
 * makes them (LZ4_compress_destSize / LZ4_compress_HC_destSize fill a block with as much input
 * as fits), and the legacy lcluster index of a COMPRESSED_FULL inode (Linux
 * fs/erofs/erofs_fs.h: struct z_erofs_map_header, struct z_erofs_lcluster_index; zmap.c reads
 * them). The only includer of liblz4.
 *
 * An extent starts where the previous one ended. From start s with r bytes left: r <= 4096
 * is the last extent, stored plain; else the block is filled from a window of at most
 * EROFS_Z_WINDOW bytes; consuming more than 4096 bytes makes a compressed extent, else 4096
 * bytes are stored plain. So every extent but the last covers more than one lcluster's worth
 * and no lcluster holds two extent starts (one index each); the end of the file counts as a
 * start (erofs_z_index_encode). The rule is a pure function of
 * the bytes: plan (which needs the extents' lengths) and emit (which needs the blocks) run it
 * alike, whatever the thread count. Compressed bytes end their block (LZ4_0PADDING: the
 * leading zeros tell the reader where they start). */
#include "fs/erofs/erofs.h"

#include <errno.h>
#include <lz4.h>
#include <lz4hc.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/endian.h"
#include "util/xalloc.h"

struct erofs_z {
	uint8_t alg;
	int level;
	void *hc; /* LZ4HC state */
};

struct erofs_z *erofs_z_new(uint8_t alg, uint32_t level)
{
	struct erofs_z *z = xcalloc(1, sizeof(*z));

	z->alg = alg;
	z->level = level ? (int)level : LZ4HC_CLEVEL_DEFAULT;
	if (alg == EROFS_Z_LZ4HC)
		z->hc = xmalloc((size_t)LZ4_sizeofStateHC());
	return z;
}

struct erofs_z *erofs_z_free(struct erofs_z *z)
{
	if (z) {
		free(z->hc);
		free(z);
	}
	return NULL;
}

size_t erofs_z_block(struct erofs_z *z, const uint8_t *src, size_t r, uint8_t *block,
		     bool *ret_plain)
{
	uint8_t out[EROFS_BS];
	int in = (int)(r < EROFS_Z_WINDOW ? r : EROFS_Z_WINDOW), c;

	memset(block, 0, EROFS_BS);
	if (r > EROFS_BS) {
		if (z->alg == EROFS_Z_LZ4HC)
			c = LZ4_compress_HC_destSize(z->hc, (const char *)src, (char *)out, &in,
						     EROFS_BS, z->level);
		else
			c = LZ4_compress_destSize((const char *)src, (char *)out, &in, EROFS_BS);
		if (c > 0 && in > (int)EROFS_BS) {
			memcpy(block + EROFS_BS - c, out, (size_t)c);
			*ret_plain = false;
			return (size_t)in;
		}
	}
	in = (int)(r < EROFS_BS ? r : EROFS_BS);
	memcpy(block, src, (size_t)in);
	*ret_plain = true;
	return (size_t)in;
}

size_t erofs_z_index_size(uint64_t size)
{
	return EROFS_Z_MAP_HEADER + 8 + 8 * (size_t)DIV_ROUND_UP(size, EROFS_BS);
}

/* Legacy lcluster index types (di_advise bits 0-1). */
enum { Z_PLAIN = 0, Z_HEAD = 1, Z_NONHEAD = 2 };

void erofs_z_index_encode(uint8_t *p, uint64_t size, const uint64_t *ext, uint32_t n,
			  uint32_t blkaddr)
{
	uint64_t nlc = DIV_ROUND_UP(size, EROFS_BS), eof = size / EROFS_BS;
	/* The lcluster holding the end of the file, when the last extent starts before it, gets
	 * a plain head at the end (as mkfs.erofs writes it): the kernel then ends the last
	 * extent there, where it would otherwise take it to the lcluster's end (and refuse a
	 * plain extent longer than its block). */
	bool eof_head = size % EROFS_BS && n && (ext[n - 1] >> 1) / EROFS_BS != eof;

	/* z_erofs_map_header: lz4 (algorithm 0), 4 KiB lclusters, legacy indexes; then 8 bytes
	 * of padding before the index array */
	memset(p, 0, erofs_z_index_size(size));
	p += EROFS_Z_MAP_HEADER + 8;
	for (uint32_t k = 0; k < n; k++) {
		uint64_t s = ext[k] >> 1, h = s / EROFS_BS;
		uint64_t next = k + 1 < n ? (ext[k + 1] >> 1) / EROFS_BS : eof_head ? eof : nlc;
		uint8_t *di = p + 8 * h;

		le16_put(di, (ext[k] & 1) ? Z_PLAIN : Z_HEAD);
		le16_put(di + 2, (uint16_t)(s % EROFS_BS));
		le32_put(di + 4, blkaddr + k);
		for (uint64_t l = h + 1; l < next; l++) {
			di = p + 8 * l;
			le16_put(di, Z_NONHEAD);
			le16_put(di + 4, (uint16_t)(l - h));
			le16_put(di + 6, (uint16_t)(next - l));
		}
	}
	if (eof_head) {
		le16_put(p + 8 * eof, Z_PLAIN);
		le16_put(p + 8 * eof + 2, (uint16_t)(size % EROFS_BS));
	}
}
