/* edk2's non-volatile variable store: firmware volume header, variable store header,
 * variables (MdeModulePkg/Include/Guid/VariableFormat.h; PI 1.7 vol. 3 §3.2.1 for the volume).
 * Our choices and what we reject are in docs/formats/efivars.md. */
#include "boot/efivars.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/devpath.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/uuid.h"
#include "util/xalloc.h"

/* GUIDs in RFC 4122 byte order (as printed); on disk they are mixed-endian. */
const uint8_t efivars_global_guid[16] = { 0x8b, 0xe4, 0xdf, 0x61, 0x93, 0xca, 0x11, 0xd2,
					  0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c };
const uint8_t efivars_nv_fv_guid[16] = { 0xff, 0xf1, 0x2b, 0x8d, 0x76, 0x96, 0x4c, 0x8b,
					 0xa9, 0x85, 0x27, 0x47, 0x07, 0x5b, 0x4f, 0x50 };
const uint8_t efivars_auth_store_guid[16] = { 0xaa, 0xf3, 0x2c, 0x78, 0x94, 0x7b, 0x43, 0x9a,
					      0xa1, 0x80, 0x2e, 0x14, 0x4e, 0xc3, 0x77, 0x92 };
static const uint8_t efivars_store_guid[16] = { 0xdd, 0xcf, 0x36, 0x16, 0x32, 0x75, 0x41, 0x64,
						0x98, 0xb6, 0xfe, 0x85, 0x70, 0x7f, 0xfe, 0x7d };
const uint8_t efivars_ftw_guid[16] = { 0x9e, 0x58, 0x29, 0x2b, 0x7c, 0x68, 0x49, 0x7d,
				       0xa0, 0xce, 0x65, 0x00, 0xfd, 0x9f, 0x1b, 0x95 };

#define EFIVARS_FV_SIGNATURE_VALUE "_FVH"
#define EFIVARS_FV_REVISION_VALUE 2

static bool efivars_guid_eq(const uint8_t *disk, const uint8_t rfc[16])
{
	uint8_t g[16];

	uuid_to_guid(rfc, g);
	return memcmp(disk, g, 16) == 0;
}

static uint64_t efivars_align(uint64_t off)
{
	return ROUND_UP(off, EFIVARS_HEADER_ALIGNMENT);
}

/* EFI_FIRMWARE_VOLUME_HEADER: signature, revision, length, header checksum, block map. */
static int efivars_decode_fv(struct efivars *v, struct diag *d, uint32_t *ret_block)
{
	const uint8_t *b = v->buf;
	uint64_t total = 0;
	uint32_t hlen, block = 0;
	uint16_t sum = 0;
	size_t i;

	if (v->len < EFIVARS_FV_MIN_SIZE)
		return diag_fail(d, -EBADMSG, "firmware volume: %zu bytes, too short for a header",
				 v->len);
	if (memcmp(b + EFIVARS_FV_SIGNATURE, EFIVARS_FV_SIGNATURE_VALUE, 4) != 0)
		return diag_fail(d, -EBADMSG,
				 "firmware volume: Signature is not \"_FVH\" (not an OVMF_VARS.fd "
				 "variable-store template)");
	if (b[EFIVARS_FV_REVISION] != EFIVARS_FV_REVISION_VALUE)
		return diag_fail(d, -EBADMSG, "firmware volume: Revision %u, want 2",
				 b[EFIVARS_FV_REVISION]);
	if (!efivars_guid_eq(b + EFIVARS_FV_FS_GUID, efivars_nv_fv_guid))
		return diag_fail(d, -EBADMSG,
				 "firmware volume: FileSystemGuid is not gEfiSystemNvDataFvGuid "
				 "(a firmware code volume, not a variable store?)");
	v->fv_len = le64_get(b + EFIVARS_FV_LENGTH);
	if (v->fv_len < EFIVARS_FV_MIN_SIZE || v->fv_len > v->len)
		return diag_fail(d, -EBADMSG, "firmware volume: FvLength %llu out of range %d..%zu",
				 (unsigned long long)v->fv_len, EFIVARS_FV_MIN_SIZE, v->len);
	hlen = le16_get(b + EFIVARS_FV_HEADER_LENGTH);
	if (hlen < EFIVARS_FV_MIN_SIZE || hlen % EFIVARS_HEADER_ALIGNMENT != 0 || hlen > v->fv_len)
		return diag_fail(d, -EBADMSG,
				 "firmware volume: HeaderLength %u out of range (a multiple of 4, "
				 "%d..%llu)",
				 hlen, EFIVARS_FV_MIN_SIZE, (unsigned long long)v->fv_len);
	for (i = 0; i < hlen; i += 2)
		sum = (uint16_t)(sum + le16_get(b + i));
	if (sum != 0)
		return diag_fail(d, -EBADMSG,
				 "firmware volume: header Checksum 0x%04x does not sum to zero "
				 "(off by 0x%04x)",
				 le16_get(b + EFIVARS_FV_CHECKSUM), sum);
	for (i = EFIVARS_FV_BLOCK_MAP;; i += 8) {
		uint64_t n, l;

		if (i + 8 > hlen)
			return diag_fail(d, -EBADMSG,
					 "firmware volume: BlockMap has no {0, 0} terminator "
					 "within HeaderLength %u",
					 hlen);
		n = le32_get(b + i);
		l = le32_get(b + i + 4);
		if (n == 0 && l == 0)
			break;
		if (n == 0 || l == 0)
			return diag_fail(d, -EBADMSG,
					 "firmware volume: BlockMap entry at byte %zu has %llu "
					 "blocks of %llu bytes",
					 i, (unsigned long long)n, (unsigned long long)l);
		if (!block)
			block = (uint32_t)l;
		total += n * l; /* at most 2^64 / 2^3 entries of < 2^64: checked below */
		if (total > v->len)
			break;
	}
	/* AAVMF's flash driver maps the whole flash bank (64 MiB) in a volume of 768 KiB */
	if (total < v->fv_len || total > v->len)
		return diag_fail(d, -EBADMSG,
				 "firmware volume: BlockMap covers %llu bytes, want FvLength %llu "
				 "up to the file's %zu",
				 (unsigned long long)total, (unsigned long long)v->fv_len, v->len);
	v->store_off = hlen;
	*ret_block = block;
	return 0;
}

