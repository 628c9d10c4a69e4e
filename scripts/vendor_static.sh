#!/usr/bin/env bash
# Re-vendor front-end assets into static/vendor/ (no CDN at run time).
# Maintainer tool for upgrades; not run by CI.
#
# Usage: scripts/vendor_static.sh
# Override versions with env vars, e.g. BOOTSTRAP_VERSION=5.3 ECHARTS_VERSION=5 ...
# After running, update static/vendor/VERSIONS.md if versions changed
# (the script prints the resolved versions).
set -euo pipefail

BOOTSTRAP_VERSION="${BOOTSTRAP_VERSION:-5.3}"
BOOTSTRAP_ICONS_VERSION="${BOOTSTRAP_ICONS_VERSION:-1}"
HTMX_VERSION="${HTMX_VERSION:-2}"
ECHARTS_VERSION="${ECHARTS_VERSION:-5}"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$REPO_ROOT/static/vendor"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/vendor-npm.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

cd "$TMP"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts \
  "bootstrap@${BOOTSTRAP_VERSION}" \
  "bootstrap-icons@${BOOTSTRAP_ICONS_VERSION}" \
  "htmx.org@${HTMX_VERSION}" \
  "echarts@${ECHARTS_VERSION}"

NM="$TMP/node_modules"

rm -rf "$DEST/bootstrap" "$DEST/bootstrap-icons" "$DEST/htmx" "$DEST/echarts"
mkdir -p "$DEST/bootstrap/css" "$DEST/bootstrap/js" \
         "$DEST/bootstrap-icons/fonts" "$DEST/htmx" "$DEST/echarts"

# Bootstrap (CSS + JS bundle incl. Popper, with source maps)
cp "$NM/bootstrap/dist/css/bootstrap.min.css"        "$DEST/bootstrap/css/"
cp "$NM/bootstrap/dist/css/bootstrap.min.css.map"    "$DEST/bootstrap/css/"
cp "$NM/bootstrap/dist/js/bootstrap.bundle.min.js"     "$DEST/bootstrap/js/"
cp "$NM/bootstrap/dist/js/bootstrap.bundle.min.js.map" "$DEST/bootstrap/js/"
cp "$NM/bootstrap/LICENSE" "$DEST/bootstrap/LICENSE"

# Bootstrap Icons (CSS references url("./fonts/bootstrap-icons.woff2?...") relatively)
cp "$NM/bootstrap-icons/font/bootstrap-icons.min.css"     "$DEST/bootstrap-icons/"
cp "$NM/bootstrap-icons/font/fonts/bootstrap-icons.woff2" "$DEST/bootstrap-icons/fonts/"
cp "$NM/bootstrap-icons/font/fonts/bootstrap-icons.woff"  "$DEST/bootstrap-icons/fonts/"
cp "$NM/bootstrap-icons/LICENSE" "$DEST/bootstrap-icons/LICENSE"

# htmx
cp "$NM/htmx.org/dist/htmx.min.js" "$DEST/htmx/"
cp "$NM/htmx.org/LICENSE" "$DEST/htmx/LICENSE"

# ECharts (full minified build; bundles zrender)
cp "$NM/echarts/dist/echarts.min.js" "$DEST/echarts/"
cp "$NM/echarts/LICENSE" "$DEST/echarts/LICENSE"
[ -f "$NM/echarts/NOTICE" ] && cp "$NM/echarts/NOTICE" "$DEST/echarts/NOTICE"
[ -f "$NM/zrender/LICENSE" ] && cp "$NM/zrender/LICENSE" "$DEST/echarts/LICENSE-zrender"

# Safety: strip any sourceMappingURL comment whose .map was not copied.
find "$DEST" -type f \( -name '*.js' -o -name '*.css' \) -print0 |
while IFS= read -r -d '' f; do
  map="$(grep -oE 'sourceMappingURL=[^ *]+' "$f" | tail -n1 | sed 's/sourceMappingURL=//' || true)"
  if [ -n "$map" ] && [ ! -f "$(dirname "$f")/$map" ]; then
    sed -i -E 's@/\*# sourceMappingURL=[^*]*\*/@@g; s@//# sourceMappingURL=.*$@@' "$f"
    echo "stripped sourceMappingURL ($map) from ${f#$REPO_ROOT/}"
  fi
done

echo "Vendored versions:"
for p in bootstrap bootstrap-icons htmx.org echarts; do
  node -p "'  $p ' + require('$NM/$p/package.json').version"
done
echo "Remember to update static/vendor/VERSIONS.md."
