#!/usr/bin/env bash
# Copies the browser libraries pinned in frontend/package-lock.json into app/static/vendor/, and the
# test-only axe-core (a devDependency) into tests/e2e/vendor/ (injected by Playwright, never served).
# Run by `make vendor`. Safe to run again: it reinstalls from the lock file and overwrites the copies.
# No page ever loads a library from a CDN; the vendored files are committed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
frontend="$root/frontend"
vendor="$root/app/static/vendor"

if ! command -v npm >/dev/null 2>&1; then
    echo "vendor.sh: npm is not installed; install Node.js 18 or newer and run 'make vendor' again." >&2
    exit 1
fi

cd "$frontend"
npm ci --no-audit --no-fund

# version_of PACKAGE: the installed version, refusing a range in package.json (pins must be exact).
version_of() {
    local pinned installed
    pinned="$(node -p "const p = require('./package.json'); (p.dependencies || {})['$1'] || (p.devDependencies || {})['$1']")"
    installed="$(node -p "require('./node_modules/$1/package.json').version")"
    if [ "$pinned" != "$installed" ]; then
        echo "vendor.sh: package.json pins $1 $pinned but $installed was installed; pin an exact version." >&2
        exit 1
    fi
    printf '%s' "$installed"
}

# need FILE: stop with a sentence when a package's layout changed under us.
need() {
    if [ ! -f "$1" ]; then
        echo "vendor.sh: $1 is missing; the package layout changed, update this script." >&2
        exit 1
    fi
}

# --- d3-cloud: the word cloud layout of the presenter (words are drawn as SVG text by our code) ---
cloud_version="$(version_of d3-cloud)"
src="$frontend/node_modules/d3-cloud"
# build/d3.layout.cloud.js is a browserify standalone (UMD) bundle: it sets window.d3.layout.cloud and
# carries its one dependency, d3-dispatch, inside; index.js needs a bundler, so it is not used.
bundle="$src/build/d3.layout.cloud.js"
need "$bundle"
need "$src/LICENSE"
dispatch_version="$(node -p "require('./node_modules/d3-dispatch/package.json').version")"
if ! grep -q "d3-dispatch/ v$dispatch_version" "$bundle"; then
    echo "vendor.sh: the d3-cloud bundle no longer carries d3-dispatch $dispatch_version; check its licences." >&2
    exit 1
fi
need "$frontend/node_modules/d3-dispatch/LICENSE"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$bundle" "$tmp/d3.layout.cloud.js"
cp "$src/LICENSE" "$tmp/LICENSE"
cp "$frontend/node_modules/d3-dispatch/LICENSE" "$tmp/LICENSE-d3-dispatch"
printf 'd3-cloud %s\nd3-dispatch %s (bundled)\n' "$cloud_version" "$dispatch_version" > "$tmp/VERSION"

# Replace the vendored directory in one go, so stale files never linger.
dest="$vendor/d3-cloud"
rm -rf "$dest"
mkdir -p "$dest"
cp "$tmp"/* "$dest"/
(cd "$dest" && sha256sum d3.layout.cloud.js LICENSE LICENSE-d3-dispatch > SHA256SUMS)
echo "vendor.sh: d3-cloud $cloud_version (with d3-dispatch $dispatch_version) copied to ${dest#"$root"/}"

# Libraries no longer pinned leave no copy behind (Chart.js went when the charts moved to HTML bars).
for dir in "$vendor"/*/; do
    name="$(basename "$dir")"
    if [ "$name" != "d3-cloud" ]; then
        rm -rf "$dir"
        echo "vendor.sh: removed app/static/vendor/$name (no longer pinned)"
    fi
done

# --- axe-core: the accessibility checker of the browser tests (tests/e2e); never served by the app ---
axe_version="$(version_of axe-core)"
axe_src="$frontend/node_modules/axe-core"
need "$axe_src/axe.min.js"
need "$axe_src/LICENSE"
need "$axe_src/LICENSE-3RD-PARTY.txt"
axe_dest="$root/tests/e2e/vendor/axe-core"
rm -rf "$axe_dest"
mkdir -p "$axe_dest"
cp "$axe_src/axe.min.js" "$axe_src/LICENSE" "$axe_src/LICENSE-3RD-PARTY.txt" "$axe_dest"/
printf 'axe-core %s\n' "$axe_version" > "$axe_dest/VERSION"
(cd "$axe_dest" && sha256sum axe.min.js LICENSE LICENSE-3RD-PARTY.txt > SHA256SUMS)
echo "vendor.sh: axe-core $axe_version copied to ${axe_dest#"$root"/} (tests only)"
