import sys

from nnlib.instructor.cli import main

sys.exit(main())
