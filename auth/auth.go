// Package auth authenticates and authorizes SWF requests the way AWS does.
//
//   - Authentication: every request's AWS Signature Version 4 is checked
//     (Verifier) against the access keys of an auth file (Keyring), which
//     names principals, their keys and their IAM policies and can be
//     reloaded while the server runs.
//   - Authorization: IAM identity policies (ParsePolicy, Evaluate) decide
//     each API call, swf:<Operation> on the domain's ARN with SWF's
//     condition keys (Guard, a wrapper around api.Service), and each
//     decision of RespondDecisionTaskCompleted as the pseudo-action
//     swf:<DecisionType> (DecisionHook, called by the history engine).
//
// The authenticated Principal travels in the request's context
// (NewContext, FromContext).
package auth
