/* UEFI device paths (UEFI 2.10 §10.3.5.1 Hard Drive, §10.3.5.4 File Path, §10.3.1 End) and the
 * UTF-16LE strings they carry. Our choices are in docs/formats/efivars.md. */
#include "boot/devpath.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/strbuf.h"
#include "util/uuid.h"
#include "util/xalloc.h"

int devpath_ucs2_encode(const char *s, uint8_t **ret, size_t *ret_len)
{
	size_t n = strlen(s);
	uint8_t *p;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80 || s[i] == 0)
			return -EINVAL;
	p = xcalloc(n + 1, 2);
	for (size_t i = 0; i < n; i++)
		le16_put(p + 2 * i, (uint8_t)s[i]);
	*ret = p;
	*ret_len = 2 * (n + 1);
	return 0;
}

char *devpath_ucs2_decode(const uint8_t *p, size_t len)
{
	char *s = xmalloc(len / 2 + 1);
	size_t n = 0;

	for (size_t i = 0; i + 1 < len; i += 2) {
		uint16_t c = le16_get(p + i);

		if (c == 0)
			break;
		s[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	s[n] = '\0';
	return s;
}

static void devpath_node_header(uint8_t *p, uint8_t type, uint8_t subtype, uint16_t len)
{
	p[DEVPATH_TYPE] = type;
	p[DEVPATH_SUBTYPE] = subtype;
	le16_put(p + DEVPATH_LENGTH, len);
}

int devpath_esp_file(const struct devpath_hd *hd, const char *file, struct diag *d,
		     uint8_t **ret, size_t *ret_len)
{
	_cleanup_free_ uint8_t *name = NULL;
	_cleanup_free_ char *bs = NULL;
	size_t name_len, len, file_node;
	uint8_t *p;

	/* The firmware's file path is relative to the partition root, with backslashes. */
	bs = xasprintf("%s%s", file[0] == '/' || file[0] == '\\' ? "" : "\\", file);
	for (char *c = bs; *c; c++)
		if (*c == '/')
			*c = '\\';
	if (devpath_ucs2_encode(bs, &name, &name_len) < 0)
		return diag_fail(d, -EINVAL, "EFI file path %s: not ASCII", file);
	file_node = DEVPATH_HDR_SIZE + name_len;
	if (file_node > UINT16_MAX)
		return diag_fail(d, -EOVERFLOW, "EFI file path %s: too long for a device path node",
				 file);
	len = DEVPATH_HD_SIZE + file_node + DEVPATH_HDR_SIZE;
	p = xcalloc(1, len);

	devpath_node_header(p, DEVPATH_TYPE_MEDIA, DEVPATH_MEDIA_HARDDRIVE, DEVPATH_HD_SIZE);
	le32_put(p + DEVPATH_HD_PART_NUMBER, hd->part_number);
	le64_put(p + DEVPATH_HD_PART_START, hd->start_lba);
	le64_put(p + DEVPATH_HD_PART_SIZE, hd->n_lba);
	uuid_to_guid(hd->part_uuid, p + DEVPATH_HD_SIGNATURE);
	p[DEVPATH_HD_MBR_TYPE] = DEVPATH_HD_MBR_TYPE_GPT;
	p[DEVPATH_HD_SIG_TYPE] = DEVPATH_HD_SIG_TYPE_GUID;

	devpath_node_header(p + DEVPATH_HD_SIZE, DEVPATH_TYPE_MEDIA, DEVPATH_MEDIA_FILEPATH,
			    (uint16_t)file_node);
	memcpy(p + DEVPATH_HD_SIZE + DEVPATH_HDR_SIZE, name, name_len);

	devpath_node_header(p + DEVPATH_HD_SIZE + file_node, DEVPATH_TYPE_END,
			    DEVPATH_END_ENTIRE, DEVPATH_HDR_SIZE);
	*ret = p;
	*ret_len = len;
	return 0;
}

/* Append one node's text to b: linear in the node, whatever b holds already. */
static void devpath_node_text(struct strbuf *b, const uint8_t *n, size_t len)
{
	const char *sep = b->len ? "/" : "";

	if (n[DEVPATH_TYPE] == DEVPATH_TYPE_MEDIA &&
	    n[DEVPATH_SUBTYPE] == DEVPATH_MEDIA_HARDDRIVE && len == DEVPATH_HD_SIZE) {
		uint8_t u[16];
		char us[UUID_STR_LEN];

		uuid_to_guid(n + DEVPATH_HD_SIGNATURE, u);
		uuid_format(u, us);
		if (n[DEVPATH_HD_SIG_TYPE] != DEVPATH_HD_SIG_TYPE_GUID)
			snprintf(us, sizeof(us), "sigtype%u", n[DEVPATH_HD_SIG_TYPE]);
		strbuf_appendf(b, "%sHD(%u,%s,%s,0x%llx,0x%llx)", sep,
			       le32_get(n + DEVPATH_HD_PART_NUMBER),
			       n[DEVPATH_HD_MBR_TYPE] == DEVPATH_HD_MBR_TYPE_GPT ? "GPT" : "MBR", us,
			       (unsigned long long)le64_get(n + DEVPATH_HD_PART_START),
			       (unsigned long long)le64_get(n + DEVPATH_HD_PART_SIZE));
	} else if (n[DEVPATH_TYPE] == DEVPATH_TYPE_MEDIA &&
		   n[DEVPATH_SUBTYPE] == DEVPATH_MEDIA_FILEPATH) {
		_cleanup_free_ char *f = devpath_ucs2_decode(n + DEVPATH_HDR_SIZE,
							     len - DEVPATH_HDR_SIZE);

		strbuf_append(b, sep);
		strbuf_append(b, f);
	} else
		strbuf_appendf(b, "%sPath(%u,%u)", sep, n[DEVPATH_TYPE], n[DEVPATH_SUBTYPE]);
}

int devpath_to_text(const uint8_t *p, size_t len, struct diag *d, char **ret)
{
	_cleanup_(strbuf_done) struct strbuf s = { 0 };
	size_t off = 0;

	for (unsigned i = 0;; i++) {
		size_t n;

		if (len - off < DEVPATH_HDR_SIZE)
			return diag_fail(d, -EBADMSG,
					 "device path: node %u at byte %zu: header past the end "
					 "(%zu bytes; no End node)",
					 i, off, len);
		n = le16_get(p + off + DEVPATH_LENGTH);
		if (n < DEVPATH_HDR_SIZE || n > len - off)
			return diag_fail(d, -EBADMSG,
					 "device path: node %u at byte %zu: Length %zu out of "
					 "range 4..%zu",
					 i, off, n, len - off);
		if (p[off + DEVPATH_TYPE] == DEVPATH_TYPE_END &&
		    p[off + DEVPATH_SUBTYPE] == DEVPATH_END_ENTIRE)
			break;
		devpath_node_text(&s, p + off, n);
		off += n;
	}
	*ret = strbuf_steal(&s);
	return 0;
}
