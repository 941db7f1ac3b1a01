"""The digit page's training panel: a form that queues a background job, and its live progress.

Jobs run in spawned worker processes owned by the one cached ``JobRegistry``; this module only
reads their status. The progress panel is an ``st.fragment`` that reruns every
``POLL_S`` seconds while the session's job is queued or running.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from nn_core.cnn.presets import POOLINGS, PRESETS, TRAINING_OPTIMIZERS, custom_spec
from nn_core.cnn.specs import count_params, with_recipe
from nn_core.training.jobs import ACTIVE_STATES, JobRegistry, JobStatus
from ui.common import widgets
from ui.digits import figures as figs
from ui.digits.state import POLL_S, P, record_trace, registry

# The form's first-visit values: lesson 003's network, and a small custom CNN to start from.
TRAIN_KIND: str = "cnn_34826"  # the network the training form offers first (lesson 003)
TRAIN_IMAGES: tuple[int, ...] = (1_000, 10_000, 60_000)  # choices; 60,000 = all of MNIST
TRAIN_IMAGES_DEFAULT: int = 10_000
CUSTOM_FILTERS: tuple[int, int] = (16, 32)  # conv block 1, block 2 (0 = none)
CUSTOM_KERNEL: int = 3
CUSTOM_POOLING: str = "max"
CUSTOM_DENSE: int = 64
CUSTOM_DROPOUT: float = 0.25
CUSTOM_EPOCHS: int = 3
CUSTOM_BATCH_SIZE: int = 128
CUSTOM_OPTIMIZER: str = "adam"
CUSTOM_LEARNING_RATE: float = 0.001



def presets_table() -> None:
    """The course's networks with their parameter counts and recipes."""
    rows = [{"network": spec.title, "lesson": spec.lesson, "parameters": count_params(spec),
             "optimizer": spec.recipe.optimizer, "learning rate": spec.recipe.learning_rate,
             "batch": spec.recipe.batch_size, "epochs": spec.recipe.epochs}
            for spec in PRESETS.values()]
    st.dataframe(rows, hide_index=True, width="stretch")


def _kind_label(name: str) -> str:
    """Selectbox label of a network to train."""
    if name == "custom":
        return "Custom CNN (choose its layers)"
    return f"{PRESETS[name].title}: {count_params(PRESETS[name]):,} parameters"


