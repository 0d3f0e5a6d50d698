#!/usr/bin/env bash
# The real-client scenario (see ../README.md) scripted with the AWS CLI v1.
# Point it at a swfd with SWFD_ENDPOINT. Values are extracted with the
# CLI's own --query (JMESPath) so nothing but `aws` is needed.
set -euo pipefail

ENDPOINT="${SWFD_ENDPOINT:-http://127.0.0.1:7733}"
DOMAIN="${SWFD_DOMAIN:-rc-awscli-$RANDOM$RANDOM}"
DECIDERS=awscli-deciders
WORKERS=awscli-workers
WID=rc-wf-awscli

# Keep the CLI away from any real account, profile or endpoint.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for v in $(env | grep -o '^AWS_[A-Z_]*' || true); do
  [ "$v" = AWS_CA_BUNDLE ] || unset "$v"
done
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE="$tmp/config" AWS_SHARED_CREDENTIALS_FILE="$tmp/credentials" AWS_MAX_ATTEMPTS=1 AWS_PAGER=

fails=0
swf() { aws swf "$@" --endpoint-url "$ENDPOINT" --cli-read-timeout 70; }
check() { # check WHAT GOT WANT
  if [ "$2" != "$3" ]; then
    echo "MISMATCH: $1: got [$2] want [$3]" >&2
    fails=$((fails + 1))
  fi
}
die() { echo "FATAL: $*" >&2; exit 1; }

swf register-domain --name "$DOMAIN" --workflow-execution-retention-period-in-days 1 --description "aws cli real-client run"
swf register-workflow-type --domain "$DOMAIN" --name rc-wf --workflow-version 1 \
  --default-task-list name=$DECIDERS --default-execution-start-to-close-timeout 600 \
  --default-task-start-to-close-timeout 30 --default-child-policy TERMINATE
swf register-activity-type --domain "$DOMAIN" --name rc-act --activity-version 1 \
  --default-task-list name=$WORKERS --default-task-heartbeat-timeout 30 \
  --default-task-schedule-to-start-timeout 60 --default-task-schedule-to-close-timeout 120 \
  --default-task-start-to-close-timeout 60
check "domain status" "$(swf describe-domain --name "$DOMAIN" --query domainInfo.status --output text)" REGISTERED

RUN=$(swf start-workflow-execution --domain "$DOMAIN" --workflow-id $WID --workflow-type name=rc-wf,version=1 \
  --input hello --tag-list rc awscli --query runId --output text)
[ -n "$RUN" ] || die "no runId"

# poll_decision WANT_STARTED WANT_PREV LAST_EVENT_TYPE: leaves the token in $TOKEN.
poll_decision() {
  local out i
  for i in $(seq 1 15); do
    out=$(swf poll-for-decision-task --domain "$DOMAIN" --task-list name=$DECIDERS --identity awscli-decider \
      --no-paginate --query '[taskToken, startedEventId, previousStartedEventId, length(events), events[-3].eventType]' --output text)
    TOKEN=$(cut -f1 <<<"$out")
    if [ -n "$TOKEN" ] && [ "$TOKEN" != None ]; then
      check "decision started/prev/events/type" "$(cut -f2- <<<"$out")" "$1	$2	$1	$3"
      return
    fi
  done
  die "no decision task"
}
decide() { swf respond-decision-task-completed --task-token "$TOKEN" --decisions "$1" --execution-context "ctx-$2"; }

poll_decision 3 0 WorkflowExecutionStarted
decide '[{"decisionType":"ScheduleActivityTask","scheduleActivityTaskDecisionAttributes":{"activityId":"act-1","activityType":{"name":"rc-act","version":"1"},"input":"act-in"}}]' 3

ATOKEN=
for i in $(seq 1 15); do
  out=$(swf poll-for-activity-task --domain "$DOMAIN" --task-list name=$WORKERS --identity awscli-worker \
    --query '[taskToken, activityId, input, startedEventId]' --output text)
  ATOKEN=$(cut -f1 <<<"$out")
  if [ -n "$ATOKEN" ] && [ "$ATOKEN" != None ]; then break; fi
done
[ -n "$ATOKEN" ] && [ "$ATOKEN" != None ] || die "no activity task"
check "activity task" "$(cut -f2- <<<"$out")" "act-1	act-in	6"
check "heartbeat cancelRequested" "$(swf record-activity-task-heartbeat --task-token "$ATOKEN" --details halfway --query cancelRequested --output text)" False
swf respond-activity-task-completed --task-token "$ATOKEN" --result act-out
if err=$(swf respond-activity-task-completed --task-token "$ATOKEN" --result again 2>&1); then
  check "second completion with one token" ok fault
else
  check "second completion fault" "$(grep -o UnknownResourceFault <<<"$err" | head -1)" UnknownResourceFault
fi

poll_decision 9 3 ActivityTaskCompleted
decide '[{"decisionType":"StartTimer","startTimerDecisionAttributes":{"timerId":"t-1","startToFireTimeout":"1","control":"tc"}}]' 9

