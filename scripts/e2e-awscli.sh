#!/usr/bin/env bash
# End-to-end check of ecsd with the real aws CLI.
#
#   scripts/e2e-awscli.sh                          # builds ./cmd/ecsd and starts it
#   ECSD_BIN=/path/to/ecsd scripts/e2e-awscli.sh   # starts this binary
#   E2E_ENDPOINT=http://127.0.0.1:5000 scripts/e2e-awscli.sh   # uses a running endpoint
#
# Prints one line per step; exits non-zero naming the first step that fails.
# E2E_KEEP_GOING=1 reports every failing step instead of stopping at the first.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Dummy credentials and a config that cannot pick up the caller's own profiles.
export AWS_ACCESS_KEY_ID=AKIDE2EEXAMPLE AWS_SECRET_ACCESS_KEY=e2e-secret AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$tmp/aws-config AWS_SHARED_CREDENTIALS_FILE=$tmp/aws-credentials AWS_PAGER=
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_ECS
# services-stable polls every second, not every 15 s.
fast_waiters ecs

# --- server -------------------------------------------------------------------
run_id=
if [[ -n ${E2E_ENDPOINT:-} ]]; then
	endpoint=$E2E_ENDPOINT
	run_id=-$(date +%s)-$$ # a shared endpoint may hold earlier runs' resources
	ok "using endpoint $endpoint"
else
	# Tasks run as host processes; tasks without health checks count as
	# healthy after 1 s instead of ECS's 40 s, to keep the run short.
	# Only the key above is answered, and its signatures are checked.
	start_ecsd --runtime process --healthy-after 1s --credentials "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"
fi

# --- helpers -----------------------------------------------------------------
# ecs STEP ARGS...: runs `aws ecs ARGS...`, leaving its JSON output in $out.
ecs() { aws_json "$1" ecs "${@:2}"; }

cluster=e2e$run_id
family=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["family"])' "$here/testdata/taskdef-demoapp.json")$run_id
service=web

# --- steps -------------------------------------------------------------------
if [[ -z ${E2E_ENDPOINT:-} ]]; then
	# ecs_refused STEP CODE KEY SECRET: list-clusters signed by KEY/SECRET
	# must fail with the AWS error code CODE.
	ecs_refused() {
		if AWS_ACCESS_KEY_ID=$3 AWS_SECRET_ACCESS_KEY=$4 aws --endpoint-url "$endpoint" ecs list-clusters >/dev/null 2>"$tmp/stderr"; then
			fail "$1" "list-clusters signed by $3 succeeded, want error $2"
		fi
		grep -q "($2)" "$tmp/stderr" || fail "$1" "want error ($2), got: $(cat "$tmp/stderr")"
		ok "$1"
	}
	ecs_refused wrong-secret InvalidSignatureException "$AWS_ACCESS_KEY_ID" not-the-secret
	ecs_refused unknown-key UnrecognizedClientException AKIDSOMEONEELSE "$AWS_SECRET_ACCESS_KEY"
fi

ecs create-cluster create-cluster --cluster-name "$cluster"
check create-cluster 'd["cluster"]["status"] == "ACTIVE" and d["cluster"]["clusterArn"].endswith(":cluster/'"$cluster"'")'
ok create-cluster

ecs register-task-definition register-task-definition \
	--cli-input-json "file://$here/testdata/taskdef-demoapp.json" --family "$family"
check register-task-definition 'd["taskDefinition"]["revision"] == 1 and d["taskDefinition"]["status"] == "ACTIVE"'
check register-task-definition 'd["taskDefinition"]["containerDefinitions"][0]["environment"] == [{"name": "VERSION", "value": "v1"}]'
td1=$(field 'd["taskDefinition"]["taskDefinitionArn"]')
ok register-task-definition "$td1"

ecs create-service create-service --cluster "$cluster" --service-name "$service" \
	--task-definition "$family" --desired-count 0
check create-service 'd["service"]["status"] == "ACTIVE" and d["service"]["serviceName"] == "'"$service"'"'
ok create-service

ecs describe-services describe-services --cluster "$cluster" --services "$service"
check describe-services 'len(d["services"]) == 1 and d["failures"] == []'
check describe-services 'd["services"][0]["status"] == "ACTIVE"'
check describe-services 'd["services"][0]["taskDefinition"].endswith(":1")'
check describe-services '[x["status"] for x in d["services"][0]["deployments"]] == ["PRIMARY"]'
ok describe-services

ecs list-task-definitions list-task-definitions --family-prefix "$family"
check list-task-definitions '"'"$td1"'" in d["taskDefinitionArns"]'
ok list-task-definitions

python3 - "$here/testdata/taskdef-demoapp.json" "$tmp/taskdef-v2.json" <<'EOF'
import json, sys
td = json.load(open(sys.argv[1]))
app = td["containerDefinitions"][0]
app["image"] = app["image"].replace(":v1", ":v2")
app["environment"] = [{"name": "VERSION", "value": "v2"}]
json.dump(td, open(sys.argv[2], "w"))
EOF
ecs register-task-definition-v2 register-task-definition \
	--cli-input-json "file://$tmp/taskdef-v2.json" --family "$family"
check register-task-definition-v2 'd["taskDefinition"]["revision"] == 2'
check register-task-definition-v2 'd["taskDefinition"]["containerDefinitions"][0]["image"] == "ecsd/demoapp:v2"'
ok register-task-definition-v2

