// An order workflow that waits a day, tested with node:test against
// swfd --dev in well under a second. One swfd serves the whole file; each
// test starts from an empty server (the reset in beforeEach) and moves
// swfd's manual clock instead of waiting. Set SWFD to the swfd binary's
// path if it is not on PATH.
'use strict';
const { test, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const readline = require('node:readline');
const { SWFClient, ...swf } = require('@aws-sdk/client-swf');

let proc, url, client;

before(async () => {
  proc = spawn(process.env.SWFD || 'swfd', ['--dev', '--clock', 'manual', '--addr', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  // swfd logs the address it got.
  for await (const line of readline.createInterface({ input: proc.stderr })) {
    const m = line.match(/msg="swfd listening" addr=(\S+)/);
    if (m) { url = `http://${m[1]}`; break; }
  }
  if (!url) throw new Error('swfd did not start');
  proc.stderr.resume(); // keep reading swfd's log: a full pipe (64 KB) would block swfd
  client = new SWFClient({
    endpoint: url, region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, // any do without --auth
  });
});

after(() => { client.destroy(); proc.kill(); });

// admin calls swfd's admin API: the clock and the reset.
async function admin(path, body) {
  const res = await fetch(url + path, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return res.json();
}

beforeEach(() => admin('/swfd/dev/reset', {}));

async function register() {
  await client.send(new swf.RegisterDomainCommand({ name: 'shop', workflowExecutionRetentionPeriodInDays: '1' }));
  await client.send(new swf.RegisterWorkflowTypeCommand({
    domain: 'shop', name: 'order', version: '1', defaultTaskList: { name: 'deciders' },
    defaultExecutionStartToCloseTimeout: '604800', defaultTaskStartToCloseTimeout: '60', defaultChildPolicy: 'TERMINATE',
  }));
}

// decide takes the next decision task and answers it with decisions.
async function decide(...decisions) {
  const task = await client.send(new swf.PollForDecisionTaskCommand({ domain: 'shop', taskList: { name: 'deciders' } }));
  assert.ok(task.taskToken, 'no decision task');
  await client.send(new swf.RespondDecisionTaskCompletedCommand({ taskToken: task.taskToken, decisions }));
  return task;
}

test('an order waits a day', async () => {
  await register();
  const run = await client.send(new swf.StartWorkflowExecutionCommand({
    domain: 'shop', workflowId: 'order-1', workflowType: { name: 'order', version: '1' },
  }));
  await decide({ decisionType: 'StartTimer', startTimerDecisionAttributes: { timerId: 'cool-off', startToFireTimeout: '86400' } });
  const moved = await admin('/swfd/clock/advance', { duration: '24h' }); // the timer fires now, not in a day
  assert.equal(moved.timersFired, 1);

  const task = await decide({ decisionType: 'CompleteWorkflowExecution', completeWorkflowExecutionDecisionAttributes: { result: 'shipped' } });
  assert.ok(task.events.some((e) => e.eventType === 'TimerFired'));

  const { events } = await client.send(new swf.GetWorkflowExecutionHistoryCommand({
    domain: 'shop', execution: { workflowId: 'order-1', runId: run.runId },
  }));
  const fired = events.find((e) => e.eventType === 'TimerFired');
  assert.equal(fired.eventTimestamp - events[0].eventTimestamp, 86400 * 1000);
  assert.equal(events.at(-1).eventType, 'WorkflowExecutionCompleted');
});

test('each test starts empty', async () => {
  const { domainInfos } = await client.send(new swf.ListDomainsCommand({ registrationStatus: 'REGISTERED' }));
  assert.deepEqual(domainInfos, []);
  await register(); // the same names register again
});
