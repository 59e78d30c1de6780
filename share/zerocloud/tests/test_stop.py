"""A zvm that outlives its session is stopped with SIGTERM first (it then ends cleanly and
reports), and SIGKILL only when SIGTERM does not end it (objectquery.stop_session)."""
import os
import sys
import tempfile
import unittest

from eventlet.green import subprocess

from zerocloud.objectquery import stop_session

# A stand-in for zvm: prints a line when it is ready, then waits; on SIGTERM it prints the last
# report line and exits 143 as zvm does, unless told to ignore SIGTERM.
FAKE = r'''
import signal, sys, time
def stop(sig, frame):
    print("stopped by SIGTERM"); sys.stdout.flush(); sys.exit(143)
if sys.argv[1] == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
else:
    signal.signal(signal.SIGTERM, stop)
print("ready"); sys.stdout.flush()
time.sleep(60)
'''


class StopSessionTest(unittest.TestCase):
    def start(self, mode):
        script = os.path.join(self.dir, 'fake_zvm.py')
        with open(script, 'w') as f:
            f.write(FAKE)
        proc = subprocess.Popen([sys.executable, script, mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(proc.stdout.readline(), b'ready\n')
        return proc

    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def test_sigterm_first_and_zvm_reports(self):
        proc = self.start('handle')
        how, out, err = stop_session(proc, grace=10)
        self.assertEqual(how, 'SIGTERM')
        self.assertEqual(proc.returncode, 143)
        self.assertIn(b'stopped by SIGTERM', out)

    def test_sigkill_when_sigterm_is_not_enough(self):
        proc = self.start('ignore')
        how, out, err = stop_session(proc, grace=0.5)
        self.assertEqual(how, 'SIGKILL')
        self.assertEqual(proc.returncode, -9)


if __name__ == '__main__':
    unittest.main()
