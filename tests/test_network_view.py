"""The network view and the neuron lessons, checked against the model's own weights and against an
independent numpy forward pass (and torch's, through forward hooks).

What lives here: ``nnplay.figures.network`` read through ``fig.data`` (nodes, edges, colours,
paging, the CNN's stages, the neuron panel, seed 002's small network, the probe and first-layer
figures) and ``nnplay.lessons.neurons`` (top exciting images against a brute-force pass, votes,
the probe set). What does not live here: the pages (``tests/test_pages_draw_inspect.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from plotly.colors import get_colorscale

from nnplay.config import ModelConfig
from nnplay.engine import seeded_model
from nnplay.figures import network as nv
from nnplay.figures.inspect import feature_maps_figure
from nnplay.lessons import neurons
from nnplay.lessons.forward import forward_trace, seed_network

TOL = 1e-5


@pytest.fixture(scope="module")
def mlp():
    """784-70-12-10 tanh: one layer wider than 64 (two pages), one narrower."""
    return seeded_model(ModelConfig(family="mlp", hidden=(70, 12), activation="tanh", init="xavier"), 0)


@pytest.fixture(scope="module")
def cnn():
    return seeded_model(ModelConfig(family="cnn", channels=(4, 6), kernel_size=3, fc_width=20), 0)


@pytest.fixture(scope="module")
def digit(sample_data):
    return sample_data.test_images[7].numpy()


def reference_pass(model, image):
    """The test's own numpy pass: hidden activations (tanh) and output probabilities."""
    x = image.astype(np.float64).reshape(-1) / 255
    layers = [(m.weight.detach().double().numpy(), m.bias.detach().double().numpy())
              for m in model if isinstance(m, torch.nn.Linear)]
    values = [x]
    for w, b in layers[:-1]:
        values.append(np.tanh(w @ values[-1] + b))
    logits = layers[-1][0] @ values[-1] + layers[-1][1]
    p = np.exp(logits - logits.max())
    return values + [p / p.sum()], layers


def torch_pass(model, image):
    """The same values from torch itself, through forward hooks on the activation modules."""
    got = {}
    hooks = [m.register_forward_hook(lambda _m, _i, out, name=name: got.__setitem__(name, out[0].double().numpy()))
             for name, m in model.named_children() if name.startswith("act_")]
    try:
        with torch.no_grad():
            logits = model(torch.from_numpy(image).float().reshape(1, 1, 28, 28) / 255)
    finally:
        for h in hooks:
            h.remove()
    return got, torch.softmax(logits.double(), 1)[0].numpy()


def by_name(fig, name):
    return [t for t in fig.data if t.name == name]


def test_nodes_and_colours_equal_the_numpy_and_torch_passes(mlp, digit):
    fig = nv.network_figure(mlp, digit)
    values, layers = reference_pass(mlp, digit)
    hooked, probs = torch_pass(mlp, digit)
    for l, name in ((1, "hidden 1"), (2, "hidden 2")):
        (trace,) = by_name(fig, name)
        idx = trace.customdata[:, 0].astype(int)
        np.testing.assert_allclose(trace.customdata[:, 1], values[l][idx], atol=TOL)
        np.testing.assert_allclose(trace.customdata[:, 1], hooked[f"act_{l}"][idx], atol=TOL)
        np.testing.assert_allclose(trace.customdata[:, 2], layers[l - 1][1][idx], atol=TOL)
        np.testing.assert_allclose(np.asarray(trace.marker.color, dtype=float), values[l][idx], atol=TOL)
    (out,) = by_name(fig, "output")
    np.testing.assert_allclose(np.asarray(out.marker.color, dtype=float), values[-1], atol=TOL)
    np.testing.assert_allclose(out.customdata[:, 1], probs, atol=TOL)
    assert list(out.text) == [str(c) for c in range(10)]
    np.testing.assert_allclose(by_name(fig, "input")[0].z[::-1], digit)  # the picture, top row first


