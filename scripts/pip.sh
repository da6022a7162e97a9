# Sourced by the scripts that install test tools from PyPI.
# pip_install SPEC...: install quietly; a Debian system Python is "externally managed"
# (PEP 668), where pip needs the override.
pip_install() {
  python3 -m pip install --quiet --disable-pip-version-check "$@" ||
    python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$@"
}
