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
#include "format/copy.h"
#include "format/format.h"
#include "format/reader.h"
#include "spec/spec.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/log.h"
#include "util/outfile.h"
#include "util/progress.h"
#include "util/xalloc.h"

struct convert_opts {
	const char *in, *out;
	const char *format;       /* spec format name */
	const char *input_format; /* NULL: probe */
	const char *seed;
	struct format_params fp;
	bool compression_set;
	bool progress_set, progress;
	bool output_device; /* OUT is a block device, written in place */
};

/* A printf format: %s is the list of output formats. */
static const char convert_usage[] =
	"Usage: mkdiskimage convert IN OUT [OPTIONS]\n"
	"\n"
	"Converts a disk image between raw, qcow2 (plain or compressed with deflate or zstd),\n"
	"VDI and VHD. The input format is detected; the output format comes from --format or\n"
	"OUT's extension (.img/.raw raw, .qcow2, .vdi, .vhd vpc). An existing OUT file is\n"
	"replaced when the image is complete; devices, FIFOs and sockets are refused.\n"
	"\n"
	"      --format FORMAT        %s\n"
	"      --input-format FORMAT  read IN as FORMAT instead of detecting it\n"
	"      --compression ALG      deflate (default) or zstd: a compressed qcow2\n"
	"      --threads N            compression threads (0: one per core, the default)\n"
	"      --cluster-size SIZE    qcow2 cluster size, 512 to 2M (64K)\n"
	"      --vpc-subformat TYPE   dynamic (default) or fixed\n"
	"      --seed SEED            derives the VDI/VHD identifiers (default: from OUT's\n"
	"                             file name and the disk size)\n"
	"      --output-device        OUT is a block device: write the raw image onto it in\n"
	"                             place (it must not be mounted; format raw)\n"
	"      --progress, --no-progress\n"
	"                             progress on stderr (default: when it is a terminal)\n"
	"  -h, --help                 show this help\n";

static int convert_parse_u32(const char *opt, const char *v, uint32_t max, uint32_t *ret,
			     struct diag *d)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (!*v || *v == '-' || *v == '+' || *end || errno || n > max)
		return diag_fail(d, -EINVAL, "--%s %s: not a whole number from 0 to %u", opt, v,
				 max);
	*ret = (uint32_t)n;
	return 0;
}

static int convert_apply(struct convert_opts *o, int c, const char *arg, struct diag *d)
{
	uint64_t n;

	switch (c) {
	case 'f':
		o->format = arg;
		return 0;
	case 'i':
		o->input_format = arg;
		return 0;
	case 'c':
		o->compression_set = true;
		if (strcmp(arg, "deflate") == 0 || strcmp(arg, "zlib") == 0)
			o->fp.compression = FORMAT_COMPRESSION_DEFLATE;
		else if (strcmp(arg, "zstd") == 0)
			o->fp.compression = FORMAT_COMPRESSION_ZSTD;
		else
			return diag_fail(d, -EINVAL, "--compression %s: unknown (use deflate or zstd)",
					 arg);
		return 0;
	case 't':
		return convert_parse_u32("threads", arg, 1024, &o->fp.n_threads, d);
	case 'C':
		if (size_parse(arg, &n) < 0 || n < 512 || n > (2u << 20) || (n & (n - 1)) != 0)
			return diag_fail(d, -EINVAL, "--cluster-size %s: not a power of two from "
					 "512 to 2M (use e.g. 64K)", arg);
		o->fp.cluster_size = (uint32_t)n;
		return 0;
	case 'v':
		if (strcmp(arg, "dynamic") == 0)
			o->fp.vpc_subformat = FORMAT_VPC_DYNAMIC;
		else if (strcmp(arg, "fixed") == 0)
			o->fp.vpc_subformat = FORMAT_VPC_FIXED;
		else
			return diag_fail(d, -EINVAL,
					 "--vpc-subformat %s: unknown (use dynamic or fixed)", arg);
		return 0;
	case 's':
		if (!*arg)
			return diag_fail(d, -EINVAL, "--seed: empty");
		o->seed = arg;
		return 0;
	case 'D':
		o->output_device = true;
		return 0;
	case 'p':
	case 'P':
		o->progress_set = true;
		o->progress = c == 'p';
		return 0;
	}
	return diag_fail(d, -EINVAL, "unhandled option %d", c);
}

