# main.py — the zapp's program, run by the python system image inside ZeroVM.
# Its standard output is what 'zpm execute' prints.
import sys

print("Hello from ZeroVM, running Python %d.%d" % sys.version_info[:2])
