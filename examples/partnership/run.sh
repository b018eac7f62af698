#!/usr/bin/env bash
# run.sh: a partnership of four `ebsp node` processes on this machine, each
# with its own configuration, credentials, data directory and process: the
# U.S. hub and three partner states (GB, DE, NL), an agreement between the
# hub and each partner. See docs/exchange.md ("A partnership of processes").
#
#   run.sh DIR                 make the PKI and agreements under DIR, start the
#                              four nodes, write DIR/partnership.json, return
#   run.sh --stop DIR          stop them all (SIGTERM, then wait)
#   run.sh --restart DIR STATE start one state's node again (after --stop, a
#                              crash or kill -9), with the same data and keys
#
# EBSP names the ebsp binary to use (default: built from this checkout into
# DIR/bin). EBSP_PORT_BASE (default 17400) is the first of eight loopback
# ports: the states' APIs, then their partner endpoints.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
states=(US GB DE NL)
hub=US

die() { echo "run.sh: $*" >&2; exit 1; }

# running PID: whether the process runs (a killed node whose parent shell
# has gone may linger as a zombie until init reaps it: not running).
running() {
  kill -0 "$1" 2>/dev/null || return 1
  [ -r "/proc/$1/stat" ] || return 0 # no procfs: trust kill -0
  local st
  st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
  [ "$st" != Z ]
}

