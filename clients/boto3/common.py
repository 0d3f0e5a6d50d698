"""What the boto3 scripts share: the client for SWFD_ENDPOINT and the way
they report a mismatch (check, which goes on) or give up (fatal)."""
import os
import sys

import boto3
from botocore.config import Config

ENDPOINT = os.environ.get("SWFD_ENDPOINT", "http://127.0.0.1:7733")

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("MISMATCH:", what, file=sys.stderr)
    return cond


def fatal(what):
    print("FATAL:", what, file=sys.stderr)
    sys.exit(1)


swf = boto3.client(
    "swf",
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    aws_access_key_id="AKIDEXAMPLE",
    aws_secret_access_key="secret",
    config=Config(read_timeout=70, retries={"total_max_attempts": 1}),  # one attempt: a failure shows as it is
)
