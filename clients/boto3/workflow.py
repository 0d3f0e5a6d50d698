#!/usr/bin/env python3
"""The real-client scenario (see ../README.md) driven with boto3.

Point it at a swfd with SWFD_ENDPOINT (e.g. http://127.0.0.1:7733). It
registers a domain and types, starts a workflow, and plays decider and
activity worker itself: activity with heartbeat, a 1 s timer, a signal,
RequestCancelWorkflowExecution and a CancelWorkflowExecution decision. It
then reads the history back (paged) and checks it. Exit status 0 only if
every check passes.
"""
import os
import sys
import time
import uuid

from common import check, fatal, failures, swf

DOMAIN = os.environ.get("SWFD_DOMAIN", "rc-boto3-" + uuid.uuid4().hex[:8])
DECIDERS, WORKERS = "boto3-deciders", "boto3-workers"
WF = {"name": "rc-wf", "version": "1"}
ACT = {"name": "rc-act", "version": "1"}


def types_of(events):
    return [e["eventType"] for e in events]


def poll_decision():
    """Polls until a decision task arrives; returns it with all its pages."""
    deadline = time.time() + 30
    while time.time() < deadline:
        t = swf.poll_for_decision_task(domain=DOMAIN, taskList={"name": DECIDERS}, identity="boto3-decider")
        if t.get("taskToken"):
            events = list(t["events"])
            page = t
            while page.get("nextPageToken"):
                page = swf.poll_for_decision_task(domain=DOMAIN, taskList={"name": DECIDERS},
                                                  identity="boto3-decider", nextPageToken=page["nextPageToken"])
                events += page["events"]
            t["events"] = events
            return t
        check(t.get("startedEventId", 0) == 0, "empty decision poll has startedEventId 0")
    fatal("no decision task within 30s")


def decide(task, decisions):
    swf.respond_decision_task_completed(taskToken=task["taskToken"], decisions=decisions,
                                        executionContext="ctx-%d" % task["startedEventId"])


def expect_task(task, started, prev, tail):
    check(task["startedEventId"] == started, "decision startedEventId %r want %d" % (task["startedEventId"], started))
    check(task.get("previousStartedEventId", 0) == prev,
          "decision previousStartedEventId %r want %d" % (task.get("previousStartedEventId"), prev))
    got = types_of(task["events"])
    check(len(got) == started, "decision task carries %d events, want %d" % (len(got), started))
    check(got[-len(tail):] == tail, "decision task ends %s, want %s" % (got[-len(tail):], tail))
    check(task["workflowType"] == WF, "decision workflowType %r" % task["workflowType"])


