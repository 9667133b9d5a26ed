/* A variable's value in words, for `mkdiskimage inspect`: the global variables the boot
 * manager reads (UEFI 2.10 §3.3). The store is hostile: every variable's data was bounds-checked
 * by efivars_decode, and the load option and device path decoders check their own lengths. */
#include "boot/efivars.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/devpath.h"
#include "boot/loadopt.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/xalloc.h"

int efivars_numbered(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	unsigned v = 0;

	if (strlen(name) != n + 4 || strncmp(name, prefix, n) != 0)
		return -EINVAL;
	for (size_t i = n; i < n + 4; i++) {
		char c = name[i];

		if (c >= '0' && c <= '9')
			v = v * 16 + (unsigned)(c - '0');
		else if (c >= 'A' && c <= 'F') /* uppercase only (§3.1.1) */
			v = v * 16 + (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
	}
	return (int)v;
}

static bool efivars_is_load_option(const char *name)
{
	return efivars_numbered(name, "Boot") >= 0 || efivars_numbered(name, "Driver") >= 0 ||
	       efivars_numbered(name, "SysPrep") >= 0 ||
	       efivars_numbered(name, "PlatformRecovery") >= 0;
}

static bool efivars_is_order(const char *name)
{
	return !strcmp(name, "BootOrder") || !strcmp(name, "DriverOrder") ||
	       !strcmp(name, "SysPrepOrder");
}

static bool efivars_is_u16(const char *name)
{
	return !strcmp(name, "BootCurrent") || !strcmp(name, "BootNext") ||
	       !strcmp(name, "Timeout");
}

static int efivars_value_load_option(const uint8_t *p, size_t len, struct diag *d,
				     struct efivars_value *ret)
{
	struct loadopt o;
	int r;

	r = loadopt_decode(p, len, d, &o);
	if (r < 0)
		return r;
	r = devpath_to_text(o.path, o.path_len, d, &ret->path);
	if (r < 0) {
		diag_prepend(d, r, "load option \"%s\"", o.description);
		loadopt_done(&o);
		return r;
	}
	ret->kind = EFIVARS_VALUE_LOAD_OPTION;
	ret->attributes = o.attributes;
	ret->description = TAKE_PTR(o.description);
	ret->optional_len = o.optional_len;
	return 0;
}

int efivars_value_decode(const struct efivars *v, const struct efivars_var *x, struct diag *d,
			 struct efivars_value *ret)
{
	const uint8_t *p = v->buf + x->data_off;
	size_t len = x->data_size;

	*ret = (struct efivars_value){ .kind = EFIVARS_VALUE_OTHER };
	if (memcmp(x->vendor, efivars_global_guid, 16) != 0)
		return 0;
	if (efivars_is_load_option(x->name))
		return efivars_value_load_option(p, len, d, ret);
	if (efivars_is_order(x->name)) {
		if (len % 2 != 0)
			return diag_fail(d, -EBADMSG, "%s: %zu bytes, not a list of UINT16",
					 x->name, len);
		ret->kind = EFIVARS_VALUE_ORDER;
		ret->n_order = len / 2;
		ret->order = xcalloc(ret->n_order ? ret->n_order : 1, sizeof(*ret->order));
		for (size_t i = 0; i < ret->n_order; i++)
			ret->order[i] = le16_get(p + 2 * i);
		return 0;
	}
	if (efivars_is_u16(x->name)) {
		if (len != 2)
			return diag_fail(d, -EBADMSG, "%s: %zu bytes, not a UINT16", x->name, len);
		ret->kind = EFIVARS_VALUE_U16;
		ret->u16 = le16_get(p);
	}
	return 0;
}

void efivars_value_done(struct efivars_value *val)
{
	free(val->description);
	free(val->path);
	free(val->order);
	*val = (struct efivars_value){ 0 };
}
