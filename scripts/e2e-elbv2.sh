#!/usr/bin/env bash
# End-to-end check of ecsd's ELBv2 API and load balancer with the real aws CLI:
# a load balancer, a target group, a listener, a demoapp process registered as
# a target, requests through the listener, target health, a rule, errors for
# bad input, and clean-up.
#
#   scripts/e2e-elbv2.sh                          # builds ./cmd/ecsd and starts it
#   ECSD_BIN=/path/to/ecsd scripts/e2e-elbv2.sh   # starts this binary
#
# Prints one line per step; exits non-zero naming the first step that fails.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Dummy credentials and a config that cannot pick up the caller's own profiles.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$tmp/aws-config AWS_SHARED_CREDENTIALS_FILE=$tmp/aws-credentials AWS_PAGER=
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2
# target-in-service polls every second, not every 15 s.
fast_waiters elbv2

# --- ecsd and a demoapp process -----------------------------------------------
# Only the key above is answered, and its signatures are checked.
start_ecsd --runtime fake --credentials "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"

app_port=$(free_port)
PORT=$app_port VERSION=e2e-v1 "$bin" demoapp >"$tmp/demoapp.log" 2>&1 &
app_pid=$!
pids+=("$app_pid")
wait_port demoapp "$app_port" "$app_pid" demoapp
ok "started demoapp (pid $app_pid) on 127.0.0.1:$app_port"

# --- helpers ------------------------------------------------------------------
# elb STEP ARGS...: runs `aws elbv2 ARGS...`, leaving its JSON output in $out.
elb() { aws_json "$1" elbv2 "${@:2}"; }

# elb_fails STEP CODE ARGS...: runs `aws elbv2 ARGS...`, which must fail with
# the AWS error code CODE.
elb_fails() {
	local step=$1 code=$2
	shift 2
	if aws --endpoint-url "$endpoint" --output json elbv2 "$@" >/dev/null 2>"$tmp/stderr"; then
		fail "$step" "aws elbv2 $* exited 0, want error $code"
	fi
	grep -q "($code)" "$tmp/stderr" || fail "$step" "want error ($code), got: $(cat "$tmp/stderr")"
}

# fetch STEP PATH: GETs PATH through the listener into $body.
fetch() {
	body=$(curl -sS --max-time 10 "http://127.0.0.1:$lb_port$2" 2>"$tmp/stderr") ||
		fail "$1" "curl http://127.0.0.1:$lb_port$2: $(cat "$tmp/stderr")"
}

# --- steps --------------------------------------------------------------------
AWS_SECRET_ACCESS_KEY=not-the-secret elb_fails wrong-secret SignatureDoesNotMatch describe-load-balancers
AWS_ACCESS_KEY_ID=AKIDSOMEONEELSE elb_fails unknown-key InvalidClientTokenId describe-load-balancers
ok "wrong secret and unknown key refused"

elb create-load-balancer create-load-balancer --name e2e-lb --tags Key=env,Value=e2e
check create-load-balancer 'd["LoadBalancers"][0]["Type"] == "application" and d["LoadBalancers"][0]["State"]["Code"] == "active"'
check create-load-balancer '":loadbalancer/app/e2e-lb/" in d["LoadBalancers"][0]["LoadBalancerArn"]'
lb_arn=$(field 'd["LoadBalancers"][0]["LoadBalancerArn"]')
ok create-load-balancer "$(field 'd["LoadBalancers"][0]["DNSName"]')"

elb create-target-group create-target-group --name e2e-tg --protocol HTTP --port "$app_port" \
	--target-type ip --health-check-path /health --health-check-interval-seconds 5 \
	--health-check-timeout-seconds 2 --healthy-threshold-count 2 --matcher HttpCode=200-299
check create-target-group 'd["TargetGroups"][0]["HealthCheckPath"] == "/health" and d["TargetGroups"][0]["Matcher"]["HttpCode"] == "200-299"'
check create-target-group 'd["TargetGroups"][0]["UnhealthyThresholdCount"] == 2 and d["TargetGroups"][0]["HealthCheckPort"] == "traffic-port"'
tg_arn=$(field 'd["TargetGroups"][0]["TargetGroupArn"]')
ok create-target-group "$tg_arn"

elb modify-target-group-attributes modify-target-group-attributes --target-group-arn "$tg_arn" \
	--attributes Key=deregistration_delay.timeout_seconds,Value=0
check modify-target-group-attributes '{"Key": "deregistration_delay.timeout_seconds", "Value": "0"} in d["Attributes"]'
ok modify-target-group-attributes

