# expect: 0/4 error  -- cannot be interrupted: nbgrader gives up on the kernel ("Timeout waiting for IOPub
# output"), the submission scores 0 and the batch goes on
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