/* VARIABLE_STORE_HEADER right after the volume header. */
static int efivars_decode_store(struct efivars *v, struct diag *d)
{
	const uint8_t *s = v->buf + v->store_off;
	uint64_t size;

	if (v->fv_len - v->store_off < EFIVARS_STORE_HDR_SIZE)
		return diag_fail(d, -EBADMSG,
				 "variable store: header at byte %llu runs past FvLength %llu",
				 (unsigned long long)v->store_off, (unsigned long long)v->fv_len);
	if (efivars_guid_eq(s + EFIVARS_STORE_SIGNATURE, efivars_auth_store_guid))
		v->authenticated = true;
	else if (!efivars_guid_eq(s + EFIVARS_STORE_SIGNATURE, efivars_store_guid))
		return diag_fail(d, -EBADMSG,
				 "variable store: Signature is neither "
				 "gEfiAuthenticatedVariableGuid nor gEfiVariableGuid");
	size = le32_get(s + EFIVARS_STORE_SIZE);
	if (size < EFIVARS_STORE_HDR_SIZE || size > v->fv_len - v->store_off)
		return diag_fail(d, -EBADMSG,
				 "variable store: Size %llu out of range %d..%llu (FvLength %llu)",
				 (unsigned long long)size, EFIVARS_STORE_HDR_SIZE,
				 (unsigned long long)(v->fv_len - v->store_off),
				 (unsigned long long)v->fv_len);
	if (s[EFIVARS_STORE_FORMAT] != EFIVARS_STORE_FORMATTED)
		return diag_fail(d, -EBADMSG,
				 "variable store: Format 0x%02x, want 0x5a (formatted)",
				 s[EFIVARS_STORE_FORMAT]);
	if (s[EFIVARS_STORE_STATE] != EFIVARS_STORE_HEALTHY)
		return diag_fail(d, -EBADMSG, "variable store: State 0x%02x, want 0xfe (healthy)",
				 s[EFIVARS_STORE_STATE]);
	v->store_end = v->store_off + size;
	return 0;
}

static size_t efivars_hdr_size(const struct efivars *v)
{
	return v->authenticated ? EFIVARS_AVAR_HDR_SIZE : EFIVARS_VAR_HDR_SIZE;
}

