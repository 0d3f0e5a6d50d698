// Package e2e holds swfd's end-to-end tests: real servers — in-process on
// loopback ports (internal/swfdtest) or the built swfd binary — driven over
// HTTP by real clients (aws-sdk-go-v2 and v1, the AWS CLI, the swf command
// line), as users drive them. Nothing here is imported; the package is its
// tests.
//
// What they cover, by file: whole workflows and every decision
// (workflow_test.go), timers and timeouts (timers_test.go, and on the
// manual and skip clocks clock_test.go; what a run's timeout, a
// continue-as-new or a termination leaves behind, timing_test.go), visibility, the registry and the
// quotas, authentication and IAM (auth_test.go), TLS, metrics, backups and
// a full disk, crashes and restarts (crash_test.go, timer_restart_test.go),
// a cluster on PostgreSQL (cluster_test.go), hostile clients (floods of
// connections and malformed requests, hostile_test.go), and the real
// clients' scenario (realclient_*_test.go; clients/ runs the others).
//
// The binaries (swfd, swf) are built once per run of the package, and the
// AWS CLI runs warm: one Python process that has imported it forks a
// child per command line (awsfork_test.go).
//
// Switches: SWFD_KILL_TEST=1 runs the kill -9 safety test under load;
// SWFD_ENDPOINT points the real-client tests at a running server instead
// of their own; SWFD_HOSTILE_POLLS and SWFD_HOSTILE_IDLE size the hostile
// clients' crowd; SWFD_REQUIRE_POSTGRES=1 fails, instead of skipping, the
// tests that need PostgreSQL. `go test -short` skips the tests that build
// binaries or open thousands of connections.
package e2e