lb_port=$(free_port)
elb create-listener create-listener --load-balancer-arn "$lb_arn" --protocol HTTP --port "$lb_port" \
	--default-actions Type=forward,TargetGroupArn="$tg_arn"
listener_arn=$(field 'd["Listeners"][0]["ListenerArn"]')
elb create-listener describe-listeners --load-balancer-arn "$lb_arn"
check create-listener 'len(d["Listeners"]) == 1 and d["Listeners"][0]["Port"] == '"$lb_port"
ok create-listener "http://127.0.0.1:$lb_port"

elb register-targets register-targets --target-group-arn "$tg_arn" --targets Id=127.0.0.1,Port="$app_port"
ok register-targets

fetch forward /
[[ $body == e2e-v1 ]] || fail forward "got $body, want e2e-v1"
ok forward "$body"

# Wait in one aws process (the waiter polls every second); the loop below
# then checks the target's health.
aws --endpoint-url "$endpoint" elbv2 wait target-in-service --target-group-arn "$tg_arn" 2>/dev/null || true
healthy=
for _ in $(seq 60); do
	elb describe-target-health describe-target-health --target-group-arn "$tg_arn"
	if [[ $(field 'd["TargetHealthDescriptions"][0]["TargetHealth"]["State"]') == healthy ]]; then
		healthy=1
		break
	fi
	sleep 0.5
done
[[ -n $healthy ]] || fail describe-target-health "not healthy within 30s: $out"
check describe-target-health 'd["TargetHealthDescriptions"][0]["Target"] == {"Id": "127.0.0.1", "Port": '"$app_port"'}'
ok describe-target-health healthy

elb create-rule create-rule --listener-arn "$listener_arn" --priority 10 \
	--conditions Field=path-pattern,Values=/maintenance \
	--actions 'Type=fixed-response,FixedResponseConfig={StatusCode=503,ContentType=text/plain,MessageBody=down}'
rule_arn=$(field 'd["Rules"][0]["RuleArn"]')
fetch create-rule /maintenance
[[ $body == down ]] || fail create-rule "got $body, want down"
elb create-rule describe-rules --listener-arn "$listener_arn"
check create-rule '[r["Priority"] for r in d["Rules"]] == ["10", "default"]'
ok create-rule

elb_fails bad-timeout ValidationError create-target-group --name e2e-bad --protocol HTTP --port 80 \
	--health-check-interval-seconds 10 --health-check-timeout-seconds 10
elb_fails bad-target InvalidTarget register-targets --target-group-arn "$tg_arn" --targets Id=10.0.0.1,Port=80
elb_fails missing-target-group TargetGroupNotFound describe-target-groups --names no-such-group
elb_fails target-group-in-use ResourceInUse delete-target-group --target-group-arn "$tg_arn"
elb_fails duplicate-listener DuplicateListener create-listener --load-balancer-arn "$lb_arn" --protocol HTTP --port "$lb_port" \
	--default-actions 'Type=fixed-response,FixedResponseConfig={StatusCode=200}'
# The demoapp holds $app_port: a listener there fails; it never moves to another port.
elb_fails port-taken InvalidConfigurationRequest create-listener --load-balancer-arn "$lb_arn" --protocol HTTP --port "$app_port" \
	--default-actions 'Type=fixed-response,FixedResponseConfig={StatusCode=200}'
elb create-target-group describe-target-groups
check bad-input 'len(d["TargetGroups"]) == 1'
elb create-listener describe-listeners --load-balancer-arn "$lb_arn"
check bad-input 'len(d["Listeners"]) == 1'
ok bad-input "ValidationError, InvalidTarget, TargetGroupNotFound, ResourceInUse, DuplicateListener, InvalidConfigurationRequest (port taken); nothing changed"

elb deregister-targets deregister-targets --target-group-arn "$tg_arn" --targets Id=127.0.0.1,Port="$app_port"
elb deregister-targets describe-target-health --target-group-arn "$tg_arn"
# With deregistration_delay 0 and no request in flight it drains at once.
check deregister-targets 'd["TargetHealthDescriptions"] == []'
ok deregister-targets

elb delete delete-rule --rule-arn "$rule_arn"
elb delete delete-listener --listener-arn "$listener_arn"
elb delete delete-target-group --target-group-arn "$tg_arn"
elb delete delete-load-balancer --load-balancer-arn "$lb_arn"
elb delete describe-load-balancers
check delete 'd["LoadBalancers"] == []'
elb delete describe-target-groups
check delete 'd["TargetGroups"] == []'
if curl -sS --max-time 2 "http://127.0.0.1:$lb_port/" >/dev/null 2>&1; then
	fail delete "the listener still answers after deletion"
fi
ok delete

finish
