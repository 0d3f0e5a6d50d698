package frontend

import (
	"context"
	"net/http"
	"reflect"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/auth"
)

// Call is what the handler knows of one call: who made it, what it was,
// and how it was answered. It holds no input, result, token or secret, so
// it may be logged whole. An operation made in-process (NewCall) is
// described as the API would have answered it.
type Call struct {
	Time      time.Time // when the request arrived
	RequestID string    // the x-amzn-RequestId answered
	// Operation is the SWF operation the X-Amz-Target names; empty when it
	// names none.
	Operation string
	// Domain is the domain the call acts on, when the handler knows it
	// (see Handler.CallDomains): the input's domain, the domain a task
	// token or a tagging call's ARN names. Empty for ListDomains and for
	// calls refused before their input was read.
	Domain string
	// Principal is the auth-file principal that signed the call; empty
	// without authentication or when the signature was refused.
	Principal string
	// Status is the HTTP status answered; StatusClientClosed (499) when
	// the client went away before an answer was ready and nothing was
	// answered (Fault is then ClientClosed).
	Status int
	// Fault is the code of the fault answered (api.UnknownResourceFault,
	// api.ThrottlingException, …); empty on success.
	Fault    string
	Duration time.Duration // from arrival until the answer was written
	BytesIn  int64         // the request body as sent
	BytesOut int64         // the answer's body
}

// NewCall begins the Call of an operation made in-process rather than over
// HTTP (the web console makes its actions so), for the same Observe as the
// API's calls: it arrives now, gets a request id of its own (answered to
// no one), the domain in acts on (not a task token's) and the name of the
// principal ctx carries. BytesIn and BytesOut stay 0: nothing crosses the
// network. Call Done when the operation returns.
func NewCall(ctx context.Context, op string, in any) *Call {
	c := &Call{Time: time.Now(), RequestID: newRequestID(), Operation: op}
	if info, ok := api.Operations[op]; ok && reflect.TypeOf(in) == reflect.TypeOf(info.NewInput()) {
		c.Domain = domainOf(ctx, op, in, nil)
	}
	if p := auth.FromContext(ctx); p != nil {
		c.Principal = p.Name
	}
	return c
}

// Done records how an in-process call (NewCall) ended, err being what the
// operation returned: the status and fault the API would have answered
// (Fault ClientClosed and Status 499 when the caller went away), and how long
// it took.
func (c *Call) Done(err error) {
	c.Duration = time.Since(c.Time)
	if err == nil {
		c.Status = http.StatusOK
		return
	}
	f := FaultFor(err)
	if f == nil {
		c.Fault, c.Status = ClientClosed, StatusClientClosed
		return
	}
	_, c.Status, _ = faultAnswer(f)
	c.Fault = f.Code
}

// ClientClosed is Call.Fault when the client went away before its answer
// was ready (a long poll given up, a timed-out client): nothing is
// answered. It is not a fault of the call, and not one of SWF's: metrics
// and the access log keep it apart from them.
const ClientClosed = "ClientClosed"

// StatusClientClosed is Call.Status with ClientClosed: 499, nginx's
// "client closed request", as access logs have it. No HTTP status was
// sent.
const StatusClientClosed = 499

// domainField is, for each operation whose input has a domain member,
// that member's index in the input struct.
var domainField = func() map[string]int {
	m := map[string]int{}
	for name, info := range api.Operations {
		if f, ok := reflect.TypeOf(info.NewInput()).Elem().FieldByName("Domain"); ok && f.Type.Kind() == reflect.String && len(f.Index) == 1 {
			m[name] = f.Index[0]
		}
	}
	return m
}()

// domainOf returns the domain an operation's input acts on; the domain
// of a task token is taskDomain's (nil: unknown).
func domainOf(ctx context.Context, op string, in any, taskDomain func(ctx context.Context, token string) (string, bool, error)) string {
	if i, ok := domainField[op]; ok {
		return reflect.ValueOf(in).Elem().Field(i).String()
	}
	switch in := in.(type) {
	case *api.RegisterDomainInput:
		return in.Name
	case *api.DescribeDomainInput:
		return in.Name
	case *api.DeprecateDomainInput:
		return in.Name
	case *api.UndeprecateDomainInput:
		return in.Name
	case *api.TagResourceInput:
		return arnDomain(in.ResourceArn)
	case *api.UntagResourceInput:
		return arnDomain(in.ResourceArn)
	case *api.ListTagsForResourceInput:
		return arnDomain(in.ResourceArn)
	case *api.RespondDecisionTaskCompletedInput:
		return tokenDomain(ctx, taskDomain, in.TaskToken)
	case *api.RecordActivityTaskHeartbeatInput:
		return tokenDomain(ctx, taskDomain, in.TaskToken)
	case *api.RespondActivityTaskCompletedInput:
		return tokenDomain(ctx, taskDomain, in.TaskToken)
	case *api.RespondActivityTaskFailedInput:
		return tokenDomain(ctx, taskDomain, in.TaskToken)
	case *api.RespondActivityTaskCanceledInput:
		return tokenDomain(ctx, taskDomain, in.TaskToken)
	}
	return ""
}

func tokenDomain(ctx context.Context, taskDomain func(context.Context, string) (string, bool, error), token string) string {
	if taskDomain == nil {
		return ""
	}
	d, _, _ := taskDomain(ctx, token)
	return d
}

func arnDomain(arn string) string {
	_, _, name, _ := auth.ParseDomainARN(arn)
	return name
}
