"""The model as frozen data and its expression language: :mod:`.model` (Model, Element and the
rest, validated when built), :mod:`.analyses` (a model's history, report and diagnostics
settings), :mod:`.policy` (time-varying parameters), :mod:`.parser` and
:mod:`.ast` (equation text to a tree), :mod:`.builtins` (the functions) and :mod:`.names`
(XMILE's name rules). It imports only the errors: never a file format, the compiler, the engine
or anything built on them."""
