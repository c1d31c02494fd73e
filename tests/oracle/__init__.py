"""An independent oracle for the path analysis (SPEC §7).

`programs` describes small view functions and the helpers they call as a tree of the
statements that matter, and renders them as Python source for a Django or a Flask-Session
project; `generate` draws such programs with hypothesis; `verdicts` decides every auth
event of a view by listing its paths one by one.
None of them imports anything of `sessguard`: the oracle is written from the specification
alone, so that a mistake shared with the engine's code cannot hide itself.
"""
