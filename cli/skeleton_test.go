package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/apigen"

	"github.com/swfd/swfd/cli/internal/genorder"
)

func TestSkeletonLayout(t *testing.T) {
	r := swfRun(nil, "request-cancel-workflow-execution", "--generate-cli-skeleton")
	want := "{\n    \"domain\": \"\",\n    \"workflowId\": \"\",\n    \"runId\": \"\"\n}\n"
	if r.RC != 0 || r.Stdout != want {
		t.Fatalf("rc=%d got %q want %q (stderr %s)", r.RC, r.Stdout, want, r.Stderr)
	}
	r = swfRun(nil, "register-domain", "--generate-cli-skeleton", "output")
	if r.RC != 0 || r.Stdout != "" {
		t.Fatalf("output skeleton of an operation without output: rc=%d %q", r.RC, r.Stdout)
	}
	r = swfRun(nil, "describe-domain", "--generate-cli-skeleton", "output")
	want = `{
    "domainInfo": {
        "name": "name",
        "status": "status",
        "description": "description",
        "arn": "arn"
    },
    "configuration": {
        "workflowExecutionRetentionPeriodInDays": "workflowExecutionRetentionPeriodInDays"
    }
}
`
	if r.Stdout != want {
		t.Fatalf("got %s", r.Stdout)
	}
	if r := swfRun(nil, "describe-domain", "--generate-cli-skeleton", "yaml"); r.RC != exitUsage {
		t.Fatalf("bad skeleton kind: rc=%d", r.RC)
	}
}

// TestSkeletonsMatchAWSCLI compares --generate-cli-skeleton input and
// output of all 39 commands with the AWS CLI's, after JSON normalisation.
// The AWS CLI picks a random enum value for enum strings in input
// skeletons; there any value of the enum is accepted.
func TestSkeletonsMatchAWSCLI(t *testing.T) {
	if len(commandNames) != 39 {
		t.Fatalf("%d commands, want 39", len(commandNames))
	}
	var argss [][]string
	for i, n := range commandNames {
		c := commands[n]
		if i%8 == 0 {
			// Without a value means input; check that on a few commands.
			argss = append(argss, []string{"swf", n, "--generate-cli-skeleton"})
		}
		// Values that pass the AWS CLI's client-side validation.
		in, _ := json.Marshal(plainJSON(outputSkeleton(shape(c.op.Input))))
		argss = append(argss,
			[]string{"swf", n, "--generate-cli-skeleton", "input"},
			// The AWS CLI wants the required arguments even for an output
			// skeleton: give them as --cli-input-json.
			[]string{"swf", n, "--cli-input-json", string(in), "--generate-cli-skeleton", "output"})
	}
	runs := awsBatchN(t, map[string]string{"AWS_DEFAULT_REGION": "us-east-1"}, argss, 4)
	for i, args := range argss {
		aws := runs[i]
		mine := swfRun(nil, args[1:]...)
		name := args[1] + " " + args[len(args)-1]
		if aws.RC != 0 || mine.RC != 0 {
			t.Errorf("%s: rc aws=%d swf=%d\naws: %s\nswf: %s", name, aws.RC, mine.RC, aws.Stderr, mine.Stderr)
			continue
		}
		if aws.Stdout == "" || mine.Stdout == "" {
			if aws.Stdout != mine.Stdout {
				t.Errorf("%s: aws %q swf %q", name, aws.Stdout, mine.Stdout)
			}
			continue
		}
		var a, m any
		if err := json.Unmarshal([]byte(aws.Stdout), &a); err != nil {
			t.Fatalf("%s: aws output: %v", name, err)
		}
		if err := json.Unmarshal([]byte(mine.Stdout), &m); err != nil {
			t.Fatalf("%s: swf output: %v", name, err)
		}
		c := commands[args[1]]
		if args[len(args)-1] != "output" {
			a = normaliseEnums(shape(c.op.Input), a)
			m = normaliseEnums(shape(c.op.Input), m)
		}
		if !reflect.DeepEqual(a, m) {
			t.Errorf("%s differs:\naws: %s\nswf: %s", name, aws.Stdout, mine.Stdout)
		}
		// Layout too: identical text whenever no enum is involved.
		if args[len(args)-1] == "output" && aws.Stdout != mine.Stdout {
			t.Errorf("%s: same JSON, different text:\naws: %q\nswf: %q", name, aws.Stdout, mine.Stdout)
		}
	}
}

// normaliseEnums replaces every enum-valued string by "<enum>" when it is
// one of the enum's values.
func normaliseEnums(sh *api.Shape, v any) any {
	switch sh.Type {
	case "structure":
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		for _, mem := range sh.Members {
			if x, ok := m[mem.Name]; ok {
				m[mem.Name] = normaliseEnums(shape(mem.Shape), x)
			}
		}
	case "list":
		l, ok := v.([]any)
		if !ok {
			return v
		}
		for i := range l {
			l[i] = normaliseEnums(shape(sh.Member), l[i])
		}
	case "string":
		if s, ok := v.(string); ok && len(sh.Enum) > 0 {
			for _, e := range sh.Enum {
				if s == e {
					return "<enum>"
				}
			}
		}
	}
	return v
}

// TestOrderTableUpToDate regenerates order_gen.go from botocore's model
// when it is installed.
func TestOrderTableUpToDate(t *testing.T) {
	path, err := apigen.FindModel()
	if err != nil {
		t.Skip(err)
	}
	data, err := apigen.ReadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := genorder.Generate(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(".", "order_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatal("order_gen.go is stale: go run ./internal/genorder/cmd/genorder -out order_gen.go")
	}
}
