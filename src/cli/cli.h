/* Subcommands. Each returns the process exit status. */
#pragma once

#include <stdbool.h>

int cli_build(int argc, char **argv);
int cli_inspect(int argc, char **argv);
int cli_convert(int argc, char **argv);
int cli_boot_test(int argc, char **argv);
int cli_resize(int argc, char **argv);

/* inspect-efivars.c: FILE starts with a firmware volume header (efi-vars.fd, OVMF_VARS.fd);
 * then print its variables. */
bool cli_inspect_is_efivars(const char *path);
int cli_inspect_efivars(const char *path, bool json);
