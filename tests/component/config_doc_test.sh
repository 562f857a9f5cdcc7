#!/usr/bin/env bash
# Component test (issue 10): docs/configuration.md stays true to the loaders.
#   - every key the three loaders accept, read from their source (the
#     `known` set and the port keys of include/isthmus/config/config_impl.hpp,
#     the `Table NAME(..., "SECTION", origin, {"key", ...})` lists of
#     controlplane/pcscf/daemon_config.cpp and controlplane/wwsf/config.cpp),
#     has a row in its section's table of the doc (a sub-table: a heading),
#     and every row of the doc names a key its loader accepts;
#   - every key of configs/isthmus.toml, set or commented out (`# key = ...`),
#     is documented and accepted;
#   - --check-config of the three daemons accepts the shipped file and
#     refuses a misspelled key in each of their tables, a wrong type and a
#     value out of range, with exit 2 and the key's full name; without
#     --check-config the daemons refuse to start (exit 2).
# Root not needed; runs from SOURCE_ROOT (web_root is relative to it).
# Usage: config_doc_test.sh SOURCE_ROOT BUILD_ROOT
set -uo pipefail
src=${1:?source root}
build=${2:?build root}
src=$(cd "$src" && pwd) || exit 1
build=$(cd "$build" && pwd) || exit 1
doc=$src/docs/configuration.md
toml=$src/configs/isthmus.toml
dataplane=$build/dataplane/isthmus-dataplane
pcscf=$build/controlplane/pcscf/isthmus-pcscf
wwsf=$build/controlplane/wwsf/isthmus-wwsf
command -v python3 >/dev/null || { echo "python3 missing"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src" || exit 1

passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; failed=$((failed + 1)); }
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds; its output is
# printed after a failure (what is missing).
check() {
  local what=$1 out
  shift
  if out=$("$@" 2>&1); then
    ok "$what"
  else
    not_ok "$what"
    [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    /'
  fi
}

# --- the extraction: SECTION<TAB>KEY lines ---------------------------------
cat > "$tmp/cfgkeys.py" <<'PY'
import re, sys

def strings(text):
    return re.findall(r'"([^"\\]*)"', text)

def loader_dataplane(path):
    text = open(path).read()
    out = []
    m = re.search(r'\bknown\s*=\s*\{(.*?)\}\s*;', text, re.S)
    if m:
        out += [("dataplane", k) for k in strings(m.group(1))]
    # [[dataplane.port]]: the keys the port loop compares against.
    at = text.find('get("port")')
    if at >= 0:
        for k in re.findall(r'\bkey\s*[!=]=\s*"(\w+)"', text[at:]):
            out.append(("dataplane.port", k))
    return out

def loader_tables(path):
    # Table NAME(TABLE, "SECTION" or IDENT, origin, {"key", ...});
    text = open(path).read()
    out = []
    for m in re.finditer(r'\bTable\s+\w+\s*\(([^{;]*?)\{([^}]*)\}\s*\)\s*;', text):
        args, keys = m.group(1), m.group(2)
        names = strings(args)
        if names:
            section = names[-1]
        else:
            parts = [p.strip() for p in args.split(",")]
            ident = parts[1] if len(parts) > 1 else ""
            defs = re.findall(r'\b' + re.escape(ident) + r'\s*=\s*"([^"]*)"', text[:m.start()])
            if not ident or not defs:
                sys.exit("%s: cannot name the table of %r" % (path, m.group(0)[:80]))
            section = defs[-1]
        section = section.split("[")[0]
        out += [(section, k) for k in strings(keys)]
    return out

def pcscf_reads_dataplane(path):
    # isthmus-pcscf reads some [dataplane] keys itself: d["workers"]...
    text = open(path).read()
    at = text.find('root.get("dataplane")')
    if at < 0:
        return []
    return [("dataplane", k) for k in re.findall(r'\b\w+\["(\w+)"\]', text[at:])]

def toml_keys(path):
    # Keys set and keys commented out ("# key = ..."); a commented header
    # ("# [pcscf.tokens]") holds the commented keys after it.
    out = []
    real = comment = None
    header = re.compile(r'^\s*(#\s*)?\[\[?\s*([A-Za-z0-9_.]+)\s*\]\]?\s*(#.*)?$')
    key = re.compile(r'^\s*(#\s*)?([A-Za-z0-9_]+)\s*=\s*\S')
    for line in open(path):
        h = header.match(line)
        if h:
            if h.group(1):
                comment = h.group(2)
            else:
                real = comment = h.group(2)
            continue
        k = key.match(line)
        if k:
            section = comment if k.group(1) else real
            if section is None:
                sys.exit("%s: %r before any table" % (path, line.strip()))
            out.append((section, k.group(2)))
    return out

def doc(path, what):
    # Headings naming a table (`[pcscf.w2]`, `[[pcscf.mw.route]]`) and the
    # key rows ("| `key` |") of the table under each.
    sections, rows = [], []
    current = None
    for line in open(path):
        if line.startswith("#"):
            m = re.search(r'`\[\[?([A-Za-z0-9_.]+)\]\]?`', line)
            current = m.group(1) if m else None
            if current:
                sections.append((current, ""))
            continue
        m = re.match(r'^\|\s*`([A-Za-z0-9_]+)`\s*\|', line)
        if m and current:
            rows.append((current, m.group(1)))
    return sections if what == "sections" else rows

mode, path = sys.argv[1], sys.argv[2]
pairs = {
    "dataplane": loader_dataplane,
    "tables": loader_tables,
    "pcscf-dataplane": pcscf_reads_dataplane,
    "toml": toml_keys,
    "doc-rows": lambda p: doc(p, "rows"),
    "doc-sections": lambda p: doc(p, "sections"),
}[mode](path)
for s, k in pairs:
    print("%s\t%s" % (s, k))
PY
keys() { python3 "$tmp/cfgkeys.py" "$@"; }

# set_keys FILE SECTION ARRAY LINE...: FILE with the LINEs in [SECTION]
# (ARRAY=1: a new [[SECTION]] element at the end). A LINE's key already set
# in that table is replaced.
cat > "$tmp/setkeys.py" <<'PY'
import re, sys
path, section, array, lines = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4:]
text = open(path).read().split("\n")
names = {l.split("=")[0].strip() for l in lines}
head = "[" + section + "]"
if array or head not in [l.strip() for l in text]:
    text += ["[[" + section + "]]" if array else head] + lines