poll_decision 14 9 TimerFired
decide '[]' 14

swf signal-workflow-execution --domain "$DOMAIN" --workflow-id $WID --run-id "$RUN" --signal-name sig-1 --input sig-in
poll_decision 18 14 WorkflowExecutionSignaled
decide '[]' 18

swf request-cancel-workflow-execution --domain "$DOMAIN" --workflow-id $WID
poll_decision 22 18 WorkflowExecutionCancelRequested
decide '[{"decisionType":"CancelWorkflowExecution","cancelWorkflowExecutionDecisionAttributes":{"details":"bye"}}]' 22

# The CLI pages through the history itself (page size 10: three requests).
hist() { swf get-workflow-execution-history --domain "$DOMAIN" --execution workflowId=$WID,runId="$RUN" --page-size 10 "$@"; }
want="WorkflowExecutionStarted DecisionTaskScheduled DecisionTaskStarted DecisionTaskCompleted ActivityTaskScheduled ActivityTaskStarted ActivityTaskCompleted DecisionTaskScheduled DecisionTaskStarted DecisionTaskCompleted TimerStarted TimerFired DecisionTaskScheduled DecisionTaskStarted DecisionTaskCompleted WorkflowExecutionSignaled DecisionTaskScheduled DecisionTaskStarted DecisionTaskCompleted WorkflowExecutionCancelRequested DecisionTaskScheduled DecisionTaskStarted DecisionTaskCompleted WorkflowExecutionCanceled"
check "history event types" "$(hist --query 'events[].eventType' --output text | tr -s '\t\n' '  ' | sed 's/ $//')" "$want"
check "history event ids" "$(hist --query 'events[].eventId' --output text | tr -s '\t\n' '  ' | sed 's/ $//')" "$(seq -s ' ' 1 24)"
# One unpaged request for the key attributes, each on its own line.
attrs=$(swf get-workflow-execution-history --domain "$DOMAIN" --execution workflowId=$WID,runId="$RUN" --no-paginate --output text --query '[
  join(`,`, [events[0].workflowExecutionStartedEventAttributes.input, events[0].workflowExecutionStartedEventAttributes.taskList.name, events[0].workflowExecutionStartedEventAttributes.childPolicy, events[0].workflowExecutionStartedEventAttributes.executionStartToCloseTimeout]),
  join(`,`, [events[4].activityTaskScheduledEventAttributes.activityId, events[4].activityTaskScheduledEventAttributes.taskList.name, events[4].activityTaskScheduledEventAttributes.heartbeatTimeout, to_string(events[4].activityTaskScheduledEventAttributes.decisionTaskCompletedEventId)]),
  join(`,`, [events[6].activityTaskCompletedEventAttributes.result, to_string(events[6].activityTaskCompletedEventAttributes.scheduledEventId), to_string(events[6].activityTaskCompletedEventAttributes.startedEventId)]),
  join(`,`, [events[9].decisionTaskCompletedEventAttributes.executionContext, to_string(events[9].decisionTaskCompletedEventAttributes.scheduledEventId), to_string(events[9].decisionTaskCompletedEventAttributes.startedEventId)]),
  join(`,`, [events[10].timerStartedEventAttributes.timerId, events[10].timerStartedEventAttributes.startToFireTimeout, events[10].timerStartedEventAttributes.control]),
  join(`,`, [events[11].timerFiredEventAttributes.timerId, to_string(events[11].timerFiredEventAttributes.startedEventId)]),
  join(`,`, [events[15].workflowExecutionSignaledEventAttributes.signalName, events[15].workflowExecutionSignaledEventAttributes.input]),
  join(`,`, [events[23].workflowExecutionCanceledEventAttributes.details, to_string(events[23].workflowExecutionCanceledEventAttributes.decisionTaskCompletedEventId)])
]' | tr '\t' '\n')
check "key attributes" "$attrs" "hello,$DECIDERS,TERMINATE,600
act-1,$WORKERS,30,4
act-out,5,6
ctx-9,8,9
t-1,1,tc
t-1,11
sig-1,sig-in
bye,23"
check "reverse order" "$(swf get-workflow-execution-history --domain "$DOMAIN" --execution workflowId=$WID,runId="$RUN" --reverse-order --no-paginate --maximum-page-size 1 --query "events[0].eventId" --output text)" 24
check "describe" "$(swf describe-workflow-execution --domain "$DOMAIN" --execution workflowId=$WID,runId="$RUN" --query '[executionInfo.executionStatus, executionInfo.closeStatus, latestExecutionContext]' --output text)" "CLOSED	CANCELED	ctx-22"
check "closed list" "$(swf list-closed-workflow-executions --domain "$DOMAIN" --start-time-filter oldestDate=0 --close-status-filter status=CANCELED --query 'executionInfos[].execution.runId' --output text)" "$RUN"

if [ "$fails" -ne 0 ]; then
  echo "awscli: $fails mismatches" >&2
  exit 1
fi
echo "awscli: scenario passed (domain $DOMAIN)"
