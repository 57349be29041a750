"""The preview server over real HTTP: a `PreviewServer` on a free port, a `LiveState` filled by hand
and a fake controller standing in for the watcher."""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import numpy as np
import pytest

from artlang.live import preview
from artlang.core.errors import USAGE, ArtError, Diagnostic
from artlang.live.session import LiveState, ParamControl
from artlang.live.preview import PreviewServer
from artlang.output.writers import encode_png_fast

RADIUS = ParamControl("radius", "num", 0.3, 0.3, 0.1, 0.9, "the disc's radius")


def png(red: float) -> bytes:
    pixels = np.zeros((4, 6, 4), np.float32)
    pixels[..., 0], pixels[..., 3] = red, 1.0
    return encode_png_fast(pixels)


def publish(state: LiveState, picture: bytes, frame_count: int = 1) -> None:
    state.publish_image(picture, shown_frame=0, frame_count=frame_count, fps=24.0, size=(6, 4),
                        render_ms=12.5, params=[RADIUS])


class FakeController:
    def __init__(self):
        self.calls: list[tuple] = []
        self.failure: ArtError | None = None

    def set_param(self, name, value):
        self.calls.append(("set", name, value))
        if self.failure:
            raise self.failure

    def reset_params(self):
        self.calls.append(("reset",))


@pytest.fixture
def state():
    return LiveState("folder/sketch.art", "folder/sketch.png")


@pytest.fixture
def controller():
    return FakeController()


@pytest.fixture
def server(state, controller):
    server = PreviewServer(state, controller, port=0).start()
    yield server
    server.stop()


def page_headers(server) -> dict:
    """The headers the preview page's own fetch() sends with a POST."""
    return {"Origin": f"http://127.0.0.1:{server.port}", "X-Artlang-Token": server.token,
            "Content-Type": "application/json"}


def request(server, method, path, body=None, headers=None, timeout=5):
    """One request on a fresh connection; a POST carries the page's headers unless `headers`."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        if headers is None:
            headers = page_headers(server) if method == "POST" else {}
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def raw_request(server, request_bytes: bytes, timeout=1.0) -> bytes:
    """Send bytes as they are; the whole answer, up to the server closing the connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as connection:
        connection.sendall(request_bytes)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        return answer


class EventStream:
    """A client of /events reading one event at a time (with a timeout, never a sleep)."""

    def __init__(self, server, timeout=5.0):
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
        self.connection.request("GET", "/events")
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.headers["Content-Type"].startswith("text/event-stream")

    def next(self) -> tuple[str | None, str | None]:
        """The next event as (name, data), or a comment as (None, text); (None, None) at the end."""
        name, data = None, []
        while True:
            line = self.response.readline().decode()
            if line == "":
                return None, None
            line = line.rstrip("\n")
            if line.startswith(":"):
                return None, line
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data.append(line[len("data: "):])
            elif line == "" and name:
                return name, "\n".join(data)

    def next_state(self) -> dict:
        name, data = self.next()
        assert name == "state", (name, data)
        return json.loads(data)

    def close(self):
        self.connection.close()


