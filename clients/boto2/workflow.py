#!/usr/bin/env python3
"""The real-client scenario (see ../README.md) with boto 2's
boto.swf.layer2 Decider and ActivityWorker classes (Debian python3-boto
2.49), which speak the older dialect: the legacy
com.amazonaws.swf.service.model.SimpleWorkflowService.<Op> target,
Content-Type application/json and Content-Encoding amz-1.0.

Point it at a swfd with SWFD_ENDPOINT (http://HOST:PORT); boto 2 must be
on PYTHONPATH (clients/run-all.sh unpacks the Debian package).
"""
import os
import sys
import time
import uuid
from urllib.parse import urlparse

from boto.regioninfo import RegionInfo
from boto.swf import layer1, layer2
from boto.swf.layer1_decisions import Layer1Decisions

ENDPOINT = urlparse(os.environ.get("SWFD_ENDPOINT", "http://127.0.0.1:7733"))
DOMAIN = os.environ.get("SWFD_DOMAIN", "rc-boto2-" + uuid.uuid4().hex[:8])
DECIDERS, WORKERS, WID = "boto2-deciders", "boto2-workers", "rc-wf-boto2"
KEY, SECRET = "AKIDEXAMPLE", "secret"
REGION = RegionInfo(name="us-east-1", endpoint=ENDPOINT.hostname)

# Shim: layer2 builds its Layer1 with credentials and region only, always
# over HTTPS on 443. Give it the server's scheme and port, and the region
# and service to sign for: boto 2 derives a SigV4 scope from the host name
# of an endpoint it does not know (…/0/127/aws4_request for 127.0.0.1),
# which swfd, like SWF, refuses. Against real SWF's own host names it
# signs for us-east-1/swf by itself. Nothing else of boto is changed.
_Layer1 = layer1.Layer1


def _layer1(*args, **kwargs):
    kwargs.setdefault("is_secure", ENDPOINT.scheme == "https")
    kwargs.setdefault("port", ENDPOINT.port)
    conn = _Layer1(*args, **kwargs)
    conn.auth_region_name = REGION.name
    conn.auth_service_name = "swf"
    return conn


layer2.Layer1 = _layer1
layer2.set_default_credentials(KEY, SECRET)

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("MISMATCH:", what, file=sys.stderr)
    return cond


def fatal(what):
    print("FATAL:", what, file=sys.stderr)
    sys.exit(1)


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


class ScenarioDecider(layer2.Decider):
    """Answers each decision task from the event that caused it."""

    def run(self):
        task = None
        for _ in range(15):
            task = self.poll(identity="boto2-decider")
            if task.get("taskToken"):
                break
        else:
            fatal("no decision task")
        events = task["events"]
        page = task
        while page.get("nextPageToken"):
            page = self.poll(identity="boto2-decider", next_page_token=page["nextPageToken"])
            events += page["events"]
        types = [e["eventType"] for e in events]
        check(len(types) == task["startedEventId"], "decision task has %d events, startedEventId %d" % (len(types), task["startedEventId"]))
        cause = types[-3]
        d = Layer1Decisions()
        if cause == "WorkflowExecutionStarted":
            d.schedule_activity_task("act-1", "rc-act", "1", input="act-in")
        elif cause == "ActivityTaskCompleted":
            d.start_timer("1", "t-1")
        elif cause == "WorkflowExecutionCancelRequested":
            d.cancel_workflow_executions(details="bye")
        elif cause not in ("TimerFired", "WorkflowExecutionSignaled"):
            check(False, "unexpected decision task caused by %s" % cause)
        self.complete(decisions=d, execution_context="ctx-%d" % task["startedEventId"])
        return task["startedEventId"], task.get("previousStartedEventId", 0), cause


class ScenarioWorker(layer2.ActivityWorker):
    def run(self):
        for _ in range(15):
            task = self.poll(identity="boto2-worker")
            if task.get("taskToken"):
                break
        else:
            fatal("no activity task")
        check((task["activityId"], task["input"], task["startedEventId"]) == ("act-1", "act-in", 6),
              "activity task %r" % task)
        hb = self.heartbeat(details="halfway")
        check(hb == {"cancelRequested": False}, "heartbeat answer %r" % hb)
        self.complete(result="act-out")
        try:
            self.complete(result="again")
            check(False, "a completed activity's token worked twice")
        except layer1.Layer1.ResponseError as e:
            check(e.body.get("__type", "").endswith("UnknownResourceFault"), "second completion fault %r" % e.body)


