/* The option tables of build and convert (opts.h) made from the spec's (spec/options.c): build
 * takes every flag of it, convert the output format's (.format_option). A flag's id is
 * CLI_SPEC_ID + its index in spec_options. */
#include "cli/build-options.h"

#include <string.h>

#include "format/format.h"
#include "spec/options.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* "raw qcow2 qcow2-compressed vdi vpc": the format table's names. */
static const char *format_values(void)
{
	static char *values;
	struct strbuf b = { 0 };
	const struct format_ops *const *all;
	size_t n;

	if (values)
		return values;
	all = format_list(&n);
	for (size_t i = 0; i < n; i++)
		strbuf_appendf(&b, "%s%s", i ? " " : "", all[i]->name);
	values = strbuf_steal(&b); /* once; kept for the process's life */
	return values;
}

static enum cli_complete spec_complete(const struct spec_option *o)
{
	if (o->type == SPEC_OPT_ENUM)
		return CLI_COMPLETE_ENUM;
	if (o->type != SPEC_OPT_PATH)
		return CLI_COMPLETE_TEXT;
	if (strcmp(o->arg, "DIR") == 0 || strcmp(o->arg, "TOPLEVEL") == 0 ||
	    strcmp(o->arg, "PATH") == 0)
		return CLI_COMPLETE_DIR;
	return CLI_COMPLETE_FILE;
}

void cli_option_from_spec(const struct spec_option *o, bool brackets, struct cli_option *ret)
{
	_cleanup_free_ char *bracket = NULL;

	bracket = !brackets ? NULL
		  : o->bracket ? xstrdup(o->bracket)
		  : o->key     ? xasprintf("[%s]", o->key)
			       : NULL;
	*ret = (struct cli_option){
		.flag = o->flag,
		.short_flag = o->short_flag,
		.arg = o->arg,
		.id = CLI_SPEC_ID + (int)(o - spec_options),
		.complete = spec_complete(o),
		.values = o->type != SPEC_OPT_ENUM ? NULL
			  : o->values              ? o->values
						   : format_values(),
		.repeat = o->type == SPEC_OPT_LIST || strcmp(o->flag, "spec") == 0,
		.usage = o->usage,
		.help = !o->help ? NULL
			: xasprintf("%s%s%s%s%s%s", bracket ? bracket : "", bracket ? " " : "",
				    o->help, o->def ? " (" : "", o->def ? o->def : "",
				    o->def ? ")" : ""),
	};
}

void cli_build_options(const struct cli_option **ret, size_t *ret_n)
{
	static struct cli_option *opts;
	static size_t n;

	if (!opts) {
		opts = xcalloc(spec_n_options, sizeof(*opts));
		for (size_t i = 0; i < spec_n_options; i++)
			if (spec_options[i].flag)
				cli_option_from_spec(&spec_options[i], /* brackets= */ true,
						     &opts[n++]);
	}
	*ret = opts;
	*ret_n = n;
}

const struct spec_option *cli_spec_option(int id)
{
	if (id >= CLI_SPEC_ID && (size_t)(id - CLI_SPEC_ID) < spec_n_options)
		return &spec_options[id - CLI_SPEC_ID];
	return NULL;
}