def test_the_page_is_served(server):
    status, headers, body = request(server, "GET", "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    page = body.decode()
    assert "new EventSource(\"/events\")" in page
    for element in ('id="image"', 'id="error-overlay"', 'id="status"', 'id="play"', 'id="scrub"',
                    'id="reset-params"'):
        assert element in page
    assert "http://" not in page and "https://" not in page        # self-contained
    assert server.url == f"http://127.0.0.1:{server.port}/"


def test_state_is_the_snapshot_as_json(server, state):
    publish(state, png(1.0))
    status, headers, body = request(server, "GET", "/state")
    assert status == 200 and headers["Content-Type"] == "application/json"
    snapshot = json.loads(body)
    assert snapshot["generation"] == 1 and snapshot["frames_ready"] == 1
    assert (snapshot["width"], snapshot["height"], snapshot["error"]) == (6, 4, None)
    assert snapshot["params"] == [{"name": "radius", "kind": "num", "value": 0.3, "default": 0.3,
                                   "low": 0.1, "high": 0.9, "doc": "the disc's radius"}]
    assert snapshot["server_id"] == server.server_id


def test_frames_are_served_as_png_and_cached_long(server, state):
    picture = png(0.5)
    publish(state, picture)
    status, headers, body = request(server, "GET", "/frame/1/0.png?s=whatever")
    assert (status, headers["Content-Type"], body) == (200, "image/png", picture)
    assert "max-age=31536000" in headers["Cache-Control"]


@pytest.mark.parametrize("path", ["/frame/0/0.png", "/frame/1/1.png", "/frame/2/0.png",
                                  "/frame/x/0.png", "/frame/1/0.jpg", "/nothing", "/state/more"])
def test_unknown_pages_and_frames_are_404(server, state, path):
    publish(state, png(1.0))
    status, headers, _ = request(server, "GET", path)
    assert status == 404
    assert headers["Cache-Control"] == "no-store"


def test_an_old_generation_is_404_once_replaced(server, state):
    publish(state, png(1.0))
    publish(state, png(0.0))
    assert request(server, "GET", "/frame/1/0.png")[0] == 404
    assert request(server, "GET", "/frame/2/0.png")[0] == 200


def test_events_start_with_the_state_and_follow_each_change(server, state):
    stream = EventStream(server)
    try:
        first = stream.next_state()
        assert (first["generation"], first["version"], first["error"]) == (0, 0, None)
        publish(state, png(1.0))
        second = stream.next_state()
        assert second["generation"] == 1 and second["version"] > first["version"]
        state.publish_error("sketch.art:3:5: error: expected `)`")
        third = stream.next_state()
        assert third["error"] == "sketch.art:3:5: error: expected `)`"
        assert third["generation"] == 1                           # the last good image stays
    finally:
        stream.close()


def test_events_carry_frames_as_an_animation_renders(server, state):
    publish(state, png(1.0), frame_count=3)
    stream = EventStream(server)
    try:
        assert stream.next_state()["frames_ready"] == 1
        state.publish_frame(1, 1, png(0.5))
        assert stream.next_state()["frames_ready"] == 2
        assert request(server, "GET", "/frame/1/1.png")[0] == 200
    finally:
        stream.close()


def test_events_send_keepalive_comments(server, monkeypatch):
    monkeypatch.setattr(preview, "KEEPALIVE_SECONDS", 0.05)
    stream = EventStream(server)
    try:
        stream.next_state()
        assert stream.next() == (None, ": keepalive")
    finally:
        stream.close()


def test_events_end_when_the_state_closes(server, state):
    stream = EventStream(server)
    try:
        stream.next_state()
        state.close()
        assert stream.next() == (None, None)
    finally:
        stream.close()


def test_a_param_post_reaches_the_controller(server, controller):
    status, _, body = request(server, "POST", "/params", {"name": "radius", "value": 0.5})
    assert (status, body) == (204, b"")
    status, _, _ = request(server, "POST", "/params", {"name": "tint", "value": "#00ff88"})
    assert status == 204
    assert controller.calls == [("set", "radius", 0.5), ("set", "tint", "#00ff88")]


def test_a_rejected_param_is_400_with_the_first_message(server, controller):
    controller.failure = ArtError([Diagnostic("radius=2 is outside the range 0.1..0.9"),
                                   Diagnostic("a second problem")], USAGE)
    status, headers, body = request(server, "POST", "/params", {"name": "radius", "value": 2})
    assert status == 400 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"error": "radius=2 is outside the range 0.1..0.9"}


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"name": "radius"}',
                                  b'{"name": 3, "value": 1}', b'{"name": "r", "value": null}',
                                  b'{"name": "r", "value": true}'])
def test_a_malformed_param_post_is_400(server, controller, body):
    status, _, answer = request(server, "POST", "/params", body)
    assert status == 400 and "error" in json.loads(answer)
    assert controller.calls == []


def test_reset_and_unknown_posts(server, controller):
    assert request(server, "POST", "/params/reset", b"{}")[0] == 204
    assert controller.calls == [("reset",)]
    assert request(server, "POST", "/elsewhere", b"{}")[0] == 404


def test_nothing_is_logged(server, state, capfd):
    publish(state, png(1.0))
    for path in ("/", "/state", "/frame/1/0.png", "/missing"):
        request(server, "GET", path)
    request(server, "POST", "/params", b"garbage")
    assert capfd.readouterr() == ("", "")


def stop_within(server, seconds):
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    stopper.join(seconds)
    assert not stopper.is_alive(), f"stop() took more than {seconds} s"


def test_stop_ends_streams_and_connections_joins_threads_and_frees_the_port(state, controller):
    before = set(threading.enumerate())
    server = PreviewServer(state, controller, port=0).start()
    port = server.port
    stream = EventStream(server)
    idle = socket.create_connection(("127.0.0.1", port), timeout=5)     # never sends a request
    keep_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    keep_alive.request("GET", "/state")
    keep_alive.getresponse().read()                                      # left open, HTTP/1.1
    try:
        stream.next_state()
        assert len(set(threading.enumerate()) - before) >= 4      # server + three connections
        stop_within(server, 2.0)
        assert stream.next() == (None, None)                      # the stream was ended
        assert idle.recv(1) == b""
    finally:
        stream.close()
        idle.close()
        keep_alive.close()
    assert set(threading.enumerate()) == before
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    again = PreviewServer(state, controller, port=port).start()          # the port is free again
    again.stop()
    server.stop()                                                        # a second stop is harmless


