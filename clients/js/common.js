// Checks shared by the JavaScript real-client scripts: the scenario's
// expected history and a tally of mismatches.
'use strict';

const WANT = [
  'WorkflowExecutionStarted', 'DecisionTaskScheduled', 'DecisionTaskStarted', 'DecisionTaskCompleted',
  'ActivityTaskScheduled', 'ActivityTaskStarted', 'ActivityTaskCompleted',
  'DecisionTaskScheduled', 'DecisionTaskStarted', 'DecisionTaskCompleted',
  'TimerStarted', 'TimerFired',
  'DecisionTaskScheduled', 'DecisionTaskStarted', 'DecisionTaskCompleted',
  'WorkflowExecutionSignaled',
  'DecisionTaskScheduled', 'DecisionTaskStarted', 'DecisionTaskCompleted',
  'WorkflowExecutionCancelRequested',
  'DecisionTaskScheduled', 'DecisionTaskStarted', 'DecisionTaskCompleted',
  'WorkflowExecutionCanceled',
];

class Checker {
  constructor(name) { this.name = name; this.failures = 0; }
  check(cond, what) {
    if (!cond) { this.failures++; console.error('MISMATCH:', what); }
    return cond;
  }
  eq(got, want, what) {
    const g = JSON.stringify(got), w = JSON.stringify(want);
    return this.check(g === w, `${what}: got ${g} want ${w}`);
  }
  // verifyHistory checks the 24 events of the scenario's history.
  verifyHistory(ev, o) {
    if (!this.eq(ev.map((e) => e.eventType), WANT, 'history event types')) return;
    this.eq(ev.map((e) => e.eventId), WANT.map((_, i) => i + 1), 'event ids');
    const ts = ev.map((e) => new Date(e.eventTimestamp).getTime());
    this.check(ts.every((t, i) => i === 0 || t >= ts[i - 1]), 'timestamps go backwards');
    this.check(ts[11] - ts[10] >= 900, 'timer fired early');
    const a = (id, k) => ev[id - 1][k] || {};
    let s = a(1, 'workflowExecutionStartedEventAttributes');
    this.eq([s.input, s.taskList && s.taskList.name, s.childPolicy, s.executionStartToCloseTimeout], ['hello', o.deciders, 'TERMINATE', '600'], 'WorkflowExecutionStarted');
    s = a(5, 'activityTaskScheduledEventAttributes');
    this.eq([s.activityId, s.activityType, s.taskList && s.taskList.name, s.decisionTaskCompletedEventId], ['act-1', { name: 'rc-act', version: '1' }, o.workers, 4], 'ActivityTaskScheduled');
    s = a(6, 'activityTaskStartedEventAttributes');
    this.eq([s.identity, s.scheduledEventId], [o.workerIdentity, 5], 'ActivityTaskStarted');
    s = a(7, 'activityTaskCompletedEventAttributes');
    this.eq([s.result, s.scheduledEventId, s.startedEventId], ['act-out', 5, 6], 'ActivityTaskCompleted');
    s = a(11, 'timerStartedEventAttributes');
    this.eq([s.timerId, s.startToFireTimeout, s.decisionTaskCompletedEventId], ['t-1', '1', 10], 'TimerStarted');
    s = a(12, 'timerFiredEventAttributes');
    this.eq([s.timerId, s.startedEventId], ['t-1', 11], 'TimerFired');
    s = a(16, 'workflowExecutionSignaledEventAttributes');
    this.eq([s.signalName, s.input], ['sig-1', 'sig-in'], 'WorkflowExecutionSignaled');
    s = a(24, 'workflowExecutionCanceledEventAttributes');
    this.eq([s.details, s.decisionTaskCompletedEventId], ['bye', 23], 'WorkflowExecutionCanceled');
  }
  finish() {
    if (this.failures) {
      console.error(`${this.name}: ${this.failures} mismatches`);
      process.exit(1);
    }
    console.log(`${this.name}: scenario passed`);
  }
}

module.exports = { WANT, Checker };
