"""The causal-loop diagram: :mod:`.text` (words, colours, text measuring), :mod:`.layout` (where
every part goes, a pure function), :mod:`.draw` (matplotlib) and :mod:`.cytoscape` (the
dashboard's elements)."""
