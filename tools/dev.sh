#!/usr/bin/env bash
# One entry point for a fresh Debian machine with Python 3: installs what is needed, then runs.
#   bash tools/dev.sh demo   - the main job (see README)
#   bash tools/dev.sh test   - the whole test suite (installs mosquitto and the test tools)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${EDGE_SSRE_VENV:-.venv}

need_apt() {  # need_apt BINARY PACKAGE: install a Debian package when its binary is missing
    if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$1" ]; then
        SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$2" >/dev/null
    fi
}

venv() {  # venv EXTRAS: create the virtualenv and install the project with those extras
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[$1]"
    "$VENV/bin/python" tools/build_rules.py --sre >/dev/null  # this interpreter's regex table (rules/sre_cache.py)
}

case "${1:-test}" in
    test)
        need_apt mosquitto mosquitto
        need_apt node nodejs  # the real MicroPython runtime (WebAssembly port) runs the core's tests under Node.js
        need_apt npm npm
        npm install --prefix tests/micropython --no-package-lock --no-audit --no-fund --silent >/dev/null
        npm install --prefix tests/brokers --no-package-lock --no-audit --no-fund --silent >/dev/null  # aedes (interop tests)
        venv dev
        # the Greengrass Development Kit CLI is not on PyPI: install the vendored wheel when the shared folder has it
        # (tests/test_greengrass.py runs `gdk component build`, and says in one line that it skipped when absent)
        GDK_WHEEL=../shared/vendor/gdk-1.6.2-py3-none-any.whl
        [ ! -f "$GDK_WHEEL" ] || "$VENV/bin/python" -m pip show -q gdk >/dev/null 2>&1 \
            || "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$GDK_WHEEL"
        # MicroPython's own type stubs for the ESP32 port, kept out of the venv (they shadow the stdlib's)
        [ -d tests/micropython/typings/stdlib ] || "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
            --target tests/micropython/typings "micropython-esp32-stubs>=1.22" >/dev/null
        shift || true
        exec "$VENV/bin/python" -m pytest -q "$@"
        ;;
    demo)
        need_apt mosquitto mosquitto
        venv rig  # paho-mqtt for the simulated devices, matplotlib for the report's figure
        shift || true
        exec "$VENV/bin/edge-ssre" rig --profile raspberry-pi-4 --duration 45 --out rig-report "$@"
        ;;
    *)
        echo "usage: bash tools/dev.sh test|demo [args]" >&2
        exit 2
        ;;
esac
