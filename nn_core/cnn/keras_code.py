"""The Keras script the digit page shows for a network: text only, Keras is never imported here.

``tests/nn_core/cnn/test_keras_code.py`` runs it (without the download and the fit) in Keras.
"""

from __future__ import annotations

from nn_core.basics.keras_code import Gettext
from nn_core.cnn.presets import TRAINING_OPTIMIZERS
from nn_core.cnn.specs import (
    FULL_FIT_IMAGES,
    WARMUP_FRACTION,
    WARMUP_START,
    LayerSpec,
    ModelSpec,
    count_params,
    schedule_steps,
    trainable_params,
)


def _literal(value: object) -> str:
    """A Python literal for the script: strings in double quotes, floats as ``:g``."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def _keras_layer_line(layer: LayerSpec) -> str:
    """One ``layers.X(...)`` line of the script's Sequential list, from the table of kinds."""
    args, kwargs = layer.kind_info.keras_args(layer)
    text = [_literal(a) for a in args] + [f"{k}={_literal(v)}" for k, v in kwargs.items()]
    return f"    layers.{layer.kind_info.keras_class}({', '.join(text)}),"


def model_script(spec: ModelSpec, gettext: Gettext = str) -> str:
    """A runnable Keras script that builds and trains ``spec``: text only, shown on the page;
    its comments through ``gettext`` (the page's language)."""
    r = spec.recipe
    lines = ["import keras", "from keras import layers", "",
             "# " + gettext("MNIST: 60,000 training and 10,000 test images of 28×28 grey pixels"),
             "(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()",
             "x_train = x_train.reshape(-1, 28, 28, 1).astype(\"float32\") / 255",
             "x_test = x_test.reshape(-1, 28, 28, 1).astype(\"float32\") / 255"]
    if not r.loss.startswith("sparse"):
        lines += ["y_train = keras.utils.to_categorical(y_train, 10)",
                  "y_test = keras.utils.to_categorical(y_test, 10)"]
    lines += ["", "model = keras.Sequential([", "    keras.Input(shape=(28, 28, 1)),",
              *(_keras_layer_line(layer) for layer in spec.layers)]
    optimizer = TRAINING_OPTIMIZERS.get(r.optimizer, r.optimizer)
    lr = float(r.learning_rate)  # written with repr: 1.0, not 1 (Keras 3 rejects an int)
    total, trainable = count_params(spec), trainable_params(spec)
    counted = (gettext("{total} trainable parameters").format(total=f"{total:,}")
               if trainable == total else
               gettext("{total} parameters, {trainable} trainable (moving statistics are not)"
                       ).format(total=f"{total:,}", trainable=f"{trainable:,}"))
    lines += ["])", f"model.summary()  # {counted}", ""]
    if r.schedule == "warmup_cosine":
        warmup, steps = schedule_steps(r, FULL_FIT_IMAGES)
        batches = steps // r.epochs
        comment = gettext(
            "Learning rate: a linear warm-up from {start} to {peak} over the first {share} of "
            "the\n{steps} steps ({batches} batches of {batch} from the {images} images left "
            "after\nthe validation split, × {epochs} epochs), then half a cosine down to 0"
        ).format(start=f"{WARMUP_START * lr:g}", peak=repr(lr), share=f"{WARMUP_FRACTION:.0%}",
                 steps=f"{steps:,}", batches=batches, batch=r.batch_size,
                 images=f"{FULL_FIT_IMAGES:,}", epochs=r.epochs)
        lines += [*("# " + line for line in comment.split("\n")),
                  "learning_rate = keras.optimizers.schedules.CosineDecay(",
                  f"    initial_learning_rate={WARMUP_START * lr:g}, decay_steps={steps - warmup},",
                  f"    warmup_target={lr!r}, warmup_steps={warmup})"]
        lr_text = "learning_rate"
    else:
        lr_text = repr(lr)
    lines += [f"model.compile(optimizer=keras.optimizers.{optimizer}(learning_rate={lr_text}),",
              f"              loss=\"{r.loss}\", metrics=[\"accuracy\"])",
              f"model.fit(x_train, y_train, batch_size={r.batch_size}, epochs={r.epochs},",
              "          validation_split=0.1)",
              "test_loss, test_accuracy = model.evaluate(x_test, y_test)",
              "print(f\"test accuracy: {test_accuracy:.4f}\")"]
    return "\n".join(lines) + "\n"
