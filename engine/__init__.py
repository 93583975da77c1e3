"""Pure NumPy engine: reference implementations, the drill catalogue, grading and the sandbox.

Kept empty on purpose: the sandboxed child must be able to avoid importing the references.
"""
