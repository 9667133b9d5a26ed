/* mkdiskimage resize IMAGE SIZE: the flags, the size argument and the one summary line; the
 * work is resize/resize.c's. */
#include "cli/cli.h"
#include "cli/opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build/build.h"
#include "resize/resize.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/interrupt.h"
#include "util/jsonw.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

enum {
	OPT_PARTITION = 'n',
	OPT_FORMAT = 'f',
	OPT_QUIET = 'q',
	OPT_JSON = 'j',
	OPT_HELP = 'h',
};

static const struct cli_option resize_options[] = {
	{ .flag = "partition", .arg = "N", .id = OPT_PARTITION,
	  .help = "grow partition N (default: the partition that ends last; with no partition "
		  "table, the filesystem on the whole disk)" },
	{ .flag = "format", .arg = "FORMAT", .id = OPT_FORMAT, .complete = CLI_COMPLETE_ENUM,
	  .values = "raw qcow2 vdi vpc vmdk",
	  .help = "read IMAGE as FORMAT (raw, qcow2, vdi, vpc or vmdk) instead of detecting it" },
	{ .flag = "quiet", .short_flag = 'q', .id = OPT_QUIET,
	  .help = "no summary line (\"resized IMAGE: ...\"); errors still go to stderr" },
	{ .flag = "json", .id = OPT_JSON,
	  .help = "print a machine-readable report on stdout (the summary line stays on stderr)" },
	{ .flag = "help", .short_flag = 'h', .id = OPT_HELP, .help = "show this help" },
};

void cli_resize_options(const struct cli_option **ret, size_t *ret_n)
{
	*ret = resize_options;
	*ret_n = ARRAY_SIZE(resize_options);
}

struct resize_opts {
	struct resize_params p;
	const char *size_arg;
	bool quiet, json;
};

static int parse_size(const char *s, struct resize_params *p, struct diag *d)
{
	int r = resize_size_parse(s, &p->size, &p->relative);

	if (r == -ERANGE)
		return diag_fail(d, -EINVAL, "SIZE '%s' is too large", s);
	if (r < 0)
		return diag_fail(d, -EINVAL, "SIZE '%s' is not a size: give bytes with a suffix "
				 "(100G, 512M), a number of MiB, or +N to add (+10G)", s);
	return 0;
}

/* Returns 1 after --help. */
static int resize_parse(int argc, char **argv, struct resize_opts *o, struct diag *d)
{
	_cleanup_(cli_getopt_free) struct cli_getopt g = { 0 };
	char *end;
	unsigned long n;
	int c;

	cli_getopt_init(&g, resize_options, ARRAY_SIZE(resize_options));
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) != -1) {
		switch (c) {
		case OPT_HELP: {
			_cleanup_free_ char *u = cli_command_usage(cli_command_find("resize"));

			fputs(u, stdout);
			return 1;
		}
		case OPT_PARTITION:
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || n == 0 || n > UINT32_MAX ||
			    optarg[0] == '-' || optarg[0] == '+')
				return diag_fail(d, -EINVAL, "--partition '%s': give a partition "
						 "number (1, 2, ...)", optarg);
			o->p.partition = (uint32_t)n;
			break;
		case OPT_FORMAT:
			o->p.format = optarg;
			break;
		case OPT_QUIET:
			o->quiet = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		default: {
			char msg[512];

			cli_bad_option_message("resize", c, argv, cli_option_flag_at,
					       resize_options, ARRAY_SIZE(resize_options), msg,
					       sizeof(msg));
			return diag_fail(d, -EINVAL, "%s", msg);
		}
		}
	}
	if (argc - optind != 2)
		return diag_fail(d, -EINVAL, "resize takes IMAGE and SIZE (see mkdiskimage resize "
				 "--help)");
	o->p.path = argv[optind];
	o->size_arg = argv[optind + 1];
	return parse_size(o->size_arg, &o->p, d);
}

/* "2 GiB", "1.9 GiB", "300 MiB", "512 KiB": tenths truncated, so that a size just under a
 * whole number never reads as that number ("99.9 GiB", not "100.0 GiB"). */
