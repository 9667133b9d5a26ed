/* `mkdiskimage build` flags. Every --spec FILE is loaded first (in order), then every other
 * flag is applied, so flags override spec files wherever they appear on the line. Each flag
 * goes through the same setter as its spec key (values.c). */
#include "spec/spec-internal.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/xalloc.h"

enum {
	OPT_SPEC = 0x100,
	OPT_ROOT,
	OPT_ESP,
	OPT_XBOOTLDR,
	OPT_CONTENTS,
	OPT_PARTITION_TABLE,
	OPT_FS,
	OPT_LABEL,
	OPT_DISK_SIZE,
	OPT_ADDITIONAL_SPACE,
	OPT_BOOT_SIZE,
	OPT_FORMAT,
	OPT_BASE_NAME,
	OPT_DETERMINISTIC,
	OPT_NO_DETERMINISTIC,
	OPT_SEED,
	OPT_ROOT_GPUID,
	OPT_ROOT_FSUID,
	OPT_OWNER,
	OPT_ARCH,
	OPT_GENERIC_ROOT_TYPE,
	OPT_RESERVED_PERCENT,
	OPT_CLUSTER_SIZE,
	OPT_COMPRESSION,
	OPT_THREADS,
	OPT_COMPRESSION_LEVEL,
	OPT_VPC_SUBFORMAT,
	OPT_CLOSURE_INFO,
	OPT_SYSTEM,
	OPT_CONFIG_FILE,
	OPT_ONLY_NIX_STORE,
	OPT_CHANNEL,
	OPT_ADDITIONAL_PATHS,
	OPT_PASSWD,
	OPT_GROUP,
	OPT_TOUCH_EFI_VARS,
	OPT_EFI_VARS_TEMPLATE,
	OPT_EFI_VARS_OUT,
	OPT_BOOTLOADER,
	OPT_KERNEL,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_SYSTEMD_BOOT_EFI,
	OPT_GRUB_DIR,
	OPT_GRUB_EFI_DIR,
	OPT_JSON,
	OPT_OUTPUT_DEVICE,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
};

static const struct option spec_long_options[] = {
	{ "spec", required_argument, NULL, OPT_SPEC },
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "esp", required_argument, NULL, OPT_ESP },
	{ "xbootldr", required_argument, NULL, OPT_XBOOTLDR },
	{ "contents", required_argument, NULL, OPT_CONTENTS },
	{ "partition-table", required_argument, NULL, OPT_PARTITION_TABLE },
	{ "fs", required_argument, NULL, OPT_FS },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "disk-size", required_argument, NULL, OPT_DISK_SIZE },
	{ "additional-space", required_argument, NULL, OPT_ADDITIONAL_SPACE },
	{ "boot-size", required_argument, NULL, OPT_BOOT_SIZE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "base-name", required_argument, NULL, OPT_BASE_NAME },
	{ "output", required_argument, NULL, 'o' },
	{ "deterministic", no_argument, NULL, OPT_DETERMINISTIC },
	{ "no-deterministic", no_argument, NULL, OPT_NO_DETERMINISTIC },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "root-gpuid", required_argument, NULL, OPT_ROOT_GPUID },
	{ "root-fsuid", required_argument, NULL, OPT_ROOT_FSUID },
	{ "owner", required_argument, NULL, OPT_OWNER },
	{ "arch", required_argument, NULL, OPT_ARCH },
	{ "generic-root-type", no_argument, NULL, OPT_GENERIC_ROOT_TYPE },
	{ "reserved-percent", required_argument, NULL, OPT_RESERVED_PERCENT },
	{ "cluster-size", required_argument, NULL, OPT_CLUSTER_SIZE },
	{ "compression", required_argument, NULL, OPT_COMPRESSION },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "compression-level", required_argument, NULL, OPT_COMPRESSION_LEVEL },
	{ "vpc-subformat", required_argument, NULL, OPT_VPC_SUBFORMAT },
	{ "closure-info", required_argument, NULL, OPT_CLOSURE_INFO },
	{ "system", required_argument, NULL, OPT_SYSTEM },
	{ "config-file", required_argument, NULL, OPT_CONFIG_FILE },
	{ "only-nix-store", no_argument, NULL, OPT_ONLY_NIX_STORE },
	{ "channel", required_argument, NULL, OPT_CHANNEL },
	{ "additional-paths", required_argument, NULL, OPT_ADDITIONAL_PATHS },
	{ "passwd", required_argument, NULL, OPT_PASSWD },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "touch-efi-vars", no_argument, NULL, OPT_TOUCH_EFI_VARS },
	{ "efi-vars-template", required_argument, NULL, OPT_EFI_VARS_TEMPLATE },
	{ "efi-vars-out", required_argument, NULL, OPT_EFI_VARS_OUT },
	{ "bootloader", required_argument, NULL, OPT_BOOTLOADER },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "systemd-boot-efi", required_argument, NULL, OPT_SYSTEMD_BOOT_EFI },
	{ "grub-dir", required_argument, NULL, OPT_GRUB_DIR },
	{ "grub-efi-dir", required_argument, NULL, OPT_GRUB_EFI_DIR },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "output-device", no_argument, NULL, OPT_OUTPUT_DEVICE },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "help", no_argument, NULL, 'h' },
	{},
};

