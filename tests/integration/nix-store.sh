#!/usr/bin/env bash
# The Nix store (issue #5): a NixOS-shaped closure built by real Nix (tests/data/nix-fixture,
# Debian's nix-bin, sandbox off, into the host's /nix/store) imaged with --closure-info,
# --system, --config-file and --channel in the efi and none layouts. On the image's root
# filesystem real Nix must verify every path's contents, dump the database exactly as it loads
# the registration, find nothing to collect; the profiles, /etc/NIXOS, configuration.nix and
# the channel are where nixos-install puts them; hard links across store paths stay links;
# builds are reproducible in raw and qcow2. --only-nix-store puts the store at the root of a
# "nix-store" filesystem. Bad closure infos fail with one line and no output. QUICK=1 (the
# sanitizer pass) uses a smaller closure and skips the derivations and qcow2 cases.
# quick
. "$(dirname "$0")/../lib.sh"
nix_store_lock
require nix-build nix-store sqlite3 sfdisk blkid e2fsck python3
can_loop_mount || skip "needs root and loop devices (the fixture goes into /nix/store)"

export NIX_REMOTE=
export NIX_CONFIG=$'sandbox = false\nbuild-users-group =\nsubstituters ='
N=200
[ -n "${QUICK:-}" ] && N=40
FX=$T/fx
if ! "$DATA/nix-fixture/make-fixture.sh" "$FX" "$N" >"$T/fixture.log" 2>&1; then
	tail -n 5 "$T/fixture.log" >&2
	skip "real Nix cannot build the fixture here"
fi
CI=$FX/closure
TOPLEVEL=$(cat "$FX/toplevel")
CHANNEL=$(cat "$FX/channel")
n_paths=$(wc -l <"$CI/store-paths")
[ "$n_paths" -gt "$N" ] || fail "fixture: only $n_paths store paths"
printf '{ ... }: { boot.loader.grub.enable = false; }\n' >"$T/configuration.nix"
# contents owners from the ids the configuration declares (no /etc/passwd in the image)
printf 'root:x:0:0::/root:/bin/sh\nnginx:x:60:61::/var/empty:/bin/false\n' >"$T/passwd"
printf 'root:x:0:\nnginx:x:61:\n' >"$T/group"
NIXARGS=(--closure-info "$CI" --system "$TOPLEVEL" --channel "$CHANNEL"
	--config-file "$T/configuration.nix" --passwd "$T/passwd" --group "$T/group"
	--contents "$T/configuration.nix:/srv/owned:0640:nginx:nginx")

# The reference: what real Nix makes of the registration in an empty store.
mkdir -p "$T/ref"
nix-store --store "local?root=$T/ref" --load-db <"$CI/registration"
nix-store --store "local?root=$T/ref" --dump-db >"$T/ref.dump"
[ "$(grep -c '^/nix/store/' "$T/ref.dump")" -ge "$n_paths" ] || fail "reference dump is short"

# root_copy IMG PART DIR: a writable copy of the image's root filesystem (Nix takes locks).
root_copy()
{
	local img=$1 part=$2 dir=$3
	extract_partition "$img" "$part" "$T/part.ext4"
	e2fsck_clean "$T/part.ext4"
	loop_mount "$T/part.ext4" "$T/mnt"
	cp -a "$T/mnt" "$dir"
	unmount "$T/mnt"
	rm -f "$T/part.ext4"
}

