# What the two Ruby real-client scripts share: the SDK's configuration for
# the swfd at SWFD_ENDPOINT, the tally of mismatches, and the scenario's
# expected history (see ../README.md).
#
# aws-sdk v1 (Debian ruby-aws-sdk) is configured as a user points it at
# any endpoint of its own: host, port, http or https. It signs with SigV4
# for service "swf" by itself, and for a host it does not know with its
# configured region (AWS_REGION, else us-east-1); the region is given here
# so that the runner's AWS_REGION cannot change it from the one swfd
# runs with.
require 'aws-sdk-v1'
require 'json'
require 'securerandom'
require 'uri'

module RC
  ENDPOINT = URI(ENV.fetch('SWFD_ENDPOINT', 'http://127.0.0.1:7733'))
  KEY = 'AKIDEXAMPLE'
  SECRET = 'secret'

  def self.configure
    AWS.config(
      access_key_id: KEY,
      secret_access_key: SECRET,
      simple_workflow_endpoint: ENDPOINT.host,
      simple_workflow_port: ENDPOINT.port,
      simple_workflow_region: 'us-east-1',
      use_ssl: ENDPOINT.scheme == 'https',
      # Retrying would hide a fault the scenario expects, or send a call
      # twice; a run against swfd must see each answer as it came.
      max_retries: 0,
    )
  end

  # expected_events is the scenario's whole history as aws-sdk v1 hands it
  # back, each event without its timestamp: every member it knows of each
  # event's attributes (its parser keeps those of its own model and drops
  # the rest). o names what differs between the scripts: the task lists,
  # the deciders' and workers' identities and the tags.
  def self.expected_events(o)
    dts = ->(_id) { ['DecisionTaskScheduled', { 'taskList' => { 'name' => o[:deciders] }, 'startToCloseTimeout' => '30' }] }
    dst = ->(id) { ['DecisionTaskStarted', { 'identity' => o[:decider], 'scheduledEventId' => id - 1 }] }
    dtc = lambda do |id|
      ['DecisionTaskCompleted', { 'executionContext' => "ctx-#{id - 1}", 'scheduledEventId' => id - 2,
                                  'startedEventId' => id - 1 }]
    end
    events = [
      ['WorkflowExecutionStarted', { 'input' => 'hello', 'executionStartToCloseTimeout' => '600',
                                     'taskStartToCloseTimeout' => '30', 'childPolicy' => 'TERMINATE',
                                     'taskList' => { 'name' => o[:deciders] },
                                     'workflowType' => { 'name' => 'rc-wf', 'version' => '1' },
                                     'tagList' => o[:tags], 'parentInitiatedEventId' => 0 }],
      dts[2], dst[3], dtc[4],
      ['ActivityTaskScheduled', { 'activityType' => { 'name' => 'rc-act', 'version' => '1' }, 'activityId' => 'act-1',
                                  'input' => 'act-in', 'scheduleToStartTimeout' => '60',
                                  'scheduleToCloseTimeout' => '120', 'startToCloseTimeout' => '60',
                                  'heartbeatTimeout' => '30', 'taskList' => { 'name' => o[:workers] },
                                  'decisionTaskCompletedEventId' => 4 }],
      ['ActivityTaskStarted', { 'identity' => o[:worker], 'scheduledEventId' => 5 }],
      ['ActivityTaskCompleted', { 'result' => 'act-out', 'scheduledEventId' => 5, 'startedEventId' => 6 }],
      dts[8], dst[9], dtc[10],
      ['TimerStarted', { 'timerId' => 't-1', 'startToFireTimeout' => '1', 'decisionTaskCompletedEventId' => 10 }],
      ['TimerFired', { 'timerId' => 't-1', 'startedEventId' => 11 }],
      dts[13], dst[14], dtc[15],
      ['WorkflowExecutionSignaled', { 'signalName' => 'sig-1', 'input' => 'sig-in', 'externalInitiatedEventId' => 0 }],
      dts[17], dst[18], dtc[19],
      ['WorkflowExecutionCancelRequested', { 'externalInitiatedEventId' => 0 }],
      dts[21], dst[22], dtc[23],
      ['WorkflowExecutionCanceled', { 'details' => 'bye', 'decisionTaskCompletedEventId' => 23 }],
    ]
    events.each_with_index.map do |(type, attrs), i|
      key = type[0].downcase + type[1..] + 'EventAttributes'
      { 'eventType' => type, 'eventId' => i + 1, key => attrs }
    end
  end

  # check_events compares a history, event by event, with expected_events;
  # each event's eventTimestamp must be a Time, none before the one before
  # it, and the timer must fire at least 0.9 s after it started. It
  # returns whether all held.
  def self.check_events(c, events, o)
    want = expected_events(o)
    return false unless c.eq(events.map { |e| e['eventType'] }, want.map { |e| e['eventType'] }, 'history event types')

    ok = events.zip(want).map { |got, w| c.eq(got.reject { |k, _| k == 'eventTimestamp' }, w, "event #{w['eventId']}") }
    ts = events.map { |e| e['eventTimestamp'] }
    return false unless c.check(ts.all? { |t| t.is_a?(Time) }, "eventTimestamps #{ts.map(&:class).uniq}")

    ok << c.check(ts.each_cons(2).all? { |a, b| a <= b }, "timestamps go backwards: #{ts.map(&:to_f)}")
    ok << c.check(ts[11] - ts[10] >= 0.9, "timer fired #{ts[11] - ts[10]} s after it started")
    ok.all?
  end

  # Checker counts mismatches, printing each.
  class Checker
    def initialize(name)
      @name = name
      @failures = 0
    end

    def check(cond, what)
      unless cond
        @failures += 1
        warn "MISMATCH: #{what}"
      end
      cond
    end

    def eq(got, want, what)
      check(got == want, "#{what}:\n  got  #{got.inspect}\n  want #{want.inspect}")
    end

    def fatal(what)
      warn "FATAL: #{what}"
      exit 1
    end

    def finish(domain)
      if @failures > 0
        warn "#{@name}: #{@failures} mismatches"
        exit 1
      end
      puts "#{@name}: scenario passed (domain #{domain})"
    end
  end
end
