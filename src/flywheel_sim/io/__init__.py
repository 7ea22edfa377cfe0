"""Every file format in and out: :mod:`.models` dispatches model files by suffix to the YAML
(:mod:`.yaml`) and XMILE (:mod:`.xmile`) readers and writers; :mod:`.results` writes results;
:mod:`.datasets` reads the data shipped in the library."""
