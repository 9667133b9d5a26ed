/* What to boot: a NixOS toplevel's bootspec (boot.json, "org.nixos.bootspec.v1", RFC 0125),
 * or, for a toplevel without one, its kernel, initrd, init and kernel-params files (what
 * bootspec's synthesize tool reads); or --kernel/--initrd/--cmdline. */
#include "boot/boot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define BOOTSPEC_MAX (1u << 20)

struct boot_entry *boot_entry_free(struct boot_entry *e)
{
	if (!e)
		return NULL;
	free(e->kernel);
	free(e->initrd);
	free(e->init);
	free(e->params);
	free(e->label);
	free(e->toplevel);
	free(e);
	return NULL;
}

struct boot_entry *boot_entry_new(const char *kernel, const char *initrd, const char *cmdline)
{
	struct boot_entry *e = xcalloc(1, sizeof(*e));

	e->kernel = xstrdup(kernel);
	e->initrd = initrd ? xstrdup(initrd) : NULL;
	e->params = xstrdup(cmdline ? cmdline : "");
	return e;
}

static bool bootspec_exists(const char *dir, const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);

	return access(p, F_OK) == 0;
}

bool bootspec_present(const char *toplevel)
{
	return bootspec_exists(toplevel, "boot.json") || bootspec_exists(toplevel, "kernel");
}

/* TOPLEVEL/name resolved through its symlinks (toplevel/kernel points into the kernel's store
 * path), NULL when absent. */
static char *bootspec_resolve(const char *toplevel, const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", toplevel, name);
	char *r = realpath(p, NULL);

	return r;
}

/* The fallback: the files a toplevel has had since before bootspec. */
static int bootspec_from_files(const char *toplevel, struct diag *d, struct boot_entry **ret)
{
	_cleanup_free_ char *params_path = xasprintf("%s/kernel-params", toplevel);
	_cleanup_free_ char *version_path = xasprintf("%s/nixos-version", toplevel);
	_cleanup_free_ uint8_t *params = NULL, *version = NULL;
	struct boot_entry *e;
	size_t len;
	int r;

	e = xcalloc(1, sizeof(*e));
	e->kernel = bootspec_resolve(toplevel, "kernel");
	if (!e->kernel) {
		boot_entry_free(e);
		return diag_fail(d, -ENOENT, "system %s: no boot.json and no kernel (not a NixOS "
				 "toplevel? give --kernel F instead)", toplevel);
	}
	e->initrd = bootspec_resolve(toplevel, "initrd");
	e->init = xasprintf("%s/init", toplevel);
	e->toplevel = xstrdup(toplevel);
	r = read_file(params_path, BOOTSPEC_MAX, &params, &len);
	if (r < 0 && r != -ENOENT) {
		boot_entry_free(e);
		return diag_fail(d, r, "%s: cannot read: %s", params_path, strerror(-r));
	}
	while (params && len && strchr(" \t\r\n", params[len - 1]))
		params[--len] = '\0';
	e->params = xstrdup(params ? (char *)params : "");
	if (read_file(version_path, BOOTSPEC_MAX, &version, &len) >= 0) {
		while (len && strchr(" \t\r\n", version[len - 1]))
			version[--len] = '\0';
		e->label = xasprintf("NixOS %s", (char *)version);
	}
	*ret = e;
	return 0;
}

int bootspec_load(const char *toplevel, struct diag *d, struct boot_entry **ret)
{
	_cleanup_free_ char *path = xasprintf("%s/boot.json", toplevel);
	_cleanup_free_ uint8_t *text = NULL;
	struct boot_entry *e = NULL;
	size_t len;
	int r;

	r = read_file(path, BOOTSPEC_MAX, &text, &len);
	if (r == -ENOENT)
		return bootspec_from_files(toplevel, d, ret);
	if (r < 0)
		return diag_fail(d, r, "%s: cannot read: %s", path, strerror(-r));
	r = bootspec_json_parse((const char *)text, len, path, d, &e);
	if (r < 0)
		return r;
	if (e->kernel[0] != '/' || (e->initrd && e->initrd[0] != '/') || e->init[0] != '/') {
		boot_entry_free(e);
		return diag_fail(d, -EBADMSG, "%s: kernel, initrd and init must be absolute paths",
				 path);
	}
	if (!e->toplevel)
		e->toplevel = xstrdup(toplevel);
	*ret = e;
	return 0;
}
