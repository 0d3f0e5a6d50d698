package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// The real AWS CLI, for comparisons. Starting Python and importing awscli
// costs about a second of CPU, so a batch of `aws swf …` command lines runs
// in one Python process that calls the CLI's own entry point once per
// command line, with fresh stdout/stderr each time.

type awsRun struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	RC     int    `json:"rc"`
}

const awsBatchScript = `
import io, json, os, sys, contextlib
from awscli.clidriver import create_clidriver
req = json.load(sys.stdin)
jobs, parallel = req["jobs"], req["parallel"]
keep = {k: v for k, v in os.environ.items() if k == "AWS_DATA_PATH"}  # set by awscli on import
os.environ.clear()
os.environ.update(keep)
os.environ.update(jobs[0]["env"] if jobs else {})
# Build the driver and load the SWF model once; each command line then runs
# in a forked child, which starts from this warm state and calls main once.
driver = create_clidriver()
driver._get_command_table()
driver.session.get_service_model("swf")
try:
    driver.session.create_client("swf", region_name="us-east-1")  # loads endpoint data
except Exception:
    pass
import gc, tempfile
gc.freeze()  # keep the children from copying the parent's pages
tmp = tempfile.mkdtemp()
running = {}
def reap():
    pid, _ = os.wait()
    running.pop(pid, None)
for n, job in enumerate(jobs):
    while len(running) >= parallel:
        reap()
    pid = os.fork()
    if pid == 0:
        os.environ.clear()
        os.environ.update(keep)
        os.environ.update(job["env"])
        o, e = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
            try:
                rc = driver.main(job["args"])
            except SystemExit as ex:
                rc = ex.code if isinstance(ex.code, int) else 1
        with open(os.path.join(tmp, str(n)), "w") as f:
            json.dump({"stdout": o.getvalue(), "stderr": e.getvalue(), "rc": rc}, f)
        os._exit(0)
    running[pid] = n
while running:
    reap()
out = []
for n in range(len(jobs)):
    with open(os.path.join(tmp, str(n))) as f:
        out.append(json.load(f))
    os.remove(os.path.join(tmp, str(n)))
os.rmdir(tmp)
json.dump(out, sys.stdout)
`

// awsPython returns the absolute path of a Python that can import awscli
// when the aws command is installed, or "". It looks once per run of the
// package's tests (each look starts Python and imports awscli, about half
// a second of CPU), and gives the interpreter itself, not a launcher such
// as pyenv's shim, which is a shell script that starts a few more
// processes each time.
var awsPython = sync.OnceValue(func() string {
	if _, err := exec.LookPath("aws"); err != nil {
		return ""
	}
	var candidates []string
	if path, err := exec.LookPath("aws"); err == nil {
		if f, err := os.Open(path); err == nil {
			line, _ := bufio.NewReader(f).ReadString('\n')
			f.Close()
			if fields := strings.Fields(strings.TrimPrefix(line, "#!")); strings.HasPrefix(line, "#!") && len(fields) > 0 && strings.Contains(fields[len(fields)-1], "python") {
				candidates = append(candidates, fields[len(fields)-1])
			}
		}
	}
	candidates = append(candidates, "python3", "python")
	for _, c := range candidates {
		if out, err := exec.Command(c, "-c", "import awscli, sys; print(sys.executable)").Output(); err == nil {
			if exe := strings.TrimSpace(string(out)); exe != "" {
				return exe
			}
			return c
		}
	}
	return ""
})

// awsBatch runs each argument list as `aws <args>` with env (and nothing
// else) as the environment: one Python process, a fork per command line. It skips the test when aws is not installed.
func awsBatch(t *testing.T, env map[string]string, argss [][]string) []awsRun {
	return awsBatchN(t, env, argss, 1)
}

// awsBatchN is awsBatch running up to parallel command lines at a time
// (for command lines that do not depend on each other).
func awsBatchN(t *testing.T, env map[string]string, argss [][]string, parallel int) []awsRun {
	t.Helper()
	jobs := make([]awsJob, len(argss))
	for i, a := range argss {
		jobs[i] = awsJob{Args: a, Env: env}
	}
	return awsBatchJobs(t, jobs, parallel)
}

// awsJob is one command line of a batch, and its environment.
type awsJob struct {
	Args []string          `json:"args"`
	Env  map[string]string `json:"env"`
}

// awsBatchJobs is awsBatchN with an environment per command line. The
// CLI is set up (and the config file read) once, in the first job's
// environment; each command line then runs in its own: what botocore
// reads from the environment as the command runs (AWS_ENDPOINT_URL_SWF,
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, …) is that command line's.
func awsBatchJobs(t *testing.T, jobs []awsJob, parallel int) []awsRun {
	t.Helper()
	py := awsPython()
	if py == "" {
		t.Skip("aws (AWS CLI v1) not installed")
	}
	home := t.TempDir()
	for i, j := range jobs {
		env := map[string]string{"HOME": home, "PATH": os.Getenv("PATH"), "AWS_PAGER": "", "PAGER": "cat", "AWS_EC2_METADATA_DISABLED": "true"}
		for k, v := range j.Env {
			env[k] = v
		}
		jobs[i].Env = env
	}
	in, _ := json.Marshal(map[string]any{"jobs": jobs, "parallel": parallel})
	cmd := exec.Command(py, "-c", awsBatchScript)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws batch: %v\n%s", err, stderr.String())
	}
	var runs []awsRun
	if err := json.Unmarshal(out, &runs); err != nil {
		t.Fatalf("aws batch output: %v\n%s", err, out)
	}
	return runs
}

// awsMaxAttempts set to "1" has the AWS CLI make each call once. When a
// connection fails (an SSL error) aws tries four more times, backing off
// at random for up to 15 s in all, and then prints the error it would
// have printed after the first attempt; swf makes one attempt. Tests of
// such errors compare the error and set this, so that aws does not wait
// out its retries.
const awsMaxAttempts = "AWS_MAX_ATTEMPTS"

// swfRun runs the swf command line in-process.
func swfRun(env map[string]string, args ...string) awsRun {
	var o, e bytes.Buffer
	rc := Main(args, strings.NewReader(""), &o, &e, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return awsRun{Stdout: o.String(), Stderr: e.String(), RC: rc}
}
