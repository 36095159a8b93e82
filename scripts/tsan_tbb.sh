#!/usr/bin/env bash
# Builds oneTBB with ThreadSanitizer for sluice's TSan build, from Debian's own source
# package of the libtbb-dev version installed, and installs it under BUILD_DIR/tsan-tbb/.
#   scripts/tsan_tbb.sh [BUILD_DIR]   # default build-tsan; prints the install prefix
#
# Why: Debian's libtbb is built without TSan, so TSan cannot see its synchronisation and
# reports hundreds of races inside tbb's buffers and task graph that hide real ones.
# Built once per version: a second run finds the stamp and only prints the prefix.
# Needs deb-src entries for apt (scripts/setup.sh --tsan adds them).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${1:-build-tsan}
root="$build_dir/tsan-tbb"
prefix="$PWD/$root/install"
source_name=$(dpkg-query -W -f='${source:Package}' libtbb-dev)
source_version=$(dpkg-query -W -f='${source:Version}' libtbb-dev)
stamp="$prefix/sluice-tsan-tbb.stamp"
want="$source_name $source_version thread"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "$prefix"
  exit 0
fi

echo "tsan_tbb: building $source_name $source_version with -fsanitize=thread" >&2
rm -rf "$root"
mkdir -p "$root/source"
# --download-only then dpkg-source: the same tree apt-get source makes, with Debian's
# patches applied, without needing the _apt user to write into the build folder.
(cd "$root/source" && apt-get source -q --download-only "$source_name=$source_version" >&2 &&
  dpkg-source -x --no-check ./*.dsc tree >&2)

# TBB_STRICT=OFF and -Wno-error=tsan: gcc 12 warns that TSan does not instrument
# atomic_thread_fence, and oneTBB's strict mode turns warnings into errors.
cmake -S "$root/source/tree" -B "$root/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
  -DCMAKE_CXX_FLAGS="-Wno-error=tsan" \
  -DTBB_SANITIZE=thread -DTBB_STRICT=OFF \
  -DTBB_TEST=OFF -DTBB_EXAMPLES=OFF -DTBBMALLOC_BUILD=OFF \
  -DTBB_DISABLE_HWLOC_AUTOMATIC_SEARCH=ON >&2
jobs=$(nproc 2>/dev/null || echo 2)
cmake --build "$root/build" -j "$jobs" >&2
cmake --install "$root/build" >&2
echo "$want" >"$stamp"
echo "$prefix"
