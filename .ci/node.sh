#!/usr/bin/env bash
# Prints the folder of an official Node.js build, fetched from the npm registry as the package
# node-linux-<arch>@<version> (the same binaries as nodejs.org) and kept in a cache folder, so a
# CI run fetches each version once. Usage: bash .ci/node.sh 22   (or 24, or an exact 22.23.5).
#
# To use it: put "<folder>/bin" first in PATH and set npm_config_nodedir=<folder> before `npm ci`,
# so that better-sqlite3 is compiled against that Node's own headers (include/node), not the
# machine's.
set -euo pipefail
want=${1:?usage: bash .ci/node.sh 22|24|<exact version>}
# The versions CI runs, pinned so that a run is repeatable; an exact version may be given instead.
case "$want" in
  22) version=22.23.5 ;;
  24) version=24.22.3 ;;
  *) version=$want ;;
esac
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "no packaged Node.js for $(uname -m)" >&2; exit 1 ;;
esac
# Root's home is closed to other users, and the tests run the bot as an unprivileged service user
# too: as root the cache is a folder everyone may read and run from.
if [ "$(id -u)" = 0 ]; then default_cache=/var/cache/qorgau-node; else default_cache=${XDG_CACHE_HOME:-$HOME/.cache}/qorgau-node; fi
cache=${NODE_CACHE:-$default_cache}
dir="$cache/node-$version-linux-$arch"
if [ ! -x "$dir/bin/node" ] || [ ! -f "$dir/include/node/node.h" ]; then
  mkdir -p "$cache"
  chmod 755 "$cache"
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  npm pack "node-linux-$arch@$version" --pack-destination "$tmp" --silent >/dev/null
  tar -xzf "$tmp"/node-linux-"$arch"-"$version".tgz -C "$tmp"
  rm -rf "$dir"
  chmod 755 "$tmp/package"
  mv "$tmp/package" "$dir"
fi
"$dir/bin/node" --version >/dev/null
echo "$dir"
