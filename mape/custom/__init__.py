"""A Harmonica user's own MAPE files (monitor.py, analyse.py, plan.py, execute.py), run unchanged.

- :mod:`mape.custom.folder`: checks the user's directory before a run (one line, exit 2);
- :mod:`mape.custom.knowledge_files`: the working copy laid out as Harmonica's managed system
  (``mape_logic/`` beside ``knowledge/``) and the knowledge files harmone keeps up to date;
- :mod:`mape.custom.process`: the user's code in a separate process, one call at a time, each
  with a timeout; :mod:`mape.custom.child` is that process, :mod:`mape.custom.capped` its
  bounded output, ``standin/pyRAPL.py`` the pyRAPL stand-in used where RAPL is not readable.

No Textual and no ML framework here: the user's code imports what it likes, in its own process.
"""