def main():
    swf.register_domain(name=DOMAIN, description="boto3 real-client run",
                        workflowExecutionRetentionPeriodInDays="1")
    swf.register_workflow_type(domain=DOMAIN, name=WF["name"], version=WF["version"],
                               defaultTaskList={"name": DECIDERS},
                               defaultExecutionStartToCloseTimeout="600",
                               defaultTaskStartToCloseTimeout="30",
                               defaultChildPolicy="TERMINATE")
    swf.register_activity_type(domain=DOMAIN, name=ACT["name"], version=ACT["version"],
                               defaultTaskList={"name": WORKERS},
                               defaultTaskHeartbeatTimeout="30",
                               defaultTaskScheduleToStartTimeout="60",
                               defaultTaskScheduleToCloseTimeout="120",
                               defaultTaskStartToCloseTimeout="60")
    d = swf.describe_domain(name=DOMAIN)
    check(d["domainInfo"]["status"] == "REGISTERED", "domain status")
    check(d["configuration"]["workflowExecutionRetentionPeriodInDays"] == "1", "domain retention")

    wid = "rc-wf-boto3"
    run_id = swf.start_workflow_execution(domain=DOMAIN, workflowId=wid, workflowType=WF,
                                          input="hello", tagList=["rc", "boto3"])["runId"]
    execution = {"workflowId": wid, "runId": run_id}

    # 1: schedule the activity.
    t = poll_decision()
    expect_task(t, 3, 0, ["WorkflowExecutionStarted", "DecisionTaskScheduled", "DecisionTaskStarted"])
    check(t["workflowExecution"] == execution, "decision workflowExecution")
    check(t["events"][0]["workflowExecutionStartedEventAttributes"]["input"] == "hello", "start input")
    decide(t, [{"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": {
        "activityId": "act-1", "activityType": ACT, "input": "act-in"}}])

    # The activity, with a heartbeat.
    a = None
    for _ in range(15):
        a = swf.poll_for_activity_task(domain=DOMAIN, taskList={"name": WORKERS}, identity="boto3-worker")
        if a.get("taskToken"):
            break
    if not a or not a.get("taskToken"):
        fatal("no activity task")
    check(a["activityId"] == "act-1" and a["input"] == "act-in" and a["startedEventId"] == 6,
          "activity task %r" % {k: a.get(k) for k in ("activityId", "input", "startedEventId")})
    check(a["activityType"] == ACT and a["workflowExecution"] == execution, "activity task type/execution")
    hb = swf.record_activity_task_heartbeat(taskToken=a["taskToken"], details="halfway")
    check(hb["cancelRequested"] is False, "heartbeat cancelRequested %r" % hb.get("cancelRequested"))
    swf.respond_activity_task_completed(taskToken=a["taskToken"], result="act-out")
    try:
        swf.respond_activity_task_completed(taskToken=a["taskToken"], result="again")
        check(False, "a completed activity's token worked twice")
    except swf.exceptions.UnknownResourceFault:
        pass

    # 2: start a 1 s timer.
    t = poll_decision()
    expect_task(t, 9, 3, ["ActivityTaskCompleted", "DecisionTaskScheduled", "DecisionTaskStarted"])
    decide(t, [{"decisionType": "StartTimer", "startTimerDecisionAttributes": {
        "timerId": "t-1", "startToFireTimeout": "1", "control": "tc"}}])

    # 3: the timer fired; nothing to decide.
    t = poll_decision()
    expect_task(t, 14, 9, ["TimerFired", "DecisionTaskScheduled", "DecisionTaskStarted"])
    decide(t, [])

    # 4: a signal.
    swf.signal_workflow_execution(domain=DOMAIN, workflowId=wid, runId=run_id, signalName="sig-1", input="sig-in")
    t = poll_decision()
    expect_task(t, 18, 14, ["WorkflowExecutionSignaled", "DecisionTaskScheduled", "DecisionTaskStarted"])
    decide(t, [])

    # 5: a cancel request, answered by canceling.
    swf.request_cancel_workflow_execution(domain=DOMAIN, workflowId=wid)
    t = poll_decision()
    expect_task(t, 22, 18, ["WorkflowExecutionCancelRequested", "DecisionTaskScheduled", "DecisionTaskStarted"])
    decide(t, [{"decisionType": "CancelWorkflowExecution",
                "cancelWorkflowExecutionDecisionAttributes": {"details": "bye"}}])

    # Read the history back, ten events a page.
    events, token, pages = [], None, 0
    while True:
        kw = {"nextPageToken": token} if token else {}
        page = swf.get_workflow_execution_history(domain=DOMAIN, execution=execution, maximumPageSize=10, **kw)
        pages += 1
        events += page["events"]
        token = page.get("nextPageToken")
        if not token:
            break
    check(pages == 3, "history took %d pages of 10, want 3" % pages)
    verify_history(events)
    rev = swf.get_workflow_execution_history(domain=DOMAIN, execution=execution, reverseOrder=True, maximumPageSize=1)
    check(rev["events"][0]["eventId"] == 24, "reverse history starts at %r" % rev["events"][0]["eventId"])

    desc = swf.describe_workflow_execution(domain=DOMAIN, execution=execution)
    info = desc["executionInfo"]
    check(info["executionStatus"] == "CLOSED" and info.get("closeStatus") == "CANCELED",
          "describe status %s/%s" % (info["executionStatus"], info.get("closeStatus")))
    check(desc["latestExecutionContext"] == "ctx-22", "latestExecutionContext %r" % desc.get("latestExecutionContext"))
    closed = swf.list_closed_workflow_executions(domain=DOMAIN, startTimeFilter={"oldestDate": 0},
                                                 closeStatusFilter={"status": "CANCELED"})
    check([e["execution"] for e in closed["executionInfos"]] == [execution], "closed list %r" % closed["executionInfos"])


