"""The small-network maths of lessons 002: activations, losses, optimizers, the 2-2-1 network
and gradient descent over its error surface, each equal to Keras (NumPy only)."""
