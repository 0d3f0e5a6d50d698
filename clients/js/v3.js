// The real-client scenario (see ../README.md) with the AWS SDK for
// JavaScript v3 (@aws-sdk/client-swf). SWFD_ENDPOINT names the server.
'use strict';

const swfsdk = require('@aws-sdk/client-swf');
const { Checker } = require('./common');

const endpoint = process.env.SWFD_ENDPOINT || 'http://127.0.0.1:7733';
const domain = process.env.SWFD_DOMAIN || `rc-jsv3-${Math.random().toString(36).slice(2, 10)}`;
const deciders = 'jsv3-deciders', workers = 'jsv3-workers', wid = 'rc-wf-jsv3';
const wfType = { name: 'rc-wf', version: '1' }, actType = { name: 'rc-act', version: '1' };

const client = new swfsdk.SWFClient({
  region: 'us-east-1', endpoint, maxAttempts: 1,
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
});
const call = (name, input) => client.send(new swfsdk[`${name}Command`](input));
const c = new Checker('js-v3');

async function pollDecision() {
  for (let i = 0; i < 15; i++) {
    const t = await call('PollForDecisionTask', { domain, taskList: { name: deciders }, identity: 'jsv3-decider' });
    if (t.taskToken) {
      let page = t;
      while (page.nextPageToken) {
        page = await call('PollForDecisionTask', { domain, taskList: { name: deciders }, identity: 'jsv3-decider', nextPageToken: page.nextPageToken });
        t.events.push(...page.events);
      }
      return t;
    }
    c.eq(t.startedEventId, 0, 'empty poll startedEventId');
  }
  throw new Error('no decision task');
}

function expectTask(t, started, prev, last) {
  c.eq([t.startedEventId, t.previousStartedEventId || 0, t.events.length, t.events[t.events.length - 3].eventType],
    [started, prev, started, last], 'decision task started/prev/count/type');
}

const decide = (t, decisions) => call('RespondDecisionTaskCompleted', { taskToken: t.taskToken, decisions, executionContext: `ctx-${t.startedEventId}` });

async function main() {
  await call('RegisterDomain', { name: domain, workflowExecutionRetentionPeriodInDays: '1' });
  await call('RegisterWorkflowType', {
    domain, ...wfType, defaultTaskList: { name: deciders }, defaultExecutionStartToCloseTimeout: '600',
    defaultTaskStartToCloseTimeout: '30', defaultChildPolicy: 'TERMINATE',
  });
  await call('RegisterActivityType', {
    domain, ...actType, defaultTaskList: { name: workers }, defaultTaskHeartbeatTimeout: '30',
    defaultTaskScheduleToStartTimeout: '60', defaultTaskScheduleToCloseTimeout: '120', defaultTaskStartToCloseTimeout: '60',
  });
  const { runId } = await call('StartWorkflowExecution', { domain, workflowId: wid, workflowType: wfType, input: 'hello', tagList: ['rc', 'jsv3'] });
  const execution = { workflowId: wid, runId };

  let t = await pollDecision();
  expectTask(t, 3, 0, 'WorkflowExecutionStarted');
  c.eq(t.workflowExecution, execution, 'decision execution');
  await decide(t, [{ decisionType: 'ScheduleActivityTask', scheduleActivityTaskDecisionAttributes: { activityId: 'act-1', activityType: actType, input: 'act-in' } }]);

  let a;
  for (let i = 0; i < 15 && !(a && a.taskToken); i++) {
    a = await call('PollForActivityTask', { domain, taskList: { name: workers }, identity: 'jsv3-worker' });
  }
  if (!a.taskToken) throw new Error('no activity task');
  c.eq([a.activityId, a.input, a.startedEventId, a.activityType], ['act-1', 'act-in', 6, actType], 'activity task');
  const hb = await call('RecordActivityTaskHeartbeat', { taskToken: a.taskToken, details: 'halfway' });
  c.eq(hb.cancelRequested, false, 'heartbeat cancelRequested');
  await call('RespondActivityTaskCompleted', { taskToken: a.taskToken, result: 'act-out' });
  try {
    await call('RespondActivityTaskCompleted', { taskToken: a.taskToken, result: 'again' });
    c.check(false, 'a completed activity token worked twice');
  } catch (e) {
    c.eq(e.name, 'UnknownResourceFault', 'second completion fault');
  }

  t = await pollDecision();
  expectTask(t, 9, 3, 'ActivityTaskCompleted');
  await decide(t, [{ decisionType: 'StartTimer', startTimerDecisionAttributes: { timerId: 't-1', startToFireTimeout: '1' } }]);

  t = await pollDecision();
  expectTask(t, 14, 9, 'TimerFired');
  await decide(t, []);

  await call('SignalWorkflowExecution', { domain, workflowId: wid, runId, signalName: 'sig-1', input: 'sig-in' });
  t = await pollDecision();
  expectTask(t, 18, 14, 'WorkflowExecutionSignaled');
  await decide(t, []);

  await call('RequestCancelWorkflowExecution', { domain, workflowId: wid });
  t = await pollDecision();
  expectTask(t, 22, 18, 'WorkflowExecutionCancelRequested');
  await decide(t, [{ decisionType: 'CancelWorkflowExecution', cancelWorkflowExecutionDecisionAttributes: { details: 'bye' } }]);

  // History back through the SDK's paginator, ten a page.
  const events = [];
  let pages = 0;
  for await (const page of swfsdk.paginateGetWorkflowExecutionHistory({ client }, { domain, execution, maximumPageSize: 10 })) {
    pages++;
    events.push(...page.events);
  }
  c.eq(pages, 3, 'history pages');
  c.verifyHistory(events, { deciders, workers, workerIdentity: 'jsv3-worker' });
  c.check(events[0].eventTimestamp instanceof Date, 'timestamps decode to Date');

  const desc = await call('DescribeWorkflowExecution', { domain, execution });
  c.eq([desc.executionInfo.executionStatus, desc.executionInfo.closeStatus, desc.latestExecutionContext], ['CLOSED', 'CANCELED', 'ctx-22'], 'describe');
  const closed = await call('ListClosedWorkflowExecutions', { domain, startTimeFilter: { oldestDate: new Date(0) }, closeStatusFilter: { status: 'CANCELED' } });
  c.eq(closed.executionInfos.map((e) => e.execution.runId), [runId], 'closed list');
}

main().then(() => c.finish(), (e) => { console.error('FATAL:', e); process.exit(1); });