def train_form(runs_dir: Path) -> None:
    """Choose a preset or a custom network and its recipe; 'Train' queues a job."""
    state = st.session_state
    what = widgets.persistent(st.selectbox, "Network to train", P + "train_kind",
                              default=TRAIN_KIND,
                options=[*PRESETS, "custom"], format_func=_kind_label, in_form=True)
    recipe = (PRESETS[what].recipe if what != "custom" else None)
    with st.form(P + "train_form", border=True):
        arch: dict[str, Any] = {}
        if what == "custom":
            c = st.columns(3)
            with c[0]:
                arch["f1"] = widgets.persistent(st.number_input, "Filters, conv block 1",
                                                P + "train_f1",
                                  default=CUSTOM_FILTERS[0], min_value=0, step=1, in_form=True)
                arch["f2"] = widgets.persistent(
                    st.number_input, "Filters, conv block 2 (0 = none)", P + "train_f2",
                    default=CUSTOM_FILTERS[1], min_value=0, step=1, in_form=True)
            with c[1]:
                arch["kernel"] = widgets.persistent(st.selectbox, "Kernel size", P + "train_kernel",
                                      default=CUSTOM_KERNEL, options=[3, 5],
                                      format_func=lambda k: f"{k}×{k}", in_form=True)
                arch["pooling"] = widgets.persistent(st.selectbox, "Pooling after each conv",
                                       P + "train_pooling", default=CUSTOM_POOLING,
                                       options=POOLINGS, in_form=True)
            with c[2]:
                arch["dense"] = widgets.persistent(st.number_input, "Dense neurons (0 = none)",
                                     P + "train_dense", default=CUSTOM_DENSE, min_value=0,
                                     step=16, in_form=True)
                arch["dropout"] = widgets.persistent(st.number_input, "Dropout rate",
                                                     P + "train_dropout",
                                       default=CUSTOM_DROPOUT, min_value=0.0, max_value=1.0,
                                       step=0.05, in_form=True)
        c = st.columns(5)
        suffix = what  # each network keeps its own recipe settings
        epochs = widgets.persistent(c[0].number_input, "Epochs", f"{P}train_epochs_{suffix}",
                                    default=recipe.epochs if recipe else CUSTOM_EPOCHS,
                                    min_value=1, step=1, in_form=True)
        batch = widgets.persistent(c[1].number_input, "Batch size", f"{P}train_batch_{suffix}",
                     default=recipe.batch_size if recipe else CUSTOM_BATCH_SIZE, min_value=1,
                     step=32, in_form=True)
        optimizer = widgets.persistent(c[2].selectbox, "Optimizer", f"{P}train_optimizer_{suffix}",
                         default=recipe.optimizer if recipe else CUSTOM_OPTIMIZER,
                         options=TRAINING_OPTIMIZERS, in_form=True)
        lr = widgets.persistent(c[3].number_input, "Learning rate", f"{P}train_lr_{suffix}",
                  default=float(recipe.learning_rate if recipe else CUSTOM_LEARNING_RATE),
                  min_value=0.0, step=0.0005, format="%.5f", in_form=True)
        images = widgets.persistent(c[4].selectbox, "Training images", P + "train_images",
                      default=TRAIN_IMAGES_DEFAULT, options=TRAIN_IMAGES,
                      format_func=lambda n: "all 60,000" if n >= 60_000 else f"{n:,}",
                      help="Fewer images train in seconds (for a quick demo), at a lower "
                           "accuracy. 10% of them are held out for validation.", in_form=True)
        submitted = st.form_submit_button("Train", type="primary", key=P + "train_submit",
                                          icon=":material/model_training:")
    if not submitted:
        return
    try:
        recipe_check = custom_spec(epochs=int(epochs), batch_size=int(batch), optimizer=optimizer,
                                   learning_rate=float(lr))  # validates the recipe fields
        if what == "custom":
            filters = (int(arch["f1"]),) if int(arch["f2"]) == 0 else (int(arch["f1"]),
                                                                        int(arch["f2"]))
            spec = custom_spec(conv_filters=filters, kernel_size=int(arch["kernel"]),
                               pooling=arch["pooling"], dense_units=int(arch["dense"]),
                               dropout_rate=float(arch["dropout"]), epochs=int(epochs),
                               batch_size=int(batch), optimizer=optimizer,
                               learning_rate=float(lr))
        else:
            r = recipe_check.recipe
            spec = with_recipe(PRESETS[what], epochs=r.epochs, batch_size=r.batch_size,
                               optimizer=r.optimizer, learning_rate=r.learning_rate)
        limit = None if images >= 60_000 else int(images)
        job_id = registry(str(runs_dir)).start(spec, train_limit=limit)
    except ValueError as exc:
        st.error(f"Cannot train this network: {exc}")
        return
    except Exception as exc:  # e.g. the runs folder is not writable
        st.error(f"The training job could not be started: {type(exc).__name__}: {exc}")
        return
    state[P + "job_id"] = job_id
    state[P + "job_seen"] = None
    state[P + "trace"] = None


