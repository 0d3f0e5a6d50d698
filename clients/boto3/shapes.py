#!/usr/bin/env python3
"""Wire shapes that SWF frameworks depend on, checked through boto3.

boto3 hands back the JSON swfd sent as dicts, so a member that is missing
and a member that holds a zero value can be told apart — which is exactly
what frameworks written against the real service trip on. Each check below
is one difference a framework found; the comment on each says what the
real service sends. Point it at a swfd with SWFD_ENDPOINT. Exit status 0
only if every check passes.
"""
import os
import sys
import time
import uuid

from common import check, fatal, failures, swf

DOMAIN = os.environ.get("SWFD_DOMAIN", "rc-shapes-" + uuid.uuid4().hex[:8])
DECIDERS = "shapes-deciders"
WF = {"name": "shapes-wf", "version": "1"}
ACT = {"name": "shapes-act", "version": "1"}


def poll_decision(task_list=DECIDERS):
    deadline = time.time() + 30
    while time.time() < deadline:
        t = swf.poll_for_decision_task(domain=DOMAIN, taskList={"name": task_list}, identity="shapes-decider")
        if t.get("taskToken"):
            events = list(t["events"])
            page = t
            while page.get("nextPageToken"):
                page = swf.poll_for_decision_task(domain=DOMAIN, taskList={"name": task_list},
                                                  identity="shapes-decider", nextPageToken=page["nextPageToken"])
                events += page["events"]
            t["events"] = events
            return t
    fatal("no decision task on %s within 30s" % task_list)


def history(execution):
    events, token = [], None
    while True:
        kw = {"nextPageToken": token} if token else {}
        page = swf.get_workflow_execution_history(domain=DOMAIN, execution=execution, **kw)
        events += page["events"]
        token = page.get("nextPageToken")
        if not token:
            return events


def last_of(events, event_type):
    for e in reversed(events):
        if e["eventType"] == event_type:
            return e
    fatal("no %s event" % event_type)


def attrs(e):
    key = e["eventType"][0].lower() + e["eventType"][1:] + "EventAttributes"
    return e.get(key, {})


def start(wid, **kw):
    run_id = swf.start_workflow_execution(domain=DOMAIN, workflowId=wid, workflowType=WF, **kw)["runId"]
    return {"workflowId": wid, "runId": run_id}


def priorities_and_timeouts():
    """No taskPriority unless one was set; DecisionTaskScheduled says NONE."""
    ex = start("no-priority")
    t = poll_decision()
    started = attrs(t["events"][0])
    check("taskPriority" not in started, "WorkflowExecutionStarted carries taskPriority %r" % started.get("taskPriority"))
    sched = attrs(t["events"][1])
    check("taskPriority" not in sched, "DecisionTaskScheduled carries taskPriority %r" % sched.get("taskPriority"))
    check(sched.get("scheduleToStartTimeout") == "NONE",
          "DecisionTaskScheduled scheduleToStartTimeout %r, want 'NONE'" % sched.get("scheduleToStartTimeout"))
    conf = swf.describe_workflow_execution(domain=DOMAIN, execution=ex)["executionConfiguration"]
    check("taskPriority" not in conf, "executionConfiguration carries taskPriority %r" % conf.get("taskPriority"))
    # A priority that was set is still echoed.
    ex2 = start("with-priority", taskPriority="7", taskList={"name": "prio-deciders"})
    conf = swf.describe_workflow_execution(domain=DOMAIN, execution=ex2)["executionConfiguration"]
    check(conf.get("taskPriority") == "7", "a set taskPriority is %r, want '7'" % conf.get("taskPriority"))
    return ex, t


def external_initiated_zero(ex, t):
    """A signal or cancel request from the API says externalInitiatedEventId 0."""
    swf.respond_decision_task_completed(taskToken=t["taskToken"], decisions=[])
    swf.signal_workflow_execution(domain=DOMAIN, workflowId=ex["workflowId"], runId=ex["runId"], signalName="s")
    swf.request_cancel_workflow_execution(domain=DOMAIN, workflowId=ex["workflowId"], runId=ex["runId"])
    t = poll_decision()
    sig = attrs(last_of(t["events"], "WorkflowExecutionSignaled"))
    check(sig.get("externalInitiatedEventId") == 0,
          "WorkflowExecutionSignaled %r lacks externalInitiatedEventId 0" % sig)
    req = attrs(last_of(t["events"], "WorkflowExecutionCancelRequested"))
    check(req == {"externalInitiatedEventId": 0},
          "WorkflowExecutionCancelRequested attributes %r, want {'externalInitiatedEventId': 0}" % req)
    return t


