package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/swfd/swfd/internal/awscli"
)

// The real AWS CLI, started warm. A command line of aws costs most of a
// second of CPU before it sends anything (Python starting, importing
// awscli and botocore, loading the SWF model and the endpoint data), and
// the tests here run dozens. So one Python process per run of the
// package (the server) does that work once and then forks a child per
// command line; the child takes the caller's stdin, stdout, stderr,
// working directory, environment and arguments and runs the CLI's own
// entry point (the clidriver's main, as the aws script does), and its exit
// status is the command's. The caller is a small script on PATH named
// aws (the client), so a shell script or exec.Command runs it as it runs
// aws.
//
// What the parent set up is only what does not depend on the
// environment: the CLI's driver built with no configuration file and no
// credentials (it resolves none). A command line whose environment names
// a configuration or credentials file that exists, or a profile, gets a
// driver of its own in the child, built in its environment, as aws would.

// awsForkServer is the parent: it listens on a Unix socket, and for each
// connection receives the client's standard descriptors (SCM_RIGHTS), then
// a length-prefixed JSON request, forks, and the child answers with its
// exit status as a line.
const awsForkServer = `
import json, os, signal, socket, sys
sock_path, home = sys.argv[1], sys.argv[2]
keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONIOENCODING")}
neutral = dict(keep, HOME=home, AWS_CONFIG_FILE=os.path.join(home, "none"), AWS_SHARED_CREDENTIALS_FILE=os.path.join(home, "none"))
os.environ.clear()
os.environ.update(neutral)
import awscli
from awscli.clidriver import create_clidriver
data_path = os.environ["AWS_DATA_PATH"]  # awscli sets it as it is imported, adding its own data
driver = create_clidriver()
driver._get_command_table()
driver.session.get_service_model("swf")
try:  # loads the endpoint data; explicit keys, so none are resolved
    driver.session.create_client("swf", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
except Exception:
    pass
import gc
gc.freeze()  # keep the children from copying the parent's pages
def reap(*_):
    # Waited for, not left to the kernel (SIG_IGN), so that their CPU time
    # is counted in this process's, and so in the tests'.
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
signal.signal(signal.SIGCHLD, reap)

def warm_driver_fits(env):
    # The parent's driver read no configuration: it serves a command line
    # whose environment would have it read none either.
    if any(env.get(k) for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_DATA_PATH")):
        return False
    h = env.get("HOME", "")
    for var, default in (("AWS_CONFIG_FILE", "config"), ("AWS_SHARED_CREDENTIALS_FILE", "credentials")):
        path = env.get(var) or os.path.join(h, ".aws", default)
        if os.path.exists(os.path.expanduser(path)):
            return False
    return True

def recv_exact(conn, n):
    b = b""
    while len(b) < n:
        chunk = conn.recv(n - len(b))
        if not chunk:
            raise EOFError
        b += chunk
    return b

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sock_path)
srv.listen(16)
print("ready", flush=True)
while True:
    conn, _ = srv.accept()
    try:
        head, fds, _, _ = socket.recv_fds(conn, 4, 3)
        if len(fds) != 3:
            raise EOFError
        head += recv_exact(conn, 4 - len(head))
        req = json.loads(recv_exact(conn, int.from_bytes(head, "big")))
    except Exception:
        conn.close()
        continue
    if os.fork() == 0:
        srv.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for i, fd in enumerate(fds):
            os.dup2(fd, i)
            os.close(fd)
        os.chdir(req["cwd"])
        env = dict(req["env"])
        warm = warm_driver_fits(env)
        # As the aws script and importing awscli would have set them in a
        # process of its own.
        if env.get("LC_CTYPE") == "UTF-8":
            env["LC_CTYPE"] = "en_US.UTF-8"
        env["AWS_DATA_PATH"] = os.pathsep.join(p for p in (env.get("AWS_DATA_PATH", ""), data_path) if p)
        os.environ.clear()
        os.environ.update(env)
        d = driver if warm else create_clidriver()
        try:
            rc = d.main(req["args"])
        except SystemExit as ex:
            rc = ex.code if isinstance(ex.code, int) else 1
        except BaseException:
            import traceback
            traceback.print_exc()
            rc = 255
        try:
            sys.stdout.flush()
        except Exception:
            pass
        sys.stderr.flush()
        conn.sendall(b"%d\n" % (rc or 0))
        os._exit(0)
    for fd in fds:
        os.close(fd)
    conn.close()
`

// awsForkClient is the aws the tests run: it hands its descriptors,
// arguments, environment and working directory to the server and exits
// with the status the child answers. Its first line names the Python.
const awsForkClient = `import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["SWFD_TEST_AWS_SOCKET"])
req = json.dumps({"args": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}).encode()
sys.stdout.flush()
socket.send_fds(s, [len(req).to_bytes(4, "big")], [0, 1, 2])
s.sendall(req)
s.shutdown(socket.SHUT_WR)
answer = b""
while True:
    chunk = s.recv(64)
    if not chunk:
        break
    answer += chunk
if not answer.endswith(b"\n"):
    sys.stderr.write("aws (forked): the CLI's process ended without an exit status\n")
    sys.exit(255)
sys.exit(int(answer))
`

// awsFork is the package's one server (see awsForkServer), started by the
// first test that runs aws; TestMain stops it.
var awsFork struct {
	mu  sync.Mutex
	dir string    // the client (aws), the socket, the server's HOME
	cmd *exec.Cmd // nil until started
	err error     // why it could not start: every later test is told
}

// awsCommand returns the directory of an aws to put first on PATH and
// the variable it needs in its environment, or skips the test when the
// AWS CLI is not installed.
func awsCommand(t testing.TB) (dir, socketVar string) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not on PATH")
	}
	awsFork.mu.Lock()
	defer awsFork.mu.Unlock()
	if awsFork.cmd == nil && awsFork.err == nil {
		awsFork.err = startAWSFork()
	}
	if awsFork.err != nil {
		t.Fatalf("the AWS CLI's warm process: %v", awsFork.err)
	}
	return awsFork.dir, "SWFD_TEST_AWS_SOCKET=" + filepath.Join(awsFork.dir, "s")
}

// startAWSFork starts the server, with awsFork.mu held, and waits until it
// listens.
func startAWSFork() error {
	py := awsPython()
	if py == "" {
		return fmt.Errorf("no Python on PATH imports awscli, though aws is installed")
	}
	// Not t.TempDir(): it outlives the test, and a Unix socket's path must
	// be short.
	dir, err := os.MkdirTemp("", "swfd-aws-")
	if err != nil {
		return err
	}
	awsFork.dir = dir
	client := "#!" + py + " -S\n" + awsForkClient
	if err := os.WriteFile(filepath.Join(dir, "aws"), []byte(client), 0o755); err != nil {
		return err
	}
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		return err
	}
	cmd := exec.Command(py, "-c", awsForkServer, filepath.Join(dir, "s"), home)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("it did not start: %q %v", line, err)
	}
	awsFork.cmd = cmd
	return nil
}

// stopAWSFork stops the server and removes its directory.
func stopAWSFork() {
	awsFork.mu.Lock()
	defer awsFork.mu.Unlock()
	if awsFork.cmd != nil {
		awsFork.cmd.Process.Kill()
		awsFork.cmd.Wait()
	}
	if awsFork.dir != "" {
		os.RemoveAll(awsFork.dir)
	}
}

// awsPython is the installed AWS CLI's Python, or "" (awscli.Python).
var awsPython = awscli.Python
