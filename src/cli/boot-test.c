/* mkdiskimage boot-test IMAGE: boot the image in QEMU and check it (check/qemu.c). Prints
 * PASS/FAIL per check (or a JSON report with --json); exit 0 only when every check passed. */
#include "cli/cli.h"
#include "cli/opts.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/check.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/jsonw.h"
#include "util/log.h"

enum {
	OPT_FIRMWARE = 0x100,
	OPT_EFI_VARS,
	OPT_EXPECT,
	OPT_SSH,
	OPT_GUEST_AGENT,
	OPT_TIMEOUT,
	OPT_KVM,
	OPT_ACCEL,
	OPT_ARCH,
	OPT_JSON,
	OPT_SERIAL_LOG,
	OPT_CONSOLE,
	OPT_QUIET,
	OPT_NO_BOOT_CHECK,
};

static const struct cli_option boot_test_options[] = {
	{ .flag = "firmware", .arg = "F", .id = OPT_FIRMWARE, .complete = CLI_COMPLETE_ENUM,
	  .values = "uefi bios efi", .help = "uefi (OVMF, default; also efi) or bios (SeaBIOS)" },
	{ .flag = "efi-vars", .arg = "F", .id = OPT_EFI_VARS, .complete = CLI_COMPLETE_FILE,
	  .help = "UEFI variable store to start from (copied; default: the first there of "
		  "build's --efi-vars-template list, Debian's " CHECK_OVMF_DIR "/OVMF_VARS_4M.fd, "
		  "aarch64: " CHECK_AAVMF_DIR "/AAVMF_VARS.fd)" },
	{ .flag = "arch", .arg = "A", .id = OPT_ARCH, .complete = CLI_COMPLETE_ENUM,
	  .values = "auto x86-64 aarch64",
	  .help = "the guest: x86-64, aarch64, or auto (default: aarch64 when the image has an "
		  "aarch64 root partition)" },
	{ .flag = "accel", .arg = "A", .id = OPT_ACCEL, .complete = CLI_COMPLETE_ENUM,
	  .values = "auto kvm tcg",
	  .help = "kvm, tcg, or auto (default): KVM when a probe guest runs on /dev/kvm within "
		  "2 s and the guest is the host's architecture" },
	{ .flag = "expect-serial", .arg = "R", .id = OPT_EXPECT,
	  .help = "POSIX extended regex for the console (default \"login:\")" },
	{ .flag = "ssh", .id = OPT_SSH,
	  .help = "check that the forwarded SSH port answers with an SSH-2.0- banner" },
	{ .flag = "guest-agent", .id = OPT_GUEST_AGENT,
	  .help = "check that the QEMU guest agent answers guest-ping and guest-get-osinfo" },
	{ .flag = "timeout", .arg = "S", .id = OPT_TIMEOUT,
	  .help = "seconds for the whole run (300)" },
	{ .flag = "kvm", .id = OPT_KVM, .help = "--accel kvm" },
	{ .flag = "json", .id = OPT_JSON, .help = "machine-readable report on stdout" },
	{ .flag = "serial-log", .arg = "FILE", .id = OPT_SERIAL_LOG, .complete = CLI_COMPLETE_FILE,
	  .help = "write the guest's whole serial output to FILE as it arrives (also when a check "
		  "fails or times out)" },
	{ .flag = "console", .id = OPT_CONSOLE,
	  .help = "copy the guest's serial console to stderr as it arrives" },
	{ .flag = "quiet", .id = OPT_QUIET, .help = "no heartbeat lines" },
	{ .flag = "no-boot-check", .id = OPT_NO_BOOT_CHECK,
	  .help = "start QEMU even when the image seems to have nothing to boot (a loader the "
		  "check does not know, a firmware shell)" },
	{ .flag = "help", .short_flag = 'h', .id = 'h', .help = "show this help" },
};

void cli_boot_test_options(const struct cli_option **ret, size_t *ret_n)
{
	*ret = boot_test_options;
	*ret_n = ARRAY_SIZE(boot_test_options);
}

