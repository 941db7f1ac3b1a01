"""A ``ModelSpec`` as a compiled ``keras.Sequential``: Keras is imported inside, never at import.

Only the training worker and the tests call this; the web server runs specs in NumPy.
"""

from __future__ import annotations

from typing import Any

from nn_core.cnn.specs import INPUT_SHAPE, ModelSpec, layer_names, layer_shapes


def build_keras_model(spec: ModelSpec, compile_model: bool = True) -> Any:
    """keras.Sequential for ``spec`` with input (28, 28, 1), compiled with the spec's recipe."""
    import keras

    layer_shapes(spec)  # validates the layer order and spatial sizes
    made = [keras.Input(shape=INPUT_SHAPE, name="image")]
    for layer, name in zip(spec.layers, layer_names(spec), strict=True):
        kind = layer.kind_info
        args, kwargs = kind.keras_args(layer)
        made.append(getattr(keras.layers, kind.keras_class)(*args, **kwargs, name=name))
    model = keras.Sequential(made, name=spec.name)
    if compile_model:
        optimizer_class = type(keras.optimizers.get(spec.recipe.optimizer))
        optimizer = optimizer_class(learning_rate=spec.recipe.learning_rate)
        model.compile(optimizer=optimizer, loss=spec.recipe.loss, metrics=["accuracy"])
    return model