static const char *size_text(uint64_t n, char buf[32])
{
	static const char *const units[] = { "GiB", "MiB", "KiB" };
	static const unsigned shifts[] = { 30, 20, 10 };

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		uint64_t u = 1ull << shifts[i];

		if (n < u)
			continue;
		if (n % u == 0)
			snprintf(buf, 32, "%llu %s", (unsigned long long)(n / u), units[i]);
		else
			snprintf(buf, 32, "%llu.%llu %s", (unsigned long long)(n / u),
				 (unsigned long long)(n % u * 10 / u), units[i]);
		return buf;
	}
	snprintf(buf, 32, "%llu bytes", (unsigned long long)n);
	return buf;
}

static const char *fs_action_text(const struct resize_result *r, char *buf, size_t cap)
{
	const struct resize_fs *f = &r->fs;

	switch (f->action) {
	case RESIZE_FS_EXT4:
		snprintf(buf, cap, "ext4 grown from %u to %u block groups (%llu to %llu blocks)",
			 f->ext4.old_groups, f->ext4.new_groups,
			 (unsigned long long)f->ext4.old_blocks,
			 (unsigned long long)f->ext4.new_blocks);
		break;
	case RESIZE_FS_FAT:
		snprintf(buf, cap, "the FAT filesystem keeps its size (FAT is not grown; only the "
			 "partition)");
		break;
	case RESIZE_FS_SWAP:
		snprintf(buf, cap, "swap header grown from %llu to %llu pages",
			 (unsigned long long)f->swap_old_pages,
			 (unsigned long long)f->swap_new_pages);
		break;
	case RESIZE_FS_UNCHANGED:
		snprintf(buf, cap, "the %s filesystem is unchanged", f->type ? f->type : "");
		break;
	case RESIZE_FS_UNKNOWN:
		snprintf(buf, cap, "no filesystem recognised in it (only the partition grew)");
		break;
	}
	return buf;
}

static void print_summary(const struct resize_opts *o, const struct resize_result *r)
{
	char a[32], b[32], c[32], e[32], fsw[160];
	struct strbuf s = { 0 };
	_cleanup_free_ char *line = NULL;

	if (r->nothing) {
		log_info("%s: already %s and partition %u fills it: nothing to do", o->p.path,
			 size_text(r->new_size, a), r->part.number);
		return;
	}
	strbuf_appendf(&s, "resized %s: %s → %s", o->p.path, size_text(r->old_size, a),
		       size_text(r->new_size, b));
	if (r->asked_size != r->new_size)
		strbuf_appendf(&s, " (rounded up to whole MiB)");
	if (r->part.number) {
		strbuf_appendf(&s, "; partition %u", r->part.number);
		if (r->part.name[0])
			strbuf_appendf(&s, " (%s)", r->part.name);
		if (r->part.new_bytes > r->part.old_bytes)
			strbuf_appendf(&s, " %s → %s", size_text(r->part.old_bytes, c),
				       size_text(r->part.new_bytes, e));
		else
			strbuf_appendf(&s, " cannot grow (no free space after it), %s",
				       size_text(r->part.old_bytes, c));
	}
	strbuf_appendf(&s, "; %s", fs_action_text(r, fsw, sizeof(fsw)));
	if (!r->in_place)
		strbuf_appendf(&s, "; %s rewritten%s%s", r->sink, r->kept[0] ? ", " : "", r->kept);
	line = strbuf_steal(&s);
	log_info("%s", line);
}

static const char *table_name(enum part_probe_kind k)
{
	return k == PART_PROBE_GPT ? "gpt" : k == PART_PROBE_MBR ? "mbr" : "none";
}

static const char *fs_action_name(enum resize_fs_action a)
{
	static const char *const names[] = {
		[RESIZE_FS_UNKNOWN] = "none",   [RESIZE_FS_UNCHANGED] = "unchanged",
		[RESIZE_FS_EXT4] = "grown",     [RESIZE_FS_FAT] = "kept",
		[RESIZE_FS_SWAP] = "header-grown",
	};
	return names[a];
}

