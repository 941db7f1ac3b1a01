"""The convolution page's controls and sections (lessons/convolution.py).

Values come from the settings table (``ui.convolution.state.STATE``), every number from
``nn_core.cnn.convolution`` (tested equal to keras.layers.Conv2D and the pooling layers),
figures from ``ui.convolution.figures``. Widget keys (``conv_*``) are what the tests select.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pandas as pd
import streamlit as st

from nn_core.cnn.convolution import (
    COLOR_KERNEL,
    COLOR_KERNEL_DESCRIPTION,
    KERNELS,
    Pooling,
    channel_products,
    color_image,
    feature_map,
    patch,
    position_value,
    products,
    weights_per_filter,
)
from ui.common import charts, widgets
from ui.common.format import tex
from ui.common.i18n import N_, _, ngettext
from ui.convolution import figures
from ui.convolution.state import (
    ACTIVATIONS,
    COLOR_MAP_SHAPE,
    COLOR_SIZE,
    COLUMNS,
    LEARNED,
    LESSON_DIGIT,
    MAP_SHAPE,
    POOL,
    POOL_KINDS,
    POOLED_SHAPE,
    SIZE,
    SOURCES,
    TEST_DIGITS,
    P,
    drawing,
    hover_format,
    kernel_choices,
    kernel_title,
    num,
    on_index,
    on_kernel,
    on_lesson_digit,
    on_next,
    test_digit,
)

SOURCE_LABELS = MappingProxyType({"mnist": N_("An MNIST test digit"),
                                  "drawing": N_("Your drawing from the digit page")})
POOL_LABELS = MappingProxyType({"max": N_("Max pooling (MaxPooling2D)"),
                                "avg": N_("Average pooling (AveragePooling2D)")})
CHANNELS = (N_("red"), N_("green"), N_("blue"))
# The products table's columns (English names, shown translated).
PRODUCT_COLUMNS = (N_("kernel cell (i, j)"), N_("image pixel"), N_("pixel"), N_("weight"),
                   N_("pixel × weight"))


# ---------------------------------------------------------------------------------------------
# Controls
# ---------------------------------------------------------------------------------------------
def image_controls() -> tuple[np.ndarray | None, int | None, str]:
    """Which image the kernel slides over: (image (28, 28) float32 in [0, 1] or None, the MNIST
    index or None for the drawing, a description for the captions)."""
    mine = drawing()
    if mine is not None:
        source = widgets.persistent(st.radio, _("Image to convolve"), P + "source",
                                    options=SOURCES,
                                    format_func={s: _(SOURCE_LABELS[s]) for s in SOURCES}.get,
                                    horizontal=True)
    else:
        source = "mnist"
        st.caption(_("An MNIST test digit. Draw a digit on the **Draw a digit** page and it "
                     "can be used here too."))
    index_col, lesson_col = st.columns([1.2, 1], vertical_alignment="bottom")
    with index_col:
        index = int(widgets.persistent(
            st.number_input, _("MNIST test digit (index in x_test)"), P + "index",
            min_value=0, max_value=TEST_DIGITS - 1, step=1, on_change=on_index,
            help=_("One of MNIST's 10,000 test digits, by its index (0 to 9,999).")))
    lesson_col.button(_("Lesson 002's digit #{index}").format(index=LESSON_DIGIT),
                      key=P + "lesson_digit", on_click=on_lesson_digit, width="stretch")
    if source == "drawing" and mine is not None:
        return mine.astype(np.float32), None, _("your drawing")
    digit = test_digit(index)
    if digit is None:
        if mine is not None:
            st.info(_("Using your drawing instead."))
            return mine.astype(np.float32), None, _("your drawing")
        return None, index, _("MNIST test digit #{index}").format(index=index)
    return digit[0], index, _("MNIST test digit #{index} (a {digit})").format(index=index,
                                                                              digit=digit[1])


def kernel_controls(learned: tuple[np.ndarray, np.ndarray] | None
                    ) -> tuple[pd.DataFrame, float, str]:
    """The kernel chooser, its editable 3×3 weights, the bias and the activation."""
    choices = kernel_choices(learned)
    name = widgets.persistent(st.selectbox, _("Kernel"), P + "kernel", options=choices,
                              format_func=kernel_title, on_change=on_kernel,
                              help=_("Hand-set kernels that detect edges, blur or sharpen, and "
                                     "the 32 filters the shipped network learned from MNIST."))
    if name in KERNELS:
        st.caption(f"{kernel_title(name)}: {_(KERNELS[name].description)}.")
    else:
        st.caption(_("A filter of the shipped network's first Conv2D layer, learned from "
                     "MNIST (its bias comes with it; in the network a ReLU follows)."))
    if learned is None:
        st.caption(_("The shipped network is missing, so only the hand-set kernels are "
                     "offered."))
    st.markdown(_("**Kernel weights** (edit any cell)"))
    table = widgets.persistent_editor(
        P + "weights", num_rows="fixed", hide_index=False, width="stretch",
        column_config={c: st.column_config.NumberColumn(c, format="%.6g") for c in COLUMNS})
    bias_col, act_col = st.columns(2)
    with bias_col:
        bias = widgets.persistent(st.number_input, _("Bias b"), P + "bias", step=0.1,
                                  format="%.6g")
    with act_col:
        activation = widgets.persistent(st.selectbox, _("Activation after the sum"),
                                        P + "activation", options=ACTIVATIONS)
    st.button(_("Reload {kernel}").format(kernel=kernel_title(name)), key=P + "kernel_reset",
              on_click=on_kernel, help=_("Undo your edits of the weights and the bias."))
    return table, float(bias), activation


def position_controls() -> tuple[int, int]:
    """Where the kernel sits: its top-left pixel (row, col), 0..25 each, and a step button."""
    row_col, col_col, next_col = st.columns([2, 2, 1], vertical_alignment="bottom")
    with row_col:
        row = widgets.persistent(st.slider, _("Kernel row (top edge)"), P + "row",
                                 min_value=0, max_value=MAP_SHAPE[0] - 1)
    with col_col:
        col = widgets.persistent(st.slider, _("Kernel column (left edge)"), P + "col",
                                 min_value=0, max_value=MAP_SHAPE[1] - 1)
    next_col.button(_("Next position") + " ▶", key=P + "next", on_click=on_next,
                    width="stretch",
                    help=_("One step to the right; at the end of a row, down to the next one."))
    return int(row), int(col)


# ---------------------------------------------------------------------------------------------
# One position, then the whole map
# ---------------------------------------------------------------------------------------------
def products_table(image: np.ndarray, kernel: np.ndarray, row: int, col: int) -> pd.DataFrame:
    """The nine multiplications behind one output pixel: image pixel (row+i, col+j), its
    pixel value, the weight k[i, j] and their product (float32, to the page's digits)."""
    pixels, prods = patch(image, row, col, SIZE), products(image, kernel, row, col)
    return pd.DataFrame([
        dict(zip([_(c) for c in PRODUCT_COLUMNS],
                 (f"({i}, {j})", f"({row + i}, {col + j})", num(float(pixels[i, j])),
                  num(float(kernel[i, j])), num(float(prods[i, j]))), strict=True))
        for i in range(SIZE) for j in range(SIZE)])


def latex_sum(prods: np.ndarray, bias: float, value: float, activation: str,
              out: float) -> str:
    """Σ = the nine products + b = value (then the activation, unless linear), as LaTeX."""
    terms = " + ".join(tex(float(p), fmt=num) for p in np.ravel(prods))
    rows = [r"\Sigma &= \sum_{i=0}^{2}\sum_{j=0}^{2} x_{r+i,\,c+j}\; k_{i,j} + b",
            rf"&= {terms} + {tex(bias, fmt=num)}",
            rf"&= {tex(value, 8, factor=False, fmt=num)}"]
    if activation != "linear":
        op = rf"\operatorname{{{activation}}}"
        rows.append(rf"{op}(\Sigma) &= {op}({tex(value, 8, factor=False, fmt=num)}) = "
                    rf"{tex(out, 8, factor=False, fmt=num)}")
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def position_section(image: np.ndarray, kernel: np.ndarray, bias: float, activation: str,
                     row: int, col: int, source: str) -> None:
    """The kernel on the image at (row, col): the patch, the nine products, their sum."""
    value = position_value(image, kernel, row, col, bias)
    out = float(feature_map(image, kernel, bias, activation=activation)[row, col])
    left, right = st.columns([1, 1.6], gap="large")
    with left:
        charts.show(figures.image_figure(image, row, col, SIZE,
                                             title=f"{source[:1].upper()}{source[1:]}"),
                        "convolution-image-figure", key=P + "image_figure")
        st.caption(_("The red square: the 3×3 pixels under the kernel, rows {first}–{last}, "
                     "columns {left}–{right}.").format(first=row, last=row + 2, left=col,
                                                       right=col + 2))
    with right:
        charts.show(figures.step_figure(patch(image, row, col, SIZE), kernel,
                                        products(image, kernel, row, col),
                                        hover=hover_format()),
                        "convolution-step-figure", key=P + "step_figure")
        metrics = st.columns(2)
        metrics[0].metric(_("Sum of the 9 products + bias"), num(value))
        if activation != "linear":
            metrics[1].metric(_("After {activation}").format(activation=activation), num(out))
        st.latex(latex_sum(products(image, kernel, row, col), bias, value, activation, out))
        st.caption(_("Each product is a pixel times the weight over it. The kernel is not "
                     "flipped: like Keras, a convolution layer computes a "
                     "cross-correlation."))
    with st.expander(_("The nine products, number by number")):
        st.dataframe(products_table(image, kernel, row, col), hide_index=True, width="stretch",
                     key=P + "products")


def map_section(image: np.ndarray, kernel: np.ndarray, bias: float, activation: str,
                row: int, col: int) -> np.ndarray:
    """The feature map filled up to (row, col) beside the whole map (26, 26); returns it."""
    full = feature_map(image, kernel, bias, activation=activation)
    upto = feature_map(image, kernel, bias, upto=(row, col), activation=activation)
    limit = float(np.max(np.abs(full))) or 1.0
    left, right = st.columns(2)
    done = row * MAP_SHAPE[1] + col + 1
    charts.show(figures.map_figure(upto, _("Filled so far: {done} of {total} positions").format(
                                         done=done, total=full.size),
                                         mark=(row, col), limit=limit, hover=hover_format()),
                      "convolution-map-upto", where=left, key=P + "map_upto")
    charts.show(figures.map_figure(full, _("The whole feature map ({h}×{w})").format(
                                          h=full.shape[0], w=full.shape[1]),
                                          mark=(row, col), limit=limit, hover=hover_format()),
                       "convolution-map-full", where=right, key=P + "map_full")
    st.caption(_("The kernel visits every position row by row, left to right; each visit "
                 "writes one number. Blue: the pattern of the kernel is there (positive); "
                 "orange: its opposite (negative); white: nothing to see. 28 − 3 + 1 = 26 "
                 "positions fit in each direction, so the map is 26×26 ('valid' padding, "
                 "Keras's default)."))
    return full


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------
def pooling_controls() -> tuple[str, tuple[int, int]]:
    """Max or average, and which 2×2 window of the map (its position in the pooled map)."""
    kind_col, row_col, col_col = st.columns([2, 2, 2], vertical_alignment="bottom")
    with kind_col:
        kind = widgets.persistent(st.radio, _("Pooling"), P + "pool_kind", options=POOL_KINDS,
                                  format_func={k: _(POOL_LABELS[k]) for k in POOL_KINDS}.get)
    with row_col:
        prow = widgets.persistent(st.slider, _("Window row"), P + "pool_row", min_value=0,
                                  max_value=POOLED_SHAPE[0] - 1)
    with col_col:
        pcol = widgets.persistent(st.slider, _("Window column"), P + "pool_col", min_value=0,
                                  max_value=POOLED_SHAPE[1] - 1)
    return kind, (int(prow), int(pcol))


def pooling_section(full: np.ndarray, pooling: Pooling) -> None:
    """The map with the window, the window's four numbers (the max outlined), the pooled map."""
    r, c = pooling.row * POOL, pooling.col * POOL
    left, middle, right = st.columns([1.2, 0.8, 1.2])
    charts.show(figures.map_figure(full, _("Feature map (26×26)"), mark=(r, c), size=POOL,
                                   hover=hover_format()),
                      "convolution-pool-map", where=left, key=P + "pool_map")
    with middle:
        charts.show(figures.block_figure(pooling.block, pooling.winner,
                                             _("Window: rows {r1}–{r2}, cols {c1}–{c2}").format(
                                                 r1=r, r2=r + 1, c1=c, c2=c + 1),
                                         hover=hover_format()),
                        "convolution-pool-block", key=P + "pool_block")
        st.metric(_("Pooled value"), num(pooling.value))
    charts.show(figures.map_figure(pooling.pooled, _("Pooled map ({h}×{w})").format(
                                       h=pooling.pooled.shape[0], w=pooling.pooled.shape[1]),
                                          mark=(pooling.row, pooling.col),
                                          hover=hover_format()),
                       "convolution-pooled-map", where=right, key=P + "pooled_map")
    values = ", ".join(tex(float(v), 6, factor=False, fmt=num) for v in np.ravel(pooling.block))
    if pooling.kind == "max":
        st.latex(rf"\max({values}) = {tex(pooling.value, 8, factor=False, fmt=num)}")
        st.caption(_("Max pooling keeps the strongest response of every 2×2 window (outlined "
                     "in yellow): the map halves to 13×13, and a pattern that moves by a pixel "
                     "still gives the same value. It has no weights to learn."))
    else:
        st.latex(rf"\frac{{1}}{{4}}({values.replace(', ', ' + ')}) = "
                 rf"{tex(pooling.value, 8, factor=False, fmt=num)}")
        st.caption(_("Average pooling keeps the mean of every 2×2 window: the map halves to "
                     "13×13, smoothed. It has no weights to learn."))


# ---------------------------------------------------------------------------------------------
# Colour: three channels, one filter
# ---------------------------------------------------------------------------------------------
def color_section() -> None:
    """A 3×3×3 filter on a small RGB picture: 3 × 9 = 27 products and one bias per output."""
    image = color_image(COLOR_SIZE)
    weights, params = weights_per_filter(SIZE, image.shape[2])
    st.write(_("A colour image has three channels (red, green, blue), so each filter has a "
               "3×3 slice of weights for every channel. Here, {kernel}. One output pixel adds "
               "up all 3 × 9 = {weights} products, plus one bias.").format(
                   kernel=_(COLOR_KERNEL_DESCRIPTION), weights=weights))
    row_col, col_col = st.columns(2)
    with row_col:
        row = int(widgets.persistent(st.slider, _("Colour kernel row"), P + "color_row",
                                     min_value=0, max_value=COLOR_MAP_SHAPE[0] - 1))
    with col_col:
        col = int(widgets.persistent(st.slider, _("Colour kernel column"), P + "color_col",
                                     min_value=0, max_value=COLOR_MAP_SHAPE[1] - 1))
    prods = channel_products(image, COLOR_KERNEL, row, col)  # (3, 3, 3): channel first
    patches = np.moveaxis(patch(image, row, col, SIZE), -1, 0)
    slices = np.moveaxis(COLOR_KERNEL, -1, 0)
    value = position_value(image, COLOR_KERNEL, row, col)
    left, right = st.columns([1, 1.5], gap="large")
    with left:
        charts.show(figures.rgb_figure(image, row, col, SIZE, _("Colour image (16×16×3)")),
                        "convolution-color-image", key=P + "color_image")
        charts.show(figures.channel_figure([image[..., i] for i in range(3)],
                                               [_(c) for c in CHANNELS]),
                        "convolution-color-channels", key=P + "color_channels")
        cmap = feature_map(image, COLOR_KERNEL)
        charts.show(figures.map_figure(cmap, _("Its feature map ({h}×{w}): one map for 3 "
                                               "channels").format(h=cmap.shape[0],
                                                                  w=cmap.shape[1]),
                                           mark=(row, col), height=280,
                                           hover=hover_format()),
                        "convolution-color-map", key=P + "color_map")
    with right:
        charts.show(figures.channels_figure(patches, slices, prods, hover=hover_format()),
                    "convolution-color-products",
                        key=P + "color_products")
        sums = np.where(np.abs(sums := prods.reshape(3, -1).sum(axis=1)) < 1e-12, 0.0, sums)
        m = st.columns(3)
        names = [_(c) for c in CHANNELS]
        for i, name in enumerate(names):
            m[i].metric(_("{channel}: 9 products").format(channel=name), num(float(sums[i])))
        st.metric(_("Sum of the 27 products + bias"), num(value))
        parts = [rf"\underbrace{{{tex(float(sums[i]), fmt=num)}}}_{{\text{{{names[i]}}}}}"
                 for i in range(3)]
        st.latex(rf"\Sigma = {' + '.join(parts)} + 0 = {tex(value, factor=False, fmt=num)}")
        st.success(_("**{weights} weights + 1 bias = {params} parameters per filter** "
                     "(3·3·3 + 1). A Conv2D(32, 3) on colour images therefore has 32 · "
                     "{params} = {total} parameters; on MNIST's one grey channel, 32 · (9 + 1) "
                     "= 320.").format(weights=weights, params=params, total=f"{32 * params:,}"))


# ---------------------------------------------------------------------------------------------
# Hand-set beside learned, and the Keras code
# ---------------------------------------------------------------------------------------------
def learned_section(learned: tuple[np.ndarray, np.ndarray] | None) -> None:
    """The 32 learned 3×3 filters of the shipped network beside the hand-set kernels."""
    hand = np.stack([k.weights for k in KERNELS.values()], axis=-1)[:, :, None, :]
    left, right = st.columns([1, 1.4], gap="large")
    charts.show(figures.filters_figure(hand, ngettext(
                      "The {n} hand-set kernel", "The {n} hand-set kernels",
                      len(KERNELS)).format(n=len(KERNELS)),
                                             columns=4, per_filter=True),
                      "convolution-hand-filters", where=left, key=P + "hand_filters")
    left.caption(_("Hand-set, in order: {kernels}. Each drawn on its own scale (the sharpen "
                   "kernel's 5 would drown the others); hover for the weights.").format(
                       kernels=", ".join(f"{i} {kernel_title(name)}"
                                         for i, name in enumerate(KERNELS))))
    with right:
        if learned is None:
            st.info(_("The shipped network is missing, so its learned filters cannot be "
                      "shown."))
            return
        charts.show(figures.filters_figure(learned[0], ngettext(
                        "The shipped network's {n} learned filter",
                        "The shipped network's {n} learned filters",
                        learned[0].shape[-1]).format(n=learned[0].shape[-1])),
                        "convolution-learned-filters", key=P + "learned_filters")
        st.caption(_("Nobody set these: training found them. Many look like the hand-set "
                     "edge and blur kernels, turned to other angles. Choose “{kernel}” (or "
                     "another number) in the kernel chooser above to slide one over the "
                     "digit.").format(kernel=kernel_title(LEARNED + "0")))

