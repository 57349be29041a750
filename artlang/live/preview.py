"""The live preview behind `artlang watch`: a small local HTTP server for `preview_page.html`.

`PreviewServer` publishes a `LiveState` to the page and passes slider moves to a controller (the
`LiveSession`, which validates them and triggers the re-render):

    GET  /                        the page (carrying this server's token)
    GET  /events                  Server-Sent Events: an `event: state` with the snapshot now, then
                                  one per change; a `: keepalive` comment every 10 s
    GET  /state                   the snapshot as JSON
    GET  /frame/<gen>/<index>.png a frame of image generation `gen` (never changes: cached long)
    POST /params                  {"name": ..., "value": ...}: 204, or 400 {"error": message}
    POST /params/reset            {}: 204

Who may ask. Every request must name this server in its Host (a loopback name or the address
listened on, with the port in use), so a page whose own domain resolves to 127.0.0.1 (DNS
rebinding) is refused; any request with an Origin must come from such an address. A POST also needs
that Origin, `Content-Type: application/json` and the page's token in `X-Artlang-Token`, so no
other site's form or script can change a param; its body is a small flat JSON object, anything else
is refused at once. GETs need no token: the browser keeps other sites from reading the answers
(`Cross-Origin-Resource-Policy`, `nosniff`), and the Host check keeps rebinding pages out. Refusals
are JSON `{"error": ...}` and close the connection.

The snapshots carry one key beyond `LiveState.snapshot()`: `server_id`, random per server, which
the page adds to frame URLs so a restarted `artlang watch` (whose generations count from 1 again)
never meets a cached frame of the previous run. Nothing here prints.
"""
from __future__ import annotations

import hmac
import ipaddress
import json
import math
import re
import secrets
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import urlsplit

from artlang.core.errors import ArtError

PAGE_FILE = "preview_page.html"
KEEPALIVE_SECONDS = 10.0
STOP_CHECK_SECONDS = 0.05      # how often serving and event streams look whether to stop
STOP_GRACE_SECONDS = 1.0       # for answers being written when the server stops
MAX_BODY_BYTES = 64 * 1024
FRAME_ROUTE = re.compile(r"/frame/(\d{1,12})/(\d{1,12})\.png")
AUTHORITY = re.compile(r"(?P<name>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?")
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD_ADDRESSES = frozenset({"", "0.0.0.0", "::"})
TOKEN_HEADER = "X-Artlang-Token"
PAGE_PLACEHOLDERS = (b"{{token}}", b"{{server_id}}")
EVERY_ANSWER_HEADERS = {"X-Content-Type-Options": "nosniff",      # JSON is never run as a script
                        "Cross-Origin-Resource-Policy": "same-origin"}  # nor shown to another site
PAGE_HEADERS = {"Content-Security-Policy": "frame-ancestors 'none'",   # no clickjacked sliders
                "X-Frame-Options": "DENY"}


class PreviewServer:
    """Serves the preview of `state` on http://host:port/ from background threads.

    `controller` needs `set_param(name, value)` (raising `ArtError` for a bad value) and
    `reset_params()`. Port 0 picks a free port; `url` names the one in use after `start()`.
    `token` is the secret the page sends with every POST, new for each server.
    """

    def __init__(self, state, controller, host: str = "127.0.0.1", port: int = 8421):
        self.state, self.controller = state, controller
        self.host, self.port = host, port
        self.server_id = secrets.token_hex(4)
        self.token = secrets.token_urlsafe(32)
        page = resources.files(__package__).joinpath(PAGE_FILE).read_bytes()
        for placeholder, value in zip(PAGE_PLACEHOLDERS, (self.token, self.server_id)):
            page = page.replace(placeholder, value.encode())
        self.page = page
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

    def names_this_server(self, authority: str) -> bool:
        """Whether a Host header (or an Origin's `name:port`) is this server: the port in use, and a
        loopback name, the address listened on, or (listening on every address) any IP address.
        Any other name may be a DNS rebinding: a foreign domain resolved to this machine."""
        match = AUTHORITY.fullmatch(authority)
        if not match or int(match["port"] or 80) != self.port:
            return False
        name = match["name"].lower().strip("[]")
        if name in LOOPBACK_NAMES or name == self.host.lower():
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return self.host in WILDCARD_ADDRESSES

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


