import sys

from nnlib_grader.cli import main

sys.exit(main(own_process=True))
