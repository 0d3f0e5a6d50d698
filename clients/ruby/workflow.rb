#!/usr/bin/env ruby
# The real-client scenario (see ../README.md) through aws-sdk v1's
# low-level AWS::SimpleWorkflow::Client (Debian ruby-aws-sdk 1.67), the
# client under the AWS Flow Framework for Ruby: every call by hand, the
# decision tasks paged seven events at a time through PollForDecisionTask's
# nextPageToken, and the history read back ten a page and checked event by
# event, every member of every event's attributes.
#
# SWFD_ENDPOINT=http://HOST:PORT ruby workflow.rb
require_relative 'common'

RC.configure
C = RC::Checker.new('ruby')
DOMAIN = ENV.fetch('SWFD_DOMAIN', "rc-ruby-#{SecureRandom.hex(4)}")
DECIDERS = 'ruby-deciders'
WORKERS = 'ruby-workers'
WID = 'rc-wf-ruby'
WF_TYPE = { name: 'rc-wf', version: '1' }.freeze
ACT_TYPE = { name: 'rc-act', version: '1' }.freeze
swf = AWS::SimpleWorkflow::Client.new

swf.register_domain(name: DOMAIN, workflow_execution_retention_period_in_days: '1',
                    description: 'aws-sdk v1 real-client run')
swf.register_workflow_type(domain: DOMAIN, **WF_TYPE,
                           default_task_list: { name: DECIDERS },
                           default_execution_start_to_close_timeout: '600',
                           default_task_start_to_close_timeout: '30',
                           default_child_policy: 'TERMINATE')
swf.register_activity_type(domain: DOMAIN, **ACT_TYPE,
                           default_task_list: { name: WORKERS },
                           default_task_heartbeat_timeout: '30',
                           default_task_schedule_to_start_timeout: '60',
                           default_task_schedule_to_close_timeout: '120',
                           default_task_start_to_close_timeout: '60')
d = swf.describe_activity_type(domain: DOMAIN, activity_type: ACT_TYPE).data
C.eq(d['configuration'], { 'defaultTaskHeartbeatTimeout' => '30', 'defaultTaskList' => { 'name' => WORKERS },
                           'defaultTaskScheduleToStartTimeout' => '60', 'defaultTaskScheduleToCloseTimeout' => '120',
                           'defaultTaskStartToCloseTimeout' => '60' }, 'DescribeActivityType configuration')
C.eq(d['typeInfo']['status'], 'REGISTERED', 'activity type status')
C.check(d['typeInfo']['creationDate'].is_a?(Time), "creationDate #{d['typeInfo']['creationDate'].inspect}")

run_id = swf.start_workflow_execution(domain: DOMAIN, workflow_id: WID, workflow_type: WF_TYPE,
                                      input: 'hello', tag_list: %w[rc ruby]).data['runId']
C.check(run_id.is_a?(String) && !run_id.empty?, "runId #{run_id.inspect}")
EXECUTION = { workflow_id: WID, run_id: run_id }.freeze
open = swf.list_open_workflow_executions(domain: DOMAIN, start_time_filter: { oldest_date: Time.now.to_i - 3600 },
                                         tag_filter: { tag: 'ruby' }).data
C.eq(open['executionInfos'].map { |i| [i['execution'], i['tagList'], i['executionStatus']] },
     [[{ 'workflowId' => WID, 'runId' => run_id }, %w[rc ruby], 'OPEN']], 'ListOpenWorkflowExecutions')
C.eq(swf.count_pending_decision_tasks(domain: DOMAIN, task_list: { name: DECIDERS }).data,
     { 'count' => 1, 'truncated' => false }, 'CountPendingDecisionTasks')