def test_a_wide_layer_shows_its_64_strongest_and_pages_through_the_rest(mlp, digit):
    values, _ = reference_pass(mlp, digit)
    fig = nv.network_figure(mlp, digit)
    shown = by_name(fig, "hidden 1")[0].customdata[:, 0].astype(int)
    assert len(shown) == 64 and len(by_name(fig, "hidden 2")[0].x) == 12  # a narrow layer: all of it
    expected = np.sort(np.argsort(-np.abs(values[1]), kind="stable")[:64])
    np.testing.assert_array_equal(shown, expected)
    assert any("+6 more" in a.text for a in fig.layout.annotations)
    second = nv.network_figure(mlp, digit, page=1)
    rest = by_name(second, "hidden 1")[0].customdata[:, 0].astype(int)
    assert sorted(set(rest) | set(shown)) == list(range(70)) and not set(rest) & set(shown)


def test_edges_are_the_models_weights_the_strongest_only_coloured_by_sign(mlp, digit):
    values, layers = reference_pass(mlp, digit)
    top = 25
    fig = nv.network_figure(mlp, digit, top_edges=top)
    (edges,) = by_name(fig, "edge weights")
    layer, src, dst, w = (edges.customdata[:, i] for i in range(4))
    for l in (1, 2, 3):
        pick = layer == l
        assert 0 < pick.sum() <= top
        weight = layers[l - 1][0]
        np.testing.assert_allclose(w[pick], weight[dst[pick].astype(int), src[pick].astype(int)], atol=TOL)
        # the strongest by |weight × incoming value| among the drawn neurons: no undrawn edge beats a drawn one
        targets = by_name(fig, {1: "hidden 1", 2: "hidden 2", 3: "output"}[l])[0].customdata[:, 0].astype(int)
        sources = np.arange(784) if l == 1 else by_name(fig, f"hidden {l - 1}")[0].customdata[:, 0].astype(int)
        score = np.abs(weight[np.ix_(targets, sources)] * values[l - 1][sources])
        drawn = np.abs(w[pick] * values[l - 1][src[pick].astype(int)])
        assert drawn.min() >= np.sort(score.ravel())[-pick.sum()] - TOL
    # lines: one segment per edge, orange for +, blue for −
    plus = sum(t.meta["count"] for t in by_name(fig, "edges +"))
    minus = sum(t.meta["count"] for t in by_name(fig, "edges −"))
    assert plus == (w > 0).sum() and minus == (w <= 0).sum()
    assert {t.line.color for t in by_name(fig, "edges +")} == {nv.POSITIVE}
    assert {t.line.color for t in by_name(fig, "edges −")} == {nv.NEGATIVE}


def test_without_a_digit_neurons_show_their_bias_and_edges_the_largest_weights(mlp):
    fig = nv.network_figure(mlp, None, top_edges=10)
    (h2,) = by_name(fig, "hidden 2")
    bias = mlp.lin_2.bias.detach().double().numpy()
    np.testing.assert_allclose(np.asarray(h2.marker.color, dtype=float), bias, atol=TOL)
    assert np.isnan(h2.customdata[:, 1]).all()
    (edges,) = by_name(fig, "edge weights")
    pick = edges.customdata[:, 0] == 3
    w_out = mlp.lin_3.weight.detach().double().numpy()
    assert np.abs(edges.customdata[pick, 3]).min() >= np.sort(np.abs(w_out).ravel())[-10] - TOL


def test_cnn_is_drawn_as_its_stages(cnn, digit):
    fig = nv.network_figure(cnn, digit, top_edges=15)
    assert [t.name for t in fig.data if t.type == "heatmap"] == ["input", "conv 1", "conv 2"]
    assert by_name(fig, "conv 1")[0].meta["maps"] == 4
    stages = nv.cnn_stages(cnn, digit)
    with torch.no_grad():
        probs = torch.softmax(cnn(torch.from_numpy(digit).float().reshape(1, 1, 28, 28) / 255).double(), 1)[0]
    np.testing.assert_allclose(by_name(fig, "output")[0].customdata[:, 1], probs.numpy(), atol=TOL)
    (fc,) = by_name(fig, "fc")
    np.testing.assert_allclose(fc.customdata[:, 1], stages["act_fc"][fc.customdata[:, 0].astype(int)], atol=TOL)
    (edges,) = by_name(fig, "edge weights")
    w2 = cnn.fc_2.weight.detach().double().numpy()
    np.testing.assert_allclose(edges.customdata[:, 3],
                               w2[edges.customdata[:, 2].astype(int), edges.customdata[:, 1].astype(int)], atol=TOL)
    assert len(edges.x) == 15
    assert by_name(nv.network_figure(cnn, None), "conv 2")[0].meta["maps"] == 6  # filters without a digit