/* Returns 1 after --help. */
static int convert_parse(int argc, char **argv, struct convert_opts *o, struct diag *d)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "input-format", required_argument, NULL, 'i' },
		{ "compression", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		{ "cluster-size", required_argument, NULL, 'C' },
		{ "vpc-subformat", required_argument, NULL, 'v' },
		{ "seed", required_argument, NULL, 's' },
		{ "output-device", no_argument, NULL, 'D' },
		{ "progress", no_argument, NULL, 'p' },
		{ "no-progress", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const struct format_ops *f;
	int c, r;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf(convert_usage, format_names_or());
			return 1;
		}
		if (c == ':')
			return diag_fail(d, -EINVAL, "%s needs a value (see mkdiskimage convert "
					 "--help)", argv[optind - 1]);
		if (c == '?')
			return diag_fail(d, -EINVAL, "unknown option %s (see mkdiskimage convert "
					 "--help)", argv[optind - 1]);
		r = convert_apply(o, c, optarg, d);
		if (r < 0)
			return r;
	}
	if (argc - optind != 2)
		return diag_fail(d, -EINVAL, "convert takes IN and OUT (see mkdiskimage convert "
				 "--help)");
	o->in = argv[optind];
	o->out = argv[optind + 1];
	if (!o->format && o->output_device)
		o->format = "raw";
	else if (!o->format)
		o->format = format_from_file_name(o->out) ? format_from_file_name(o->out)->name : NULL;
	if (!o->format)
		return diag_fail(d, -EINVAL, "%s: cannot tell the output format from the name (use "
				 "--format, or a .img, .qcow2, .vdi or .vhd name)", o->out);
	f = format_find(o->format);
	if (!f)
		return diag_fail(d, -EINVAL, "--format %s: unknown (use %s)", o->format,
				 format_names_or());
	/* as qemu-img -c: compression makes a qcow2 output compressed */
	if (o->compression_set && f->compressed) {
		f = format_find(f->compressed);
		o->format = f->name;
	}
	if (format_accepts(f, FORMAT_OPT_COMPRESSION)) {
		if (!o->compression_set)
			o->fp.compression = FORMAT_COMPRESSION_DEFLATE;
	} else if (o->compression_set)
		return diag_fail(d, -EINVAL, "--compression applies to %s, not %s",
				 format_names_accepting(FORMAT_OPT_COMPRESSION), o->format);
	if (o->output_device && strcmp(o->format, "raw") != 0)
		return diag_fail(d, -EINVAL, "%s: --output-device writes raw images only, not "
				 "format %s", o->out, o->format);
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
	const struct format_ops *ops = format_find(o->format);
	const char *base;
	struct build_env env;
	struct outfile *out = NULL;
	struct sink *s = NULL;
	struct progress prog;
	int r;

	if (!ops)
		return diag_fail(d, -ENOTSUP, "format %s is not supported by this build (use one "
				 "of %s)", o->format, format_names());
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
	o->fp.virtual_size = in->reader->virtual_size;
	o->fp.seed = seed;
	r = build_env_read(&env, d);
	if (r < 0)
		return r;
	o->fp.timestamp = env.has_epoch ? env.source_date_epoch : 0;

	/* from here until the output is committed, SIGINT & co stop the conversion cleanly */
	interrupt_arm();
	r = o->output_device ? outfile_open_device(o->out, o->fp.virtual_size, d, &out)
			     : outfile_open(o->out, d, &out);
	if (r < 0)
		return r;
	r = sink_open(ops, &o->fp, out, d, &s);
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
	struct convert_opts o = { 0 };
	struct diag d = { 0 };
	int r;

	r = convert_parse(argc, argv, &o, &d);
	if (r == 1)
		return 0;
	if (r < 0) {
		log_error("%s", diag_message(&d, r));
		return 2;
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