/* Append x to v->vars, doubling its room: a store of n variables costs O(n) moves. */
static void efivars_push(struct efivars *v, const struct efivars_var *x)
{
	if (v->n_vars == v->vars_cap) {
		v->vars_cap = v->vars_cap ? 2 * v->vars_cap : 16;
		v->vars = xreallocarray(v->vars, v->vars_cap, sizeof(*v->vars));
	}
	v->vars[v->n_vars++] = *x;
}

/* One variable header at off (StartId already checked); appended to v->vars. */
static int efivars_decode_var(struct efivars *v, uint64_t off, struct diag *d, uint64_t *ret_next)
{
	const uint8_t *h = v->buf + off;
	size_t ns = v->authenticated ? EFIVARS_AVAR_NAME_SIZE : EFIVARS_VAR_NAME_SIZE;
	size_t ds = v->authenticated ? EFIVARS_AVAR_DATA_SIZE : EFIVARS_VAR_DATA_SIZE;
	size_t vo = v->authenticated ? EFIVARS_AVAR_VENDOR : EFIVARS_VAR_VENDOR;
	struct efivars_var x = {
		.off = off,
		.state = h[EFIVARS_VAR_STATE],
		.attributes = le32_get(h + EFIVARS_VAR_ATTRIBUTES),
		.name_off = off + efivars_hdr_size(v),
		.name_size = le32_get(h + ns),
		.data_size = le32_get(h + ds),
	};

	uuid_to_guid(h + vo, x.vendor);
	if (x.name_size > v->store_end - x.name_off)
		return diag_fail(d, -EBADMSG,
				 "variable %zu at byte %llu: NameSize %u runs past the store end "
				 "(byte %llu)",
				 v->n_vars, (unsigned long long)off, x.name_size,
				 (unsigned long long)v->store_end);
	x.data_off = x.name_off + x.name_size;
	if (x.data_size > v->store_end - x.data_off)
		return diag_fail(d, -EBADMSG,
				 "variable %zu at byte %llu: DataSize %u runs past the store end "
				 "(byte %llu)",
				 v->n_vars, (unsigned long long)off, x.data_size,
				 (unsigned long long)v->store_end);
	x.live = x.state == EFIVARS_STATE_ADDED ||
		 x.state == (EFIVARS_STATE_ADDED & EFIVARS_STATE_IN_DELETED_TRANSITION);
	if (x.live && (x.name_size < 2 || x.name_size % 2 != 0 ||
		       le16_get(v->buf + x.data_off - 2) != 0))
		return diag_fail(d, -EBADMSG,
				 "variable %zu at byte %llu: NameSize %u is not a NUL-terminated "
				 "UTF-16 name",
				 v->n_vars, (unsigned long long)off, x.name_size);
	x.name = devpath_ucs2_decode(v->buf + x.name_off, x.name_size);
	efivars_push(v, &x);
	*ret_next = MIN(efivars_align(x.data_off + x.data_size), v->store_end);
	return 0;
}

/* A variable's identity: vendor and UTF-16 name. */
struct efivars_key {
	const uint8_t *vendor, *name;
	uint32_t name_size;
};

static int efivars_key_cmp(const void *a, const void *b)
{
	const struct efivars_key *x = a, *y = b;
	int c = memcmp(x->vendor, y->vendor, 16);

	if (c)
		return c;
	if (x->name_size != y->name_size)
		return x->name_size < y->name_size ? -1 : 1;
	return memcmp(x->name, y->name, x->name_size);
}

static struct efivars_key efivars_key_of(const struct efivars *v, const struct efivars_var *x)
{
	return (struct efivars_key){ x->vendor, v->buf + x->name_off, x->name_size };
}

/* A copy in deleted transition is live only while no completed copy exists (edk2). The
 * completed copies are sorted once and looked up: O(n log n) for a store of n variables. */
static void efivars_resolve_transitions(struct efivars *v)
{
	_cleanup_free_ struct efivars_key *added = NULL;
	size_t n_added = 0, n_trans = 0;

	for (size_t i = 0; i < v->n_vars; i++) {
		n_added += v->vars[i].state == EFIVARS_STATE_ADDED;
		n_trans += v->vars[i].state ==
			   (EFIVARS_STATE_ADDED & EFIVARS_STATE_IN_DELETED_TRANSITION);
	}
	if (n_added == 0 || n_trans == 0)
		return;
	added = xreallocarray(NULL, n_added, sizeof(*added));
	n_added = 0;
	for (size_t i = 0; i < v->n_vars; i++)
		if (v->vars[i].state == EFIVARS_STATE_ADDED)
			added[n_added++] = efivars_key_of(v, &v->vars[i]);
	qsort(added, n_added, sizeof(*added), efivars_key_cmp);
	for (size_t i = 0; i < v->n_vars; i++) {
		struct efivars_key k;

		if (v->vars[i].state != (EFIVARS_STATE_ADDED & EFIVARS_STATE_IN_DELETED_TRANSITION))
			continue;
		k = efivars_key_of(v, &v->vars[i]);
		if (bsearch(&k, added, n_added, sizeof(*added), efivars_key_cmp))
			v->vars[i].live = false;
	}
}

