#!/bin/bash
# Nix-store-like corpus: DIR/nix/store/<32 base32 chars>-<name>-<version>, one store path per
# installed Debian package (its dpkg file list, /usr/ stripped), made once and reused.
#   bench/corpus-store.sh [--quick] [DIR]      prints the corpus directory on stdout
#
# Deterministic given the machine's packages: store hashes come from package name, version and
# variant; contents are copies of the installed files. Shape of an optimised Nix store:
#   - packages of at most 50 MiB, plus small-file-heavy ones (> 10,000 files, e.g. SDKs);
#   - packages of at most 16 MiB appear a second time under another hash (the same package built
#     against other inputs), as real closures hold several builds of one package;
#   - symlinks: relative inside a store path, absolute into the owning store path otherwise;
#   - every regular file hard-linked into nix/store/.links/<sha256 of mode+contents> as
#     nix-store --optimise does, so identical files share one inode;
#   - files 0444 (0555 when executable), directories 0555, every mtime 1 (the epoch + 1 s).
# Full: ~120k paths in packages + ~90k .links names, ~2.2 GB. --quick: packages of at most
# 1 MiB, no second builds (~7k files + .links). DIR.complete marks a finished corpus.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
quick=0
if [ "${1:-}" = --quick ]; then
	quick=1
	shift
fi
if [ "$quick" = 1 ]; then
	dir=${1:-$here/work/store-quick}
	cap_mib=1 big_files=0 variant_cap_mib=0
else
	dir=${1:-$here/work/store}
	cap_mib=50 big_files=10000 variant_cap_mib=16
fi
if [ -e "$dir.complete" ]; then
	echo "$dir"
	exit 0
fi
rm -rf "$dir"
mkdir -p "$dir/nix/store"

