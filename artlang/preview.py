"""The live preview behind `artlang watch`: a small local HTTP server for `preview_page.html`.

`PreviewServer` publishes a `LiveState` to the page and passes slider moves to a controller (the
`LiveSession`, which validates them and triggers the re-render):

    GET  /                        the page
    GET  /events                  Server-Sent Events: an `event: state` with the snapshot now, then
                                  one per change; a `: keepalive` comment every 10 s
    GET  /state                   the snapshot as JSON
    GET  /frame/<gen>/<index>.png a frame of image generation `gen` (never changes: cached long)
    POST /params                  {"name": ..., "value": ...}: 204, or 400 {"error": message}
    POST /params/reset            204

The snapshots carry one key beyond `LiveState.snapshot()`: `server_id`, random per server, which
the page adds to frame URLs so a restarted `artlang watch` (whose generations count from 1 again)
never meets a cached frame of the previous run. Nothing here prints.
"""
from __future__ import annotations

import json
import re
import secrets
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import urlsplit

from .errors import ArtError

PAGE_FILE = "preview_page.html"
KEEPALIVE_SECONDS = 10.0
STOP_CHECK_SECONDS = 0.05      # how often serving and event streams look whether to stop
STOP_GRACE_SECONDS = 1.0       # for answers being written when the server stops
MAX_BODY_BYTES = 64 * 1024
FRAME_ROUTE = re.compile(r"/frame/(\d+)/(\d+)\.png")


class PreviewServer:
    """Serves the preview of `state` on http://host:port/ from background threads.

    `controller` needs `set_param(name, value)` (raising `ArtError` for a bad value) and
    `reset_params()`. Port 0 picks a free port; `url` names the one in use after `start()`.
    """

    def __init__(self, state, controller, host: str = "127.0.0.1", port: int = 8421):
        self.state, self.controller = state, controller
        self.host, self.port = host, port
        self.server_id = secrets.token_hex(4)
        self.page = resources.files(__package__).joinpath(PAGE_FILE).read_bytes()
        self.stopping = threading.Event()
        self._http: _HTTPServer | None = None
        self._serve_thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> PreviewServer:
        """Bind (raising `OSError` when the port is taken) and serve in a background thread."""
        self.stopping.clear()
        self._http = _HTTPServer((self.host, self.port), self)
        self.port = self._http.server_address[1]
        self._serve_thread = threading.Thread(target=self._http.serve_forever,
                                              args=(STOP_CHECK_SECONDS,), name="artlang-preview",
                                              daemon=True)
        self._serve_thread.start()
        return self

    def stop(self) -> None:
        """End every event stream and connection, join every thread started, free the port."""
        if self._http is None:
            return
        self.stopping.set()
        self._http.shutdown()                   # serve_forever returns: no new connections
        self._serve_thread.join()
        self._http.server_close()               # ends open connections, joins their threads
        self._http = self._serve_thread = None

    def __enter__(self) -> PreviewServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def snapshot(self) -> dict:
        """The state's snapshot, plus this server's `server_id`."""
        return {**self.state.snapshot(), "server_id": self.server_id}


class _HTTPServer(ThreadingHTTPServer):
    """A thread per connection, each one tracked so `server_close` can end and join it."""

    daemon_threads = True       # a forgotten stop() must not keep the interpreter alive

    def __init__(self, address, preview: PreviewServer):
        self.preview = preview
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._workers: list[threading.Thread] = []
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)    # HTTPServer's would look up the host's name
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request, client_address) -> None:
        thread = threading.Thread(target=self.process_request_thread,
                                  args=(request, client_address),
                                  name="artlang-preview-connection", daemon=True)
        with self._lock:
            self._workers = [t for t in self._workers if t.is_alive()] + [thread]
            self._connections.add(request)
        thread.start()

    def shutdown_request(self, request) -> None:
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        """Close the port; end every connection (an answer being written may finish) and join."""
        super().server_close()
        self._shut_connections(socket.SHUT_RD)          # a handler waiting for a request wakes
        if not self._join_workers(STOP_GRACE_SECONDS):
            self._shut_connections(socket.SHUT_RDWR)    # and one writing to a stalled client
            self._join_workers(None)

    def _shut_connections(self, how: int) -> None:
        with self._lock:                            # shutdown_request takes it before closing
            for connection in self._connections:
                try:
                    connection.shutdown(how)
                except OSError:
                    pass

    def _join_workers(self, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            worker.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(worker.is_alive() for worker in workers)

    def handle_error(self, request, client_address) -> None:
        pass                                    # a client gone mid-response is not news


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"               # keep-alive for the frame requests
    server_version = "artlang-preview"
    timeout = 60                                # an idle connection's thread does not linger

    @property
    def preview(self) -> PreviewServer:
        return self.server.preview

    def log_message(self, format, *args) -> None:
        pass

    # routes ─────────────────────────────────────────────────────────────────────────────────────
    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        frame = FRAME_ROUTE.fullmatch(path)
        if path == "/":
            self._reply(200, self.preview.page, "text/html; charset=utf-8")
        elif path == "/events":
            self._stream_events()
        elif path == "/state":
            self._reply_json(200, self.preview.snapshot())
        elif frame and (png := self.preview.state.frame(int(frame[1]), int(frame[2]))):
            self._reply(200, png, "image/png", cache="public, max-age=31536000, immutable")
        else:
            self._reply_json(404, {"error": f"no such page: {path}"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path == "/params":
            self._set_param()
        elif path == "/params/reset":
            self._read_body()
            self.preview.controller.reset_params()
            self._reply(204)
        else:
            self._read_body()
            self._reply_json(404, {"error": f"no such page: {path}"})

    def _set_param(self) -> None:
        try:
            request = json.loads(self._read_body())
        except ValueError:
            request = None
        if (not isinstance(request, dict) or not isinstance(request.get("name"), str)
                or not isinstance(request.get("value"), (int, float, str))
                or isinstance(request.get("value"), bool)):
            self._reply_json(400, {"error": 'expected JSON {"name": ..., "value": ...}'})
            return
        try:
            self.preview.controller.set_param(request["name"], request["value"])
        except ArtError as failure:
            self._reply_json(400, {"error": failure.diagnostics[0].message})
            return
        self._reply(204)

    def _stream_events(self) -> None:
        """One `state` event now and one per change, until the state closes or the server stops."""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        state, stopping = self.preview.state, self.preview.stopping
        try:
            self.wfile.write(b"retry: 1000\n\n")          # reconnect within a second
            version = self._send_state()
            last_sent = time.monotonic()
            while not stopping.is_set() and not state.closed:
                if state.wait(version, STOP_CHECK_SECONDS):
                    version = self._send_state()
                    last_sent = time.monotonic()
                elif time.monotonic() - last_sent >= KEEPALIVE_SECONDS:
                    self.wfile.write(b": keepalive\n\n")
                    last_sent = time.monotonic()
        except OSError:
            pass                                        # the page went away

    def _send_state(self) -> int:
        snapshot = self.preview.snapshot()
        self.wfile.write(b"event: state\ndata: " + json.dumps(snapshot).encode() + b"\n\n")
        return snapshot["version"]

    # plumbing ───────────────────────────────────────────────────────────────────────────────────
    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            return b""
        return self.rfile.read(length)

    def _reply(self, status: int, body: bytes = b"", content_type: str | None = None,
               cache: str = "no-store") -> None:
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", content_type or "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", cache)
        self.end_headers()
        self.wfile.write(body)

    def _reply_json(self, status: int, value) -> None:
        self._reply(status, json.dumps(value).encode(), "application/json")