else:
    out, inside = [], False
    for l in text:
        if re.match(r'^\s*\[', l):
            inside = l.strip() == head
            out.append(l)
            if inside:
                out += lines
            continue
        m = re.match(r'^\s*([A-Za-z0-9_]+)\s*=', l)
        if inside and m and m.group(1) in names:
            continue
        out.append(l)
    text = out
print("\n".join(text))
PY
set_keys() { python3 "$tmp/setkeys.py" "$@"; }

keys dataplane "$src/include/isthmus/config/config_impl.hpp" > "$tmp/loader.tsv" || exit 1
keys tables "$src/controlplane/pcscf/daemon_config.cpp" >> "$tmp/loader.tsv" || exit 1
keys tables "$src/controlplane/wwsf/config.cpp" >> "$tmp/loader.tsv" || exit 1
keys pcscf-dataplane "$src/controlplane/pcscf/daemon_config.cpp" > "$tmp/pcscf_dataplane.tsv" || exit 1
keys toml "$toml" > "$tmp/toml.tsv" || exit 1
keys doc-rows "$doc" > "$tmp/doc_rows.tsv" || exit 1
keys doc-sections "$doc" > "$tmp/doc_sections.tsv" || exit 1
sections=$(cut -f1 "$tmp/loader.tsv" | sort -u)

