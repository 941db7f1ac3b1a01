"""Keras's ``model.summary()`` as data, with each layer's parameter count worked out in a formula.

A student reads "Param #: 320" in Keras; here the same row says "3·3·1·32 + 32 = 320": a 3×3
kernel on 1 input channel for each of 32 filters, plus one bias per filter. Shapes and counts
come from the one table of layer kinds (``nn_core.cnn.specs``/``layers``); the tests hold every
row equal to Keras's ``layer.count_params()`` and ``layer.output.shape``. NumPy only.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass

from nn_core.basics.network import WEIGHT_NAMES, check_activation
from nn_core.cnn.specs import INPUT_SHAPE, LayerSpec, ModelSpec, layer_names, layer_shapes

NO_PARAMS = "—"
COLUMNS = ("Layer", "Keras name", "Output shape", "Param #", "Formula")
# Titles and headers are English unless a page passes its language's gettext catalog
# (``ui.common.i18n.translations``); Babel extracts the ``tr.gettext``/``tr.ngettext`` calls here.
ENGLISH = gettext.NullTranslations()


@dataclass(frozen=True)
class SummaryRow:
    """One row: readable title, Keras layer name, output shape as Keras prints it, parameters
    and the formula with the numbers ("3·3·1·32 + 32 = 320", or "—" without parameters)."""

    layer: str
    name: str
    output_shape: str
    params: int
    formula: str


def keras_shape(shape: tuple[int, ...]) -> str:
    """A shape without the batch axis as Keras prints it with one: (26, 26, 32) -> "(None, 26,
    26, 32)"."""
    return "(" + ", ".join(["None", *map(str, shape)]) + ")"


def _units(tr: gettext.NullTranslations, n: int) -> str:
    return tr.ngettext("{n} unit", "{n} units", n).format(n=n)


def layer_title(layer: LayerSpec, name: str, shape_in: tuple[int, ...], last: bool = False,
                tr: gettext.NullTranslations = ENGLISH) -> str:
    """What a student reads for a layer instead of Keras's generated name: conv2d_1 ->
    'Conv 1: 32 filters 3×3', max_pooling2d_1 -> 'Max pooling 1: 2×2', dense_1 -> 'Dense 1:
    128 units', the ``last`` dense layer -> 'Output: 10 units, softmax'. ``name`` is the
    layer's Keras name (``specs.layer_names``: its number), ``shape_in`` its input's shape
    without the batch axis (a batch norm's channels); ``tr`` translates."""
    number = name.rsplit("_", 1)[-1]
    k, size = layer.kernel, layer.size
    if layer.kind == "conv":
        return tr.ngettext("Conv {number}: {n} filter {k}×{k}",
                           "Conv {number}: {n} filters {k}×{k}", size).format(
            number=number, n=size, k=k)
    if layer.kind in ("maxpool", "avgpool"):
        return (tr.gettext("Max pooling {number}: {k}×{k}") if layer.kind == "maxpool" else
                tr.gettext("Average pooling {number}: {k}×{k}")).format(number=number, k=k)
    if layer.kind == "dense":
        if last:
            return tr.gettext("Output: {units}, {activation}").format(
                units=_units(tr, size), activation=layer.activation)
        return tr.gettext("Dense {number}: {units}").format(number=number,
                                                            units=_units(tr, size))
    if layer.kind == "dropout":
        return tr.gettext("Dropout {rate}").format(rate=f"{layer.rate:g}")
    if layer.kind == "batchnorm":
        channels = shape_in[-1]  # a feature map's channels, or a dense layer's units
        what = (tr.ngettext("{n} channel", "{n} channels", channels) if len(shape_in) == 3
                else tr.ngettext("{n} unit", "{n} units", channels)).format(n=channels)
        return tr.gettext("Batch norm {number}: {what}").format(number=number, what=what)
    if layer.kind == "activation":
        return tr.gettext("Activation {number}: {activation}").format(
            number=number, activation=layer.activation)
    return tr.gettext("Flatten")


