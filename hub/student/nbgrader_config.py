"""nbgrader's settings for a student's server on the hub (on JUPYTER_CONFIG_PATH, hub/jupyterhub_config.py).

The course's shared exchange and id; the student id is the hub user's name (with PAM and LocalProcessSpawner it is
also the Unix user nbgrader would find by itself; with SimpleLocalProcessSpawner every server runs as one Unix
user and this line is what keeps the students apart).
"""

import os

c = get_config()  # noqa: F821 (provided by traitlets)
c.Exchange.root = os.environ.get("NNLIB_EXCHANGE", "/srv/nbgrader/exchange")
c.CourseDirectory.course_id = os.environ.get("NNLIB_COURSE_ID", "nnlib")
if os.environ.get("JUPYTERHUB_USER"):
    c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]
