package quota

import "github.com/swfd/swfd/api"

// The real service's default token buckets (the same in every region, per
// account): bucket size and refill per second.

// awsOperations are the buckets of the API operations, one per operation
// for the whole account.
var awsOperations = map[string]Limit{
	"CountClosedWorkflowExecutions":  {Size: 2000, Rate: 6},
	"CountOpenWorkflowExecutions":    {Size: 2000, Rate: 6},
	"CountPendingActivityTasks":      {Size: 200, Rate: 6},
	"CountPendingDecisionTasks":      {Size: 200, Rate: 6},
	"DeleteActivityType":             {Size: 200, Rate: 6},
	"DeleteWorkflowType":             {Size: 200, Rate: 6},
	"DeprecateActivityType":          {Size: 200, Rate: 6},
	"DeprecateDomain":                {Size: 100, Rate: 6},
	"DeprecateWorkflowType":          {Size: 200, Rate: 6},
	"DescribeActivityType":           {Size: 2000, Rate: 6},
	"DescribeDomain":                 {Size: 200, Rate: 6},
	"DescribeWorkflowExecution":      {Size: 2000, Rate: 6},
	"DescribeWorkflowType":           {Size: 2000, Rate: 6},
	"GetWorkflowExecutionHistory":    {Size: 2000, Rate: 60},
	"ListActivityTypes":              {Size: 200, Rate: 6},
	"ListClosedWorkflowExecutions":   {Size: 200, Rate: 6},
	"ListDomains":                    {Size: 100, Rate: 6},
	"ListOpenWorkflowExecutions":     {Size: 200, Rate: 48},
	"ListTagsForResource":            {Size: 50, Rate: 30},
	"ListWorkflowTypes":              {Size: 200, Rate: 6},
	"PollForActivityTask":            {Size: 2000, Rate: 200},
	"PollForDecisionTask":            {Size: 2000, Rate: 200},
	"RecordActivityTaskHeartbeat":    {Size: 2000, Rate: 160},
	"RegisterActivityType":           {Size: 200, Rate: 60},
	"RegisterDomain":                 {Size: 100, Rate: 6},
	"RegisterWorkflowType":           {Size: 200, Rate: 60},
	"RequestCancelWorkflowExecution": {Size: 2000, Rate: 30},
	"RespondActivityTaskCanceled":    {Size: 2000, Rate: 200},
	"RespondActivityTaskCompleted":   {Size: 2000, Rate: 200},
	"RespondActivityTaskFailed":      {Size: 2000, Rate: 200},
	"RespondDecisionTaskCompleted":   {Size: 2000, Rate: 200},
	"SignalWorkflowExecution":        {Size: 2000, Rate: 30},
	"StartWorkflowExecution":         {Size: 2000, Rate: 200},
	"TagResource":                    {Size: 50, Rate: 30},
	"TerminateWorkflowExecution":     {Size: 2000, Rate: 60},
	"UndeprecateActivityType":        {Size: 200, Rate: 6},
	"UndeprecateDomain":              {Size: 100, Rate: 6},
	"UndeprecateWorkflowType":        {Size: 200, Rate: 6},
	"UntagResource":                  {Size: 50, Rate: 30},
}

// awsExecutions are the buckets each workflow execution has of its own for
// the operations that act on one execution; the real service does not
// raise them on request.
var awsExecutions = map[string]Limit{
	"GetWorkflowExecutionHistory":    {Size: 400, Rate: 200},
	"SignalWorkflowExecution":        {Size: 1000, Rate: 1000},
	"RecordActivityTaskHeartbeat":    {Size: 1000, Rate: 1000},
	"RequestCancelWorkflowExecution": {Size: 200, Rate: 200},
}

// awsDecisions are the account's buckets of the decisions the real service
// rate-limits; a decision refused by one fails with its *_RATE_EXCEEDED
// cause. ContinueAsNewWorkflowExecution and ScheduleLambdaFunction have such
// a cause but no published default bucket, so they are limited only when a
// quota file says so.
var awsDecisions = map[api.DecisionType]Limit{
	api.DecisionTypeScheduleActivityTask:                   {Size: 1000, Rate: 200},
	api.DecisionTypeStartTimer:                             {Size: 2000, Rate: 200},
	api.DecisionTypeStartChildWorkflowExecution:            {Size: 500, Rate: 12},
	api.DecisionTypeSignalExternalWorkflowExecution:        {Size: 1200, Rate: 120},
	api.DecisionTypeRequestCancelExternalWorkflowExecution: {Size: 1200, Rate: 120},
}

// awsActivityTaskList is the bucket each task list has of its own for the
// activity tasks scheduled on it: 2,000 a second (ACTIVITY_CREATION_RATE_EXCEEDED
// past it).
var awsActivityTaskList = Limit{Size: 2000, Rate: 2000}

// AWS returns the real service's default quotas.
func AWS() *Config {
	c := &Config{Domains: map[string]*Set{}, Principals: map[string]*Set{}}
	c.Set = *awsSet()
	return c
}

func awsSet() *Set {
	s := &Set{
		Operations:       map[string]Limit{},
		Executions:       map[string]Limit{},
		Decisions:        map[api.DecisionType]Limit{},
		ActivityTaskList: &Limit{},
	}
	for k, v := range awsOperations {
		s.Operations[k] = v
	}
	for k, v := range awsExecutions {
		s.Executions[k] = v
	}
	for k, v := range awsDecisions {
		s.Decisions[k] = v
	}
	*s.ActivityTaskList = awsActivityTaskList
	return s
}