#define BOOT_TEST_HEARTBEAT_S 10

/* Where the serial output goes as it arrives. */
struct boot_test_watch {
	int log_fd;   /* --serial-log, -1: none */
	bool console; /* --console: to stderr */
	const char *log_path;
	bool log_failed;
};

static void boot_test_write_all(int fd, const char *buf, size_t len, bool *failed)
{
	while (len > 0 && !*failed) {
		ssize_t k = write(fd, buf, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			*failed = true;
			return;
		}
		buf += k;
		len -= (size_t)k;
	}
}

static void boot_test_on_serial(void *ctx, const char *buf, size_t len)
{
	struct boot_test_watch *w = ctx;
	bool ignored = false;

	if (w->log_fd >= 0)
		boot_test_write_all(w->log_fd, buf, len, &w->log_failed);
	if (w->console)
		boot_test_write_all(STDERR_FILENO, buf, len, &ignored);
}

static void boot_test_on_wait(void *ctx, const char *what, double seconds, unsigned timeout_s,
			      size_t serial_bytes)
{
	(void)ctx;
	if (serial_bytes < 1024)
		log_info("boot-test: waiting for %s (%.0f s of %u s, %zu bytes of console output)",
			 what, seconds, timeout_s, serial_bytes);
	else
		log_info("boot-test: waiting for %s (%.0f s of %u s, %.1f %s of console output)",
			 what, seconds, timeout_s,
			 serial_bytes < (1u << 20) ? serial_bytes / 1024.0
						   : serial_bytes / 1048576.0,
			 serial_bytes < (1u << 20) ? "KiB" : "MiB");
}

static void boot_test_print_json(const struct check_report *rep, bool ok)
{
	struct jsonw w;

	jsonw_init(&w, stdout);
	jsonw_object_begin(&w, NULL);
	jsonw_bool(&w, "pass", ok);
	jsonw_double(&w, "seconds", rep->total_seconds);
	jsonw_string(&w, "arch", check_arch_name(rep->arch));
	jsonw_string(&w, "accel", rep->accel);
	jsonw_string(&w, "accel_reason", rep->accel_why);
	jsonw_double(&w, "kvm_probe_seconds", rep->probe_seconds);
	jsonw_array_begin(&w, "checks");
	for (int k = 0; k < CHECK_N; k++) {
		if (!rep->r[k].run)
			continue;
		jsonw_object_begin(&w, NULL);
		jsonw_string(&w, "name", check_name(k));
		jsonw_bool(&w, "pass", rep->r[k].pass);
		jsonw_double(&w, "seconds", rep->r[k].seconds);
		jsonw_string(&w, "detail", rep->r[k].detail);
		jsonw_object_end(&w);
	}
	jsonw_array_end(&w);
	jsonw_object_end(&w);
}

