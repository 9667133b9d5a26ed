/* Subcommands. Each returns the process exit status. */
#pragma once

int cli_build(int argc, char **argv);
int cli_inspect(int argc, char **argv);
int cli_convert(int argc, char **argv);
int cli_boot_test(int argc, char **argv);
