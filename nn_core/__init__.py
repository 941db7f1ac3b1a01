"""NumPy core of the playground: every number equals what Keras computes; no Streamlit here.

Keras is imported only inside the functions that build Keras models (tests, code export and
the training worker), so importing ``nn_core`` never loads TensorFlow.
"""
