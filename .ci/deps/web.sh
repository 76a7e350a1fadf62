#!/usr/bin/env bash
# The web UI's browser test: Debian's headless Chromium and its WebDriver
# (driven from Rust with fantoccini), and axe-core (npm), injected into each
# page to check accessibility, in a directory the test reads
# (PATCHWATCH_WEB_DEPS, default /usr/local/share/patchwatch-web). Idempotent.
set -euo pipefail
dir="${PATCHWATCH_WEB_DEPS:-/usr/local/share/patchwatch-web}"
export DEBIAN_FRONTEND=noninteractive
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if [ ! -f "$dir/node_modules/axe-core/axe.min.js" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --silent axe-core@4
fi
echo "web: $(chromium --version), $(chromedriver --version | head -n1), axe-core $(node -p "require('$dir/node_modules/axe-core/package.json').version" 2>/dev/null || echo '?')"
