#!/usr/bin/env ruby
# The real-client scenario (see ../README.md) through aws-sdk v1's
# resource API, AWS::SimpleWorkflow (Debian ruby-aws-sdk 1.67), which the
# AWS Flow Framework for Ruby builds on: domains, workflow_types and
# activity_types to register and describe, WorkflowType#start_execution,
# decision_tasks and activity_tasks to poll and answer (the SDK pages a
# decision task's events itself, seven a page here), WorkflowExecution to
# signal, cancel and describe, and history_events paged ten at a time,
# with the SDK's casts of each event's attributes (durations as integers,
# task lists as names, types and executions as objects) checked as well
# as every member.
#
# SWFD_ENDPOINT=http://HOST:PORT ruby resources.rb
require_relative 'common'

RC.configure
C = RC::Checker.new('ruby-swf')
DOMAIN = ENV.fetch('SWFD_DOMAIN', "rc-ruby-swf-#{SecureRandom.hex(4)}")
DECIDERS = 'ruby-swf-deciders'
WORKERS = 'ruby-swf-workers'
DECIDER = 'ruby-swf-decider'
WORKER = 'ruby-swf-worker'
WID = 'rc-wf-ruby-swf'
TAGS = %w[rc ruby-swf].freeze
swf = AWS::SimpleWorkflow.new

domain = swf.domains.create(DOMAIN, 1, description: 'aws-sdk v1 resources real-client run')
domain = swf.domains[DOMAIN] # forget what create knew: read it back
C.eq([domain.exists?, domain.status, domain.retention_period, domain.description],
     [true, :registered, 1, 'aws-sdk v1 resources real-client run'], 'domain')
C.check(swf.domains.map(&:name).include?(DOMAIN), 'domains lists the new domain')

wf = domain.workflow_types.create('rc-wf', '1', default_task_list: DECIDERS,
                                                default_execution_start_to_close_timeout: 600,
                                                default_task_start_to_close_timeout: 30,
                                                default_child_policy: :terminate)
act = domain.activity_types.create('rc-act', '1', default_task_list: WORKERS,
                                                  default_task_heartbeat_timeout: 30,
                                                  default_task_schedule_to_start_timeout: 60,
                                                  default_task_schedule_to_close_timeout: 120,
                                                  default_task_start_to_close_timeout: 60)
C.eq([wf.status, wf.default_task_list, wf.default_child_policy, wf.default_execution_start_to_close_timeout,
      wf.default_task_start_to_close_timeout], [:registered, DECIDERS, :terminate, 600, 30], 'workflow type')
C.check(wf.creation_date.is_a?(Time) && (Time.now - wf.creation_date).abs < 300,
        "workflow type creationDate #{wf.creation_date.inspect}")
C.eq([act.default_task_list, act.default_task_heartbeat_timeout, act.default_task_schedule_to_start_timeout,
      act.default_task_schedule_to_close_timeout, act.default_task_start_to_close_timeout],
     [WORKERS, 30, 60, 120, 60], 'activity type')
C.eq(domain.workflow_types.to_a, [wf], 'workflow types')
C.eq(domain.activity_types.to_a, [act], 'activity types')

ex = wf.start_execution(workflow_id: WID, input: 'hello', tag_list: TAGS)
C.eq([ex.workflow_id, ex.status, ex.tags, ex.workflow_type, ex.child_policy, ex.task_list,
      ex.execution_start_to_close_timeout, ex.task_start_to_close_timeout],
     [WID, :open, TAGS, wf, :terminate, DECIDERS, 600, 30], 'started execution')
C.check(ex.started_at.is_a?(Time) && (Time.now - ex.started_at).abs < 300, "startTimestamp #{ex.started_at.inspect}")
C.eq(domain.workflow_executions.with_status(:open).tagged('ruby-swf').to_a, [ex], 'open executions tagged ruby-swf')
C.eq(wf.count_executions.to_i, 1, 'WorkflowType#count_executions')
count = domain.decision_tasks.count(DECIDERS)
C.eq([count.to_i, count.truncated?], [1, false], 'pending decision tasks')

# decide answers one decision task, through poll_for_single_task's block.
def decide(domain, wf, act, ex)
  got = nil
  15.times do
    domain.decision_tasks.poll_for_single_task(DECIDERS, identity: DECIDER, event_batch_size: 7) do |task|
      events = task.events.to_a
      C.eq(events.map(&:event_id), (1..task.started_event_id).to_a, 'decision task event ids')
      C.eq(task.new_events.map(&:event_id), ((task.previous_started_event_id + 1)..task.started_event_id).to_a,
           "new events of decision task #{task.started_event_id}")
      C.eq([task.workflow_execution, task.workflow_type], [ex, wf], 'decision task execution and type')
      cause = events[-3].event_type
      case cause
      when 'WorkflowExecutionStarted' then task.schedule_activity_task(act, activity_id: 'act-1', input: 'act-in')
      when 'ActivityTaskCompleted' then C.eq(task.start_timer(1, timer_id: 't-1'), 't-1', 'start_timer')
      when 'WorkflowExecutionCancelRequested' then task.cancel_workflow_execution(details: 'bye')
      when 'TimerFired', 'WorkflowExecutionSignaled' then nil
      else C.check(false, "unexpected decision task caused by #{cause}")
      end
      task.complete!(execution_context: "ctx-#{task.started_event_id}")
      got = [task.started_event_id, task.previous_started_event_id, cause]
    end
    return got if got
  end
  C.fatal('no decision task')