static int efivars_decode_vars(struct efivars *v, struct diag *d)
{
	uint64_t off = efivars_align(v->store_off + EFIVARS_STORE_HDR_SIZE);
	int r;

	while (off + efivars_hdr_size(v) <= v->store_end &&
	       le16_get(v->buf + off + EFIVARS_VAR_START_ID) == EFIVARS_START_ID) {
		r = efivars_decode_var(v, off, d, &off);
		if (r < 0)
			return r;
	}
	v->free_off = off;
	/* We append into the free space; the firmware treats stray bytes there as damage. */
	for (uint64_t i = off; i < v->store_end; i++)
		if (v->buf[i] != 0xff)
			return diag_fail(d, -EBADMSG,
					 "variable store: free space at byte %llu is not erased "
					 "(0x%02x, want 0xff)",
					 (unsigned long long)i, v->buf[i]);
	efivars_resolve_transitions(v);
	return 0;
}

/* The fault-tolerant-write working block, at a block boundary after the store: checked, kept
 * as it is. Not every platform has one. */
static int efivars_decode_ftw(struct efivars *v, uint32_t block, struct diag *d)
{
	uint64_t q;

	if (!block)
		return 0;
	for (uint64_t off = ROUND_UP(v->store_end, block);
	     off < v->fv_len && v->fv_len - off >= EFIVARS_FTW_HEADER; off += block) {
		if (!efivars_guid_eq(v->buf + off, efivars_ftw_guid))
			continue;
		q = le64_get(v->buf + off + EFIVARS_FTW_QUEUE);
		if (q > v->fv_len - off - EFIVARS_FTW_HEADER)
			return diag_fail(d, -EBADMSG,
					 "fault-tolerant-write block at byte %llu: WriteQueueSize "
					 "%llu runs past FvLength %llu",
					 (unsigned long long)off, (unsigned long long)q,
					 (unsigned long long)v->fv_len);
		v->has_ftw = true;
		v->ftw_off = off;
		break;
	}
	return 0;
}

int efivars_decode(const uint8_t *buf, size_t len, struct diag *d, struct efivars **ret)
{
	_cleanup_(efivars_freep) struct efivars *v = xcalloc(1, sizeof(*v));
	uint32_t block = 0;
	int r;

	v->buf = xmalloc(len ? len : 1);
	memcpy(v->buf, buf, len);
	v->len = len;
	r = efivars_decode_fv(v, d, &block);
	if (r < 0)
		return r;
	r = efivars_decode_store(v, d);
	if (r < 0)
		return r;
	r = efivars_decode_vars(v, d);
	if (r < 0)
		return r;
	r = efivars_decode_ftw(v, block, d);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(v);
	return 0;
}

bool efivars_probe(const uint8_t *head, size_t len)
{
	return len >= EFIVARS_FV_MIN_SIZE &&
	       memcmp(head + EFIVARS_FV_SIGNATURE, EFIVARS_FV_SIGNATURE_VALUE, 4) == 0;
}

int efivars_load(const char *path, struct diag *d, struct efivars **ret)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	int r;

	r = read_file(path, EFIVARS_MAX_SIZE + 1, &buf, &len); /* up to 128 MiB included */
	if (r == -EFBIG)
		return diag_fail(d, r, "%s: larger than %u MiB: not a variable-store template",
				 path, EFIVARS_MAX_SIZE >> 20);
	if (r < 0)
		return diag_fail(d, r, "%s: cannot read the variable-store template: %s", path,
				 strerror(-r));
	if (efivars_is_erased(buf, len)) {
		r = efivars_format_erased(buf, len, d);
		if (r < 0)
			return diag_prepend(d, r, "%s", path);
	}
	r = efivars_decode(buf, len, d, ret);
	if (r < 0)
		return diag_prepend(d, r, "%s", path);
	return 0;
}