# check_nix_root DIR: real Nix accepts the store under DIR.
check_nix_root()
{
	local r=$1 out p
	[ "$(cat "$r/nix/var/nix/db/schema")" = 10 ] || fail "schema is not 10"
	[ "$(stat -c %s "$r/nix/var/nix/db/schema")" -eq 2 ] || fail "schema has a newline"
	[ "$(sqlite3 "$r/nix/var/nix/db/db.sqlite" 'select distinct registrationTime from ValidPaths')" = 1 ] ||
		fail "registrationTime differs between rows"
	[ "$(sqlite3 "$r/nix/var/nix/db/db.sqlite" 'select count(*) from ValidPaths where ultimate is not null or sigs is not null or ca is not null')" = 0 ] ||
		fail "ultimate/sigs/ca set"
	[ "$(sqlite3 "$r/nix/var/nix/db/db.sqlite" 'pragma journal_mode')" = delete ] ||
		fail "database is not in rollback-journal mode"
	out=$(nix-store --store "local?root=$r" --verify --check-contents 2>&1) ||
		fail "nix-store --verify --check-contents: $out"
	if grep -Eiv '^(reading the Nix store|checking path existence|checking link hashes|checking store hashes)\.\.\.$' <<<"$out" | grep -q .; then
		fail "nix-store --verify reports: $out"
	fi
	nix-store --store "local?root=$r" --dump-db >"$T/img.dump"
	diff -u "$T/ref.dump" "$T/img.dump" >&2 || fail "--dump-db differs from the registration"
	out=$(nix-store --store "local?root=$r" --gc --print-dead 2>/dev/null)
	[ -z "$out" ] || fail "a garbage collection would delete: $(head -n 3 <<<"$out")"
	# store paths: owners root, mtime 1, as on the host
	p=$(grep -- '-pkg-7$' "$CI/store-paths")
	[ "$(stat -c '%u:%g %Y %a' "$r$p/bin/pkg-7")" = "0:0 1 555" ] || fail "$p/bin/pkg-7 metadata"
	[ "$(stat -c %h "$r$p/share/doc/LICENSE")" -ge "$N" ] ||
		fail "identical files across store paths are not hard links"
	[ "$(stat -c %i "$r$p/bin/pkg-7")" = "$(stat -c %i "$r$p/bin/pkg-7-hardlink")" ] ||
		fail "a hard link inside a store path was split"
	[ -s "$r$p/share/with space/grüße 7.txt" ] || fail "UTF-8 name missing"
	[ -f "$r$p/lib/rel-dep-pkg-3/doc/LICENSE" ] || fail "relative link into another path"
	cmp "$(grep -- '-big-file$' "$CI/store-paths")/random" \
		"$r$(grep -- '-big-file$' "$CI/store-paths")/random" || fail "large file differs"
}

# check_layout DIR: nixos-install's layout.
check_layout()
{
	local r=$1
	[ "$(readlink "$r/nix/var/nix/profiles/system")" = system-1-link ] || fail "system profile"
	[ "$(readlink "$r/nix/var/nix/profiles/system-1-link")" = "$TOPLEVEL" ] ||
		fail "system-1-link does not point to the toplevel"
	[ -x "$r$TOPLEVEL/init" ] || fail "toplevel init missing"
	[ "$(readlink "$r/nix/var/nix/gcroots/profiles")" = /nix/var/nix/profiles ] ||
		fail "gcroots/profiles"
	[ -f "$r/etc/NIXOS" ] || fail "/etc/NIXOS missing"
	cmp "$T/configuration.nix" "$r/etc/nixos/configuration.nix" || fail "configuration.nix"
	[ "$(readlink "$r/nix/var/nix/profiles/per-user/root/channels-1-link")" = "$CHANNEL" ] ||
		fail "channels profile"
	[ "$(readlink "$r/root/.nix-defexpr/channels")" = /nix/var/nix/profiles/per-user/root/channels ] ||
		fail "root's channels link"
	[ "$(stat -c %a "$r/root/.nix-defexpr")" = 700 ] || fail ".nix-defexpr mode"
	[ "$(stat -c '%a %g' "$r/nix/store")" = "1775 30000" ] || fail "/nix/store mode"
	local d
	for d in gcroots temproots userpool profiles db; do
		[ -d "$r/nix/var/nix/$d" ] || fail "/nix/var/nix/$d missing"
	done
	[ -d "$r/nix/var/log/nix/drvs" ] || fail "/nix/var/log/nix/drvs missing"
	[ "$(stat -c '%u:%g %a' "$r/srv/owned")" = "60:61 640" ] || fail "contents owner via --passwd"
	[ ! -e "$r/etc/passwd" ] || fail "--passwd must not put /etc/passwd into the image"
}

layouts=(none legacy legacy+gpt efi efixbootldr hybrid)
[ -n "${QUICK:-}" ] && layouts=(efi none)
for layout in "${layouts[@]}"; do
	case $layout in
	none) part=0 ;;
	legacy) part=1 ;;
	legacy+gpt | efi) part=2 ;;
	*) part=3 ;;
	esac
	build "${NIXARGS[@]}" --partition-table "$layout" -o "$T/$layout.img"
	root_copy "$T/$layout.img" "$part" "$T/root-$layout"
	check_nix_root "$T/root-$layout"
	check_layout "$T/root-$layout"
	rm -rf "$T/root-$layout" "$T/$layout.img"
	log "ok: $layout"
done

# Derivations in the closure: DerivationOutputs rows as the host's Nix recorded them.
if [ -z "${QUICK:-}" ]; then
"$DATA/nix-fixture/make-fixture.sh" "$T/fxd" 200 drvs >"$T/fixture.log" 2>&1 ||
	fail "fixture with derivations: $(tail -n 3 "$T/fixture.log")"
