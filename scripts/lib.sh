# Helpers of the end-to-end scripts (scripts/e2e-*.sh), which source it
# after `set -euo pipefail`:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# It sets here (this directory), root (the module) and tmp (a temp dir,
# removed at exit, as the processes in pids are stopped), and defines step
# reporting (ok, fail, finish; E2E_KEEP_GOING=1 reports every failing step
# instead of stopping at the first), free_port, wait_port, start_ecsd,
# fast_waiters, aws_json, check and field.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
tmp=$(mktemp -d)
pids=() # started in the background; stopped at exit, the last first
failed=()

cleanup() {
	local i
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill "${pids[i]}" 2>/dev/null || true
		wait "${pids[i]}" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The scripts call aws and python3 about a hundred times; through pyenv's
# shims each call costs half a second more (several on a busy machine), so
# they call the programs the shims lead to.
unshim() { # unshim NAME: prints the program NAME runs
	local p
	p=$(command -v "$1") || return 1
	if [[ $p == */shims/* ]] && command -v pyenv >/dev/null 2>&1 && pyenv which "$1" >/dev/null 2>&1; then
		p=$(pyenv which "$1")
	fi
	echo "$p"
}
if aws_bin=$(unshim aws); then aws() { "$aws_bin" "$@"; }; fi
if python_bin=$(unshim python3); then python3() { "$python_bin" "$@"; }; fi

fail() { # fail STEP MESSAGE
	echo "FAIL $1: $2" >&2
	if [[ -n ${E2E_KEEP_GOING:-} ]]; then
		failed+=("$1")
		return 0
	fi
	if [[ -f $tmp/ecsd.log ]]; then
		echo "--- ecsd log (last 20 lines) ---" >&2
		tail -n 20 "$tmp/ecsd.log" >&2
	fi
	exit 1
}
ok() { # ok STEP [DETAIL]
	[[ " ${failed[*]} " == *" $1 "* ]] || echo "ok   $*"
}
# finish: PASS, or the failed steps and exit status 1.
finish() {
	if ((${#failed[@]})); then
		echo "FAILED steps: ${failed[*]}" >&2
		exit 1
	fi
	echo PASS
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port STEP PORT PID NAME: waits until 127.0.0.1:PORT accepts
# connections, 10 s at most, while process PID (NAME) runs.
wait_port() {
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
		kill -0 "$3" 2>/dev/null || fail "$1" "$4 exited"
		sleep 0.1
	done
	fail "$1" "$4 not listening on $2 after 10s"
}

# start_ecsd ARGS...: builds ./cmd/ecsd into $tmp unless ECSD_BIN names a
# binary, starts `ecsd server` on a free port with ARGS, its data dir in $tmp
# and its output in $tmp/ecsd.log, and waits until it listens. Sets bin,
# endpoint and server_pid.
start_ecsd() {
	bin=${ECSD_BIN:-}
	if [[ -z $bin ]]; then
		bin=$tmp/ecsd
		(cd "$root" && go build -o "$bin" ./cmd/ecsd) || fail build "go build ./cmd/ecsd"
		ok "built $bin"
	fi
	local port
	port=$(free_port)
	endpoint=http://127.0.0.1:$port
	"$bin" server --listen "127.0.0.1:$port" --data-dir "$tmp/data" --region us-east-1 "$@" >"$tmp/ecsd.log" 2>&1 &
	server_pid=$!
	pids+=("$server_pid")
	wait_port start "$port" "$server_pid" ecsd
	ok "started ecsd (pid $server_pid) on $endpoint"
}

# fast_waiters SERVICE: `aws SERVICE wait ...` polls every second instead
# of botocore's delay (15 s for ECS's services-stable), with botocore's own
# acceptors: a copy of the installed waiter model with the delay changed,
# found first through AWS_DATA_PATH. Without a botocore to copy from (an aws
# CLI that is no Python script), the waiters keep their delay.
fast_waiters() {
	local shebang
	[[ -n ${aws_bin:-} ]] && read -r shebang <"$aws_bin" && [[ $shebang == '#!'* ]] || return 0
	# The interpreter line may be "/usr/bin/env python3": split into words.
	# shellcheck disable=SC2086
	${shebang#'#!'} - "$1" "$tmp/aws-data" <<'EOF' || return 0
import json, os, sys
import botocore.loaders
service, out = sys.argv[1], sys.argv[2]
loader = botocore.loaders.create_loader()
version = loader.determine_latest_version(service, "waiters-2")
model = loader.load_service_model(service, "waiters-2", version)
for waiter in model["waiters"].values():
    waiter["delay"] = 1
os.makedirs(os.path.join(out, service, version), exist_ok=True)
with open(os.path.join(out, service, version, "waiters-2.json"), "w") as f:
    json.dump(model, f)
EOF
	export AWS_DATA_PATH=$tmp/aws-data${AWS_DATA_PATH:+:$AWS_DATA_PATH}
}

# aws_json STEP SERVICE ARGS...: runs `aws SERVICE ARGS...` against
# $endpoint, leaving its JSON output in $out.
aws_json() {
	local step=$1 service=$2
	shift 2
	out=$(aws --endpoint-url "$endpoint" --output json "$service" "$@" 2>"$tmp/stderr") ||
		fail "$step" "aws $service $* exited non-zero: $(cat "$tmp/stderr")"
}

# check STEP PYTHON-EXPR: asserts EXPR over the JSON in $out, bound to `d`.
check() {
	local got
	got=$(python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
try:
    ok = eval(sys.argv[1])
except Exception as e:
    ok = False
if not ok:
    print(json.dumps(d, separators=(",", ":"))[:3000])
' "$2" <<<"$out") || got="(not JSON) $out"
	[[ -z $got ]] || fail "$1" "expected $2, got: $got"
}

# field EXPR: prints EXPR over the JSON in $out, bound to `d`.
field() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" <<<"$out"; }
