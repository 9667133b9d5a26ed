/* JSON spec files: an object of make-disk-image's argument names (see spec_usage()). The only
 * file that includes json-c. A null value keeps the earlier (default) value; a key present
 * replaces it (contents too: the list is not appended to). Values go through the same setters
 * as the flags (values.c). */
#include "spec/spec-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define SPEC_JSON_MAX (16u << 20) /* a spec is small; refuse a mistaken multi-GiB file */

DEFINE_CLEANUP_FUNC(struct json_object, json_object_put)
DEFINE_CLEANUP_FUNC(struct json_tokener, json_tokener_free)

struct spec_json_ctx {
	struct image_spec *s;
	const char *base_dir; /* relative paths resolve against it */
	struct diag *d;
};

typedef int (*spec_json_fn)(struct spec_json_ctx *c, const char *key, struct json_object *v);

static int spec_json_type_error(struct spec_json_ctx *c, const char *key, const char *expected,
				struct json_object *v)
{
	return diag_fail(c->d, -EINVAL, "%s: expected %s, got %s", key, expected,
			 json_type_to_name(json_object_get_type(v)));
}

/* A JSON integer as decimal text, so numbers and strings share one parser. */
static char *spec_json_int_text(struct json_object *v)
{
	int64_t i = json_object_get_int64(v);

	if (i >= 0)
		return xasprintf("%" PRIu64, json_object_get_uint64(v));
	return xasprintf("%" PRId64, i);
}

/* The value as text: a string as is, an integer (and, when allow_number, a double) in
 * decimal. *ret_what is the input as messages name it: key "text" or key 123. */
static int spec_json_text(struct spec_json_ctx *c, const char *key, struct json_object *v,
			  bool allow_number, const char *expected, char **ret, char **ret_what)
{
	char *t;

	switch (json_object_get_type(v)) {
	case json_type_string:
		/* a JSON NUL character would cut the C string short: refuse, not truncate */
		if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
			return diag_fail(c->d, -EINVAL, "%s: contains a NUL character (\\u0000)",
					 key);
		t = xstrdup(json_object_get_string(v));
		*ret_what = xasprintf("%s \"%s\"", key, t);
		break;
	case json_type_int:
		if (!allow_number)
			return spec_json_type_error(c, key, expected, v);
		t = spec_json_int_text(v);
		*ret_what = xasprintf("%s %s", key, t);
		break;
	case json_type_double:
		if (!allow_number)
			return spec_json_type_error(c, key, expected, v);
		t = xasprintf("%.17g", json_object_get_double(v));
		*ret_what = xasprintf("%s %s", key, t);
		break;
	default:
		return spec_json_type_error(c, key, expected, v);
	}
	*ret = t;
	return 0;
}

static int spec_json_bool(struct spec_json_ctx *c, const char *key, struct json_object *v,
			  bool *field)
{
	if (!json_object_is_type(v, json_type_boolean))
		return spec_json_type_error(c, key, "true or false", v);
	*field = json_object_get_boolean(v);
	return 0;
}

/* Keys whose value is text (or a number written as text) handled by one setter. */
#define SPEC_JSON_TEXT_KEY(name, allow_number, expected, call)                              \
	static int name(struct spec_json_ctx *c, const char *key, struct json_object *v)     \
	{                                                                                    \
		_cleanup_free_ char *t = NULL, *what = NULL;                                 \
		struct image_spec *s = c->s;                                                 \
		int r = spec_json_text(c, key, v, allow_number, expected, &t, &what);        \
                                                                                             \
		if (r < 0)                                                                   \
			return r;                                                            \
		(void)s;                                                                     \
		return call;                                                                 \
	}

