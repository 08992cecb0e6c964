# Sourced by the scripts docs_to_script.mjs generates (see docs_commands_test.sh): runs a
# document's commands under `set -e`, reporting the file and line of the first that fails.
set -eE -o pipefail
__line=0
__command=
__servers=()
__expect_status=
__block() {  # <line> <text>: a ```sh block starts
  printf '\n--- %s:%s\n%s\n---\n' "$__doc" "$1" "$2"
}
__at() { __line=$1; __command=$2; }
__skip() { printf 'SKIPPED (illustrative) %s:%s: %s\n' "$__doc" "$1" "$2"; }
__failed() {
  local rc=$?
  trap - ERR
  printf '\nFAILED %s:%s (exit %s): %s\n' "$__doc" "$__line" "$rc" "$__command"
  for log in "$__logs"/serve-*.log; do
    [ -f "$log" ] && { echo "--- $log"; tail -n 30 "$log"; }
  done
  __stop_servers
  exit 1
}
trap __failed ERR

# `millrace serve ...`: started in the background; returns when /healthz answers on its
# port (--listen, else the project's listen.http, else 127.0.0.1:8080). `millrace jobs serve`
# (no HTTP) only has to be still running a moment later.
__serve() {
  local listen="" project="" previous="" jobs=""
  for arg in "$@"; do
    [ "$arg" = "jobs" ] && jobs=1
    [ "$previous" = "--listen" ] && listen=$arg
    [ "$previous" = "serve" ] && project=$arg
    previous=$arg
  done
  if [ -z "$listen" ] && [ -f "$project/millrace.yaml" ]; then
    listen=$(grep -oE 'http: *[0-9A-Za-z.:-]+' "$project/millrace.yaml" | head -1 | sed 's/http: *//')
  fi
  listen=${listen:-127.0.0.1:8080}
  local log="$__logs/serve-${#__servers[@]}.log"
  "$@" >"$log" 2>&1 &
  __servers+=($!)
  if [ -n "$jobs" ]; then
    sleep 1
    kill -0 "$!" 2>/dev/null && return 0
    echo "it stopped; its log:"; cat "$log"; return 1
  fi
  for _ in $(seq 1 300); do
    if command curl -sf "http://$listen/healthz" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$!" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "the server did not answer on $listen; its log:"; cat "$log"
  return 1
}
__stop_servers() {
  for pid in "${__servers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${__servers[@]}"; do wait "$pid" 2>/dev/null || true; done
  __servers=()
}

# curl fails on an HTTP error status, unless the line's comment names that status.
curl() {
  local out code
  out=$(command curl --no-progress-meter -w '\n%{http_code}' "$@") || return
  code=${out##*$'\n'}
  printf '%s\n' "${out%$'\n'*}"
  if [ -n "$__expect_status" ]; then
    if [ "$code" != "$__expect_status" ]; then
      echo "expected HTTP $__expect_status, got $code" >&2
      return 1
    fi
  elif [ "$code" -ge 400 ]; then
    echo "HTTP $code" >&2
    return 1
  fi
}
__end_block() { :; }
__end_file() { __stop_servers; printf '\nOK %s\n' "$__doc"; }