/* ':' first: report a missing argument as ':' (not '?'), and let us word the messages. */
static const char spec_short_options[] = ":o:h";

static const char spec_usage_text[] =
	"Usage: mkdiskimage build [--spec FILE.json] [FLAGS] -o OUT\n"
	"\n"
	"Builds a disk image as nixpkgs' make-disk-image does. Every flag has a spec key (in\n"
	"brackets) of the same meaning; flags override the spec files, whatever their order.\n"
	"Relative paths in a spec file are relative to its directory; on the command line, to\n"
	"the working directory. A null value in a spec file keeps the default.\n"
	"\n"
	"      --spec FILE              read a JSON spec (repeatable; later files override)\n"
	"  -o, --output OUT             the image file, or an existing directory to hold\n"
	"                               BASENAME.img (.qcow2, .vdi, .vhd) (required). An\n"
	"                               existing file is replaced when the image is complete;\n"
	"                               devices, FIFOs and sockets are refused\n"
	"      --output-device          -o is a block device: write the raw image onto it in\n"
	"                               place (its first diskSize bytes; it must not be mounted)\n"
	"      --root DIR               [root] staging tree copied whole onto /\n"
	"      --esp DIR                [esp] tree copied onto the ESP (FAT; efi, efixbootldr,\n"
	"                               hybrid); without it the ESP is empty\n"
	"      --xbootldr DIR           [xbootldr] tree copied onto XBOOTLDR (efixbootldr)\n"
	"      --contents SRC:TARGET[:MODE[:USER:GROUP]]\n"
	"                               [contents: list of {source, target, mode, user, group}]\n"
	"                               repeatable; replaces the spec's list. Fields split at\n"
	"                               ':'; write ':' in a path as '\\:' and '\\' as '\\\\'.\n"
	"                               An empty MODE, USER or GROUP is unset.\n"
	"      --partition-table TYPE   [partitionTableType] none, legacy (default), legacy+gpt,\n"
	"                               efi, efixbootldr or hybrid\n"
	"      --fs TYPE                [fsType] ext4 (the only one supported)\n"
	"      --label LABEL            [label] filesystem label, at most 16 bytes (nixos)\n"
	"      --disk-size auto|MIB     [diskSize] \"auto\" (default) or MiB, e.g. 2048; a size\n"
	"                               with a suffix (4G) must be a whole number of MiB\n"
	"      --additional-space SIZE  [additionalSpace] free space auto sizing adds (512M)\n"
	"      --boot-size SIZE         [bootSize] end of the ESP or XBOOTLDR partition (256M)\n"
	"      --format FORMAT          [format] raw (default), qcow2, qcow2-compressed, vdi or\n"
	"                               vpc (VHD)\n"
	"      --cluster-size SIZE      [clusterSize] qcow2 cluster size, 512 to 2M (64K)\n"
	"      --compression ALG        [compression] qcow2-compressed: deflate (default, as\n"
	"                               qemu-img -c) or zstd\n"
	"      --compression-level N    [compressionLevel] 1-12 for deflate, 1-22 for zstd; 0\n"
	"                               (default): deflate 2, zstd 1 (fast; deflate is still\n"
	"                               no larger than qemu-img -c on OS trees). Higher: smaller\n"
	"      --threads N              [threads] compression threads (0: one per core); the\n"
	"                               output is the same for any N\n"
	"      --vpc-subformat TYPE     [vpcSubformat] vpc: dynamic (default) or fixed (rounded\n"
	"                               up to a whole MiB, as Azure requires)\n"
	"      --base-name NAME         [baseName] file name in an output directory (nixos)\n"
	"      --deterministic          [deterministic: true] fixed identifiers (default)\n"
	"      --no-deterministic       [deterministic: false] random identifiers\n"
	"      --seed SEED              [seed] derives every identifier (default\n"
	"                               \"mkdiskimage:\" followed by the label)\n"
	"      --root-gpuid UUID        [rootGPUID] root partition GUID\n"
	"                               (F222513B-DED1-49FA-B591-20CE86A2FE7F)\n"
	"      --root-fsuid UUID        [rootFSUID] root filesystem UUID (the root GPUID)\n"
	"      --owner UID:GID          [owner] owner of every file in the image\n"
	"      --arch ARCH              [arch] root partition type: x86-64, x86, aarch64, arm,\n"
	"                               riscv64, riscv32, loongarch64, ppc64le, s390x\n"
	"                               (default: the architecture mkdiskimage was built for)\n"
	"      --generic-root-type      [genericRootType: true] root partition with the generic\n"
	"                               Linux filesystem type instead of the architecture's\n"
	"      --reserved-percent N     [reservedPercent] ext4 reserved blocks, 0-50 (5)\n"
	"      --closure-info DIR       [closureInfo] nixpkgs' closureInfo (store-paths,\n"
	"                               registration): copied into /nix/store with its database\n"
	"      --system TOPLEVEL        [system] NixOS toplevel: the system profile, /etc/NIXOS\n"
	"      --config-file F          [configFile] installed as /etc/nixos/configuration.nix\n"
	"      --channel PATH           [channel, copyChannel] root's channel (a store path)\n"
	"      --only-nix-store         [onlyNixStore] the store at the filesystem root, label\n"
	"                               nix-store\n"
	"      --additional-paths PATH  [additionalPaths] accepted: they are in the closure info\n"
	"      --passwd FILE            [passwd] resolves contents users (not /etc/passwd)\n"
	"      --group FILE             [group] resolves contents groups (not /etc/group)\n"
	"      --touch-efi-vars         [touchEFIVars: true] write efi-vars.fd: the template\n"
	"                               with Boot0000 for systemd-boot on the ESP, BootOrder\n"
	"      --efi-vars-template F    [efiVariables] the firmware's variable store, e.g.\n"
	"                               /usr/share/OVMF/OVMF_VARS_4M.fd (touchEFIVars needs it)\n"
	"      --efi-vars-out F         [efiVarsOut] where efi-vars.fd goes (default: in the\n"
	"                               -o directory)\n"
	"      --bootloader NAME        [bootloader] auto (default: systemd-boot on efi,\n"
	"                               efixbootldr and hybrid when a kernel is known),\n"
	"                               systemd-boot, grub or none [installBootLoader]\n"
	"      --kernel F               [kernel] kernel to boot (in the root tree or on the host)\n"
	"      --initrd F               [initrd] its initrd\n"
	"      --cmdline S              [cmdline] its kernel parameters\n"
	"      --systemd-boot-efi F     [systemdBootEfi] systemd-boot's EFI binary (default: the\n"
	"                               system's systemd/lib/systemd/boot/efi/)\n"
	"      --grub-dir DIR           [grubDir] GRUB's i386-pc modules for bootloader grub\n"
	"                               (legacy, legacy+gpt, hybrid; Debian: /usr/lib/grub/i386-pc)\n"
	"      --grub-efi-dir DIR       [grubEfiDir] GRUB's x86_64-efi modules: GRUB for UEFI as\n"
	"                               EFI/BOOT/BOOTX64.EFI (efi, efixbootldr, hybrid)\n"
	"      --json                   print a machine-readable summary on stdout\n"
	"      --progress, --no-progress\n"
	"                               force progress on stderr on or off (default: on when\n"
	"                               stderr is a terminal)\n"
	"  -h, --help                   show this help\n"
	"\n"
	"Sizes read as numfmt --from=iec does: 512M, 1G, 1.5G, 1024K (powers of 1024).\n"
	"Spec keys accepted for compatibility: installBootLoader (false: no bootloader),\n"
	"memSize (ignored: there is no VM).\n";

