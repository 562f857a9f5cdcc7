#!/usr/bin/env bash
# Component test: `meson install` (configs/meson.build, docs/operations.md).
# Installs the build into a temporary DESTDIR and checks that the four
# executables, the configuration, the systemd units, the sysusers entry and
# the WIC land where the build's prefix says; that the installed binaries run
# and accept the installed configuration (--check-config); that the units
# name those binaries and that configuration, and pass `systemd-analyze
# verify` where it exists; and that installing again keeps an edited
# isthmus.toml. Nothing is written outside the temporary directory.
# Usage: install_test.sh BUILD_DIR      (a built tree: installs with --no-rebuild)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
build=$(cd "${1:?build dir}" && pwd) || exit 1
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

# The install locations, from the build's own options.
eval "$(meson introspect "$build" --buildoptions | python3 -c '
import json, shlex, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
for k in ("prefix", "bindir", "sysconfdir", "datadir"):
    print(k + "=" + shlex.quote(o[k]))')" || { echo "cannot read $build's options"; exit 1; }
under_prefix() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
bin=$(under_prefix "$bindir")
conf=$(under_prefix "$sysconfdir")/isthmus
wic=$(under_prefix "$datadir")/isthmus/wic
units=$prefix/lib/systemd/system
echo "prefix=$prefix bin=$bin conf=$conf wic=$wic units=$units"

# meson_install LOG: meson install into $dest, its output in LOG.
meson_install() { meson install -C "$build" --destdir "$dest" --no-rebuild --quiet > "$1" 2>&1; }

check "meson install --destdir" meson_install "$tmp/install.log"
[ "$failures" -eq 0 ] || { cat "$tmp/install.log"; summary; exit 1; }

# --- the executables ---------------------------------------------------------
for b in isthmus-dataplane isthmus-pcscf isthmus-wwsf isthmus-ctl; do
  check "$bin/$b is installed and runs (--help)" \
    bash -c "test -x '$dest$bin/$b' && '$dest$bin/$b' --help > /dev/null"
done

# --- the configuration -------------------------------------------------------
toml=$dest$conf/isthmus.toml
check "$conf/isthmus.toml and isthmus.toml.example are installed" \
  test -f "$toml" -a -f "$toml.example"
check "isthmus.toml is configs/isthmus.toml but for web_root" \
  diff <(grep -v '^web_root = ' "$src/configs/isthmus.toml") <(grep -v '^web_root = ' "$toml")
check "web_root is the installed WIC ($wic)" grep -qxF "web_root = \"$wic\"" "$toml"

# --- the WIC -----------------------------------------------------------------
dist=$src/controlplane/wwsf/web/dist
if [ -f "$dist/index.html" ]; then
  check "the WIC is installed in $wic, as built" diff -r "$dist" "$dest$wic"
  web_root=$dest$wic
else
  check "the WIC is not built: the install says so" grep -q "Not installing the WIC" "$tmp/install.log"
  web_root=$tmp/web
  mkdir -p "$web_root"
fi

# --- each daemon accepts the installed configuration -------------------------
# (web_root names the WIC's final place: the copy points into DESTDIR.)
sed "s|^web_root = .*|web_root = \"$web_root\"|" "$toml" > "$tmp/check.toml"
for b in isthmus-dataplane isthmus-pcscf isthmus-wwsf; do
  check "$b --check-config accepts the installed isthmus.toml" \
    bash -c "'$dest$bin/$b' --config '$tmp/check.toml' --check-config > '$tmp/$b.check' 2>&1"
done

# --- the units ---------------------------------------------------------------
for u in isthmus-dataplane.service isthmus-pcscf.service isthmus-wwsf.service isthmus.target; do
  check "$units/$u is installed" test -f "$dest$units/$u"
done
check "no @VARIABLE@ is left in the units" \
  bash -c "! grep -n '@[A-Z_]*@' '$dest$units'/isthmus-*.service"
for d in dataplane pcscf wwsf; do
  unit=$dest$units/isthmus-$d.service
  want="$bin/isthmus-$d --config $conf/isthmus.toml"
  check "isthmus-$d.service: ExecStart= runs $want" grep -qxF "ExecStart=$want" "$unit"
  check "isthmus-$d.service: ExecStartPre= checks that configuration" \
    grep -qxF "ExecStartPre=$want --check-config" "$unit"
  check "isthmus-$d.service: runs as isthmus, restarts on failure, stops on SIGTERM" \
    bash -c "grep -qx User=isthmus '$unit' && grep -qx Restart=on-failure '$unit' &&
             grep -qx KillSignal=SIGTERM '$unit' && grep -qx WantedBy=isthmus.target '$unit'"
done
check "the sysusers entry makes the isthmus system user" \
  grep -q '^u isthmus ' "$dest$prefix/lib/sysusers.d/isthmus.conf"
if command -v systemd-sysusers > /dev/null; then
  check "systemd-sysusers --root --dry-run would create isthmus from it" \
    bash -c "systemd-sysusers --root='$dest' --dry-run 2>&1 | grep -q \"Creating user 'isthmus'\""
fi

if command -v systemd-analyze > /dev/null; then
  # Verified as systemd would load them on the installed host: DESTDIR as
  # the root, with what the host gives them beside them (its units: the
  # targets ours refer to; /bin/kill, isthmus-wwsf's ExecReload=). Any
  # output (a warning about a key) counts as a failure.
  mkdir -p "$dest/lib/systemd" "$dest/bin" && cp -a /lib/systemd/system "$dest/lib/systemd/" &&
    cp /bin/kill "$dest/bin/kill"
  check "systemd-analyze verify --root: the units load, their binaries exist" \
    bash -c "systemd-analyze verify --root='$dest' isthmus-dataplane.service \
               isthmus-pcscf.service isthmus-wwsf.service isthmus.target > '$tmp/verify.log' 2>&1 &&
             ! grep -q . '$tmp/verify.log'"
  [ -s "$tmp/verify.log" ] && cat "$tmp/verify.log"
else
  echo "skip - systemd-analyze verify (not installed); Exec paths checked above"
fi

# --- installing again keeps the operator's configuration ---------------------
echo "# edited by the operator" >> "$toml"
check "meson install again" meson_install "$tmp/install2.log"
check "an edited isthmus.toml is kept" grep -qx "# edited by the operator" "$toml"
check "isthmus.toml.example is the shipped one again" \
  bash -c "! grep -q 'edited by the operator' '$toml.example'"

summary
