"""ZeroCloud: runs ZeroVM jobs inside OpenStack Swift, next to the data.

Two WSGI filters make a Swift cluster a compute cluster:

  zerocloud.proxyquery:filter_factory    proxy pipeline, after the auth filter.
      Parses a job (JSON, a bundle, or a script), checks it, authorises it,
      places every node on an object server that holds its input, merges the
      results and stores outputs as objects.
  zerocloud.objectquery:filter_factory   object-server pipeline.
      Runs one node with zvm on the local copy of its input and streams the
      report and the outputs back to the proxy.

share/zerocloud/README.md explains the design.
"""

__version__ = '0.1.0'

# The header that turns a POST into a job (ZeroCloud 2014 protocol).
EXECUTE_HEADER = 'X-Zerovm-Execute'