class _Refusal(Exception):
    """A request answered `status` {"error": message}, its connection then closed."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


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
        self._answer(self._get)

    def do_POST(self) -> None:
        self._answer(self._post)

    def _get(self, path: str) -> None:
        frame = FRAME_ROUTE.fullmatch(path)
        if path == "/":
            self._reply(200, self.preview.page, "text/html; charset=utf-8", headers=PAGE_HEADERS)
        elif path == "/events":
            self._stream_events()
        elif path == "/state":
            self._reply_json(200, self.preview.snapshot())
        elif frame and (png := self.preview.state.frame(int(frame[1]), int(frame[2]))):
            self._reply(200, png, "image/png", cache="public, max-age=31536000, immutable")
        else:
            self._reply_json(404, {"error": f"no such page: {path}"})

    def _post(self, path: str) -> None:
        self._check_token()
        request = self._read_json_object()
        if path == "/params":
            self._set_param(request)
        elif path == "/params/reset":
            self.preview.controller.reset_params()
            self._reply(204)
        else:
            self._reply_json(404, {"error": f"no such page: {path}"})

    def _set_param(self, request: dict) -> None:
        name, value = request.get("name"), request.get("value")
        if (not isinstance(name, str) or isinstance(value, bool)
                or not isinstance(value, (int, float, str))
                or isinstance(value, float) and not math.isfinite(value)):
            raise _Refusal(400, 'expected JSON {"name": ..., "value": ...} with a text name and a '
                                "finite number or a text value")
        try:
            self.preview.controller.set_param(name, value)
        except ArtError as failure:
            self._reply_json(400, {"error": failure.diagnostics[0].message})
            return
        self._reply(204)

    def _stream_events(self) -> None:
        """One `state` event now and one per change, until the state closes, the server stops or
        the client leaves (each noticed within STOP_CHECK_SECONDS)."""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        for name, value in EVERY_ANSWER_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        state, stopping = self.preview.state, self.preview.stopping
        try:
            self.wfile.write(b"retry: 1000\n\n")          # reconnect within a second
            version = self._send_state()
            last_sent = time.monotonic()
            while not stopping.is_set() and not state.closed and not self._client_left():
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

    def _client_left(self) -> bool:
        """Whether the client closed the connection (an event stream's client sends nothing more,
        so the socket turns readable only at its end); asked without blocking."""
        timeout = self.connection.gettimeout()
        self.connection.settimeout(0)
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True
        finally:
            self.connection.settimeout(timeout)

    # who may ask (see the module docstring) ──────────────────────────────────────────────────────
    def _answer(self, route) -> None:
        try:
            self._check_host_and_origin()
            route(urlsplit(self.path).path)
        except _Refusal as refusal:
            self._reply_json(refusal.status, {"error": refusal.message},
                             headers={"Connection": "close"})

    def _check_host_and_origin(self) -> None:
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1:
            raise _Refusal(400, "a request needs exactly one Host header")
        if not self.preview.names_this_server(hosts[0]):
            raise _Refusal(421, f"this preview does not answer for the host {hosts[0]!r}; "
                                f"open {self.preview.url}")
        origins = self.headers.get_all("Origin") or []
        if not origins and self.command != "POST":
            return
        origin = origins[0] if len(origins) == 1 else ""
        if not (origin.startswith("http://")
                and self.preview.names_this_server(origin[len("http://"):])):
            raise _Refusal(403, f"refused: the origin {origin or 'none'!r} is not the preview "
                                f"page; open {self.preview.url}")

    def _check_token(self) -> None:
        given = self.headers.get(TOKEN_HEADER, "").encode()
        if not hmac.compare_digest(given, self.preview.token.encode()):
            raise _Refusal(403, f"refused: a missing or wrong {TOKEN_HEADER} (the preview was "
                                "restarted? reload the page)")

    def _read_json_object(self) -> dict:
        """The body, a JSON object of at most MAX_BODY_BYTES; anything else is refused at once."""
        if self.headers.get_content_type() != "application/json":
            raise _Refusal(415, "a POST must be Content-Type: application/json")
        length = self.headers.get("Content-Length")
        if length is None or "Transfer-Encoding" in self.headers:
            raise _Refusal(411, "a POST needs a Content-Length")
        if not (length.isascii() and length.isdigit()):
            raise _Refusal(400, f"Content-Length {length[:40]!r} is not a number of bytes")
        if len(length) > 12 or int(length) > MAX_BODY_BYTES:
            raise _Refusal(413, f"a body may have at most {MAX_BODY_BYTES} bytes")
        body = self.rfile.read(int(length))
        try:
            request = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
        except (ValueError, RecursionError):        # RecursionError: nested too deeply
            raise _Refusal(400, "the body is not JSON (or is nested too deeply)") from None
        if not isinstance(request, dict):
            raise _Refusal(400, "the body must be a JSON object")
        return request

    # plumbing ───────────────────────────────────────────────────────────────────────────────────
    def _reply(self, status: int, body: bytes = b"", content_type: str | None = None,
               cache: str = "no-store", headers: dict | None = None) -> None:
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", content_type or "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", cache)
        for name, value in {**EVERY_ANSWER_HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _reply_json(self, status: int, value, headers: dict | None = None) -> None:
        self._reply(status, json.dumps(value).encode(), "application/json", headers=headers)


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")