def _row(layer: LayerSpec, name: str, shape_in: tuple[int, ...], shape_out: tuple[int, ...],
         last: bool, tr: gettext.NullTranslations = ENGLISH) -> SummaryRow:
    k, size = layer.kernel, layer.size
    params = layer.kind_info.params(layer, shape_in)
    formula = NO_PARAMS
    if layer.kind == "conv":
        formula = f"{k}·{k}·{shape_in[-1]}·{size} + {size} = {params:,}"
    elif layer.kind == "dense":
        formula = f"{shape_in[0]}·{size} + {size} = {params:,}"
    elif layer.kind == "batchnorm":
        channels = shape_in[-1]
        # gamma and beta are trained; the moving mean and variance are tracked, not trained
        formula = f"2·{channels} + 2·{channels} = {params:,}"
    return SummaryRow(layer_title(layer, name, shape_in, last, tr), name,
                      keras_shape(shape_out), params, formula)


def summary_rows(spec: ModelSpec, tr: gettext.NullTranslations = ENGLISH) -> list[SummaryRow]:
    """One SummaryRow per layer of ``spec``, in order, as ``model.summary()`` lists them.

    The cnn_34826 preset gives 320, 0, 18,496, 0, 0, 0, 16,010 (total 34,826).
    ValueError when the spec's layers do not fit together (see ``layer_shapes``).
    """
    shapes = layer_shapes(spec)
    inputs = [INPUT_SHAPE, *shapes[:-1]]
    last = len(spec.layers) - 1
    return [_row(layer, name, shape_in, shape_out, i == last, tr)
            for i, (layer, name, shape_in, shape_out)
            in enumerate(zip(spec.layers, layer_names(spec), inputs, shapes, strict=True))]


def total_params(rows: list[SummaryRow]) -> int:
    """The summary's "Total params": the sum of the rows' parameters."""
    return sum(row.params for row in rows)


def summary_records(rows: list[SummaryRow], tr: gettext.NullTranslations = ENGLISH,
                    ) -> list[dict[str, str]]:
    """Rows as dicts keyed by ``COLUMNS`` (in ``tr``'s language), "Param #" with thousands
    separators as Keras prints."""
    columns = (tr.gettext("Layer"), tr.gettext("Keras name"), tr.gettext("Output shape"),
               tr.gettext("Param #"), tr.gettext("Formula"))
    return [dict(zip(columns, (r.layer, r.name, r.output_shape, f"{r.params:,}", r.formula),
                     strict=True)) for r in rows]


def network_summary_rows(hidden: str = "linear", output: str = "linear",
                         tr: gettext.NullTranslations = ENGLISH) -> list[SummaryRow]:
    """The 2-2-1 network of lesson 002 (no bias): Dense(2) 2·2 = 4 and Dense(1) 2·1 = 2, total 6.

    Names are the ones Keras gives the layers of ``build_keras_network`` in a fresh session.
    """
    check_activation(hidden, "hidden")
    check_activation(output, "output")
    hidden_title = tr.gettext("Hidden: {units}, {activation}").format(
        units=_units(tr, 2), activation=hidden)
    output_title = tr.gettext("Output: {units}, {activation}").format(
        units=_units(tr, 1), activation=output)
    return [SummaryRow(hidden_title, "dense", keras_shape((2,)), 4, "2·2 = 4"),
            SummaryRow(output_title, "dense_1", keras_shape((1,)), 2, "2·1 = 2")]


@dataclass(frozen=True)
class WeightMatrix:
    """One Dense kernel of the 2-2-1 network as Keras stores it, with the weight names in place.

    ``labels[i][j]`` is the weight from input ``rows[i]`` to unit ``columns[j]``: rows are the
    layer's inputs, columns its units, so the kernel has shape (inputs, units).
    """

    layer: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    labels: tuple[tuple[str, ...], ...]

    @property
    def shape(self) -> tuple[int, int]:
        """(inputs, units): (2, 2) for the hidden layer, (2, 1) for the output."""
        return len(self.rows), len(self.columns)


def keras_weight_layout(tr: gettext.NullTranslations = ENGLISH,
                        ) -> tuple[WeightMatrix, WeightMatrix]:
    """Where w1..w6 sit in ``model.get_weights()``: [[w1, w3], [w2, w4]] and [[w5], [w6]].

    w1 and w2 feed N1, so they form N1's column, not a row: Keras multiplies x (1, 2) @ kernel.
    """
    w1, w2, w3, w4, w5, w6 = WEIGHT_NAMES
    return (WeightMatrix(tr.gettext("Hidden layer kernel {shape}").format(shape="(2, 2)"),
                         ("x1", "x2"), ("N1", "N2"), ((w1, w3), (w2, w4))),
            WeightMatrix(tr.gettext("Output layer kernel {shape}").format(shape="(2, 1)"),
                         ("N1", "N2"), ("Y",), ((w5,), (w6,))))
