"""JupyterHub for the nnlib course on one server (docs/hub.md): ``jupyterhub -f hub/jupyterhub_config.py``.

As root, from the course's environment (``source .venv/bin/activate``; ``pip install -e ".[hub]"`` and
``npm install -g configurable-http-proxy``).  What it sets up:

* **Who logs in**: PAM (the server's Unix accounts, their passwords): students and instructors are Unix users.
  Anyone in the Unix group ``NNLIB_STUDENTS_GROUP`` (default ``nnlib-students``) or named in
  ``NNLIB_INSTRUCTORS`` (default ``instructor``; they are the hub's admins too) may log in.
* **Their servers**: ``LocalProcessSpawner`` starts each user's JupyterLab as that Unix user in their home
  directory, from this environment's ``jupyterhub-singleuser``, so the exchange's Unix permissions (below) keep
  students apart, as nbgrader's multi-user set-up expects.  Students get the student mode (``hub/student``: the
  formgrader and Create Assignment are off, nbgrader's Assignment List is on, the course's exchange and id set);
  instructors start in the course (``NNLIB_COURSE``, default ``/srv/nnlib``, the instructor's clone) with the
  formgrader (``hub/instructor``).
* **The exchange**: ``NNLIB_EXCHANGE`` (default nbgrader's documented ``/srv/nbgrader/exchange``), created here
  mode 1777 (everyone may create, only the owner may remove: the sticky bit) — nbgrader sets the modes of what is
  inside (``inbound`` is write-only for students, each submission unreadable to the others).
* **Grading on submission**: the ``nnlib-grader`` hub service runs ``python -m nnlib_grader serve`` as root
  (the sandbox needs it) on the course: each submission is graded in the sandbox and its feedback page appears in
  the student's *Fetch Feedback* (settings in the course's ``serve.toml``, docs/hub.md).

The same file serves tests/test_hub.py, which overrides on the command line what a laptop test cannot have (a
password authenticator on 127.0.0.1 and ``SimpleLocalProcessSpawner``; see that test's docstring for why).
"""

import os
import sys

c = get_config()  # noqa: F821 (provided by traitlets when JupyterHub loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))
COURSE = os.path.abspath(os.environ.get("NNLIB_COURSE", "/srv/nnlib"))
COURSE_ID = os.environ.get("NNLIB_COURSE_ID", "nnlib")
EXCHANGE = os.path.abspath(os.environ.get("NNLIB_EXCHANGE", "/srv/nbgrader/exchange"))
INSTRUCTORS = {u for u in os.environ.get("NNLIB_INSTRUCTORS", "instructor").split(",") if u}
BIN = os.path.dirname(sys.executable)  # this environment's (the course's .venv)

# -- the hub and who logs in ---------------------------------------------------------------------------------------
c.JupyterHub.ip = os.environ.get("NNLIB_HUB_IP", "")  # all interfaces; put TLS in front (docs/hub.md)
c.JupyterHub.port = int(os.environ.get("NNLIB_HUB_PORT", "8000"))
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.admin_users = INSTRUCTORS
c.Authenticator.allowed_users = INSTRUCTORS
c.PAMAuthenticator.allowed_groups = {os.environ.get("NNLIB_STUDENTS_GROUP", "nnlib-students")}

# -- each user's server --------------------------------------------------------------------------------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [os.path.join(BIN, "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 180   # a first JupyterLab start on a busy small server takes a while
c.Spawner.http_timeout = 180


def pre_spawn_hook(spawner):
    """Student or instructor mode, the exchange and the course for this user's server."""
    instructor = spawner.user.name in INSTRUCTORS
    spawner.environment.update({
        # the mode's config, then the course's (run.sh's: no JupyterLab news popup) and its MathJax-offline macro
        "JUPYTER_CONFIG_PATH": os.pathsep.join([os.path.join(HERE, "instructor" if instructor else "student"),
                                                os.path.join(os.path.dirname(HERE), "jupyter-course")]),
        "JUPYTER_PATH": os.path.join(os.path.dirname(HERE), "jupyter-course", "share"),
        "NNLIB_EXCHANGE": EXCHANGE, "NNLIB_COURSE": COURSE, "NNLIB_COURSE_ID": COURSE_ID,
        "PATH": BIN + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
    })
    if instructor:
        spawner.notebook_dir = COURSE
    if type(spawner).__name__ == "SimpleLocalProcessSpawner" and os.geteuid() == 0:
        spawner.args = [*spawner.args, "--allow-root"]  # the test's spawner: every server is the hub's user


c.Spawner.pre_spawn_hook = pre_spawn_hook

# -- the exchange --------------------------------------------------------------------------------------------------
os.makedirs(EXCHANGE, exist_ok=True)
os.chmod(EXCHANGE, 0o1777)

# -- grading on submission -----------------------------------------------------------------------------------------
c.JupyterHub.services = [{
    "name": "nnlib-grader",
    "command": [sys.executable, "-m", "nnlib_grader", "serve", "--course", COURSE, "--exchange", EXCHANGE,
                "--interval", os.environ.get("NNLIB_SERVE_INTERVAL", "0.5"),
                "--unix-prefix", os.environ.get("NNLIB_UNIX_PREFIX", "")],  # TLJH: jupyter-
    "environment": {"PATH": BIN + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
                    **({"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {})},
}]
