#!/bin/sh
# Build llama-cpp-python (llama.cpp's OpenAI-compatible server) once per machine, for a portable target, and put
# the wheel where `make setup` and the Molecule machines (.cache/wheelhouse) find it.
# Why not pip's own build: pip compiles for the build host's CPU ("native"); such a build died with SIGILL on a
# VM here that advertises CPU features it cannot run, and pip's cache would hand it to every later clone.
set -eu
python=$1
version=$(sed -n 's/^llama-cpp-python\[server\]==//p' requirements-dev.txt)
store=${XDG_CACHE_HOME:-$HOME/.cache}/billy/wheels
mkdir -p "$store" .cache/wheelhouse
if ! ls "$store"/llama_cpp_python-"$version"-*.whl >/dev/null 2>&1; then
    case $(uname -m) in
        x86_64) flags="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" ;;
        *) flags="-DGGML_NATIVE=OFF" ;;
    esac
    echo "Compiling llama-cpp-python $version (about 5 minutes on 2 cores), once for this machine"
    CMAKE_ARGS="$flags" "$python" -m pip wheel --quiet --no-cache-dir --no-deps "llama-cpp-python==$version" -w "$store"
fi
cp -n "$store"/llama_cpp_python-"$version"-*.whl .cache/wheelhouse/ 2>/dev/null || true
