#!/usr/bin/env bash
# Copy the front-end packages listed in app/static/vendor.txt from the npm registry into app/static/vendor/
# (or into the folder given as the only argument: setup.py's build step vendors into the built package).
set -euo pipefail
out=$(realpath -m "${1:-$(dirname "$0")/../app/static/vendor}")
cd "$(dirname "$0")/.."
list=app/static/vendor.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
grep -v '^\s*#' "$list" | grep -v '^\s*$' | while read -r spec folder; do
  name=${spec%@*}
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  tarball=$(ls "$work"/*.tgz)
  mkdir -p "$work/unpacked" "$out/$name"
  tar -xzf "$tarball" -C "$work/unpacked"
  rm -rf "${out:?}/$name"
  mkdir -p "$out/$name"
  cp -r "$work/unpacked/package/$folder/." "$out/$name/"
  rm -rf "$work/unpacked" "$tarball"
  echo "vendored $spec -> $out/$name"
done
touch "$out/.stamp"
