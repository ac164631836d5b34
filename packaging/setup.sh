#!/usr/bin/env bash
# Fleet Twin quick start: install what is missing, build, then either open
# the app on the embedded Demo City (default) or run the whole test suite.
#
#   packaging/setup.sh          install, build, run Fleet Twin on Demo City
#   packaging/setup.sh test     install, build, run every test
#
# Packages come from packaging/debian-packages.txt; sudo is used only when
# something is missing and we are not root.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
mode=${1:-run}

missing=()
while read -r pkg; do
  case "$pkg" in ''|'#'*) continue ;; esac
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done < packaging/debian-packages.txt

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} missing packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build_and_test() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@"
  fi
  ninja -C "$dir"
}

case "$mode" in
  run)
    build_and_test build --buildtype=release
    if [ -x build/ui/app/fleet-twin ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
      # Run uninstalled: find the app's GSettings schema in the build tree.
      export GSETTINGS_SCHEMA_DIR="$here/build/data${GSETTINGS_SCHEMA_DIR:+:$GSETTINGS_SCHEMA_DIR}"
      exec build/ui/app/fleet-twin
    elif [ -x build/ui/cli/fleet-twin-cli ] && build/ui/cli/fleet-twin-cli --help | grep -q '^  run '; then
      exec build/ui/cli/fleet-twin-cli run scenarios/demo-city-phase1.scenario
    else
      exec build/ui/cli/fleet-twin-cli demo
    fi
    ;;
  test)
    # Tests build with AddressSanitizer and UBSan on.
    build_and_test build-test --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
    export LSAN_OPTIONS="suppressions=$here/tests/lsan.supp:print_suppressions=0"
    set +e
    meson test -C build-test --print-errorlogs --num-processes 2 --timeout-multiplier 3
    rc=$?
    set -e
    # Then every parser's libFuzzer harness for a short bounded time
    # (tests/fuzz): clang, -Dfuzzing=true, only what the harnesses need.
    fuzz_rc=0
    rm -f build-fuzz/meson-logs/testlog.json
    if CC=clang-14 CXX=clang++-14 build_and_test build-fuzz --buildtype=debugoptimized -Dfuzzing=true \
         -Db_sanitize=address,undefined -Db_lundef=false; then
      set +e
      meson test -C build-fuzz --suite fuzz --print-errorlogs --num-processes 2
      fuzz_rc=$?
      set -e
    else
      echo "setup: the fuzzing build (build-fuzz) failed" >&2
      fuzz_rc=1
    fi
    python3 packaging/test-summary.py build-test/meson-logs/testlog.json build-fuzz/meson-logs/testlog.json
    [ $rc -eq 0 ] && [ $fuzz_rc -eq 0 ]
    exit $?
    ;;
  *)
    echo "usage: packaging/setup.sh [run|test]" >&2
    exit 2
    ;;
esac
