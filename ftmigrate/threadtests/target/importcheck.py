"""Import the modules named in argv[1] (a JSON list), one after another, and print as JSON
what each did: imported, or the error. Run with ``-v`` and without ``PYTHON_GIL`` so that
CPython names on stderr every extension module that requires the GIL
("# loading module 'x', which requires the GIL").

Runs on the target interpreter: standard library only.
"""

import importlib
import json
import sys
import warnings

results = []
warnings.simplefilter("always")
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
        error = None
    except BaseException as exc:  # noqa: BLE001 - a module may raise anything, even SystemExit
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    results.append({"module": name, "error": error, "gil_enabled": sys._is_gil_enabled()})
sys.stdout.write("\nFTMIGRATE-IMPORTS " + json.dumps(results) + "\n")
