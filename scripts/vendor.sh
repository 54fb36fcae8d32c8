#!/usr/bin/env bash
# Copies the browser libraries pinned in frontend/package-lock.json into app/static/vendor/.
# Run by `make vendor`. Safe to run again: it reinstalls from the lock file and overwrites the copies.
# No page ever loads a library from a CDN; the vendored files are committed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
frontend="$root/frontend"
dest="$root/app/static/vendor/chart.js"

if ! command -v npm >/dev/null 2>&1; then
    echo "vendor.sh: npm is not installed; install Node.js 18 or newer and run 'make vendor' again." >&2
    exit 1
fi

cd "$frontend"
npm ci --no-audit --no-fund

pinned="$(node -p "require('./package.json').dependencies['chart.js']")"
installed="$(node -p "require('./node_modules/chart.js/package.json').version")"
if [ "$pinned" != "$installed" ]; then
    echo "vendor.sh: package.json pins chart.js $pinned but $installed was installed; pin an exact version." >&2
    exit 1
fi

src="$frontend/node_modules/chart.js"
# Chart.js 4's dist/chart.js is an ES module importing @kurkle/color by bare name; browsers
# cannot load it without a bundler. The UMD build is self-contained and sets window.Chart.
umd="$src/dist/chart.umd.min.js"
if [ ! -f "$umd" ]; then
    echo "vendor.sh: $umd is missing; the chart.js package layout changed, update this script." >&2
    exit 1
fi

mkdir -p "$dest"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The source map (about 1 MB) is left out on purpose: browsers fetch it only with developer tools open.
cp "$umd" "$tmp/chart.umd.min.js"
cp "$src/LICENSE.md" "$tmp/LICENSE.md"

# The UMD bundle includes @kurkle/color; its MIT licence must travel with it.
if grep -q '@kurkle/color' "$umd"; then
    kurkle="$frontend/node_modules/@kurkle/color/LICENSE.md"
    if [ ! -f "$kurkle" ]; then
        echo "vendor.sh: the bundle includes @kurkle/color but its LICENSE.md was not found." >&2
        exit 1
    fi
    cp "$kurkle" "$tmp/LICENSE-kurkle-color.md"
fi

printf '%s\n' "$installed" > "$tmp/VERSION"

# Replace the vendored directory's contents in one go, so stale files never linger.
find "$dest" -mindepth 1 -maxdepth 1 -type f -delete
cp "$tmp"/* "$dest"/
(cd "$dest" && sha256sum chart.umd.min.js LICENSE.md > SHA256SUMS)

echo "vendor.sh: chart.js $installed copied to ${dest#"$root"/}"
