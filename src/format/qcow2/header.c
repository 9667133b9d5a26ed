/* qcow2 header codec (QEMU docs/interop/qcow2.txt, "Header"; docs/formats/qcow2.md). */
#include "format/qcow2/qcow2-internal.h"

#include <errno.h>
#include <string.h>

#include "util/diag.h"
#include "util/endian.h"

uint64_t qcow2_l1_entries(uint64_t size, unsigned cluster_bits)
{
	/* one L2 table maps 2^(cluster_bits - 3) clusters */
	unsigned shift = cluster_bits + cluster_bits - 3;
	uint64_t n = size >> shift;

	return n + ((size & ((1ull << shift) - 1)) != 0);
}

void qcow2_header_encode(uint8_t *p, const struct qcow2_header *h)
{
	memset(p, 0, QCOW2_HDR_V3_COMPRESSION_SIZE + 8);
	be32_put(p + QCOW2_HDR_MAGIC, QCOW2_MAGIC);
	be32_put(p + QCOW2_HDR_VERSION, h->version);
	be64_put(p + QCOW2_HDR_BACKING_FILE_OFFSET, h->backing_file_offset);
	be32_put(p + QCOW2_HDR_BACKING_FILE_SIZE, h->backing_file_size);
	be32_put(p + QCOW2_HDR_CLUSTER_BITS, h->cluster_bits);
	be64_put(p + QCOW2_HDR_SIZE, h->size);
	be32_put(p + QCOW2_HDR_CRYPT_METHOD, h->crypt_method);
	be32_put(p + QCOW2_HDR_L1_SIZE, h->l1_size);
	be64_put(p + QCOW2_HDR_L1_TABLE_OFFSET, h->l1_table_offset);
	be64_put(p + QCOW2_HDR_REFCOUNT_TABLE_OFFSET, h->refcount_table_offset);
	be32_put(p + QCOW2_HDR_REFCOUNT_TABLE_CLUSTERS, h->refcount_table_clusters);
	be32_put(p + QCOW2_HDR_NB_SNAPSHOTS, h->nb_snapshots);
	be64_put(p + QCOW2_HDR_SNAPSHOTS_OFFSET, h->snapshots_offset);
	if (h->version < 3)
		return;
	be64_put(p + QCOW2_HDR_INCOMPATIBLE_FEATURES, h->incompatible_features);
	be64_put(p + QCOW2_HDR_COMPATIBLE_FEATURES, h->compatible_features);
	be64_put(p + QCOW2_HDR_AUTOCLEAR_FEATURES, h->autoclear_features);
	be32_put(p + QCOW2_HDR_REFCOUNT_ORDER, h->refcount_order);
	be32_put(p + QCOW2_HDR_HEADER_LENGTH, h->header_length);
	if (h->header_length > QCOW2_HDR_COMPRESSION_TYPE)
		p[QCOW2_HDR_COMPRESSION_TYPE] = h->compression_type;
	/* the end-of-extensions marker (type 0, length 0) is already zero */
}

/* Is [off, off + len) inside a file of file_size bytes, without overflow? */
static bool in_file(uint64_t off, uint64_t len, uint64_t file_size)
{
	return off <= file_size && len <= file_size - off;
}

static int decode_v3(const uint8_t *p, size_t len, struct diag *d, struct qcow2_header *h)
{
	uint64_t known = QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_COMPRESSION;

	if (len < QCOW2_HDR_V3_SIZE)
		return diag_fail(d, -EBADMSG, "qcow2 header truncated (%zu bytes)", len);
	h->incompatible_features = be64_get(p + QCOW2_HDR_INCOMPATIBLE_FEATURES);
	h->compatible_features = be64_get(p + QCOW2_HDR_COMPATIBLE_FEATURES);
	h->autoclear_features = be64_get(p + QCOW2_HDR_AUTOCLEAR_FEATURES);
	h->refcount_order = be32_get(p + QCOW2_HDR_REFCOUNT_ORDER);
	h->header_length = be32_get(p + QCOW2_HDR_HEADER_LENGTH);
	if (h->refcount_order > 6)
		return diag_fail(d, -EBADMSG, "qcow2 refcount_order %u is over 6", h->refcount_order);
	if (h->header_length < QCOW2_HDR_V3_SIZE || h->header_length % 8 ||
	    h->header_length > (1u << h->cluster_bits))
		return diag_fail(d, -EBADMSG, "qcow2 header_length %u is invalid", h->header_length);
	if (h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE)
		return diag_fail(d, -ENOTSUP, "qcow2 images with an external data file are not "
				 "supported");
	if (h->incompatible_features & QCOW2_INCOMPAT_EXTL2)
		return diag_fail(d, -ENOTSUP, "qcow2 extended L2 entries are not supported; "
				 "convert with qemu-img first");
	if (h->incompatible_features & ~known)
		return diag_fail(d, -ENOTSUP, "qcow2 incompatible features 0x%llx are not supported",
				 (unsigned long long)(h->incompatible_features & ~known));
	h->compression_type = 0;
	if (h->header_length > QCOW2_HDR_COMPRESSION_TYPE) {
		if (len <= QCOW2_HDR_COMPRESSION_TYPE)
			return diag_fail(d, -EBADMSG, "qcow2 header truncated (%zu bytes)", len);
		h->compression_type = p[QCOW2_HDR_COMPRESSION_TYPE];
	}
	if (h->compression_type > QCOW2_COMPRESSION_ZSTD)
		return diag_fail(d, -ENOTSUP, "qcow2 compression_type %u is not supported",
				 h->compression_type);
	if ((h->compression_type != 0) != !!(h->incompatible_features & QCOW2_INCOMPAT_COMPRESSION))
		return diag_fail(d, -EBADMSG, "qcow2 compression_type %u disagrees with "
				 "incompatible feature bit 3", h->compression_type);
	return 0;
}

