"""A ``ModelSpec`` as a compiled ``keras.Sequential``: Keras is imported inside, never at import.

Only the training worker and the tests call this; the web server runs specs in NumPy.
"""

from __future__ import annotations

from typing import Any

from nn_core.cnn.specs import (
    FULL_FIT_IMAGES,
    INPUT_SHAPE,
    WARMUP_START,
    ModelSpec,
    Recipe,
    layer_names,
    layer_shapes,
    learning_rate_at,
    schedule_steps,
)


def learning_rate_schedule(recipe: Recipe, train_images: int = FULL_FIT_IMAGES,
                           initial_epoch: int = 0) -> Any:
    """The optimizer's ``learning_rate`` for ``recipe`` trained on ``train_images`` images: the
    float itself for "constant", a CosineDecay with warm-up for "warmup_cosine" (see
    ``nn_core.cnn.specs.SCHEDULES``; the steps come from ``schedule_steps``).

    A run resumed at ``initial_epoch`` > 0 restarts with a fresh optimizer (its moments are not
    checkpointed), so it warms up again, to the rate the uninterrupted schedule had reached
    there, and decays to 0 over the steps that remain.
    """
    import keras

    if recipe.schedule == "constant":
        return recipe.learning_rate
    peak = recipe.learning_rate
    if initial_epoch:
        batches = -(-train_images // recipe.batch_size)
        peak = learning_rate_at(recipe, batches * initial_epoch, train_images)
    warmup, steps = schedule_steps(recipe, train_images, initial_epoch)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak * WARMUP_START, decay_steps=steps - warmup,
        warmup_target=peak, warmup_steps=warmup)


def build_keras_model(spec: ModelSpec, compile_model: bool = True,
                      train_images: int = FULL_FIT_IMAGES, initial_epoch: int = 0) -> Any:
    """keras.Sequential for ``spec`` with input (28, 28, 1), compiled with the spec's recipe.

    ``train_images`` (the images one epoch trains on) and ``initial_epoch`` size the recipe's
    learning-rate schedule; a constant rate ignores them.
    """
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
        optimizer = optimizer_class(learning_rate=learning_rate_schedule(
            spec.recipe, train_images, initial_epoch))
        model.compile(optimizer=optimizer, loss=spec.recipe.loss, metrics=["accuracy"])
    return model
