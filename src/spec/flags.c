/* `mkdiskimage build` flags. Every --spec FILE is loaded first (in order), then every other
 * flag is applied, so flags override spec files wherever they appear on the line. getopt's
 * options are made from the option table (options.c), and each flag goes through its entry's
 * setter, the same as its spec key's. */
#include "spec/options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/suggest.h"
#include "util/xalloc.h"

/* getopt_long's value of a long option: OPT_BASE + its index in spec_options. */
#define OPT_BASE 0x100

/* Split at unescaped ':' into at most max fields ("\:" is ':', "\\" is '\'). Returns the
 * number of fields, or -EINVAL for more than max or a dangling '\'. */
static int spec_split_fields(const char *arg, char **fields, int max)
{
	size_t len = strlen(arg);
	int n = 0;
	char *out;

	fields[n++] = out = xmalloc(len + 1);
	for (const char *p = arg; *p; p++) {
		if (*p == '\\') {
			if (p[1] != ':' && p[1] != '\\')
				return -EINVAL;
			*out++ = *++p;
		} else if (*p == ':') {
			*out = '\0';
			if (n == max)
				return -EINVAL;
			fields[n++] = out = xmalloc(len + 1);
		} else
			*out++ = *p;
	}
	*out = '\0';
	return n;
}

int spec_set_contents_flag(struct image_spec *s, const struct spec_arg *a, struct diag *d)
{
	const char *arg = a->text;
	char *f[5] = {};
	int n = spec_split_fields(arg, f, 5);
	int r = 0;
	struct contents_entry e = {
		.source = f[0],
		.target = f[1],
		.mode = n > 2 && *f[2] ? f[2] : NULL,
		.user = n > 3 && *f[3] ? f[3] : NULL,
		.group = n > 4 && *f[4] ? f[4] : NULL,
	};

	if (n < 2)
		r = diag_fail(d, -EINVAL,
			      "--contents %s: expected SRC:TARGET[:MODE[:USER:GROUP]] (write ':' in "
			      "a path as '\\:')",
			      arg);
	else if (!!e.user != !!e.group)
		r = diag_fail(d, -EINVAL, "--contents %s: %s set without %s (use "
			      "SRC:TARGET:MODE:USER:GROUP)",
			      arg, e.user ? "user" : "group", e.user ? "group" : "user");
	else {
		if (a->first)
			spec_contents_clear(s); /* the flags' list replaces the spec's */
		spec_contents_add(s, &e, /* base_dir= */ NULL);
	}
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		free(f[i]);
	return r;
}

static const char *spec_flag_at(const void *table, size_t i)
{
	return ((const struct spec_option *)table)[i].flag;
}

static int spec_bad_option(int c, char **argv, struct diag *d)
{
	const char *opt = argv[optind - 1], *near;
	char shortopt[3] = { '-', (char)optopt, '\0' };
	_cleanup_free_ char *word = NULL;

	/* An unknown short option may sit inside a cluster (-xo): name the letter. */
	if (optopt && !(opt[0] == '-' && opt[1] == '-'))
		opt = shortopt;
	if (c == ':')
		return diag_fail(d, -EINVAL, "%s needs a value (see mkdiskimage build --help)", opt);
	if (opt[0] != '-' || opt[1] != '-')
		return diag_fail(d, -EINVAL, "unknown option %s (see mkdiskimage build --help)", opt);
	/* --partion-table=gpt: the flag's name alone, and the nearest valid one */
	word = xstrndup(opt + 2, strcspn(opt + 2, "="));
	near = suggest_nearest_in(word, spec_options, spec_n_options, spec_flag_at);
	if (near && strcmp(near, word) == 0) /* --json=1: a switch given a value */
		return diag_fail(d, -EINVAL, "--%s takes no value (see mkdiskimage build --help)",
				 word);
	if (near)
		return diag_fail(d, -EINVAL, "unknown option --%s; did you mean --%s? (see "
				 "mkdiskimage build --help)", word, near);
	return diag_fail(d, -EINVAL, "unknown option --%s (see mkdiskimage build --help)", word);
}

