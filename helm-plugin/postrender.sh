#!/bin/sh
# Runs meshfed as Helm 4's post-renderer: the chart's manifests on stdin,
# meshfed's output (the manifests plus what it generates) on stdout.
#
# Helm 4.3 does not show what a failing post-renderer plugin writes: its
# subprocess runtime collects the plugin's stderr in a buffer and, when the
# plugin exits non-zero, returns only `plugin "meshfed" exited with error`,
# also with --debug (helm.sh/helm/v4 internal/plugin/runtime_subprocess.go,
# runPostrenderer and executeCmd). meshfed's error names the item, the
# field and the fix, so this script keeps it and, on failure, writes it to
# Helm's own stderr (this process's parent, /proc/$PPID/fd/2 on Linux) or,
# where that cannot be opened, to the terminal; Helm then fails as before.
# On success Helm drops the plugin's stderr, and with it meshfed's summary
# and warnings: run `helm template ... | meshfed --config FILE` to see them.
set -u
messages=$(mktemp "${TMPDIR:-/tmp}/meshfed-helm.XXXXXX") || exit 1
trap 'rm -f "$messages"' EXIT

if "${MESHFED:-meshfed}" "$@" 2>"$messages"; then
  exit 0
else
  code=$?
fi

report() {
  printf 'meshfed post-renderer failed (exit %s); nothing was rendered:\n' "$code"
  cat "$messages"
}
if [ -e "/proc/$PPID/fd/2" ] && { report >>"/proc/$PPID/fd/2"; } 2>/dev/null; then
  :
elif { report >/dev/tty; } 2>/dev/null; then
  :
fi
report >&2 # for Helm versions that show a plugin's stderr
exit "$code"