def counts_truncated():
    """Every count says whether it was truncated."""
    answers = {
        "CountPendingDecisionTasks": swf.count_pending_decision_tasks(domain=DOMAIN, taskList={"name": DECIDERS}),
        "CountPendingActivityTasks": swf.count_pending_activity_tasks(domain=DOMAIN, taskList={"name": "nobody"}),
        "CountOpenWorkflowExecutions": swf.count_open_workflow_executions(domain=DOMAIN, startTimeFilter={"oldestDate": 0}),
        "CountClosedWorkflowExecutions": swf.count_closed_workflow_executions(domain=DOMAIN, startTimeFilter={"oldestDate": 0}),
    }
    for op, out in answers.items():
        check(out.get("truncated") is False, "%s answered truncated=%r, want False" % (op, out.get("truncated")))
        check(isinstance(out.get("count"), int), "%s answered count=%r" % (op, out.get("count")))


def child_ids():
    """Children named the way the Flow frameworks name them by default."""
    parent = start("parent", taskList={"name": "parents"})
    t = poll_decision("parents")
    ids = [parent["runId"] + ":1", "x/y+z=:2"]
    swf.respond_decision_task_completed(taskToken=t["taskToken"], decisions=[
        {"decisionType": "StartChildWorkflowExecution", "startChildWorkflowExecutionDecisionAttributes": {
            "workflowType": WF, "workflowId": cid, "taskList": {"name": "children"}}} for cid in ids])
    # Each child's start schedules a decision task of its own, so the first
    # one may come before the second child has started: answer with no
    # decisions and take the next, until both are in the history.
    deadline = time.time() + 30
    while True:
        t = poll_decision("parents")
        got = [attrs(e)["workflowExecution"]["workflowId"] for e in t["events"]
               if e["eventType"] == "ChildWorkflowExecutionStarted"]
        if len(got) >= len(ids) or time.time() > deadline:
            break
        swf.respond_decision_task_completed(taskToken=t["taskToken"], decisions=[])
    check(sorted(got) == sorted(ids), "children started %r, want %r" % (got, ids))
    bad = [attrs(e) for e in t["events"] if e["eventType"] == "StartChildWorkflowExecutionFailed"]
    check(not bad, "StartChildWorkflowExecutionFailed %r" % bad)
    # Every call that names an execution by its workflowId takes these ids.
    for cid in ids:
        listed = swf.list_open_workflow_executions(domain=DOMAIN, startTimeFilter={"oldestDate": 0},
                                                   executionFilter={"workflowId": cid})["executionInfos"]
        if not check(len(listed) == 1, "list by workflowId %r found %d" % (cid, len(listed))):
            continue
        ex = listed[0]["execution"]
        swf.describe_workflow_execution(domain=DOMAIN, execution=ex)
        swf.signal_workflow_execution(domain=DOMAIN, workflowId=cid, signalName="hello")
        swf.request_cancel_workflow_execution(domain=DOMAIN, workflowId=cid)
        swf.terminate_workflow_execution(domain=DOMAIN, workflowId=cid, childPolicy="ABANDON")
        info = swf.describe_workflow_execution(domain=DOMAIN, execution=ex)["executionInfo"]
        check(info.get("closeStatus") == "TERMINATED", "child %r closed as %r" % (cid, info.get("closeStatus")))
    swf.terminate_workflow_execution(domain=DOMAIN, workflowId=parent["workflowId"])


def fault(fn, **kw):
    try:
        fn(**kw)
    except swf.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    return None, None