port_of() { # STATE KIND(api|partner)
  local i
  for i in "${!states[@]}"; do
    if [ "${states[$i]}" = "$1" ]; then
      if [ "$2" = api ]; then echo $((BASE + i)); else echo $((BASE + ${#states[@]} + i)); fi
      return
    fi
  done
  die "unknown state $1 (want one of ${states[*]})"
}

# start STATE: runs the node in the background and waits until it is ready.
start() {
  local s=$1 d="$DIR/$1"
  rm -f "$d/ready"
  nohup "$EBSP" node --config "$d/node.json" --ready-file "$d/ready" >>"$d/node.log" 2>&1 &
  echo $! >"$d/pid"
  for _ in $(seq 1 600); do
    [ -s "$d/ready" ] && return 0
    running "$(cat "$d/pid")" || { tail -20 "$d/node.log" >&2; die "node $s exited; log: $d/node.log"; }
    sleep 0.1
  done
  die "node $s not ready after 60 s; log: $d/node.log"
}

# write_summary: DIR/partnership.json, what scripts and people need to use
# the running partnership (it holds the staff's tokens: mode 0600).
write_summary() {
  local f="$DIR/partnership.json" first=1 s role
  umask 077
  {
    echo '{'
    echo '  "states": {'
    for s in "${states[@]}"; do
      [ $first = 1 ] || echo ','
      first=0
      printf '    "%s": {\n' "$s"
      printf '      "api": "%s",\n' "$(cat "$DIR/$s/ready")"
      printf '      "partner_endpoint": "https://127.0.0.1:%s",\n' "$(port_of "$s" partner)"
      printf '      "pid": %s,\n' "$(cat "$DIR/$s/pid")"
      printf '      "config": "%s",\n' "$DIR/$s/node.json"
      printf '      "data_dir": "%s",\n' "$DIR/$s/data"
      printf '      "log": "%s",\n' "$DIR/$s/node.log"
      printf '      "credentials": "%s",\n' "$DIR/pki/$s-node"
      printf '      "tokens": {'
      local rf=1
      for role in operator examiner auditor admin; do
        [ $rf = 1 ] || printf ', '
        rf=0
        printf '"%s": "%s"' "$role" "$(cat "$DIR/$s/token.$role")"
      done
      printf '}\n    }'
    done
    echo
    echo '  },'
    echo '  "agreements": ['
    first=1
    for s in "${states[@]}"; do
      [ "$s" = "$hub" ] && continue
      [ $first = 1 ] || echo ','
      first=0
      printf '    {"id": "%s-%s", "parties": ["%s", "%s"], "file": "%s"}' "$hub" "$s" "$hub" "$s" "$DIR/agreements/$hub-$s.json"
    done
    echo
    echo '  ]'
    echo '}'
  } >"$f.tmp"
  mv "$f.tmp" "$f"
}

stop_all() {
  local s pid
  for s in "${states[@]}"; do
    [ -f "$DIR/$s/pid" ] || continue
    pid=$(cat "$DIR/$s/pid")
    kill -TERM "$pid" 2>/dev/null || true
  done
  for s in "${states[@]}"; do
    [ -f "$DIR/$s/pid" ] || continue
    pid=$(cat "$DIR/$s/pid")
    for _ in $(seq 1 300); do running "$pid" || break; sleep 0.1; done
    running "$pid" && die "node $s (pid $pid) still running after 30 s"
    rm -f "$DIR/$s/pid" "$DIR/$s/ready"
  done
}

BASE=${EBSP_PORT_BASE:-17400}
case "${1:-}" in
--stop)
  [ $# = 2 ] || die "usage: run.sh --stop DIR"
  DIR="$(cd "$2" && pwd)"
  stop_all
  echo "stopped the nodes under $DIR"
  exit 0
  ;;
--restart)
  [ $# = 3 ] || die "usage: run.sh --restart DIR STATE"
  DIR="$(cd "$2" && pwd)"
  EBSP="${EBSP:-$DIR/bin/ebsp}"
  port_of "$3" api >/dev/null
  [ -f "$DIR/$3/node.json" ] || die "$DIR/$3/node.json: no such node (run run.sh DIR first)"
  if [ -f "$DIR/$3/pid" ] && running "$(cat "$DIR/$3/pid")"; then die "node $3 is running (pid $(cat "$DIR/$3/pid"))"; fi
  start "$3"
  write_summary
  echo "node $3 running again: $(cat "$DIR/$3/ready") (pid $(cat "$DIR/$3/pid"))"
  exit 0
  ;;
-h | --help | "")
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  [ -n "${1:-}" ] && exit 0 || exit 2
  ;;
esac

[ $# = 1 ] || die "usage: run.sh DIR"
mkdir -p "$1"
DIR="$(cd "$1" && pwd)"
[ -e "$DIR/partnership.json" ] && die "$DIR already holds a partnership (run.sh --stop $DIR, then remove it or use --restart)"
if [ -z "${EBSP:-}" ]; then
  EBSP="$DIR/bin/ebsp"
  echo "run.sh: building ebsp into $EBSP" >&2
  (cd "$here/../.." && go build -o "$EBSP" ./cmd/ebsp)
fi

# Each state's CA and node credentials, as a state's PKI would issue them.
for s in "${states[@]}"; do
  "$EBSP" pki init --state "$s" --out "$DIR/pki/$s-ca" >/dev/null
  "$EBSP" pki node --ca "$DIR/pki/$s-ca" --name "$s-node" --host 127.0.0.1,localhost --out "$DIR/pki/$s-node" >/dev/null
done
# An agreement between the hub and each partner; both sides hold the file.
mkdir -p "$DIR/agreements"
for s in "${states[@]}"; do
  [ "$s" = "$hub" ] && continue
  "$EBSP" pki agreement --id "$hub-$s" --a "$DIR/pki/$hub-node" --b "$DIR/pki/$s-node" \
    --endpoint-a "https://127.0.0.1:$(port_of "$hub" partner)" --endpoint-b "https://127.0.0.1:$(port_of "$s" partner)" \
    --out "$DIR/agreements/$hub-$s.json" >/dev/null
done
# Configurations from the examples, with this run's paths, ports and tokens.
for s in "${states[@]}"; do
  d="$DIR/$s"
  mkdir -p "$d"
  chmod 700 "$d"
  sub=(-e "s|@DIR@|$DIR|g" -e "s|@API_PORT@|$(port_of "$s" api)|g" -e "s|@PARTNER_PORT@|$(port_of "$s" partner)|g")
  for role in operator examiner auditor admin; do
    tok=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    (umask 077 && echo "$tok" >"$d/token.$role")
    upper=$(echo "$role" | tr a-z A-Z)
    sub+=(-e "s|@${upper}_SHA256@|$(echo "$tok" | "$EBSP" node hash-token)|g")
  done
  sed "${sub[@]}" "$here/$(echo "$s" | tr A-Z a-z).json" >"$d/node.json"
done
for s in "${states[@]}"; do
  start "$s"
done
write_summary
echo "partnership running; see $DIR/partnership.json (stop: $0 --stop $DIR)"
