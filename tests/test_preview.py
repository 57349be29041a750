"""The preview server over real HTTP: a `PreviewServer` on a free port, a `LiveState` filled by hand
and a fake controller standing in for the watcher."""
from __future__ import annotations

import http.client
import json
import socket
import threading

import numpy as np
import pytest

from artlang import preview
from artlang.errors import USAGE, ArtError, Diagnostic
from artlang.live import LiveState, ParamControl
from artlang.preview import PreviewServer
from artlang.writers import encode_png_fast

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


def request(server, method, path, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


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
    assert request(server, "POST", "/params/reset", b"")[0] == 204
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
