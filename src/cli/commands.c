/* The command table (opts.h): every subcommand's name, summary, synopsis, description, handler
 * and option table. main.c dispatches through it; --help, `mkdiskimage help`, the man page and
 * the completions are made from it. */
#include "cli/opts.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "spec/options.h"
#include "spec/spec.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/suggest.h"
#include "util/xalloc.h"

static const struct cli_option help_only_options[] = {
	{ .flag = "help", .short_flag = 'h', .id = 'h', .help = "show this help" },
};

static void cli_help_options(const struct cli_option **ret, size_t *ret_n)
{
	*ret = help_only_options;
	*ret_n = ARRAY_SIZE(help_only_options);
}

static int cli_help(int argc, char **argv);
static int cli_version_command(int argc, char **argv);

const struct cli_command cli_commands[] = {
	{ .name = "build", .run = cli_build, .options = cli_build_options,
	  .summary = "build a disk image from a spec and flags",
	  .synopsis = "[--spec FILE.json] [FLAGS] -o OUT",
	  .description =
		  SPEC_BUILD_DESCRIPTION "\n\n"
		  SPEC_SIZES_HELP },
	{ .name = "inspect", .run = cli_inspect, .options = cli_inspect_options,
	  .operands = "file",
	  .summary = "show an image's format, partitions and filesystems",
	  .synopsis = "[--json] IMAGE|efi-vars.fd",
	  .description =
		  "Shows the image format (raw, qcow2, VDI or VHD), the partition table and each "
		  "partition's filesystem, decoded by mkdiskimage's own readers; or, for a UEFI "
		  "variable store (efi-vars.fd, OVMF_VARS.fd), its variables. A file that is none "
		  "of these fails with exit status 1." },
	{ .name = "convert", .run = cli_convert, .options = cli_convert_options,
	  .operands = "file file",
	  .summary = "convert an image between raw, qcow2, VDI and VHD",
	  .synopsis = "[OPTIONS] IN OUT",
	  .description =
		  "Converts a disk image between raw, qcow2 (plain or compressed with deflate or "
		  "zstd), VDI and VHD. The input format is detected; the output format comes from "
		  "--format or OUT's extension (.img/.raw raw, .qcow2, .vdi, .vhd vpc); as with "
		  "qemu-img -c, --compression or --compression-level makes a qcow2 output "
		  "compressed. The format options are build's, with the same values and checks. "
		  "An existing OUT file is replaced "
		  "when the image is complete; devices, FIFOs and sockets are refused." },
	{ .name = "resize", .run = cli_resize, .options = cli_resize_options,
	  .operands = "file",
	  .summary = "grow an image: its size, partition table, last partition and filesystem",
	  .synopsis = "[OPTIONS] IMAGE SIZE",
	  .description =
		  "Grows IMAGE (raw, qcow2, VDI, VHD or VMDK) offline, without root or a VM, to SIZE "
		  "(100G; a number is MiB, as everywhere; +N adds N), rounded up to whole MiB: the "
		  "virtual size; the GPT's backup header and entries moved to the new end (or the "
		  "MBR entry); the partition that ends last (or --partition N) grown to the new "
		  "end; and the filesystem in it: ext4 is grown (new block groups), a swap "
		  "area's header gets the new size, FAT keeps its size. With no partition table "
		  "the filesystem on the whole disk grows. It never shrinks: a SIZE below the "
		  "current size is refused, and so is a partition followed directly by another.\n\n"
		  "Raw images are changed in place (the file grows sparse, then the metadata is "
		  "written: GPT backup, GPT primary, filesystem). Other formats are rewritten "
		  "through their own writer with the options the file records (qcow2 cluster size "
		  "and compression, VHD and VMDK subformat) into a temporary file that replaces IMAGE when "
		  "complete; the time taken follows the data, not the virtual size. On any error "
		  "or signal IMAGE stays as it was. Prints one line saying what was done." },
	{ .name = "boot-test", .run = cli_boot_test, .options = cli_boot_test_options,
	  .operands = "file",
	  .summary = "boot an image in QEMU and check that it comes up",
	  .synopsis = "[OPTIONS] IMAGE",
	  .description =
		  "Boots IMAGE (raw, qcow2, vdi or vhd; opened with snapshot=on, never changed) in "
		  "qemu-system-x86_64 (q35) or qemu-system-aarch64 (virt, cortex-a57, AAVMF) on "
		  "virtio, with user networking (SSH forwarded from a free port on 127.0.0.1) and a "
		  "QEMU guest agent channel, then checks: serial, the serial console matches REGEX "
		  "(default \"login:\"); ssh (--ssh), the forwarded port answers with an SSH-2.0- "
		  "banner; guest-ping and guest-get-osinfo (--guest-agent), the guest agent answers "
		  "both.\n\n"
		  "Prints PASS or FAIL per check, the accelerator used and why, and exits 1 when any "
		  "check failed. QEMU is stopped on every path, timeouts and signals included.\n\n"
		  "Before starting QEMU it fails at once when the image has nothing the firmware "
		  "can boot: for bios no boot code in the MBR; for uefi no EFI/BOOT/BOOTX64.EFI "
		  "(aarch64: BOOTAA64.EFI) on the ESP (the first FAT partition with an EFI "
		  "directory) and no Boot#### entry for one of the image's partitions in the "
		  "variable store (--no-boot-check starts QEMU anyway). While it waits it prints a "
		  "line on stderr every 10 s (\"boot-test: waiting for /login:/ (20 s of 300 s, "
		  "1.2 KiB of console output)\"), unless --console or --quiet." },
	{ .name = "help", .run = cli_help, .options = cli_help_options, .operands = "command",
	  .summary = "show the help of mkdiskimage or of a command",
	  .synopsis = "[COMMAND]",
	  .description = "Without COMMAND, lists the commands; with one, shows its options (as "
			 "mkdiskimage COMMAND --help does)." },
	{ .name = "version", .run = cli_version_command, .options = cli_help_options,
	  .summary = "print the version",
	  .synopsis = "",
	  .description = "Prints \"mkdiskimage VERSION\" (as mkdiskimage --version does)." },
};