SPEC_JSON_TEXT_KEY(spec_json_root, false, "a path", spec_set_root(s, t, c->base_dir, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_esp, false, "a path",
		   spec_set_boot_tree(&s->esp, t, c->base_dir, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_xbootldr, false, "a path",
		   spec_set_boot_tree(&s->xbootldr, t, c->base_dir, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_part_table, false, "a string", spec_set_part_table(s, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_fs_type, false, "a string", spec_set_fs_type(s, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_label, false, "a string", spec_set_label(s, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_disk_size, true, "\"auto\" or a number of MiB",
		   spec_set_disk_size(s, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_additional_space, true, "a size such as \"512M\"",
		   spec_set_size(&s->additional_space_bytes, SPEC_ADDITIONAL_SPACE_MAX,
				     SPEC_ADDITIONAL_SPACE_LIMIT, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_boot_size, true, "a size such as \"256M\"",
		   spec_set_size(&s->boot_size_bytes, SPEC_BOOT_SIZE_MAX,
				     SPEC_BOOT_SIZE_LIMIT, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_format, false, "a string", spec_set_format(s, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_base_name, false, "a string", spec_set_base_name(s, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_seed, false, "a string", spec_set_seed(s, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_root_gpuid, false, "a UUID string",
		   spec_set_uuid(s->root_gpuid, &s->root_gpuid_set, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_root_fsuid, false, "a UUID string",
		   spec_set_uuid(s->root_fsuid, &s->root_fsuid_set, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_owner, false, "a string \"UID:GID\"",
		   spec_set_owner(s, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_arch, false, "a string", spec_set_arch(s, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_reserved_percent, true, "a whole number from 0 to 50",
		   spec_set_reserved_percent(s, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_cluster_size, true, "a size such as \"64K\"",
		   spec_set_cluster_size(s, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_compression, false, "a string",
		   spec_set_compression(s, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_compression_level, true, "a compression level",
		   spec_set_compression_level(s, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_threads, true, "a number of threads",
		   spec_set_threads(s, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_closure_info, false, "a path",
		   (spec_set_path(&s->closure_info, t, c->base_dir), 0))
SPEC_JSON_TEXT_KEY(spec_json_bootloader, false, "a string",
		   spec_set_bootloader(s, t, what, c->d))
SPEC_JSON_TEXT_KEY(spec_json_kernel, false, "a path",
		   (spec_set_path(&s->kernel, t, c->base_dir), 0))
SPEC_JSON_TEXT_KEY(spec_json_initrd, false, "a path",
		   (spec_set_path(&s->initrd, t, c->base_dir), 0))
SPEC_JSON_TEXT_KEY(spec_json_cmdline, false, "a string",
		   (free(s->cmdline), s->cmdline = xstrdup(t), 0))
SPEC_JSON_TEXT_KEY(spec_json_systemd_boot_efi, false, "a path",
		   (spec_set_path(&s->systemd_boot_efi, t, c->base_dir), 0))
SPEC_JSON_TEXT_KEY(spec_json_grub_dir, false, "a path",
		   (spec_set_path(&s->grub_dir, t, c->base_dir), 0))
SPEC_JSON_TEXT_KEY(spec_json_grub_efi_dir, false, "a path",
		   (spec_set_path(&s->grub_efi_dir, t, c->base_dir), 0))
SPEC_JSON_TEXT_KEY(spec_json_system, false, "a path",
		   (spec_set_path(&s->system, t, c->base_dir), 0))
SPEC_JSON_TEXT_KEY(spec_json_channel, false, "a path",
		   (spec_set_path(&s->channel, t, c->base_dir), s->copy_channel = true, 0))
SPEC_JSON_TEXT_KEY(spec_json_passwd, false, "a path",
		   (spec_set_path(&s->passwd_file, t, c->base_dir), 0))
SPEC_JSON_TEXT_KEY(spec_json_group, false, "a path",
		   (spec_set_path(&s->group_file, t, c->base_dir), 0))
SPEC_JSON_TEXT_KEY(spec_json_efi_vars_template, false, "a path",
		   (spec_set_path(&s->efi_vars_template, t, c->base_dir), 0))
SPEC_JSON_TEXT_KEY(spec_json_efi_vars_out, false, "a path",
		   (spec_set_path(&s->efi_vars_out, t, c->base_dir), 0))
SPEC_JSON_TEXT_KEY(spec_json_vpc_subformat, false, "a string",
		   spec_set_vpc_subformat(s, t, what, c->d))

static int spec_json_deterministic(struct spec_json_ctx *c, const char *key, struct json_object *v)
{
	return spec_json_bool(c, key, v, &c->s->deterministic);
}

static int spec_json_generic_root(struct spec_json_ctx *c, const char *key, struct json_object *v)
{
	return spec_json_bool(c, key, v, &c->s->generic_root_type);
}

static int spec_json_install_bootloader(struct spec_json_ctx *c, const char *key,
					struct json_object *v)
{
	c->s->install_bootloader_set = json_object_is_type(v, json_type_boolean);
	return spec_json_bool(c, key, v, &c->s->install_bootloader);
}

static int spec_json_touch_efi_vars(struct spec_json_ctx *c, const char *key,
				    struct json_object *v)
{
	return spec_json_bool(c, key, v, &c->s->touch_efi_vars);
}

static int spec_json_only_nix_store(struct spec_json_ctx *c, const char *key,
				    struct json_object *v)
{
	return spec_json_bool(c, key, v, &c->s->only_nix_store);
}

static int spec_json_copy_channel(struct spec_json_ctx *c, const char *key, struct json_object *v)
{
	return spec_json_bool(c, key, v, &c->s->copy_channel);
}

static int spec_json_additional_paths(struct spec_json_ctx *c, const char *key,
				      struct json_object *v)
{
	size_t n;

	if (!json_object_is_type(v, json_type_array))
		return spec_json_type_error(c, key, "a list of store paths", v);
	n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
			return diag_fail(c->d, -EINVAL, "%s[%zu]: expected a string, got %s", key,
					 i,
					 json_type_to_name(json_object_get_type(
						 json_object_array_get_idx(v, i))));
	c->s->n_additional_paths = n;
	return 0;
}

static int spec_json_config_file(struct spec_json_ctx *c, const char *key, struct json_object *v)
{
	if (!json_object_is_type(v, json_type_string))
		return spec_json_type_error(c, key, "a path", v);
	free(c->s->config_file);
	c->s->config_file = spec_path_resolve(c->base_dir, json_object_get_string(v));
	return 0;
}

/* make-disk-image's VM memory: there is no VM, so any number or numeric string is fine. */
static int spec_json_mem_size(struct spec_json_ctx *c, const char *key, struct json_object *v)
{
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_string))
		return spec_json_type_error(c, key, "a number of MiB", v);
	return 0;
}

/* One contents field: a string (user and group may also be numeric ids), or null. */
static int spec_json_entry_field(struct spec_json_ctx *c, size_t i, const char *field,
				 struct json_object *v, bool allow_int, char **ret)
{
	if (json_object_is_type(v, json_type_int) && allow_int) {
		*ret = spec_json_int_text(v);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return diag_fail(c->d, -EINVAL, "contents[%zu].%s: expected %s, got %s", i, field,
				 allow_int ? "a name or a numeric id" :
				 strcmp(field, "mode") == 0 ? "a string such as \"0644\"" :
							      "a string",
				 json_type_to_name(json_object_get_type(v)));
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return diag_fail(c->d, -EINVAL,
				 "contents[%zu].%s: contains a NUL character (\\u0000)", i, field);
	*ret = xstrdup(json_object_get_string(v));
	return 0;
}

static void spec_entry_free(struct contents_entry *e)
{
	free(e->source);
	free(e->target);
	free(e->mode);
	free(e->user);
	free(e->group);
	memset(e, 0, sizeof(*e));
}

static int spec_json_entry(struct spec_json_ctx *c, size_t i, struct json_object *o,
			   struct contents_entry *e)
{
	if (!json_object_is_type(o, json_type_object))
		return diag_fail(c->d, -EINVAL,
				 "contents[%zu]: expected an object {source, target, mode, user, "
				 "group}, got %s",
				 i, json_type_to_name(json_object_get_type(o)));
	json_object_object_foreach(o, k, v)
	{
		char **field;
		bool allow_int = false;
		int r;

		if (strcmp(k, "source") == 0)
			field = &e->source;
		else if (strcmp(k, "target") == 0)
			field = &e->target;
		else if (strcmp(k, "mode") == 0)
			field = &e->mode;
		else if (strcmp(k, "user") == 0)
			field = &e->user, allow_int = true;
		else if (strcmp(k, "group") == 0)
			field = &e->group, allow_int = true;
		else
			return diag_fail(c->d, -EINVAL,
					 "contents[%zu]: unknown key \"%s\" (use source, target, "
					 "mode, user, group)",
					 i, k);
		if (!v)
			continue; /* null: unset */
		free(*field);
		*field = NULL;
		r = spec_json_entry_field(c, i, k, v, allow_int, field);
		if (r < 0)
			return r;
	}
	return 0;
}

static int spec_json_contents(struct spec_json_ctx *c, const char *key, struct json_object *v)
{
	size_t n;

	if (!json_object_is_type(v, json_type_array))
		return spec_json_type_error(c, key, "a list of {source, target, mode, user, group}",
					    v);
	spec_contents_clear(c->s);
	n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++) {
		struct contents_entry e = {};
		int r = spec_json_entry(c, i, json_object_array_get_idx(v, i), &e);

		if (r >= 0 && (!e.source || !e.target))
			r = diag_fail(c->d, -EINVAL, "contents[%zu]: %s missing", i,
				      e.source ? "target" : "source");
		if (r >= 0)
			spec_contents_add(c->s, &e, c->base_dir);
		spec_entry_free(&e);
		if (r < 0)
			return r;
	}
	return 0;
}

static const struct {
	const char *key;
	spec_json_fn fn;
} spec_json_keys[] = {
	{ "root", spec_json_root },
	{ "esp", spec_json_esp },
	{ "xbootldr", spec_json_xbootldr },
	{ "contents", spec_json_contents },
	{ "partitionTableType", spec_json_part_table },
	{ "fsType", spec_json_fs_type },
	{ "label", spec_json_label },
	{ "diskSize", spec_json_disk_size },
	{ "additionalSpace", spec_json_additional_space },
	{ "bootSize", spec_json_boot_size },
	{ "format", spec_json_format },
	{ "baseName", spec_json_base_name },
	{ "deterministic", spec_json_deterministic },
	{ "seed", spec_json_seed },
	{ "rootGPUID", spec_json_root_gpuid },
	{ "rootFSUID", spec_json_root_fsuid },
	{ "owner", spec_json_owner },
	{ "arch", spec_json_arch },
	{ "genericRootType", spec_json_generic_root },
	{ "reservedPercent", spec_json_reserved_percent },
	{ "clusterSize", spec_json_cluster_size },
	{ "compression", spec_json_compression },
	{ "compressionLevel", spec_json_compression_level },
	{ "threads", spec_json_threads },
	{ "vpcSubformat", spec_json_vpc_subformat },
	{ "installBootLoader", spec_json_install_bootloader },
	{ "touchEFIVars", spec_json_touch_efi_vars },
	{ "efiVariables", spec_json_efi_vars_template },
	{ "efiVarsOut", spec_json_efi_vars_out },
	{ "onlyNixStore", spec_json_only_nix_store },
	{ "copyChannel", spec_json_copy_channel },
	{ "additionalPaths", spec_json_additional_paths },
	{ "configFile", spec_json_config_file },
	{ "closureInfo", spec_json_closure_info },
	{ "system", spec_json_system },
	{ "channel", spec_json_channel },
	{ "passwd", spec_json_passwd },
	{ "group", spec_json_group },
	{ "memSize", spec_json_mem_size },
	{ "bootloader", spec_json_bootloader },
	{ "kernel", spec_json_kernel },
	{ "initrd", spec_json_initrd },
	{ "cmdline", spec_json_cmdline },
	{ "systemdBootEfi", spec_json_systemd_boot_efi },
	{ "grubDir", spec_json_grub_dir },
	{ "grubEfiDir", spec_json_grub_efi_dir },
};

/* Edit distance, capped: enough to suggest "rootGPUID" for "rootGpuid" or "diskSzie". */
static size_t spec_json_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= ARRAY_SIZE(prev) || lb >= ARRAY_SIZE(prev))
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t ins = MIN(prev[j] + 1, cur[j - 1] + 1);

			if ((a[i - 1] | 0x20) == (b[j - 1] | 0x20))
				sub = prev[j - 1]; /* case alone is no real edit */
			cur[j] = MIN(sub, ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

static int spec_json_unknown_key(struct spec_json_ctx *c, const char *key)
{
	const char *best = NULL;
	size_t best_dist = 3; /* suggest only close matches */

	for (size_t i = 0; i < ARRAY_SIZE(spec_json_keys); i++) {
		size_t dist = spec_json_distance(key, spec_json_keys[i].key);

		if (dist < best_dist) {
			best = spec_json_keys[i].key;
			best_dist = dist;
		}
	}
	if (best)
		return diag_fail(c->d, -EINVAL, "unknown key \"%s\" (did you mean \"%s\"?)", key,
				 best);
	return diag_fail(c->d, -EINVAL,
			 "unknown key \"%s\" (see mkdiskimage build --help for the keys)", key);
}

static int spec_json_apply(struct spec_json_ctx *c, struct json_object *top)
{
	json_object_object_foreach(top, key, v)
	{
		size_t i;
		int r;

		for (i = 0; i < ARRAY_SIZE(spec_json_keys); i++)
			if (strcmp(key, spec_json_keys[i].key) == 0)
				break;
		if (i == ARRAY_SIZE(spec_json_keys))
			return spec_json_unknown_key(c, key);
		if (!v)
			continue; /* null: keep the default */
		r = spec_json_keys[i].fn(c, key, v);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Parse text into an object, with line:column in the message on a syntax error. */
static int spec_json_parse(const char *path, const char *text, size_t len, struct diag *d,
			   struct json_object **ret)
{
	_cleanup_(json_tokener_freep) struct json_tokener *tok = json_tokener_new();
	_cleanup_(json_object_putp) struct json_object *o = NULL;
	enum json_tokener_error err;
	size_t end, line = 1, col = 1;

	if (!tok)
		abort(); /* allocation failure: as xmalloc */
	if (len > INT32_MAX)
		return diag_fail(d, -EFBIG, "%s: spec file too large", path);
	o = json_tokener_parse_ex(tok, text, (int)len);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (err == json_tokener_success)
		while (end < len && strchr(" \t\r\n", text[end]))
			end++;
	for (size_t i = 0; i < end && i < len; i++, col++)
		if (text[i] == '\n')
			line++, col = 0;
	if (err == json_tokener_continue)
		return diag_fail(d, -EINVAL, "%s: not valid JSON: unexpected end of file", path);
	if (err != json_tokener_success)
		return diag_fail(d, -EINVAL, "%s:%zu:%zu: not valid JSON: %s", path, line, col,
				 json_tokener_error_desc(err));
	if (end < len)
		return diag_fail(d, -EINVAL, "%s:%zu:%zu: not valid JSON: text after the spec object",
				 path, line, col);
	if (!json_object_is_type(o, json_type_object))
		return diag_fail(d, -EINVAL, "%s: the spec must be a JSON object { \"key\": value }",
				 path);
	*ret = TAKE_PTR(o);
	return 0;
}

int spec_load_json(struct image_spec *s, const char *path, struct diag *d)
{
	_cleanup_(json_object_putp) struct json_object *top = NULL;
	_cleanup_free_ uint8_t *text = NULL;
	_cleanup_free_ char *dir = NULL;
	const char *slash;
	size_t len;
	int r;

	r = read_file(path, SPEC_JSON_MAX, &text, &len);
	if (r < 0)
		return diag_fail(d, r, "%s: cannot read spec file: %s", path, strerror(-r));
	r = spec_json_parse(path, (const char *)text, len, d, &top);
	if (r < 0)
		return r;

	slash = strrchr(path, '/');
	if (slash)
		dir = xstrndup(path, (size_t)(slash - path)); /* "" for /x.json: paths get "/" */
	struct spec_json_ctx c = { .s = s, .base_dir = dir, .d = d };

	r = spec_json_apply(&c, top);
	if (r < 0)
		return diag_prepend(d, r, "%s", path);
	return 0;
}

/* Bootspec (boot.json) for boot/bootspec.c: json-c stays in this file. */
static int bootspec_json_string(struct json_object *o, const char *key, bool required,
				const char *what, struct diag *d, char **ret)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
		if (required)
			return diag_fail(d, -EBADMSG, "%s: org.nixos.bootspec.v1.%s missing", what,
					 key);
		*ret = NULL;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string) || !*json_object_get_string(v))
		return diag_fail(d, -EBADMSG, "%s: org.nixos.bootspec.v1.%s: expected a non-empty "
				 "string", what, key);
	*ret = xstrdup(json_object_get_string(v));
	return 0;
}

int bootspec_json_parse(const char *text, size_t len, const char *what, struct diag *d,
			struct boot_entry **ret)
{
	_cleanup_(json_object_putp) struct json_object *top = NULL;
	struct boot_entry *e;
	struct json_object *o, *params;
	size_t n, used = 0;
	int r;

	r = spec_json_parse(what, text, len, d, &top);
	if (r < 0)
		return -EBADMSG;
	if (!json_object_object_get_ex(top, "org.nixos.bootspec.v1", &o) ||
	    !json_object_is_type(o, json_type_object))
		return diag_fail(d, -EBADMSG, "%s: no \"org.nixos.bootspec.v1\" object (not a "
				 "bootspec v1 document)", what);
	e = xcalloc(1, sizeof(*e));
	r = bootspec_json_string(o, "kernel", true, what, d, &e->kernel);
	if (r >= 0)
		r = bootspec_json_string(o, "initrd", false, what, d, &e->initrd);
	if (r >= 0)
		r = bootspec_json_string(o, "init", true, what, d, &e->init);
	if (r >= 0)
		r = bootspec_json_string(o, "label", false, what, d, &e->label);
	if (r >= 0)
		r = bootspec_json_string(o, "toplevel", false, what, d, &e->toplevel);
	if (r >= 0 && (!json_object_object_get_ex(o, "kernelParams", &params) ||
		       !json_object_is_type(params, json_type_array)))
		r = diag_fail(d, -EBADMSG, "%s: org.nixos.bootspec.v1.kernelParams: expected a "
			      "list of strings", what);
	if (r < 0) {
		boot_entry_free(e);
		return r;
	}
	n = json_object_array_length(params);
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(params, i);

		if (!json_object_is_type(p, json_type_string)) {
			boot_entry_free(e);
			return diag_fail(d, -EBADMSG,
					 "%s: org.nixos.bootspec.v1.kernelParams[%zu]: expected a "
					 "string", what, i);
		}
		used += strlen(json_object_get_string(p)) + 1;
	}
	e->params = xcalloc(1, used + 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(e->params, " ");
		strcat(e->params, json_object_get_string(json_object_array_get_idx(params, i)));
	}
	*ret = e;
	return 0;
}