int qcow2_header_decode(const uint8_t *p, size_t len, uint64_t file_size, struct diag *d,
			struct qcow2_header *ret)
{
	struct qcow2_header h = { 0 };
	uint64_t cs, l1_need;
	int r;

	if (len < QCOW2_HDR_V2_SIZE)
		return diag_fail(d, -EBADMSG, "qcow2 header truncated (%zu bytes)", len);
	if (be32_get(p + QCOW2_HDR_MAGIC) != QCOW2_MAGIC)
		return diag_fail(d, -EBADMSG, "not a qcow2 image (bad magic)");
	h.version = be32_get(p + QCOW2_HDR_VERSION);
	if (h.version != 2 && h.version != 3)
		return diag_fail(d, -ENOTSUP, "qcow2 version %u is not supported", h.version);
	h.backing_file_offset = be64_get(p + QCOW2_HDR_BACKING_FILE_OFFSET);
	h.backing_file_size = be32_get(p + QCOW2_HDR_BACKING_FILE_SIZE);
	h.cluster_bits = be32_get(p + QCOW2_HDR_CLUSTER_BITS);
	h.size = be64_get(p + QCOW2_HDR_SIZE);
	h.crypt_method = be32_get(p + QCOW2_HDR_CRYPT_METHOD);
	h.l1_size = be32_get(p + QCOW2_HDR_L1_SIZE);
	h.l1_table_offset = be64_get(p + QCOW2_HDR_L1_TABLE_OFFSET);
	h.refcount_table_offset = be64_get(p + QCOW2_HDR_REFCOUNT_TABLE_OFFSET);
	h.refcount_table_clusters = be32_get(p + QCOW2_HDR_REFCOUNT_TABLE_CLUSTERS);
	h.nb_snapshots = be32_get(p + QCOW2_HDR_NB_SNAPSHOTS);
	h.snapshots_offset = be64_get(p + QCOW2_HDR_SNAPSHOTS_OFFSET);
	h.refcount_order = 4;
	h.header_length = QCOW2_HDR_V2_SIZE;

	if (h.cluster_bits < QCOW2_MIN_CLUSTER_BITS || h.cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return diag_fail(d, -EBADMSG, "qcow2 cluster_bits %u is outside 9..21",
				 h.cluster_bits);
	cs = 1ull << h.cluster_bits;
	if (h.version == 3) {
		r = decode_v3(p, len, d, &h);
		if (r < 0)
			return r;
	}
	if (h.backing_file_offset != 0)
		return diag_fail(d, -ENOTSUP, "qcow2 images with a backing file are not supported; "
				 "flatten it with qemu-img convert first");
	if (h.crypt_method != 0)
		return diag_fail(d, -ENOTSUP, "encrypted qcow2 images are not supported");
	if (h.size > (1ull << 62))
		return diag_fail(d, -EBADMSG, "qcow2 size %llu is absurd",
				 (unsigned long long)h.size);
	l1_need = qcow2_l1_entries(h.size, h.cluster_bits);
	if (h.l1_size < l1_need)
		return diag_fail(d, -EBADMSG, "qcow2 l1_size %u is below the %llu entries size needs",
				 h.l1_size, (unsigned long long)l1_need);
	if ((uint64_t)h.l1_size * 8 > QCOW2_MAX_L1_BYTES)
		return diag_fail(d, -EBADMSG, "qcow2 l1_size %u is absurd", h.l1_size);
	if (h.l1_size && (h.l1_table_offset & (cs - 1) || h.l1_table_offset == 0 ||
			  !in_file(h.l1_table_offset, (uint64_t)h.l1_size * 8, file_size)))
		return diag_fail(d, -EBADMSG, "qcow2 l1_table_offset %llu is misaligned or past the "
				 "end of the file", (unsigned long long)h.l1_table_offset);
	if (h.refcount_table_offset & (cs - 1) ||
	    !in_file(h.refcount_table_offset, (uint64_t)h.refcount_table_clusters * cs, file_size))
		return diag_fail(d, -EBADMSG, "qcow2 refcount_table_offset %llu is misaligned or past "
				 "the end of the file", (unsigned long long)h.refcount_table_offset);
	*ret = h;
	return 0;
}
