#!/usr/bin/env bash
# Installs what `start` needs on a fresh Debian/Ubuntu machine, then builds it:
# bubblewrap (the sandbox's isolation), the npm packages, the TypeScript build.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq bubblewrap
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo apt-get install -y -qq bubblewrap
  else
    echo "bootstrap: install bubblewrap (bwrap) first; the sandbox cannot isolate Python without it" >&2
    exit 1
  fi
fi
if ! python3 -c 'import numpy, sympy' >/dev/null 2>&1; then
  echo "bootstrap: note: python3 has no numpy/sympy; sandboxed code will not have them" >&2
fi
# npm install, not npm ci: npm 11 records only this platform's optional packages in the lockfile,
# and npm ci then rejects the lockfile as out of sync. The locked versions are still used.
npm install --no-audit --no-fund
npm run build
# The trainer's virtualenv (pinned torch/transformers/trl/peft/accelerate/gguf) and llama.cpp's converter,
# kept outside the repository (~/.cache/start, or $START_HOME) and reused while the pins do not change.
node bin/run.js setup
