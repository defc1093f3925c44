"""The course directory as nbgrader sees it: config, source/release/submitted/autograded/feedback dirs."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Course:
    root: Path
    config: object
    source: Path
    release: Path
    submitted: Path
    autograded: Path
    feedback: Path
    db_url: str

    @property
    def db_path(self) -> Path | None:
        if self.db_url.startswith("sqlite:///"):
            return Path(self.db_url[len("sqlite:///"):])
        return None


def load_config(course_dir: Path):
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    cfg = Config()
    path = Path(course_dir) / "nbgrader_config.py"
    if path.exists():
        cfg.merge(PyFileConfigLoader(path.name, path=str(path.parent)).load_config())
    return cfg


def load_course(course_dir) -> Course:
    from nbgrader.coursedir import CourseDirectory

    root = Path(course_dir).resolve()
    cfg = load_config(root)
    cd = CourseDirectory(config=cfg)
    cd.root = str(root)

    def d(name: str) -> Path:
        return (root / getattr(cd, name)).resolve()

    return Course(root=root, config=cfg, source=d("source_directory"), release=d("release_directory"),
                  submitted=d("submitted_directory"), autograded=d("autograded_directory"),
                  feedback=d("feedback_directory"), db_url=cd.db_url)


def cfg_get(cfg, section: str, key: str, default=None):
    try:
        sec = cfg[section]
        return sec[key] if key in sec else default
    except (KeyError, TypeError):
        return default


def tool_env(env: dict | None = None) -> dict:
    """The environment for nbgrader's own tools: the interpreter's bin dir first on PATH (nbgrader runs
    ``alembic`` from PATH when it creates a gradebook)."""
    env = dict(os.environ if env is None else env)
    bindir = os.path.dirname(sys.executable)
    if bindir not in env.get("PATH", "").split(os.pathsep):
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    return env


def run_nbgrader(args: list[str], cwd: Path, env: dict | None = None, timeout: float = 600) -> str:
    boot = ("import sys; sys.modules.setdefault('rfc3987_syntax', None); sys.argv[0] = 'nbgrader'; "
            "from nbgrader.apps.nbgraderapp import main; main()")
    proc = subprocess.run([sys.executable, "-c", boot, *args], cwd=str(cwd), env=tool_env(env), capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"`nbgrader {' '.join(args)}` failed in {cwd}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc.stdout + proc.stderr


def list_assignments(course: Course) -> list[str]:
    """Assignment folders of the source directory: ``<a>/`` holding its source ``<a>.md`` or a notebook."""
    return sorted(p.name for p in course.source.iterdir()
                  if p.is_dir() and not p.name.startswith(".")
                  and ((p / f"{p.name}.md").is_file() or any(p.glob("*.ipynb"))))
