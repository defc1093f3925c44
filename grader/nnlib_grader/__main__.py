import faulthandler
import signal
import sys

from nnlib_grader.cli import main

# `kill -USR2 <pid>` prints where every thread of a run that seems stuck is, to stderr (the run goes on)
faulthandler.register(signal.SIGUSR2, all_threads=True)
sys.exit(main(own_process=True))
