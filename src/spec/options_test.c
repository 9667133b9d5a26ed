#include "spec/options.h"

#include <string.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/test.h"
#include "util/xalloc.h"

/* The table's own rules: every entry is a key or a flag (or both), names are unique, a value
 * has a setter (its own, or the generic one of a string, path or bool type), --help shows it. */
TEST(options_table_consistent)
{
	size_t n_keys = 0, n_flags = 0;

	for (size_t i = 0; i < spec_n_options; i++) {
		const struct spec_option *o = &spec_options[i];

		if (!o->key && !o->flag)
			TEST_FAIL_("entry %zu has neither key nor flag", i);
		n_keys += !!o->key;
		n_flags += !!o->flag;
		for (size_t j = i + 1; j < spec_n_options; j++) {
			const struct spec_option *p = &spec_options[j];

			if (o->key && p->key && strcmp(o->key, p->key) == 0)
				TEST_FAIL_("key %s twice", o->key);
			if (o->flag && p->flag && strcmp(o->flag, p->flag) == 0)
				TEST_FAIL_("flag --%s twice", o->flag);
			if (o->short_flag && o->short_flag == p->short_flag)
				TEST_FAIL_("flag -%c twice", o->short_flag);
		}
		if (o->key && o->type == SPEC_OPT_LIST && !o->set_json)
			TEST_FAIL_("list key %s has no JSON parser", o->key);
		if (!o->set && o->type != SPEC_OPT_STRING && o->type != SPEC_OPT_PATH &&
		    o->type != SPEC_OPT_BOOL && !(o->set_json && !o->flag) &&
		    strcmp(o->flag ? o->flag : "", "spec") != 0)
			TEST_FAIL_("%s has no setter", o->key ? o->key : o->flag);
		if (o->flag && o->type == SPEC_OPT_BOOL && o->arg)
			TEST_FAIL_("switch --%s takes a value", o->flag);
		if (o->flag && o->type != SPEC_OPT_BOOL && !o->arg)
			TEST_FAIL_("--%s takes no value", o->flag);
		if (o->flag && o->help) {
			_cleanup_free_ char *f = xasprintf("--%s", o->flag);

			if (!strstr(spec_usage(), f))
				TEST_FAIL_("--help lacks %s", f);
		}
		if (o->key && !o->flag && !strstr(spec_usage(), o->key))
			TEST_FAIL_("--help lacks key %s", o->key);
	}
	ASSERT_TRUE(n_keys >= 47);
	ASSERT_TRUE(n_flags >= 51);
	ASSERT_TRUE(spec_option_by_key("diskSize") != NULL);
	ASSERT_TRUE(spec_option_by_key("disk-size") == NULL);
	ASSERT_STR_EQ(spec_option_by_key("diskSize")->flag, "disk-size");
}

/* --help is made from the table: a flag's line names its key, long text wraps under it. */
TEST(options_usage_layout)
{
	const char *u = spec_usage();

	ASSERT_TRUE(strstr(u, "\n      --disk-size auto|MIB     [diskSize] \"auto\" (default) or ") !=
		    NULL);
	ASSERT_TRUE(strstr(u, "\n  -o, --output OUT             the image file") != NULL);
	ASSERT_TRUE(strstr(u, "\n      --additional-space SIZE  [additionalSpace] free space auto "
			   "sizing adds (512M)\n") != NULL);
	ASSERT_TRUE(strstr(u, "\n      --progress, --no-progress\n                               "
			   "force progress") != NULL);
	ASSERT_TRUE(strstr(u, "--no-progress  ") == NULL); /* no line of its own */
	for (const char *l = u; *l; l = strchr(l, '\n') + 1) {
		size_t n = strcspn(l, "\n");

		if (n > 87 && memchr(l + 32, ' ', n - 32))
			TEST_FAIL_("line longer than 87 columns: %.*s", (int)n, l);
	}
}

/* The generic setters: a path resolves against the spec file's directory, a switch sets its
 * value, a string is copied as given. */
TEST(options_generic_setters)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct spec_arg a = { .text = "k/vmlinuz", .what = "kernel \"k/vmlinuz\"", .base_dir = "/d" };
	struct diag d = { 0 };

	ASSERT_OK(spec_option_set(s, spec_option_by_key("kernel"), &a, &d));
	ASSERT_STR_EQ(s->kernel, "/d/k/vmlinuz");
	a.text = "quiet";
	ASSERT_OK(spec_option_set(s, spec_option_by_key("cmdline"), &a, &d));
	ASSERT_STR_EQ(s->cmdline, "quiet");
	a = (struct spec_arg){ .on = false };
	ASSERT_OK(spec_option_set(s, spec_option_by_key("deterministic"), &a, &d));
	ASSERT_TRUE(!s->deterministic);
	ASSERT_STR_EQ(spec_option_expected(spec_option_by_key("kernel")), "a path");
	ASSERT_STR_EQ(spec_option_expected(spec_option_by_key("owner")), "a string \"UID:GID\"");
}

/* .values (the completions' list) of an enum flag: each value is one its setter takes, and a
 * word outside the list is refused; format's list is the format table's (so it has none). And
 * the format options `convert` takes are the ones format.c knows as such, plus format. */
TEST(options_enum_values)
{
	size_t n_format_options = 0;

	for (size_t i = 0; i < spec_n_options; i++) {
		const struct spec_option *o = &spec_options[i];
		_cleanup_free_ char *list = NULL;
		char *save = NULL;

		n_format_options += o->format_option;
		if (o->type != SPEC_OPT_ENUM) {
			if (o->values)
				TEST_FAIL_("%s has values but is no enum", o->key ? o->key : o->flag);
			continue;
		}
		if (!o->values) {
			if (strcmp(o->key, "format") != 0)
				TEST_FAIL_("enum %s has no values", o->key);
			continue;
		}
		list = xstrdup(o->values);
		for (char *v = strtok_r(list, " ", &save); v; v = strtok_r(NULL, " ", &save)) {
			_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
			struct spec_arg a = { .text = v, .what = v };
			struct diag d = { 0 };

			if (spec_option_set(s, o, &a, &d) < 0)
				TEST_FAIL_("%s: listed value %s refused: %s", o->key, v, d.msg);
		}
		{
			_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
			struct spec_arg a = { .text = "no-such-value", .what = "x" };
			struct diag d = { 0 };

			if (spec_option_set(s, o, &a, &d) >= 0)
				TEST_FAIL_("%s takes any word", o->key);
		}
	}
	ASSERT_TRUE(n_format_options == 11);
	ASSERT_TRUE(spec_option_by_key("compressionLevel")->format_option);
}