def duration(seconds: float | None) -> str:
    """75.2 -> '1 min 15 s'."""
    if seconds is None:
        return "–"
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def job_status(status: JobStatus, jobs: JobRegistry) -> None:
    """Progress bar, times, curves and the buttons of one job."""
    limit = "all 60,000" if status.train_limit is None else f"{status.train_limit:,}"
    st.markdown(f"**{status.title}**, {limit} training images: **{status.state}**")
    if status.state == "queued":
        st.info(f"Waiting in the queue: position {status.queue_position} "
                f"(this server trains {jobs.max_concurrent} network"
                f"{'s' if jobs.max_concurrent != 1 else ''} at a time).")
    if status.state == "running" and not status.batches:
        progress_text = "Starting: the worker process loads TensorFlow and MNIST…"
    elif status.state == "queued":
        progress_text = f"Epoch 0/{status.epochs} (waiting)"
    else:
        batch_text = f" · batch {status.batch}/{status.batches}" if status.batches else ""
        progress_text = f"Epoch {max(status.epoch, 0)}/{status.epochs}{batch_text}"
    st.progress(status.progress, text=progress_text)
    parts = [f"Elapsed {duration(status.elapsed_s)}"] if status.elapsed_s else []
    if status.state == "running":
        parts.append(f"about {duration(status.eta_s)} left" if status.eta_s is not None
                     else "estimating the time left…")
        if status.loss is not None:
            parts.append(f"loss {status.loss:.4f}, accuracy {status.accuracy or 0:.2%} "
                         "(this epoch so far)")
    if parts:
        st.caption(" · ".join(parts))
    trace = record_trace(status)
    if status.history or trace:
        st.plotly_chart(figs.training_curves_figure(status.history, live=trace),
                        config=figs.plot_config(), key=P + "job_curves")
    if status.state in ACTIVE_STATES:
        st.button("Cancel training", key=P + "cancel", on_click=jobs.cancel,
                  args=(status.job_id,), icon=":material/cancel:")
    elif status.state == "done":
        acc = f"{status.test_accuracy:.2%}" if status.test_accuracy is not None else "–"
        st.success(f"Finished: test accuracy {acc}. The network is now in the list at the top "
                   "of the page.")
        if st.button("Use this network for prediction", key=P + "use_trained"):
            st.session_state[P + "model_pending"] = str(status.run_dir)
            st.rerun()
    elif status.state == "failed":
        st.error(f"Training failed: {status.error or 'unknown error'}")
    else:
        st.warning("Training was cancelled.")


def training_progress(runs_dir: str) -> None:
    """The job of this session: live while it runs (fragment rerun every second)."""
    state = st.session_state
    jobs = registry(runs_dir)
    job_id = state.get(P + "job_id")
    with st.container(key=P + "training"):
        if job_id is None:
            st.caption("No training started from this browser session yet.")
            return
        try:
            status = jobs.status(job_id)
        except KeyError:
            st.warning("The training job of this session is no longer known to the server (it "
                       "was restarted). Finished networks are still in the list at the top.")
            state[P + "job_id"] = None
            return
        job_status(status, jobs)
    was_active = state.get(P + "job_seen") in ACTIVE_STATES
    state[P + "job_seen"] = status.state
    if was_active and status.state not in ACTIVE_STATES:
        st.rerun()  # the whole page: the finished network joins the model list


def queue_table(jobs: JobRegistry) -> None:
    """Every job on this server (all sessions), for a class sharing one server."""
    listed = jobs.jobs()
    if not listed:
        return
    with st.expander(f"All training jobs on this server ({len(listed)})"):
        st.dataframe([{"network": j.title, "images": j.train_limit or 60_000, "state": j.state,
                       "queue": j.queue_position, "progress": f"{j.progress:.0%}",
                       "test accuracy": j.test_accuracy} for j in listed],
                     hide_index=True, width="stretch")


def training_panel(runs_dir: Path) -> None:
    """Section 5 below its intro: presets, the form, this session's live job, the queue."""
    with st.expander("The course's networks"):
        presets_table()
    train_form(runs_dir)
    jobs = registry(str(runs_dir))
    job_id = st.session_state.get(P + "job_id")
    active = False
    if job_id is not None:
        try:
            active = jobs.status(job_id).state in ACTIVE_STATES
        except KeyError:
            active = False
    st.fragment(run_every=POLL_S if active else None)(training_progress)(str(runs_dir))
    queue_table(jobs)
