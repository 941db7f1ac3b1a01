"""The Keras script the digit page shows for a network: text only, Keras is never imported here.

``tests/nn_core/cnn/test_keras_code.py`` runs it (without the download and the fit) in Keras.
"""

from __future__ import annotations

from nn_core.cnn.presets import TRAINING_OPTIMIZERS
from nn_core.cnn.specs import LayerSpec, ModelSpec, count_params


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


def model_script(spec: ModelSpec) -> str:
    """A runnable Keras script that builds and trains ``spec``: text only, shown on the page."""
    r = spec.recipe
    lines = ["import keras", "from keras import layers", "",
             "# MNIST: 60,000 training and 10,000 test images of 28×28 grey pixels",
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
    lines += ["])", f"model.summary()  # {count_params(spec):,} trainable parameters", "",
              f"model.compile(optimizer=keras.optimizers.{optimizer}(learning_rate={lr!r}),",
              f"              loss=\"{r.loss}\", metrics=[\"accuracy\"])",
              f"model.fit(x_train, y_train, batch_size={r.batch_size}, epochs={r.epochs},",
              "          validation_split=0.1)",
              "test_loss, test_accuracy = model.evaluate(x_test, y_test)",
              "print(f\"test accuracy: {test_accuracy:.4f}\")"]
    return "\n".join(lines) + "\n"
