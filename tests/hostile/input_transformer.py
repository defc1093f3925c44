# expect: 3/4 ok  -- no IPython in the worker: an input transformer cannot turn the (grader-side) tests into `pass`
try:
    get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\n"])
except NameError:
    pass
def add(a, b):
    return 0
