import sys

from nnlib_grader.cli import main

sys.exit(main())
