package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/swfd/swfd/internal/awscli"
)

// The real AWS CLI, for comparisons. Starting Python and importing awscli
// costs about a second of CPU, so a batch of `aws swf …` command lines runs
// in one Python process that loads the CLI's data once and runs each
// command line in a child of its own, with a fresh session, driver,
// environment, stdout and stderr.

type awsRun struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	RC     int    `json:"rc"`
}

const awsBatchScript = `
import contextlib, copy, io, json, os, shutil, sys, tempfile, traceback
import botocore.hooks, botocore.session
from awscli import clidriver
from awscli.plugin import load_plugins
req = json.load(sys.stdin)
jobs, parallel = req["jobs"], req["parallel"]
keep = {k: v for k, v in os.environ.items() if k == "AWS_DATA_PATH"}  # set by awscli on import
os.environ.clear()
os.environ.update(keep)
os.environ["HOME"] = tempfile.mkdtemp()  # no config file: nothing here is a job's
# Done once here, as no job's environment changes it: the data files (the
# services, the SWF model, the endpoints, the CLI's own data), which the
# session's data loader keeps, and the CLI's and botocore's event handlers,
# registered in an emitter each command line starts from a copy of. Each
# command line then runs in a forked child, with a session and driver of
# its own made in its own environment, as a separate aws run would: its
# config file, profile, credentials and region, never the first job's.
emitter = botocore.hooks.HierarchicalEmitter()
warm = botocore.session.Session(clidriver.EnvironmentVariables, event_hooks=emitter)
load_plugins({}, event_hooks=warm.get_component("event_emitter"))
warm = clidriver.CLIDriver(session=warm)
warm._get_command_table()
loader = warm.session.get_component("data_loader")
data_path = warm.session.get_config_variable("data_path")
warm.session.get_service_model("swf")
loader.load_data_with_path("endpoints")
loader.load_data("sdk-default-configuration")
warm.session.get_data("cli")
# A client once, for the endpoint rules and what botocore imports and
# caches on first use.
warm.session.create_client("swf", region_name="us-east-1", aws_access_key_id="warm", aws_secret_access_key="warm")
shutil.rmtree(os.environ["HOME"])
del warm
def new_driver():
    session = botocore.session.Session(clidriver.EnvironmentVariables, event_hooks=copy.copy(emitter), include_builtin_handlers=False)
    if session.full_config.get("plugins"):
        return clidriver.create_clidriver()  # its plugins, as aws loads them
    clidriver._set_user_agent_for_session(session)
    if session.get_config_variable("data_path") == data_path:
        session.register_component("data_loader", loader)
    return clidriver.CLIDriver(session=session)
import gc
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
                rc = new_driver().main(job["args"])
            except SystemExit as ex:
                rc = ex.code if isinstance(ex.code, int) else 1
            except Exception:
                traceback.print_exc()  # as python does, for a config file aws cannot read
                rc = 1
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

// awsPython is the installed AWS CLI's Python, or "" (awscli.Python).
var awsPython = awscli.Python

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

// awsBatchJobs is awsBatchN with an environment per command line. Each
// command line runs as a separate aws run would, in its own environment:
// its config file, profile, credentials and region are read afresh, none
// kept from another command line of the batch.
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