def test_a_taken_port_raises_and_leaves_no_thread(server, state, controller):
    before = set(threading.enumerate())
    with pytest.raises(OSError):
        PreviewServer(state, controller, port=server.port).start()
    assert set(threading.enumerate()) == before


def test_stop_waits_for_a_request_in_progress(state, controller):
    before = set(threading.enumerate())
    entered, release = threading.Event(), threading.Event()

    def slow_set_param(name, value):
        entered.set()
        release.wait(5)

    controller.set_param = slow_set_param
    server = PreviewServer(state, controller, port=0).start()
    answers = []
    poster = threading.Thread(target=lambda: answers.append(
        request(server, "POST", "/params", {"name": "radius", "value": 0.5})[0]))
    poster.start()
    try:
        assert entered.wait(5)
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        stopper.join(0.2)
        assert stopper.is_alive()                 # stop() joins the thread serving the request
    finally:
        release.set()
    stopper.join(5)
    assert not stopper.is_alive()
    assert set(threading.enumerate()) - {poster} == before
    poster.join(5)
    assert answers == [204]


# ── who may ask: the Host, the Origin, the token, the body ──────────────────────────────────────
@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:{port}",
                                  "127.0.0.1.evil.example.com:{port}", "localhost", "127.0.0.1",
                                  "127.0.0.1:1", "localhost:{port}0", "192.168.1.5:{port}", ""])
@pytest.mark.parametrize("path", ["/", "/state", "/frame/1/0.png", "/events"])
def test_a_foreign_host_is_refused(server, state, host, path):
    """DNS rebinding: a page of evil.example.com resolving to 127.0.0.1 reads nothing."""
    publish(state, png(1.0))
    status, headers, body = request(server, "GET", path,
                                    headers={"Host": host.format(port=server.port)})
    assert status in (400, 421) and headers["Content-Type"] == "application/json"
    assert "sketch.art" not in body.decode() and "error" in json.loads(body)


def test_a_foreign_host_cannot_post(server, controller):
    headers = {**page_headers(server), "Host": f"evil.example.com:{server.port}"}
    assert request(server, "POST", "/params", {"name": "radius", "value": 0.5}, headers)[0] == 421
    assert controller.calls == []


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LocalHost:{port}",
                                  "[::1]:{port}"])
def test_the_loopback_names_are_accepted(server, host):
    host = host.format(port=server.port)
    assert request(server, "GET", "/state", headers={"Host": host})[0] == 200
    origin = "http://" + host.lower()
    headers = {**page_headers(server), "Host": host, "Origin": origin}
    assert request(server, "POST", "/params", {"name": "radius", "value": 0.5}, headers)[0] == 204


