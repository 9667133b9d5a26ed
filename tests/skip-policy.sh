# Sourced by tests/run-unit.sh and tests/run-integration.sh. With STRICT_SKIPS=1 (set by
# `make check`, hence CI, which installs every tool) a skip fails unless tests/skips-allowed
# allows it.
SKIPS_ALLOWED=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/skips-allowed

# skip_allowed "NAME: REASON": whether a line of tests/skips-allowed (a bash glob; # comments)
# matches it.
skip_allowed()
{
	local line
	while IFS= read -r line; do
		case $line in '' | '#'*) continue ;; esac
		# shellcheck disable=SC2053
		[[ $1 == $line ]] && return 0
	done <"$SKIPS_ALLOWED"
	return 1
}

# skip_is_failure "NAME: REASON": true under STRICT_SKIPS=1 for a skip not allowed.
skip_is_failure()
{
	[ "${STRICT_SKIPS:-0}" = 1 ] && ! skip_allowed "$1"
}
