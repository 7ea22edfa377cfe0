"""Our YAML model format: :mod:`.reader` (text -> Model, with file and line in every error) and
:mod:`.writer` (Model -> text)."""