ecs update-service update-service --cluster "$cluster" --service "$service" --task-definition "$family:2"
check update-service 'd["service"]["taskDefinition"].endswith(":2")'
ecs update-service describe-services --cluster "$cluster" --services "$service"
check update-service 'd["services"][0]["taskDefinition"].endswith(":2")'
check update-service '[x["taskDefinition"][-2:] for x in d["services"][0]["deployments"] if x["status"] == "PRIMARY"] == [":2"]'
ok update-service

# wait_completed STEP: polls until the service "rolling" has one deployment,
# COMPLETED (services-stable only counts tasks; a rollback needs a COMPLETED
# deployment to return to).
wait_completed() {
	for _ in $(seq 120); do
		ecs "$1" describe-services --cluster "$cluster" --services rolling
		if python3 -c '
import json, sys
d = json.load(sys.stdin)["services"][0]["deployments"]
sys.exit(0 if len(d) == 1 and d[0]["rolloutState"] == "COMPLETED" else 1)
' <<<"$out"; then
			return 0
		fi
		sleep 0.5
	done
	fail "$1" "deployment not COMPLETED within 60s: $out"
}

# --- a rolling deployment, then a crashing revision rolled back -------------
ecs deploy-create create-service --cluster "$cluster" --service-name rolling \
	--task-definition "$family:1" --desired-count 4 \
	--deployment-configuration 'minimumHealthyPercent=50,maximumPercent=200,deploymentCircuitBreaker={enable=true,rollback=true}'
aws --endpoint-url "$endpoint" ecs wait services-stable --cluster "$cluster" --services rolling 2>"$tmp/stderr" ||
	fail deploy-create "services-stable: $(cat "$tmp/stderr")"
wait_completed deploy-create
ok deploy-create "4 tasks of :1 running, services-stable, COMPLETED"

ecs deploy-v2 update-service --cluster "$cluster" --service rolling --task-definition "$family:2"
aws --endpoint-url "$endpoint" ecs wait services-stable --cluster "$cluster" --services rolling 2>"$tmp/stderr" ||
	fail deploy-v2 "services-stable: $(cat "$tmp/stderr")"
ecs deploy-v2 describe-services --cluster "$cluster" --services rolling
check deploy-v2 'len(d["services"][0]["deployments"]) == 1 and d["services"][0]["deployments"][0]["taskDefinition"].endswith(":2") and d["services"][0]["runningCount"] == 4'
wait_completed deploy-v2
ok deploy-v2 "rolled to :2, services-stable, COMPLETED"

python3 -c '
import json, sys
td = json.load(open(sys.argv[1]))
app = td["containerDefinitions"][0]
app["environment"] = [{"name": "VERSION", "value": "v3"}, {"name": "DEMO_CRASH_AFTER", "value": "0s"}]
json.dump(td, open(sys.argv[2], "w"))
' "$tmp/taskdef-v2.json" "$tmp/taskdef-crash.json"
ecs deploy-crash register-task-definition --cli-input-json "file://$tmp/taskdef-crash.json" --family "$family"
ecs deploy-crash update-service --cluster "$cluster" --service rolling --task-definition "$family:3"
# Wait in one aws process (the waiter polls every second) until the
# service is stable again; the loop below then checks the rollback.
aws --endpoint-url "$endpoint" ecs wait services-stable --cluster "$cluster" --services rolling 2>/dev/null || true
rolled_back=
for _ in $(seq 120); do
	ecs deploy-crash describe-services --cluster "$cluster" --services rolling
	if python3 -c '
import json, sys
s = json.load(sys.stdin)["services"][0]
d = s["deployments"]
sys.exit(0 if len(d) == 1 and d[0]["taskDefinition"].endswith(":2") and d[0]["rolloutState"] == "COMPLETED" and s["runningCount"] == 4 else 1)
' <<<"$out"; then
		rolled_back=1
		break
	fi
	sleep 0.5
done
[[ -n $rolled_back ]] || fail deploy-crash "no rollback to :2 within 60s: $out"
check deploy-crash 'any(e["message"].endswith("deployment failed: tasks failed to start.") for e in d["services"][0]["events"])'
check deploy-crash 'any("rolling back to deployment" in e["message"] for e in d["services"][0]["events"])'
check deploy-crash 'd["services"][0]["taskDefinition"].endswith(":2")'
aws --endpoint-url "$endpoint" ecs wait services-stable --cluster "$cluster" --services rolling 2>"$tmp/stderr" ||
	fail deploy-crash "services-stable: $(cat "$tmp/stderr")"
ok deploy-crash "circuit breaker rolled back to :2"

ecs deploy-delete delete-service --cluster "$cluster" --service rolling --force
ok deploy-delete

ecs delete-service delete-service --cluster "$cluster" --service "$service" --force
check delete-service 'd["service"]["status"] in ("DRAINING", "INACTIVE")'
ecs delete-service describe-services --cluster "$cluster" --services "$service"
check delete-service 'all(s["status"] in ("DRAINING", "INACTIVE") for s in d["services"]) and all(f["reason"] == "MISSING" for f in d["failures"])'
ok delete-service

ecs describe-clusters-missing describe-clusters --clusters "no-such-cluster$run_id"
check describe-clusters-missing 'd["clusters"] == [] and [f["reason"] for f in d["failures"]] == ["MISSING"]'
ok describe-clusters-missing

if aws --endpoint-url "$endpoint" ecs update-service --cluster "$cluster" --service "no-such-service" \
	--desired-count 1 >/dev/null 2>"$tmp/stderr"; then
	fail update-service-missing "exited 0, want an error"
fi
grep -q ServiceNotFoundException "$tmp/stderr" ||
	fail update-service-missing "stderr lacks ServiceNotFoundException: $(cat "$tmp/stderr")"
ok update-service-missing

finish
