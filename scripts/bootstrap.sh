#!/usr/bin/env bash
# Installs what `start` needs on a fresh Debian/Ubuntu machine, then builds it:
# bubblewrap and libseccomp (the sandbox's isolation), Chromium (the report test), the npm packages, the TypeScript build,
# and the trainer's virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."

# bubblewrap and libseccomp isolate the sandbox; Chromium renders the report in its test (and shows it to users).
missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
/sbin/ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2' || missing+=(libseccomp2)
# cmake and a C++ compiler build llama-server (start server, and the served-model tests).
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}"
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo apt-get install -y -qq "${missing[@]}"
  else
    echo "bootstrap: install ${missing[*]} first (bubblewrap and libseccomp isolate the sandbox; cmake and g++ build llama-server; chromium renders the report test)" >&2
    exit 1
  fi
fi
if ! python3 -c 'import numpy, sympy' >/dev/null 2>&1; then
  echo "bootstrap: note: python3 has no numpy/sympy; sandboxed code will not have them" >&2
fi
# The lockfile is complete (every platform's optional packages), so the locked versions install exactly.
# better-sqlite3's prebuilt binary comes from GitHub, not the registry: where only the registries answer,
# npm compiles SQLite from source (80 s on 2 cores). The first build is kept as a local prebuild
# (prebuild-install's --local-prebuilds, named by version, Node ABI and platform) for later installs.
prebuilds="${START_HOME:-$HOME/.cache/start}/prebuilds"
export npm_config_better_sqlite3_local_prebuilds="$prebuilds"
npm ci --no-audit --no-fund
sqlite_prebuild="$prebuilds/$(node -p "const p = require('./node_modules/better-sqlite3/package.json'); \`\${p.name}-v\${p.version}-node-v\${process.versions.modules}-\${process.platform}-\${process.arch}.tar.gz\`")"
if [ ! -f "$sqlite_prebuild" ]; then
  mkdir -p "$prebuilds"
  tar -czf "$sqlite_prebuild.tmp" -C node_modules/better-sqlite3 build/Release/better_sqlite3.node
  mv "$sqlite_prebuild.tmp" "$sqlite_prebuild"
fi
npm run build
# The trainer's virtualenv (pinned torch/transformers/trl/peft/accelerate/gguf), llama.cpp's converter and
# llama-server built from the same source (about 10 minutes on 2 cores the first time), kept outside the
# repository (~/.cache/start, or $START_HOME) and reused while the pins and the llama.cpp version do not change.
node bin/run.js setup --server
