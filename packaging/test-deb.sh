#!/usr/bin/env bash
# Fleet Twin's Debian packages, end to end: build them from this checkout's
# files with `dpkg-buildpackage -us -uc -b` (the unit suite runs during the
# build), run lintian, then install them into a clean Debian 12 root made by
# debootstrap (apt resolves their dependencies from the archive) and run the
# installed `fleet-twin-cli run` on an installed scenario from outside the
# source tree. Without debootstrap or the archive, --host installs them on
# this machine with dpkg -i instead.
#
#   packaging/test-deb.sh [--host] [--nocheck] [--keep]
#
# Work goes to $FT_DEB_OUT (default /var/tmp/fleet-twin-deb); the clean root
# is cached as $FT_DEB_OUT/base-root.tar and copied afresh for each run.
# $FT_SHARED_DATA (default ../shared/data beside the checkout) is the real
# data the unit suite reads.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${FT_DEB_OUT:-/var/tmp/fleet-twin-deb}
shared=${FT_SHARED_DATA:-$here/../shared/data}
mirror=${FT_DEB_MIRROR:-http://deb.debian.org/debian}
mode=chroot nocheck="" keep=0
for a in "$@"; do
  case "$a" in
    --host) mode=host ;;
    --nocheck) nocheck=nocheck ;;
    --keep) keep=1 ;;
    *) echo "usage: packaging/test-deb.sh [--host] [--nocheck] [--keep]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "test-deb: run as root (debootstrap, chroot, dpkg -i)" >&2; exit 2; }
for tool in dpkg-buildpackage dh; do
  command -v "$tool" >/dev/null || { echo "test-deb: $tool is missing (packaging/debian-packages.txt)" >&2; exit 2; }
done

version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
mkdir -p "$out"
src=$out/fleet-twin-$version
rm -rf "$src" "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mkdir -p "$src"

# 1. Build from the checkout's files (tracked and new, not ignored), in a copy.
(cd "$here" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -C "$src" -xf -
echo "test-deb: building fleet-twin $version in $src"
t0=$(date +%s)
(cd "$src" && FT_SHARED_DATA=$(realpath "$shared") DEB_BUILD_OPTIONS="parallel=2 $nocheck" \
   nice dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 \
  || { tail -40 "$out/build.log" >&2; echo "test-deb: the package build failed (log: $out/build.log)" >&2; exit 1; }
t1=$(date +%s)
echo "test-deb: dpkg-buildpackage took $((t1 - t0)) s (log: $out/build.log)"
grep -E '^(Ok|Fail|Expected Fail|Skipped|Timeout): ' "$out/build.log" | sed 's/^/test-deb: build-time tests: /' || true
ls -l "$out"/*.deb

# 2. lintian: every tag, overrides shown (debian/README.source says why each stays).
lint_missing=0
if command -v lintian >/dev/null; then
  lintian --display-info --show-overrides "$out"/fleet-twin_"${version}"_*.changes >"$out/lintian.txt" 2>&1 || true
  echo "test-deb: lintian ($out/lintian.txt):"
  sed 's/^/  /' "$out/lintian.txt"
else
  echo "test-deb: lintian is missing (packaging/debian-packages.txt): not run" >&2
  lint_missing=1
fi

# The desktop file and AppStream metainfo as packaged.
if command -v desktop-file-validate >/dev/null && command -v appstreamcli >/dev/null; then
  x=$(mktemp -d) && dpkg-deb -x "$out"/fleet-twin_"${version}"_*.deb "$x"
  desktop-file-validate "$x"/usr/share/applications/org.mobilitycorp.FleetTwin.desktop \
    && appstreamcli validate --no-net "$x"/usr/share/metainfo/org.mobilitycorp.FleetTwin.metainfo.xml \
    || { rm -rf "$x"; echo "test-deb: the packaged desktop file or metainfo does not validate" >&2; exit 1; }
  rm -rf "$x"
fi

# 3. Install and run the installed CLI from a folder outside the source tree.
check_installed() {   # $1: a command prefix that runs inside the installed system
  local run=("$@")
  "${run[@]}" sh -c 'cd /tmp && fleet-twin-cli run demo-city-phase1 --days 0.05 --seed 7 --quiet --json' \
    >"$out/run.json" || { echo "test-deb: the installed fleet-twin-cli run failed" >&2; exit 1; }
  grep -q '"scenario": "Demo City Phase 1 MVP launch"' "$out/run.json" \
    || { cat "$out/run.json" >&2; echo "test-deb: no KPIs from the installed run" >&2; exit 1; }
  echo "test-deb: installed fleet-twin-cli run demo-city-phase1 (from /tmp):"
  sed 's/^/  /' "$out/run.json" | head -12
  # every program starts (its libraries resolve), the desktop integration validates
  "${run[@]}" sh -c 'fleet-twin --help >/dev/null && fleet-twin-wallboard --help >/dev/null' \
    || { echo "test-deb: an installed program does not start" >&2; exit 1; }
  "${run[@]}" sh -c 'ls /usr/share/fleet-twin /usr/share/fleet-twin/scenarios && gsettings list-keys org.mobilitycorp.FleetTwin' \
    | sed 's/^/  installed: /' \
    || { echo "test-deb: the installed data or the compiled settings schema is missing" >&2; exit 1; }
}

if [ "$mode" = host ]; then
  echo "test-deb: installing on this machine with dpkg -i"
  dpkg -i "$out"/*.deb || apt-get -f install -y
  check_installed env
  exit $lint_missing
fi

command -v debootstrap >/dev/null || { echo "test-deb: debootstrap is missing; try --host" >&2; exit 2; }
base=$out/base-root.tar
if [ ! -f "$base" ]; then
  echo "test-deb: making a clean Debian 12 root with debootstrap (once; cached in $base)"
  rm -rf "$out/base-root"
  debootstrap --variant=minbase bookworm "$out/base-root" "$mirror" >"$out/debootstrap.log" 2>&1 \
    || { tail -20 "$out/debootstrap.log" >&2; echo "test-deb: debootstrap failed; try --host" >&2; exit 1; }
  tar -C "$out/base-root" -cf "$base" .
  rm -rf "$out/base-root"
fi
root=$out/root
# Only /proc is mounted (the programs find their data from /proc/self/exe);
# debootstrap made the root's own /dev nodes. Removal never crosses a mount.
umount_all() {
  if mountpoint -q "$root/proc"; then umount "$root/proc"; fi
  [ $keep -eq 1 ] || rm -rf --one-file-system "$root"
}
keep_now=$keep keep=0; umount_all; keep=$keep_now
mkdir -p "$root"
tar -C "$root" -xf "$base"
trap umount_all EXIT
mount -t proc proc "$root/proc"
mkdir -p "$root/debs" && cp "$out"/*.deb "$root/debs/" && rm -f "$root"/debs/*-dbgsym_*.deb
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
echo "test-deb: installing the packages into a clean root ($root)"
t2=$(date +%s)
chroot "$root" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /debs/*.deb libglib2.0-bin' \
  >"$out/install.log" 2>&1 || { tail -30 "$out/install.log" >&2; echo "test-deb: apt-get install in the root failed" >&2; exit 1; }
check_installed chroot "$root"
echo "test-deb: ok (build $((t1 - t0)) s, install and run $(( $(date +%s) - t2 )) s)"
exit $lint_missing
