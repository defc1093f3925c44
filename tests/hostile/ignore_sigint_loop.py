# expect: 0/4 timeout  -- SIGALRM and SIGINT ignored: the grader ends the worker at the cell deadline;
# the submission scores 0 (status timeout) and the batch goes on
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGALRM, signal.SIG_IGN)
while True:
    pass
