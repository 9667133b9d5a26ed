/* Boot#### and BootOrder (UEFI 2.10 §3.1.1, §3.3) as bootctl sets them through efivarfs. */
#include "boot/efiboot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot/efivars.h"
#include "boot/loadopt.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/xalloc.h"

#define EFIBOOT_ATTRIBUTES                                                 \
	(EFIVARS_ATTR_NON_VOLATILE | EFIVARS_ATTR_BOOTSERVICE_ACCESS | \
	 EFIVARS_ATTR_RUNTIME_ACCESS)

/* bootctl's find_slot: the Boot#### whose device path is ours, else the lowest free number. */
static uint16_t efiboot_slot(const struct efivars *v, const uint8_t *path, size_t path_len)
{
	_cleanup_free_ uint8_t *used = xcalloc(UINT16_MAX + 1, 1);
	struct diag ignored = { 0 };
	unsigned n;

	for (size_t i = 0; i < v->n_vars; i++) {
		const struct efivars_var *x = &v->vars[i];
		int num = efivars_numbered(x->name, "Boot");
		struct loadopt o;
		bool same;

		if (!x->live || num < 0 || memcmp(x->vendor, efivars_global_guid, 16) != 0)
			continue;
		used[num] = 1;
		if (loadopt_decode(v->buf + x->data_off, x->data_size, &ignored, &o) < 0)
			continue;
		same = o.path_len == path_len && memcmp(o.path, path, path_len) == 0;
		loadopt_done(&o);
		if (same)
			return (uint16_t)num;
	}
	for (n = 0; n < UINT16_MAX && used[n]; n++)
		;
	return (uint16_t)n;
}

/* New BootOrder: our number first, then the old order without it (bootctl's
 * insert_into_order). An odd-sized old BootOrder loses its stray byte. */
static uint8_t *efiboot_order(const struct efivars *v, uint16_t number, size_t *ret_len)
{
	const struct efivars_var *old = efivars_find(v, efivars_global_guid, "BootOrder");
	size_t n_old = old ? old->data_size / 2 : 0, n = 1;
	uint8_t *p = xcalloc(n_old + 1, 2);

	le16_put(p, number);
	for (size_t i = 0; i < n_old; i++) {
		uint16_t e = le16_get(v->buf + old->data_off + 2 * i);

		if (e != number)
			le16_put(p + 2 * n++, e);
	}
	*ret_len = 2 * n;
	return p;
}

int efiboot_add(struct efivars *v, const struct devpath_hd *hd, const char *file,
		struct diag *d, uint16_t *ret_number)
{
	return efiboot_add_titled(v, hd, file, EFIBOOT_DESCRIPTION, d, ret_number);
}

int efiboot_add_titled(struct efivars *v, const struct devpath_hd *hd, const char *file,
		       const char *title, struct diag *d, uint16_t *ret_number)
{
	_cleanup_free_ uint8_t *path = NULL, *opt = NULL, *order = NULL;
	size_t path_len, opt_len, order_len;
	uint16_t number;
	char name[16];
	int r;

	r = devpath_esp_file(hd, file, d, &path, &path_len);
	if (r < 0)
		return r;
	r = loadopt_encode(title, path, path_len, d, &opt, &opt_len);
	if (r < 0)
		return r;
	number = efiboot_slot(v, path, path_len);
	order = efiboot_order(v, number, &order_len);
	snprintf(name, sizeof(name), "Boot%04X", number);
	r = efivars_set(v, efivars_global_guid, name, EFIBOOT_ATTRIBUTES, opt, opt_len, d);
	if (r < 0)
		return r;
	r = efivars_set(v, efivars_global_guid, "BootOrder", EFIBOOT_ATTRIBUTES, order,
			order_len, d);
	if (r < 0)
		return r;
	if (ret_number)
		*ret_number = number;
	return 0;
}
