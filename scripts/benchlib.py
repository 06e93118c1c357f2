"""Shared helpers for the benchmark scripts: a Delve JSON-RPC client, a
DAP client, server start-up for ferret and dlv, and small statistics."""
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PIN = ["taskset", "-c", "1"] if shutil.which("taskset") else []


class Rpc:
    """A minimal Delve JSON-RPC client (Go net/rpc/jsonrpc framing: a JSON
    object out, one object per line back). Methods without a service name
    are RPCServer's."""

    def __init__(self, addr, timeout=None):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.next_id = 0

    def timed_call(self, method, params):
        """Returns (result, seconds from sending to the reply's last byte,
        leaving out JSON decoding)."""
        self.next_id += 1
        if "." not in method:
            method = "RPCServer." + method
        msg = {"method": method, "params": [params], "id": self.next_id}
        start = time.perf_counter()
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        scanned = 0
        while (end := self.buf.find(b"\n", scanned)) < 0:
            scanned = len(self.buf)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        seconds = time.perf_counter() - start
        obj = json.loads(self.buf[:end])
        del self.buf[:end + 1]
        if obj.get("error"):
            raise RuntimeError(obj["error"])
        return obj["result"], seconds

    def call(self, method, params):
        return self.timed_call(method, params)[0]

    def pipelined(self, method, params_list, window=64):
        """Sends the calls with up to `window` of them in flight on this
        connection (servers may answer them in any order); returns (error
        replies, seconds from the first request sent to the last reply's
        last byte)."""
        if "." not in method:
            method = "RPCServer." + method
        start = time.perf_counter()
        pending, errors, sent = set(), [], 0
        while sent < len(params_list) or pending:
            out = bytearray()
            while sent < len(params_list) and len(pending) < window:
                self.next_id += 1
                pending.add(self.next_id)
                out += json.dumps({"method": method, "params": [params_list[sent]], "id": self.next_id}).encode() + b"\n"
                sent += 1
            if out:
                self.sock.sendall(out)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
            while (end := self.buf.find(b"\n")) >= 0:
                obj = json.loads(self.buf[:end])
                del self.buf[:end + 1]
                pending.discard(obj["id"])
                if obj.get("error"):
                    errors.append(obj["error"])
        return errors, time.perf_counter() - start

    def close(self):
        self.sock.close()


class Dap:
    """A minimal DAP client (Content-Length framing); events are kept."""

    def __init__(self, addr, timeout=None):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.seq = 0
        self.events = []

    def _read(self):
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                length = int(re.search(rb"Content-Length: *(\d+)", bytes(self.buf[:end])).group(1))
                if len(self.buf) >= end + 4 + length:
                    body = bytes(self.buf[end + 4:end + 4 + length])
                    del self.buf[:end + 4 + length]
                    return body
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise OSError("connection closed")
            self.buf += chunk

    def timed_request(self, command, arguments=None):
        """Returns (response, seconds from sending to the response's last
        byte, leaving out JSON decoding). An error response raises."""
        self.seq += 1
        message = {"seq": self.seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        body = json.dumps(message).encode()
        start = time.perf_counter()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        while True:
            raw = self._read()
            seconds = time.perf_counter() - start
            reply = json.loads(raw)
            if reply.get("type") == "response" and reply.get("request_seq") == self.seq:
                if not reply.get("success"):
                    raise RuntimeError(f"{command}: {reply.get('message')}: {reply.get('body')}")
                return reply, seconds
            self.events.append(reply)

    def request(self, command, arguments=None):
        return self.timed_request(command, arguments)[0]

    def close(self):
        self.sock.close()


def start_server(argv, started=None, stderr=subprocess.DEVNULL):
    """Starts a headless server (pinned); returns (process, address). The
    process is appended to the list `started` as soon as it exists."""
    proc = subprocess.Popen(PIN + argv, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL)
    if started is not None:
        started.append(proc)
    line = proc.stdout.readline().decode()
    match = re.search(r"API server listening at: (\S+)", line)
    if not match:
        proc.kill()
        raise SystemExit(f"{argv[0]} did not start: {line!r}")
    # Keep draining: the target shares this stdout.
    import threading
    threading.Thread(target=lambda: proc.stdout.read(), daemon=True).start()
    return proc, match.group(1)


def server_argv(tool, binary, args=()):
    """`exec` command line for `ferret` or `dlv`."""
    argv = [tool, "exec", binary, "--headless", "--listen=127.0.0.1:0", "--api-version=2", "--accept-multiclient"]
    if os.path.basename(tool) == "dlv":
        argv.append("--check-go-version=false")
    if args:
        argv += ["--"] + list(args)
    return argv


def peak_rss_kib(pid):
    """VmHWM of a live process, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for field in status:
            if field.startswith("VmHWM:"):
                return int(field.split()[1])
    return 0


def median(samples):
    return statistics.median(samples)


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ensure_tools():
    """Builds ferret (release) and installs dlv; returns (ferret, dlv)."""
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "ferret"], cwd=ROOT, check=True)
    subprocess.run([os.path.join(ROOT, "scripts", "install-tools")], check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, FERRET_GO_VERSIONS=""))
    return os.path.join(ROOT, "target", "release", "ferret"), os.path.join(ROOT, ".toolchains", "dlv", "dlv")
