/* A disko.devices JSON (nix eval --json ...config.disko.devices) as the disk's "partitions"
 * (issue #15). */
#include <errno.h>

#include "spec/spec-internal.h"
#include "util/diag.h"

int spec_load_disko(struct image_spec *s, struct diag *d)
{
	return diag_fail(d, -ENOTSUP, "disko %s: disko devices are not supported yet", s->disko);
}
