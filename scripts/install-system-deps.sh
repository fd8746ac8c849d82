#!/usr/bin/env bash
# Install the Debian packages the test suite needs: tinyproxy and microsocks (HTTP and SOCKS5
# proxy tests), nginx (engine conformance tests and benchmarks), chromium (the widgets in
# JupyterLab, tests/browser) and valgrind (bench/instructions.py counts instructions with it).
#
#   scripts/install-system-deps.sh [EXTRA...]
#
# Each entry is COMMAND or COMMAND:PACKAGE (the Debian package that provides COMMAND, when
# its name differs). EXTRA names more, e.g. `make` when bootstrapping CI. Everything missing is installed with
# one `apt-get update` and one `apt-get install`; when nothing is missing this does nothing.
# Uses sudo only when not run as root; exits non-zero, saying why, when it cannot install.
set -euo pipefail

NEEDED=(tinyproxy nginx:nginx-light microsocks chromium valgrind "$@")

missing=()
commands=()
for entry in "${NEEDED[@]}"; do
    name="${entry%%:*}"
    package="${entry#*:}"
    # Also look in the sbin folders, which a non-root PATH may lack.
    if ! command -v "$name" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$name" ] && [ ! -x "/usr/bin/$name" ]; then
        missing+=("$package")
        commands+=("$name")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

fail() {
    echo "install-system-deps: $*" >&2
    echo "install-system-deps: install these packages by hand, then run again: ${missing[*]}" >&2
    exit 1
}

if ! command -v apt-get >/dev/null 2>&1; then
    fail "apt-get not found: this script supports Debian and Ubuntu only."
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=(env DEBIAN_FRONTEND=noninteractive)
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo env DEBIAN_FRONTEND=noninteractive)
else
    fail "not root and sudo is not installed, so cannot install ${missing[*]}."
fi

echo "install-system-deps: installing ${missing[*]}"
"${as_root[@]}" apt-get update || fail "apt-get update failed."
"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}" </dev/null \
    || fail "apt-get install ${missing[*]} failed."

for name in "${commands[@]}"; do
    if ! command -v "$name" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$name" ] && [ ! -x "/usr/bin/$name" ]; then
        fail "$name is still not found after installing it."
    fi
done
echo "install-system-deps: installed ${missing[*]}"
