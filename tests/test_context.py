"""The frame context: the frame itself (canvas, region, time, seed), referring to what the render
provides (inputs, caches, the stop, the frames ahead), all built by `Renderer.context`."""
from __future__ import annotations

import time

import numpy as np
import pytest

from artlang.core.errors import ArtError
from artlang.core.limits import Limits
from artlang.kernels.region import Margin, Region
from artlang.runtime.caches import Caches
from artlang.runtime.context import FrameContext, RenderCancelled, Stop
from artlang.runtime.render import Renderer, load_source

SKETCH = "canvas 40 x 30\nframes 4\noutput fill(circle(uv, 0.5))"


def test_the_whole_canvas_keeps_the_renderers_cache_between_frames():
    renderer = Renderer(load_source(SKETCH), trust=True, model_threads=1)
    renderer.upcoming = (1, 2, 3)
    context = renderer.context(1)
    assert context.caches.across_frames is renderer.cache
    assert context.region == Region(0, 0, 40, 30) and context.whole
    assert context.lookahead.frames == (2, 3)                 # this frame is not ahead of itself
    assert context.inputs.trust and context.inputs.model_threads == 1
    assert context.inputs.files is renderer.program.files
    assert context.stop.seconds == renderer.limits.max_frame_seconds


def test_a_tile_gets_a_cache_of_its_own_and_shares_the_fitted_images():
    renderer = Renderer(load_source(SKETCH))
    shared = {}
    tiles = [renderer.context(0, region=Region(x0, 0, 20, 30), shared=shared) for x0 in (0, 20)]
    assert all(t.caches.across_tiles is shared for t in tiles)
    assert tiles[0].caches.across_frames is not tiles[1].caches.across_frames
    assert all(t.caches.across_frames is not renderer.cache for t in tiles)


def test_a_grown_region_is_made_once_per_frame_with_a_memo_of_its_own():
    tile = FrameContext(40, 30, seed=1, region=Region(10, 10, 10, 10))
    wider = tile.around(Margin(2, 2, 2, 2))
    assert wider.region == Region(8, 8, 14, 14)
    assert tile.around(Margin(2, 2, 2, 2)) is wider
    assert wider.caches.across_frames is tile.caches.across_frames
    assert wider.caches.this_frame is not tile.caches.this_frame
    assert tile.around(Margin(30, 30, 30, 30)).whole         # stops at the canvas's edges


def test_another_frame_shares_the_cache_across_frames_only():
    context = FrameContext(40, 30, seed=1, frames=4)
    later = context.for_frame(3)
    assert later.frame == 3 and later.time == pytest.approx(0.1)
    assert later.caches.across_frames is context.caches.across_frames
    assert later.caches.this_frame is not context.caches.this_frame
    assert later.caches.regions is not context.caches.regions


def test_dropping_a_tiles_caches_forgets_its_values_and_its_grown_regions():
    tile = FrameContext(40, 30, seed=1, region=Region(0, 0, 10, 10),
                        caches=Caches(across_tiles={"fitted": 1}))
    wider = tile.around(Margin(1, 1, 1, 1))
    tile.caches.across_frames["a"] = wider.caches.this_frame["b"] = tile.caches.this_frame["c"] = 1
    tile.caches.drop()
    assert not (tile.caches.across_frames or tile.caches.this_frame or tile.caches.regions
                or wider.caches.this_frame)
    assert tile.caches.across_tiles == {"fitted": 1}          # the other tiles still read it


def test_a_frame_stops_when_it_is_no_longer_wanted():
    with pytest.raises(RenderCancelled):
        FrameContext(8, 8, seed=0, stop=Stop(cancelled=lambda: True)).check_cancelled()
    FrameContext(8, 8, seed=0, stop=Stop(cancelled=lambda: False)).started().check_cancelled()


def test_a_frame_past_its_time_limit_is_stopped_with_its_number_and_the_limit():
    context = FrameContext(8, 8, seed=0, frame=5, stop=Stop(seconds=0.0)).started()
    time.sleep(0.001)
    with pytest.raises(ArtError, match=r"frame 5 took longer than the limit of 0 s"):
        context.check_cancelled()
    assert Stop().seconds == Limits().max_frame_seconds


@pytest.mark.parametrize("width, height, region", [(64, 48, None), (97, 61, (16, 8, 40, 20)),
                                                   (5, 300, None)])
def test_coordinates_are_the_per_pixel_formulas_bit_for_bit(width, height, region):
    """px, uv and st are built one axis at a time (no whole-canvas float64 arrays), and equal,
    bit for bit, the per-pixel formulas they replaced."""
    from artlang.kernels.region import Region
    context = FrameContext(width, height, 1, region=Region(*region) if region else None)
    r = context.region
    columns, rows = np.meshgrid(np.arange(r.x0, r.x0 + r.width), np.arange(r.y0, r.y0 + r.height))
    px = np.stack([columns + 0.5, rows + 0.5], axis=-1).astype(np.float32)
    half, wide = min(width, height) / 2.0, px.astype(np.float64)
    uv = np.stack([(wide[..., 0] - width / 2.0) / half, (height / 2.0 - wide[..., 1]) / half], axis=-1)
    st = np.stack([wide[..., 0] / width, 1.0 - wide[..., 1] / height], axis=-1)
    assert np.array_equal(context.px, px)
    assert np.array_equal(context.uv, uv.astype(np.float32))
    assert np.array_equal(context.st, st.astype(np.float32))
    assert context.uv.dtype == np.float32 and context.uv.flags.c_contiguous
