/* The command-line tables every subcommand is made of: its options (flag, value, help,
 * completion) and the command table (name, summary, synopsis, handler, options). --help, the
 * man page and the shell completions are all generated from these tables (gendocs.c), and
 * getopt_long's options too, so none of them can drift from the parser. */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* What a flag's value is, for the completions. */
enum cli_complete {
	CLI_COMPLETE_TEXT, /* anything (no completion) */
	CLI_COMPLETE_FILE, /* a file name */
	CLI_COMPLETE_DIR,  /* a directory */
	CLI_COMPLETE_ENUM, /* one of .values */
};

struct cli_option {
	const char *flag;        /* long flag without "--" */
	char short_flag;         /* 'h' for -h; 0: none */
	const char *arg;         /* the value's name in --help ("FILE"); NULL: a switch */
	int id;                  /* getopt_long's return value for it */
	enum cli_complete complete;
	const char *values;      /* CLI_COMPLETE_ENUM: the accepted values, space-separated */
	bool repeat;             /* may be given more than once */
	const char *usage;       /* --help's flag column when it is not "--flag ARG" */
	const char *help;        /* NULL: no line of its own (--no-progress: with --progress) */
};

struct cli_command {
	const char *name;
	const char *summary;     /* one line, lower case, no full stop */
	const char *synopsis;    /* after "mkdiskimage NAME " */
	const char *description; /* paragraphs separated by "\n\n", each one flowed text */
	const char *operands;    /* the positional arguments' completion: "file", "file file",
				  * "command" or NULL */
	int (*run)(int argc, char **argv);
	/* The option table (for build, made once from spec/options.c's). */
	void (*options)(const struct cli_option **ret, size_t *ret_n);
};

extern const struct cli_command cli_commands[];
extern const size_t cli_n_commands;

const struct cli_command *cli_command_find(const char *name);
/* "build, inspect, convert, boot-test, help and version" */
const char *cli_command_names(void);

/* mkdiskimage's own usage: every command and its summary. */
void cli_main_usage(FILE *f);
/* "unknown command 'biuld'; did you mean 'build'? (commands: ...)" on stderr; returns 2. */
int cli_unknown_command(const char *name);
/* A command's --help text (build's: spec_usage(), from the spec's table). Free it. */
char *cli_command_usage(const struct cli_command *c);

/* The version string (the Makefile's VERSION: git describe, or the release's number). */
const char *cli_version(void);

/* getopt_long's tables for opts[0 .. n): a long option array with its terminator and the short
 * option string, ':' first (a missing value reports ':'). Free with cli_getopt_free. */
struct cli_getopt {
	struct option *longopts;
	char shortopts[32];
};
void cli_getopt_init(struct cli_getopt *g, const struct cli_option *opts, size_t n);
void cli_getopt_free(struct cli_getopt *g);

/* The message for getopt_long's '?' or ':' (c), after it returned it for argv[optind - 1]:
 * "unknown option --partion-table; did you mean --partition-table? (see mkdiskimage build
 * --help)" or "--format needs a value (...)". Prints it with log_error. Returns 2. */
int cli_bad_option(const char *command, int c, char **argv, const struct cli_option *opts,
		   size_t n);
/* table[i]'s flag, for cli_bad_option_message over a struct cli_option array */
const char *cli_option_flag_at(const void *table, size_t i);
/* The same message, into buf (for the spec parser, which keeps messages in a struct diag). */
void cli_bad_option_message(const char *command, int c, char **argv,
			    const char *(*flag_at)(const void *table, size_t i), const void *table,
			    size_t n, char *buf, size_t cap);

/* The usage text of a command, made from its table: "Usage: mkdiskimage NAME SYNOPSIS", the
 * description and every option, wrapped to 87 columns. Free it. */
char *cli_usage(const struct cli_command *c);
/* Wrap words from column `col` (where the line is now) between columns indent and width. */
struct strbuf;

/* The exit statuses of every command. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1, /* spec file errors, inputs, I/O, build and test failures */
	CLI_EXIT_USAGE = 2,   /* the command line cannot be understood */
};

/* Option tables of the commands (each command's file), and the generator (gendocs.c). */
void cli_build_options(const struct cli_option **ret, size_t *ret_n);
void cli_inspect_options(const struct cli_option **ret, size_t *ret_n);
void cli_convert_options(const struct cli_option **ret, size_t *ret_n);
void cli_boot_test_options(const struct cli_option **ret, size_t *ret_n);
void cli_resize_options(const struct cli_option **ret, size_t *ret_n);
/* Write the man page (what "man") or a completion ("bash", "zsh", "fish") to f. */
int cli_gen_docs(const char *what, FILE *f);
