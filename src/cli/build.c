/* mkdiskimage build: argv → spec → build/ (plan, then emit) → the summary lines and --json. */
#include "cli/cli.h"

#include <stdio.h>
#include <sys/stat.h>

#include "build/build.h"
#include "spec/spec.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/interrupt.h"
#include "util/jsonw.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/uuid.h"

/* A size for people: "4.0 GiB", "912 MiB", "3.5 MiB", "12 KiB", "512 bytes". */
static const char *human_size(uint64_t n, char buf[32])
{
	if (n >= (1ull << 30))
		snprintf(buf, 32, "%.1f GiB", (double)n / (double)(1ull << 30));
	else if (n >= (10ull << 20))
		snprintf(buf, 32, "%.0f MiB", (double)n / (double)(1ull << 20));
	else if (n >= (1ull << 20))
		snprintf(buf, 32, "%.1f MiB", (double)n / (double)(1ull << 20));
	else if (n >= 1024)
		snprintf(buf, 32, "%.0f KiB", (double)n / 1024.0);
	else
		snprintf(buf, 32, "%llu bytes", (unsigned long long)n);
	return buf;
}

/* What a user can write on the root: free blocks less the reserved ones (df's Avail). */
static uint64_t root_avail_bytes(const struct fs_stats *st)
{
	uint64_t free = st->free_blocks > st->reserved_blocks ? st->free_blocks - st->reserved_blocks
							      : 0;

	return free * st->block_size;
}

/* The one line a successful build ends with:
 * wrote OUT: FORMAT, 4.0 GiB virtual, 912 MiB on disk, root 2.0 GiB free, 3.1 s */
static void print_summary(const struct build_plan *p, const struct build_result *res)
{
	char virt[32], disk[32], root[32], on_disk[64] = "", root_free[64] = "";
	struct stat st;

	if (!p->output_device && stat(p->output, &st) == 0)
		snprintf(on_disk, sizeof(on_disk), ", %s on disk",
			 human_size((uint64_t)st.st_blocks * 512, disk));
	if (p->has_root)
		snprintf(root_free, sizeof(root_free), ", root %s free",
			 human_size(root_avail_bytes(&p->root_stats), root));
	log_info("wrote %s: %s, %s virtual%s%s, %.1f s", p->output, p->format,
		 human_size(p->layout.disk_bytes, virt), on_disk, root_free, res->total_seconds);
	if (p->efi_vars_out)
		log_info("wrote %s: EFI variables", p->efi_vars_out);
}

/* --verbose: the plan, before a byte is written. */
static void print_plan(const struct build_plan *p)
{
	const struct part_layout *l = &p->layout;
	char a[32], b[32], c[32], u[UUID_STR_LEN];

	log_info("plan: %s, %s, %s, partition table %s", p->output, p->format,
		 human_size(l->disk_bytes, a), part_table_name(l->table));
	for (size_t i = 0; i < l->n_parts; i++) {
		const struct part_entry *e = &l->parts[i];
		char type[UUID_STR_LEN + 8];

		if (part_table_is_gpt(l->table)) {
			uuid_format(e->type_uuid, u);
			snprintf(type, sizeof(type), "%s", u);
		} else
			snprintf(type, sizeof(type), "0x%02x", e->mbr_type);
		log_info("  partition %u: %s, start %s, size %s, type %s%s%s%s", e->number,
			 part_role_key(e->role), human_size(e->first_lba * PART_SECTOR, a),
			 human_size(e->n_lba * PART_SECTOR, b), type, e->name[0] ? ", label \"" : "",
			 e->name, e->name[0] ? "\"" : "");
	}
	if (p->has_root) {
		const struct fs_stats *st = &p->root_stats;

		log_info("  root filesystem: %s \"%s\", %s, %s free, %llu inodes (%llu free)",
			 st->type, p->root_label, human_size(st->size_bytes, a),
			 human_size(root_avail_bytes(st), b), (unsigned long long)st->n_inodes,
			 (unsigned long long)st->free_inodes);
	}
	for (size_t i = 0; i < p->n_boot_fs; i++) {
		const struct build_fat_stats *f = &p->boot_fs[i];

		if (!f->present)
			continue;
		log_info("  %s filesystem: FAT%u, %s, %s free, clusters of %s", f->label, f->fat_bits,
			 human_size(f->size_bytes, a),
			 human_size(f->free_clusters * f->cluster_bytes, b),
			 human_size(f->cluster_bytes, c));
	}
	log_info("  to write: %llu files, %s", (unsigned long long)p->emit_files,
		 human_size(p->emit_bytes, a));
}

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
	if (s->verbose)
		print_plan(p);
	/* on a terminal only (never in Nix logs or CI), unless --progress/--no-progress says */
	progress_init(&prog, s->progress_set ? s->progress : env->stderr_is_tty && !s->quiet,
		      p->emit_bytes, p->emit_files);
	/* from here until the output is committed, SIGINT & co stop the build cleanly */
	interrupt_arm();
	r = build_emit(p, &(struct build_progress){ progress_update, &prog }, d, &res);
	progress_done(&prog);
	*ret_committed = res.committed;
	if (r < 0)
		return r;
	/* after success only: a failed build prints its one error line and nothing else */
	for (size_t i = 0; i < s->n_warnings; i++)
		log_warning("%s", s->warnings[i]);
	for (size_t i = 0; i < p->n_warnings; i++)
		log_warning("%s: %s", p->output, p->warnings[i]);
	if (p->auto_sized && !s->quiet)
		print_auto_size(&p->auto_size);
	if (s->json)
		print_json(p, &res);
	if (!s->quiet)
		print_summary(p, &res);
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