WANT = ["WorkflowExecutionStarted", "DecisionTaskScheduled", "DecisionTaskStarted", "DecisionTaskCompleted",
        "ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted",
        "DecisionTaskScheduled", "DecisionTaskStarted", "DecisionTaskCompleted",
        "TimerStarted", "TimerFired",
        "DecisionTaskScheduled", "DecisionTaskStarted", "DecisionTaskCompleted",
        "WorkflowExecutionSignaled",
        "DecisionTaskScheduled", "DecisionTaskStarted", "DecisionTaskCompleted",
        "WorkflowExecutionCancelRequested",
        "DecisionTaskScheduled", "DecisionTaskStarted", "DecisionTaskCompleted",
        "WorkflowExecutionCanceled"]


def verify_history(ev):
    got = types_of(ev)
    if not check(got == WANT, "history event types:\n got %s\nwant %s" % (got, WANT)):
        return
    check([e["eventId"] for e in ev] == list(range(1, 25)), "event ids not 1..24")
    ts = [e["eventTimestamp"] for e in ev]
    check(ts == sorted(ts), "timestamps go backwards")
    a = lambda i, k: ev[i - 1][k]  # noqa: E731
    s = a(1, "workflowExecutionStartedEventAttributes")
    check(s["input"] == "hello" and s["taskList"]["name"] == DECIDERS and s["childPolicy"] == "TERMINATE"
          and s["executionStartToCloseTimeout"] == "600" and s["tagList"] == ["rc", "boto3"], "WorkflowExecutionStarted %r" % s)
    s = a(5, "activityTaskScheduledEventAttributes")
    check(s["activityId"] == "act-1" and s["activityType"] == ACT and s["taskList"]["name"] == WORKERS
          and s["heartbeatTimeout"] == "30" and s["decisionTaskCompletedEventId"] == 4, "ActivityTaskScheduled %r" % s)
    s = a(6, "activityTaskStartedEventAttributes")
    check(s["identity"] == "boto3-worker" and s["scheduledEventId"] == 5, "ActivityTaskStarted %r" % s)
    s = a(7, "activityTaskCompletedEventAttributes")
    check(s["result"] == "act-out" and s["scheduledEventId"] == 5 and s["startedEventId"] == 6, "ActivityTaskCompleted %r" % s)
    s = a(10, "decisionTaskCompletedEventAttributes")
    check(s["executionContext"] == "ctx-9" and s["scheduledEventId"] == 8 and s["startedEventId"] == 9, "DecisionTaskCompleted %r" % s)
    s = a(11, "timerStartedEventAttributes")
    check(s["timerId"] == "t-1" and s["startToFireTimeout"] == "1" and s["control"] == "tc" and s["decisionTaskCompletedEventId"] == 10,
          "TimerStarted %r" % s)
    s = a(12, "timerFiredEventAttributes")
    check(s["timerId"] == "t-1" and s["startedEventId"] == 11, "TimerFired %r" % s)
    check((ev[11]["eventTimestamp"] - ev[10]["eventTimestamp"]).total_seconds() >= 0.9, "timer fired early")
    s = a(16, "workflowExecutionSignaledEventAttributes")
    check(s["signalName"] == "sig-1" and s["input"] == "sig-in", "WorkflowExecutionSignaled %r" % s)
    s = a(20, "workflowExecutionCancelRequestedEventAttributes")
    check("externalWorkflowExecution" not in s and "cause" not in s, "WorkflowExecutionCancelRequested %r" % s)
    s = a(24, "workflowExecutionCanceledEventAttributes")
    check(s["details"] == "bye" and s["decisionTaskCompletedEventId"] == 23, "WorkflowExecutionCanceled %r" % s)


if __name__ == "__main__":
    main()
    if failures:
        print("boto3: %d mismatches" % len(failures), file=sys.stderr)
        sys.exit(1)
    print("boto3: scenario passed (domain %s)" % DOMAIN)
