package e2e

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/jackc/pgx/v5"

	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/internal/swfdtest"
)

// Two nodes serve a database as us-east-1 while every session they hold
// is ended and they cannot connect again (their role's connection limit
// is 0, as if PostgreSQL were restarting for them alone); meanwhile a node
// started as eu-west-1 finds no node's claim held and takes the database
// over. Once the two can connect again they take their claims back, find
// the database served as another region, and answer 503 to every call and
// to /readyz, while the eu-west-1 node serves on. Before, they went on
// serving beside it, each node writing and accepting the ARNs of its own
// region.
func TestClusterNodeOfAnotherRegionInTheGap(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	// A role of the test's own for the us-east-1 nodes, owner of the
	// database and its schema (its connection limit shuts them out alone).
	role, roleDSN := pgtest.OwnerRole(t, dsn, "")

	bin := buildSwfd(t)
	var olds []*swfdProc
	for range 2 {
		olds = append(olds, startSwfd(t, bin, []string{"GOMAXPROCS=1"}, append(nodeArgs(anyPort, roleDSN), "--region", "us-east-1")...))
	}
	for _, q := range []string{"ALTER ROLE " + role + " CONNECTION LIMIT 0",
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND usename = '" + role + "'"} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	waitLong(t, "the nodes' sessions to end", func() bool {
		var n int
		return admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND usename = $1", role).Scan(&n) == nil && n == 0
	})
	other := startSwfd(t, bin, []string{"GOMAXPROCS=1"}, append(nodeArgs(anyPort, dsn), "--region", "eu-west-1")...)
	if _, err := admin.Exec(ctx, "ALTER ROLE "+role+" CONNECTION LIMIT -1"); err != nil {
		t.Fatal(err)
	}
	for _, p := range olds {
		waitLong(t, "a us-east-1 node to stop serving", func() bool { return readyz(p.addr) == http.StatusServiceUnavailable })
		_, err := swfdtest.NewClient("http://"+p.addr).RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("east"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")})
		if code := errCode(err); code != "ServiceUnavailable" {
			t.Errorf("a call to a us-east-1 node beside the eu-west-1 one: %v, want ServiceUnavailable", err)
		}
	}
	if readyz(other.addr) != http.StatusOK {
		t.Error("the eu-west-1 node is not ready")
	}
	if _, err := swfdtest.NewClient("http://"+other.addr).RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("west"),
		WorkflowExecutionRetentionPeriodInDays: aws.String("1")}); err != nil {
		t.Fatalf("a call to the eu-west-1 node: %v", err)
	}
}
