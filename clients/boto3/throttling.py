#!/usr/bin/env python3
"""boto3 with its default retries through SWF's throttling.

Point it at a swfd started with --quotas clients/boto3/quotas.json (one
token per bucket, refilled 20 times a second, for the calls a workflow
makes), as clients/boto3/throttling.sh does. It checks that a throttled call
is answered as the real service answers it (HTTP 400, ThrottlingException,
"Rate exceeded"), then starts five workflows back to back and plays decider
and worker until each has run an activity and completed: boto3's standard
retries must back off and retry every ThrottlingException, so every call
succeeds, and at least one must have been throttled on the way. Exit status
0 only if every check passes.
"""
import os
import sys
import time
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from common import ENDPOINT, check, fatal, failures

DOMAIN = os.environ.get("SWFD_DOMAIN", "rc-boto3-throttling-" + uuid.uuid4().hex[:8])
DECIDERS, WORKERS = "throttled-deciders", "throttled-workers"
WF = {"name": "throttled-wf", "version": "1"}
ACT = {"name": "throttled-act", "version": "1"}
WORKFLOWS = 5

# boto3's defaults: no retries setting, so the retry mode and attempts are
# botocore's own (or what AWS_RETRY_MODE / AWS_MAX_ATTEMPTS say).
swf = boto3.client("swf", endpoint_url=ENDPOINT, region_name="us-east-1",
                   aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                   config=Config(read_timeout=70))

# One attempt per call, to see a throttled answer as it is.
no_retry = boto3.client("swf", endpoint_url=ENDPOINT, region_name="us-east-1",
                        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                        config=Config(read_timeout=70, retries={"total_max_attempts": 1}))

throttled = {}


def count_throttles(response=None, operation=None, **_):
    """Counts each attempt answered ThrottlingException (botocore asks this
    event whether to retry; returning None leaves the decision to it)."""
    if response is not None:
        http, parsed = response
        if parsed.get("Error", {}).get("Code") == "ThrottlingException":
            check(http.status_code == 400, "throttled attempt answered HTTP %d" % http.status_code)
            name = operation.name if operation is not None else "?"
            throttled[name] = throttled.get(name, 0) + 1
    return None


swf.meta.events.register("needs-retry.swf", count_throttles)


def main():
    no_retry.register_domain(name=DOMAIN, workflowExecutionRetentionPeriodInDays="1")
    no_retry.register_workflow_type(domain=DOMAIN, name=WF["name"], version=WF["version"],
                                    defaultTaskList={"name": DECIDERS},
                                    defaultExecutionStartToCloseTimeout="600",
                                    defaultTaskStartToCloseTimeout="30",
                                    defaultChildPolicy="TERMINATE")
    no_retry.register_activity_type(domain=DOMAIN, name=ACT["name"], version=ACT["version"],
                                    defaultTaskList={"name": WORKERS},
                                    defaultTaskHeartbeatTimeout="NONE",
                                    defaultTaskScheduleToStartTimeout="NONE",
                                    defaultTaskScheduleToCloseTimeout="NONE",
                                    defaultTaskStartToCloseTimeout="60")

    # The answer to a throttled call, as a client without retries sees it:
    # the second of two starts at once finds the bucket empty, and starts
    # nothing.
    errors, runs = [], {}
    for wid in ("probe-1", "probe-2", "probe-3"):
        try:
            runs[wid] = no_retry.start_workflow_execution(domain=DOMAIN, workflowId=wid, workflowType=WF)["runId"]
        except ClientError as e:
            errors.append((wid, e))
    if check(errors, "three starts at once were never throttled (bucket of 1, 20 a second)"):
        wid, e = errors[0]
        err, meta = e.response["Error"], e.response["ResponseMetadata"]
        check(err["Code"] == "ThrottlingException", "throttled code %r" % err["Code"])
        check(err["Message"] == "Rate exceeded", "throttled message %r" % err["Message"])
        check(meta["HTTPStatusCode"] == 400, "throttled status %r" % meta["HTTPStatusCode"])
        check(meta["HTTPHeaders"].get("x-amzn-errortype", "").startswith("ThrottlingException"),
              "throttled x-amzn-ErrorType %r" % meta["HTTPHeaders"].get("x-amzn-errortype"))
        opened = no_retry.count_open_workflow_executions(domain=DOMAIN, startTimeFilter={"oldestDate": 0},
                                                         executionFilter={"workflowId": wid})
        check(opened["count"] == 0, "a throttled start opened %s" % wid)

    # Five workflows started back to back, then decided and worked: every
    # call goes through boto3's default retries.
    for i in range(WORKFLOWS):
        wid = "throttled-%d" % i
        runs[wid] = swf.start_workflow_execution(domain=DOMAIN, workflowId=wid, workflowType=WF, input=wid)["runId"]
    done, pending = set(), 0  # pending: activities scheduled and not yet taken
    deadline = time.time() + 120
    while len(done) < len(runs) and time.time() < deadline:
        t = swf.poll_for_decision_task(domain=DOMAIN, taskList={"name": DECIDERS}, identity="decider")
        if t.get("taskToken"):
            wid = t["workflowExecution"]["workflowId"]
            kinds = [e["eventType"] for e in t["events"]]
            if "ActivityTaskCompleted" in kinds:
                decisions = [{"decisionType": "CompleteWorkflowExecution",
                              "completeWorkflowExecutionDecisionAttributes": {"result": wid}}]
                done.add(wid)
            else:
                decisions = [{"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": {
                    "activityId": "a-" + wid, "activityType": ACT, "input": wid}}]
                pending += 1
            swf.respond_decision_task_completed(taskToken=t["taskToken"], decisions=decisions)
        if not pending:
            continue
        a = swf.poll_for_activity_task(domain=DOMAIN, taskList={"name": WORKERS}, identity="worker")
        if a.get("taskToken"):
            pending -= 1
            swf.respond_activity_task_completed(taskToken=a["taskToken"], result="done-" + a["input"])
    if len(done) < len(runs):
        fatal("only %d of %d workflows completed within 120 s" % (len(done), len(runs)))
    for wid, run_id in runs.items():
        d = no_retry.describe_workflow_execution(domain=DOMAIN, execution={"workflowId": wid, "runId": run_id})
        info = d["executionInfo"]
        check(info["executionStatus"] == "CLOSED" and info.get("closeStatus") == "COMPLETED",
              "%s ended %s/%s" % (wid, info["executionStatus"], info.get("closeStatus")))
        h = no_retry.get_workflow_execution_history(domain=DOMAIN, execution={"workflowId": wid, "runId": run_id})
        kinds = [e["eventType"] for e in h["events"]]
        check(kinds.count("ActivityTaskScheduled") == 1 and kinds.count("ActivityTaskCompleted") == 1
              and kinds.count("WorkflowExecutionCompleted") == 1,
              "%s: a retried call happened twice or not at all: %s" % (wid, kinds))
    check(sum(throttled.values()) > 0, "boto3's retried calls never met ThrottlingException")


if __name__ == "__main__":
    main()
    if failures:
        print("boto3 throttling: %d mismatches" % len(failures), file=sys.stderr)
        sys.exit(1)
    print("boto3 throttling: workflows completed through %d throttled attempts %s (domain %s)"
          % (sum(throttled.values()), dict(sorted(throttled.items())), DOMAIN))