const char *spec_usage(void)
{
	return spec_usage_text;
}

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

static int spec_parse_contents(struct image_spec *s, const char *arg, struct diag *d)
{
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
	else
		spec_contents_add(s, &e, /* base_dir= */ NULL);
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		free(f[i]);
	return r;
}

static int spec_bad_option(int c, char **argv, struct diag *d)
{
	const char *opt = argv[optind - 1];
	char shortopt[3] = { '-', (char)optopt, '\0' };

	/* An unknown short option may sit inside a cluster (-xo): name the letter. */
	if (optopt && !(opt[0] == '-' && opt[1] == '-'))
		opt = shortopt;
	if (c == ':')
		return diag_fail(d, -EINVAL, "%s needs a value (see mkdiskimage build --help)", opt);
	return diag_fail(d, -EINVAL, "unknown option %s (see mkdiskimage build --help)", opt);
}

/* One flag other than --spec and --help. */
static int spec_apply_flag(struct image_spec *s, int c, const char *arg, bool *contents_seen,
			   struct diag *d)
{
	_cleanup_free_ char *what = NULL;
	const struct option *o;

	for (o = spec_long_options; o->name && o->val != c; o++)
		;
	if (arg)
		what = xasprintf("--%s %s", o->name ? o->name : "output", arg);

