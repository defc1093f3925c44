"""The test suite's CuPy double (not part of nnlib: a learner never installs it).

``strict`` is NumPy behind arrays that refuse implicit conversion to NumPy, as CuPy's do, and exposes only CuPy's
names and signatures (``surface``: from the installed CuPy, else the committed snapshot ``names``).
``nnlib.use("strict")`` imports it as ``cupy_double.strict``; pytest puts ``tests/`` on the path.
"""
