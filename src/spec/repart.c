/* systemd-repart partition definitions (repart.d/NAME.conf) as the disk's "partitions": read the
 * way `systemd-repart --empty=create` reads them (issue #15). */
#include <errno.h>

#include "spec/spec-internal.h"
#include "util/diag.h"

int spec_load_definitions(struct image_spec *s, struct diag *d)
{
	return diag_fail(d, -ENOTSUP, "definitions %s: systemd-repart definitions are not "
			 "supported yet", s->definitions);
}
