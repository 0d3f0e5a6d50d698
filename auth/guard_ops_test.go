package auth_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/apigen"
)

// guard_ops.go is what its generator writes today: nobody edited it by
// hand, and no operation was added without regenerating it (go generate
// ./auth).
func TestGuardOpsUpToDate(t *testing.T) {
	want, err := apigen.GuardOps(api.Operations)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("guard_ops.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("auth/guard_ops.go differs from its generator's output: run go generate ./auth")
	}
}