int cli_boot_test(int argc, char **argv)
{
	struct check_opts o = {
		.firmware = CHECK_FIRMWARE_UEFI,
		.timeout_s = CHECK_DEFAULT_TIMEOUT,
	};
	_cleanup_(cli_getopt_free) struct cli_getopt g = { 0 };
	struct check_report rep;
	struct diag d = { 0 };
	struct boot_test_watch watch = { .log_fd = -1 };
	bool json = false, ok = true, quiet = false;
	char *end;
	int c, r;

	cli_getopt_init(&g, boot_test_options, ARRAY_SIZE(boot_test_options));
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) != -1) {
		switch (c) {
		case 'h': {
			_cleanup_free_ char *u = cli_command_usage(cli_command_find("boot-test"));

			fputs(u, stdout);
			return 0;
		}
		case OPT_FIRMWARE:
			if (strcmp(optarg, "uefi") == 0 || strcmp(optarg, "efi") == 0)
				o.firmware = CHECK_FIRMWARE_UEFI;
			else if (strcmp(optarg, "bios") == 0)
				o.firmware = CHECK_FIRMWARE_BIOS;
			else {
				log_error("--firmware %s: use bios or uefi (or efi)", optarg);
				return 2;
			}
			break;
		case OPT_EFI_VARS:
			o.efi_vars = optarg;
			break;
		case OPT_EXPECT:
			o.expect = optarg;
			break;
		case OPT_SSH:
			o.ssh = true;
			break;
		case OPT_GUEST_AGENT:
			o.guest_agent = true;
			break;
		case OPT_TIMEOUT:
			errno = 0;
			o.timeout_s = (unsigned)strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || o.timeout_s == 0 || o.timeout_s > 86400) {
				log_error("--timeout %s: a number of seconds from 1 to 86400",
					  optarg);
				return 2;
			}
			break;
		case OPT_KVM:
			o.accel = CHECK_ACCEL_KVM;
			break;
		case OPT_ACCEL:
			if (strcmp(optarg, "auto") == 0)
				o.accel = CHECK_ACCEL_AUTO;
			else if (strcmp(optarg, "kvm") == 0)
				o.accel = CHECK_ACCEL_KVM;
			else if (strcmp(optarg, "tcg") == 0)
				o.accel = CHECK_ACCEL_TCG;
			else {
				log_error("--accel %s: use auto, kvm or tcg", optarg);
				return 2;
			}
			break;
		case OPT_ARCH:
			if (check_arch_from_name(optarg, &o.arch) < 0) {
				log_error("--arch %s: use auto, x86-64 or aarch64", optarg);
				return 2;
			}
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_SERIAL_LOG:
			watch.log_path = optarg;
			break;
		case OPT_CONSOLE:
			watch.console = true;
			break;
		case OPT_QUIET:
			quiet = true;
			break;
		case OPT_NO_BOOT_CHECK:
			o.no_boot_check = true;
			break;
		default: /* '?' or ':' */
			return cli_bad_option("boot-test", c, argv, boot_test_options,
					      ARRAY_SIZE(boot_test_options));
		}
	}
	if (optind != argc - 1) {
		log_error("boot-test takes one IMAGE (see mkdiskimage boot-test --help)");
		return 2;
	}
	o.image = argv[optind];
	if (o.firmware == CHECK_FIRMWARE_BIOS && o.efi_vars) {
		log_error("--efi-vars needs --firmware uefi");
		return 2;
	}
	if (watch.log_path) {
		watch.log_fd = open(watch.log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (watch.log_fd < 0) {
			log_error("--serial-log %s: cannot create: %s", watch.log_path,
				  strerror(errno));
			return 1;
		}
	}
	o.on_serial = boot_test_on_serial;
	o.ctx = &watch;
	if (!quiet && !watch.console) {
		o.on_wait = boot_test_on_wait;
		o.heartbeat_s = BOOT_TEST_HEARTBEAT_S;
	}
	r = check_boot(&o, &d, &rep);
	if (watch.log_fd >= 0) {
		if (close(watch.log_fd) < 0)
			watch.log_failed = true;
		if (watch.log_failed)
			log_warning("--serial-log %s: could not write all of the console output",
				    watch.log_path);
	}
	if (r < 0) {
		log_error("%s", diag_message(&d, r));
		return 1;
	}
	for (int k = 0; k < CHECK_N; k++)
		if (rep.r[k].run && !rep.r[k].pass)
			ok = false;
	if (json)
		boot_test_print_json(&rep, ok);
	else {
		for (int k = 0; k < CHECK_N; k++)
			if (rep.r[k].run)
				printf("%s %s (%.1f s): %s\n", rep.r[k].pass ? "PASS" : "FAIL",
				       check_name(k), rep.r[k].seconds, rep.r[k].detail);
		printf("accel: %s (%s), arch %s\n", rep.accel, rep.accel_why,
		       check_arch_name(rep.arch));
		printf("%s: %.1f s\n", ok ? "PASS" : "FAIL", rep.total_seconds);
	}
	if (!ok && !json && getenv("MKDISKIMAGE_SERIAL_TAIL")) {
		size_t n = strlen(rep.serial);

		fputs(rep.serial + (n > 4000 ? n - 4000 : 0), stderr);
	}
	check_report_done(&rep);
	return ok ? 0 : 1;
}