def closed_run_tokens():
    """A genuine token whose run has closed names the execution."""
    ex = start("closes", taskList={"name": "closing"})
    t = poll_decision("closing")
    swf.respond_decision_task_completed(taskToken=t["taskToken"], decisions=[
        {"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": {
            "activityId": "a1", "activityType": ACT, "taskList": {"name": "closing-work"},
            "scheduleToCloseTimeout": "NONE", "scheduleToStartTimeout": "NONE",
            "startToCloseTimeout": "NONE", "heartbeatTimeout": "NONE"}},
        {"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": {
            "activityId": "a2", "activityType": ACT, "taskList": {"name": "closing-work"},
            "scheduleToCloseTimeout": "NONE", "scheduleToStartTimeout": "NONE",
            "startToCloseTimeout": "NONE", "heartbeatTimeout": "NONE"}}])
    tasks = [swf.poll_for_activity_task(domain=DOMAIN, taskList={"name": "closing-work"}) for _ in range(2)]
    check(all(a.get("taskToken") for a in tasks), "two activity tasks")
    # An activity that closed while its run is open stays "Unknown activity".
    swf.respond_activity_task_completed(taskToken=tasks[0]["taskToken"], result="done")
    code, msg = fault(swf.respond_activity_task_completed, taskToken=tasks[0]["taskToken"])
    check(code == "UnknownResourceFault" and msg.startswith("Unknown activity"),
          "second completion of an activity of an open run: %s %r" % (code, msg))
    t = poll_decision("closing")
    swf.terminate_workflow_execution(domain=DOMAIN, workflowId=ex["workflowId"], runId=ex["runId"])
    want = "Unknown execution: WorkflowExecution=[workflowId=%s, runId=%s]" % (ex["workflowId"], ex["runId"])
    tok = tasks[1]["taskToken"]
    for name, fn, kw in [
        ("RespondActivityTaskCompleted", swf.respond_activity_task_completed, {"taskToken": tok}),
        ("RespondActivityTaskFailed", swf.respond_activity_task_failed, {"taskToken": tok}),
        ("RespondActivityTaskCanceled", swf.respond_activity_task_canceled, {"taskToken": tok}),
        ("RecordActivityTaskHeartbeat", swf.record_activity_task_heartbeat, {"taskToken": tok}),
        ("RespondDecisionTaskCompleted", swf.respond_decision_task_completed, {"taskToken": t["taskToken"]}),
    ]:
        code, msg = fault(fn, **kw)
        check(code == "UnknownResourceFault" and msg == want,
              "%s on a closed run's task: %s %r, want UnknownResourceFault %r" % (name, code, msg, want))


def history_pages():
    """Without maximumPageSize a history comes 100 events a page."""
    ex = start("long", taskList={"name": "long"})
    for i in range(129):
        swf.signal_workflow_execution(domain=DOMAIN, workflowId=ex["workflowId"], runId=ex["runId"], signalName="s%d" % i)
    # Started, DecisionTaskScheduled, 129 signals: 131 events.
    page = swf.get_workflow_execution_history(domain=DOMAIN, execution=ex)
    check(len(page["events"]) == 100 and page.get("nextPageToken"),
          "a 131-event history's first page: %d events, token %r" % (len(page["events"]), bool(page.get("nextPageToken"))))
    rest = swf.get_workflow_execution_history(domain=DOMAIN, execution=ex, nextPageToken=page["nextPageToken"])
    check([e["eventId"] for e in rest["events"]] == list(range(101, 132)) and not rest.get("nextPageToken"),
          "the second page: %r" % [e["eventId"] for e in rest["events"]])
    t = swf.poll_for_decision_task(domain=DOMAIN, taskList={"name": "long"})
    check(len(t.get("events", [])) == 100 and t.get("nextPageToken"),
          "a decision task's first page: %d events" % len(t.get("events", [])))
    t2 = swf.poll_for_decision_task(domain=DOMAIN, taskList={"name": "long"}, nextPageToken=t["nextPageToken"])
    check([e["eventId"] for e in t2["events"]] == list(range(101, 133)),
          "the decision task's second page: %r" % [e["eventId"] for e in t2["events"]][:5])
    swf.terminate_workflow_execution(domain=DOMAIN, workflowId=ex["workflowId"])


