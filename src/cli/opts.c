/* The option tables' machinery (opts.h): getopt_long's tables, unknown-flag messages with the
 * nearest valid flag, and the --help text. */
#include "cli/opts.h"

#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/suggest.h"
#include "util/xalloc.h"

#define USAGE_COLUMN 31
#define USAGE_WIDTH 87

void cli_getopt_init(struct cli_getopt *g, const struct cli_option *opts, size_t n)
{
	size_t k = 0, m = 0;

	g->longopts = xcalloc(n + 1, sizeof(*g->longopts));
	g->shortopts[k++] = ':';
	for (size_t i = 0; i < n; i++) {
		const struct cli_option *o = &opts[i];

		if (o->flag)
			g->longopts[m++] = (struct option){
				o->flag, o->arg ? required_argument : no_argument, NULL, o->id };
		if (o->short_flag && k + 3 < sizeof(g->shortopts)) {
			g->shortopts[k++] = o->short_flag;
			if (o->arg)
				g->shortopts[k++] = ':';
		}
	}
	g->shortopts[k] = '\0';
}

void cli_getopt_free(struct cli_getopt *g)
{
	free(g->longopts);
	g->longopts = NULL;
}

void cli_bad_option_message(const char *command, int c, char **argv,
			    const char *(*flag_at)(const void *table, size_t i), const void *table,
			    size_t n, char *buf, size_t cap)
{
	const char *opt = argv[optind - 1];
	char shortopt[3] = { '-', (char)optopt, '\0' };
	_cleanup_free_ char *word = NULL;
	const char *near = NULL;

	/* An unknown short option may sit inside a cluster (-xo): name the letter. */
	if (optopt && !(opt[0] == '-' && opt[1] == '-'))
		opt = shortopt;
	if (c == ':') {
		snprintf(buf, cap, "%s needs a value (see mkdiskimage %s --help)", opt, command);
		return;
	}
	if (opt[0] == '-' && opt[1] == '-') {
		word = xstrndup(opt + 2, strcspn(opt + 2, "="));
		opt = word;
		near = suggest_nearest_in(word, table, n, flag_at);
		if (near && strcmp(near, word) == 0) { /* --json=1: a switch given a value */
			snprintf(buf, cap, "--%s takes no value (see mkdiskimage %s --help)", word,
				 command);
			return;
		}
		snprintf(buf, cap, "unknown option --%s%s%s%s (see mkdiskimage %s --help)", word,
			 near ? "; did you mean --" : "", near ? near : "", near ? "?" : "",
			 command);
		return;
	}
	snprintf(buf, cap, "unknown option %s (see mkdiskimage %s --help)", opt, command);
}

const char *cli_option_flag_at(const void *table, size_t i)
{
	return ((const struct cli_option *)table)[i].flag;
}

int cli_bad_option(const char *command, int c, char **argv, const struct cli_option *opts,
		   size_t n)
{
	char msg[512];

	cli_bad_option_message(command, c, argv, cli_option_flag_at, opts, n, msg, sizeof(msg));
	log_error("%s", msg);
	return CLI_EXIT_USAGE;
}

char *cli_usage(const struct cli_command *c)
{
	struct strbuf b = { 0 };
	const struct cli_option *opts;
	size_t n;

	strbuf_appendf(&b, "Usage: mkdiskimage %s %s\n", c->name, c->synopsis);
	for (const char *p = c->description; p && *p;) {
		size_t len = strstr(p, "\n\n") ? (size_t)(strstr(p, "\n\n") - p) : strlen(p);
		_cleanup_free_ char *para = xstrndup(p, len);

		strbuf_append(&b, "\n");
		strbuf_wrap(&b, para, 0, 0, USAGE_WIDTH);
		p += len;
		p += strspn(p, "\n");
	}
	c->options(&opts, &n);
	if (n)
		strbuf_append(&b, "\n");
	for (size_t i = 0; i < n; i++) {
		const struct cli_option *o = &opts[i];
		_cleanup_free_ char *left = NULL;

		if (!o->help)
			continue;
		if (o->usage)
			left = xasprintf("      %s", o->usage);
		else if (o->short_flag && o->flag)
			left = xasprintf("  -%c, --%s%s%s", o->short_flag, o->flag, o->arg ? " " : "",
					 o->arg ? o->arg : "");
		else
			left = xasprintf("      --%s%s%s", o->flag, o->arg ? " " : "",
					 o->arg ? o->arg : "");
		strbuf_append(&b, left);
		if (strlen(left) + 2 > USAGE_COLUMN) {
			strbuf_append(&b, "\n");
			strbuf_wrap(&b, o->help, 0, USAGE_COLUMN, USAGE_WIDTH);
		} else
			strbuf_wrap(&b, o->help, strlen(left), USAGE_COLUMN, USAGE_WIDTH);
	}
	return strbuf_steal(&b);
}
