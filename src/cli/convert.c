/* mkdiskimage convert IN OUT: any format we read to any format we write, streamed by
 * format_copy() (format/copy.h); here the flags, the output's name and the messages. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/build.h"
#include "cli/build-options.h"
#include "format/copy.h"
#include "format/format.h"
#include "format/reader.h"
#include "spec/options.h"
#include "spec/spec.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/log.h"
#include "util/outfile.h"
#include "util/progress.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

struct convert_opts {
	const char *in, *out;
	const char *input_format; /* NULL: probe */
	const char *seed;
	/* the format options, set through build's setters (spec/options.c: .format_option) */
	struct image_spec *spec;
	bool progress_set, progress;
	bool output_device; /* OUT is a block device, written in place */
};

/* convert's own flags; the format options follow from the spec's table (build-options.c) */
static const struct cli_option convert_own_options[] = {
	{ .flag = "input-format", .arg = "FORMAT", .id = 'i', .complete = CLI_COMPLETE_ENUM,
	  .values = "raw qcow2 vdi vpc vmdk vhdx raw-compressed gce ova",
	  .help = "read IN as FORMAT (raw, qcow2, vdi, vpc, vmdk, vhdx, raw-compressed, gce or "
		  "ova) instead of detecting it" },
	{ .flag = "seed", .arg = "SEED", .id = 's',
	  .help = "derives the VDI/VHD identifiers (default: from OUT's file name and the disk "
		  "size)" },
	{ .flag = "output-device", .id = 'D',
	  .help = "OUT is a block device: write the raw image onto it in place (it must not be "
		  "mounted; format raw)" },
	{ .flag = "progress", .id = 'p', .usage = "--progress, --no-progress",
	  .help = "progress on stderr (default: when it is a terminal)" },
	{ .flag = "no-progress", .id = 'P' },
	{ .flag = "help", .short_flag = 'h', .id = 'h', .help = "show this help" },
};

void cli_convert_options(const struct cli_option **ret, size_t *ret_n)
{
	static struct cli_option *opts;
	static size_t n;

	if (!opts) {
		opts = xcalloc(spec_n_options + ARRAY_SIZE(convert_own_options), sizeof(*opts));
		for (size_t i = 0; i < spec_n_options; i++) {
			if (!spec_options[i].format_option)
				continue;
			cli_option_from_spec(&spec_options[i], /* brackets= */ false, &opts[n]);
			if (strcmp(opts[n].flag, "format") == 0) {
				free((char *)opts[n].help); /* build's: the default differs */
				opts[n].help = xasprintf("the output format: %s (default: from OUT's "
							 "extension)", format_names_or());
			}
			n++;
		}
		for (size_t i = 0; i < ARRAY_SIZE(convert_own_options); i++)
			opts[n++] = convert_own_options[i];
	}
	*ret = opts;
	*ret_n = n;
}

static void convert_apply(struct convert_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'i':
		o->input_format = arg;
		break;
	case 's':
		o->seed = arg;
		break;
	case 'D':
		o->output_device = true;
		break;
	case 'p':
	case 'P':
		o->progress_set = true;
		o->progress = c == 'p';
		break;
	}
}

/* build's format checks speak of spec keys ("compressionLevel applies to ..., set format =
 * qcow2-compressed"): say the flags instead. */
static int convert_flag_words(struct diag *d, int r)
{
	struct strbuf b = { 0 };
	_cleanup_free_ char *msg = NULL;
	const char *p = d->msg;

	for (size_t i = 0; i < spec_n_options; i++) {
		const struct spec_option *o = &spec_options[i];
		size_t len = o->key ? strlen(o->key) : 0;

		if (o->format_option && o->key && strncmp(p, o->key, len) == 0 && p[len] == ' ') {
			strbuf_appendf(&b, "--%s", o->flag);
			p += len;
			break;
		}
	}
	while (*p) {
		static const char *const from[] = { "set format = ", "set compression = " };
		static const char *const to[] = { "use --format ", "use --compression " };
		size_t k;

		for (k = 0; k < ARRAY_SIZE(from); k++)
			if (strncmp(p, from[k], strlen(from[k])) == 0)
				break;
		if (k < ARRAY_SIZE(from)) {
			strbuf_append(&b, to[k]);
			p += strlen(from[k]);
		} else
			strbuf_appendf(&b, "%c", *p++);
	}
	msg = strbuf_steal(&b);
	return diag_fail(d, r, "%s", msg);
}

static void convert_set_format(struct convert_opts *o, const char *name)
{
	free(o->spec->format);
	o->spec->format = xstrdup(name);
}

