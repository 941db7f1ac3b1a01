"""Training in the background: the run folder and its readers, the worker process (the only
place Keras trains) and the process-wide job registry."""
