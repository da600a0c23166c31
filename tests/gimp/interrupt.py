"""A stand-in for the engine's Python that interrupts the real engine once it has reported progress.

``interrupt.py REAL_PYTHON ARG...`` runs ``REAL_PYTHON ARG...`` (the plug-in's engine command),
passes its records through, and sends it SIGINT (Ctrl-C) right after its first progress record,
so the plug-in sees a run cancelled mid-way.
Standard library only: it runs in GIMP's Python.
"""

import json
import signal
import subprocess
import sys


def main() -> int:
    engine = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)  # stdin: the plug-in's, as before
    interrupted = False
    for line in engine.stdout:
        sys.stdout.buffer.write(line)
        sys.stdout.flush()
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not interrupted and isinstance(record, dict) and record.get("event") == "progress":
            engine.send_signal(signal.SIGINT)
            interrupted = True
    return engine.wait()


if __name__ == "__main__":
    sys.exit(main())
