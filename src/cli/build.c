/* mkdiskimage build: argv → spec → build/ (plan, then emit) → the summary lines and --json. */
#include "cli/cli.h"

#include <stdio.h>

#include "build/build.h"
#include "spec/spec.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/interrupt.h"
#include "util/jsonw.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/uuid.h"

static void print_auto_size(const struct build_auto_size *a)
{
	log_info("Automatic disk size...");
	log_info("  Contents: %llu bytes", (unsigned long long)a->contents_bytes);
	log_info("  Root filesystem (contents, metadata, journal, reserved): %llu bytes",
		 (unsigned long long)a->root_bytes);
	log_info("  Additional space (included above): %llu bytes",
		 (unsigned long long)a->additional_bytes);
	log_info("  Partition table and other partitions: %llu bytes",
		 (unsigned long long)a->other_bytes);
	log_info("  Disk image size: %llu bytes (%llu MiB)", (unsigned long long)a->disk_bytes,
		 (unsigned long long)(a->disk_bytes >> 20));
}

/* "partitions": number, role, offset and size; type and PARTUUID on GPT and hybrid. */
static void print_json_partitions(struct jsonw *w, const struct part_layout *l)
{
	char u[UUID_STR_LEN];

	jsonw_array_begin(w, "partitions");
	for (size_t i = 0; i < l->n_parts; i++) {
		const struct part_entry *p = &l->parts[i];

		jsonw_object_begin(w, NULL);
		jsonw_uint(w, "number", p->number);
		jsonw_string(w, "role", part_role_key(p->role));
		jsonw_uint(w, "offset", p->first_lba * PART_SECTOR);
		jsonw_uint(w, "size", p->n_lba * PART_SECTOR);
		if (part_table_is_gpt(l->table)) {
			uuid_format(p->type_uuid, u);
			jsonw_string(w, "type", u);
			uuid_format(p->uuid, u);
			jsonw_string(w, "uuid", u);
		}
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
}

static void print_json_root(struct jsonw *w, const struct build_plan *p)
{
	const struct fs_stats *st = &p->root_stats;
	char u[UUID_STR_LEN];

	if (!p->has_root)
		return;
	jsonw_object_begin(w, "rootFilesystem");
	jsonw_string(w, "type", st->type);
	jsonw_string(w, "label", p->root_label);
	uuid_format(p->root_fs_uuid, u);
	jsonw_string(w, "uuid", u);
	jsonw_uint(w, "size", st->size_bytes);
	jsonw_uint(w, "blocks", st->n_blocks);
	jsonw_uint(w, "freeBlocks", st->free_blocks);
	jsonw_uint(w, "reservedBlocks", st->reserved_blocks);
	jsonw_uint(w, "inodes", st->n_inodes);
	jsonw_uint(w, "freeInodes", st->free_inodes);
	jsonw_uint(w, "groups", st->n_groups);
	jsonw_uint(w, "journalBlocks", st->journal_blocks);
	jsonw_object_end(w);
}

/* "bootFilesystems": the FAT ESP and XBOOTLDR, in partition order. */
static void print_json_boot(struct jsonw *w, const struct build_fat_stats *fs, size_t n)
{
	jsonw_array_begin(w, "bootFilesystems");
	for (size_t i = 0; i < n; i++) {
		if (!fs[i].present)
			continue;
		jsonw_object_begin(w, NULL);
		jsonw_string(w, "label", fs[i].label);
		jsonw_uint(w, "fatBits", fs[i].fat_bits);
		jsonw_uint(w, "offset", fs[i].offset);
		jsonw_uint(w, "size", fs[i].size_bytes);
		jsonw_uint(w, "clusterSize", fs[i].cluster_bytes);
		jsonw_uint(w, "clusters", fs[i].n_clusters);
		jsonw_uint(w, "freeClusters", fs[i].free_clusters);
		jsonw_object_end(w);
	}
	jsonw_array_end(w);
}

static void print_json(const struct build_plan *p, const struct build_result *res)
{
	const struct part_layout *l = &p->layout;
	struct jsonw w;
	char u[UUID_STR_LEN];

	jsonw_init(&w, stdout);
	jsonw_object_begin(&w, NULL);
	jsonw_string(&w, "output", p->output);
	jsonw_string(&w, "format", p->format);
	jsonw_string(&w, "partitionTableType", part_table_name(l->table));
	jsonw_uint(&w, "diskSize", l->disk_bytes);
	if (part_table_is_gpt(l->table)) {
		uuid_format(l->disk_uuid, u);
		jsonw_string(&w, "diskGUID", u);
	}
	print_json_partitions(&w, l);
	print_json_root(&w, p);
	print_json_boot(&w, p->boot_fs, p->n_boot_fs);
	jsonw_object_begin(&w, "timings");
	jsonw_double(&w, "scan", p->scan_seconds);
	jsonw_double(&w, "plan", p->plan_seconds);
	jsonw_double(&w, "emit", res->emit_seconds);
	jsonw_double(&w, "total", res->total_seconds);
	jsonw_object_end(&w);
	jsonw_object_end(&w);
}

/* *ret_committed: the image is in place (whatever happened after). */
static int build_run(const struct image_spec *s, const struct build_env *env, struct diag *d,
		     bool *ret_committed)
{
	_cleanup_(build_plan_freep) struct build_plan *p = NULL;
	struct build_result res;
	struct progress prog;
	int r;

	r = build_plan(s, env, d, &p);
	if (r < 0)
		return r;
	progress_init(&prog, s->progress_set ? s->progress : env->stderr_is_tty, p->emit_bytes,
		      p->emit_files);
	/* from here until the output is committed, SIGINT & co stop the build cleanly */
	interrupt_arm();
	r = build_emit(p, &(struct build_progress){ progress_update, &prog }, d, &res);
	progress_done(&prog);
	*ret_committed = res.committed;
	if (r < 0)
		return r;
	/* after success only: a failed build prints its one error line and nothing else */
	for (size_t i = 0; i < p->n_warnings; i++)
		log_warning("%s: %s", p->output, p->warnings[i]);
	if (p->auto_sized)
		print_auto_size(&p->auto_size);
	if (s->json)
		print_json(p, &res);
	return 0;
}

int cli_build(int argc, char **argv)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct build_env env;
	struct diag d = { 0 };
	bool committed = false;
	int r;

	r = spec_parse_args(s, argc, argv, &d);
	if (r >= 0 && s->help) {
		fputs(spec_usage(), stdout);
		return 0;
	}
	if (r < 0 && s->usage_error) {
		log_error("%s", diag_message(&d, r));
		return 2; /* the command line cannot be understood */
	}
	if (r >= 0 && (!s->output || !*s->output)) {
		log_error("no output: use -o FILE or -o DIR (see mkdiskimage build --help)");
		return 2; /* a missing argument */
	}
	if (r >= 0)
		r = build_env_read(&env, &d);
	if (r >= 0) {
		s->search_root = env.search_root; /* the loaders' default places */
		r = spec_validate(s, &d);
	}
	if (r >= 0)
		r = build_run(s, &env, &d, &committed);
	interrupt_disarm();
	if (interrupt_pending() && !committed) {
		/* whatever failed on the way out, the signal is what happened */
		if (r < 0)
			log_error("%s: interrupted by %s; %s", s->output,
				  interrupt_name(interrupt_pending()),
				  s->output_device ? "the device holds a partial image"
						   : "not written (an existing file is unchanged)");
		interrupt_reraise();
	}
	if (r < 0)
		log_error("%s", diag_message(&d, r)); /* e.g. efi-vars.fd after the image */
	interrupt_reraise(); /* the image is complete: still die of the signal, as asked */
	return r < 0 ? 1 : 0;
}
