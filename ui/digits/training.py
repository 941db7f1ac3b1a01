"""The digit page's training panel: a form that queues a background job, and its live progress.

Jobs run in spawned worker processes owned by the one cached ``JobRegistry``; this module only
asks it to start, leave, resume or dismiss jobs and reads their status, always as this
session's ``owner`` (``ui.digits.state``): one training per student at a time, identical
settings shared, a job stopped only when no student waits for it any more.

The form is an ``st.fragment``, so changing a setting reruns only the form: it shows the
network's size and estimated training time at once, and why the server would refuse it (the
Train button is then disabled). The progress panel is an ``st.fragment`` that reruns every
``POLL_S`` seconds while the session's job is queued or running; it also lists every job on
the server, with a Resume button for those a server restart interrupted. Whatever goes wrong
shows as a message on the page (the server log keeps the details), never as a traceback.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import streamlit as st

from nn_core.cnn.presets import POOLINGS, PRESETS, TRAINING_OPTIMIZERS, custom_spec
from nn_core.cnn.specs import ModelSpec, count_params, fit_images, schedule_steps, with_recipe
from nn_core.training.failures import FAILURES
from nn_core.training.jobs import (
    ACTIVE_STATES,
    JobRegistry,
    JobStatus,
    NetworkTooLarge,
    RegistryBusy,
    TrainingRefused,
    TrainingTooLong,
)
from ui.common import charts, widgets
from ui.common.i18n import N_, _, ngettext
from ui.digits import figures as figs
from ui.digits.state import POLL_S, STATE, P, record_trace, registry, spec_title

log = logging.getLogger(__name__)

# The form's first-visit values: the quick recipe on all of MNIST (99% in about 20 s on a 2-core
# server, benchmarks/bench_time_to_99.py), so Train gives a meaningful network while the class
# watches; and a small custom CNN to start from.
TRAIN_KIND: str = "quick_99"  # the network the training form offers first
TRAIN_IMAGES: tuple[int, ...] = (1_000, 10_000, 60_000)  # choices; 60,000 = all of MNIST
TRAIN_IMAGES_DEFAULT: int = 60_000
# A finished network below this test accuracy gets the reasons its training was too small.
LOW_ACCURACY = 0.97
FEW_STEPS = 100  # optimizer steps in all: fewer cannot take the weights far from their start
FEW_IMAGES = 10_000  # images fitted on: fewer examples of each digit than the test needs
CUSTOM_FILTERS: tuple[int, int] = (16, 32)  # conv block 1, block 2 (0 = none)
CUSTOM_KERNEL: int = 3
CUSTOM_POOLING: str = "max"
CUSTOM_DENSE: int = 64
CUSTOM_DROPOUT: float = 0.25
CUSTOM_EPOCHS: int = 3
CUSTOM_BATCH_SIZE: int = 128
CUSTOM_OPTIMIZER: str = "adam"
CUSTOM_LEARNING_RATE: float = 0.001

ONE_JOB_HELP = N_("One training per student at a time: pressing Train with other settings "
                  "stops your earlier training, unless other students started the same one "
                  "(then it keeps running for them). Identical settings share one job.")
NOTICE_KINDS = ("info", "success", "warning", "error")
SCHEDULE_NAMES = {"constant": N_("constant"), "warmup_cosine": N_("warm-up, then cosine decay")}
# A job's state as the page names it (the registry's values stay English).
STATE_NAMES = {"queued": N_("queued"), "running": N_("running"), "done": N_("done"),
               "failed": N_("failed"), "cancelled": N_("cancelled"),
               "interrupted": N_("interrupted")}
POOLING_NAMES = {"max": N_("max pooling"), "avg": N_("average pooling"), "none": N_("none")}
# Buttons here take no ``help=``: Streamlit 1.67 then draws each button twice in the DOM (one
# copy hidden), which breaks the browser tests' locators; captions explain the buttons instead.


# ---------------------------------------------------------------------------------------------
# Small texts
# ---------------------------------------------------------------------------------------------
# Where nn_core.training.jobs says a server restart or stop left a job (its English message).
INTERRUPTED = re.compile(r"The server (restarted|stopped) while this network was (?:waiting in "
                         r"the (queue)|training \((?:after epoch (\d+) of (\d+)|before its "
                         r"(first) epoch finished)\))\.")
INTERRUPTED_TEXTS = {
    ("restarted", "queue"): N_("The server restarted while this network was waiting in the "
                               "queue."),
    ("stopped", "queue"): N_("The server stopped while this network was waiting in the queue."),
    ("restarted", "epoch"): N_("The server restarted while this network was training (after "
                               "epoch {epoch} of {epochs})."),
    ("stopped", "epoch"): N_("The server stopped while this network was training (after epoch "
                             "{epoch} of {epochs})."),
    ("restarted", "first"): N_("The server restarted while this network was training (before "
                               "its first epoch finished)."),
    ("stopped", "first"): N_("The server stopped while this network was training (before its "
                             "first epoch finished)."),
}


def interrupted_text(error: str | None) -> str:
    """An interrupted job's message in the session's language (nn_core writes it in English;
    any other message is shown as it is)."""
    found = INTERRUPTED.fullmatch(one_line(error))
    if found is None:
        return one_line(error)
    verb, queue, epoch, epochs, first = found.groups()
    where = queue or first or "epoch"
    return _(INTERRUPTED_TEXTS[verb, where]).format(epoch=epoch, epochs=epochs)


# nn_core's failure messages (nn_core.training.failures.FAILURES), as the page says them.
FAILURE_TEXTS = {
    "run_folder": N_("could not create the run folder {folder}: {reason}"),
    "start": N_("could not start the training process: {reason}"),
    "exit": N_("the training process exited with code {code} without a result"),
    "time_limit": N_("stopped: it ran longer than the server's limit of {limit}"),
    "memory": N_("out of memory while training ({detail})"),
}
_FAILURE_PATTERNS = {
    kind: re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+)", re.escape(template)))
    for kind, template in FAILURES.items()
}
_DURATION = re.compile(r"([\d.]+) (second|minute)s?")


def failure_text(error: str | None) -> str:
    """A failed job's message in the session's language (nn_core writes it in English, with
    the technical part kept as it is); a message of no known kind is shown as it is."""
    text = one_line(error)
    for kind, pattern in _FAILURE_PATTERNS.items():
        found = pattern.fullmatch(text)
        if found is None:
            continue
        values = found.groupdict()
        limit = _DURATION.fullmatch(values.get("limit", ""))
        if limit is not None:  # nn_core's duration_text, reworded in the session's language
            values["limit"] = duration_words(float(limit[1]) * (60 if limit[2] == "minute"
                                                                   else 1))
        return _(FAILURE_TEXTS[kind]).format(**values)
    return text


def state_name(state: str) -> str:
    """A job's state in the session's language ('running' -> 'идёт')."""
    return _(STATE_NAMES[state]) if state in STATE_NAMES else state


def duration_words(seconds: float) -> str:
    """900 -> '15 minutes', 60 -> '1 minute', 90 -> '1.5 minutes', 3 -> '3 seconds' (in the
    session's language; a fraction takes the plural of 2, as Russian does)."""
    value = round(seconds, 1) if seconds < 60 else round(seconds / 60, 1)
    count = int(value) if value == int(value) else 2
    if seconds < 60:
        return ngettext("{n} second", "{n} seconds", count).format(n=f"{value:g}")
    return ngettext("{n} minute", "{n} minutes", count).format(n=f"{value:g}")


def refused_text(exc: TrainingRefused) -> str:
    """Why the registry refused a job, in the session's language (its own message is
    English: nn_core knows no language)."""
    if isinstance(exc, RegistryBusy):
        return ngettext("The server is busy: {n} training is waiting. Try again in a few "
                        "minutes.", "The server is busy: {n} trainings are waiting. Try again "
                        "in a few minutes.", exc.waiting).format(n=exc.waiting)
    if isinstance(exc, NetworkTooLarge):
        return _("This network has {params} parameters; this server trains networks of up to "
                 "{limit} parameters. Use fewer filters or dense neurons.").format(
                     params=f"{exc.params:,}", limit=f"{exc.limit:,}")
    if isinstance(exc, TrainingTooLong):
        return _("This training would take about {estimate} on this server (estimated), more "
                 "than its limit of {limit} per training. Use fewer epochs, fewer training "
                 "images or a smaller network.").format(estimate=duration_words(exc.estimate_s),
                                                       limit=duration_words(exc.limit_s))
    return str(exc)


def optimizer_steps(spec: ModelSpec, train_limit: int | None) -> int:
    """Weight updates in a whole training: ceil(fit images / batch) per epoch × epochs."""
    return schedule_steps(spec.recipe, fit_images(train_limit))[1]


def small_training_reasons(spec: ModelSpec, train_limit: int | None) -> list[str]:
    """Why a training of ``spec`` on ``train_limit`` images is too small to learn MNIST well
    (empty when it is not): too few optimizer steps, too few images, or both."""
    reasons = []
    steps, fit = optimizer_steps(spec, train_limit), fit_images(train_limit)
    if steps < FEW_STEPS:
        reasons.append(ngettext(
            "It updates the weights only {steps} time in all (batches of {batch} images, "
            "{fit:,} images an epoch, {epochs} epochs): each step moves the weights a little, "
            "and so few steps cannot take them far from their random start.",
            "It updates the weights only {steps} times in all (batches of {batch} images, "
            "{fit:,} images an epoch, {epochs} epochs): each step moves the weights a little, "
            "and so few steps cannot take them far from their random start.", steps).format(
                steps=steps, batch=spec.recipe.batch_size, fit=fit, epochs=spec.recipe.epochs))
    if fit < FEW_IMAGES:
        reasons.append(_(
            "It learns from only {fit:,} images ({valid:,} more are kept aside to validate): "
            "the test's 10,000 digits were written by other people, and a network that has "
            "seen few examples of each digit recognises fewer of them.").format(
                fit=fit, valid=(train_limit or 60_000) - fit))
    return reasons


def low_accuracy_hint(spec: ModelSpec, train_limit: int | None, accuracy: float | None,
                      ) -> str | None:
    """The reasons a finished network's test accuracy is low, with what to try instead; None
    when the accuracy is fine (or unknown)."""
    if accuracy is None or accuracy >= LOW_ACCURACY:
        return None
    reasons = small_training_reasons(spec, train_limit)
    if not reasons:
        reasons.append(_("Its training was not short: try more epochs, or a learning rate "
                         "nearer the preset's (too large a rate overshoots, too small barely "
                         "moves)."))
    return " ".join([_("Why {accuracy} and not 99%?").format(accuracy=f"{accuracy:.2%}"),
                     *reasons, _("The Quick CNN on all 60,000 images reaches 99% accuracy "
                                 "in about half a minute.")])


def images_text(train_limit: int | None) -> str:
    """None -> 'all 60,000', 1000 -> '1,000'."""
    return _("all 60,000") if train_limit is None else f"{train_limit:,}"


def job_name(status: JobStatus) -> str:
    """'LeNet-style CNN (…), 1,000 training images'."""
    return _("{title}, {images} training images").format(
        title=spec_title(status.spec), images=images_text(status.train_limit))


def one_line(text: str | None) -> str:
    """An error message on one line ('' for None)."""
    return " ".join(str(text or "").split())


def duration(seconds: float | None) -> str:
    """75.2 -> '1 min 15 s'."""
    if seconds is None:
        return "–"
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    if minutes:
        return _("{minutes} min {seconds} s").format(minutes=minutes, seconds=f"{secs:02d}")
    return _("{seconds} s").format(seconds=secs)


# ---------------------------------------------------------------------------------------------
# This session and its job
# ---------------------------------------------------------------------------------------------
def owner() -> str:
    """This browser session's id for the registry (a uuid in the settings table)."""
    return st.session_state[P + "owner"]


def job_registry(runs_dir: str | Path, quiet: bool = False) -> JobRegistry | None:
    """The server's registry for ``runs_dir``; None, with an error on the page unless
    ``quiet``, when it cannot be created (e.g. NN_PLAYGROUND_MAX_JOBS is not a number)."""
    try:
        return registry(str(runs_dir))
    except (ValueError, OSError) as exc:
        if not quiet:
            log.exception("the training registry could not be created")
            st.error(_("Training is not available on this server: {reason}").format(
                reason=exc))
        return None


def current_job(jobs: JobRegistry) -> tuple[str | None, JobStatus | None]:
    """(job id, status) of this session's training: the id it keeps, else the registry's
    ``owner_job`` while that is active or interrupted. The status is None for an id the
    registry no longer knows."""
    state = st.session_state
    job_id = state.get(P + "job_id")
    if job_id is None:
        mine = jobs.owner_job(owner())
        if mine is None:
            return None, None
        try:
            status = jobs.status(mine)
        except KeyError:
            return None, None
        if status.state not in (*ACTIVE_STATES, "interrupted"):
            return None, None
        state[P + "job_id"] = mine
        return mine, status
    try:
        return job_id, jobs.status(job_id)
    except KeyError:
        return job_id, None


def adopt(job_id: str | None, notices: list[tuple[str, str]]) -> None:
    """Make ``job_id`` this session's job (None: none) and say what happened."""
    state = st.session_state
    state[P + "job_id"] = job_id
    state[P + "job_seen"] = None
    state[P + "trace"] = None
    state[P + "notice"] = notices or None


def replaced_notices(jobs: JobRegistry, before: JobStatus | None,
                     job_id: str) -> list[tuple[str, str]]:
    """What became of the session's earlier job once it started or resumed ``job_id``, and
    whom it shares ``job_id`` with."""
    notices = []
    if before is not None and before.job_id != job_id and before.state in ACTIVE_STATES:
        try:
            after = jobs.status(before.job_id)
        except KeyError:
            after = None
        if after is not None and after.state in ACTIVE_STATES and after.owners:
            notices.append(("info", ngettext(
                "Your earlier training ({name}) keeps running for the {n} other student who "
                "started it: one training per student at a time, so it is no longer yours.",
                "Your earlier training ({name}) keeps running for the {n} other students who "
                "started it: one training per student at a time, so it is no longer yours.",
                after.owners).format(name=job_name(before), n=after.owners)))
        elif after is not None and after.state in ACTIVE_STATES:
            notices.append(("info", _(
                "Your earlier training ({name}) keeps running for the server: one training "
                "per student at a time, so it is no longer yours.").format(
                    name=job_name(before))))
        else:
            notices.append(("info", _("Your earlier training ({name}) was stopped: one "
                                      "training per student at a time.").format(
                                          name=job_name(before))))
    try:
        now = jobs.status(job_id)
    except KeyError:
        return notices
    if now.owners > 1 and (before is None or before.job_id != job_id):
        notices.append(("info", ngettext(
            "{n} other student started the same training: you share it (identical settings "
            "train once).", "{n} other students started the same training: you share it "
            "(identical settings train once).", now.owners - 1).format(n=now.owners - 1)))
    return notices


# ---------------------------------------------------------------------------------------------
# Button callbacks (they run before the rerun; what they did is shown from the notice)
# ---------------------------------------------------------------------------------------------
def cancel_job(runs_dir: str, job_id: str) -> None:
    """'Cancel training': this session leaves the job; it stops if nobody else waits for it."""
    try:
        jobs = registry(runs_dir)
        jobs.cancel(job_id, owner())
        status = jobs.status(job_id)
    except KeyError:
        adopt(None, [("warning", _("This training is no longer known to the server."))])
        return
    except Exception as exc:
        log.exception("cancelling training job %s failed", job_id)
        st.session_state[P + "notice"] = [("error", _(
            "The training could not be cancelled: {error}").format(
                error=f"{type(exc).__name__}: {exc}"))]
        return
    if status.state in ACTIVE_STATES and status.owners:  # other students wait for it
        adopt(None, [("info", ngettext(
            "You left this training; it keeps running for {n} other student.",
            "You left this training; it keeps running for {n} other students.",
            status.owners).format(n=status.owners))])
    elif status.state in ACTIVE_STATES:
        adopt(None, [("info", _("You left this training; it keeps running on the server."))])
    else:
        st.session_state[P + "notice"] = None  # the panel says "Training was cancelled."


def resume_job(runs_dir: str, job_id: str) -> None:
    """'Resume': an interrupted job continues from its last epoch checkpoint as this
    session's job (or joins identical settings that are training already)."""
    state = st.session_state
    try:
        jobs = registry(runs_dir)
        _job, before = current_job(jobs)
        try:
            new_id = jobs.resume(job_id, owner())
        except TrainingRefused:
            raise
        except ValueError:  # no longer interrupted: another student resumed or dismissed it
            status = jobs.status(job_id)
            if status.state not in (*ACTIVE_STATES, "done"):
                state[P + "notice"] = [("warning", _(
                    "This training was {state} in the meantime: press Train to start it "
                    "again.").format(state=state_name(status.state)))]
                return
            new_id = jobs.start(status.spec, status.train_limit, owner())
        status = jobs.status(new_id)
    except TrainingRefused as exc:
        state[P + "notice"] = [("error", _("The training could not be resumed: {error}").format(
            error=refused_text(exc)))]
        return
    except KeyError:
        state[P + "notice"] = [("warning", _("This training is no longer known to the server."))]
        return
    except Exception as exc:
        log.exception("resuming training job %s failed", job_id)
        state[P + "notice"] = [("error", _("The training could not be resumed: {error}").format(
            error=f"{type(exc).__name__}: {exc}"))]
        return
    notices = replaced_notices(jobs, before, new_id)
    if status.initial_epoch:
        notices.append(("success", _("Resumed: {title} continues after epoch {epoch} of "
                                     "{epochs}.").format(title=spec_title(status.spec),
                                                         epoch=status.initial_epoch,
                                                         epochs=status.epochs)))
    else:
        notices.append(("success", _("Resumed: {title} starts again from its first epoch (no "
                                     "usable checkpoint was left).").format(
                                         title=spec_title(status.spec))))
    adopt(new_id, notices)


def dismiss_job(runs_dir: str, job_id: str) -> None:
    """'Dismiss': forget an interrupted job (nobody can resume it afterwards)."""
    try:
        registry(runs_dir).cancel(job_id, owner())
    except KeyError:
        pass
    except Exception as exc:
        log.exception("dismissing training job %s failed", job_id)
        st.session_state[P + "notice"] = [("error", _(
            "The training could not be dismissed: {error}").format(
                error=f"{type(exc).__name__}: {exc}"))]
        return
    adopt(None, [])


# ---------------------------------------------------------------------------------------------
# The form
# ---------------------------------------------------------------------------------------------
def presets_table() -> None:
    """The course's networks with their parameter counts and recipes."""
    rows = [{_("network"): spec_title(spec), _("lesson"): spec.lesson,
             _("parameters"): count_params(spec), _("optimizer"): spec.recipe.optimizer,
             _("learning rate"): spec.recipe.learning_rate,
             _("schedule"): _(SCHEDULE_NAMES[spec.recipe.schedule]),
             _("batch"): spec.recipe.batch_size, _("epochs"): spec.recipe.epochs}
            for spec in PRESETS.values()]
    st.dataframe(rows, hide_index=True, width="stretch")


def _kind_label(name: str) -> str:
    """Selectbox label of a network to train."""
    if name == "custom":
        return _("Custom CNN (choose its layers)")
    params = count_params(PRESETS[name])
    return ngettext("{title}: {n} parameter", "{title}: {n} parameters", params).format(
        title=spec_title(PRESETS[name]), n=f"{params:,}")


def form_spec(what: str, arch: dict[str, Any], epochs: Any, batch: Any, optimizer: str,
              lr: Any, images: int) -> tuple[ModelSpec, int | None]:
    """(spec, training-image limit) of the form's settings; ValueError naming a bad field."""
    recipe = custom_spec(epochs=int(epochs), batch_size=int(batch), optimizer=optimizer,
                         learning_rate=float(lr)).recipe  # validates the recipe fields
    if what == "custom":
        f1, f2 = int(arch["f1"]), int(arch["f2"])
        spec = custom_spec(conv_filters=(f1,) if f2 == 0 else (f1, f2),
                           kernel_size=int(arch["kernel"]), pooling=arch["pooling"],
                           dense_units=int(arch["dense"]), dropout_rate=float(arch["dropout"]),
                           epochs=recipe.epochs, batch_size=recipe.batch_size,
                           optimizer=recipe.optimizer, learning_rate=recipe.learning_rate)
    else:
        spec = with_recipe(PRESETS[what], epochs=recipe.epochs, batch_size=recipe.batch_size,
                           optimizer=recipe.optimizer, learning_rate=recipe.learning_rate)
    return spec, None if images >= 60_000 else int(images)


def form_settings() -> tuple[ModelSpec, int | None]:
    """Draw the form's settings; (spec, limit) or ValueError for settings that make no
    network."""
    what = widgets.persistent(st.selectbox, _("Network to train"), P + "train_kind",
                              default=TRAIN_KIND, options=[*PRESETS, "custom"],
                              format_func=_kind_label)
    recipe = PRESETS[what].recipe if what != "custom" else None
    arch: dict[str, Any] = {}
    if what == "custom":
        c = st.columns(3)
        with c[0]:
            arch["f1"] = widgets.persistent(st.number_input, _("Filters, conv block 1"),
                                            P + "train_f1", default=CUSTOM_FILTERS[0],
                                            min_value=0, step=1)
            arch["f2"] = widgets.persistent(st.number_input,
                                            _("Filters, conv block 2 (0 = none)"),
                                            P + "train_f2", default=CUSTOM_FILTERS[1],
                                            min_value=0, step=1)
        with c[1]:
            arch["kernel"] = widgets.persistent(st.selectbox, _("Kernel size"), P + "train_kernel",
                                                default=CUSTOM_KERNEL, options=[3, 5],
                                                format_func=lambda k: f"{k}×{k}")
            arch["pooling"] = widgets.persistent(st.selectbox, _("Pooling after each conv"),
                                                 P + "train_pooling", default=CUSTOM_POOLING,
                                                 options=POOLINGS,
                                                 format_func={p: _(POOLING_NAMES[p])
                                                              for p in POOLINGS}.get)
        with c[2]:
            arch["dense"] = widgets.persistent(st.number_input, _("Dense neurons (0 = none)"),
                                               P + "train_dense", default=CUSTOM_DENSE,
                                               min_value=0, step=16)
            arch["dropout"] = widgets.persistent(st.number_input, _("Dropout rate"),
                                                 P + "train_dropout", default=CUSTOM_DROPOUT,
                                                 min_value=0.0, max_value=1.0, step=0.05)
    c = st.columns(5)
    suffix = what  # each network keeps its own recipe settings
    epochs = widgets.persistent(c[0].number_input, _("Epochs"), f"{P}train_epochs_{suffix}",
                                default=recipe.epochs if recipe else CUSTOM_EPOCHS,
                                min_value=1, step=1)
    batch = widgets.persistent(c[1].number_input, _("Batch size"), f"{P}train_batch_{suffix}",
                               default=recipe.batch_size if recipe else CUSTOM_BATCH_SIZE,
                               min_value=1, step=32)
    optimizer = widgets.persistent(c[2].selectbox, _("Optimizer"), f"{P}train_optimizer_{suffix}",
                                   default=recipe.optimizer if recipe else CUSTOM_OPTIMIZER,
                                   options=TRAINING_OPTIMIZERS)
    lr = widgets.persistent(c[3].number_input, _("Learning rate"), f"{P}train_lr_{suffix}",
                            default=float(recipe.learning_rate if recipe
                                          else CUSTOM_LEARNING_RATE),
                            min_value=0.0, step=0.0005, format="%.5f")
    images = widgets.persistent(c[4].selectbox, _("Training images"), P + "train_images",
                                default=TRAIN_IMAGES_DEFAULT, options=TRAIN_IMAGES,
                                format_func=lambda n: images_text(None if n >= 60_000 else n),
                                help=_("Fewer images train in seconds (for a quick demo), at "
                                       "a lower accuracy. A tenth of them are held out for "
                                       "validation."))
    return form_spec(what, arch, epochs, batch, optimizer, lr, images)


def start_training(jobs: JobRegistry, spec: ModelSpec, limit: int | None) -> None:
    """'Train': start (or join) the job as this session's one training, then rerun the page so
    its progress panel follows it; a refusal or failure is shown here instead."""
    _job, before = current_job(jobs)
    try:
        job_id = jobs.start(spec, train_limit=limit, owner=owner())
    except TrainingRefused as exc:  # the queue is full, or the limits changed meanwhile
        st.error(refused_text(exc))
        return
    except ValueError as exc:
        st.error(_("Cannot train this network: {reason}").format(reason=exc))
        return
    except Exception as exc:  # e.g. out of memory; the server log keeps the traceback
        log.exception("starting a training job failed")
        st.error(_("The training could not be started: {error}").format(
            error=f"{type(exc).__name__}: {exc}"))
        return
    adopt(job_id, replaced_notices(jobs, before, job_id))
    st.rerun()  # the whole page: the progress panel polls while the job is active


@st.fragment
def train_form(runs_dir: str) -> None:
    """Choose a preset or a custom network and its recipe, see its size and estimated time (or
    why the server refuses it); 'Train' queues a job. Reruns alone on every change."""
    jobs = job_registry(runs_dir)
    with st.container(key=P + "train_form", border=True):
        problem = None
        try:
            spec, limit = form_settings()
            STATE.write_url()  # the form reruns alone: its network and images reach the link
            estimate = jobs.check_limits(spec, limit) if jobs is not None else None
        except TrainingRefused as exc:  # too large, or too long for this server
            problem = refused_text(exc)
        except ValueError as exc:  # settings that make no network
            problem = _("Cannot train this network: {reason}").format(reason=exc)
        if problem is not None:
            st.error(problem, icon=":material/block:")
        elif estimate is not None:
            params = count_params(spec)
            st.caption(ngettext(
                "**{n} parameter**, about **{duration}** of training on this server (an "
                "estimate: longer while other trainings run, plus any wait in the queue).",
                "**{n} parameters**, about **{duration}** of training on this server (an "
                "estimate: longer while other trainings run, plus any wait in the queue).",
                params).format(n=f"{params:,}", duration=duration_words(estimate)))
            steps = optimizer_steps(spec, limit)
            st.caption(ngettext("{steps:,} optimizer step in all ({batches:,} batch per epoch).",
                                "{steps:,} optimizer steps in all ({batches:,} batches per "
                                "epoch).", steps).format(
                steps=steps, batches=steps // max(1, spec.recipe.epochs)))
            for reason in small_training_reasons(spec, limit):
                st.warning(_("Expect a low accuracy. {reason}").format(reason=reason),
                           icon=":material/warning:")
        submitted = st.button(_("Train"), type="primary", key=P + "train_submit",
                              icon=":material/model_training:",
                              disabled=problem is not None or jobs is None)
        st.caption(_(ONE_JOB_HELP))
    if submitted and problem is None and jobs is not None:
        start_training(jobs, spec, limit)


# ---------------------------------------------------------------------------------------------
# Progress and the server's jobs
# ---------------------------------------------------------------------------------------------
def show_notices() -> None:
    """What this session's last Train / Cancel / Resume did (kept until the next one)."""
    for kind, text in st.session_state.get(P + "notice") or []:
        getattr(st, kind if kind in NOTICE_KINDS else "info")(text)


def job_status(status: JobStatus, jobs: JobRegistry, runs_dir: str) -> None:
    """Progress bar, times, curves and the buttons of one job."""
    st.markdown(_("**{title}**, {images} training images: **{state}**").format(
        title=spec_title(status.spec), images=images_text(status.train_limit),
        state=state_name(status.state)))
    if status.owners > 1:
        st.caption(ngettext(
            "Shared with {n} other student who started the same training: identical settings "
            "train once.", "Shared with {n} other students who started the same training: "
            "identical settings train once.", status.owners - 1).format(n=status.owners - 1))
    if status.state == "queued":
        estimate = (" " + _("Training itself should take about {duration}.").format(
            duration=duration_words(status.estimate_s)) if status.estimate_s else "")
        st.info(ngettext(
            "Waiting in the queue: position {position} (this server trains {n} network at a "
            "time).", "Waiting in the queue: position {position} (this server trains {n} "
            "networks at a time).", jobs.max_concurrent).format(
                position=status.queue_position, n=jobs.max_concurrent) + estimate)
    if status.state == "running" and not status.batches:
        progress_text = _("Starting: the worker process loads TensorFlow and MNIST…")
    elif status.state == "queued":
        progress_text = _("Epoch {epoch}/{epochs} (waiting)").format(
            epoch=status.initial_epoch, epochs=status.epochs)
    else:
        batch_text = (" · " + _("batch {batch}/{batches}").format(
            batch=status.batch, batches=status.batches) if status.batches else "")
        progress_text = _("Epoch {epoch}/{epochs}").format(
            epoch=max(status.epoch, 0), epochs=status.epochs) + batch_text
    st.progress(status.progress, text=progress_text)
    parts = ([_("Elapsed {duration}").format(duration=duration(status.elapsed_s))]
             if status.elapsed_s else [])
    if status.state == "running":
        parts.append(_("about {duration} left").format(duration=duration(status.eta_s))
                     if status.eta_s is not None else _("estimating the time left…"))
        if status.loss is not None:
            parts.append(_("loss {loss}, accuracy {accuracy} (this epoch so far)").format(
                loss=f"{status.loss:.4f}", accuracy=f"{status.accuracy or 0:.2%}"))
    if parts:
        st.caption(" · ".join(parts))
    trace = record_trace(status)
    if status.history or trace:
        charts.show(figs.training_curves_figure(status.history, live=trace),
                    "digits-training-progress", key=P + "job_curves")
    if status.state in ACTIVE_STATES:
        st.button(_("Cancel training"), key=P + "cancel", on_click=cancel_job,
                  args=(runs_dir, status.job_id), icon=":material/cancel:")
        st.caption(_("Cancel leaves this training: it stops, unless other students started "
                     "the same one (then it keeps running for them)."))
    elif status.state == "done":
        acc = f"{status.test_accuracy:.2%}" if status.test_accuracy is not None else "–"
        st.success(_("Finished: test accuracy {accuracy}. The network is now in the list at "
                     "the top of the page.").format(accuracy=acc))
        hint = low_accuracy_hint(status.spec, status.train_limit, status.test_accuracy)
        if hint:
            st.info(hint, icon=":material/lightbulb:")
        if st.button(_("Use this network for prediction"), key=P + "use_trained"):
            st.session_state[P + "model_pending"] = str(status.run_dir)
            st.rerun()
    elif status.state == "failed":
        st.error(_("Training failed: {error}").format(
            error=failure_text(status.error) or _("unknown error")))
    elif status.state == "interrupted":
        st.warning(interrupted_text(status.error) if status.error
                   else _("The server restarted while this network was training."))
        cols = st.columns([1, 1, 3])
        cols[0].button(_("Resume"), key=P + "resume", on_click=resume_job,
                       args=(runs_dir, status.job_id), type="primary",
                       icon=":material/play_arrow:")
        cols[1].button(_("Dismiss"), key=P + "dismiss", on_click=dismiss_job,
                       args=(runs_dir, status.job_id), icon=":material/close:")
        st.caption(_("Resume continues from the last finished epoch; Dismiss forgets this "
                     "training (it cannot be resumed afterwards)."))
    else:
        st.warning(_("Training was cancelled."))


def interrupted_jobs(jobs: list[JobStatus], runs_dir: str, own: str | None) -> None:
    """The jobs a server restart interrupted (other than this session's), each with Resume:
    after a restart no session remembers its job, so anybody can pick one up."""
    waiting = [j for j in jobs if j.state == "interrupted" and j.job_id != own]
    if not waiting:
        return
    st.markdown(_("**Trainings interrupted by a server restart**: Resume continues one from "
                  "its last finished epoch, as your training."))
    for j in waiting:
        text, button = st.columns([5, 1], vertical_alignment="center")
        text.warning(f"{job_name(j)}: {interrupted_text(j.error)}")
        button.button(_("Resume"), key=f"{P}resume_{j.job_id}", on_click=resume_job,
                      args=(runs_dir, j.job_id), icon=":material/play_arrow:")


def queue_table(jobs: JobRegistry, runs_dir: str, own: str | None) -> None:
    """Every job on this server (all sessions), for a class sharing one server."""
    listed = jobs.jobs()
    if not listed:
        return
    interrupted_jobs(listed, runs_dir, own)
    with st.expander(_("All training jobs on this server ({n})").format(n=len(listed))):
        st.dataframe([{_("network"): spec_title(j.spec), _("images"): j.train_limit or 60_000,
                       _("state"): state_name(j.state), _("students"): j.owners,
                       _("queue"): j.queue_position, _("progress"): f"{j.progress:.0%}",
                       _("test accuracy"): j.test_accuracy, _("note"): interrupted_text(j.error)
                       if j.state == "interrupted" else one_line(j.error)}
                      for j in listed],
                     hide_index=True, width="stretch")


def training_progress(runs_dir: str, polling: bool) -> None:
    """This session's job, live while it is active (a fragment rerun every ``POLL_S``), and
    every job on the server. ``polling``: whether this fragment was set to rerun by itself."""
    state = st.session_state
    jobs = registry(runs_dir)
    with st.container(key=P + "training"):
        show_notices()
        job_id, status = current_job(jobs)
        if job_id is None:
            st.caption(_("No training started from this browser session yet."))
        elif status is None:
            st.warning(_("The training job of this session is no longer known to the server "
                         "(it was restarted). Finished networks are still in the list at the "
                         "top."))
            state[P + "job_id"] = None
        else:
            job_status(status, jobs, runs_dir)
        queue_table(jobs, runs_dir, job_id)
    active = status is not None and status.state in ACTIVE_STATES
    state[P + "job_seen"] = status.state if status is not None else None
    if active != polling:  # started, resumed or ended: rerun the page (the model list too)
        st.rerun()


def training_panel(runs_dir: Path) -> None:
    """Section 5 below its intro: presets, the form, this session's live job, the queue."""
    with st.expander(_("The course's networks")):
        presets_table()
    train_form(str(runs_dir))
    jobs = job_registry(runs_dir, quiet=True)  # the form has said why already
    if jobs is None:
        return
    _job, status = current_job(jobs)
    active = status is not None and status.state in ACTIVE_STATES
    st.fragment(run_every=POLL_S if active else None)(training_progress)(str(runs_dir), active)
