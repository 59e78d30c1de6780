# reducer.py — reads the counts of every mapper (/dev/in/map-1, /dev/in/map-2, ...), adds them
# up and prints each word with its total, sorted: what 'zpm execute' shows.
import collections
import os

totals = collections.Counter()
for mapper in sorted(os.listdir('/dev/in')):
    with open('/dev/in/' + mapper) as counts:
        for line in counts:
            word, n = line.rsplit(' ', 1)
            totals[word] += int(n)
for word, n in sorted(totals.items()):
    print(word, n)
