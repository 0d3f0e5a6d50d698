// The real-client scenario (see ../README.md) with the aws-swf 4.1.0
// decider/activity-poller framework, on the aws-sdk 2.0.31 it pulls in.
// The Decider and ActivityPoller run their own poll loops; the decider
// answers each decision task from the event that caused it, and the main
// flow signals and requests cancellation once the decider has caught up.
'use strict';

const endpoint = process.env.SWFD_ENDPOINT || 'http://127.0.0.1:7733';
// aws-swf builds its clients from the global aws-sdk config, so configure
// it before loading the framework.
const AWS = require('aws-sdk');
AWS.config.update({ region: 'us-east-1', endpoint, accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', maxRetries: 0, httpOptions: { timeout: 70000 } });
const swf = require('aws-swf');
const { Checker } = require('./common');

const domain = process.env.SWFD_DOMAIN || `rc-awsswf-${Math.random().toString(36).slice(2, 10)}`;
const deciders = 'awsswf-deciders', workers = 'awsswf-workers', wid = 'rc-wf-awsswf';
const wfType = { name: 'rc-wf', version: '1' }, actType = { name: 'rc-act', version: '1' };
const c = new Checker('aws-swf');
const client = swf.createClient();
const p = (fn) => new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));

// Steps the decider has finished, by the event type that caused them.
const handled = {};
const waiters = {};
function done(step) {
  handled[step] = true;
  (waiters[step] || []).forEach((f) => f());
}
const reached = (step) => new Promise((resolve, reject) => {
  if (handled[step]) return resolve();
  const timer = setTimeout(() => reject(new Error(`decider never handled ${step}`)), 30000);
  (waiters[step] = waiters[step] || []).push(() => { clearTimeout(timer); resolve(); });
});

function fail(err) {
  console.error('FATAL:', err);
  process.exit(1);
}

function runDecider() {
  // A small page size makes the framework fetch decision tasks' later pages.
  const decider = new swf.Decider({ domain, taskList: { name: deciders }, identity: 'awsswf-decider', maximumPageSize: 5, reverseOrder: false }, client);
  decider.on('error', fail);
  decider.on('decisionTask', (task) => {
    const ev = task.eventList.events || task.eventList._events || [];
    const types = ev.map((e) => e.eventType);
    const cause = types[types.length - 3];
    c.eq(types.slice(-2), ['DecisionTaskScheduled', 'DecisionTaskStarted'], 'decision task tail');
    c.eq(types.length, task.config.startedEventId, 'all pages of the decision task fetched');
    const r = task.response;
    switch (cause) {
      case 'WorkflowExecutionStarted':
        c.eq(task.eventList.workflow_input(), 'hello', 'workflow_input');
        r.schedule({ name: 'act-1', activity: actType, input: 'act-in' }, { taskList: { name: workers } });
        break;
      case 'ActivityTaskCompleted':
        c.eq(task.eventList.results('act-1'), 'act-out', 'activity results');
        r.start_timer({ name: 'tc', delay: 1 }, { timerId: 't-1' });
        break;
      case 'TimerFired':
        c.check(task.eventList.timer_fired('t-1'), 'timer_fired(t-1)');
        r.wait();
        break;
      case 'WorkflowExecutionSignaled':
        c.check(task.eventList.signal_arrived('sig-1'), 'signal_arrived(sig-1)');
        c.eq(task.eventList.signal_input('sig-1'), 'sig-in', 'signal_input');
        r.wait();
        break;
      case 'WorkflowExecutionCancelRequested':
        r.cancel_workflow('bye');
        break;
      default:
        c.check(false, `unexpected decision task caused by ${cause}`);
        r.wait();
    }
    r.respondCompleted(r.decisions, (err) => (err ? fail(err) : done(cause)));
  });
  decider.start();
  return decider;
}

function runWorker() {
  const worker = new swf.ActivityPoller({ domain, taskList: { name: workers }, identity: 'awsswf-worker' }, client);
  worker.on('error', fail);
  worker.on('activityTask', (task) => {
    c.eq([task.config.activityId, task.config.input, task.config.startedEventId], ['act-1', 'act-in', 6], 'activity task');
    task.recordHeartbeat('halfway', (err) => {
      if (err) return fail(err);
      task.respondCompleted('act-out', (err2) => {
        if (err2) return fail(err2);
        // The token is good once; aws-sdk 2.0.31 must read the fault's code.
        client.respondActivityTaskCompleted({ taskToken: task.config.taskToken, result: 'again' }, (err3) => {
          c.eq(err3 && err3.code, 'UnknownResourceFault', 'second completion fault code');
          c.eq(err3 && err3.statusCode, 400, 'second completion fault status');
          done('activity');
        });
      });
    });
  });
  worker.start();
  return worker;
}

async function main() {
  await p((cb) => client.registerDomain({ name: domain, workflowExecutionRetentionPeriodInDays: '1' }, cb));
  await p((cb) => client.registerWorkflowType({
    domain, name: wfType.name, version: wfType.version, defaultTaskList: { name: deciders },
    defaultExecutionStartToCloseTimeout: '600', defaultTaskStartToCloseTimeout: '30', defaultChildPolicy: 'TERMINATE',
  }, cb));
  await p((cb) => client.registerActivityType({
    domain, name: actType.name, version: actType.version, defaultTaskList: { name: workers },
  }, cb));

  const decider = runDecider();
  const worker = runWorker();

  const workflow = new swf.Workflow({ domain, workflowType: wfType, taskList: { name: deciders }, executionStartToCloseTimeout: '600', taskStartToCloseTimeout: '30', childPolicy: 'TERMINATE', tagList: ['rc', 'awsswf'] }, client);
  let execution;
  const runId = await p((cb) => { execution = workflow.start({ workflowId: wid, input: 'hello' }, cb); });
  c.check(typeof runId === 'string' && runId.length > 0, 'start returned a runId');
  try {
    await p((cb) => workflow.start({ workflowId: wid, input: 'again' }, cb));
    c.check(false, 'a second start with the same workflowId succeeded');
  } catch (e) {
    c.eq(e.code, 'WorkflowExecutionAlreadyStartedFault', 'duplicate start fault code');
  }

  await reached('activity');
  await reached('TimerFired');
  await p((cb) => execution.signal({ signalName: 'sig-1', input: 'sig-in' }, cb));
  await reached('WorkflowExecutionSignaled');
  await p((cb) => client.requestCancelWorkflowExecution({ domain, workflowId: wid }, cb));
  await reached('WorkflowExecutionCancelRequested');
  decider.stop();
  worker.stop();

  // Page through the history with the framework's getHistory.
  const events = [];
  let token;
  let pages = 0;
  do {
    const cfg = { execution: { workflowId: wid, runId }, maximumPageSize: 10 };
    if (token) cfg.nextPageToken = token;
    const page = await p((cb) => execution.getHistory(cfg, cb));
    pages++;
    events.push(...page.events);
    token = page.nextPageToken;
  } while (token);
  c.eq(pages, 3, 'history pages');
  c.verifyHistory(events, { deciders, workers, workerIdentity: 'awsswf-worker' });
  const desc = await p((cb) => client.describeWorkflowExecution({ domain, execution: { workflowId: wid, runId } }, cb));
  c.eq([desc.executionInfo.executionStatus, desc.executionInfo.closeStatus], ['CLOSED', 'CANCELED'], 'describe');
}

main().then(() => { c.finish(); process.exit(0); }, fail);