/* getopt_long's tables, made from spec_options: long options (with a terminating zero entry)
 * and the short ones (':' first: report a missing argument as ':', not '?'). */
struct spec_getopt {
	struct option *longopts;
	char shortopts[16];
};

static void spec_getopt_free(struct spec_getopt *g)
{
	free(g->longopts);
}

static void spec_getopt_init(struct spec_getopt *g)
{
	size_t n = 0, k = 0;

	g->longopts = xcalloc(spec_n_options + 1, sizeof(*g->longopts));
	g->shortopts[k++] = ':';
	for (size_t i = 0; i < spec_n_options; i++) {
		const struct spec_option *o = &spec_options[i];

		if (!o->flag)
			continue;
		g->longopts[n++] = (struct option){ o->flag, o->arg ? required_argument : no_argument,
						    NULL, OPT_BASE + (int)i };
		if (o->short_flag && k + 3 < sizeof(g->shortopts)) {
			g->shortopts[k++] = o->short_flag;
			if (o->arg)
				g->shortopts[k++] = ':';
		}
	}
	g->shortopts[k] = '\0';
}

/* The entry getopt_long's return value c names, NULL for '?' and ':'. */
static const struct spec_option *spec_getopt_option(int c)
{
	if (c >= OPT_BASE && (size_t)(c - OPT_BASE) < spec_n_options)
		return &spec_options[c - OPT_BASE];
	for (size_t i = 0; i < spec_n_options; i++)
		if (spec_options[i].short_flag && spec_options[i].short_flag == c)
			return &spec_options[i];
	return NULL;
}

static bool spec_option_is(const struct spec_option *o, const char *flag)
{
	return o && o->flag && strcmp(o->flag, flag) == 0;
}

int spec_parse_args(struct image_spec *s, int argc, char **argv, struct diag *d)
{
	_cleanup_free_ const char **specs = xcalloc((size_t)argc, sizeof(*specs));
	_cleanup_free_ bool *seen = xcalloc(spec_n_options, sizeof(*seen));
	_cleanup_(spec_getopt_free) struct spec_getopt g = { 0 };
	const struct spec_option *o;
	size_t n_specs = 0;
	int c, r;

	spec_getopt_init(&g);

	/* Pass 1: --help (which wins over any error), usage errors, the spec files' names.
	 * optind = 0 restarts getopt (a glibc rule). */
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) != -1) {
		o = spec_getopt_option(c);
		if (spec_option_is(o, "help")) {
			s->help = true;
			return 0;
		}
		if (spec_option_is(o, "spec"))
			specs[n_specs++] = optarg;
	}
	optind = 0;
	while ((c = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) != -1)
		if (c == '?' || c == ':') {
			s->usage_error = true;
			return spec_bad_option(c, argv, d);
		}
	s->usage_error = optind < argc;
	if (optind < argc)
		return diag_fail(d, -EINVAL,
				 "unexpected argument \"%s\" (the image file goes after -o)",
				 argv[optind]);

	for (size_t i = 0; i < n_specs; i++) {
		r = spec_load_json(s, specs[i], d);
		if (r < 0)
			return r;
	}

	/* Pass 2: every other flag, over whatever the files said. */
	optind = 0;
	while ((c = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) != -1) {
		_cleanup_free_ char *what = NULL;
		struct spec_arg a;

		o = spec_getopt_option(c);
		if (!o)
			return diag_fail(d, -EINVAL, "unhandled option %d", c); /* a getopt bug */
		if (spec_option_is(o, "spec"))
			continue;
		if (optarg && o->arg)
			what = xasprintf("--%s %s", o->flag, optarg);
		a = (struct spec_arg){
			.text = o->arg ? optarg : NULL,
			.on = !o->off,
			.what = what,
			.base_dir = NULL, /* relative to the working directory */
			.first = !seen[o - spec_options],
		};
		seen[o - spec_options] = true;
		r = spec_option_set(s, o, &a, d);
		if (r < 0) {
			s->usage_error = true; /* a bad flag value */
			return r;
		}
	}
	return 0;
}
