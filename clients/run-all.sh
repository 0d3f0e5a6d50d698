#!/usr/bin/env bash
# Runs every real SWF client (clients/*) through the whole scenario against
# one freshly built swfd, and reports PASS/FAIL per client. Exits non-zero
# if any client fails. A client whose dependencies cannot be installed is
# reported SKIP, loudly; set SWFD_CLIENTS_STRICT=1 to make that a failure.
#
#   clients/run-all.sh              # all clients
#   clients/run-all.sh boto3 js-v3  # some
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/swfd-clients.XXXXXX")
cache="${SWFD_CLIENTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/swfd-clients}"
mkdir -p "$cache"
swfd_pid=
cleanup() {
  [ -n "$swfd_pid" ] && kill "$swfd_pid" 2>/dev/null && wait "$swfd_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building swfd"
go build -buildvcs=false -o "$work/swfd" ./cmd/swfd || { echo "FAIL: go build"; exit 1; }

# With SWFD_CLIENTS_AUTH=1 swfd verifies every signature (--auth): the
# clients' key may do anything, but each request must be signed right.
auth_args=()
if [ "${SWFD_CLIENTS_AUTH:-}" = 1 ]; then
  cat >"$work/auth.json" <<'JSON'
{"principals": [{"name": "clients", "accessKeys": [{"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "secret"}],
  "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}]}]}
JSON
  auth_args=(--auth "$work/auth.json")
  echo "== signatures verified (--auth)"
fi

. clients/start-swfd.sh
. clients/results.sh
start_swfd "$work/swfd" "$work/swfd.log" --db "sqlite:$work/data/swfd.db" --poll-timeout 2s --log-level info "${auth_args[@]}" || exit 1
export SWFD_ENDPOINT="http://$addr"
echo "== swfd at $SWFD_ENDPOINT"
if [ "${SWFD_CLIENTS_AUTH:-}" = 1 ]; then
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Amz-Target: SimpleWorkflowService.ListDomains' -d '{"registrationStatus":"REGISTERED"}' "$SWFD_ENDPOINT/")
  [ "$code" = 403 ] || { echo "FAIL: an unsigned request got HTTP $code with --auth"; exit 1; }
fi

# --- installs -------------------------------------------------------------
install_js() {
  [ -d clients/js/node_modules/aws-swf ] && [ -d clients/js/node_modules/@aws-sdk/client-swf ] && return 0
  command -v npm >/dev/null || { echo "npm not found"; return 1; }
  (cd clients/js && npm ci --no-audit --no-fund --loglevel=error)
}
boto2_path="$cache/boto2/usr/lib/python3/dist-packages"
install_boto2() {
  [ -f "$boto2_path/boto/swf/layer2.py" ] && return 0
  local d="$cache/boto2-deb"
  rm -rf "$d" && mkdir -p "$d"
  # apt-get download needs the package lists; refresh them only if needed.
  (cd "$d" && { apt-get download python3-boto 2>/dev/null || { apt-get update -qq && apt-get download python3-boto; }; }) || return 1
  dpkg -x "$d"/python3-boto_*.deb "$cache/boto2" || return 1
  [ -f "$boto2_path/boto/swf/layer2.py" ]
}

# aws-sdk v1 for Ruby (Debian ruby-aws-sdk), with the Ruby it runs on: an
# interpreter and native gems (nokogiri), so installed, not unpacked.
install_ruby() {
  ruby -e 'require "aws-sdk-v1"; AWS::SimpleWorkflow::Client' 2>/dev/null && return 0
  command -v apt-get >/dev/null || { echo "apt-get not found"; return 1; }
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends
    -o DPkg::Lock::Timeout=300 ruby ruby-aws-sdk)
  # The package lists are refreshed only if the install needs them.
  "${apt[@]}" || { apt-get update -qq && "${apt[@]}"; } || return 1
  ruby -e 'require "aws-sdk-v1"; AWS::SimpleWorkflow::Client'
}

# pytest for the docs/testing.md examples: Debian's pure-Python packages,
# unpacked (PyPI cannot be reached here), for the Python that has boto3.
pytest_path="$cache/pytest/usr/lib/python3/dist-packages"
install_pytest() {
  [ -f "$pytest_path/pytest/__init__.py" ] && PYTHONPATH="$pytest_path" python3 -c 'import pytest' 2>/dev/null && return 0
  local d="$cache/pytest-deb" pkgs="python3-pytest python3-iniconfig python3-packaging python3-pluggy python3-py"
  rm -rf "$d" && mkdir -p "$d"
  (cd "$d" && { apt-get download $pkgs 2>/dev/null || { apt-get update -qq && apt-get download $pkgs; }; }) || return 1
  for f in "$d"/*.deb; do dpkg -x "$f" "$cache/pytest" || return 1; done
  PYTHONPATH="$pytest_path" python3 -c 'import pytest'
}

# --- clients --------------------------------------------------------------
declare -A result
order=()
run_client() { # NAME INSTALL_FN COMMAND...
  local name=$1 install=$2
  shift 2
  if [ ${#selected[@]} -gt 0 ] && [[ ! " ${selected[*]} " =~ " $name " ]]; then return; fi
  order+=("$name")
  echo
  echo "== client $name"
  if [ "$install" != - ] && ! "$install" >"$work/$name.install.log" 2>&1; then
    cat "$work/$name.install.log"
    echo "!!!!!!!! SKIP $name: its dependencies could not be installed (see above) !!!!!!!!"
    result[$name]=SKIP
    return
  fi
  local start=$SECONDS
  if timeout 300 "$@"; then
    result[$name]="PASS ($((SECONDS - start))s)"
  else
    result[$name]="FAIL ($((SECONDS - start))s)"
  fi
}
selected=("$@")

# each client names its own domain
unset SWFD_DOMAIN
run_client awscli - bash clients/awscli/run.sh
run_client boto3 - python3 clients/boto3/workflow.py
run_client boto3-shapes - python3 clients/boto3/shapes.py
run_client boto3-throttling - env SWFD_BIN="$work/swfd" bash clients/boto3/throttling.sh
run_client boto3-lambda - env SWFD_BIN="$work/swfd" bash clients/boto3/lambda.sh
run_client go-v2 - go test -buildvcs=false -count=1 -run '^TestRealClientGoV2$' ./e2e/
run_client go-v1 - go test -buildvcs=false -count=1 -run '^TestRealClientGoV1$' ./e2e/
run_client js-v3 install_js node clients/js/v3.js
run_client aws-swf install_js node clients/js/awsswf.js
run_client ruby install_ruby ruby clients/ruby/workflow.rb
run_client ruby-swf install_ruby ruby clients/ruby/resources.rb
run_client boto2 install_boto2 env PYTHONPATH="$boto2_path${PYTHONPATH:+:$PYTHONPATH}" python3 clients/boto2/workflow.py
# The testing guide's examples (docs/testing.md): each starts its own swfd --dev.
run_client pytest-dev install_pytest env SWFD="$work/swfd" PYTHONPATH="$pytest_path${PYTHONPATH:+:$PYTHONPATH}" \
  python3 -m pytest -q -p no:cacheprovider docs/testing/python
run_client node-test-dev install_js env SWFD="$work/swfd" NODE_PATH="$root/clients/js/node_modules" node --test docs/testing/node/

echo
echo "== real clients against swfd"
print_results "${order[@]}"
status=0
for n in "${order[@]}"; do
  case ${result[$n]} in
    FAIL*) status=1 ;;
    SKIP) [ "${SWFD_CLIENTS_STRICT:-}" = 1 ] && status=1 ;;
  esac
done
if grep -q 'level=ERROR' "$work/swfd.log"; then
  echo "swfd logged errors:"; grep 'level=ERROR' "$work/swfd.log"
  status=1
fi
exit $status
