"""pytest fixtures that run the tests of SWF deciders and workers against swfd --dev.

One swfd serves the whole session; every test starts from an empty server
(the `reset` fixture), and moves swfd's manual clock instead of waiting.
Set SWFD to the swfd binary's path if it is not on PATH.
"""
import json
import os
import re
import subprocess
import threading
import urllib.request

import boto3
import botocore.config
import pytest


@pytest.fixture(scope="session")
def swfd_url():
    """Starts swfd --dev on a free port for the session; yields its URL."""
    proc = subprocess.Popen(
        [os.environ.get("SWFD", "swfd"), "--dev", "--clock", "manual", "--addr", "127.0.0.1:0"],
        stderr=subprocess.PIPE, text=True)
    url = None
    for line in proc.stderr:  # swfd logs the address it got
        m = re.search(r'msg="swfd listening" addr=(\S+)', line)
        if m:
            url = "http://" + m.group(1)
            break
    if url is None:
        proc.kill()
        raise RuntimeError("swfd did not start: " + str(proc.wait()))
    # Keep reading swfd's log: a pipe nobody reads fills up (64 KB), and
    # swfd, blocked writing its log, would stop answering (each reset logs
    # a few lines).
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    yield url
    proc.terminate()
    proc.wait()


def admin(url, path, body=None):
    """Calls swfd's admin API (POST with a JSON body, or GET)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req) as resp:
        return json.load(resp)


@pytest.fixture(autouse=True)
def reset(swfd_url):
    """Gives each test an empty swfd: no domains, executions or tasks."""
    admin(swfd_url, "/swfd/dev/reset", {})
    yield


@pytest.fixture
def clock(swfd_url):
    """Moves swfd's clock: clock.advance("24h") fires every timer and timeout due on the way."""
    class Clock:
        def advance(self, duration):
            return admin(swfd_url, "/swfd/clock/advance", {"duration": duration})

        def now(self):
            return admin(swfd_url, "/swfd/clock")["now"]
    return Clock()


@pytest.fixture
def swf(swfd_url):
    """A boto3 SWF client for swfd (any credentials do without --auth)."""
    return boto3.client(
        "swf", endpoint_url=swfd_url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        # Longer than swfd --dev's 5 s long poll.
        config=botocore.config.Config(read_timeout=15, retries={"mode": "standard"}))
