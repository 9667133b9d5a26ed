/* EFI_LOAD_OPTION (UEFI 2.10 §3.1.3): the data of Boot#### variables. Our choices are in
 * docs/formats/efivars.md. */
#include "boot/loadopt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/devpath.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/xalloc.h"

int loadopt_encode(const char *desc, const uint8_t *path, size_t path_len, struct diag *d,
		   uint8_t **ret, size_t *ret_len)
{
	_cleanup_free_ uint8_t *name = NULL;
	size_t name_len, len;
	uint8_t *p;

	if (devpath_ucs2_encode(desc, &name, &name_len) < 0)
		return diag_fail(d, -EINVAL, "boot entry description \"%s\": not ASCII", desc);
	if (path_len > UINT16_MAX)
		return diag_fail(d, -EOVERFLOW,
				 "boot entry \"%s\": device path of %zu bytes is longer than "
				 "FilePathListLength can say",
				 desc, path_len);
	len = LOADOPT_DESCRIPTION + name_len + path_len;
	p = xcalloc(1, len);
	le32_put(p + LOADOPT_ATTRIBUTES, LOADOPT_ACTIVE);
	le16_put(p + LOADOPT_PATH_LENGTH, (uint16_t)path_len);
	memcpy(p + LOADOPT_DESCRIPTION, name, name_len);
	memcpy(p + LOADOPT_DESCRIPTION + name_len, path, path_len);
	*ret = p;
	*ret_len = len;
	return 0;
}

int loadopt_decode(const uint8_t *p, size_t len, struct diag *d, struct loadopt *ret)
{
	size_t path_len, desc_end;

	if (len < LOADOPT_DESCRIPTION + 2)
		return diag_fail(d, -EBADMSG, "load option: %zu bytes, need at least %d", len,
				 LOADOPT_DESCRIPTION + 2);
	path_len = le16_get(p + LOADOPT_PATH_LENGTH);
	/* Description: UTF-16 up to and including its NUL. */
	for (desc_end = LOADOPT_DESCRIPTION;; desc_end += 2) {
		if (desc_end + 2 > len)
			return diag_fail(d, -EBADMSG,
					 "load option: Description has no NUL before the end");
		if (le16_get(p + desc_end) == 0)
			break;
	}
	desc_end += 2;
	if (path_len > len - desc_end)
		return diag_fail(d, -EBADMSG,
				 "load option: FilePathListLength %zu runs past the end (%zu bytes "
				 "left)",
				 path_len, len - desc_end);
	*ret = (struct loadopt){
		.attributes = le32_get(p + LOADOPT_ATTRIBUTES),
		.description = devpath_ucs2_decode(p + LOADOPT_DESCRIPTION,
						   desc_end - LOADOPT_DESCRIPTION),
		.path = p + desc_end,
		.path_len = path_len,
		.optional_data = p + desc_end + path_len,
		.optional_len = len - desc_end - path_len,
	};
	return 0;
}

void loadopt_done(struct loadopt *o)
{
	free(o->description);
	o->description = NULL;
}