def empty_strings():
    """An optional string given empty is echoed empty; one not given is absent."""
    ex = start("empties", taskList={"name": "empties"}, input="")
    t = poll_decision("empties")
    st = attrs(t["events"][0])
    check(st.get("input") == "", "WorkflowExecutionStarted input %r, want ''" % st.get("input"))
    swf.respond_decision_task_completed(taskToken=t["taskToken"], executionContext="ctx", decisions=[
        {"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": {
            "activityId": "e1", "activityType": ACT, "taskList": {"name": "empties-work"}, "input": "", "control": "",
            "scheduleToCloseTimeout": "NONE", "scheduleToStartTimeout": "NONE",
            "startToCloseTimeout": "NONE", "heartbeatTimeout": "NONE"}},
        {"decisionType": "StartTimer", "startTimerDecisionAttributes": {"timerId": "t", "startToFireTimeout": "600"}},
        {"decisionType": "StartChildWorkflowExecution", "startChildWorkflowExecutionDecisionAttributes": {
            "workflowType": WF, "workflowId": "empties-child", "taskList": {"name": "empties-child"}, "input": ""}}])
    a = swf.poll_for_activity_task(domain=DOMAIN, taskList={"name": "empties-work"})
    check(a.get("input") == "", "activity task input %r, want ''" % a.get("input"))
    swf.respond_activity_task_completed(taskToken=a["taskToken"], result="")
    swf.signal_workflow_execution(domain=DOMAIN, workflowId=ex["workflowId"], signalName="s", input="")
    # The child cancels itself with details "".
    c = poll_decision("empties-child")
    check(attrs(c["events"][0]).get("input") == "", "the child's input %r, want ''" % attrs(c["events"][0]).get("input"))
    swf.respond_decision_task_completed(taskToken=c["taskToken"], decisions=[
        {"decisionType": "CancelWorkflowExecution", "cancelWorkflowExecutionDecisionAttributes": {"details": ""}}])
    waited = 0
    while True:
        t = poll_decision("empties")
        names = [e["eventType"] for e in t["events"]]
        if "ChildWorkflowExecutionCanceled" in names or waited > 5:
            break
        swf.respond_decision_task_completed(taskToken=t["taskToken"], decisions=[])
        waited += 1
    ev = {e["eventType"]: attrs(e) for e in t["events"]}
    for et, key in [("ActivityTaskScheduled", "input"),
                    ("ActivityTaskScheduled", "control"), ("ActivityTaskCompleted", "result"),
                    ("WorkflowExecutionSignaled", "input"), ("StartChildWorkflowExecutionInitiated", "input"),
                    ("ChildWorkflowExecutionCanceled", "details")]:
        got = ev.get(et, {})
        check(got.get(key) == "", "%s %s is %r, want ''" % (et, key, got.get(key)))
    check("control" not in ev.get("TimerStarted", {}), "TimerStarted carries control %r though none was given" % ev.get("TimerStarted"))
    desc = swf.describe_workflow_execution(domain=DOMAIN, execution=ex)
    check(desc.get("latestExecutionContext") == "ctx", "latestExecutionContext %r, want 'ctx'" % desc.get("latestExecutionContext"))
    # An empty executionContext replaces the last one; then the run cancels with details "".
    swf.respond_decision_task_completed(taskToken=t["taskToken"], executionContext="", decisions=[
        {"decisionType": "CancelWorkflowExecution", "cancelWorkflowExecutionDecisionAttributes": {"details": ""}}])
    desc = swf.describe_workflow_execution(domain=DOMAIN, execution=ex)
    check(desc.get("latestExecutionContext") == "", "latestExecutionContext %r after an empty one, want ''" % desc.get("latestExecutionContext"))
    evs = history(ex)
    done = attrs(last_of(evs, "DecisionTaskCompleted"))
    check(done.get("executionContext") == "", "the last DecisionTaskCompleted %r lacks executionContext ''" % done)
    canceled = attrs(last_of(evs, "WorkflowExecutionCanceled"))
    check(canceled.get("details") == "", "WorkflowExecutionCanceled %r lacks details ''" % canceled)


