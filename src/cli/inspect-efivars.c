/* mkdiskimage inspect on a UEFI variable store (efi-vars.fd, OVMF_VARS.fd): its live variables
 * with the boot manager's ones decoded (Boot#### as description and device path text,
 * BootOrder as a list). The store is parsed by boot/efivars.c, which checks every length. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/efivars.h"
#include "boot/loadopt.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/jsonw.h"
#include "util/log.h"
#include "util/uuid.h"

bool cli_inspect_is_efivars(const char *path)
{
	uint8_t head[EFIVARS_FV_MIN_SIZE];
	/* not waiting on a FIFO: only a file or a block device is looked at (image_reader_open
	 * refuses the rest with a message) */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	bool is = false;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) &&
	    pread_full(fd, head, sizeof(head), 0) == 0)
		is = efivars_probe(head, sizeof(head));
	close(fd);
	return is;
}

/* "NV|BS|RT" for the attribute bits UEFI names (§8.2), others in hex. */
static void attr_text(uint32_t a, char *buf, size_t size)
{
	static const char *const names[] = { "NV", "BS", "RT", "HR", "AW", "AT", "AP" };
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (a & (1u << i))
			n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "|" : "", names[i]);
	if (a >> 7)
		snprintf(buf + n, size - n, "%s0x%x", n ? "|" : "", a & ~0x7fu);
}

static void print_var_text(const struct efivars_var *x, const struct efivars_value *val,
			   const char *err)
{
	char u[UUID_STR_LEN], attrs[64];

	uuid_format(x->vendor, u);
	attr_text(x->attributes, attrs, sizeof(attrs));
	printf("  %s %s %s, %u bytes", x->name, u, attrs, x->data_size);
	if (err) {
		printf(": undecodable: %s\n", err);
		return;
	}
	switch (val->kind) {
	case EFIVARS_VALUE_LOAD_OPTION:
		printf(": %s\"%s\" %s%s\n", val->attributes & LOADOPT_ACTIVE ? "" : "inactive ",
		       val->description, val->path, val->optional_len ? " +optional data" : "");
		break;
	case EFIVARS_VALUE_ORDER:
		printf(":");
		for (size_t i = 0; i < val->n_order; i++)
			printf("%s%04X", i ? "," : " ", val->order[i]);
		printf("\n");
		break;
	case EFIVARS_VALUE_U16:
		printf(": %u\n", val->u16);
		break;
	default:
		printf("\n");
	}
}

static void print_var_json(struct jsonw *w, const struct efivars_var *x,
			   const struct efivars_value *val, const char *err)
{
	char u[UUID_STR_LEN];

	uuid_format(x->vendor, u);
	jsonw_object_begin(w, NULL);
	jsonw_string(w, "name", x->name);
	jsonw_string(w, "vendor", u);
	jsonw_uint(w, "attributes", x->attributes);
	jsonw_uint(w, "dataSize", x->data_size);
	if (err)
		jsonw_string(w, "error", err);
	else if (val->kind == EFIVARS_VALUE_LOAD_OPTION) {
		jsonw_bool(w, "active", val->attributes & LOADOPT_ACTIVE);
		jsonw_string(w, "description", val->description);
		jsonw_string(w, "devicePath", val->path);
		jsonw_uint(w, "optionalDataSize", val->optional_len);
	} else if (val->kind == EFIVARS_VALUE_ORDER) {
		jsonw_array_begin(w, "order");
		for (size_t i = 0; i < val->n_order; i++)
			jsonw_uint(w, NULL, val->order[i]);
		jsonw_array_end(w);
	} else if (val->kind == EFIVARS_VALUE_U16)
		jsonw_uint(w, "value", val->u16);
	jsonw_object_end(w);
}

int cli_inspect_efivars(const char *path, bool json)
{
	_cleanup_(efivars_freep) struct efivars *v = NULL;
	struct diag d = { 0 };
	size_t n_live = 0;
	struct jsonw w;
	int r;

	r = efivars_load(path, &d, &v);
	if (r < 0) {
		log_error("%s", diag_message(&d, r));
		return 1;
	}
	for (size_t i = 0; i < v->n_vars; i++)
		n_live += v->vars[i].live;
	if (json) {
		jsonw_init(&w, stdout);
		jsonw_object_begin(&w, NULL);
		jsonw_string(&w, "file", path);
		jsonw_string(&w, "type", "efi-variable-store");
		jsonw_uint(&w, "size", v->len);
		jsonw_uint(&w, "volumeSize", v->fv_len);
		jsonw_bool(&w, "authenticated", v->authenticated);
		jsonw_uint(&w, "storeSize", v->store_end - v->store_off);
		jsonw_uint(&w, "free", v->store_end - v->free_off);
		jsonw_uint(&w, "deleted", v->n_vars - n_live);
		jsonw_array_begin(&w, "variables");
	} else {
		printf("%s: UEFI variable store (%s), %zu bytes, volume %llu bytes\n", path,
		       v->authenticated ? "authenticated" : "plain", v->len,
		       (unsigned long long)v->fv_len);
		printf("  store %llu bytes, %llu free; %zu variables, %zu deleted copies\n",
		       (unsigned long long)(v->store_end - v->store_off),
		       (unsigned long long)(v->store_end - v->free_off), n_live,
		       v->n_vars - n_live);
	}
	for (size_t i = 0; i < v->n_vars; i++) {
		const struct efivars_var *x = &v->vars[i];
		struct efivars_value val;
		struct diag vd = { 0 };
		const char *err = NULL;

		if (!x->live)
			continue;
		r = efivars_value_decode(v, x, &vd, &val);
		if (r < 0)
			err = diag_message(&vd, r);
		if (json)
			print_var_json(&w, x, &val, err);
		else
			print_var_text(x, &val, err);
		efivars_value_done(&val);
	}
	if (json) {
		jsonw_array_end(&w);
		jsonw_object_end(&w);
	}
	return 0;
}
