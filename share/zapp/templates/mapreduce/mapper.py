# mapper.py — runs once per input object, on an object server that stores it: counts the words
# of its object (stdin) and sends "word count" lines to each reducer (/dev/out/<reducer>).
import collections
import os
import sys

counts = collections.Counter(sys.stdin.read().split())
for reducer in os.listdir('/dev/out'):
    with open('/dev/out/' + reducer, 'w') as out:
        for word, n in sorted(counts.items()):
            out.write('%s %d\n' % (word, n))
