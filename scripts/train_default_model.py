"""Train the shipped default model of the "Draw a digit" page into assets/models/default/.

One command, from the repository root (CPU is enough; about 10-20 minutes on 2 cores):

    .venv/bin/python scripts/train_default_model.py        # or: make default-model

The network is lesson 004's 104,202-parameter CNN exactly (``PRESETS["cnn_104202"]``). Only the
training differs from the lesson so that the model copes with how people draw: light batched
augmentation in the tf.data pipeline (random shifts ±3 px, rotations ±12°, zoom ±10%, and stroke
thickness: 2×2/3×3 dilation or 2×2 erosion of some digits), Adam with a cosine-decayed learning
rate, batch 128. The saved model is the plain preset. Seeded with ``keras.utils.set_random_seed``
(course.SEED); TensorFlow on CPU is not bit-for-bit reproducible, so accuracy may differ in the
last decimal between runs. Validation uses the last 5,000 training digits; the test set is only
used for the final figures. Writes the run-directory layout of nn_core/training.py: spec.json,
model.keras, weights.npz, history.json, result.json, checkpoints/epoch_XX.npz (a few epochs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from nn_core import course  # noqa: E402
from nn_core.cnn.digits import load_mnist  # noqa: E402
from nn_core.cnn.keras_model import build_keras_model  # noqa: E402
from nn_core.cnn.presets import PRESETS  # noqa: E402
from nn_core.cnn.specs import Recipe  # noqa: E402
from nn_core.training.runs import DEFAULT_MODEL_DIR, score_predictions  # noqa: E402

VALIDATION = 5000
AUGMENT = {"shift_px": 3.0, "rotation_deg": 12.0, "zoom": 0.10,
           "dilate_2x2": 0.15, "dilate_3x3": 0.10, "erode_2x2": 0.10}


def augment_batch(images: Any, seed: Any) -> Any:
    """Random stroke thickness, then one affine warp per image: (B, 28, 28, 1) -> same."""
    import tensorflow as tf

    n = tf.shape(images)[0]
    seeds = tf.random.experimental.stateless_split(seed, 5)
    u = tf.random.stateless_uniform([n, 1, 1, 1], seeds[0])
    dil2 = tf.nn.max_pool2d(images, 2, 1, "SAME")
    dil3 = tf.nn.max_pool2d(images, 3, 1, "SAME")
    ero2 = -tf.nn.max_pool2d(-images, 2, 1, "SAME")
    a, b, c = AUGMENT["dilate_2x2"], AUGMENT["dilate_3x3"], AUGMENT["erode_2x2"]
    images = tf.where(u < a, dil2, tf.where(u < a + b, dil3, tf.where(u < a + b + c, ero2, images)))
    degrees = tf.random.stateless_uniform([n], seeds[1], -1.0, 1.0) * AUGMENT["rotation_deg"]
    angle = degrees * np.pi / 180
    zoom = 1.0 + tf.random.stateless_uniform([n], seeds[2], -1.0, 1.0) * AUGMENT["zoom"]
    shift = tf.random.stateless_uniform([n, 2], seeds[3], -1.0, 1.0) * AUGMENT["shift_px"]
    # Output pixel (x, y) samples input at A @ (x - c) + c - shift, A = rotation / zoom, c = 13.5.
    cos, sin = tf.cos(angle) / zoom, tf.sin(angle) / zoom
    centre = 13.5
    tx = centre - cos * centre + sin * centre - shift[:, 0]
    ty = centre - sin * centre - cos * centre - shift[:, 1]
    zeros = tf.zeros_like(cos)
    transforms = tf.stack([cos, -sin, tx, sin, cos, ty, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.constant([28, 28]),
        fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT")


def make_datasets(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                  batch_size: int, seed: int) -> tuple[Any, Any]:
    """Shuffled, augmented training batches and plain validation batches (tf.data)."""
    import tensorflow as tf

    seeds = tf.data.Dataset.random(seed=seed).batch(2)
    train = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
             .shuffle(len(x_train), seed=seed, reshuffle_each_iteration=True)
             .batch(batch_size))
    train = (tf.data.Dataset.zip((train, seeds))
             .map(lambda xy, s: (augment_batch(xy[0], tf.cast(s, tf.int32)), xy[1]),
                  num_parallel_calls=tf.data.AUTOTUNE)
             .prefetch(tf.data.AUTOTUNE))
    val = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(1000)
    return train, val


def main() -> None:
    """Parse arguments, train, evaluate on the test set and write the run directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=0.002)
    parser.add_argument("--limit", type=int, default=None, help="fewer digits (smoke test)")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR)
    args = parser.parse_args()

    import keras

    keras.utils.set_random_seed(course.SEED)
    (x_all, y_all), (x_test, y_test) = load_mnist()
    x_all = (x_all.astype(np.float32) / 255)[..., None]
    x_test = (x_test.astype(np.float32) / 255)[..., None]
    x_train, y_train = x_all[:-VALIDATION][: args.limit], y_all[:-VALIDATION][: args.limit]
    x_val, y_val = x_all[-VALIDATION:], y_all[-VALIDATION:]
    train, val = make_datasets(x_train, y_train, x_val, y_val, args.batch_size, course.SEED)

    recipe = Recipe("adam", args.learning_rate, args.batch_size, args.epochs)
    spec = replace(PRESETS["cnn_104202"], recipe=recipe)
    model = build_keras_model(spec, compile_model=False)
    steps = args.epochs * int(np.ceil(len(x_train) / args.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=recipe.loss, metrics=["accuracy"])

    out: Path = args.out
    shutil.rmtree(out / "checkpoints", ignore_errors=True)  # no stale epochs of an earlier run
    (out / "checkpoints").mkdir(parents=True)
    keep = {1, 2, 4, args.epochs}

    class Checkpoints(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if epoch + 1 in keep:
                np.savez(out / "checkpoints" / f"epoch_{epoch + 1:02d}.npz", *model.get_weights())
            print(f"epoch {epoch + 1}: {logs}", flush=True)

    start = time.perf_counter()
    fit = model.fit(train, validation_data=val, epochs=args.epochs, verbose=2, shuffle=False,
                    callbacks=[Checkpoints()])
    seconds = time.perf_counter() - start

    test_loss = float(model.evaluate(x_test, y_test, batch_size=1000, verbose=0)[0])
    history = {k: [float(v) for v in values] for k, values in fit.history.items()}
    result = {  # the keys of nn_core.training.runs's runs, plus how this model was trained
        **score_predictions(model.predict(x_test, batch_size=1000, verbose=0), y_test),
        "test_loss": test_loss, "train_images": len(x_train), "val_images": VALIDATION,
        "validation": f"the last {VALIDATION} training images", "epochs": args.epochs,
        "epochs_run": args.epochs, "batch_size": args.batch_size, "seed": course.SEED,
        "seconds": round(seconds, 1),
        "images_per_second": round(len(x_train) * args.epochs / seconds),
        "training": {"optimizer": "adam", "learning_rate": args.learning_rate,
                     "schedule": "cosine decay to 2% over all steps", "augmentation": AUGMENT,
                     "script": "scripts/train_default_model.py"},
    }
    # model.keras: the plain preset with the trained weights, not compiled (no optimizer state;
    # compile it with spec.json's recipe to train further).
    plain = build_keras_model(spec, compile_model=False)
    plain.set_weights(model.get_weights())
    plain.save(out / "model.keras")
    np.savez(out / "weights.npz", *plain.get_weights())
    (out / "spec.json").write_text(json.dumps(spec.to_dict(), indent=2) + "\n")
    (out / "history.json").write_text(json.dumps(history, indent=2) + "\n")
    lines = (f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in result.items())
    (out / "result.json").write_text("{\n" + ",\n".join(lines) + "\n}\n")  # one line per key
    print(f"test accuracy {result['test_accuracy']:.4f}, {seconds:.0f} s, written to {out}",
          flush=True)


if __name__ == "__main__":
    main()