@pytest.mark.slow
def test_top_exciting_images_match_a_brute_force_pass(mlp, sample_data):
    images = sample_data.test_images[:300].numpy()
    for layer, index in ((1, 5), (2, 3)):
        order, acts = neurons.top_exciting(mlp, layer, index, images, k=9)
        brute = np.array([reference_pass(mlp, im)[0][layer][index] for im in images])
        expected = np.argsort(-brute, kind="stable")[:9]
        np.testing.assert_allclose(acts, brute[expected], atol=TOL)
        np.testing.assert_allclose(brute[order], brute[expected], atol=TOL)  # same images up to exact ties
    fig = nv.neuron_figure(mlp, 1, 5, images)
    (grid,) = [t for t in fig.data if t.name == "top images"]
    assert grid.meta["indices"] == neurons.top_exciting(mlp, 1, 5, images)[0].tolist()
    # every neuron of a layer at once (what the Draw page keeps): the same images and numbers, per neuron
    for layer in (1, 2):
        order_all, acts_all = neurons.top_exciting_all(mlp, layer, images, k=9)
        for index in range(order_all.shape[1]):
            order, acts = neurons.top_exciting(mlp, layer, index, images, k=9)
            np.testing.assert_array_equal(order_all[:, index], order)
            np.testing.assert_allclose(acts_all[:, index], acts, atol=TOL)
    top = neurons.top_exciting_all(mlp, 1, images)
    (grid_top,) = [t for t in nv.neuron_figure(mlp, 1, 5, images, top=top).data if t.name == "top images"]
    assert grid_top.meta == grid.meta


def test_incoming_weights_and_votes(mlp):
    np.testing.assert_array_equal(neurons.incoming_weights(mlp, 1, 4),
                                  mlp.lin_1.weight.detach().double().numpy()[4].reshape(28, 28))
    np.testing.assert_allclose(neurons.votes(mlp, 2, 3), mlp.lin_3.weight.detach().double().numpy()[:, 3])
    w2, w3 = (m.weight.detach().double().numpy() for m in (mlp.lin_2, mlp.lin_3))
    np.testing.assert_allclose(neurons.votes(mlp, 1, 4), w3 @ w2[:, 4])
    with pytest.raises(ValueError, match="neurons 0 to 11"):
        neurons.votes(mlp, 2, 12)
    with pytest.raises(ValueError, match="Hidden layer 3"):
        neurons.incoming_weights(mlp, 3, 0)


def test_probe_set_is_fixed_has_every_class_and_the_figure_shows_the_models_answers(mlp, sample_data):
    images, labels = sample_data.test_images.numpy(), sample_data.test_labels.numpy()
    probes = neurons.probe_set(images, labels)
    assert len(probes.indices) == 16 and len(set(probes.indices.tolist())) == 16
    assert sorted(probes.labels[:10].tolist()) == list(range(10))
    np.testing.assert_array_equal(probes.labels, labels[probes.indices])
    np.testing.assert_array_equal(neurons.probe_set(images, labels).indices, probes.indices)
    fig = nv.probe_figure(mlp, probes)
    with torch.no_grad():
        p = torch.softmax(mlp(torch.from_numpy(probes.images).float()[:, None] / 255), 1).numpy()
    assert fig.layout.meta["predicted"] == p.argmax(1).tolist()
    np.testing.assert_allclose(fig.layout.meta["probability"], p.max(1), atol=TOL)
    assert len([t for t in fig.data if t.type == "heatmap"]) == 16


def test_first_layer_figure_shows_the_first_weights(mlp, cnn):
    z = nv.first_layer_figure(mlp, n=16).data[0].z
    w0 = mlp.lin_1.weight.detach().numpy()[0].reshape(28, 28)
    np.testing.assert_allclose(np.asarray(z, dtype=float)[:28, :28], w0 / np.abs(w0).max(), atol=TOL)
    assert "4 of 4 filters" in nv.first_layer_figure(cnn, n=16).layout.title.text