def test_a_request_without_a_host_is_refused(server):
    answer = raw_request(server, b"GET /state HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"sketch.art" not in answer


@pytest.mark.parametrize("origin", [None, "null", "http://evil.example.com",
                                    "http://evil.example.com:{port}", "http://127.0.0.1:1",
                                    "https://127.0.0.1:{port}", "http://127.0.0.1:{port}/path",
                                    "http://127.0.0.1:{port}@evil.example.com"])
@pytest.mark.parametrize("path", ["/params", "/params/reset"])
def test_a_post_without_the_page_origin_is_refused(server, controller, origin, path):
    headers = {key: value for key, value in page_headers(server).items() if key != "Origin"}
    if origin is not None:
        headers["Origin"] = origin.format(port=server.port)
    status, _, body = request(server, "POST", path, {"name": "radius", "value": 0.5}, headers)
    assert status == 403 and "error" in json.loads(body)
    assert controller.calls == []


def test_a_get_from_another_origin_is_refused(server):
    origin = {"Origin": "http://evil.example.com"}
    status, _, body = request(server, "GET", "/state", headers=origin)
    assert status == 403 and "sketch.art" not in body.decode()


@pytest.mark.parametrize("content_type", [None, "text/plain", "text/plain;charset=UTF-8",
                                          "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/jsonp"])
def test_a_post_that_is_not_declared_json_is_415(server, controller, content_type):
    """A cross-site <form> or a "simple" fetch can only send these; none may change a param."""
    headers = {key: value for key, value in page_headers(server).items() if key != "Content-Type"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    status, _, body = request(server, "POST", "/params", {"name": "radius", "value": 0.5}, headers)
    assert status == 415 and "error" in json.loads(body)
    assert controller.calls == []


def test_json_with_a_charset_is_accepted(server, controller):
    headers = {**page_headers(server), "Content-Type": "application/json; charset=utf-8"}
    assert request(server, "POST", "/params", {"name": "radius", "value": 0.5}, headers)[0] == 204


@pytest.mark.parametrize("token", [None, "", "wrong", "token+x", "token-last", "tökén"])
def test_a_post_without_the_session_token_is_refused(server, controller, token):
    headers = {key: value for key, value in page_headers(server).items()
               if key != "X-Artlang-Token"}
    if token is not None:
        headers["X-Artlang-Token"] = {"token+x": server.token + "x",
                                      "token-last": server.token[:-1]}.get(token, token)
    status, _, body = request(server, "POST", "/params", {"name": "radius", "value": 0.5}, headers)
    assert status == 403 and "error" in json.loads(body)
    assert controller.calls == []


def test_the_page_carries_its_server_token(server, state, controller):
    page = request(server, "GET", "/")[2].decode()
    assert len(server.token) >= 32 and f'content="{server.token}"' in page
    assert f'content="{server.server_id}"' in page
    with PreviewServer(state, controller, port=0) as other:
        assert other.token != server.token
        assert server.token not in request(other, "GET", "/")[2].decode()


def test_answers_refuse_to_be_framed_or_sniffed(server, state):
    publish(state, png(1.0))
    _, headers, _ = request(server, "GET", "/")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    for path in ("/", "/state", "/frame/1/0.png", "/missing"):
        _, headers, _ = request(server, "GET", path)
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cross-Origin-Resource-Policy"] == "same-origin"


NESTED = b"[" * preview.MAX_BODY_BYTES          # json.loads raises RecursionError
@pytest.mark.parametrize("body", [NESTED, b'{"name": "radius", "value": ' + NESTED[:-40] + b"}",
                                  b'{"name": "radius", "value": NaN}',
                                  b'{"name": "radius", "value": Infinity}',
                                  b'{"name": "radius", "value": 1e999}',
                                  b'{"name": "radius", "value": ' + b"9" * 5000 + b"}",
                                  b"\xff\xfe not utf-8", b""])
def test_a_malformed_body_is_400_at_once(server, controller, body):
    status, _, answer = request(server, "POST", "/params", body, timeout=1.0)
    assert status == 400 and "error" in json.loads(answer)
    assert controller.calls == []


def head(server, path, length: str | None, body=b"") -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
             f"Origin: http://127.0.0.1:{server.port}", f"X-Artlang-Token: {server.token}",
             "Content-Type: application/json"] + ([f"Content-Length: {length}"] if length else [])
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.mark.parametrize("length, status", [(None, 411), ("-1", 400), ("ten", 400),
                                            ("0x10", 400), (str(10**30), 413),
                                            (str(preview.MAX_BODY_BYTES + 1), 413)])
def test_a_bad_content_length_is_refused_at_once(server, controller, length, status):
    answer = raw_request(server, head(server, "/params", length))
    assert answer.startswith(f"HTTP/1.1 {status} ".encode())
    assert b"Connection: close" in answer
    assert controller.calls == []


def test_a_body_of_the_largest_size_is_read(server, controller):
    body = json.dumps({"name": "radius", "value": 0.5}).encode()
    body += b" " * (preview.MAX_BODY_BYTES - len(body))
    assert request(server, "POST", "/params", body)[0] == 204


def connection_threads() -> int:
    return sum(thread.name == "artlang-preview-connection" for thread in threading.enumerate())


def test_an_event_stream_ends_soon_after_its_client_leaves(server):
    before = connection_threads()
    stream = EventStream(server)
    stream.next_state()
    assert connection_threads() == before + 1
    stream.response.close()
    stream.close()
    deadline = time.monotonic() + 1.0
    while connection_threads() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert connection_threads() == before, "the stream's thread outlived its client by 1 s"


def test_listening_on_every_address_accepts_ip_addresses_but_never_other_names(state, controller):
    """`--host 0.0.0.0` is for other machines, which know it by its IP address; a domain name may
    still be a rebinding."""
    everywhere = PreviewServer(state, controller, host="0.0.0.0", port=8421)
    for host in ("192.168.1.5:8421", "[fe80::1]:8421", "localhost:8421", "0.0.0.0:8421"):
        assert everywhere.names_this_server(host), host
    for host in ("evil.example.com:8421", "192.168.1.5:8422", "192.168.1.5", "user@127.0.0.1:8421"):
        assert not everywhere.names_this_server(host), host
    loopback = PreviewServer(state, controller, port=8421)
    assert not loopback.names_this_server("192.168.1.5:8421")