const size_t cli_n_commands = ARRAY_SIZE(cli_commands);

const struct cli_command *cli_command_find(const char *name)
{
	for (size_t i = 0; i < cli_n_commands; i++)
		if (strcmp(cli_commands[i].name, name) == 0)
			return &cli_commands[i];
	return NULL;
}

const char *cli_command_names(void)
{
	static char *names;
	struct strbuf b = { 0 };

	if (names)
		return names;
	for (size_t i = 0; i < cli_n_commands; i++)
		strbuf_appendf(&b, "%s%s", i == 0 ? "" : i + 1 < cli_n_commands ? ", " : " and ",
			       cli_commands[i].name);
	names = strbuf_steal(&b); /* once; kept for the process's life */
	return names;
}

static const char *cli_command_name_at(const void *table, size_t i)
{
	return ((const struct cli_command *)table)[i].name;
}

/* The usage of mkdiskimage itself: every command with its summary. */
void cli_main_usage(FILE *f)
{
	fputs("Usage: mkdiskimage COMMAND [ARGS...]\n"
	      "       mkdiskimage help [COMMAND] | --help | --version\n"
	      "\n"
	      "Builds partitioned disk images natively, without root or a VM.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < cli_n_commands; i++)
		fprintf(f, "  %-11s %s\n", cli_commands[i].name, cli_commands[i].summary);
	fputs("\n"
	      "  -h, --help     show this help\n"
	      "  -V, --version  print the version\n"
	      "\n"
	      "\"mkdiskimage COMMAND --help\" shows a command's options, \"man mkdiskimage\" all of "
	      "them.\n"
	      "Exit status: 0 success, 1 failure, 2 usage error.\n",
	      f);
}

/* "unknown command 'biuld'; did you mean 'build'? (commands: ...)"; returns 2. */
int cli_unknown_command(const char *name)
{
	const char *near = suggest_nearest_in(name, cli_commands, cli_n_commands,
					      cli_command_name_at);

	if (near)
		log_error("unknown command '%s'; did you mean '%s'? (commands: %s)", name, near,
			  cli_command_names());
	else
		log_error("unknown command '%s' (commands: %s)", name, cli_command_names());
	return CLI_EXIT_USAGE;
}

/* A command's --help text. Free it. */
char *cli_command_usage(const struct cli_command *c)
{
	if (c->run == cli_build)
		return xstrdup(spec_usage()); /* made from the spec's option table */
	return cli_usage(c);
}

/* `mkdiskimage help` and `version` take only --help; anything else is a usage error.
 * Returns -1 to go on, else the exit status. */
static int cli_simple_args(const struct cli_command *c, int argc, char **argv, int max_args)
{
	const struct cli_option *opts;
	_cleanup_(cli_getopt_free) struct cli_getopt g = { 0 };
	size_t n;
	int ch;

	c->options(&opts, &n);
	cli_getopt_init(&g, opts, n);
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) != -1) {
		if (ch == 'h') {
			_cleanup_free_ char *u = cli_command_usage(c);

			fputs(u, stdout);
			return CLI_EXIT_OK;
		}
		return cli_bad_option(c->name, ch, argv, opts, n);
	}
	if (argc - optind > max_args) {
		log_error("unexpected argument '%s' (see mkdiskimage %s --help)", argv[optind + max_args],
			  c->name);
		return CLI_EXIT_USAGE;
	}
	return -1;
}

static int cli_help(int argc, char **argv)
{
	const struct cli_command *c;
	_cleanup_free_ char *u = NULL;
	int r = cli_simple_args(cli_command_find("help"), argc, argv, 1);

	if (r >= 0)
		return r;
	if (optind == argc) {
		cli_main_usage(stdout);
		return CLI_EXIT_OK;
	}
	c = cli_command_find(argv[optind]);
	if (!c)
		return cli_unknown_command(argv[optind]);
	u = cli_command_usage(c);
	fputs(u, stdout);
	return CLI_EXIT_OK;
}

static int cli_version_command(int argc, char **argv)
{
	int r = cli_simple_args(cli_command_find("version"), argc, argv, 0);

	if (r >= 0)
		return r;
	printf("mkdiskimage %s\n", cli_version());
	return CLI_EXIT_OK;
}