# decide polls for a decision task, reads its whole history seven events a
# page, and answers it from the event that caused it.
def decide(swf)
  task = nil
  15.times do
    task = swf.poll_for_decision_task(domain: DOMAIN, task_list: { name: DECIDERS }, identity: 'ruby-decider',
                                      maximum_page_size: 7).data
    break if task['taskToken']
  end
  C.fatal('no decision task') unless task['taskToken']
  events = task['events']
  page = task
  pages = 1
  while page['nextPageToken']
    page = swf.poll_for_decision_task(domain: DOMAIN, task_list: { name: DECIDERS }, identity: 'ruby-decider',
                                      maximum_page_size: 7, next_page_token: page['nextPageToken']).data
    events += page['events']
    pages += 1
  end
  C.eq(events.map { |e| e['eventId'] }, (1..task['startedEventId']).to_a, 'decision task event ids')
  C.eq(pages, (task['startedEventId'] + 6) / 7, "pages of decision task #{task['startedEventId']}")
  cause = events[-3]['eventType']
  decisions = case cause
              when 'WorkflowExecutionStarted'
                [{ decision_type: 'ScheduleActivityTask',
                   schedule_activity_task_decision_attributes: { activity_id: 'act-1', activity_type: ACT_TYPE,
                                                                 input: 'act-in' } }]
              when 'ActivityTaskCompleted'
                [{ decision_type: 'StartTimer',
                   start_timer_decision_attributes: { timer_id: 't-1', start_to_fire_timeout: '1' } }]
              when 'WorkflowExecutionCancelRequested'
                [{ decision_type: 'CancelWorkflowExecution',
                   cancel_workflow_execution_decision_attributes: { details: 'bye' } }]
              when 'TimerFired', 'WorkflowExecutionSignaled' then []
              else
                C.check(false, "unexpected decision task caused by #{cause}")
                []
              end
  swf.respond_decision_task_completed(task_token: task['taskToken'], decisions: decisions,
                                      execution_context: "ctx-#{task['startedEventId']}")
  [task['startedEventId'], task['previousStartedEventId'], cause]
end

def work(swf)
  task = nil
  15.times do
    task = swf.poll_for_activity_task(domain: DOMAIN, task_list: { name: WORKERS }, identity: 'ruby-worker').data
    break if task['taskToken']
  end
  C.fatal('no activity task') unless task['taskToken']
  C.eq(task.reject { |k, _| k == 'taskToken' },
       { 'activityId' => 'act-1', 'startedEventId' => 6, 'input' => 'act-in',
         'workflowExecution' => { 'workflowId' => WID, 'runId' => EXECUTION[:run_id] },
         'activityType' => { 'name' => 'rc-act', 'version' => '1' } }, 'activity task')
  hb = swf.record_activity_task_heartbeat(task_token: task['taskToken'], details: 'halfway').data
  C.eq(hb, { 'cancelRequested' => false }, 'heartbeat answer')
  swf.respond_activity_task_completed(task_token: task['taskToken'], result: 'act-out')
  begin
    swf.respond_activity_task_completed(task_token: task['taskToken'], result: 'again')
    C.check(false, "a completed activity's token worked twice")
  rescue AWS::SimpleWorkflow::Errors::UnknownResourceFault => e
    C.check(e.message.is_a?(String) && !e.message.empty?, 'UnknownResourceFault without a message')
  end
end

C.eq(decide(swf), [3, 0, 'WorkflowExecutionStarted'], 'decision 1')
work(swf)
C.eq(decide(swf), [9, 3, 'ActivityTaskCompleted'], 'decision 2')
C.eq(decide(swf), [14, 9, 'TimerFired'], 'decision 3')
swf.signal_workflow_execution(domain: DOMAIN, workflow_id: WID, run_id: run_id, signal_name: 'sig-1', input: 'sig-in')
C.eq(decide(swf), [18, 14, 'WorkflowExecutionSignaled'], 'decision 4')
swf.request_cancel_workflow_execution(domain: DOMAIN, workflow_id: WID, run_id: run_id)
C.eq(decide(swf), [22, 18, 'WorkflowExecutionCancelRequested'], 'decision 5')

# The history, ten a page.
events = []
token = nil
pages = 0
loop do
  opts = { domain: DOMAIN, execution: EXECUTION, maximum_page_size: 10 }
  opts[:next_page_token] = token if token
  page = swf.get_workflow_execution_history(opts).data
  pages += 1
  C.check(page['events'].size == (pages < 3 ? 10 : 4), "page #{pages} has #{page['events'].size} events")
  events += page['events']
  token = page['nextPageToken']
  break unless token
end
C.eq(pages, 3, 'history pages')
RC.check_events(C, events, deciders: DECIDERS, workers: WORKERS, decider: 'ruby-decider', worker: 'ruby-worker',
                           tags: %w[rc ruby])

info = swf.describe_workflow_execution(domain: DOMAIN, execution: EXECUTION).data
C.eq([info['executionInfo']['executionStatus'], info['executionInfo']['closeStatus']], %w[CLOSED CANCELED],
     'DescribeWorkflowExecution')
C.finish(DOMAIN)