def empty_identities_and_descriptions():
    """A poller's identity, a description, a tag's value and a decision's
    runId given empty are echoed empty; not given, they are absent."""
    empty_dom = DOMAIN + "-e"
    swf.register_domain(name=empty_dom, workflowExecutionRetentionPeriodInDays="1", description="",
                        tags=[{"key": "empty", "value": ""}, {"key": "none"}])
    info = swf.describe_domain(name=empty_dom)["domainInfo"]
    check(info.get("description") == "", "a domain registered with description '' describes as %r" % info.get("description"))
    check("description" not in swf.describe_domain(name=DOMAIN)["domainInfo"], "a domain registered without description has one")
    tags = swf.list_tags_for_resource(resourceArn=info["arn"])["tags"]
    check(tags == [{"key": "empty", "value": ""}, {"key": "none"}], "tags %r, want the value '' kept and none absent" % tags)
    for register, describe, key in [(swf.register_activity_type, swf.describe_activity_type, "activityType"),
                                    (swf.register_workflow_type, swf.describe_workflow_type, "workflowType")]:
        register(domain=empty_dom, name="t", version="1", description="")
        got = describe(domain=empty_dom, **{key: {"name": "t", "version": "1"}})["typeInfo"]
        check(got.get("description") == "", "%s registered with description '' describes as %r" % (key, got.get("description")))
    check("description" not in swf.describe_activity_type(domain=DOMAIN, activityType=ACT)["typeInfo"],
          "an activity type registered without description has one")

    ex = start("empty-identity", taskList={"name": "empty-identity"})
    deadline = time.time() + 30
    t = {}
    while not t.get("taskToken") and time.time() < deadline:
        t = swf.poll_for_decision_task(domain=DOMAIN, taskList={"name": "empty-identity"}, identity="")
    started = attrs(last_of(t.get("events", []), "DecisionTaskStarted"))
    check(started.get("identity") == "", "DecisionTaskStarted %r lacks identity ''" % started)
    swf.respond_decision_task_completed(taskToken=t["taskToken"], decisions=[
        {"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": {
            "activityId": "a1", "activityType": ACT, "taskList": {"name": "empty-identity-work"},
            "scheduleToCloseTimeout": "NONE", "scheduleToStartTimeout": "NONE",
            "startToCloseTimeout": "NONE", "heartbeatTimeout": "NONE"}},
        {"decisionType": "SignalExternalWorkflowExecution", "signalExternalWorkflowExecutionDecisionAttributes": {
            "workflowId": "nobody", "runId": "", "signalName": "s"}}])
    a = {}
    while not a.get("taskToken") and time.time() < deadline:
        a = swf.poll_for_activity_task(domain=DOMAIN, taskList={"name": "empty-identity-work"}, identity="")
    swf.respond_activity_task_completed(taskToken=a["taskToken"])
    evs = history(ex)
    started = attrs(last_of(evs, "ActivityTaskStarted"))
    check(started.get("identity") == "", "ActivityTaskStarted %r lacks identity ''" % started)
    initiated = attrs(last_of(evs, "SignalExternalWorkflowExecutionInitiated"))
    check(initiated.get("runId") == "", "SignalExternalWorkflowExecutionInitiated %r lacks runId ''" % initiated)
    swf.terminate_workflow_execution(domain=DOMAIN, workflowId=ex["workflowId"])


def main():
    swf.register_domain(name=DOMAIN, workflowExecutionRetentionPeriodInDays="1")
    swf.register_workflow_type(domain=DOMAIN, name=WF["name"], version=WF["version"],
                               defaultTaskList={"name": DECIDERS},
                               defaultExecutionStartToCloseTimeout="600",
                               defaultTaskStartToCloseTimeout="30",
                               defaultChildPolicy="TERMINATE")
    swf.register_activity_type(domain=DOMAIN, name=ACT["name"], version=ACT["version"])
    ex, t = priorities_and_timeouts()
    t = external_initiated_zero(ex, t)
    counts_truncated()
    child_ids()
    closed_run_tokens()
    history_pages()
    empty_strings()
    empty_identities_and_descriptions()
    swf.respond_decision_task_completed(taskToken=t["taskToken"], decisions=[
        {"decisionType": "CancelWorkflowExecution", "cancelWorkflowExecutionDecisionAttributes": {}}])


if __name__ == "__main__":
    main()
    if failures:
        print("%d mismatch(es)" % len(failures), file=sys.stderr)
        sys.exit(1)
    print("boto3 shapes: all checks passed")
