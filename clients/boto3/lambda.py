#!/usr/bin/env python3
"""Lambda tasks through boto3, against a swfd started with --lambda-endpoint
pointing at clients/boto3/lambda_stub.py (see lambda.sh).

A decider schedules three functions: one that returns its input, one that
fails as a function does, and one that does not exist. Checked: the events
boto3 hands back (every member the model has for them, and none that was not
given), the outcome of each, and what the endpoint saw: each function asked
about with a DryRun first, and invoked at most once. SWFD_ENDPOINT names
swfd and LAMBDA_STUB the stub. Exit status 0 only if every check passes.
"""
import json
import os
import sys
import time
import urllib.request
import uuid

from common import check, fatal, failures, swf

DOMAIN = "rc-lambda-" + uuid.uuid4().hex[:8]
DECIDERS = "lambda-deciders"
ROLE = "arn:aws:iam::123456789012:role/swf-lambda"


def poll_decision():
    deadline = time.time() + 30
    while time.time() < deadline:
        t = swf.poll_for_decision_task(domain=DOMAIN, taskList={"name": DECIDERS}, identity="lambda-decider")
        if t.get("taskToken"):
            return t
    fatal("no decision task within 30s")


def attrs(e):
    key = e["eventType"][0].lower() + e["eventType"][1:] + "EventAttributes"
    return e.get(key)


def main():
    swf.register_domain(name=DOMAIN, workflowExecutionRetentionPeriodInDays="1")
    swf.register_workflow_type(domain=DOMAIN, name="lambda-wf", version="1", defaultTaskList={"name": DECIDERS},
                               defaultExecutionStartToCloseTimeout="600", defaultTaskStartToCloseTimeout="60",
                               defaultChildPolicy="TERMINATE")
    run = swf.start_workflow_execution(domain=DOMAIN, workflowId="lambda-1", workflowType={"name": "lambda-wf", "version": "1"},
                                       lambdaRole=ROLE)
    execution = {"workflowId": "lambda-1", "runId": run["runId"]}
    d = poll_decision()
    swf.respond_decision_task_completed(taskToken=d["taskToken"], decisions=[
        {"decisionType": "ScheduleLambdaFunction",
         "scheduleLambdaFunctionDecisionAttributes": {"id": "e1", "name": "echo", "input": '{"n":1}', "control": "c-e1"}},
        {"decisionType": "ScheduleLambdaFunction",
         "scheduleLambdaFunctionDecisionAttributes": {"id": "b1", "name": "boom", "startToCloseTimeout": "60"}},
        {"decisionType": "ScheduleLambdaFunction",
         "scheduleLambdaFunctionDecisionAttributes": {"id": "m1", "name": "missing"}},
    ])

    # Decide (nothing) until the three have ended, then complete.
    want = {"LambdaFunctionCompleted", "LambdaFunctionFailed", "StartLambdaFunctionFailed"}
    events = []
    deadline = time.time() + 60
    while time.time() < deadline:
        d = poll_decision()
        events = d["events"]
        seen = {e["eventType"] for e in events}
        if want <= seen:
            swf.respond_decision_task_completed(taskToken=d["taskToken"], decisions=[
                {"decisionType": "CompleteWorkflowExecution", "completeWorkflowExecutionDecisionAttributes": {"result": "done"}}])
            break
        swf.respond_decision_task_completed(taskToken=d["taskToken"], decisions=[])
    else:
        fatal("the Lambda tasks did not end within 60s: %s" % [e["eventType"] for e in events])

    by_type = {}
    for e in events:
        by_type.setdefault(e["eventType"], []).append(e)
    sched = {attrs(e)["id"]: e for e in by_type["LambdaFunctionScheduled"]}
    check(set(sched) == {"e1", "b1", "m1"}, "LambdaFunctionScheduled for e1, b1 and m1: %s" % sorted(sched))
    dtc = by_type["DecisionTaskCompleted"][0]["eventId"]
    # Scheduled: the decision's members, startToCloseTimeout resolved (900
    # seconds when the decision gives none), control and input only when given.
    a = attrs(sched["e1"])
    check(a == {"id": "e1", "name": "echo", "input": '{"n":1}', "control": "c-e1", "startToCloseTimeout": "900",
                "decisionTaskCompletedEventId": dtc}, "LambdaFunctionScheduled e1: %s" % a)
    a = attrs(sched["b1"])
    check(a == {"id": "b1", "name": "boom", "startToCloseTimeout": "60", "decisionTaskCompletedEventId": dtc},
          "LambdaFunctionScheduled b1 (no input, no control): %s" % a)
    started = {attrs(e)["scheduledEventId"]: e for e in by_type.get("LambdaFunctionStarted", [])}
    for lid in ("e1", "b1"):
        sid = sched[lid]["eventId"]
        check(sid in started and attrs(started[sid]) == {"scheduledEventId": sid},
              "LambdaFunctionStarted for %s: %s" % (lid, started.get(sid)))
    check(sched["m1"]["eventId"] not in started, "the missing function was started")

    e1, b1, m1 = (sched[k]["eventId"] for k in ("e1", "b1", "m1"))
    a = attrs(by_type["LambdaFunctionCompleted"][0])
    check(a == {"scheduledEventId": e1, "startedEventId": started[e1]["eventId"], "result": '{"n":1}'},
          "LambdaFunctionCompleted: %s" % a)
    a = attrs(by_type["LambdaFunctionFailed"][0])
    check(a.get("scheduledEventId") == b1 and a.get("startedEventId") == started[b1]["eventId"] and a.get("reason") == "ValueError"
          and json.loads(a.get("details", "{}")).get("errorMessage") == "boom" and set(a) == {"scheduledEventId", "startedEventId", "reason", "details"},
          "LambdaFunctionFailed: %s" % a)
    a = attrs(by_type["StartLambdaFunctionFailed"][0])
    check(a.get("scheduledEventId") == m1 and a.get("cause") == "ASSUME_ROLE_FAILED" and "missing" in a.get("message", "")
          and set(a) == {"scheduledEventId", "cause", "message"}, "StartLambdaFunctionFailed: %s" % a)

    # The whole history says the same, and the run is closed.
    hist = swf.get_workflow_execution_history(domain=DOMAIN, execution=execution)["events"]
    check([e for e in hist if e["eventType"].startswith(("Lambda", "StartLambda"))] ==
          [e for e in events if e["eventType"].startswith(("Lambda", "StartLambda"))], "history and decision task disagree on the Lambda events")
    desc = swf.describe_workflow_execution(domain=DOMAIN, execution=execution)
    check(desc["executionInfo"]["executionStatus"] == "CLOSED" and desc["openCounts"]["openLambdaFunctions"] == 0,
          "after the run: %s, open counts %s" % (desc["executionInfo"]["executionStatus"], desc["openCounts"]))

    # The endpoint: a DryRun before each invocation, each function invoked at most once.
    calls = json.load(urllib.request.urlopen(os.environ["LAMBDA_STUB"] + "/calls"))
    for name, invoked in (("echo", 1), ("boom", 1), ("missing", 0)):
        mine = [kind for n, kind in calls if n == name]
        check(mine == ["DryRun"] + ["RequestResponse"] * invoked, "the endpoint saw %s: %s" % (name, mine))

    if failures:
        print("%d mismatches" % len(failures), file=sys.stderr)
        sys.exit(1)
    print("lambda: all checks passed")


if __name__ == "__main__":
    main()
