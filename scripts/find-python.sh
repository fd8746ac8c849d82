#!/usr/bin/env bash
# Print the path of a Python interpreter of version X.Y (the first argument), or fail saying
# where it was looked for. Looked for, in order: python3.Y on PATH (a pyenv shim counts only
# when it runs), then pyenv's versions folder ($PYENV_ROOT, default ~/.pyenv), newest first.
#
#   scripts/find-python.sh 3.12
set -euo pipefail
version="${1:?usage: find-python.sh X.Y}"
name="python${version}"

if command -v "$name" >/dev/null 2>&1 && "$name" -c 'import venv' >/dev/null 2>&1; then
    command -v "$name"
    exit 0
fi
root="${PYENV_ROOT:-$HOME/.pyenv}"
for candidate in $(ls -d "$root/versions/${version}".* 2>/dev/null | sort -t. -k3,3n -r); do
    if [ -x "$candidate/bin/$name" ] && "$candidate/bin/$name" -c 'import venv' >/dev/null 2>&1; then
        echo "$candidate/bin/$name"
        exit 0
    fi
done
echo "find-python: Python $version not found: no working $name on PATH and none under $root/versions." >&2
echo "find-python: install it (pyenv install $version, or your system's python$version with venv) and run again." >&2
exit 1
