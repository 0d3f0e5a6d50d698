#!/usr/bin/env python3
"""A stand-in for the AWS Lambda API's Invoke, for clients/boto3/lambda.sh.

It serves POST /2015-03-31/functions/NAME/invocations on the port given as
its argument and answers as Lambda does for three functions: "echo" returns
its payload; "boom" fails as a function does (200, X-Amz-Function-Error:
Unhandled, an error payload); any other name does not exist (404,
ResourceNotFoundException). A DryRun invocation (X-Amz-Invocation-Type:
DryRun) of a function that exists answers 204 and runs nothing. GET /calls
returns every invocation so far as JSON: [[name, invocation type], ...].
Signatures are not checked.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2015-03-31/functions/"
calls = []
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != "/calls":
            return self.reply(404)
        with lock:
            body = json.dumps(calls).encode()
        self.reply(200, body, [("Content-Type", "application/json")])

    def do_POST(self):
        payload = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not (self.path.startswith(PREFIX) and self.path.endswith("/invocations")):
            return self.reply(404)
        name = self.path[len(PREFIX):-len("/invocations")]
        kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        with lock:
            calls.append([name, kind])
        if name not in ("echo", "boom"):
            msg = json.dumps({"Type": "User", "message": "Function not found: arn:aws:lambda:us-east-1:123456789012:function:" + name})
            return self.reply(404, msg.encode(), [("Content-Type", "application/json"),
                                                  ("x-amzn-ErrorType", "ResourceNotFoundException")])
        if kind == "DryRun":
            return self.reply(204)
        if name == "echo":
            return self.reply(200, payload, [("Content-Type", "application/json"), ("X-Amz-Executed-Version", "$LATEST")])
        err = json.dumps({"errorType": "ValueError", "errorMessage": "boom", "stackTrace": ["handler.py:3"]})
        self.reply(200, err.encode(), [("Content-Type", "application/json"), ("X-Amz-Executed-Version", "$LATEST"),
                                       ("X-Amz-Function-Error", "Unhandled")])


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("lambda stub listening", server.server_address[1], flush=True)
    server.serve_forever()
