#!/usr/bin/env bash
# publint and attw on what npm would publish: each package under packages/ packed into a tarball
# (run after `pnpm build`; the tarball holds dist/ and src/, with workspace versions resolved).
# attw checks the ESM-only profile: the packages ship ESM with `engines: node >=20.19`, where
# require() of an ES module works, so the CommonJS-only resolutions are not expected to.
set -euo pipefail
cd "$(dirname "$0")/.."

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

for dir in packages/*/; do
  tarball="$(cd "$dir" && pnpm pack --pack-destination "$out" | tail -n 1)"
  echo "lint:packages: ${dir} -> $(basename "$tarball")"
  pnpm exec publint run --strict "$tarball"
  pnpm exec attw --profile esm-only --format table-flipped "$tarball"
done
