"""The convolutional networks of lessons 000-004 as plain data, their NumPy forward pass, their
Keras builder and script, and MNIST with the canvas preprocessing (NumPy only at import)."""
