# expect: 3/4 ok  -- rebinding the checks, require, assert machinery or NumPy's comparisons changes nothing: tests run in the grader
import builtins, sys
require = lambda *a, **k: None
check_backprop = check_conv_forward = lambda *a, **k: None
builtins.AssertionError = type("Nope", (Exception,), {})
import numpy as np
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
sys.modules["nnlib.grading"] = type(sys)("fake")
def add(a, b):
    return 0