grep -q '\.drv$' "$T/fxd/closure/store-paths" || fail "no .drv in the closure"
build --closure-info "$T/fxd/closure" --partition-table none -o "$T/drv.img"
root_copy "$T/drv.img" 0 "$T/root-drv"
out=$(nix-store --store "local?root=$T/root-drv" --verify --check-contents 2>&1) ||
	fail "verify with derivations: $out"
q='select v.path, o.id, o.path from DerivationOutputs o join ValidPaths v on v.id = o.drv order by 1, 2'
sqlite3 "$T/root-drv/nix/var/nix/db/db.sqlite" "$q" >"$T/drv.img.rows"
[ "$(wc -l <"$T/drv.img.rows")" -ge "$N" ] || fail "DerivationOutputs has too few rows"
grep '\.drv$' "$T/fxd/closure/store-paths" >"$T/drvs"
sqlite3 -readonly /nix/var/nix/db/db.sqlite "$q" |
	awk -F'|' 'NR == FNR { d[$0] = 1; next } d[$1]' "$T/drvs" - >"$T/drv.host.rows"
diff -u "$T/drv.host.rows" "$T/drv.img.rows" >&2 || fail "DerivationOutputs differ from the host's"
rm -rf "$T/root-drv" "$T/drv.img"
fi

# Determinism: every format, from different directories.
assert_reproducible "${NIXARGS[@]}" --partition-table efi --format raw
if [ -z "${QUICK:-}" ]; then
	for f in qcow2 qcow2-compressed vdi vpc; do
		assert_reproducible "${NIXARGS[@]}" --partition-table efi --format "$f"
	done
fi
# No root needed: the store is world-readable, owners and modes come from the rules.
if [ -z "${QUICK:-}" ] && id nobody >/dev/null 2>&1; then
	build "${NIXARGS[@]}" --partition-table efi -o "$T/root.img"
	mkdir -m 777 "$T/nobody"
	build_as nobody "${NIXARGS[@]}" --partition-table efi -o "$T/nobody/nobody.img"
	cmp "$T/root.img" "$T/nobody/nobody.img" || fail "a build as nobody differs from root's"
	rm -rf "$T/root.img" "$T/nobody"
elif [ -z "${QUICK:-}" ]; then
	skip_case "build as nobody (no user nobody)"
fi

# --only-nix-store: the store at the root, label nix-store, nothing else.
build --closure-info "$CI" --only-nix-store --partition-table none -o "$T/store.img"
[ "$(blkid -o value -s LABEL "$T/store.img")" = nix-store ] || fail "store image label"
root_copy "$T/store.img" 0 "$T/store"
diff -u <(sed 's|^/nix/store/||' "$CI/store-paths" | LC_ALL=C sort) \
	<(ls -A "$T/store" | grep -vx lost+found | LC_ALL=C sort) >&2 ||
	fail "--only-nix-store top level is not exactly the store paths"
p=$(grep -- '-pkg-7$' "$CI/store-paths")
diff -r "$p" "$T/store/${p#/nix/store/}" || fail "store path content differs"
rm -rf "$T/store" "$T/store.img"
expect_fail "onlyNixStore: the image holds the store only; remove system" \
	--closure-info "$CI" --only-nix-store --system "$TOPLEVEL"

# Bad closure infos.
bad=$T/bad
mkdir -p "$bad"
first=$(head -n 1 "$CI/store-paths")
{ cat "$CI/store-paths"; echo /nix/store/00000000000000000000000000000000-missing; } >"$bad/store-paths"
{ cat "$CI/registration"; printf '%s\n' /nix/store/00000000000000000000000000000000-missing \
	"sha256:$(printf '0%.0s' $(seq 52))" 8 '' 0; } >"$bad/registration"
expect_fail "/nix/store/00000000000000000000000000000000-missing is not in the host store" \
	--closure-info "$bad"
cp "$CI/store-paths" "$bad/store-paths"
head -n -1 "$CI/registration" >"$bad/registration" # the last record loses a line
expect_fail "registration: truncated in the record of" --closure-info "$bad"
{ cat "$CI/store-paths"; echo "$first"; } >"$bad/store-paths"
cp "$CI/registration" "$bad/registration"
expect_fail "store-paths: $first is listed twice" --closure-info "$bad"
cp "$CI/store-paths" "$bad/store-paths"
{ cat "$CI/registration"; head -n 5 "$CI/registration"; } >"$bad/registration"
expect_fail "registration: $first is registered twice" --closure-info "$bad"
expect_fail "has no init, so it is not a NixOS toplevel" --closure-info "$CI" --system "$p"
expect_fail "$T/nonexistent/store-paths: cannot read" --closure-info "$T/nonexistent"
