/* JSON spec files: an object of make-disk-image's argument names (see spec_usage()); with
 * spec/disko.c, the one that reads its input with json-c. A null value keeps the earlier
 * (default) value; a key present replaces it (contents too: the list is not appended to). Keys
 * are looked up in the option table (options.c) and go through the same setters as the flags. */
#include "spec/options.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "spec/json-check.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/suggest.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define SPEC_JSON_MAX (16u << 20) /* a spec is small; refuse a mistaken multi-GiB file */

DEFINE_CLEANUP_FUNC(struct json_object, json_object_put)
DEFINE_CLEANUP_FUNC(struct json_tokener, json_tokener_free)

struct spec_json_ctx {
	struct image_spec *s;
	const char *base_dir; /* relative paths resolve against it */
	struct diag *d;
	const char *key; /* the top-level key being applied */
	char *at;        /* the key being applied, as json-check.h records it: an error's place */
};

/* The key being applied: "diskSize", "partitions[0].size" (owned by c). */
static void spec_json_at(struct spec_json_ctx *c, char *path)
{
	free(c->at);
	c->at = path;
}

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

int spec_json_additional_paths(struct spec_json_ctx *c, const char *key,
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

/* make-disk-image's VM memory: there is no VM, so any number or numeric string is fine. */
int spec_json_mem_size(struct spec_json_ctx *c, const char *key, struct json_object *v)
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
	spec_json_at(c, xasprintf("%s[%zu]", c->key, i));
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

		spec_json_at(c, xasprintf("%s[%zu].%s", c->key, i, k));
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

int spec_json_contents(struct spec_json_ctx *c, const char *key, struct json_object *v)
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
			spec_json_at(c, xasprintf("%s[%zu]", c->key, i)),
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

/* "partitions": the disk's own list (struct spec_partition). Paths resolve as every other
 * path of the file; "size" is "auto", "rest", a size ("512M") or a number of MiB (as
 * minSize, maxSize and additionalSpace: a number without a suffix is MiB everywhere). */
static const char *const spec_partition_keys[] = {
	"type",	      "label",	 "fsLabel", "uuid",	"fsUuid",	   "fs",
	"contents",   "size",	 "minSize", "maxSize",	"additionalSpace", "bootable",
	"required",   "noAuto",	 "readOnly", "growFileSystem",
};

static int spec_json_partition_unknown(struct spec_json_ctx *c, size_t i, const char *k)
{
	const char *best = suggest_nearest(k, spec_partition_keys, ARRAY_SIZE(spec_partition_keys));

	if (best)
		return diag_fail(c->d, -EINVAL, "partitions[%zu]: unknown key \"%s\" (did you mean "
				 "\"%s\"?)", i, k, best);
	return diag_fail(c->d, -EINVAL, "partitions[%zu]: unknown key \"%s\" (use type, label, "
			 "fsLabel, uuid, fsUuid, fs, contents, size, minSize, maxSize, "
			 "additionalSpace, bootable, required, noAuto, readOnly, growFileSystem)",
			 i, k);
}

/* "size": auto, rest, a size, or a number of MiB. */
static int spec_json_partition_size(struct spec_json_ctx *c, const char *name,
				    struct json_object *v, struct spec_partition *p)
{
	_cleanup_free_ char *t = NULL, *what = NULL;
	uint64_t n;
	int r;

	r = spec_json_text(c, name, v, true,
			   "\"auto\", \"rest\", a size such as \"512M\" or a number of MiB", &t,
			   &what);
	if (r < 0)
		return r;
	if (strcmp(t, "auto") == 0) {
		p->size_kind = SPEC_PART_SIZE_AUTO;
		p->size_bytes = 0;
		return 0;
	}
	if (strcmp(t, "rest") == 0) {
		p->size_kind = SPEC_PART_SIZE_REST;
		p->size_bytes = 0;
		return 0;
	}
	r = spec_set_size(&n, UINT64_MAX, "at most 16E", t, what, c->d);
	if (r < 0)
		return r;
	if (n == 0)
		return diag_fail(c->d, -EINVAL, "%s: must be at least 1 MiB (or use \"auto\" or "
				 "\"rest\")", what);
	p->size_kind = SPEC_PART_SIZE_FIXED;
	p->size_bytes = n;
	return 0;
}

/* minSize, maxSize, additionalSpace: a size ("512M") or a number of MiB. */
static int spec_json_partition_bytes(struct spec_json_ctx *c, const char *name,
				     struct json_object *v, uint64_t *field)
{
	_cleanup_free_ char *t = NULL, *what = NULL;
	int r = spec_json_text(c, name, v, true, "a size such as \"512M\" or a number of MiB", &t,
			       &what);

	if (r < 0)
		return r;
	return spec_set_size(field, UINT64_MAX, "at most 16E", t, what, c->d);
}

static int spec_json_partition_field(struct spec_json_ctx *c, size_t i, const char *k,
				     struct json_object *v, struct spec_partition *p)
{
	_cleanup_free_ char *name = xasprintf("partitions[%zu].%s", i, k);
	_cleanup_free_ char *t = NULL, *what = NULL;
	char **str = NULL;
	bool *flag = NULL;
	int r;

	if (strcmp(k, "size") == 0)
		return spec_json_partition_size(c, name, v, p);
	if (strcmp(k, "minSize") == 0)
		return spec_json_partition_bytes(c, name, v, &p->min_bytes);
	if (strcmp(k, "maxSize") == 0)
		return spec_json_partition_bytes(c, name, v, &p->max_bytes);
	if (strcmp(k, "additionalSpace") == 0) {
		p->additional_space_set = true;
		return spec_json_partition_bytes(c, name, v, &p->additional_space_bytes);
	}
	flag = strcmp(k, "bootable") == 0	  ? &p->bootable
	       : strcmp(k, "required") == 0	  ? &p->required
	       : strcmp(k, "noAuto") == 0	  ? &p->no_auto
	       : strcmp(k, "readOnly") == 0	  ? &p->read_only
	       : strcmp(k, "growFileSystem") == 0 ? &p->grow_fs
						  : NULL;
	if (flag)
		return spec_json_bool(c, name, v, flag);
	r = spec_json_text(c, name, v, false, strcmp(k, "contents") == 0 ? "a path" : "a string",
			   &t, &what);
	if (r < 0)
		return r;
	if (strcmp(k, "uuid") == 0)
		return spec_set_uuid(p->uuid, &p->uuid_set, t, what, c->d);
	if (strcmp(k, "fsUuid") == 0)
		return spec_set_uuid(p->fs_uuid, &p->fs_uuid_set, t, what, c->d);
	if (!*t)
		return diag_fail(c->d, -EINVAL, "%s: empty (omit it for the default)", name);
	if (strcmp(k, "contents") == 0) {
		spec_set_path(&p->contents, t, c->base_dir);
		return 0;
	}
	str = strcmp(k, "type") == 0	  ? &p->type
	      : strcmp(k, "label") == 0	  ? &p->label
	      : strcmp(k, "fsLabel") == 0 ? &p->fs_label
					  : &p->fs;
	free(*str);
	*str = TAKE_PTR(t);
	return 0;
}

static int spec_json_partition(struct spec_json_ctx *c, size_t i, struct json_object *o,
			       struct spec_partition *p)
{
	spec_json_at(c, xasprintf("%s[%zu]", c->key, i));
	if (!json_object_is_type(o, json_type_object))
		return diag_fail(c->d, -EINVAL, "partitions[%zu]: expected an object {type, size, "
				 "fs, ...}, got %s", i, json_type_to_name(json_object_get_type(o)));
	p->size_kind = SPEC_PART_SIZE_AUTO;
	json_object_object_foreach(o, k, v)
	{
		size_t j;
		int r;

		for (j = 0; j < ARRAY_SIZE(spec_partition_keys); j++)
			if (strcmp(k, spec_partition_keys[j]) == 0)
				break;
		spec_json_at(c, xasprintf("%s[%zu].%s", c->key, i, k));
		if (j == ARRAY_SIZE(spec_partition_keys))
			return spec_json_partition_unknown(c, i, k);
		if (!v)
			continue; /* null: the default */
		r = spec_json_partition_field(c, i, k, v, p);
		if (r < 0)
			return r;
	}
	spec_json_at(c, xasprintf("%s[%zu]", c->key, i));
	if (!p->type && p->fs && strcmp(p->fs, "vfat") == 0)
		p->type = xstrdup("basic-data"); /* a FAT data partition's type by default */
	if (!p->type)
		return diag_fail(c->d, -EINVAL, "partitions[%zu]: type missing (a role such as esp, "
				 "swap, root or linux, a GPT type GUID or an MBR type byte; a vfat "
				 "partition may leave it out: basic-data)", i);
	return 0;
}

int spec_json_partitions(struct spec_json_ctx *c, const char *key, struct json_object *v)
{
	struct spec_partition *parts;
	size_t n;

	if (!json_object_is_type(v, json_type_array))
		return spec_json_type_error(c, key, "a list of partitions {type, size, fs, ...}", v);
	n = json_object_array_length(v);
	parts = xcalloc(n ? n : 1, sizeof(*parts));
	for (size_t i = 0; i < n; i++) {
		int r = spec_json_partition(c, i, json_object_array_get_idx(v, i), &parts[i]);

		if (r < 0) {
			for (size_t j = 0; j <= i; j++)
				spec_partition_clear(&parts[j]);
			free(parts);
			return r;
		}
	}
	spec_partitions_clear(c->s);
	c->s->partitions = parts;
	c->s->n_partitions = n;
	return 0;
}

static const char *spec_json_key_at(const void *table, size_t i)
{
	return ((const struct spec_option *)table)[i].key;
}

static int spec_json_unknown_key(struct spec_json_ctx *c, const char *key)
{
	const char *best = suggest_nearest_in(key, spec_options, spec_n_options, spec_json_key_at);

	if (best)
		return diag_fail(c->d, -EINVAL, "unknown key \"%s\" (did you mean \"%s\"?)", key,
				 best);
	return diag_fail(c->d, -EINVAL,
			 "unknown key \"%s\" (see mkdiskimage build --help for the keys)", key);
}

/* One key's value through its option table entry: text for the setter (a number too, for
 * sizes and counts), a boolean, or the whole value for lists (.set_json). */
static int spec_json_option(struct spec_json_ctx *c, const struct spec_option *o, const char *key,
			    struct json_object *v)
{
	_cleanup_free_ char *t = NULL, *what = NULL;
	struct spec_arg a = { .what = key, .base_dir = c->base_dir };
	bool number = o->type == SPEC_OPT_SIZE || o->type == SPEC_OPT_SIZE_OR_AUTO ||
		      o->type == SPEC_OPT_UINT;
	int r;

	if (o->set_json)
		return o->set_json(c, key, v);
	if (o->type == SPEC_OPT_BOOL) {
		r = spec_json_bool(c, key, v, &a.on);
		if (r < 0)
			return r;
		return spec_option_set(c->s, o, &a, c->d);
	}
	r = spec_json_text(c, key, v, number, spec_option_expected(o), &t, &what);
	if (r < 0)
		return r;
	a.text = t;
	a.what = what;
	return spec_option_set(c->s, o, &a, c->d);
}

static int spec_json_apply(struct spec_json_ctx *c, struct json_object *top)
{
	json_object_object_foreach(top, key, v)
	{
		const struct spec_option *o = spec_option_by_key(key);
		int r;

		c->key = key;
		spec_json_at(c, xstrdup(key));
		if (!o)
			return spec_json_unknown_key(c, key);
		if (!v)
			continue; /* null: keep the default */
		r = spec_json_option(c, o, key, v);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Parse text into an object: strict JSON (json-check.c names FILE:LINE:COLUMN and what was
 * expected; json-c then builds the values). *ret_keys (when set): where each key is. */
static int spec_json_parse(const char *path, const char *text, size_t len, struct diag *d,
			   struct json_object **ret, struct json_check *ret_keys)
{
	_cleanup_(json_tokener_freep) struct json_tokener *tok = json_tokener_new();
	_cleanup_(json_object_putp) struct json_object *o = NULL;
	struct json_check keys;
	enum json_tokener_error err;
	size_t end, line = 1, col = 1;
	int r;

	if (!tok)
		abort(); /* allocation failure: as xmalloc */
	if (len > INT32_MAX)
		return diag_fail(d, -EFBIG, "%s: spec file too large", path);
	r = json_check(text, len, path, d, &keys);
	if (r < 0)
		return r;
	/* json-check.c accepted it: json-c must too (strict, as a second opinion) */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
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
		r = diag_fail(d, -EINVAL, "%s: not valid JSON: unexpected end of file", path);
	else if (err != json_tokener_success)
		r = diag_fail(d, -EINVAL, "%s:%zu:%zu: not valid JSON: %s", path, line, col,
			      json_tokener_error_desc(err));
	else if (end < len)
		r = diag_fail(d, -EINVAL, "%s:%zu:%zu: not valid JSON: text after the spec object",
			      path, line, col);
	else if (!json_object_is_type(o, json_type_object))
		r = diag_fail(d, -EINVAL, "%s: the spec must be a JSON object { \"key\": value }",
			      path);
	if (r < 0 || !ret_keys)
		json_check_free(&keys);
	if (r < 0)
		return r;
	if (ret_keys)
		*ret_keys = keys;
	*ret = TAKE_PTR(o);
	return 0;
}

int spec_load_json(struct image_spec *s, const char *path, struct diag *d)
{
	_cleanup_(json_object_putp) struct json_object *top = NULL;
	_cleanup_free_ uint8_t *text = NULL;
	_cleanup_free_ char *dir = NULL;
	struct json_check keys = { 0 };
	const char *slash;
	size_t len;
	int r;

	r = read_file(path, SPEC_JSON_MAX, &text, &len);
	if (r < 0)
		return diag_fail(d, r, "%s: cannot read spec file: %s", path, strerror(-r));
	r = spec_json_parse(path, (const char *)text, len, d, &top, &keys);
	if (r < 0)
		return r;

	slash = strrchr(path, '/');
	if (slash)
		dir = xstrndup(path, (size_t)(slash - path)); /* "" for /x.json: paths get "/" */
	struct spec_json_ctx c = { .s = s, .base_dir = dir, .d = d };

	r = spec_json_apply(&c, top);
	if (r < 0) {
		/* the place of the key (a partition's or a contents entry's, else the top one) */
		const struct json_key_pos *at = json_check_find(&keys, c.at);

		if (!at)
			at = json_check_find(&keys, c.key);
		if (at)
			r = diag_prepend(d, r, "%s:%u:%u", path, at->line, at->col);
		else
			r = diag_prepend(d, r, "%s", path);
	}
	free(c.at);
	json_check_free(&keys);
	return r < 0 ? r : 0;
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

	r = spec_json_parse(what, text, len, d, &top, NULL);
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