# --- the extraction itself: what it must find --------------------------------
extraction_sane() {
  local s parent key bad=0
  for s in dataplane dataplane.port pcscf pcscf.w2 pcscf.mw pcscf.mw.route pcscf.limits \
           pcscf.timers pcscf.media pcscf.tokens wwsf wwsf.limits; do
    grep -q "^$s	" "$tmp/loader.tsv" || { echo "no keys found for [$s]"; bad=1; }
  done
  # A sub-table is a key of its parent: the loader lists it.
  for s in $sections; do
    [[ $s == *.* ]] || continue
    parent=${s%.*} key=${s##*.}
    grep -qxF "$parent	$key" "$tmp/loader.tsv" || { echo "[$s] is not a key of [$parent]"; bad=1; }
  done
  [ "$(wc -l < "$tmp/loader.tsv")" -ge 100 ] || { echo "only $(wc -l < "$tmp/loader.tsv") keys"; bad=1; }
  return $bad
}
check "the loaders' keys are found in their source ($(wc -l < "$tmp/loader.tsv") keys, $(echo "$sections" | wc -l) tables)" \
  extraction_sane

# documented SECTION KEY: a row of [SECTION], or a heading [SECTION.KEY].
documented() {
  grep -qxF "$1	$2" "$tmp/doc_rows.tsv" || grep -qxF "$1.$2	" "$tmp/doc_sections.tsv"
}
# all_documented SECTION: every key the loader accepts in SECTION.
all_documented() {
  local s k bad=0
  while IFS=$'\t' read -r s k; do
    [ "$s" = "$1" ] || continue
    documented "$s" "$k" || { echo "$s.$k: not in docs/configuration.md"; bad=1; }
  done < "$tmp/loader.tsv"
  return $bad
}
for s in $sections; do
  check "docs/configuration.md documents every key of [$s] the loader accepts" all_documented "$s"
done

# The doc names nothing the loaders do not accept.
doc_accepted() {
  local s k bad=0
  while IFS=$'\t' read -r s k; do
    grep -qx "$s	.*" "$tmp/loader.tsv" || { echo "[$s]: a heading of the doc, no loader's table"; bad=1; }
  done < "$tmp/doc_sections.tsv"
  while IFS=$'\t' read -r s k; do
    grep -qxF "$s	$k" "$tmp/loader.tsv" || { echo "$s.$k: documented, not accepted by its loader"; bad=1; }
  done < "$tmp/doc_rows.tsv"
  [ "$(sort "$tmp/doc_rows.tsv" | uniq -d | wc -l)" -eq 0 ] ||
    { sort "$tmp/doc_rows.tsv" | uniq -d | sed 's/\t/./; s/$/: documented twice/'; bad=1; }
  return $bad
}
check "every key docs/configuration.md documents is accepted by its loader ($(wc -l < "$tmp/doc_rows.tsv") rows)" \
  doc_accepted

# configs/isthmus.toml: its keys, set or commented out.
toml_documented() {
  local s k bad=0
  while IFS=$'\t' read -r s k; do
    documented "$s" "$k" || { echo "$s.$k: in configs/isthmus.toml, not in docs/configuration.md"; bad=1; }
  done < "$tmp/toml.tsv"
  return $bad
}
toml_accepted() {
  local s k bad=0
  while IFS=$'\t' read -r s k; do
    grep -qxF "$s	$k" "$tmp/loader.tsv" || { echo "$s.$k: in configs/isthmus.toml, not accepted by its loader"; bad=1; }
  done < "$tmp/toml.tsv"
  return $bad
}
check "every key of configs/isthmus.toml (set or commented out) is documented ($(wc -l < "$tmp/toml.tsv") keys)" \
  toml_documented
check "every key of configs/isthmus.toml (set or commented out) is accepted by its loader" toml_accepted

# isthmus-pcscf reads [dataplane] keys itself: the dataplane's own.
pcscf_dataplane_keys() {
  local s k bad=0
  [ -s "$tmp/pcscf_dataplane.tsv" ] || { echo "no [dataplane] reads found in daemon_config.cpp"; return 1; }
  while IFS=$'\t' read -r s k; do
    grep -qxF "$s	$k" "$tmp/loader.tsv" || { echo "dataplane.$k: read by isthmus-pcscf, refused by isthmus-dataplane"; bad=1; }
    documented "$s" "$k" || { echo "dataplane.$k: not documented"; bad=1; }
  done < "$tmp/pcscf_dataplane.tsv"
  return $bad
}
check "the [dataplane] keys isthmus-pcscf reads ($(cut -f2 "$tmp/pcscf_dataplane.tsv" | paste -sd' ')) are the dataplane's, documented" \
  pcscf_dataplane_keys

# --- --check-config ------------------------------------------------------------
for bin in "$dataplane" "$pcscf" "$wwsf"; do
  [ -x "$bin" ] || not_ok "$bin is built"
done

# The shipped file; its web_root (the built WIC) may not exist yet
# (tools/lib/deps.sh builds it): then a copy pointing at an empty directory.
base=$toml
web_root=$(sed -n 's/^web_root *= *"\(.*\)".*/\1/p' "$toml")
if [ ! -d "$web_root" ]; then
  mkdir -p "$tmp/web"
  sed "s|^web_root *=.*|web_root = \"$tmp/web\"|" "$toml" > "$tmp/shipped.toml"
  base=$tmp/shipped.toml
  echo "# $web_root missing: the shipped file checked with web_root = \"$tmp/web\""
fi

accepts() {
  local out
  out=$("$1" --config "$2" --check-config 2>&1) || { echo "exit $?: $out"; return 1; }
  grep -qF "configuration is valid" <<< "$out" || { echo "$out"; return 1; }
}
for bin in "$dataplane" "$pcscf" "$wwsf"; do
  check "$(basename "$bin") --check-config accepts configs/isthmus.toml" accepts "$bin" "$base"
done

# refuses BIN FILE NAME [--start]: exit 2 with "NAME:" (the key's full name)
# in the message; --start: without --check-config (the daemon must not start).
refuses() {
  local bin=$1 file=$2 name=$3 rc out
  if [ "${4:-}" = --start ]; then
    out=$(timeout 20 "$bin" --config "$file" 2>&1)
  else
    out=$("$bin" --config "$file" --check-config 2>&1)
  fi
  rc=$?
  [ "$rc" -eq 2 ] || { echo "exit $rc (expected 2): $out"; return 1; }
  grep -qF ": $name: " <<< "$out" || { echo "no \"$name\" in: $out"; return 1; }
}
n=0
# misspelled BIN SECTION ARRAY FULL_NAME LINE...: LINE (the misspelled key
# first) added to [SECTION] of the shipped file; refused as FULL_NAME.
misspelled() {
  local bin=$1 section=$2 array=$3 name=$4 bad=${5%% *}
  shift 4
  n=$((n + 1))
  if grep -qxF "$section	$bad" "$tmp/loader.tsv"; then
    not_ok "$(basename "$bin"): \"$bad\" is not a misspelling: [$section] accepts it"
    return
  fi
  set_keys "$base" "$section" "$array" "$@" > "$tmp/bad$n.toml"
  check "$(basename "$bin") --check-config refuses the misspelled $name (exit 2, named)" \
    refuses "$bin" "$tmp/bad$n.toml" "$name"
}
misspelled "$dataplane" dataplane 0 dataplane.hearbeat_ms 'hearbeat_ms = 100'
misspelled "$dataplane" dataplane.port 1 'dataplane.port[0].gatway' 'gatway = "198.18.1.254"' \
  'name = "access"' 'device = "net_null0"' 'exception = "net_tap0"'
misspelled "$pcscf" pcscf 0 pcscf.thread 'thread = 2'
misspelled "$pcscf" pcscf.w2 0 pcscf.w2.idle_timeout 'idle_timeout = 60'
misspelled "$pcscf" pcscf.mw 0 pcscf.mw.next_hops 'next_hops = "udp:127.0.0.1:5070"'
misspelled "$pcscf" pcscf.mw.route 1 'pcscf.mw.route[0].nexthop' 'nexthop = "udp:127.0.0.1:5070"' \
  'host = "scscf.ims.example.net"'
misspelled "$pcscf" pcscf.limits 0 pcscf.limits.max_flow 'max_flow = 100'
misspelled "$pcscf" pcscf.timers 0 pcscf.timers.t1 't1 = 500'
misspelled "$pcscf" pcscf.media 0 pcscf.media.enable 'enable = true'
misspelled "$pcscf" pcscf.tokens 0 pcscf.tokens.max_lifetime 'max_lifetime = 300'
misspelled "$wwsf" wwsf 0 wwsf.webroot 'webroot = "controlplane/wwsf/web/dist"'
misspelled "$wwsf" wwsf.limits 0 wwsf.limits.kdf_thread 'kdf_thread = 2'

# A section no binary knows (a misspelled [dataplane]) is refused by each,
# and the dataplane takes no float for an integer.
{ cat "$base"; printf '\n[[dataplan.port]]\nname = "access"\n'; } > "$tmp/section.toml"
for bin in "$dataplane" "$pcscf" "$wwsf"; do
  check "$(basename "$bin") --check-config refuses an unknown section [[dataplan.port]] (exit 2, named)" \
    refuses "$bin" "$tmp/section.toml" dataplan
done
set_keys "$base" dataplane 0 'workers = 1.0' > "$tmp/float_dp.toml"
check "isthmus-dataplane --check-config refuses dataplane.workers = 1.0 (exit 2, named)" \
  refuses "$dataplane" "$tmp/float_dp.toml" dataplane.workers

# A wrong type and a value out of range, one per daemon.
set_keys "$base" dataplane 0 'workers = 17' > "$tmp/range_dp.toml"
check "isthmus-dataplane --check-config refuses dataplane.workers = 17 (exit 2, named)" \
  refuses "$dataplane" "$tmp/range_dp.toml" dataplane.workers
set_keys "$base" dataplane 0 'region = 5' > "$tmp/type_dp.toml"
check "isthmus-dataplane --check-config refuses dataplane.region = 5 (exit 2, named)" \
  refuses "$dataplane" "$tmp/type_dp.toml" dataplane.region
set_keys "$base" pcscf.timers 0 't1_ms = "500"' > "$tmp/type_pcscf.toml"
check "isthmus-pcscf --check-config refuses pcscf.timers.t1_ms = \"500\" (exit 2, named)" \
  refuses "$pcscf" "$tmp/type_pcscf.toml" pcscf.timers.t1_ms
set_keys "$base" pcscf.w2 0 'max_connections = 0' > "$tmp/range_pcscf.toml"
check "isthmus-pcscf --check-config refuses pcscf.w2.max_connections = 0 (exit 2, named)" \
  refuses "$pcscf" "$tmp/range_pcscf.toml" pcscf.w2.max_connections
set_keys "$base" wwsf.limits 0 'kdf_threads = 2.0' > "$tmp/type_wwsf.toml"
check "isthmus-wwsf --check-config refuses wwsf.limits.kdf_threads = 2.0 (exit 2, named)" \
  refuses "$wwsf" "$tmp/type_wwsf.toml" wwsf.limits.kdf_threads
set_keys "$base" wwsf 0 'token_lifetime_s = 3601' > "$tmp/range_wwsf.toml"
check "isthmus-wwsf --check-config refuses wwsf.token_lifetime_s = 3601 (exit 2, named)" \
  refuses "$wwsf" "$tmp/range_wwsf.toml" wwsf.token_lifetime_s

# Without --check-config: the same refusal, before anything starts.
check "isthmus-dataplane refuses to start with dataplane.hearbeat_ms (exit 2, named)" \
  refuses "$dataplane" "$tmp/bad1.toml" dataplane.hearbeat_ms --start
check "isthmus-pcscf refuses to start with pcscf.limits.max_flow (exit 2, named)" \
  refuses "$pcscf" "$tmp/bad7.toml" pcscf.limits.max_flow --start
check "isthmus-wwsf refuses to start with wwsf.limits.kdf_thread (exit 2, named)" \
  refuses "$wwsf" "$tmp/bad12.toml" wwsf.limits.kdf_thread --start

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