end

def work(swf, domain, act, ex)
  15.times do
    done = false
    domain.activity_tasks.poll_for_single_task(WORKERS, identity: WORKER) do |task|
      C.eq([task.activity_id, task.input, task.started_event_id, task.activity_type, task.workflow_execution],
           ['act-1', 'act-in', 6, act, ex], 'activity task')
      C.eq(task.record_heartbeat!(details: 'halfway'), nil, 'heartbeat (it raises if a cancel was requested)')
      task.complete!(result: 'act-out')
      begin
        # The SDK refuses a second answer itself; the service must too.
        swf.client.respond_activity_task_completed(task_token: task.task_token, result: 'again')
        C.check(false, "a completed activity's token worked twice")
      rescue AWS::SimpleWorkflow::Errors::UnknownResourceFault => e
        C.check(e.message.is_a?(String) && !e.message.empty?, 'UnknownResourceFault without a message')
      end
      done = true
    end
    return if done
  end
  C.fatal('no activity task')
end

C.eq(decide(domain, wf, act, ex), [3, 0, 'WorkflowExecutionStarted'], 'decision 1')
C.eq(ex.open_counts, { open_activity_tasks: 1, open_decision_tasks: 0, open_timers: 0,
                       open_child_workflow_executions: 0 }, 'open counts with the activity scheduled')
work(swf, domain, act, ex)
C.eq(decide(domain, wf, act, ex), [9, 3, 'ActivityTaskCompleted'], 'decision 2')
C.eq(decide(domain, wf, act, ex), [14, 9, 'TimerFired'], 'decision 3')
ex.signal('sig-1', input: 'sig-in')
C.eq(decide(domain, wf, act, ex), [18, 14, 'WorkflowExecutionSignaled'], 'decision 4')
ex.request_cancel
C.eq(decide(domain, wf, act, ex), [22, 18, 'WorkflowExecutionCancelRequested'], 'decision 5')

# The history, ten a page, twice: in batches, and page by page.
batches = []
ex.history_events.each_batch(batch_size: 10) { |b| batches << b }
C.eq(batches.map(&:size), [10, 10, 4], 'history batches of ten')
events = batches.flatten
page = ex.history_events.page(per_page: 10)
pages = [page]
pages << (page = page.next_page) until page.last_page? || pages.size > 3
C.eq(pages.map(&:size), [10, 10, 4], 'history pages of ten')
C.eq(pages.flat_map { |p| p.map(&:event_id) }, (1..24).to_a, 'paged event ids')
matched = RC.check_events(C, events.map { |e| JSON.parse(e.to_json).merge('eventTimestamp' => e.created_at) },
                deciders: DECIDERS, workers: WORKERS, decider: DECIDER, worker: WORKER, tags: TAGS)

# The SDK's casts of the attributes, as a decider written on it reads them
# (an attribute the event lacks raises).
a = ->(id) { events[id - 1].attributes }
if matched
  C.eq([a[1].input, a[1].child_policy, a[1].execution_start_to_close_timeout, a[1].task_list, a[1].workflow_type,
        a[1].tag_list, a[1].parent_initiated_event_id],
       ['hello', :terminate, 600, DECIDERS, wf, TAGS, 0], 'WorkflowExecutionStarted attributes')
  C.eq([a[5].activity_type, a[5].activity_id, a[5].heartbeat_timeout, a[5].schedule_to_start_timeout,
        a[5].task_list, a[5].decision_task_completed_event_id],
       [act, 'act-1', 30, 60, WORKERS, 4], 'ActivityTaskScheduled attributes')
  C.eq([a[6].identity, a[7].result, a[7].scheduled_event_id, a[7].started_event_id], [WORKER, 'act-out', 5, 6],
       'ActivityTaskStarted and Completed attributes')
  C.eq([a[11].timer_id, a[11].start_to_fire_timeout, a[12].started_event_id], ['t-1', 1, 11], 'timer attributes')
  C.eq([a[16].signal_name, a[16].input, a[24].details], %w[sig-1 sig-in bye], 'signal and cancel attributes')
  C.eq(a[20].keys, [:external_initiated_event_id], 'WorkflowExecutionCancelRequested attribute names')
end

C.eq([ex.status, ex.closed?, ex.latest_execution_context, ex.cancel_requested?], [:canceled, true, 'ctx-22', true],
     'the closed execution')
C.check(ex.closed_at.is_a?(Time) && ex.closed_at >= ex.started_at, "closeTimestamp #{ex.closed_at.inspect}")
C.eq(ex.open_counts, { open_activity_tasks: 0, open_decision_tasks: 0, open_timers: 0,
                       open_child_workflow_executions: 0 }, 'open counts once closed')
C.eq(domain.workflow_executions.with_status(:canceled).to_a, [ex], 'canceled executions')
C.eq(domain.workflow_executions.with_status(:open).count.to_i, 0, 'open executions left')
C.finish(DOMAIN)
