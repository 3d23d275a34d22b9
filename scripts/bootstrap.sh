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
npm ci --no-audit --no-fund
npm run build
# The trainer's virtualenv (pinned torch/transformers/trl/peft/accelerate/gguf), llama.cpp's converter and
# llama-server built from the same source (about 10 minutes on 2 cores the first time), kept outside the
# repository (~/.cache/start, or $START_HOME) and reused while the pins and the llama.cpp version do not change.
node bin/run.js setup --server
