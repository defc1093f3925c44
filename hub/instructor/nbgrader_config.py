"""nbgrader's settings for the instructor's server on the hub (on JUPYTER_CONFIG_PATH, hub/jupyterhub_config.py).

The instructor's server starts in the course (NNLIB_COURSE), whose own nbgrader_config.py is read after this file
and sets the rest; it reads NNLIB_EXCHANGE too, so release and collect use the hub's shared exchange.
"""

import os

c = get_config()  # noqa: F821 (provided by traitlets)
c.Exchange.root = os.environ.get("NNLIB_EXCHANGE", "/srv/nbgrader/exchange")
c.CourseDirectory.root = os.environ.get("NNLIB_COURSE", "/srv/nnlib")