struct efivars *efivars_free(struct efivars *v)
{
	if (!v)
		return NULL;
	for (size_t i = 0; i < v->n_vars; i++)
		free(v->vars[i].name);
	free(v->vars);
	free(v->buf);
	free(v);
	return NULL;
}

const struct efivars_var *efivars_find(const struct efivars *v, const uint8_t vendor[16],
				       const char *name)
{
	_cleanup_free_ uint8_t *n16 = NULL;
	size_t n16_len;

	if (devpath_ucs2_encode(name, &n16, &n16_len) < 0)
		return NULL;
	for (size_t i = 0; i < v->n_vars; i++) {
		const struct efivars_var *x = &v->vars[i];

		if (x->live && memcmp(x->vendor, vendor, 16) == 0 && x->name_size == n16_len &&
		    memcmp(v->buf + x->name_off, n16, n16_len) == 0)
			return x;
	}
	return NULL;
}

static void efivars_encode_header(const struct efivars *v, uint8_t *h, const uint8_t vendor[16],
				  uint32_t attributes, uint32_t name_size, uint32_t data_size)
{
	memset(h, 0, efivars_hdr_size(v));
	le16_put(h + EFIVARS_VAR_START_ID, EFIVARS_START_ID);
	h[EFIVARS_VAR_STATE] = EFIVARS_STATE_ADDED;
	le32_put(h + EFIVARS_VAR_ATTRIBUTES, attributes);
	/* authenticated header: MonotonicCount, TimeStamp, PubKeyIndex stay zero */
	le32_put(h + (v->authenticated ? EFIVARS_AVAR_NAME_SIZE : EFIVARS_VAR_NAME_SIZE),
		 name_size);
	le32_put(h + (v->authenticated ? EFIVARS_AVAR_DATA_SIZE : EFIVARS_VAR_DATA_SIZE),
		 data_size);
	uuid_to_guid(vendor, h + (v->authenticated ? EFIVARS_AVAR_VENDOR : EFIVARS_VAR_VENDOR));
}

int efivars_set(struct efivars *v, const uint8_t vendor[16], const char *name,
		uint32_t attributes, const void *data, size_t len, struct diag *d)
{
	_cleanup_free_ uint8_t *n16 = NULL;
	struct efivars_var x = { 0 };
	size_t n16_len, hdr = efivars_hdr_size(v);
	uint64_t total, room = v->store_end - v->free_off;
	uint64_t at = v->free_off;

	if (devpath_ucs2_encode(name, &n16, &n16_len) < 0)
		return diag_fail(d, -EINVAL, "EFI variable %s: name not ASCII", name);
	total = efivars_align((uint64_t)hdr + n16_len + len);
	if (len > UINT32_MAX || total > room)
		return diag_fail(d, -ENOSPC,
				 "EFI variable %s: %llu bytes do not fit the variable store's %llu "
				 "free bytes",
				 name, (unsigned long long)total, (unsigned long long)room);

	/* Old copies first: deleting before appending leaves the same bytes as the firmware's
	 * add-then-delete. */
	for (size_t i = 0; i < v->n_vars; i++) {
		struct efivars_var *o = &v->vars[i];

		if (!o->live || memcmp(o->vendor, vendor, 16) != 0 || o->name_size != n16_len ||
		    memcmp(v->buf + o->name_off, n16, n16_len) != 0)
			continue;
		o->state &= EFIVARS_STATE_IN_DELETED_TRANSITION & EFIVARS_STATE_DELETED;
		v->buf[o->off + EFIVARS_VAR_STATE] = o->state;
		o->live = false;
	}

	/* Padding up to the next header stays erased (0xff), as flash writes leave it. */
	efivars_encode_header(v, v->buf + at, vendor, attributes, (uint32_t)n16_len,
			      (uint32_t)len);
	memcpy(v->buf + at + hdr, n16, n16_len);
	if (len)
		memcpy(v->buf + at + hdr + n16_len, data, len);

	x = (struct efivars_var){
		.off = at,
		.state = EFIVARS_STATE_ADDED,
		.live = true,
		.attributes = attributes,
		.name = xstrdup(name),
		.name_off = at + hdr,
		.name_size = (uint32_t)n16_len,
		.data_off = at + hdr + n16_len,
		.data_size = (uint32_t)len,
	};
	memcpy(x.vendor, vendor, 16);
	efivars_push(v, &x);
	v->free_off = at + total;
	return 0;
}