	switch (c) {
	case OPT_ROOT:
		return spec_set_root(s, arg, /* base_dir= */ NULL, what, d);
	case OPT_ESP:
		return spec_set_boot_tree(&s->esp, arg, /* base_dir= */ NULL, what, d);
	case OPT_XBOOTLDR:
		return spec_set_boot_tree(&s->xbootldr, arg, /* base_dir= */ NULL, what, d);
	case OPT_CONTENTS:
		if (!*contents_seen)
			spec_contents_clear(s); /* the flags' list replaces the spec's */
		*contents_seen = true;
		return spec_parse_contents(s, arg, d);
	case OPT_PARTITION_TABLE:
		return spec_set_part_table(s, arg, what, d);
	case OPT_FS:
		return spec_set_fs_type(s, arg, what, d);
	case OPT_LABEL:
		return spec_set_label(s, arg, what, d);
	case OPT_DISK_SIZE:
		return spec_set_disk_size(s, arg, what, d);
	case OPT_ADDITIONAL_SPACE:
		return spec_set_size(&s->additional_space_bytes, SPEC_ADDITIONAL_SPACE_MAX,
				     SPEC_ADDITIONAL_SPACE_LIMIT, arg, what, d);
	case OPT_BOOT_SIZE:
		return spec_set_size(&s->boot_size_bytes, SPEC_BOOT_SIZE_MAX,
				     SPEC_BOOT_SIZE_LIMIT, arg, what, d);
	case OPT_FORMAT:
		return spec_set_format(s, arg, what, d);
	case OPT_BASE_NAME:
		return spec_set_base_name(s, arg, what, d);
	case 'o':
		free(s->output);
		s->output = xstrdup(arg);
		return 0;
	case OPT_DETERMINISTIC:
	case OPT_NO_DETERMINISTIC:
		s->deterministic = c == OPT_DETERMINISTIC;
		return 0;
	case OPT_SEED:
		return spec_set_seed(s, arg, what, d);
	case OPT_ROOT_GPUID:
		return spec_set_uuid(s->root_gpuid, &s->root_gpuid_set, arg, what, d);
	case OPT_ROOT_FSUID:
		return spec_set_uuid(s->root_fsuid, &s->root_fsuid_set, arg, what, d);
	case OPT_OWNER:
		return spec_set_owner(s, arg, what, d);
	case OPT_ARCH:
		return spec_set_arch(s, arg, what, d);
	case OPT_GENERIC_ROOT_TYPE:
		s->generic_root_type = true;
		return 0;
	case OPT_RESERVED_PERCENT:
		return spec_set_reserved_percent(s, arg, what, d);
	case OPT_CLUSTER_SIZE:
		return spec_set_cluster_size(s, arg, what, d);
	case OPT_COMPRESSION:
		return spec_set_compression(s, arg, what, d);
	case OPT_THREADS:
		return spec_set_threads(s, arg, what, d);
	case OPT_COMPRESSION_LEVEL:
		return spec_set_compression_level(s, arg, what, d);
	case OPT_VPC_SUBFORMAT:
		return spec_set_vpc_subformat(s, arg, what, d);
	case OPT_CLOSURE_INFO:
		spec_set_path(&s->closure_info, arg, /* base_dir= */ NULL);
		return 0;
	case OPT_SYSTEM:
		spec_set_path(&s->system, arg, /* base_dir= */ NULL);
		return 0;
	case OPT_CONFIG_FILE:
		spec_set_path(&s->config_file, arg, /* base_dir= */ NULL);
		return 0;
	case OPT_ONLY_NIX_STORE:
		s->only_nix_store = true;
		return 0;
	case OPT_CHANNEL:
		spec_set_path(&s->channel, arg, /* base_dir= */ NULL);
		s->copy_channel = true;
		return 0;
	case OPT_ADDITIONAL_PATHS:
		/* they are in the closure info already: accepted for make-disk-image's sake */
		s->n_additional_paths++;
		return 0;
	case OPT_PASSWD:
		spec_set_path(&s->passwd_file, arg, /* base_dir= */ NULL);
		return 0;
	case OPT_GROUP:
		spec_set_path(&s->group_file, arg, /* base_dir= */ NULL);
		return 0;
	case OPT_TOUCH_EFI_VARS:
		s->touch_efi_vars = true;
		return 0;
	case OPT_EFI_VARS_TEMPLATE:
		spec_set_path(&s->efi_vars_template, arg, /* base_dir= */ NULL);
		return 0;
	case OPT_EFI_VARS_OUT:
		spec_set_path(&s->efi_vars_out, arg, /* base_dir= */ NULL);
		return 0;
	case OPT_BOOTLOADER:
		return spec_set_bootloader(s, arg, what, d);
	case OPT_KERNEL:
		spec_set_path(&s->kernel, arg, /* base_dir= */ NULL);
		return 0;
	case OPT_INITRD:
		spec_set_path(&s->initrd, arg, /* base_dir= */ NULL);
		return 0;
	case OPT_CMDLINE:
		free(s->cmdline);
		s->cmdline = xstrdup(arg);
		return 0;
	case OPT_SYSTEMD_BOOT_EFI:
		spec_set_path(&s->systemd_boot_efi, arg, /* base_dir= */ NULL);
		return 0;
	case OPT_GRUB_DIR:
		spec_set_path(&s->grub_dir, arg, /* base_dir= */ NULL);
		return 0;
	case OPT_GRUB_EFI_DIR:
		spec_set_path(&s->grub_efi_dir, arg, /* base_dir= */ NULL);
		return 0;
	case OPT_JSON:
		s->json = true;
		return 0;
	case OPT_OUTPUT_DEVICE:
		s->output_device = true;
		return 0;
	case OPT_PROGRESS:
	case OPT_NO_PROGRESS:
		s->progress_set = true;
		s->progress = c == OPT_PROGRESS;
		return 0;
	}
	return diag_fail(d, -EINVAL, "unhandled option %d", c); /* a table/switch mismatch */
}

int spec_parse_args(struct image_spec *s, int argc, char **argv, struct diag *d)
{
	_cleanup_free_ const char **specs = xcalloc((size_t)argc, sizeof(*specs));
	bool contents_seen = false;
	size_t n_specs = 0;
	int c, r;

	/* Pass 1: --help (which wins over any error), usage errors, the spec files' names.
	 * optind = 0 restarts getopt (a glibc rule). */
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, spec_short_options, spec_long_options, NULL)) != -1) {
		if (c == 'h') {
			s->help = true;
			return 0;
		}
		if (c == OPT_SPEC)
			specs[n_specs++] = optarg;
	}
	optind = 0;
	while ((c = getopt_long(argc, argv, spec_short_options, spec_long_options, NULL)) != -1)
		if (c == '?' || c == ':')
			return spec_bad_option(c, argv, d);
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
	while ((c = getopt_long(argc, argv, spec_short_options, spec_long_options, NULL)) != -1) {
		if (c == OPT_SPEC)
			continue;
		r = spec_apply_flag(s, c, optarg, &contents_seen, d);
		if (r < 0)
			return r;
	}
	return 0;
}