static void print_json(const struct resize_opts *o, const struct resize_result *r)
{
	struct jsonw w;

	jsonw_init(&w, stdout);
	jsonw_object_begin(&w, NULL);
	jsonw_string(&w, "image", o->p.path);
	jsonw_string(&w, "format", r->format);
	jsonw_string(&w, "writtenAs", r->sink);
	jsonw_bool(&w, "inPlace", r->in_place);
	jsonw_bool(&w, "changed", !r->nothing);
	jsonw_uint(&w, "oldSize", r->old_size);
	jsonw_uint(&w, "newSize", r->new_size);
	jsonw_bool(&w, "rounded", r->asked_size != r->new_size);
	jsonw_string(&w, "partitionTableType", table_name(r->table));
	if (r->kept[0])
		jsonw_string(&w, "kept", r->kept);
	jsonw_object_begin(&w, "partition");
	jsonw_uint(&w, "number", r->part.number);
	if (r->part.name[0])
		jsonw_string(&w, "name", r->part.name);
	jsonw_uint(&w, "offset", r->part.off);
	jsonw_uint(&w, "oldSize", r->part.old_bytes);
	jsonw_uint(&w, "newSize", r->part.new_bytes);
	jsonw_object_end(&w);
	jsonw_object_begin(&w, "filesystem");
	if (r->fs.type)
		jsonw_string(&w, "type", r->fs.type);
	jsonw_string(&w, "action", fs_action_name(r->fs.action));
	if (r->fs.action == RESIZE_FS_EXT4) {
		jsonw_uint(&w, "blockSize", r->fs.ext4.block_size);
		jsonw_uint(&w, "oldBlocks", r->fs.ext4.old_blocks);
		jsonw_uint(&w, "newBlocks", r->fs.ext4.new_blocks);
		jsonw_uint(&w, "oldGroups", r->fs.ext4.old_groups);
		jsonw_uint(&w, "newGroups", r->fs.ext4.new_groups);
	}
	if (r->fs.action == RESIZE_FS_SWAP) {
		jsonw_uint(&w, "oldPages", r->fs.swap_old_pages);
		jsonw_uint(&w, "newPages", r->fs.swap_new_pages);
	}
	jsonw_object_end(&w);
	jsonw_uint(&w, "metadataBytes", r->changed_bytes);
	jsonw_object_end(&w);
}

int cli_resize(int argc, char **argv)
{
	struct resize_opts o = { 0 };
	struct resize_result res;
	struct build_env env;
	struct diag d = { 0 };
	_cleanup_free_ char *seed = NULL;
	const char *base;
	int r;

	r = resize_parse(argc, argv, &o, &d);
	if (r == 1)
		return CLI_EXIT_OK;
	if (r < 0) {
		log_error("%s", diag_message(&d, r));
		return CLI_EXIT_USAGE;
	}
	r = build_env_read(&env, &d);
	if (r < 0) {
		log_error("%s", diag_message(&d, r));
		return CLI_EXIT_FAILURE;
	}
	/* a rewritten VDI/VHD gets identifiers from its name; its time from SOURCE_DATE_EPOCH */
	base = strrchr(o.p.path, '/') ? strrchr(o.p.path, '/') + 1 : o.p.path;
	seed = xasprintf("mkdiskimage-resize:%s", base);
	o.p.seed = seed;
	o.p.timestamp = env.has_epoch ? env.source_date_epoch : (int64_t)time(NULL);
	/* until the image is committed, SIGINT & co stop the resize and leave it as it was */
	interrupt_arm();
	r = resize_image(&o.p, &d, &res);
	interrupt_disarm();
	if (interrupt_pending()) {
		if (r < 0)
			log_error("%s: interrupted by %s; not changed", o.p.path,
				  interrupt_name(interrupt_pending()));
		interrupt_reraise();
	}
	if (r < 0) {
		log_error("%s", diag_message(&d, r));
		return CLI_EXIT_FAILURE;
	}
	if (o.json)
		print_json(&o, &res);
	if (!o.quiet)
		print_summary(&o, &res);
	return CLI_EXIT_OK;
}