prog=$(cat <<'PERL'
use strict;
use warnings;
use Cwd ();
use Digest::SHA;
use File::Path qw(make_path);

my ($root, $cap_mib, $big_files, $variant_cap_mib) = @ARGV;
my $store = "$root/nix/store";

# Nix's base32 (no e, o, u, t), least significant bits last, as in nix-hash --to-base32.
sub nix32 {
	my @b = unpack('C*', shift);
	my $len = int((@b * 8 - 1) / 5) + 1;
	my $s = '';
	for (my $n = $len - 1; $n >= 0; $n--) {
		my $bit = $n * 5;
		my ($i, $j) = (int($bit / 8), $bit % 8);
		my $c = $b[$i] >> $j;
		$c |= $b[$i + 1] << (8 - $j) if $i + 1 < @b;
		$s .= substr('0123456789abcdfghijklmnpqrsvwxyz', $c & 0x1f, 1);
	}
	return $s;
}

sub store_name {
	my ($pkg, $ver, $variant) = @_;
	(my $v = $ver) =~ s/[^A-Za-z0-9+\-._?=]/_/g;
	my $h = Digest::SHA::sha256("mkdiskimage-bench:$pkg:$ver:$variant");
	return nix32(substr($h, 0, 20)) . "-$pkg-$v";
}

# Where a host path lands inside its store path: /usr/lib/x -> lib/x, /etc/x -> etc/x.
sub rel_of {
	my $p = shift;
	$p =~ s{^/usr/}{} or $p =~ s{^/}{};
	return $p;
}

# Lexical resolution of a symlink target (no filesystem access: it may point anywhere).
sub resolve {
	my ($link, $target) = @_;
	my $base = $target =~ m{^/} ? '' : ($link =~ m{^(.*)/[^/]*$})[0];
	my @out;
	for my $c (split m{/}, "$base/$target") {
		next if $c eq '' || $c eq '.';
		if ($c eq '..') { pop @out; next; }
		push @out, $c;
	}
	return '/' . join('/', @out);
}

my (@pkgs, %owner, %files, %real_dir);
while (my $line = <STDIN>) {
	chomp $line;
	my ($pkg, $ver) = split /\t/, $line;
	open(my $fh, '-|', 'dpkg-query', '-L', $pkg) or die "dpkg-query -L $pkg: $!";
	my (@list, %seen, @f, $bytes);
	while (my $p = <$fh>) {
		chomp $p;
		push @list, $p if $p =~ m{^/} && $p ne '/.';
	}
	close $fh;
	# dpkg lists /bin, /lib... as directories; with merged /usr they are symlinks. Such an
	# entry with entries below it is a directory, not a link; its files are the /usr ones.
	my %parent = map { (m{^(.*)/[^/]*$})[0] => 1 } @list;
	$bytes = 0;
	for my $p (@list) {
		next if -l $p ? $parent{$p} : !-f $p;
		my ($d, $b) = $p =~ m{^(.*)/([^/]*)$};
		$real_dir{$d} //= Cwd::abs_path($d eq '' ? '/' : $d);
		my $real = ($real_dir{$d} eq '/' ? '' : $real_dir{$d}) . "/$b";
		next if $seen{$real}++;
		push @f, $real;
		$bytes += -s $real if !-l $real;
	}
	my $take = $bytes <= $cap_mib * 1048576 || ($big_files && @f > $big_files);
	next if !$take || !@f;
	my $name = store_name($pkg, $ver, 0);
	push @pkgs, [$pkg, $ver, $name, 0];
	push @pkgs, [$pkg, $ver, store_name($pkg, $ver, 1), 1]
		if $bytes <= $variant_cap_mib * 1048576;
	$files{$pkg} = [sort @f];
	$owner{$_} //= $name for @f;
}

my ($n_files, $n_links, $n_bytes, $n_skipped) = (0, 0, 0, 0);
for my $p (@pkgs) {
	my ($pkg, $ver, $name, $variant) = @$p;
	my $sp = "$store/$name";
	for my $f (@{$files{$pkg}}) {
		my $rel = rel_of($f);
		my $dst = "$sp/$rel";
		(my $d = $dst) =~ s{/[^/]*$}{};
		make_path($d, { error => \my $err }) if !-d $d;
		if (!-d $d) {
			$n_skipped++;    # below a symlink the package ships: the host had a file there
			next;
		}
		next if -e $dst || -l $dst;
		if (-l $f) {
			my $t = readlink($f) // next;
			my $abs = resolve($f, $t);
			my ($ad, $ab) = $abs =~ m{^(.*)/([^/]*)$};
			my $real = -d ($ad || '/') ? Cwd::abs_path($ad || '/') : undef;
			$abs = ($real eq '/' ? '' : $real) . "/$ab" if defined $real;
			my $o = $owner{$abs};
			if (defined $o && $o ne $name && $o eq store_name($pkg, $ver, 0)) {
				$o = $name;    # a second build links to itself
			}
			if (defined $o && $o ne $name) {
				$t = "/nix/store/$o/" . rel_of($abs);
			} elsif (defined $o && $t =~ m{^/}) {
				# Same store path: relative, as Nix builds make them.
				my @from = split m{/}, $rel;
				pop @from;
				my @to = split m{/}, rel_of($abs);
				while (@from && @to > 1 && $from[0] eq $to[0]) { shift @from; shift @to; }
				$t = join('/', ('..') x @from, @to);
			}
			symlink($t, $dst) or die "symlink $dst: $!";
			$n_links++;
			next;
		}
		open(my $in, '<:raw', $f) or next;    # unreadable host files are left out
		open(my $out, '>:raw', $dst) or die "$dst: $!";
		my $buf;
		while (my $r = sysread($in, $buf, 1 << 20)) {
			syswrite($out, $buf) == $r or die "write $dst: $!";
			$n_bytes += $r;
		}
		close $in;
		close $out or die "close $dst: $!";
		chmod((-x $f ? 0555 : 0444), $dst);
		$n_files++;
	}
}
printf STDERR "store corpus: %d store paths, %d files (%.0f MiB), %d symlinks, %d skipped\n",
	scalar @pkgs, $n_files, $n_bytes / 1048576, $n_links, $n_skipped;

# nix-store --optimise: every regular file becomes a hard link to .links/<hash>, the hash
# covering the executable bit, so files differing only in mode stay apart.
my $links = "$store/.links";
mkdir $links or die "$links: $!";
my @all;
open(my $find, '-|', 'find', $store, '-path', $links, '-prune', '-o', '-type', 'f', '-print0')
	or die "find: $!";
{ local $/ = "\0"; while (my $p = <$find>) { chomp $p; push @all, $p; } }
close $find;
my ($n_shared, $n_unique) = (0, 0);
for my $p (sort @all) {
	my $sha = Digest::SHA->new(256);
	$sha->add(-x $p ? 'x' : '-');
	$sha->addfile($p, 'b');
	my $l = "$links/" . nix32($sha->digest);
	if (-e $l) {
		unlink $p or die "unlink $p: $!";
		link($l, $p) or die "link $l $p: $!";
		$n_shared++;
	} else {
		link($p, $l) or die "link $p $l: $!";
		$n_unique++;
	}
}
printf STDERR "store corpus: %d unique files in .links, %d files deduplicated\n",
	$n_unique, $n_shared;
PERL
)

echo "store corpus: copying packages into $dir" >&2
dpkg-query -W -f '${Package}\t${Version}\n' | LC_ALL=C sort |
	perl -e "$prog" "$dir" "$cap_mib" "$big_files" "$variant_cap_mib"

# Times last: creating entries and links changes directory mtimes.
find "$dir" -exec touch -h -d @1 {} +
find "$dir/nix" -type d -exec chmod 0555 {} +
touch "$dir.complete"
echo "$dir"