def main():
    kw = dict(region=REGION)
    layer2.Domain(name=DOMAIN, retention=1, description="boto2 real-client run", **kw).register()
    wf = layer2.WorkflowType(domain=DOMAIN, name="rc-wf", version="1", task_list=DECIDERS, **kw)
    wf.register(default_execution_start_to_close_timeout="600", default_task_start_to_close_timeout="30",
                task_list=DECIDERS)
    layer2.ActivityType(domain=DOMAIN, name="rc-act", version="1", **kw).register(
        task_list=WORKERS, default_task_heartbeat_timeout="30")
    types = layer2.Domain(name=DOMAIN, **kw).activities()
    check([(t.name, t.version) for t in types] == [("rc-act", "1")], "activity types %r" % types)

    started = wf.start(workflow_id=WID, input="hello", tag_list=["rc", "boto2"])
    # WorkflowType.start does not pass its region on to the execution it
    # returns; name the execution again with it.
    execution = layer2.WorkflowExecution(domain=DOMAIN, workflowId=started.workflowId, runId=started.runId, **kw)
    dom = layer2.Domain(name=DOMAIN, **kw)
    # executions() asks for runs started in the last day, as a float.
    opened = dom.executions()
    check([(e.workflowId, e.runId) for e in opened] == [(WID, execution.runId)], "open executions %r" % opened)
    pending = dom.count_pending_decision_tasks(DECIDERS)
    check(pending["count"] == 1 and not pending.get("truncated"), "pending decision tasks %r" % pending)
    decider = ScenarioDecider(domain=DOMAIN, task_list=DECIDERS, **kw)
    worker = ScenarioWorker(domain=DOMAIN, task_list=WORKERS, **kw)

    check(decider.run() == (3, 0, "WorkflowExecutionStarted"), "decision 1")
    worker.run()
    check(decider.run() == (9, 3, "ActivityTaskCompleted"), "decision 2")
    check(decider.run() == (14, 9, "TimerFired"), "decision 3")
    execution.signal("sig-1", input="sig-in", run_id=execution.runId)
    check(decider.run() == (18, 14, "WorkflowExecutionSignaled"), "decision 4")
    execution.request_cancel()
    check(decider.run() == (22, 18, "WorkflowExecutionCancelRequested"), "decision 5")

    # Page through the history through layer1, ten a page.
    l1 = _layer1(KEY, SECRET, region=REGION)
    events, token, pages = [], None, 0
    while True:
        page = l1.get_workflow_execution_history(DOMAIN, execution.runId, WID, maximum_page_size=10, next_page_token=token)
        pages += 1
        events += page["events"]
        token = page.get("nextPageToken")
        if not token:
            break
    check(pages == 3, "history pages %d" % pages)
    check(execution.history() == events, "layer2 history differs from paged history")
    got = [e["eventType"] for e in events]
    if check(got == WANT, "history event types:\n got %s\nwant %s" % (got, WANT)):
        check([e["eventId"] for e in events] == list(range(1, 25)), "event ids")
        ts = [e["eventTimestamp"] for e in events]
        check(all(isinstance(t, (int, float)) for t in ts) and ts == sorted(ts), "timestamps %r" % ts[:3])
        check(ts[11] - ts[10] >= 0.9, "timer fired early")
        s = events[4]["activityTaskScheduledEventAttributes"]
        check((s["activityId"], s["taskList"]["name"], s["heartbeatTimeout"], s["decisionTaskCompletedEventId"]) ==
              ("act-1", WORKERS, "30", 4), "ActivityTaskScheduled %r" % s)
        s = events[6]["activityTaskCompletedEventAttributes"]
        check((s["result"], s["scheduledEventId"], s["startedEventId"]) == ("act-out", 5, 6), "ActivityTaskCompleted %r" % s)
        s = events[11]["timerFiredEventAttributes"]
        check((s["timerId"], s["startedEventId"]) == ("t-1", 11), "TimerFired %r" % s)
        s = events[15]["workflowExecutionSignaledEventAttributes"]
        check((s["signalName"], s["input"]) == ("sig-1", "sig-in"), "WorkflowExecutionSignaled %r" % s)
        s = events[23]["workflowExecutionCanceledEventAttributes"]
        # boto 2's cancel_workflow_executions sends its details under a
        # misspelt member (cancelWorkflowExecutionsDecisionAttributes); the
        # service ignores unknown members, so the run closes without details.
        check(s.get("details") is None and s["decisionTaskCompletedEventId"] == 23, "WorkflowExecutionCanceled %r" % s)
    info = execution.describe()["executionInfo"]
    check((info["executionStatus"], info.get("closeStatus")) == ("CLOSED", "CANCELED"), "describe %r" % info)
    closed = layer2.Domain(name=DOMAIN, **kw).executions(closed=True, start_oldest_date=0)
    check([(e.workflowId, e.runId, e.closeStatus) for e in closed] == [(WID, execution.runId, "CANCELED")], "closed executions %r" % closed)


if __name__ == "__main__":
    main()
    if failures:
        print("boto2: %d mismatches" % len(failures), file=sys.stderr)
        sys.exit(1)
    print("boto2: scenario passed (domain %s)" % DOMAIN)