/* Returns 1 after --help. */
static int convert_parse(int argc, char **argv, struct convert_opts *o, struct diag *d)
{
	_cleanup_(cli_getopt_free) struct cli_getopt g = { 0 };
	_cleanup_free_ bool *seen = xcalloc(spec_n_options, sizeof(*seen));
	const struct spec_option *format_opt = spec_option_by_key("format");
	const struct spec_option *compression_opt = spec_option_by_key("compression");
	const struct spec_option *level_opt = spec_option_by_key("compressionLevel");
	const struct cli_option *opts;
	const struct format_ops *f;
	size_t n;
	int c, r;

	cli_convert_options(&opts, &n);
	cli_getopt_init(&g, opts, n);
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) != -1) {
		const struct spec_option *so = cli_spec_option(c);

		if (c == 'h') {
			_cleanup_free_ char *u = cli_command_usage(cli_command_find("convert"));

			fputs(u, stdout);
			return 1;
		}
		if (c == ':' || c == '?') {
			char msg[512];

			cli_bad_option_message("convert", c, argv, cli_option_flag_at, opts, n, msg,
					       sizeof(msg));
			return diag_fail(d, -EINVAL, "%s", msg);
		}
		if (so) {
			_cleanup_free_ char *what = xasprintf("--%s %s", so->flag, optarg);
			struct spec_arg a = {
				.text = optarg,
				.on = true,
				.what = what,
				.first = !seen[so - spec_options],
			};

			seen[so - spec_options] = true;
			r = spec_option_set(o->spec, so, &a, d);
			if (r < 0)
				return r;
			continue;
		}
		if (c == 's' && !*optarg)
			return diag_fail(d, -EINVAL, "--seed: empty");
		convert_apply(o, c, optarg);
	}
	if (argc - optind != 2)
		return diag_fail(d, -EINVAL, "convert takes IN and OUT (see mkdiskimage convert "
				 "--help)");
	o->in = argv[optind];
	o->out = argv[optind + 1];
	if (!seen[format_opt - spec_options]) {
		f = o->output_device ? format_find("raw") : format_from_file_name(o->out);
		if (!f)
			return diag_fail(d, -EINVAL, "%s: cannot tell the output format from the "
					 "name (use --format, or a .img, .qcow2, .vdi, .vhd, .vmdk or "
					 ".vhdx name)", o->out);
		convert_set_format(o, f->name);
	}
	f = format_find(o->spec->format);
	/* OUT.img.zst: raw compressed with zstd (.gz, .xz), unless --compress says */
	if (f && !seen[spec_option_by_key("compress") - spec_options] && !o->output_device &&
	    format_from_file_name(o->out) == f &&
	    format_file_compress_from_name(o->out) != FORMAT_FILE_COMPRESS_NONE)
		o->spec->file_compress = format_file_compress_from_name(o->out);
	/* as qemu-img -c: compression (or its level) makes a qcow2 output compressed */
	if (f && f->compressed &&
	    (seen[compression_opt - spec_options] || seen[level_opt - spec_options]))
		convert_set_format(o, f->compressed);
	/* the format options' checks of build (compression for a format without it, ...) */
	r = spec_validate_format(o->spec, d);
	if (r < 0)
		return convert_flag_words(d, r);
	if (o->output_device && strcmp(o->spec->format, "raw") != 0)
		return diag_fail(d, -EINVAL, "%s: --output-device writes raw images only, not "
				 "format %s", o->out, o->spec->format);
	return 0;
}

/* Name the output file in the message, unless the sink already did. */
static int convert_name_output(struct diag *d, int r, const char *out)
{
	if (strstr(diag_message(d, r), out))
		return r;
	return diag_prepend(d, r, "%s", out);
}

static int convert_run(struct convert_opts *o, struct diag *d)
{
	_cleanup_(image_input_freep) struct image_input *in = NULL;
	_cleanup_free_ char *seed = NULL;
	const struct format_ops *ops = format_find(o->spec->format);
	struct format_params fp;
	const char *base;
	struct build_env env;
	struct outfile *out = NULL;
	struct sink *s = NULL;
	struct progress prog;
	int r;

	r = outfile_check(o->out, o->output_device, d);
	if (r < 0)
		return r;
	r = image_reader_open(o->in, o->input_format, d, &in);
	if (r < 0)
		return r;

	base = strrchr(o->out, '/') ? strrchr(o->out, '/') + 1 : o->out;
	seed = o->seed ? xstrdup(o->seed)
		       : xasprintf("mkdiskimage-convert:%s:%llu", base,
				   (unsigned long long)in->reader->virtual_size);
	r = build_env_read(&env, d);
	if (r < 0)
		return r;
	/* build's own function: the same sink parameters for the same options */
	build_format_params(o->spec, &env, seed, in->reader->virtual_size, &fp);

	/* from here until the output is committed, SIGINT & co stop the conversion cleanly */
	interrupt_arm();
	r = o->output_device ? outfile_open_device(o->out, fp.virtual_size, d, &out)
			     : outfile_open(o->out, d, &out);
	if (r < 0)
		return r;
	r = sink_open(ops, &fp, out, d, &s);
	if (r < 0) {
		outfile_abort(out);
		return convert_name_output(d, r, o->out);
	}
	progress_init(&prog, o->progress_set ? o->progress : env.stderr_is_tty,
		      in->reader->virtual_size, 0);
	r = format_copy(in, s, &(struct format_copy_progress){ progress_update, &prog }, d);
	progress_done(&prog);
	if (r < 0) {
		sink_abort(s);
		return r;
	}
	r = sink_finish(s, d);
	if (r < 0)
		return convert_name_output(d, r, o->out);
	return 0;
}

int cli_convert(int argc, char **argv)
{
	_cleanup_(image_spec_freep) struct image_spec *spec = image_spec_new();
	struct convert_opts o = { .spec = spec };
	struct diag d = { 0 };
	int r;

	r = convert_parse(argc, argv, &o, &d);
	if (r == 1)
		return 0;
	if (r < 0) {
		log_error("%s", diag_message(&d, r));
		return CLI_EXIT_USAGE;
	}
	r = convert_run(&o, &d);
	interrupt_disarm();
	if (interrupt_pending()) {
		if (r < 0)
			log_error("%s: interrupted by %s; %s", o.out,
				  interrupt_name(interrupt_pending()),
				  o.output_device ? "the device holds a partial image"
						  : "not written (an existing file is unchanged)");
		interrupt_reraise();
	}
	if (r < 0) {
		log_error("%s", diag_message(&d, r));
		return 1;
	}
	return 0;
}