def test_small_network_highlights_the_current_step_and_shows_its_numbers():
    steps = forward_trace(seed_network())
    W1 = seed_network()["W1"]
    fig = nv.small_network_figure(steps, 0, cell=1)  # A1 = X·W1 + B1, cell 1
    lit = [t for t in fig.data if t.name.startswith("W") and t.meta["highlighted"]]
    assert sorted(t.name for t in lit) == ["W1[0,1]", "W1[1,1]"]
    assert [t.meta["weight"] for t in lit] == [W1[0, 1], W1[1, 1]]
    (layer1,) = [t for t in fig.data if t.name == "layer 1"]
    assert layer1.meta["highlighted"] == [False, True, False]
    a1 = steps[0].result
    assert all(f"A1={v:.4g}" in text for v, text in zip(a1, layer1.text))
    assert all("Z1=?" in text for text in layer1.text)  # not computed yet at step 1
    last = nv.small_network_figure(steps, len(steps) - 1)
    assert all("?" not in text for t in last.data if t.name.startswith("layer") for text in t.text)


# -- pictures keep their aspect ratio, one colour scale per kind of quantity ------------------------


def _scale(colorscale) -> tuple:
    """A colour scale by name or as pairs, as pairs (plotly's validation turns names into pairs)."""
    pairs = get_colorscale(colorscale) if isinstance(colorscale, str) else colorscale
    return tuple((round(float(at), 6), str(colour).replace(" ", "")) for at, colour in pairs)


def _pixel_aspect(fig, trace) -> float:
    """A picture's pixel height over its width, in screen pixels (the y axis is tied to the x axis)."""
    assert fig.layout.yaxis.scaleanchor == "x"
    return trace.dy * fig.layout.yaxis.scaleratio / trace.dx


@pytest.mark.parametrize("with_digit", [True, False])
def test_pictures_keep_their_aspect_ratio_on_mlp_and_cnn(mlp, cnn, digit, with_digit):
    image = digit if with_digit else None
    for model in (mlp, cnn):
        fig = nv.network_figure(model, image)
        pictures = [t for t in fig.data if t.type == "heatmap"]
        assert len(pictures) == (1 if model is mlp else 3)
        for trace in pictures:
            assert trace.x is None and trace.y is None  # scalars x0/dx, y0/dy only
            assert _pixel_aspect(fig, trace) == pytest.approx(1.0)  # square pixels, not a tall strip
            assert np.asarray(trace.z).shape[1] * trace.dx <= 1.0 + 1e-9  # at most one column wide


def test_one_colour_scale_per_kind_of_quantity(cnn, digit):
    network = nv.network_figure(cnn, digit)
    weights_only = nv.network_figure(cnn, None)
    filters = nv.first_layer_figure(cnn)  # the conv_1 picture
    maps = feature_maps_figure(nv.feature_maps(cnn, digit), "act_1")  # Inspect's maps
    pictures = ([t for t in network.data + weights_only.data if t.type == "heatmap" and t.name.startswith("conv")]
                + [filters.data[0], maps.data[0]])
    scales = {(_scale(t.colorscale), t.zmid, t.zmin, t.zmax) for t in pictures}
    assert scales == {(_scale("RdBu_r"), 0, -1, 1)}
    for t in pictures:  # each scaled to its own largest |value|
        z = np.asarray(t.z, dtype=float)
        assert np.nanmax(np.abs(z)) == pytest.approx(1.0)
    (conv1,) = [t for t in weights_only.data if t.name == "conv 1"]
    kernel = cnn.conv_1.weight.detach().double().numpy().mean(axis=1)[0]
    np.testing.assert_allclose(np.asarray(conv1.z, dtype=float)[::-1][:3, :3], kernel / np.abs(kernel).max(), atol=TOL)
    inputs = by_name(network, "input") + by_name(weights_only, "input")
    assert {(_scale(t.colorscale), t.zmin, t.zmax) for t in inputs} == {(_scale("gray"), 0, 255)}  # pixels


def test_without_a_digit_the_input_is_an_empty_frame_with_no_edges_from_its_pixels(mlp, cnn):
    for model in (mlp, cnn):
        fig = nv.network_figure(model, None, top_edges=30)
        (picture,) = by_name(fig, "input")
        assert np.isnan(np.asarray(picture.z, dtype=float)).all()  # no black box
        (frame,) = fig.layout.shapes
        assert (frame.x0, frame.y0) == pytest.approx((picture.x0 - picture.dx / 2, picture.y0 - picture.dy / 2))
        assert any(a.text == nv.NO_DIGIT for a in fig.layout.annotations)
    (edges,) = by_name(nv.network_figure(mlp, None, top_edges=30), "edge weights")
    assert set(edges.customdata[:, 0].astype(int)) == {2, 3}  # hidden → hidden → output only
