/* The spec's one option table: every JSON key and `mkdiskimage build` flag, with its type,
 * default, help text and setter. json.c dispatches keys through it, flags.c builds getopt's
 * options from it and dispatches through it, spec_usage() prints it. A new key or flag is one
 * entry here (and its setter in values.c when the type's generic one does not do). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "spec/spec-internal.h"

struct json_object;
struct spec_json_ctx;

enum spec_opt_type {
	SPEC_OPT_STRING,
	SPEC_OPT_PATH,         /* relative: to the spec file's directory, or the working one */
	SPEC_OPT_BOOL,         /* JSON true/false; as a flag, a switch without a value */
	SPEC_OPT_SIZE,         /* "512M" (powers of 1024); a bare number (or JSON number) is MiB */
	SPEC_OPT_SIZE_OR_AUTO, /* "auto" or a size (diskSize) */
	SPEC_OPT_UINT,         /* a whole number (JSON: a number or its text) */
	SPEC_OPT_ENUM,         /* one of a list of names (the setter's message lists them) */
	SPEC_OPT_UUID,         /* 8-4-4-4-12 hex digits */
	SPEC_OPT_LIST,         /* JSON: a list (parsed by .set_json); flag: repeatable */
	SPEC_OPT_IGNORED,      /* accepted for make-disk-image's sake, no effect */
};

struct spec_option {
	const char *key;  /* JSON key; NULL: a flag only (--json, -o, --help, ...) */
	const char *flag; /* long flag without "--"; NULL: a key only */
	char short_flag;  /* 'o' for -o; 0: none */
	const char *arg;  /* the flag's value in --help ("DIR"); NULL: a switch */
	enum spec_opt_type type;
	bool off;         /* a switch that sets false (--no-deterministic) */
	size_t field;     /* offsetof(struct image_spec, ...) for the type's generic setter */
	spec_setter set;  /* NULL: the generic setter (string, path, bool) on .field */
	/* JSON: the whole value, for lists and other non-text values (json.c) */
	int (*set_json)(struct spec_json_ctx *c, const char *key, struct json_object *v);
	const char *expected; /* JSON: the expected value in a type error (NULL: the type's) */
	const char *def;      /* default shown at the end of the help: " (512M)"; NULL: none or
			       * said in .help */
	const char *bracket;  /* --help's "[key]" when it says more: "[deterministic: false]" */
	const char *usage;    /* --help's flag column when it is not "--flag ARG" */
	const char *help;     /* NULL: no line of its own (--no-progress: with --progress) */
	const char *values;   /* SPEC_OPT_ENUM: every accepted value, space-separated (the
			       * completions; options_test.c checks the setter takes each) */
	bool format_option;   /* an option of the output format: `convert` takes it too */
};

/* What `mkdiskimage build` does: its --help and the man page say it. */
#define SPEC_BUILD_DESCRIPTION                                                              \
	"Builds a partitioned disk image (ext4 root, FAT ESP and boot partitions, GPT or MBR, " \
	"GRUB or systemd-boot, EFI variables) as nixpkgs' make-disk-image does, natively: "    \
	"without root, a VM or mkfs. Every flag has a spec key of the same meaning (shown in "  \
	"brackets); flags override the spec files, whatever their order. Relative paths in a " \
	"spec file are relative to its directory; on the command line, to the working "        \
	"directory. A null value in a spec file keeps the default. The same inputs give the "  \
	"same bytes."

/* How every size key and flag reads its value: build's --help and the man page say it. */
#define SPEC_SIZES_HELP                                                                    \
	"Sizes read as numfmt --from=iec does: 512M, 1G, 1.5G, 1024K (powers of 1024). A "  \
	"number without a suffix is MiB for every size key and flag, as diskSize is: 2048 = " \
	"2G."

extern const struct spec_option spec_options[];
extern const size_t spec_n_options;

/* The entry of a JSON key, NULL when unknown. */
const struct spec_option *spec_option_by_key(const char *key);
/* Apply a value through the entry's setter (or its type's generic setter). */
int spec_option_set(struct image_spec *s, const struct spec_option *o, const struct spec_arg *a,
		    struct diag *d);
/* What a JSON value of the entry must be, for "expected %s, got %s". */
const char *spec_option_expected(const struct spec_option *o);

/* JSON values that are not text (json.c). */
int spec_json_contents(struct spec_json_ctx *c, const char *key, struct json_object *v);
int spec_json_additional_paths(struct spec_json_ctx *c, const char *key, struct json_object *v);
int spec_json_mem_size(struct spec_json_ctx *c, const char *key, struct json_object *v);
int spec_json_partitions(struct spec_json_ctx *c, const char *key, struct json_object *v);
