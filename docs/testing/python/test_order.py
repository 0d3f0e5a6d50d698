"""An order workflow that waits a day, tested in well under a second."""


def register(swf):
    swf.register_domain(name="shop", workflowExecutionRetentionPeriodInDays="1")
    swf.register_workflow_type(
        domain="shop", name="order", version="1", defaultTaskList={"name": "deciders"},
        defaultExecutionStartToCloseTimeout="604800", defaultTaskStartToCloseTimeout="60",
        defaultChildPolicy="TERMINATE")


def decide(swf, *decisions):
    """Takes the next decision task, answers it with decisions, returns the task."""
    task = swf.poll_for_decision_task(domain="shop", taskList={"name": "deciders"})
    assert task.get("taskToken"), "no decision task"
    swf.respond_decision_task_completed(taskToken=task["taskToken"], decisions=list(decisions))
    return task


def test_order_waits_a_day(swf, clock):
    register(swf)
    run = swf.start_workflow_execution(domain="shop", workflowId="order-1", workflowType={"name": "order", "version": "1"})

    decide(swf, {"decisionType": "StartTimer",
                 "startTimerDecisionAttributes": {"timerId": "cool-off", "startToFireTimeout": "86400"}})
    moved = clock.advance("24h")  # the timer fires now, not in a day
    assert moved["timersFired"] == 1

    task = decide(swf, {"decisionType": "CompleteWorkflowExecution",
                        "completeWorkflowExecutionDecisionAttributes": {"result": "shipped"}})
    assert "TimerFired" in [e["eventType"] for e in task["events"]]

    events = swf.get_workflow_execution_history(
        domain="shop", execution={"workflowId": "order-1", "runId": run["runId"]})["events"]
    started, fired = events[0]["eventTimestamp"], next(e for e in events if e["eventType"] == "TimerFired")["eventTimestamp"]
    assert (fired - started).total_seconds() == 86400
    assert events[-1]["eventType"] == "WorkflowExecutionCompleted"


def test_each_test_starts_empty(swf):
    # The previous test's domain and execution are gone.
    assert swf.list_domains(registrationStatus="REGISTERED")["domainInfos"] == []
    register(swf)  # so the same names register again
