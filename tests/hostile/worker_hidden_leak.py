# assignment: a03_gradient_descent
# cell: numerical_derivative numerical_gradient gd_step gradient_descent
# gains nothing on: test_numerical_derivative_hidden test_numerical_gradient_hidden test_gd_step_hidden test_gradient_descent_hidden
# Observed on main: hidden tests copied the learner's exception text into the feedback, so an answer raised an
# exception carrying its inputs; three hidden cases were decoded. This one leaks every way it can: an exception
# whose text and type name carry the inputs, printed inputs, and a wrong-shaped answer built from them. On the
# public cases (known from the release) it answers correctly, so only hidden inputs are ever leaked, marked LEAK.
import numpy as np

PUBLIC = {(6.0, 0.01), (0.0, 0.1), (1.0, 1e-3)}


def _leak(*values):
    text = "LEAK<" + "|".join(repr(np.asarray(v).tolist()) for v in values) + ">"
    print(text)
    return text


def numerical_derivative(f, x, dx):
    if (x, dx) in PUBLIC:
        return (f(x + dx) - f(x)) / dx
    raise ValueError(_leak(x, dx))


def numerical_gradient(f, p, h=1e-5):
    p = np.array(p, dtype=float)
    if p.tolist() in ([2.0, -1.0], [0.3, -1.2, 2.0], [0.5, -1.0, 1.5, 0.25]):
        return np.array([(f(p + h * e) - f(p - h * e)) / (2 * h) for e in np.eye(p.size)])
    _leak(p)
    return np.concatenate([p, p, [h]])  # a wrong shape whose values and length carry the case


def gd_step(grad, p, eta):
    p = np.asarray(p, dtype=float)
    if p.tolist() in ([6.0, -2.0], [0.0, 1.0], [0.5, 1.5]):
        return p - eta * grad(p)
    raise type("LEAK_" + "_".join(str(abs(int(1000 * v))) for v in p), (Exception,), {})(_leak(p, eta))


def gradient_descent(grad, p0, eta, steps):
    p0 = np.asarray(p0, dtype=float)
    if p0.tolist() in ([6.0, -2.0], [0.0, 3.0], [-0.5, 1.0]):
        path = [p0]
        for _ in range(steps):
            path.append(path[-1] - eta * grad(path[-1]))
        return np.array(path)
    return _leak(p0, eta, steps)  # a string where an array is expected
